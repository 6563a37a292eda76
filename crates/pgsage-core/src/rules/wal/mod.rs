//! The `wal` pack: checkpoints, WAL volume, replication slots and lag, archiving, durability.

mod archiver_failing;
mod backends_writing_buffers;
mod checkpoint_completion_target_low;
mod checkpoint_timeout_short;
mod checkpoints_requested;
mod durability_off;
mod replication_lag;
mod slot_retaining_wal;
mod wal_compression_off;

pub use archiver_failing::ArchiverFailing;
pub use backends_writing_buffers::BackendsWritingBuffers;
pub use checkpoint_completion_target_low::CheckpointCompletionTargetLow;
pub use checkpoint_timeout_short::CheckpointTimeoutShort;
pub use checkpoints_requested::CheckpointsRequested;
pub use durability_off::DurabilityOff;
pub use replication_lag::ReplicationLag;
pub use slot_retaining_wal::SlotRetainingWal;
pub use wal_compression_off::WalCompressionOff;

use crate::rules::Basis;
use crate::snapshot::{CheckpointerStats, Snapshot, WalStats};

/// This pack's rules.
pub(crate) static RULES: &[super::Rule] = &[
    super::Rule::Snapshot(&CheckpointsRequested),
    super::Rule::Snapshot(&CheckpointCompletionTargetLow),
    super::Rule::Snapshot(&CheckpointTimeoutShort),
    super::Rule::Snapshot(&BackendsWritingBuffers),
    super::Rule::Snapshot(&WalCompressionOff),
    super::Rule::Snapshot(&SlotRetainingWal),
    super::Rule::Snapshot(&ArchiverFailing),
    super::Rule::Snapshot(&DurabilityOff),
    super::Rule::Snapshot(&ReplicationLag),
];

/// Counters over the basis: deltas since the baseline when sampled with an interval, else
/// totals since the counters' own reset (or server start).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Window<T> {
    /// The counters (deltas or totals).
    pub counters: T,
    /// Which basis.
    pub basis: Basis,
}

fn since(snap: &Snapshot, reset: Option<chrono::DateTime<chrono::Utc>>) -> f64 {
    // Before 15 the counters restart with the server unless kept across a clean shutdown;
    // the later of the two is the safer (shorter) age.
    let from = reset.unwrap_or(snap.server.started_at);
    snap.age_seconds(from)
}

/// Checkpointer/bgwriter counters over the basis.
pub(crate) fn checkpointer_window(snap: &Snapshot) -> Option<Window<CheckpointerStats>> {
    let now = snap.checkpointer.as_ref()?;
    if let (Some(seconds), Some(before)) = (
        snap.window_seconds(),
        snap.baseline.as_ref().and_then(|b| b.checkpointer.as_ref()),
    ) {
        let d = |a: i64, b: i64| (a - b).max(0);
        return Some(Window {
            counters: CheckpointerStats {
                checkpoints_timed: d(now.checkpoints_timed, before.checkpoints_timed),
                checkpoints_req: d(now.checkpoints_req, before.checkpoints_req),
                checkpoint_write_time_ms: (now.checkpoint_write_time_ms
                    - before.checkpoint_write_time_ms)
                    .max(0.0),
                checkpoint_sync_time_ms: (now.checkpoint_sync_time_ms
                    - before.checkpoint_sync_time_ms)
                    .max(0.0),
                buffers_checkpoint: d(now.buffers_checkpoint, before.buffers_checkpoint),
                buffers_clean: d(now.buffers_clean, before.buffers_clean),
                maxwritten_clean: d(now.maxwritten_clean, before.maxwritten_clean),
                buffers_backend: match (now.buffers_backend, before.buffers_backend) {
                    (Some(a), Some(b)) => Some(d(a, b)),
                    _ => None,
                },
                buffers_alloc: d(now.buffers_alloc, before.buffers_alloc),
                stats_reset: now.stats_reset,
            },
            basis: Basis::Interval { seconds },
        });
    }
    Some(Window {
        counters: now.clone(),
        basis: Basis::SinceReset {
            seconds: since(snap, now.stats_reset),
        },
    })
}

/// `pg_stat_wal` counters over the basis (14+).
pub(crate) fn wal_window(snap: &Snapshot) -> Option<Window<WalStats>> {
    let now = snap.wal.as_ref()?;
    if let (Some(seconds), Some(before)) = (
        snap.window_seconds(),
        snap.baseline.as_ref().and_then(|b| b.wal.as_ref()),
    ) {
        if now.wal_bytes >= before.wal_bytes {
            return Some(Window {
                counters: WalStats {
                    wal_records: (now.wal_records - before.wal_records).max(0),
                    wal_fpi: (now.wal_fpi - before.wal_fpi).max(0),
                    wal_bytes: now.wal_bytes - before.wal_bytes,
                    wal_buffers_full: (now.wal_buffers_full - before.wal_buffers_full).max(0),
                    stats_reset: now.stats_reset,
                },
                basis: Basis::Interval { seconds },
            });
        }
    }
    Some(Window {
        counters: now.clone(),
        basis: Basis::SinceReset {
            seconds: since(snap, now.stats_reset),
        },
    })
}

/// The WAL generation rate in bytes per second and where it came from: the WAL position
/// (or `pg_stat_wal`) over the sampled interval, else `pg_stat_wal` since its reset.
pub(crate) fn wal_rate(snap: &Snapshot) -> Option<(f64, &'static str)> {
    if let Some(seconds) = snap.window_seconds() {
        let lsn = snap
            .wal_lsn_bytes
            .zip(snap.baseline.as_ref().and_then(|b| b.wal_lsn_bytes))
            .filter(|(now, before)| now >= before);
        if let Some((now, before)) = lsn {
            return Some(((now - before) as f64 / seconds, "wal_lsn_interval"));
        }
        if let Some(w) = wal_window(snap).filter(|w| matches!(w.basis, Basis::Interval { .. })) {
            return Some((
                w.counters.wal_bytes as f64 / seconds,
                "pg_stat_wal_interval",
            ));
        }
    }
    let w = wal_window(snap)?;
    let seconds = w.basis.seconds();
    (seconds >= 1.0).then(|| {
        (
            w.counters.wal_bytes as f64 / seconds,
            "pg_stat_wal_since_reset",
        )
    })
}
