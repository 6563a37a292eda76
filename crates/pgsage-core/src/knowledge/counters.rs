//! The span of PostgreSQL's cumulative statistics counters.
//!
//! `pg_stat_*` counters grow from the last statistics reset (`pg_stat_reset()`, per
//! database `stats_reset`). They survive a clean restart but are discarded after a crash or
//! an immediate shutdown, so pgsage takes the later of the reset and the server's start:
//! the counters may be younger than the reset, never older than the start.
//!
//! Reference: <https://www.postgresql.org/docs/current/monitoring-stats.html>.

use crate::snapshot::Snapshot;

/// Seconds the connected database's counters cover at collection time: since its
/// statistics reset or the server's start, whichever is later.
pub fn since_reset_seconds(snapshot: &Snapshot) -> f64 {
    let start = snapshot.server.started_at;
    let reset = snapshot
        .current_database()
        .and_then(|d| d.stats_reset)
        .map_or(start, |r| r.max(start));
    snapshot.age_seconds(reset)
}

/// Usage-based verdicts need counters at least this old, in hours, unless the
/// configuration says otherwise (`[audit] min_stats_age_hours`).
pub const DEFAULT_MIN_STATS_AGE_HOURS: f64 = 24.0;
