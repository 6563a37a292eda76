//! `pg_stat_wal` (14+), the WAL position and `pg_stat_archiver`.

use tokio_postgres::{Error as PgError, Row};

use crate::snapshot::{ArchiverStats, WalStats};

/// Only columns every version from 14 to 18 has (18 dropped `wal_write`, `wal_sync`
/// and their timings, which moved to `pg_stat_io`). `wal_bytes` is `numeric`.
pub(super) const WAL_SQL: &str = "\
SELECT wal_records, wal_fpi, wal_bytes::int8 AS wal_bytes, wal_buffers_full, stats_reset
FROM pg_catalog.pg_stat_wal";

pub(super) fn decode_wal(rows: &[Row]) -> Result<Option<WalStats>, PgError> {
    rows.first()
        .map(|r| {
            Ok(WalStats {
                wal_records: r.try_get("wal_records")?,
                wal_fpi: r.try_get("wal_fpi")?,
                wal_bytes: r.try_get("wal_bytes")?,
                wal_buffers_full: r.try_get("wal_buffers_full")?,
                stats_reset: r.try_get("stats_reset")?,
            })
        })
        .transpose()
}

/// The WAL position in bytes since `0/0`, on every version: the insert position on a
/// primary (`pg_current_wal_lsn()`, no privilege needed, errors during recovery), the
/// replay position on a standby (`NULL` until something is replayed). Two of them, a
/// window apart, give the WAL rate where `pg_stat_wal` is missing (13) or was reset.
pub(super) fn lsn_sql(in_recovery: bool) -> String {
    let lsn = if in_recovery {
        "pg_last_wal_replay_lsn()"
    } else {
        "pg_current_wal_lsn()"
    };
    format!("SELECT pg_wal_lsn_diff({lsn}, '0/0')::int8 AS lsn_bytes")
}

pub(super) fn decode_lsn(rows: &[Row]) -> Result<Option<i64>, PgError> {
    Ok(rows
        .first()
        .map(|r| r.try_get::<_, Option<i64>>("lsn_bytes"))
        .transpose()?
        .flatten())
}

pub(super) const ARCHIVER_SQL: &str = "\
SELECT archived_count, last_archived_time, failed_count, last_failed_wal::text AS last_failed_wal,
       last_failed_time, stats_reset
FROM pg_catalog.pg_stat_archiver";

pub(super) fn decode_archiver(rows: &[Row]) -> Result<Option<ArchiverStats>, PgError> {
    rows.first()
        .map(|r| {
            Ok(ArchiverStats {
                archived_count: r.try_get("archived_count")?,
                last_archived_time: r.try_get("last_archived_time")?,
                failed_count: r.try_get("failed_count")?,
                last_failed_wal: r.try_get("last_failed_wal")?,
                last_failed_time: r.try_get("last_failed_time")?,
                stats_reset: r.try_get("stats_reset")?,
            })
        })
        .transpose()
}
