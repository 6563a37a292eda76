//! WAL sizing: `min_wal_size` / `max_wal_size` per profile (PGTune's values) and the
//! `max_wal_size` that keeps checkpoints time-driven at a measured WAL rate.
//!
//! References: <https://www.postgresql.org/docs/current/wal-configuration.html>,
//! `CalculateCheckpointSegments` in `src/backend/access/transam/xlog.c`.

use super::{Profile, GB};

/// `(min_wal_size, max_wal_size)` per profile, bytes.
pub fn wal_sizes(profile: Profile) -> (u64, u64) {
    match profile {
        Profile::Web | Profile::Mixed => (GB, 4 * GB),
        Profile::Oltp => (2 * GB, 8 * GB),
        Profile::Dw => (4 * GB, 16 * GB),
    }
}

/// PostgreSQL's default `max_wal_size` (1GB): no advice goes below it.
pub const DEFAULT_MAX_WAL_SIZE: u64 = GB;

/// The `checkpoint_completion_target` pgsage recommends (PostgreSQL's default from 14).
pub const CHECKPOINT_COMPLETION_TARGET: f64 = 0.9;

/// Headroom over the average WAL rate for peaks.
pub const PEAK_HEADROOM: f64 = 1.5;

/// The largest `max_wal_size` recommended from a WAL rate: beyond it, `pg_wal`'s disk space
/// and crash recovery time matter more, and a shorter `checkpoint_timeout` is the better fix.
pub const MAX_WAL_SIZE_CAP: u64 = 64 * GB;

/// The `max_wal_size` at which `rate` bytes of WAL per second trigger checkpoints by
/// `checkpoint_timeout` (`timeout_s` seconds) rather than by WAL volume, rounded up to a GB
/// and capped at [`MAX_WAL_SIZE_CAP`].
///
/// PostgreSQL requests a checkpoint once `max_wal_size / (1 + checkpoint_completion_target)`
/// of WAL has been written since the last one (`CalculateCheckpointSegments`), so the
/// WAL of one `checkpoint_timeout` is multiplied by `1 + 0.9` and by
/// [`PEAK_HEADROOM`].
pub fn max_wal_size_for_rate(rate: f64, timeout_s: f64) -> u64 {
    let needed = (rate * timeout_s * (1.0 + CHECKPOINT_COMPLETION_TARGET) * PEAK_HEADROOM).ceil();
    ((needed as u64).div_ceil(GB) * GB).min(MAX_WAL_SIZE_CAP)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_wal_size_from_the_rate() {
        // 10MB/s for 300 s = 3000MB; × 1.9 × 1.5 = 8550MB → 9GB.
        assert_eq!(max_wal_size_for_rate(10.0 * 1024.0 * 1024.0, 300.0), 9 * GB);
        // 6GB/min for 5 min = 30GB; × 2.85 = 85.5GB → capped at 64GB.
        assert_eq!(
            max_wal_size_for_rate(6.0 * GB as f64 / 60.0, 300.0),
            MAX_WAL_SIZE_CAP
        );
        assert_eq!(max_wal_size_for_rate(0.0, 300.0), 0);
    }
}
