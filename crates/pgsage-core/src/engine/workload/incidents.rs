//! The "Lock incidents" section of the `pgsage workload` report (text and Markdown):
//! the workload's serialization failures, deadlocks, lock timeouts and lock waits per
//! kind, table and statement, with who took part (cron or interactive, inferred). JSON
//! carries them as `workload.incidents`.

use std::io::Write;

use crate::units;
use crate::workload::incidents::{IncidentGroup, IncidentKind, Operation};
use crate::workload::Workload;

/// Groups shown (the rest are summed up on one line).
const SHOWN: usize = 20;

/// Writes the section; nothing when the workload has no incident.
/// `cut` shortens the statement text as the rest of the report does.
pub(super) fn render(
    w: &Workload,
    md: bool,
    width: Option<u16>,
    cut: fn(&str, usize) -> String,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    if w.incidents.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}Lock incidents ({})",
        if md { "## " } else { "== " },
        totals(&w.incidents)
    )?;
    let cols = [
        "kind",
        "table",
        "count",
        "waited",
        "longest",
        "first",
        "last",
        "who",
        "statement",
    ];
    let rows: Vec<Vec<String>> = w
        .incidents
        .iter()
        .take(SHOWN)
        .map(|g| row(g, if md { 300 } else { 120 }, cut))
        .collect();
    if md {
        super::tables::markdown_table(out, &cols, rows)?;
    } else {
        let mut t = super::tables::grid(&cols, width);
        for r in rows {
            t.add_row(r);
        }
        writeln!(out, "{t}")?;
    }
    if w.incidents.len() > SHOWN {
        let rest: u64 = w.incidents[SHOWN..].iter().map(|g| g.count).sum();
        writeln!(
            out,
            "… and {} more ({})",
            units::counted(w.incidents.len() - SHOWN, "group", "groups"),
            units::counted(rest, "incident", "incidents")
        )?;
    }
    if w.incidents.iter().any(|g| g.operations.is_some()) {
        if md {
            writeln!(out)?;
        }
        writeln!(
            out,
            "who: the ERP operation of the logging process / of the other processes, inferred — an application that ran statements on `ir_cron` is a cron worker, the others interactive"
        )?;
    }
    Ok(())
}

/// `3 deadlocks, 4 serialization failures, …`.
fn totals(groups: &[IncidentGroup]) -> String {
    let kinds = [
        (IncidentKind::Deadlock, "deadlock", "deadlocks"),
        (
            IncidentKind::SerializationFailure,
            "serialization failure",
            "serialization failures",
        ),
        (IncidentKind::LockTimeout, "lock timeout", "lock timeouts"),
        (IncidentKind::LockWait, "lock wait", "lock waits"),
    ];
    kinds
        .iter()
        .filter_map(|(k, one, many)| {
            let n: u64 = groups
                .iter()
                .filter(|g| g.kind == *k)
                .map(|g| g.count)
                .sum();
            (n > 0).then(|| units::counted(n, one, many))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn row(g: &IncidentGroup, query_width: usize, cut: fn(&str, usize) -> String) -> Vec<String> {
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or("-".to_owned(), |t| {
            t.format("%Y-%m-%d %H:%M:%S").to_string()
        })
    };
    let waited = |ms: f64| {
        if g.kind == IncidentKind::LockWait && ms > 0.0 {
            units::millis(ms)
        } else {
            "-".to_owned()
        }
    };
    vec![
        g.kind.label().to_owned(),
        g.relation.clone().unwrap_or_else(|| "?".to_owned()),
        units::count(g.count),
        waited(g.total_wait_ms),
        waited(g.max_wait_ms),
        time(g.first_at),
        time(g.last_at),
        who(g),
        g.query
            .as_deref()
            .map_or("-".to_owned(), |q| cut(q, query_width)),
    ]
}

/// `cron 3 / interactive 3`: what the logging side and the other side were doing.
fn who(g: &IncidentGroup) -> String {
    let Some(ops) = &g.operations else {
        return g
            .applications
            .first()
            .map_or("-".to_owned(), |a| a.name.clone());
    };
    let side = |m: &std::collections::BTreeMap<Operation, u64>| {
        let name = |op: Operation| match op {
            Operation::Cron => "cron",
            Operation::Interactive => "interactive",
            Operation::Unknown => "unknown",
        };
        let v: Vec<String> = m
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(op, n)| format!("{} {}", name(*op), units::count(*n)))
            .collect();
        if v.is_empty() {
            "-".to_owned()
        } else {
            v.join(", ")
        }
    };
    if ops.other_side.is_empty() {
        side(&ops.logged_by)
    } else {
        format!("{} / {}", side(&ops.logged_by), side(&ops.other_side))
    }
}
