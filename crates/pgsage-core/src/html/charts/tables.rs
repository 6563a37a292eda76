//! The largest tables of the connected database: their size split into heap, estimated
//! heap bloat, and TOAST with indexes; their dead rows alongside.
//!
//! The bloat is VAC009's estimate ([`estimate_table`]: the rows' expected size from
//! planner statistics against `relpages`), with the shipped pack's gates on which tables
//! it can be trusted for; a table it cannot judge shows no bloat part and says so.

use super::svg::{Bar, Part};
use super::{Figure, Panel, TOP};
use crate::rules::vacuum::bloat_estimate::block_size;
use crate::rules::vacuum::dead_tuple_ratio::dead_pct;
use crate::rules::vacuum::table_bloat::estimate_table;
use crate::snapshot::{Snapshot, Table};
use crate::units;

/// The tables' total size: heap, TOAST (with its index) and indexes.
fn total_bytes(t: &Table) -> i64 {
    t.heap_bytes.max(0) + t.toast_bytes.max(0) + t.indexes_bytes.max(0)
}

/// VAC009's gates on which tables its estimate is judged for (`min_pages`,
/// `max_modified_since_analyze_pct`), from the shipped pack; `None` if it cannot be read.
pub(super) fn bloat_gates() -> Option<(f64, f64)> {
    let config = crate::RuleConfig::shipped().ok()?;
    let params = &config.rules.get("VAC009")?.params;
    let gates: crate::rules::vacuum::bloat_estimate::Gates =
        crate::rules::params::parse(params).ok()?;
    Some((gates.min_pages, gates.max_modified_pct))
}

/// Wasted heap bytes VAC009 estimates for `t` under its `gates`, when it can judge it.
pub(super) fn estimated_bloat_bytes(
    snapshot: &Snapshot,
    t: &Table,
    gates: Option<(f64, f64)>,
) -> Option<f64> {
    let (min_pages, max_modified_pct) = gates?;
    let e = estimate_table(snapshot, t, min_pages, max_modified_pct).ok()?;
    Some((e.bloat.wasted_pages() * block_size(snapshot)).min(t.heap_bytes.max(0) as f64))
}

/// The largest tables by total size.
pub(super) fn largest(snapshot: &Snapshot) -> Option<Figure> {
    let mut tables: Vec<&Table> = snapshot
        .tables
        .iter()
        .filter(|t| total_bytes(t) > 0)
        .collect();
    tables.sort_by(|a, b| {
        total_bytes(b)
            .cmp(&total_bytes(a))
            .then_with(|| a.qualified_name().cmp(&b.qualified_name()))
    });
    let gates = bloat_gates();
    let bars: Vec<Bar> = tables
        .iter()
        .take(TOP)
        .map(|t| table_bar(snapshot, t, gates))
        .collect();
    if bars.is_empty() {
        return None;
    }
    Some(Figure {
        id: "chart-tables",
        title: "Largest tables".into(),
        caption: format!(
            "The {} largest of {} in database {} at collection time: heap in use, the heap's bloat as VAC009 estimates it from planner statistics (when they allow an estimate), TOAST and indexes; dead rows as the statistics count them now.",
            units::count(bars.len()),
            units::counted(snapshot.tables.len(), "table", "tables"),
            snapshot.server.database,
        ),
        facts: Vec::new(),
        panels: vec![Panel {
            heading: None,
            bars,
        }],
    })
}

fn table_bar(snapshot: &Snapshot, t: &Table, gates: Option<(f64, f64)>) -> Bar {
    let bloat = estimated_bloat_bytes(snapshot, t, gates);
    let wasted = bloat.unwrap_or(0.0);
    let heap = t.heap_bytes.max(0) as f64;
    let rest = (t.toast_bytes.max(0) + t.indexes_bytes.max(0)) as f64;
    let dead = if t.n_dead_tup > 0 {
        format!(
            "{} ({} of the rows)",
            units::counted(t.n_dead_tup, "dead row", "dead rows"),
            units::percent(dead_pct(t))
        )
    } else {
        "no dead rows".to_owned()
    };
    let bloat_text = match bloat {
        Some(b) => format!(
            "heap bloat {} of the heap",
            units::percent(if heap > 0.0 { 100.0 * b / heap } else { 0.0 })
        ),
        None => "heap bloat not estimated (too small, or statistics stale or hidden)".to_owned(),
    };
    Bar {
        label: t.qualified_name(),
        parts: vec![
            Part {
                name: "heap in use",
                class: "bar",
                value: heap - wasted,
                text: units::bytes(heap - wasted),
            },
            Part {
                name: "estimated bloat",
                class: "bar2",
                value: wasted,
                text: units::bytes(wasted),
            },
            Part {
                name: "TOAST and indexes",
                class: "bar3",
                value: rest,
                text: units::bytes(rest),
            },
        ],
        value: if t.n_dead_tup > 0 {
            format!(
                "{} · {} dead",
                units::bytes(total_bytes(t)),
                units::count(t.n_dead_tup)
            )
        } else {
            units::bytes(total_bytes(t))
        },
        detail: format!("{dead}; {bloat_text}"),
    }
}
