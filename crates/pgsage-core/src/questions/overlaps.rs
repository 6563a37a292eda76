//! Batch work overlapping the interactive peak: slow or bulk writes (imports, cron jobs,
//! recomputations) running in the window where users click the most.

use serde::{Deserialize, Serialize};

use super::windows;
use super::{peak_statement, Overlaps, PeakStatement};
use crate::workload::fingerprint::StatementKind;
use crate::workload::Workload;

/// WRK003's parameters (rules/workload.toml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverlapThresholds {
    /// A write is batch work from this mean time, ms (bulk writes always are).
    pub min_write_mean_ms: f64,
    /// Its share of the peak window's execution time, %.
    pub min_peak_share_pct: f64,
    /// The peak carries interactive work: at least this many short statements per second.
    pub min_interactive_per_s: f64,
}

/// Batch statements in the interactive peak, or why the question cannot be answered
/// (it needs windows: server logs).
pub fn batch_at_peak(w: &Workload, t: &OverlapThresholds) -> Result<Overlaps, String> {
    if !windows::has_windows(w) {
        return Err(
            "pg_stat_statements keeps one window: which work runs in which hour needs server logs (pgsage workload with log files)"
                .to_owned(),
        );
    }
    let all = windows::windows(w);
    if all.len() < 2 {
        return Err(
            "the capture has one time window: capture more hours, or use shorter windows"
                .to_owned(),
        );
    }
    let peak = windows::interactive_peak(&all)
        .ok_or_else(|| "no short statements: there is no interactive work to protect".to_owned())?
        .clone();
    let quietest = windows::quietest(&all, peak.index).cloned();
    let busy = peak
        .seconds
        .filter(|s| *s > 0.0)
        .is_none_or(|s| peak.interactive_calls as f64 / s >= t.min_interactive_per_s);
    let mut jobs: Vec<PeakStatement> = if busy {
        w.queries
            .iter()
            .filter(|q| {
                q.kind == StatementKind::Write && (q.bulk || q.mean_ms >= t.min_write_mean_ms)
            })
            .map(|q| peak_statement(w, q, &peak))
            .filter(|s| s.peak_share_pct >= t.min_peak_share_pct)
            .collect()
    } else {
        Vec::new()
    };
    jobs.sort_by(|a, b| b.peak_ms.total_cmp(&a.peak_ms));
    Ok(Overlaps {
        peak,
        quietest,
        jobs,
    })
}
