//! Every database: `pg_database` joined with `pg_stat_database`.

use tokio_postgres::{Error as PgError, Row};

use crate::snapshot::DatabaseStats;

/// Sizes need `CONNECT` on the database or `pg_read_all_stats`; checked per row, so a
/// database the role may not enter gives `size_bytes: None` instead of failing the
/// section. `datconnlimit = -2` marks a database left invalid by an interrupted
/// `DROP DATABASE` (15+), whose files may be gone.
pub(super) fn sql(major: i32) -> String {
    let sessions = if major >= 14 {
        "s.session_time, s.active_time, s.idle_in_transaction_time, s.sessions,
       s.sessions_abandoned, s.sessions_fatal, s.sessions_killed"
    } else {
        "NULL::float8 AS session_time, NULL::float8 AS active_time,
       NULL::float8 AS idle_in_transaction_time, NULL::int8 AS sessions,
       NULL::int8 AS sessions_abandoned, NULL::int8 AS sessions_fatal,
       NULL::int8 AS sessions_killed"
    };
    format!(
        "\
SELECT d.oid, d.datname::text AS name, d.datallowconn, d.datistemplate, d.datconnlimit,
       CASE WHEN d.datconnlimit <> -2
             AND (has_database_privilege(d.oid, 'CONNECT')
                  OR pg_has_role('pg_read_all_stats', 'USAGE'))
            THEN pg_database_size(d.oid) END AS size_bytes,
       age(d.datfrozenxid)::int8 AS frozenxid_age,
       mxid_age(d.datminmxid)::int8 AS minmxid_age,
       coalesce(s.numbackends, 0) AS numbackends,
       coalesce(s.xact_commit, 0) AS xact_commit,
       coalesce(s.xact_rollback, 0) AS xact_rollback,
       coalesce(s.blks_read, 0) AS blks_read,
       coalesce(s.blks_hit, 0) AS blks_hit,
       coalesce(s.tup_returned, 0) AS tup_returned,
       coalesce(s.tup_fetched, 0) AS tup_fetched,
       coalesce(s.tup_inserted, 0) AS tup_inserted,
       coalesce(s.tup_updated, 0) AS tup_updated,
       coalesce(s.tup_deleted, 0) AS tup_deleted,
       coalesce(s.conflicts, 0) AS conflicts,
       coalesce(s.temp_files, 0) AS temp_files,
       coalesce(s.temp_bytes, 0) AS temp_bytes,
       coalesce(s.deadlocks, 0) AS deadlocks,
       s.checksum_failures,
       coalesce(s.blk_read_time, 0) AS blk_read_time,
       coalesce(s.blk_write_time, 0) AS blk_write_time,
       {sessions},
       s.stats_reset
FROM pg_catalog.pg_database d
LEFT JOIN pg_catalog.pg_stat_database s ON s.datid = d.oid
ORDER BY d.datname"
    )
}

pub(super) fn decode(rows: &[Row]) -> Result<Vec<DatabaseStats>, PgError> {
    rows.iter()
        .map(|r| {
            Ok(DatabaseStats {
                oid: r.try_get("oid")?,
                name: r.try_get("name")?,
                allow_connections: r.try_get("datallowconn")?,
                is_template: r.try_get("datistemplate")?,
                connection_limit: r.try_get("datconnlimit")?,
                size_bytes: r.try_get("size_bytes")?,
                frozenxid_age: r.try_get("frozenxid_age")?,
                minmxid_age: r.try_get("minmxid_age")?,
                numbackends: r.try_get("numbackends")?,
                xact_commit: r.try_get("xact_commit")?,
                xact_rollback: r.try_get("xact_rollback")?,
                blks_read: r.try_get("blks_read")?,
                blks_hit: r.try_get("blks_hit")?,
                tup_returned: r.try_get("tup_returned")?,
                tup_fetched: r.try_get("tup_fetched")?,
                tup_inserted: r.try_get("tup_inserted")?,
                tup_updated: r.try_get("tup_updated")?,
                tup_deleted: r.try_get("tup_deleted")?,
                conflicts: r.try_get("conflicts")?,
                temp_files: r.try_get("temp_files")?,
                temp_bytes: r.try_get("temp_bytes")?,
                deadlocks: r.try_get("deadlocks")?,
                checksum_failures: r.try_get("checksum_failures")?,
                blk_read_time_ms: r.try_get("blk_read_time")?,
                blk_write_time_ms: r.try_get("blk_write_time")?,
                session_time_ms: r.try_get("session_time")?,
                active_time_ms: r.try_get("active_time")?,
                idle_in_transaction_time_ms: r.try_get("idle_in_transaction_time")?,
                sessions: r.try_get("sessions")?,
                sessions_abandoned: r.try_get("sessions_abandoned")?,
                sessions_fatal: r.try_get("sessions_fatal")?,
                sessions_killed: r.try_get("sessions_killed")?,
                stats_reset: r.try_get("stats_reset")?,
            })
        })
        .collect()
}
