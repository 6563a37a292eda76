//! Replication: connected standbys and subscribers, slots, prepared transactions, and on a
//! standby its WAL receiver and replay.

use tokio_postgres::{Error as PgError, Row};

use crate::snapshot::{PreparedXact, ReplicationClient, ReplicationSlot, StandbyStatus};

/// The WAL position lags are measured from: the primary's current insert position, or
/// on a standby (where `pg_current_wal_lsn()` errors) the last replayed position.
fn current_lsn(in_recovery: bool) -> &'static str {
    if in_recovery {
        "pg_last_wal_replay_lsn()"
    } else {
        "pg_current_wal_lsn()"
    }
}

pub(super) fn clients_sql(in_recovery: bool) -> String {
    let lsn = current_lsn(in_recovery);
    format!(
        "\
SELECT r.pid, r.usename::text AS user_name, r.application_name::text AS application_name,
       host(r.client_addr) AS client_addr, r.state::text AS state,
       r.sync_state::text AS sync_state,
       pg_wal_lsn_diff({lsn}, r.replay_lsn)::int8 AS replay_lag_bytes,
       pg_wal_lsn_diff({lsn}, r.flush_lsn)::int8 AS flush_lag_bytes,
       pg_wal_lsn_diff({lsn}, r.write_lsn)::int8 AS write_lag_bytes,
       pg_wal_lsn_diff({lsn}, r.sent_lsn)::int8 AS sent_lag_bytes,
       extract(epoch FROM r.replay_lag)::float8 AS replay_lag_seconds,
       extract(epoch FROM r.flush_lag)::float8 AS flush_lag_seconds,
       extract(epoch FROM r.write_lag)::float8 AS write_lag_seconds,
       extract(epoch FROM clock_timestamp() - r.reply_time)::float8 AS reply_age_seconds,
       age(r.backend_xmin)::int8 AS backend_xmin_age
FROM pg_catalog.pg_stat_replication r
ORDER BY r.pid"
    )
}

pub(super) fn decode_clients(rows: &[Row]) -> Result<Vec<ReplicationClient>, PgError> {
    rows.iter()
        .map(|r| {
            Ok(ReplicationClient {
                pid: r.try_get("pid")?,
                user: r.try_get("user_name")?,
                application_name: r.try_get("application_name")?,
                client_addr: r.try_get("client_addr")?,
                state: r.try_get("state")?,
                sync_state: r.try_get("sync_state")?,
                replay_lag_bytes: r.try_get("replay_lag_bytes")?,
                flush_lag_bytes: r.try_get("flush_lag_bytes")?,
                replay_lag_seconds: r.try_get("replay_lag_seconds")?,
                backend_xmin_age: r.try_get("backend_xmin_age")?,
                sent_lag_bytes: r.try_get("sent_lag_bytes")?,
                write_lag_bytes: r.try_get("write_lag_bytes")?,
                write_lag_seconds: r.try_get("write_lag_seconds")?,
                flush_lag_seconds: r.try_get("flush_lag_seconds")?,
                reply_age_seconds: r.try_get("reply_age_seconds")?,
            })
        })
        .collect()
}

pub(super) fn slots_sql(in_recovery: bool) -> String {
    let lsn = current_lsn(in_recovery);
    format!(
        "\
SELECT s.slot_name::text AS slot_name, s.slot_type::text AS slot_type,
       s.plugin::text AS plugin, s.database::text AS database, s.active, s.temporary,
       age(s.xmin)::int8 AS xmin_age, age(s.catalog_xmin)::int8 AS catalog_xmin_age,
       pg_wal_lsn_diff({lsn}, s.restart_lsn)::int8 AS retained_wal_bytes,
       s.wal_status::text AS wal_status
FROM pg_catalog.pg_replication_slots s
ORDER BY s.slot_name"
    )
}

pub(super) fn decode_slots(rows: &[Row]) -> Result<Vec<ReplicationSlot>, PgError> {
    rows.iter()
        .map(|r| {
            Ok(ReplicationSlot {
                slot_name: r.try_get("slot_name")?,
                slot_type: r.try_get("slot_type")?,
                plugin: r.try_get("plugin")?,
                database: r.try_get("database")?,
                active: r.try_get("active")?,
                temporary: r.try_get("temporary")?,
                xmin_age: r.try_get("xmin_age")?,
                catalog_xmin_age: r.try_get("catalog_xmin_age")?,
                retained_wal_bytes: r.try_get("retained_wal_bytes")?,
                wal_status: r.try_get("wal_status")?,
            })
        })
        .collect()
}

pub(super) const PREPARED_SQL: &str = "\
SELECT p.gid::text AS gid, p.prepared, p.owner::text AS owner, p.database::text AS database,
       age(p.transaction)::int8 AS xid_age
FROM pg_catalog.pg_prepared_xacts p
ORDER BY p.prepared";

pub(super) fn decode_prepared(rows: &[Row]) -> Result<Vec<PreparedXact>, PgError> {
    rows.iter()
        .map(|r| {
            Ok(PreparedXact {
                gid: r.try_get("gid")?,
                prepared: r.try_get("prepared")?,
                owner: r.try_get("owner")?,
                database: r.try_get("database")?,
                xid_age: r.try_get("xid_age")?,
            })
        })
        .collect()
}

/// On a standby only (the replay functions error on a primary). One row; the receiver's
/// columns are `NULL` when no receiver runs, its details (`status`, …) also when the role
/// lacks `pg_read_all_stats` (the pid stays visible).
pub(super) fn standby_sql(major: i32) -> String {
    let paused = if major >= 14 {
        "pg_get_wal_replay_pause_state() <> 'not paused'"
    } else {
        "pg_is_wal_replay_paused()"
    };
    format!(
        "\
SELECT w.pid AS receiver_pid, w.status::text AS receiver_status, w.slot_name::text AS slot_name,
       pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::int8 AS replay_backlog_bytes,
       {paused} AS replay_paused,
       extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8 AS last_replay_age_seconds,
       extract(epoch FROM clock_timestamp() - w.last_msg_receipt_time)::float8 AS last_msg_age_seconds
FROM (SELECT 1) AS one
LEFT JOIN pg_catalog.pg_stat_wal_receiver w ON w.pid IS NOT NULL"
    )
}

pub(super) fn decode_standby(rows: &[Row]) -> Result<Option<StandbyStatus>, PgError> {
    rows.first()
        .map(|r| {
            Ok(StandbyStatus {
                receiver_pid: r.try_get("receiver_pid")?,
                receiver_status: r.try_get("receiver_status")?,
                slot_name: r.try_get("slot_name")?,
                replay_backlog_bytes: r.try_get("replay_backlog_bytes")?,
                replay_paused: r.try_get("replay_paused")?,
                last_replay_age_seconds: r.try_get("last_replay_age_seconds")?,
                last_msg_age_seconds: r.try_get("last_msg_age_seconds")?,
            })
        })
        .transpose()
}
