//! Findings and actions new, resolved and persisting between two reports.
//!
//! A finding is matched by its rule and its object ([`FindingKey`]: kind, database,
//! schema, name), never by its message or numbers, which change as the server does. A
//! report older than `object.database` on every finding left it out of schema objects:
//! there it is the report's connected database. The same rule may name one object
//! twice; matching then pairs them one for one. An action is matched by its stable
//! `id` (`missing-fk-indexes`, `autovacuum-off`), with the objects it gained and lost.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::report::{Action, Finding, ObjectKind, Report, Severity};

/// What identifies a finding across reports: its rule and its object.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FindingKey {
    /// Rule id.
    pub rule: String,
    /// The object's kind.
    pub kind: ObjectKind,
    /// The object's database, when it lives in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// The object's schema.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The object's name (a setting's, a queryid, `server`).
    pub name: String,
}

impl FindingKey {
    /// The key of `finding`, a finding of `report`.
    pub fn of(finding: &Finding, report: &Report) -> FindingKey {
        let o = &finding.object;
        let in_database = matches!(
            o.kind,
            ObjectKind::Table
                | ObjectKind::Index
                | ObjectKind::Column
                | ObjectKind::Sequence
                | ObjectKind::Constraint
        );
        FindingKey {
            rule: finding.rule.clone(),
            kind: o.kind,
            database: o
                .database
                .clone()
                .or_else(|| in_database.then(|| report.target.database.clone())),
            schema: o.schema.clone(),
            name: o.name.clone(),
        }
    }
}

impl fmt::Display for FindingKey {
    /// `IDX002 index erp.public.orders_pkey`: the rule, the kind, the object.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = serde_json::to_value(self.kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        write!(f, "{} {kind} ", self.rule)?;
        if let Some(d) = &self.database {
            write!(f, "{d}.")?;
        }
        if let Some(s) = &self.schema {
            write!(f, "{s}.")?;
        }
        f.write_str(&self.name)
    }
}

/// A finding as the diff shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingChange {
    /// Rule and object.
    pub key: FindingKey,
    /// Its severity in the newer report (in the older one for a resolved finding).
    pub severity: Severity,
    /// Its severity in the older report, for a persisting finding whose severity changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_severity: Option<Severity>,
    /// The rule's title.
    pub title: String,
    /// The finding's message (the newer one for a persisting finding).
    pub message: String,
    /// For a resolved finding: counters it may rest on were reset in between (its
    /// database's, its table's, `pg_stat_statements`), so it may be gone only until they
    /// grow again. Set by [`super::snapshots`]; reports alone cannot tell.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub after_reset: bool,
}

/// Findings new, resolved and persisting.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FindingsDiff {
    /// In the newer report only, worst first.
    pub new: Vec<FindingChange>,
    /// In the older report only, worst first.
    pub resolved: Vec<FindingChange>,
    /// In both, worst first; `old_severity` set where the severity changed.
    pub persisting: Vec<FindingChange>,
}

/// An action as the diff shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionChange {
    /// The action's stable id.
    pub id: String,
    /// Its title (the newer one for a persisting action).
    pub title: String,
    /// Its severity (the newer one for a persisting action).
    pub severity: Severity,
    /// Its severity in the older report, when it changed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_severity: Option<Severity>,
    /// Objects it names now that it did not before (persisting actions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects_added: Vec<String>,
    /// Objects it no longer names (persisting actions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects_removed: Vec<String>,
}

/// Actions new, resolved and persisting.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ActionsDiff {
    /// In the newer report only.
    pub new: Vec<ActionChange>,
    /// In the older report only.
    pub resolved: Vec<ActionChange>,
    /// In both.
    pub persisting: Vec<ActionChange>,
}

/// For each finding of `new`, whether it is new against `old` (`true`) or persisting,
/// and the findings of `old` left unmatched (resolved), by index. Pairs one for one
/// when a rule names an object several times.
pub fn match_findings(old: &Report, new: &Report) -> (Vec<Option<usize>>, Vec<usize>) {
    let mut unmatched: BTreeMap<FindingKey, Vec<usize>> = BTreeMap::new();
    for (i, f) in old.findings.iter().enumerate() {
        unmatched.entry(FindingKey::of(f, old)).or_default().push(i);
    }
    let matched: Vec<Option<usize>> = new
        .findings
        .iter()
        .map(|f| {
            let slot = unmatched.get_mut(&FindingKey::of(f, new))?;
            (!slot.is_empty()).then(|| slot.remove(0))
        })
        .collect();
    let mut resolved: Vec<usize> = unmatched.into_values().flatten().collect();
    resolved.sort_unstable();
    (matched, resolved)
}

/// Findings new, resolved and persisting from `old` to `new`.
pub fn compare(old: &Report, new: &Report) -> FindingsDiff {
    let (matched, resolved) = match_findings(old, new);
    let mut diff = FindingsDiff::default();
    for (f, m) in new.findings.iter().zip(&matched) {
        let mut change = change_of(f, new);
        match m {
            None => diff.new.push(change),
            Some(j) => {
                let before = old.findings[*j].severity;
                change.old_severity = (before != f.severity).then_some(before);
                diff.persisting.push(change);
            }
        }
    }
    diff.resolved = resolved
        .into_iter()
        .map(|i| change_of(&old.findings[i], old))
        .collect();
    for list in [&mut diff.new, &mut diff.resolved, &mut diff.persisting] {
        list.sort_by(|a, b| b.severity.cmp(&a.severity).then_with(|| a.key.cmp(&b.key)));
    }
    diff
}

fn change_of(f: &Finding, report: &Report) -> FindingChange {
    FindingChange {
        key: FindingKey::of(f, report),
        severity: f.severity,
        old_severity: None,
        title: f.title.clone(),
        message: f.message.clone(),
        after_reset: false,
    }
}

/// Leaves out of `new` and `resolved` the findings about objects of databases only one
/// snapshot holds sections for (one collected with `--all-databases`, the other not):
/// they are not new or resolved, only seen or unseen. Returns how many were left out.
pub fn only_common_databases(diff: &mut FindingsDiff, common: &[String]) -> usize {
    let seen_by_both = |c: &FindingChange| {
        !matches!(
            c.key.kind,
            ObjectKind::Table
                | ObjectKind::Index
                | ObjectKind::Column
                | ObjectKind::Sequence
                | ObjectKind::Constraint
        ) || c.key.database.as_ref().is_none_or(|d| common.contains(d))
    };
    let before = diff.new.len() + diff.resolved.len();
    diff.new.retain(seen_by_both);
    diff.resolved.retain(seen_by_both);
    before - diff.new.len() - diff.resolved.len()
}

/// Marks the resolved findings that counters reset in between may explain: a reset of
/// `pg_stat_statements` (which the workload rules read, whatever object they name), of
/// the checkpointer's or WAL counters (for findings about the server or a setting), or of
/// their database's or table's statistics.
pub fn mark_resolved_after_reset(diff: &mut FindingsDiff, resets: &[super::CounterReset]) {
    use super::resets::{database_reset, statements_reset, table_reset, ResetScope};
    let workload = statements_reset(resets);
    let server_counters = resets
        .iter()
        .any(|r| matches!(r.scope, ResetScope::Checkpointer | ResetScope::Wal));
    for c in &mut diff.resolved {
        let k = &c.key;
        let about_server = matches!(k.kind, ObjectKind::Server | ObjectKind::Setting);
        c.after_reset = workload
            || (server_counters && about_server)
            || k.database.as_deref().is_some_and(|db| {
                database_reset(resets, db)
                    || k.schema.as_deref().is_some_and(|s| {
                        table_reset(resets, db, &crate::sql::qualified(s, &k.name))
                    })
            });
    }
}

/// Actions new, resolved and persisting, matched by id.
pub fn compare_actions(old: &Report, new: &Report) -> ActionsDiff {
    let mut diff = ActionsDiff::default();
    for n in &new.actions {
        match old.actions.iter().find(|o| o.id == n.id) {
            None => diff.new.push(action_change(n)),
            Some(o) => {
                let names = |a: &Action| -> Vec<String> {
                    a.objects
                        .iter()
                        .map(|r| match &r.database {
                            Some(d) if r.schema.is_some() => format!("{d}.{}", r.display_name()),
                            _ => r.display_name(),
                        })
                        .collect()
                };
                let (before, after) = (names(o), names(n));
                let mut change = action_change(n);
                change.old_severity = (o.severity != n.severity).then_some(o.severity);
                change.objects_added = after
                    .iter()
                    .filter(|x| !before.contains(x))
                    .cloned()
                    .collect();
                change.objects_removed = before
                    .iter()
                    .filter(|x| !after.contains(x))
                    .cloned()
                    .collect();
                diff.persisting.push(change);
            }
        }
    }
    diff.resolved = old
        .actions
        .iter()
        .filter(|o| !new.actions.iter().any(|n| n.id == o.id))
        .map(action_change)
        .collect();
    diff
}

fn action_change(a: &Action) -> ActionChange {
    ActionChange {
        id: a.id.clone(),
        title: a.title.clone(),
        severity: a.severity,
        old_severity: None,
        objects_added: Vec::new(),
        objects_removed: Vec::new(),
    }
}
