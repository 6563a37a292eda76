//! Top statements by total execution time, from the workload pgsage builds from
//! `pg_stat_statements` ([`crate::workload::from_snapshot`]: entries merged per
//! fingerprint, deltas over a sampled interval when there is one).

use super::svg::{Bar, Part};
use super::{Figure, Panel, TOP};
use crate::knowledge::counters::{Basis, StatsWindow};
use crate::snapshot::Snapshot;
use crate::units;
use crate::workload::Workload;

/// The statements that took the most execution time, with their calls and mean time.
pub(super) fn top_by_time(snapshot: &Snapshot, workload: Option<&Workload>) -> Option<Figure> {
    let w = workload?;
    let bars: Vec<Bar> = w
        .queries
        .iter()
        .filter(|q| q.total_ms > 0.0)
        .take(TOP)
        .map(|q| Bar {
            label: q.query.clone(),
            parts: vec![Part {
                name: "execution time",
                class: "bar",
                value: q.total_ms,
                text: units::millis(q.total_ms),
            }],
            value: format!(
                "{} · {}",
                units::millis(q.total_ms),
                units::percent(q.share_pct(&w.totals))
            ),
            detail: format!(
                "{}, {} mean{}",
                units::counted(q.calls, "call", "calls"),
                units::millis(q.mean_ms),
                if q.toplevel == Some(false) {
                    ", run inside a function"
                } else {
                    ""
                }
            ),
        })
        .collect();
    if bars.is_empty() {
        return None;
    }
    Some(Figure {
        id: "chart-statements",
        title: "Top statements by total time".into(),
        caption: format!(
            "The {} that took the most execution time {}, of {} (pg_stat_statements, constants replaced by $n); the share is of all execution time.",
            units::counted(bars.len(), "statement", "statements"),
            window(snapshot, w).describe(),
            units::counted(w.totals.fingerprints, "distinct statement", "distinct statements"),
        ),
        facts: Vec::new(),
        panels: vec![Panel {
            heading: None,
            bars,
        }],
    })
}

/// The window the workload's counters cover: its sampled interval, or the time since
/// `pg_stat_statements` was reset.
pub(super) fn window(snapshot: &Snapshot, w: &Workload) -> StatsWindow {
    let seconds = w.source.window_seconds.unwrap_or(0.0);
    let basis = match w.source.basis.as_deref() {
        Some("interval") => Basis::Interval { seconds },
        _ => Basis::SinceReset { seconds },
    };
    StatsWindow::of(snapshot, 0.0).over(basis, "pg_stat_statements counters")
}
