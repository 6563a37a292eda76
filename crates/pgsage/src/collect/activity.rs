//! `pg_stat_activity` and lock waits.

use tokio_postgres::{Error as PgError, Row};

use crate::snapshot::{Backend, LockWait, VacuumProgress};

/// All backends. The query text is selected only when asked for, truncated on the
/// server so long texts never cross the wire; the placeholder a role without
/// `pg_read_all_stats` sees for other roles' sessions becomes NULL. An autovacuum
/// worker's text (`autovacuum: VACUUM public.t`) is always kept: it names the table the
/// worker is on and holds no user data.
pub(super) fn sql(major: i32, query_text_max: Option<usize>) -> String {
    let query_id = if major >= 14 {
        "a.query_id"
    } else {
        "NULL::int8 AS query_id"
    };
    let query = match query_text_max {
        Some(max) => format!(
            "CASE WHEN a.query = '<insufficient privilege>' THEN NULL \
             ELSE left(a.query, {max}) END AS query"
        ),
        None => "CASE WHEN a.backend_type = 'autovacuum worker' AND a.query LIKE 'autovacuum:%' \
                 THEN left(a.query, 300) END AS query"
            .to_owned(),
    };
    format!(
        "\
SELECT a.pid, a.backend_type::text AS backend_type, a.datname::text AS database,
       a.usename::text AS user_name, a.application_name::text AS application_name,
       host(a.client_addr) AS client_addr, a.state::text AS state,
       a.wait_event_type::text AS wait_event_type, a.wait_event::text AS wait_event,
       a.backend_start, a.xact_start, a.query_start, a.state_change,
       age(a.backend_xid)::int8 AS backend_xid_age,
       age(a.backend_xmin)::int8 AS backend_xmin_age,
       {query_id}, a.leader_pid, {query}
FROM pg_catalog.pg_stat_activity a
ORDER BY a.pid"
    )
}

pub(super) fn decode(rows: &[Row]) -> Result<Vec<Backend>, PgError> {
    rows.iter()
        .map(|r| {
            Ok(Backend {
                pid: r.try_get("pid")?,
                backend_type: r
                    .try_get::<_, Option<String>>("backend_type")?
                    .unwrap_or_default(),
                database: r.try_get("database")?,
                user: r.try_get("user_name")?,
                application_name: r.try_get("application_name")?,
                client_addr: r.try_get("client_addr")?,
                state: r.try_get("state")?,
                wait_event_type: r.try_get("wait_event_type")?,
                wait_event: r.try_get("wait_event")?,
                backend_start: r.try_get("backend_start")?,
                xact_start: r.try_get("xact_start")?,
                query_start: r.try_get("query_start")?,
                state_change: r.try_get("state_change")?,
                backend_xid_age: r.try_get("backend_xid_age")?,
                backend_xmin_age: r.try_get("backend_xmin_age")?,
                query_id: r.try_get("query_id")?,
                leader_pid: r.try_get("leader_pid")?,
                query: r.try_get("query")?,
            })
        })
        .collect()
}

/// Waiters and whom they wait for. Starting from ungranted `pg_locks` rows (a backend
/// waits for at most one lock) calls `pg_blocking_pids` only for backends that are
/// actually waiting, and sees waiters of every role (`pg_locks` is not filtered by
/// privilege, unlike `pg_stat_activity.wait_event`). Relations of the connected
/// database are named `schema.name`; others keep their oid.
pub(super) const LOCK_WAITS_SQL: &str = "\
SELECT l.pid AS blocked_pid, b.pid AS blocking_pid, l.locktype::text AS locktype,
       l.mode::text AS mode,
       CASE WHEN l.relation IS NOT NULL THEN
         coalesce((SELECT format('%I.%I', n.nspname, c.relname)
                   FROM pg_catalog.pg_class c
                   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                   WHERE c.oid = l.relation
                     AND l.database = (SELECT oid FROM pg_catalog.pg_database
                                       WHERE datname = current_database())),
                  l.relation::text)
       END AS relation
FROM pg_catalog.pg_locks l
CROSS JOIN LATERAL unnest(pg_blocking_pids(l.pid)) AS b(pid)
WHERE NOT l.granted AND l.pid IS NOT NULL
ORDER BY 1, 2";

pub(super) fn decode_lock_waits(rows: &[Row]) -> Result<Vec<LockWait>, PgError> {
    rows.iter()
        .map(|r| {
            Ok(LockWait {
                blocked_pid: r.try_get("blocked_pid")?,
                blocking_pid: r.try_get("blocking_pid")?,
                locktype: r.try_get("locktype")?,
                mode: r.try_get("mode")?,
                relation: r.try_get("relation")?,
            })
        })
        .collect()
}

/// Running VACUUMs. The table's name is resolved only in the connected database (an oid
/// from another database would name an unrelated table here). 17 reports dead row id
/// memory in bytes, earlier releases in tuples.
pub(super) fn vacuum_progress_sql(major: i32) -> String {
    let (capacity, used, unit) = if major >= 17 {
        ("p.max_dead_tuple_bytes", "p.dead_tuple_bytes", "bytes")
    } else {
        ("p.max_dead_tuples", "p.num_dead_tuples", "tuples")
    };
    format!(
        "\
SELECT p.pid, p.datname::text AS database, p.relid AS table_oid,
       CASE WHEN p.datname = current_database() THEN
         (SELECT n.nspname::text || '.' || c.relname::text FROM pg_catalog.pg_class c
          JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = p.relid)
       END AS table_name,
       p.phase::text AS phase, p.heap_blks_total, p.heap_blks_scanned, p.heap_blks_vacuumed,
       p.index_vacuum_count, {capacity}::int8 AS dead_ids_capacity,
       {used}::int8 AS dead_ids_used, '{unit}'::text AS dead_ids_unit
FROM pg_catalog.pg_stat_progress_vacuum p
ORDER BY p.pid"
    )
}

pub(super) fn decode_vacuum_progress(rows: &[Row]) -> Result<Vec<VacuumProgress>, PgError> {
    rows.iter()
        .map(|r| {
            Ok(VacuumProgress {
                pid: r.try_get("pid")?,
                database: r.try_get("database")?,
                table_oid: r.try_get("table_oid")?,
                table: r.try_get("table_name")?,
                phase: r.try_get("phase")?,
                heap_blks_total: r.try_get("heap_blks_total")?,
                heap_blks_scanned: r.try_get("heap_blks_scanned")?,
                heap_blks_vacuumed: r.try_get("heap_blks_vacuumed")?,
                index_vacuum_count: r.try_get("index_vacuum_count")?,
                dead_ids_capacity: r.try_get("dead_ids_capacity")?,
                dead_ids_used: r.try_get("dead_ids_used")?,
                dead_ids_unit: r.try_get("dead_ids_unit")?,
            })
        })
        .collect()
}
