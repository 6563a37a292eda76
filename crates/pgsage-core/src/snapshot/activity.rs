//! Sessions, lock waits, prepared transactions and replication.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One row of `pg_stat_activity`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backend {
    /// Process id.
    pub pid: i32,
    /// `client backend`, `autovacuum worker`, `walsender`, …
    pub backend_type: String,
    /// Database name (none for background processes).
    pub database: Option<String>,
    /// Role name (hashed when redacted).
    pub user: Option<String>,
    /// `application_name` (hashed when redacted).
    pub application_name: Option<String>,
    /// Client address (hashed when redacted).
    pub client_addr: Option<String>,
    /// `active`, `idle`, `idle in transaction`, …
    pub state: Option<String>,
    /// Wait event type, e.g. `Lock`, `IO`, `Client`.
    pub wait_event_type: Option<String>,
    /// Wait event.
    pub wait_event: Option<String>,
    /// When the backend started.
    pub backend_start: Option<DateTime<Utc>>,
    /// When the current transaction started.
    pub xact_start: Option<DateTime<Utc>>,
    /// When the current (or last) query started.
    pub query_start: Option<DateTime<Utc>>,
    /// When `state` last changed.
    pub state_change: Option<DateTime<Utc>>,
    /// Age in transactions of the backend's xid.
    pub backend_xid_age: Option<i64>,
    /// Age in transactions of the backend's xmin horizon.
    pub backend_xmin_age: Option<i64>,
    /// `query_id` (14+, when `compute_query_id` is on).
    pub query_id: Option<i64>,
    /// Parallel group leader (13+).
    pub leader_pid: Option<i32>,
    /// Query text, only when collection asked for it; truncated.
    pub query: Option<String>,
}

/// A session waiting for a lock held (or queued before it) by another.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct LockWait {
    /// The waiting session.
    pub blocked_pid: i32,
    /// A session it waits for (`pg_blocking_pids`).
    pub blocking_pid: i32,
    /// Lock type the waiter wants (`relation`, `transactionid`, …).
    pub locktype: Option<String>,
    /// Lock mode the waiter wants.
    pub mode: Option<String>,
    /// Relation involved, when the lock is on a relation (`schema.name`).
    pub relation: Option<String>,
}

/// A prepared (two-phase) transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PreparedXact {
    /// Global identifier.
    pub gid: String,
    /// When it was prepared.
    pub prepared: DateTime<Utc>,
    /// Owner (hashed when redacted).
    pub owner: String,
    /// Database.
    pub database: String,
    /// Age in transactions of its xid.
    pub xid_age: Option<i64>,
}

/// One row of `pg_stat_replication` (a connected standby or logical subscriber).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicationClient {
    /// Walsender pid.
    pub pid: i32,
    /// Role (hashed when redacted).
    pub user: Option<String>,
    /// Standby's application_name (hashed when redacted).
    pub application_name: Option<String>,
    /// Standby's address (hashed when redacted).
    pub client_addr: Option<String>,
    /// `streaming`, `catchup`, …
    pub state: Option<String>,
    /// `async`, `sync`, `quorum`, `potential`.
    pub sync_state: Option<String>,
    /// Bytes between the primary's current WAL position and the standby's replay position.
    pub replay_lag_bytes: Option<i64>,
    /// Bytes not yet flushed by the standby.
    pub flush_lag_bytes: Option<i64>,
    /// `replay_lag` in seconds.
    pub replay_lag_seconds: Option<f64>,
    /// Age of the xmin the standby reports (hot_standby_feedback).
    pub backend_xmin_age: Option<i64>,
    /// Bytes between the current WAL position and what was sent to it (`sent_lsn`).
    #[serde(default)]
    pub sent_lag_bytes: Option<i64>,
    /// Bytes not yet written by the standby (`write_lsn`).
    #[serde(default)]
    pub write_lag_bytes: Option<i64>,
    /// `write_lag` in seconds (`NULL` when idle and caught up).
    #[serde(default)]
    pub write_lag_seconds: Option<f64>,
    /// `flush_lag` in seconds (`NULL` when idle and caught up).
    #[serde(default)]
    pub flush_lag_seconds: Option<f64>,
    /// Seconds since the standby's last reply (`reply_time`).
    #[serde(default)]
    pub reply_age_seconds: Option<f64>,
}

/// The standby's own view of its replication, when collected from a standby
/// (`pg_is_in_recovery()`): `pg_stat_wal_receiver` and the replay functions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StandbyStatus {
    /// Pid of the WAL receiver; `None` when none runs (not streaming).
    pub receiver_pid: Option<i32>,
    /// `pg_stat_wal_receiver.status` (`streaming`, `waiting`, …); `None` when no receiver
    /// runs or the role lacks `pg_read_all_stats`.
    pub receiver_status: Option<String>,
    /// The slot the receiver streams from.
    pub slot_name: Option<String>,
    /// WAL received but not yet replayed: `pg_last_wal_receive_lsn()` −
    /// `pg_last_wal_replay_lsn()`, in bytes.
    pub replay_backlog_bytes: Option<i64>,
    /// Whether replay is paused (`pg_wal_replay_pause()`); 14+ also counts a pause
    /// requested but not yet reached.
    pub replay_paused: Option<bool>,
    /// Seconds since the last replayed transaction committed on the primary
    /// (`now() − pg_last_xact_replay_timestamp()`): grows on an idle primary too.
    pub last_replay_age_seconds: Option<f64>,
    /// Seconds since the receiver last heard from the primary (`last_msg_receipt_time`).
    pub last_msg_age_seconds: Option<f64>,
}

/// One row of `pg_replication_slots`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicationSlot {
    /// Slot name.
    pub slot_name: String,
    /// `physical` or `logical`.
    pub slot_type: String,
    /// Output plugin of a logical slot.
    pub plugin: Option<String>,
    /// Database of a logical slot.
    pub database: Option<String>,
    /// Whether a client is attached.
    pub active: bool,
    /// Temporary slot.
    pub temporary: bool,
    /// Age of the xmin the slot holds back.
    pub xmin_age: Option<i64>,
    /// Age of the catalog xmin the slot holds back.
    pub catalog_xmin_age: Option<i64>,
    /// WAL kept on disk for the slot (current LSN − restart_lsn), in bytes.
    pub retained_wal_bytes: Option<i64>,
    /// `reserved`, `extended`, `unreserved`, `lost`.
    pub wal_status: Option<String>,
}

/// A running VACUUM (manual or autovacuum) from `pg_stat_progress_vacuum`. Without
/// `pg_read_all_stats`, other roles' rows (autovacuum's included) carry only `pid`,
/// `database` and `table_oid`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VacuumProgress {
    /// Backend pid (an `autovacuum worker` in `activity` for autovacuum).
    pub pid: i32,
    /// Database.
    pub database: Option<String>,
    /// The table's oid (in `database`).
    pub table_oid: Option<u32>,
    /// `schema.name` when the table is in the connected database.
    pub table: Option<String>,
    /// Phase (`scanning heap`, `vacuuming indexes`, …).
    pub phase: Option<String>,
    /// Heap blocks of the table.
    pub heap_blks_total: Option<i64>,
    /// Heap blocks scanned so far.
    pub heap_blks_scanned: Option<i64>,
    /// Heap blocks vacuumed so far.
    pub heap_blks_vacuumed: Option<i64>,
    /// Completed index vacuum cycles: more than one means the dead row ids did not fit in
    /// `autovacuum_work_mem` / `maintenance_work_mem` and every index was scanned again.
    pub index_vacuum_count: Option<i64>,
    /// Memory for dead row ids: tuples before 17 (`max_dead_tuples`), bytes from 17
    /// (`max_dead_tuple_bytes`).
    pub dead_ids_capacity: Option<i64>,
    /// Dead row ids collected in the current cycle: tuples before 17 (`num_dead_tuples`),
    /// bytes from 17 (`dead_tuple_bytes`).
    pub dead_ids_used: Option<i64>,
    /// Unit of the two fields above: `tuples` (13–16) or `bytes` (17+).
    pub dead_ids_unit: String,
}
