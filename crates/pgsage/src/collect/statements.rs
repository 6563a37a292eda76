//! `pg_stat_statements`, normalized across extension versions 1.8 to 1.12.
//!
//! Columns follow the *extension* version, not the server's (an upgraded cluster may
//! keep an old extension version until `ALTER EXTENSION … UPDATE`):
//!
//! | version | PostgreSQL | change used here |
//! |---------|-----------|------------------|
//! | 1.8     | 13        | `total_exec_time`, `total_plan_time`, `wal_bytes` (older versions: a gap) |
//! | 1.9     | 14        | `toplevel`; `pg_stat_statements_info` (`dealloc`, `stats_reset`) |
//! | 1.10    | 15        | `jit_*` timings |
//! | 1.11    | 17        | `blk_read_time` → `shared_blk_read_time` (and `local_blk_*`) |
//! | 1.12    | 18        | more columns (`wal_buffers_full`, parallel workers), none renamed |

use tokio_postgres::{Error as PgError, Row};

use super::extensions::quoted;
use crate::snapshot::{Statement, StatementTotals, StatementUsage, Statements};

/// Where and which version of `pg_stat_statements` is installed.
pub(super) struct Pgss {
    pub(super) schema: String,
    pub(super) version: (u32, u32),
    pub(super) version_text: String,
}

/// The oldest supported extension version.
pub(super) const MIN_VERSION: (u32, u32) = (1, 8);

/// The top `top_n` entries by total execution time, with totals over *all* entries
/// as window aggregates (computed before `LIMIT`). Entries of other roles keep their
/// numbers but not their text or queryid when the role lacks `pg_read_all_stats`.
pub(super) fn sql(pgss: &Pgss, top_n: usize) -> String {
    let v = pgss.version;
    let toplevel = if v >= (1, 9) {
        "s.toplevel"
    } else {
        "NULL::bool AS toplevel"
    };
    let (read_time, write_time) = if v >= (1, 11) {
        ("s.shared_blk_read_time", "s.shared_blk_write_time")
    } else {
        ("s.blk_read_time", "s.blk_write_time")
    };
    let jit = if v >= (1, 10) {
        "(s.jit_generation_time + s.jit_inlining_time + s.jit_optimization_time
         + s.jit_emission_time)::float8 AS jit_time"
    } else {
        "NULL::float8 AS jit_time"
    };
    let view = quoted(&pgss.schema, "pg_stat_statements");
    format!(
        "\
SELECT coalesce(s.queryid, 0)::int8 AS queryid, pg_get_userbyid(s.userid)::text AS user_name,
       d.datname::text AS database, {toplevel},
       CASE WHEN s.query = '<insufficient privilege>' THEN NULL ELSE s.query END AS query,
       s.calls, s.plans, s.total_plan_time, s.total_exec_time, s.mean_exec_time,
       s.min_exec_time, s.max_exec_time, s.stddev_exec_time, s.rows,
       s.shared_blks_hit, s.shared_blks_read, s.shared_blks_dirtied, s.shared_blks_written,
       s.local_blks_read, s.local_blks_written, s.temp_blks_read, s.temp_blks_written,
       {read_time}::float8 AS shared_blk_read_time, {write_time}::float8 AS shared_blk_write_time,
       s.wal_bytes::int8 AS wal_bytes, {jit},
       count(*) OVER () AS t_entries,
       (sum(s.calls) OVER ())::int8 AS t_calls,
       (sum(s.total_exec_time) OVER ())::float8 AS t_exec_time,
       (sum(s.total_plan_time) OVER ())::float8 AS t_plan_time,
       (sum(s.rows) OVER ())::int8 AS t_rows,
       (sum(s.shared_blks_read) OVER ())::int8 AS t_shared_blks_read,
       (sum(s.shared_blks_hit) OVER ())::int8 AS t_shared_blks_hit,
       (sum(s.temp_blks_written) OVER ())::int8 AS t_temp_blks_written
FROM {view} s
LEFT JOIN pg_catalog.pg_database d ON d.oid = s.dbid
ORDER BY s.total_exec_time DESC, s.queryid
LIMIT {top_n}"
    )
}

/// Entries and totals; the caller fills the extension version and the `_info` fields.
pub(super) fn decode(rows: &[Row]) -> Result<(Vec<Statement>, StatementTotals), PgError> {
    let totals = match rows.first() {
        None => StatementTotals::default(),
        Some(r) => StatementTotals {
            entries: r.try_get("t_entries")?,
            calls: r.try_get("t_calls")?,
            total_exec_time_ms: r.try_get("t_exec_time")?,
            total_plan_time_ms: r.try_get("t_plan_time")?,
            rows: r.try_get("t_rows")?,
            shared_blks_read: r.try_get("t_shared_blks_read")?,
            shared_blks_hit: r.try_get("t_shared_blks_hit")?,
            temp_blks_written: r.try_get("t_temp_blks_written")?,
        },
    };
    let top = rows
        .iter()
        .map(|r| {
            Ok(Statement {
                queryid: r.try_get("queryid")?,
                user: r.try_get("user_name")?,
                database: r.try_get("database")?,
                toplevel: r.try_get("toplevel")?,
                query: r.try_get("query")?,
                calls: r.try_get("calls")?,
                plans: r.try_get("plans")?,
                total_plan_time_ms: r.try_get("total_plan_time")?,
                total_exec_time_ms: r.try_get("total_exec_time")?,
                mean_exec_time_ms: r.try_get("mean_exec_time")?,
                min_exec_time_ms: r.try_get("min_exec_time")?,
                max_exec_time_ms: r.try_get("max_exec_time")?,
                stddev_exec_time_ms: r.try_get("stddev_exec_time")?,
                rows: r.try_get("rows")?,
                shared_blks_hit: r.try_get("shared_blks_hit")?,
                shared_blks_read: r.try_get("shared_blks_read")?,
                shared_blks_dirtied: r.try_get("shared_blks_dirtied")?,
                shared_blks_written: r.try_get("shared_blks_written")?,
                local_blks_read: r.try_get("local_blks_read")?,
                local_blks_written: r.try_get("local_blks_written")?,
                temp_blks_read: r.try_get("temp_blks_read")?,
                temp_blks_written: r.try_get("temp_blks_written")?,
                shared_blk_read_time_ms: r.try_get("shared_blk_read_time")?,
                shared_blk_write_time_ms: r.try_get("shared_blk_write_time")?,
                wal_bytes: r.try_get("wal_bytes")?,
                jit_time_ms: r.try_get("jit_time")?,
            })
        })
        .collect::<Result<Vec<_>, PgError>>()?;
    Ok((top, totals))
}

/// Sums over *every* entry per database and role (the top entries alone would hide a
/// tenant whose load is many cheap statements). Only top-level statements from 1.9 on:
/// with `pg_stat_statements.track = all` a function's or `DO` block's inner statements
/// would count their time twice.
pub(super) fn usage_sql(pgss: &Pgss) -> String {
    let toplevel = if pgss.version >= (1, 9) {
        "WHERE s.toplevel"
    } else {
        ""
    };
    // The function with `showtext => false`: the sums need no query text, and reading the
    // text file again (it can hold hundreds of MB) would double the section's cost.
    let function = quoted(&pgss.schema, "pg_stat_statements");
    format!(
        "\
SELECT d.datname::text AS database, pg_get_userbyid(s.userid)::text AS user_name,
       count(*)::int8 AS entries, sum(s.calls)::int8 AS calls,
       sum(s.total_exec_time)::float8 AS exec_time, sum(s.total_plan_time)::float8 AS plan_time,
       sum(s.rows)::int8 AS rows, sum(s.shared_blks_read)::int8 AS shared_blks_read,
       sum(s.shared_blks_hit)::int8 AS shared_blks_hit,
       sum(s.temp_blks_written)::int8 AS temp_blks_written,
       coalesce(sum(s.wal_bytes), 0)::int8 AS wal_bytes
FROM {function}(false) s
LEFT JOIN pg_catalog.pg_database d ON d.oid = s.dbid
{toplevel}
GROUP BY 1, 2
ORDER BY 1, 2"
    )
}

pub(super) fn decode_usage(rows: &[Row]) -> Result<Vec<StatementUsage>, PgError> {
    rows.iter()
        .map(|r| {
            Ok(StatementUsage {
                database: r.try_get("database")?,
                user: r.try_get("user_name")?,
                entries: r.try_get("entries")?,
                calls: r.try_get("calls")?,
                total_exec_time_ms: r.try_get("exec_time")?,
                total_plan_time_ms: r.try_get("plan_time")?,
                rows: r.try_get("rows")?,
                shared_blks_read: r.try_get("shared_blks_read")?,
                shared_blks_hit: r.try_get("shared_blks_hit")?,
                temp_blks_written: r.try_get("temp_blks_written")?,
                wal_bytes: r.try_get("wal_bytes")?,
            })
        })
        .collect()
}

/// `pg_stat_statements_info` (extension 1.9+, PostgreSQL 14+).
pub(super) fn info_sql(pgss: &Pgss) -> String {
    format!(
        "SELECT dealloc, stats_reset FROM {}",
        quoted(&pgss.schema, "pg_stat_statements_info")
    )
}

/// `(dealloc, stats_reset)`.
pub(super) type Info = (Option<i64>, Option<chrono::DateTime<chrono::Utc>>);

pub(super) fn decode_info(rows: &[Row]) -> Result<Info, PgError> {
    match rows.first() {
        None => Ok((None, None)),
        Some(r) => Ok((r.try_get("dealloc")?, r.try_get("stats_reset")?)),
    }
}

/// Assembles the section.
pub(super) fn assemble(
    pgss: &Pgss,
    (top, totals): (Vec<Statement>, StatementTotals),
    info: Option<Info>,
    usage: Option<Vec<StatementUsage>>,
) -> Statements {
    let (dealloc, stats_reset) = info.unwrap_or((None, None));
    Statements {
        extension_version: pgss.version_text.clone(),
        stats_reset,
        dealloc,
        totals,
        top,
        usage: usage.unwrap_or_default(),
    }
}
