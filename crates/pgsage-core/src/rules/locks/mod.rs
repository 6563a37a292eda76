//! The `locks` pack: serialization failures, deadlocks, lock waits and lock timeouts
//! from server logs (the workload's [`crate::workload::IncidentGroup`]s), per table,
//! with the statements and — when the statements are recognisably Odoo's — the ERP
//! operations that collide (the cron worker vs interactive requests, inferred from
//! which applications ran statements on `ir_cron`).
//!
//! pg_stat_statements records no incident: on such a workload every rule is skipped
//! with the reason. Rates are per hour of the capture, and a capture shorter than an
//! hour counts as an hour, so a burst in a short log is not extrapolated.

mod deadlocks;
mod lock_waits;
mod serialization_failures;

use std::collections::BTreeMap;

pub use deadlocks::Deadlocks;
pub use lock_waits::LockWaits;
pub use serialization_failures::SerializationFailures;

use crate::report::{ObjectKind, ObjectRef, Severity};
use crate::rules::{Draft, Rule, Skip};
use crate::units;
use crate::workload::incidents::{IncidentGroup, IncidentKind, Operation};
use crate::workload::{SourceKind, Workload};

/// This pack's rules.
pub(crate) static RULES: &[Rule] = &[
    Rule::Workload(&SerializationFailures),
    Rule::Workload(&Deadlocks),
    Rule::Workload(&LockWaits),
];

/// The rules need a log capture.
pub(crate) fn from_log(w: &Workload) -> Result<(), Skip> {
    if w.source.kind == SourceKind::Log {
        Ok(())
    } else {
        Err(Skip::because(
            "lock incidents come from server logs (pgsage workload <logs>); pg_stat_statements does not record them",
        ))
    }
}

/// Hours the capture covers, at least one (a burst in a short log is not
/// extrapolated to an hourly rate).
pub(crate) fn capture_hours(w: &Workload) -> f64 {
    (w.source.window_seconds.unwrap_or(0.0) / 3600.0).max(1.0)
}

/// Incidents of some kinds on one table, over the capture.
#[derive(Debug, Default)]
pub(crate) struct OnTable<'a> {
    pub relation: Option<String>,
    pub groups: Vec<&'a IncidentGroup>,
}

impl OnTable<'_> {
    pub fn count(&self, kind: IncidentKind) -> u64 {
        self.groups
            .iter()
            .filter(|g| g.kind == kind)
            .map(|g| g.count)
            .sum()
    }

    pub fn total_wait_ms(&self) -> f64 {
        self.groups.iter().map(|g| g.total_wait_ms).sum()
    }

    pub fn max_wait_ms(&self) -> f64 {
        self.groups
            .iter()
            .map(|g| g.max_wait_ms)
            .fold(0.0, f64::max)
    }

    /// The object: the table (in its database when one), or the server when the log
    /// named no table.
    pub fn object(&self) -> ObjectRef {
        let mut dbs: Vec<&str> = self
            .groups
            .iter()
            .flat_map(|g| g.databases.iter().map(|d| d.name.as_str()))
            .collect();
        dbs.sort_unstable();
        dbs.dedup();
        match &self.relation {
            Some(r) => ObjectRef {
                kind: ObjectKind::Table,
                database: match dbs.as_slice() {
                    [one] => Some((*one).to_owned()),
                    _ => None,
                },
                schema: None,
                name: r.clone(),
                query: None,
            },
            None => ObjectRef::named(ObjectKind::Server, "unknown table"),
        }
    }

    /// The table in backticks, or `an unknown table`.
    pub fn label(&self) -> String {
        match &self.relation {
            Some(r) => format!("`{r}`"),
            None => "an unknown table".to_owned(),
        }
    }

    /// The statements involved (the logging side's and the others'), most frequent
    /// first, at most `n`, as `` `text` `` cut to 120 characters.
    pub fn statements(&self, n: usize) -> Vec<String> {
        let mut by: BTreeMap<String, u64> = BTreeMap::new();
        for g in &self.groups {
            if let Some(q) = &g.query {
                *by.entry(q.clone()).or_default() += g.count.max(g.acquired);
            }
            for o in &g.others {
                if let Some(q) = &o.query {
                    *by.entry(q.clone()).or_default() += o.count;
                }
            }
        }
        let mut v: Vec<(String, u64)> = by.into_iter().collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        v.into_iter()
            .take(n)
            .map(|(q, _)| format!("`{}`", short(&q, 120)))
            .collect()
    }

    /// First and last incident.
    pub fn span(&self) -> (Option<String>, Option<String>) {
        let first = self.groups.iter().filter_map(|g| g.first_at).min();
        let last = self.groups.iter().filter_map(|g| g.last_at).max();
        (
            first.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
            last.map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
        )
    }

    /// The ERP operations of all groups, added up.
    pub fn operations(&self) -> Option<Operations> {
        let mut out = Operations::default();
        let mut any = false;
        for g in &self.groups {
            let Some(ops) = &g.operations else { continue };
            any = true;
            out.odoo |= ops.erp.as_deref() == Some("odoo");
            let n = |m: &BTreeMap<Operation, u64>, op| m.get(&op).copied().unwrap_or(0);
            out.logged_cron += n(&ops.logged_by, Operation::Cron);
            out.logged_interactive += n(&ops.logged_by, Operation::Interactive);
            out.other_cron += n(&ops.other_side, Operation::Cron);
            out.other_interactive += n(&ops.other_side, Operation::Interactive);
            for a in &ops.cron_applications {
                push_new(&mut out.cron_applications, a);
            }
            for a in ops.writers.get(&Operation::Cron).into_iter().flatten() {
                push_new(&mut out.cron_writers, a);
            }
            for a in ops
                .writers
                .get(&Operation::Interactive)
                .into_iter()
                .flatten()
            {
                push_new(&mut out.interactive_writers, a);
            }
        }
        any.then_some(out)
    }

    /// Database users, for `ALTER ROLE` fixes.
    pub fn users(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .groups
            .iter()
            .flat_map(|g| g.users.iter().map(|u| u.name.clone()))
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

fn push_new(v: &mut Vec<String>, a: &str) {
    if !v.iter().any(|x| x == a) {
        v.push(a.to_owned());
    }
}

/// ERP operations behind a table's incidents.
#[derive(Debug, Default)]
pub(crate) struct Operations {
    pub odoo: bool,
    /// Incidents whose logging process was the cron worker / interactive.
    pub logged_cron: u64,
    pub logged_interactive: u64,
    /// Other processes (named by the log) that were the cron worker / interactive.
    pub other_cron: u64,
    pub other_interactive: u64,
    pub cron_applications: Vec<String>,
    /// Applications whose statements in the log write the table.
    pub cron_writers: Vec<String>,
    pub interactive_writers: Vec<String>,
}

impl Operations {
    /// Whether cron work took part, or writes the table.
    pub fn cron(&self) -> bool {
        self.logged_cron + self.other_cron > 0 || !self.cron_writers.is_empty()
    }

    /// The sentence naming who collides, said to be inferred and from what; `None`
    /// when nothing is known. The other side is the one the log names when it does
    /// (a deadlock's DETAIL, a lock holder's own entries), else the applications whose
    /// statements write the table.
    pub fn sentence(&self, table: &str, verb: &str) -> Option<String> {
        let quoted = |v: &[String]| {
            v.iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let cron_name = if self.odoo {
            "the Odoo cron worker"
        } else {
            "the cron worker"
        };
        let cron_evidence = format!(
            "{} ran the cron job pick on `ir_cron`",
            quoted(&self.cron_applications)
        );
        let logged = (self.logged_cron > 0, self.logged_interactive > 0);
        let named = (self.other_cron > 0, self.other_interactive > 0);
        let (cron, interactive, how) = if named.0 || named.1 {
            (
                logged.0 || named.0,
                logged.1 || named.1,
                format!("{cron_evidence}; the log names both processes"),
            )
        } else {
            let writers = (
                !self.cron_writers.is_empty(),
                !self.interactive_writers.is_empty(),
            );
            let mut how = cron_evidence.clone();
            if writers.0 || writers.1 {
                let mut all = self.cron_writers.clone();
                all.extend(self.interactive_writers.iter().cloned());
                let verb = if all.len() == 1 { "writes" } else { "write" };
                how.push_str(&format!(
                    "; the other side is not in the log, but {} {verb} {table} in it",
                    quoted(&all)
                ));
            }
            (logged.0 || writers.0, logged.1 || writers.1, how)
        };
        let both = named.0 && logged.0 || named.1 && logged.1;
        match (cron, interactive) {
            (true, true) => Some(format!(
                "{cron_name} and interactive requests both {verb} {table} rows (inferred: {how})"
            )),
            (true, false) if both => Some(format!(
                "cron jobs {verb} {table} rows against each other (inferred: {how})"
            )),
            (false, true) if both => Some(format!(
                "interactive requests {verb} {table} rows against each other (inferred: {how})"
            )),
            (true, false) => Some(format!(
                "{cron_name} takes part (inferred: {how}); the log does not say who held the other side"
            )),
            (false, true) if !self.cron_applications.is_empty() => Some(format!(
                "interactive requests take part, not the cron worker (inferred: {how}); the log does not say who held the other side"
            )),
            _ => None,
        }
    }
}

/// Incidents of `kinds`, per table, most first.
pub(crate) fn by_table<'a>(w: &'a Workload, kinds: &[IncidentKind]) -> Vec<OnTable<'a>> {
    let mut map: BTreeMap<Option<String>, OnTable<'a>> = BTreeMap::new();
    for g in w.incidents.iter().filter(|g| kinds.contains(&g.kind)) {
        let t = map.entry(g.relation.clone()).or_insert_with(|| OnTable {
            relation: g.relation.clone(),
            groups: Vec::new(),
        });
        t.groups.push(g);
    }
    let mut v: Vec<OnTable<'a>> = map.into_values().collect();
    v.sort_by_key(|t| std::cmp::Reverse(t.groups.iter().map(|g| g.count).sum::<u64>()));
    v
}

/// Evidence every lock finding carries.
pub(crate) fn evidence(d: Draft, t: &OnTable<'_>, w: &Workload, per_hour: f64) -> Draft {
    let (first, last) = t.span();
    let mut d = d
        .evidence("per_hour", (per_hour * 10.0).round() / 10.0)
        .evidence("capture_hours", (capture_hours(w) * 10.0).round() / 10.0)
        .evidence("statements", t.statements(5).join(" | "));
    if let Some(f) = first {
        d = d.evidence("first_seen", f);
    }
    if let Some(l) = last {
        d = d.evidence("last_seen", l);
    }
    let apps: Vec<String> = {
        let mut v: Vec<String> = t
            .groups
            .iter()
            .flat_map(|g| g.applications.iter().map(|a| a.name.clone()))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    if !apps.is_empty() {
        d = d.evidence("applications", apps.join(", "));
    }
    if let Some(ops) = t.operations() {
        if !ops.cron_applications.is_empty() {
            d = d.evidence("cron_applications", ops.cron_applications.join(", "));
        }
    }
    let fps: Vec<String> = t
        .groups
        .iter()
        .filter_map(|g| g.fingerprint.map(|f| f.to_string()))
        .collect();
    if !fps.is_empty() {
        d = d.evidence("fingerprints", fps.join(","));
    }
    d
}

/// How a rate-judged rule (serialization failures, deadlocks) words its findings.
pub(crate) struct RateRule {
    pub kind: IncidentKind,
    /// Singular and plural noun: `deadlock`, `deadlocks`.
    pub noun: (&'static str, &'static str),
    /// Evidence key for the count.
    pub key: &'static str,
    /// What the colliding operations do to the rows: `write`, `update`.
    pub verb: &'static str,
    /// The database-side fix.
    pub fix: &'static str,
    /// The ERP-side fix, given when cron work or Odoo's tables take part.
    pub erp_fix: &'static str,
}

impl RateRule {
    /// One finding per table with at least `min_count` incidents: a warning from
    /// `warning_per_hour` per hour of log, information below.
    pub fn findings(&self, w: &Workload, min_count: f64, warning_per_hour: f64) -> Vec<Draft> {
        let mut out = Vec::new();
        for t in by_table(w, &[self.kind]) {
            let count = t.count(self.kind);
            if count == 0 || (count as f64) < min_count {
                continue;
            }
            let per_hour = count as f64 / capture_hours(w);
            let label = t.label();
            let ops = t.operations();
            let stmts = t.statements(3);
            let involving = match (self.kind, stmts.as_slice()) {
                (IncidentKind::Deadlock, [one]) => format!(" between two runs of {one}"),
                (IncidentKind::Deadlock, many) => format!(" between {}", many.join(" and ")),
                (_, many) => format!(", in {}", many.join(", ")),
            };
            let mut message = format!(
                "{} on {label}{}{involving}",
                units::counted(count, self.noun.0, self.noun.1),
                rate_text(count, w),
            );
            if let Some(s) = ops.as_ref().and_then(|o| o.sentence(&label, self.verb)) {
                message.push_str(&format!(": {s}"));
            }
            let mut rec = self.fix.to_owned();
            if ops.as_ref().is_some_and(|o| o.cron() || o.odoo) {
                rec.push_str("; ERP side: ");
                rec.push_str(self.erp_fix);
            }
            let severity = if per_hour >= warning_per_hour {
                Severity::Warning
            } else {
                Severity::Info
            };
            let d = Draft::new(t.object(), message)
                .evidence(self.key, count)
                .severity(severity)
                .recommend(rec);
            out.push(evidence(d, &t, w, per_hour));
        }
        out
    }
}

/// `n` incidents per hour, for messages.
pub(crate) fn rate_text(count: u64, w: &Workload) -> String {
    let hours = w.source.window_seconds.unwrap_or(0.0) / 3600.0;
    if w.source.window_seconds.is_none() {
        return String::new();
    }
    format!(
        " in {} of log ({} per hour)",
        units::duration(hours * 3600.0),
        units::decimal(count as f64 / capture_hours(w))
    )
}

fn short(q: &str, n: usize) -> String {
    let one_line: String = q.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= n {
        return one_line;
    }
    let c: String = one_line.chars().take(n).collect();
    format!("{c}…")
}

#[cfg(test)]
pub(crate) mod tests_support {
    //! The lock-incident captures (`testdata/logs/locks/pg<major>/`, made by
    //! `scripts/capture-lock-logs.sh` on real servers) read into workloads.

    use std::path::PathBuf;

    use crate::config::RuleConfig;
    use crate::report::Finding;
    use crate::workload::log::LogOptions;
    use crate::workload::{from_logs, AggregateOptions, Workload};

    pub(crate) fn dir(major: u32) -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join(format!("../../testdata/logs/locks/pg{major}"))
    }

    pub(crate) fn manifest(major: u32) -> serde_json::Value {
        let text = std::fs::read_to_string(dir(major).join("manifest.json"))
            .unwrap_or_else(|e| panic!("pg{major}: {e} (run scripts/capture-lock-logs.sh)"));
        serde_json::from_str(&text).expect("manifest")
    }

    /// The majors captured.
    pub(crate) fn majors() -> Vec<u32> {
        (13..=18)
            .filter(|m| dir(*m).join("manifest.json").exists())
            .collect()
    }

    /// Every log file of a capture (`conflicts` or `healthy`): (format, workload).
    pub(crate) fn workloads(major: u32, capture: &str) -> Vec<(String, Workload)> {
        let m = manifest(major);
        let prefix = m["prefix"].as_str().expect("prefix").to_owned();
        let files = m["captures"][capture]["files"]
            .as_object()
            .expect("files")
            .clone();
        files
            .into_iter()
            .map(|(format, file)| {
                let path = dir(major).join(file.as_str().expect("file name"));
                let opts = LogOptions {
                    prefix: Some(prefix.clone()),
                    ..LogOptions::default()
                };
                let (w, _) =
                    from_logs(&[path], &opts, AggregateOptions::default(), None, |_, _| {})
                        .expect("captured log reads");
                (format, w)
            })
            .collect()
    }

    /// A rule's findings on a workload, with the shipped packs.
    pub(crate) fn findings(w: &Workload, rule: &str) -> Vec<Finding> {
        let config = RuleConfig::shipped().expect("shipped packs");
        let (findings, skipped, _) = crate::engine::workload::check(w, &config);
        assert!(
            !skipped.iter().any(|s| s.rule == rule),
            "{rule} was skipped: {skipped:?}"
        );
        findings.into_iter().filter(|f| f.rule == rule).collect()
    }
}
