//! Indexes of the connected database: definition, backing constraint and statistics,
//! in one query whatever their number.

use tokio_postgres::{Error as PgError, Row};

use super::locks::{EXCLUSIVE, LOCKED_CTE};
use super::tables::USER_SCHEMAS;
use crate::snapshot::Index;

/// Per index, one lateral pass over its columns (`0 .. indnatts-1`): the first
/// `indnkeyatts` are key columns (a plain column's name as in the catalog, or the
/// expression's text from `pg_get_indexdef(oid, k, true)`), the rest `INCLUDE` columns.
/// Only key columns have operator classes. A constraint is matched through
/// `conindid` for primary key, unique and exclusion constraints (a foreign key's
/// `conindid` points at the *referenced* table's index, so it is excluded).
/// Indexes whose table or self another session locks exclusively are left out: their
/// definitions cannot be read without queueing for the lock (see [`super::locks`]).
/// The statistics are read with the functions `pg_stat_all_indexes` and
/// `pg_statio_all_indexes` are made of, for these indexes only: joining the views computed
/// them for every index of the database, catalogs included (a third of the section's
/// time on 6,000 indexes).
pub(super) fn sql(major: i32) -> String {
    let last_idx_scan = if major >= 16 {
        "pg_stat_get_lastscan(i.indexrelid) AS last_idx_scan"
    } else {
        "NULL::timestamptz AS last_idx_scan"
    };
    format!(
        "\
{LOCKED_CTE}
SELECT i.indexrelid AS oid, i.indrelid AS table_oid, n.nspname::text AS schema,
       t.relname::text AS table_name, c.relname::text AS name,
       pg_get_indexdef(i.indexrelid) AS definition, am.amname::text AS access_method,
       coalesce(cols.key_columns, '{{}}') AS key_columns,
       coalesce(cols.key_attnums, '{{}}') AS key_attnums,
       coalesce(cols.include_columns, '{{}}') AS include_columns,
       coalesce(cols.opclasses, '{{}}') AS opclasses,
       pg_get_expr(i.indpred, i.indrelid, true) AS predicate,
       i.indisunique, i.indisprimary, i.indisexclusion, i.indisvalid,
       i.indisready, i.indislive, c.reltuples::float8 AS reltuples, c.relpages::int8 AS relpages,
       coalesce(c.reloptions, '{{}}')::text[] AS reloptions,
       con.conname::text AS constraint_name, con.contype::text AS constraint_type,
       coalesce(pg_relation_size(i.indexrelid), 0) AS size_bytes,
       pg_stat_get_numscans(i.indexrelid) AS idx_scan,
       pg_stat_get_tuples_returned(i.indexrelid) AS idx_tup_read,
       pg_stat_get_tuples_fetched(i.indexrelid) AS idx_tup_fetch,
       pg_stat_get_blocks_fetched(i.indexrelid) - pg_stat_get_blocks_hit(i.indexrelid)
         AS idx_blks_read,
       pg_stat_get_blocks_hit(i.indexrelid) AS idx_blks_hit,
       {last_idx_scan}
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
JOIN pg_catalog.pg_class t ON t.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
JOIN pg_catalog.pg_am am ON am.oid = c.relam
CROSS JOIN LATERAL (
  SELECT array_agg(CASE WHEN i.indkey[k] = 0 THEN pg_get_indexdef(i.indexrelid, k + 1, true)
                        ELSE a.attname::text END ORDER BY k)
           FILTER (WHERE k < i.indnkeyatts) AS key_columns,
         array_agg(i.indkey[k] ORDER BY k) FILTER (WHERE k < i.indnkeyatts) AS key_attnums,
         array_agg(a.attname::text ORDER BY k) FILTER (WHERE k >= i.indnkeyatts) AS include_columns,
         array_agg(opc.opcname::text ORDER BY k) FILTER (WHERE k < i.indnkeyatts) AS opclasses
  FROM generate_series(0, i.indnatts - 1) AS k
  LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[k]
  LEFT JOIN pg_catalog.pg_opclass opc ON opc.oid = i.indclass[k]
) cols
LEFT JOIN pg_catalog.pg_constraint con
       ON con.conindid = i.indexrelid AND con.conrelid = i.indrelid
      AND con.contype IN ('p', 'u', 'x')
WHERE t.relkind IN ('r', 'p', 'm') AND {USER_SCHEMAS}
  AND NOT EXISTS (SELECT 1 FROM locked
                  WHERE {EXCLUSIVE} AND locked.relation IN (i.indexrelid, i.indrelid))
ORDER BY n.nspname, t.relname, c.relname"
    )
}

pub(super) fn decode(rows: &[Row]) -> Result<Vec<Index>, PgError> {
    rows.iter()
        .map(|r| {
            Ok(Index {
                oid: r.try_get("oid")?,
                table_oid: r.try_get("table_oid")?,
                schema: r.try_get("schema")?,
                table: r.try_get("table_name")?,
                name: r.try_get("name")?,
                definition: r.try_get("definition")?,
                access_method: r.try_get("access_method")?,
                key_columns: r.try_get("key_columns")?,
                key_attnums: r.try_get("key_attnums")?,
                include_columns: r.try_get("include_columns")?,
                opclasses: r.try_get("opclasses")?,
                predicate: r.try_get("predicate")?,
                is_unique: r.try_get("indisunique")?,
                is_primary: r.try_get("indisprimary")?,
                is_exclusion: r.try_get("indisexclusion")?,
                is_valid: r.try_get("indisvalid")?,
                is_ready: r.try_get("indisready")?,
                is_live: r.try_get("indislive")?,
                reltuples: r.try_get("reltuples")?,
                relpages: r.try_get("relpages")?,
                reloptions: r.try_get("reloptions")?,
                constraint_name: r.try_get("constraint_name")?,
                constraint_type: r.try_get("constraint_type")?,
                size_bytes: r.try_get("size_bytes")?,
                idx_scan: r.try_get("idx_scan")?,
                idx_tup_read: r.try_get("idx_tup_read")?,
                idx_tup_fetch: r.try_get("idx_tup_fetch")?,
                idx_blks_read: r.try_get("idx_blks_read")?,
                idx_blks_hit: r.try_get("idx_blks_hit")?,
                last_idx_scan: r.try_get("last_idx_scan")?,
            })
        })
        .collect()
}
