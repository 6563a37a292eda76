//! `pg_stat_statements`, normalized across extension versions 1.8–1.12.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What `pg_stat_statements` held at collection time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statements {
    /// Installed extension version.
    pub extension_version: String,
    /// When the statistics were last reset (`pg_stat_statements_info`, 14+).
    pub stats_reset: Option<DateTime<Utc>>,
    /// Entries evicted because `pg_stat_statements.max` was reached (14+).
    pub dealloc: Option<i64>,
    /// Sums over every entry, not only the `top` ones.
    pub totals: StatementTotals,
    /// The top entries by total execution time.
    pub top: Vec<Statement>,
    /// Sums over every entry per database and role, for the tenants' shares
    /// (`knowledge::tenants`). Empty in snapshots taken before it was collected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub usage: Vec<StatementUsage>,
}

/// Sums over every top-level `pg_stat_statements` entry of one database and role (all
/// entries before extension 1.9, which cannot tell nested statements apart).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatementUsage {
    /// Database (none when dropped since).
    pub database: Option<String>,
    /// Role (hashed when redacted; none when dropped since).
    pub user: Option<String>,
    /// Entries summed.
    pub entries: i64,
    /// Calls.
    pub calls: i64,
    /// Execution time, ms.
    pub total_exec_time_ms: f64,
    /// Planning time, ms (when `pg_stat_statements.track_planning`).
    pub total_plan_time_ms: f64,
    /// Rows returned or affected.
    pub rows: i64,
    /// Shared blocks read (outside shared buffers).
    pub shared_blks_read: i64,
    /// Shared blocks hit.
    pub shared_blks_hit: i64,
    /// Temp blocks written.
    pub temp_blks_written: i64,
    /// WAL bytes generated.
    pub wal_bytes: i64,
}

/// Sums over all entries of `pg_stat_statements`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatementTotals {
    /// Number of entries.
    pub entries: i64,
    /// Calls.
    pub calls: i64,
    /// Execution time, ms.
    pub total_exec_time_ms: f64,
    /// Planning time, ms (when `pg_stat_statements.track_planning`).
    pub total_plan_time_ms: f64,
    /// Rows.
    pub rows: i64,
    /// Shared blocks read.
    pub shared_blks_read: i64,
    /// Shared blocks hit.
    pub shared_blks_hit: i64,
    /// Temp blocks written.
    pub temp_blks_written: i64,
}

/// One `pg_stat_statements` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Statement {
    /// `queryid`.
    pub queryid: i64,
    /// Role (hashed when redacted).
    pub user: Option<String>,
    /// Database.
    pub database: Option<String>,
    /// Top-level statement (14+).
    pub toplevel: Option<bool>,
    /// Normalized text (none when the role may not read it; literals removed when redacted).
    pub query: Option<String>,
    /// Executions.
    pub calls: i64,
    /// Times planned (when `track_planning`).
    pub plans: i64,
    /// Planning time, ms.
    pub total_plan_time_ms: f64,
    /// Execution time, ms.
    pub total_exec_time_ms: f64,
    /// Mean execution time, ms.
    pub mean_exec_time_ms: f64,
    /// Shortest execution, ms.
    pub min_exec_time_ms: f64,
    /// Longest execution, ms.
    pub max_exec_time_ms: f64,
    /// Standard deviation, ms.
    pub stddev_exec_time_ms: f64,
    /// Rows returned or affected.
    pub rows: i64,
    /// Shared blocks hit.
    pub shared_blks_hit: i64,
    /// Shared blocks read.
    pub shared_blks_read: i64,
    /// Shared blocks dirtied.
    pub shared_blks_dirtied: i64,
    /// Shared blocks written.
    pub shared_blks_written: i64,
    /// Local blocks read.
    pub local_blks_read: i64,
    /// Local blocks written.
    pub local_blks_written: i64,
    /// Temp blocks read.
    pub temp_blks_read: i64,
    /// Temp blocks written.
    pub temp_blks_written: i64,
    /// Time reading shared blocks, ms (`blk_read_time` before 17).
    pub shared_blk_read_time_ms: f64,
    /// Time writing shared blocks, ms.
    pub shared_blk_write_time_ms: f64,
    /// WAL bytes generated.
    pub wal_bytes: i64,
    /// JIT time (generation + inlining + optimization + emission), ms (15+).
    pub jit_time_ms: Option<f64>,
}
