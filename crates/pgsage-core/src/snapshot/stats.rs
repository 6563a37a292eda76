//! Cumulative statistics: per database, checkpointer/bgwriter, WAL, archiver, I/O.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One database: `pg_stat_database` joined with `pg_database`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseStats {
    /// Database oid.
    pub oid: u32,
    /// Database name.
    pub name: String,
    /// Whether connections are allowed (`false` for template0).
    pub allow_connections: bool,
    /// Whether it is a template.
    pub is_template: bool,
    /// `datconnlimit` (-1: no limit).
    pub connection_limit: i32,
    /// `pg_database_size`, when the role may see it.
    pub size_bytes: Option<i64>,
    /// `age(datfrozenxid)`.
    pub frozenxid_age: i64,
    /// `mxid_age(datminmxid)`.
    pub minmxid_age: i64,
    /// Backends connected now.
    pub numbackends: i32,
    /// Committed transactions.
    pub xact_commit: i64,
    /// Rolled-back transactions.
    pub xact_rollback: i64,
    /// Blocks read from outside shared buffers.
    pub blks_read: i64,
    /// Blocks found in shared buffers.
    pub blks_hit: i64,
    /// Rows returned by scans.
    pub tup_returned: i64,
    /// Rows fetched by index scans.
    pub tup_fetched: i64,
    /// Rows inserted.
    pub tup_inserted: i64,
    /// Rows updated.
    pub tup_updated: i64,
    /// Rows deleted.
    pub tup_deleted: i64,
    /// Queries cancelled by recovery conflicts.
    pub conflicts: i64,
    /// Temporary files written.
    pub temp_files: i64,
    /// Bytes of temporary files written.
    pub temp_bytes: i64,
    /// Deadlocks detected.
    pub deadlocks: i64,
    /// Data checksum failures (when checksums are on).
    pub checksum_failures: Option<i64>,
    /// Time reading blocks, ms (needs `track_io_timing`).
    pub blk_read_time_ms: f64,
    /// Time writing blocks, ms.
    pub blk_write_time_ms: f64,
    /// Time spent in sessions, ms (14+).
    pub session_time_ms: Option<f64>,
    /// Time running statements, ms (14+).
    pub active_time_ms: Option<f64>,
    /// Time idle in transaction, ms (14+).
    pub idle_in_transaction_time_ms: Option<f64>,
    /// Sessions established (14+).
    pub sessions: Option<i64>,
    /// Sessions ended by the client going away (14+).
    pub sessions_abandoned: Option<i64>,
    /// Sessions ended by fatal errors (14+).
    pub sessions_fatal: Option<i64>,
    /// Sessions terminated by an operator (14+).
    pub sessions_killed: Option<i64>,
    /// When these counters were last reset.
    pub stats_reset: Option<DateTime<Utc>>,
}

/// Checkpointer and background writer counters, one shape for every version
/// (`pg_stat_bgwriter` before 17, `pg_stat_checkpointer` + `pg_stat_bgwriter` from 17).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointerStats {
    /// Checkpoints started because `checkpoint_timeout` elapsed.
    pub checkpoints_timed: i64,
    /// Checkpoints requested (WAL volume reached `max_wal_size`, or explicit).
    pub checkpoints_req: i64,
    /// Time writing checkpoint buffers, ms.
    pub checkpoint_write_time_ms: f64,
    /// Time syncing checkpoint files, ms.
    pub checkpoint_sync_time_ms: f64,
    /// Buffers written by checkpoints.
    pub buffers_checkpoint: i64,
    /// Buffers written by the background writer.
    pub buffers_clean: i64,
    /// Times the background writer stopped because it wrote too many buffers.
    pub maxwritten_clean: i64,
    /// Buffers written directly by backends (before 17; in `pg_stat_io` after).
    pub buffers_backend: Option<i64>,
    /// Buffers allocated.
    pub buffers_alloc: i64,
    /// When the checkpointer counters were last reset.
    pub stats_reset: Option<DateTime<Utc>>,
}

/// `pg_stat_wal` (14+).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WalStats {
    /// WAL records generated.
    pub wal_records: i64,
    /// Full-page images generated.
    pub wal_fpi: i64,
    /// WAL bytes generated.
    pub wal_bytes: i64,
    /// Times WAL was written because the WAL buffers were full.
    pub wal_buffers_full: i64,
    /// When these counters were last reset.
    pub stats_reset: Option<DateTime<Utc>>,
}

/// `pg_stat_archiver`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchiverStats {
    /// WAL files archived.
    pub archived_count: i64,
    /// When the last one was archived.
    pub last_archived_time: Option<DateTime<Utc>>,
    /// Failed archive attempts.
    pub failed_count: i64,
    /// Last failed WAL file.
    pub last_failed_wal: Option<String>,
    /// When the last failure happened.
    pub last_failed_time: Option<DateTime<Utc>>,
    /// When these counters were last reset.
    pub stats_reset: Option<DateTime<Utc>>,
}

/// One row of `pg_stat_io` (16+).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IoStats {
    /// Backend type.
    pub backend_type: String,
    /// `relation` or `temp relation` (and `wal` in 18).
    pub object: String,
    /// `normal`, `vacuum`, `bulkread`, `bulkwrite`, …
    pub context: String,
    /// Read operations.
    pub reads: Option<i64>,
    /// Write operations.
    pub writes: Option<i64>,
    /// Relation extensions.
    pub extends: Option<i64>,
    /// Shared buffer hits.
    pub hits: Option<i64>,
    /// Buffers evicted.
    pub evictions: Option<i64>,
    /// fsync calls.
    pub fsyncs: Option<i64>,
    /// Time reading, ms.
    pub read_time_ms: Option<f64>,
    /// Time writing, ms.
    pub write_time_ms: Option<f64>,
}
