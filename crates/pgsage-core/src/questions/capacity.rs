//! Capacity at the peak: sessions busy with queries against the cores, connections
//! against `max_connections`, temporary files.
//!
//! Statement time in a window divided by its length is the average number of sessions
//! busy with queries in it (time in statements includes I/O and lock waits: it is an
//! upper bound of the cores in use, not a CPU measurement).

use serde::{Deserialize, Serialize};

use super::windows;
use super::{Capacity, Facts};
use crate::knowledge::connections::Sessions;
use crate::workload::Workload;

/// WRK004's parameters (rules/workload.toml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CapacityThresholds {
    /// Sessions busy with queries at the peak, as a share of the cores, from which the
    /// headroom is thin, %.
    pub max_busy_pct: f64,
}

/// The headroom at the busiest window, or why it cannot be computed.
pub fn capacity_at_peak(w: &Workload, facts: &Facts<'_>) -> Result<Capacity, String> {
    super::one_window_is_a_sample(w)?;
    let all = windows::windows(w);
    let peak = windows::busiest(&all)
        .ok_or_else(|| "no execution time in the capture".to_owned())?
        .clone();
    let seconds = peak
        .seconds
        .filter(|s| *s > 0.0)
        .ok_or_else(|| "the window's length is unknown".to_owned())?;
    let busy_sessions = peak.total_ms / 1000.0 / seconds;
    let average_busy_sessions = w
        .source
        .window_seconds
        .filter(|s| *s > 0.0)
        // At least a second, as the windows ([`windows::windows`]).
        .map(|s| w.totals.total_ms / 1000.0 / s.max(1.0));
    let cpus = facts.cpus.as_ref().map(|f| f.value);
    let temp: Vec<i64> = w.queries.iter().filter_map(|q| q.temp_bytes).collect();
    Ok(Capacity {
        busy_pct: cpus.filter(|c| *c > 0.0).map(|c| 100.0 * busy_sessions / c),
        cpus_source: facts.cpus.as_ref().map(|f| f.source.clone()),
        cpus,
        peak,
        busy_sessions,
        average_busy_sessions,
        connections: facts.snapshot.map(|s| Sessions::observe(s).clients),
        max_connections: facts
            .snapshot
            .and_then(|s| s.setting("max_connections"))
            .and_then(|s| s.as_f64())
            .map(|v| v as i64),
        temp_bytes: (!temp.is_empty()).then(|| temp.iter().sum()),
        wal_bytes_per_s: facts.wal_bytes_per_s.as_ref().map(|f| f.value),
        wal_source: facts.wal_bytes_per_s.as_ref().map(|f| f.source.clone()),
    })
}
