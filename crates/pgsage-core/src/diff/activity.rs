//! What the server did in between: per database (`pg_stat_database`) transactions, rows
//! written, temporary files and deadlocks; server-wide the WAL written and checkpoints.
//!
//! Every figure is a difference of cumulative counters; where a reset came in between
//! ([`super::resets`]) the figure is left out and the reset is said, never a negative
//! number or rate.

use serde::{Deserialize, Serialize};

use super::resets::{database_reset, CounterReset, ResetScope};
use crate::snapshot::Snapshot;

/// One database's activity between the snapshots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseActivity {
    /// The database.
    pub database: String,
    /// Its statistics were reset in between: the figures are absent.
    pub reset: bool,
    /// Transactions committed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commits: Option<i64>,
    /// Transactions rolled back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollbacks: Option<i64>,
    /// Rows inserted, updated and deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows_written: Option<i64>,
    /// Bytes written to temporary files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp_bytes: Option<i64>,
    /// Deadlocks detected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadlocks: Option<i64>,
}

/// The server's activity between the snapshots.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerActivity {
    /// WAL written (the difference of the WAL positions, which no reset moves).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wal_bytes: Option<i64>,
    /// Checkpoints started by `checkpoint_timeout` (absent after a reset).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoints_timed: Option<i64>,
    /// Checkpoints requested (WAL reached `max_wal_size`, or explicit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoints_requested: Option<i64>,
    /// Per database, busiest first; databases without a committed transaction left out.
    pub databases: Vec<DatabaseActivity>,
}

/// The activity from `old` to `new`.
pub fn between(old: &Snapshot, new: &Snapshot, resets: &[CounterReset]) -> ServerActivity {
    let checkpointer_reset = resets.iter().any(|r| r.scope == ResetScope::Checkpointer);
    let (timed, requested) = match (&old.checkpointer, &new.checkpointer) {
        (Some(o), Some(n)) if !checkpointer_reset => (
            Some(n.checkpoints_timed - o.checkpoints_timed),
            Some(n.checkpoints_req - o.checkpoints_req),
        ),
        _ => (None, None),
    };
    let mut databases: Vec<DatabaseActivity> = new
        .databases
        .iter()
        .filter(|n| n.allow_connections && !n.is_template)
        .filter_map(|n| {
            let o = old
                .databases
                .iter()
                .find(|o| o.name == n.name && o.oid == n.oid)?;
            if database_reset(resets, &n.name) {
                return Some(DatabaseActivity {
                    database: n.name.clone(),
                    reset: true,
                    commits: None,
                    rollbacks: None,
                    rows_written: None,
                    temp_bytes: None,
                    deadlocks: None,
                });
            }
            let commits = n.xact_commit - o.xact_commit;
            (commits > 0).then(|| DatabaseActivity {
                database: n.name.clone(),
                reset: false,
                commits: Some(commits),
                rollbacks: Some(n.xact_rollback - o.xact_rollback),
                rows_written: Some(
                    (n.tup_inserted + n.tup_updated + n.tup_deleted)
                        - (o.tup_inserted + o.tup_updated + o.tup_deleted),
                ),
                temp_bytes: Some(n.temp_bytes - o.temp_bytes),
                deadlocks: Some(n.deadlocks - o.deadlocks),
            })
        })
        .collect();
    databases.sort_by(|a, b| {
        b.commits
            .unwrap_or(-1)
            .cmp(&a.commits.unwrap_or(-1))
            .then_with(|| a.database.cmp(&b.database))
    });
    ServerActivity {
        wal_bytes: old
            .wal_lsn_bytes
            .zip(new.wal_lsn_bytes)
            .map(|(o, n)| n - o)
            .filter(|b| *b >= 0),
        checkpoints_timed: timed.filter(|c| *c >= 0),
        checkpoints_requested: requested.filter(|c| *c >= 0),
        databases,
    }
}
