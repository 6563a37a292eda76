//! One line per change, as the text, Markdown and HTML renderings show it: numbers
//! through [`crate::units`], identifiers in backticks.

use super::super::activity::ServerActivity;
use super::super::findings::{ActionChange, FindingChange};
use super::super::objects::DatabaseChanges;
use super::super::statements::{Basis, MatchedBy, StatementRegression};
use super::super::ChangedSetting;
use crate::units;

pub(super) fn setting_line(s: &ChangedSetting) -> String {
    let value = match (&s.old, &s.new) {
        (Some(o), Some(n)) if o == n => n.clone(),
        (Some(o), Some(n)) => format!("{o} → {n}"),
        (None, Some(n)) => format!("(not defined) → {n}"),
        (Some(o), None) => format!("{o} → (no longer defined)"),
        (None, None) => String::new(),
    };
    let mut line = format!("`{}`: {value}", s.name);
    if s.pending_restart {
        line.push_str(
            ", pending restart (a changed value waits for a restart; the running value is shown)",
        );
    } else if let Some(source) = &s.source {
        line.push_str(&format!(" ({source})"));
    }
    line
}

pub(super) fn finding_line(c: &FindingChange) -> String {
    let severity = match c.old_severity {
        Some(o) => format!("{o} → {}", c.severity),
        None => c.severity.to_string(),
    };
    format!(
        "[{severity}] {} `{}`: {}",
        c.key.rule,
        object_of(c),
        c.message
    )
}

fn object_of(c: &FindingChange) -> String {
    let k = &c.key;
    let mut name = String::new();
    if let Some(d) = &k.database {
        name.push_str(d);
        name.push('.');
    }
    if let Some(s) = &k.schema {
        name.push_str(s);
        name.push('.');
    }
    name.push_str(&k.name);
    name
}

pub(super) fn action_line(c: &ActionChange) -> String {
    let severity = match c.old_severity {
        Some(o) => format!("{o} → {}", c.severity),
        None => c.severity.to_string(),
    };
    let mut line = format!("[{severity}] {} ({})", c.title, c.id);
    if !c.objects_added.is_empty() {
        line.push_str(&format!("; now also {}", listed(&c.objects_added)));
    }
    if !c.objects_removed.is_empty() {
        line.push_str(&format!("; no longer {}", listed(&c.objects_removed)));
    }
    line
}

fn listed(names: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = names
        .iter()
        .take(SHOWN)
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", units::count(names.len() - SHOWN)));
    }
    text
}

pub(super) fn statement_line(s: &StatementRegression) -> String {
    let query = s.query.as_deref().map_or_else(
        || format!("queryid {}", s.queryid),
        |q| {
            let flat = q.split_whitespace().collect::<Vec<_>>().join(" ");
            let short: String = flat.chars().take(100).collect();
            if short.len() < flat.len() {
                format!("{short}…")
            } else {
                short
            }
        },
    );
    let place = match (&s.database, &s.user) {
        (Some(d), Some(u)) => format!(" in `{d}` as `{u}`"),
        (Some(d), None) => format!(" in `{d}`"),
        _ => String::new(),
    };
    format!(
        "`{query}`{place}: mean {} → {} (×{}) over {} {}, rows per call {} → {}, {} more in total{}",
        units::millis(s.old_mean_ms),
        units::millis(s.new_mean_ms),
        units::number(s.ratio),
        units::counted(s.new_calls, "call", "calls"),
        match s.basis {
            Basis::Interval => "in between",
            Basis::SinceReset => "since the reset",
        },
        units::number(s.old_rows_per_call),
        units::number(s.new_rows_per_call),
        units::millis(s.extra_time_ms),
        match s.matched_by {
            MatchedBy::Queryid => "",
            MatchedBy::Text => " (matched by its text: the queryid changed)",
        }
    )
}

/// `48 MB (1.2 MB/s)` of WAL, `1,234 (2.1/s)` transactions: an amount and its rate over
/// the interval (no rate over an interval of zero).
fn with_rate(amount: String, rate: Option<String>) -> String {
    match rate {
        Some(r) => format!("{amount} ({r})"),
        None => amount,
    }
}

pub(super) fn activity_lines(a: &ServerActivity, seconds: f64) -> Vec<String> {
    let per_second = |n: i64| (seconds > 0.0).then(|| n as f64 / seconds);
    let mut lines = Vec::new();
    let mut server = Vec::new();
    if let Some(b) = a.wal_bytes.filter(|b| *b > 0) {
        server.push(format!(
            "WAL written {}",
            with_rate(units::bytes(b), per_second(b).map(units::rate))
        ));
    }
    if let (Some(t), Some(r)) = (a.checkpoints_timed, a.checkpoints_requested) {
        if t + r > 0 {
            server.push(format!(
                "{}, {} requested",
                units::counted(t + r, "checkpoint", "checkpoints"),
                units::count(r)
            ));
        }
    }
    if !server.is_empty() {
        lines.push(server.join("; "));
    }
    const SHOWN: usize = 20;
    for d in a.databases.iter().take(SHOWN) {
        if d.reset {
            lines.push(format!(
                "`{}`: its statistics were reset in between: not compared",
                d.database
            ));
            continue;
        }
        let commits = d.commits.unwrap_or(0);
        let mut parts = vec![with_rate(
            units::counted(commits, "transaction", "transactions"),
            per_second(commits).map(|r| format!("{}/s", units::number(r))),
        )];
        if let Some(r) = d.rollbacks.filter(|r| *r > 0) {
            parts.push(format!("{} rolled back", units::count(r)));
        }
        if let Some(w) = d.rows_written.filter(|w| *w > 0) {
            parts.push(format!("{} written", units::counted(w, "row", "rows")));
        }
        if let Some(t) = d.temp_bytes.filter(|t| *t > 0) {
            parts.push(format!("{} of temporary files", units::bytes(t)));
        }
        if let Some(x) = d.deadlocks.filter(|x| *x > 0) {
            parts.push(units::counted(x, "deadlock", "deadlocks"));
        }
        lines.push(format!("`{}`: {}", d.database, parts.join(", ")));
    }
    if a.databases.len() > SHOWN {
        lines.push(format!(
            "{} quieter databases not listed",
            units::count(a.databases.len() - SHOWN)
        ));
    }
    lines
}

pub(super) fn database_heading(d: &DatabaseChanges) -> String {
    match (d.old_size_bytes, d.new_size_bytes) {
        (Some(o), Some(n)) => format!(
            "Database `{}` ({} → {})",
            d.database,
            units::bytes(o),
            units::bytes(n)
        ),
        _ => format!("Database `{}`", d.database),
    }
}

pub(super) fn database_lines(d: &DatabaseChanges) -> Vec<String> {
    let mut lines = Vec::new();
    let names = |v: &[String]| listed(v);
    if !d.tables_added.is_empty() {
        lines.push(format!("tables created: {}", names(&d.tables_added)));
    }
    if !d.tables_dropped.is_empty() {
        lines.push(format!("tables dropped: {}", names(&d.tables_dropped)));
    }
    if !d.indexes_added.is_empty() {
        lines.push(format!("indexes created: {}", names(&d.indexes_added)));
    }
    if !d.indexes_dropped.is_empty() {
        lines.push(format!("indexes dropped: {}", names(&d.indexes_dropped)));
    }
    for t in &d.tables_grown {
        let rows = match (t.old_rows, t.new_rows) {
            (Some(o), Some(n)) => format!(", {} → {} rows", units::count(o), units::count(n)),
            _ => String::new(),
        };
        lines.push(format!(
            "table `{}` grew {} → {} (+{}{rows})",
            t.name,
            units::bytes(t.old_bytes),
            units::bytes(t.new_bytes),
            units::bytes(t.new_bytes - t.old_bytes)
        ));
    }
    for i in &d.indexes_grown {
        lines.push(format!(
            "index `{}` grew {} → {} (+{})",
            i.name,
            units::bytes(i.old_bytes),
            units::bytes(i.new_bytes),
            units::bytes(i.new_bytes - i.old_bytes)
        ));
    }
    for r in &d.dead_rows {
        lines.push(format!(
            "table `{}`: dead rows {} → {} ({} → {} of its rows)",
            r.name,
            units::count(r.old_dead),
            units::count(r.new_dead),
            units::percent(r.old_pct),
            units::percent(r.new_pct)
        ));
    }
    for b in &d.bloat {
        lines.push(format!(
            "{} `{}`: estimated bloat {} → {} ({} → {} of it)",
            b.kind,
            b.name,
            units::bytes(b.old_wasted_bytes),
            units::bytes(b.new_wasted_bytes),
            units::percent(b.old_pct),
            units::percent(b.new_pct)
        ));
    }
    if d.omitted > 0 {
        lines.push(format!(
            "{} smaller changes not listed",
            units::count(d.omitted)
        ));
    }
    lines
}
