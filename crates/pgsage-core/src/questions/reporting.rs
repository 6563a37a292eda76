//! Reporting isolation: long read-only statements running on the primary during the
//! interactive peak, their share of the peak's time and of the blocks read, and whether a
//! standby exists to send them to.

use serde::{Deserialize, Serialize};

use super::windows;
use super::{peak_statement, Facts, Reporting};
use crate::workload::fingerprint::StatementKind;
use crate::workload::Workload;

/// WRK001's parameters (rules/workload.toml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportingThresholds {
    /// A read is long (a report, an export) from this mean time, ms.
    pub min_mean_ms: f64,
    /// Its share of the peak window's execution time, %.
    pub min_peak_share_pct: f64,
    /// The peak carries interactive work: at least this many short statements per second.
    pub min_interactive_per_s: f64,
}

/// The long reads at the interactive peak, or why the question cannot be answered.
pub fn reports_at_peak(
    w: &Workload,
    facts: &Facts<'_>,
    t: &ReportingThresholds,
) -> Result<Reporting, String> {
    super::one_window_is_a_sample(w)?;
    let all = windows::windows(w);
    let peak = windows::interactive_peak(&all)
        .ok_or_else(|| "no short statements: there is no interactive work to protect".to_owned())?
        .clone();
    let interactive_per_s = peak
        .seconds
        .filter(|s| *s > 0.0)
        .map(|s| peak.interactive_calls as f64 / s);
    let statements = if interactive_per_s.is_some_and(|r| r < t.min_interactive_per_s) {
        // Nobody clicks at that rate: a report slows no one down.
        Vec::new()
    } else {
        let blocks_read: i64 = w
            .queries
            .iter()
            .filter(|q| windows::counts_in_totals(q))
            .filter_map(|q| q.shared_blks_read)
            .sum();
        let mut found: Vec<super::PeakStatement> = w
            .queries
            .iter()
            .filter(|q| q.kind == StatementKind::Read && q.mean_ms >= t.min_mean_ms)
            .filter_map(|q| {
                let s = peak_statement(w, q, &peak);
                (s.peak_share_pct >= t.min_peak_share_pct).then(|| {
                    let io = q
                        .shared_blks_read
                        .filter(|_| blocks_read > 0)
                        .map(|b| 100.0 * b as f64 / blocks_read as f64);
                    super::PeakStatement {
                        io_share_pct: io,
                        ..s
                    }
                })
            })
            .collect();
        found.sort_by(|a, b| b.peak_ms.total_cmp(&a.peak_ms));
        found
    };
    Ok(Reporting {
        standbys: facts.snapshot.map(|s| s.replication.len()),
        peak,
        interactive_per_s,
        statements,
    })
}
