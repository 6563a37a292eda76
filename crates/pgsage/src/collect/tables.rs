//! Tables, partitioned tables and materialized views of the connected database, with
//! their statistics, in one query whatever their number.

use tokio_postgres::{Error as PgError, Row};

use std::collections::HashMap;

use super::locks::{EXCLUSIVE, LOCKED_CTE};
use crate::snapshot::{Index, Table};

/// The schemas the object sections skip: catalogs and TOAST.
pub(super) const USER_SCHEMAS: &str = "n.nspname NOT IN ('pg_catalog', 'information_schema') \
AND n.nspname !~ '^pg_toast'";

/// `indexes_bytes` is not read here: opening every index again (`pg_indexes_size`)
/// would double the cost of the largest sections. It is the sum of the indexes' sizes
/// from the index section (see [`fill_index_sizes`]), or an estimate from `relpages`.
///
/// Partitioned tables have no storage and no statistics row (left joins, zeros), and
/// their `relfrozenxid` is 0, whose `age()` would read as 2^31: their ages are 0.
/// `pg_relation_size` and friends return NULL for a relation dropped meanwhile, and are
/// not called for a table that another session locks exclusively (it, its TOAST table or
/// one of its indexes; see [`super::locks`]): then sizes are `relpages` × block size.
pub(super) fn sql(major: i32) -> String {
    let last_scans = if major >= 16 {
        "s.last_seq_scan, s.last_idx_scan"
    } else {
        "NULL::timestamptz AS last_seq_scan, NULL::timestamptz AS last_idx_scan"
    };
    format!(
        "\
{LOCKED_CTE}
SELECT c.oid, n.nspname::text AS schema, c.relname::text AS name, c.relkind::text AS kind,
       c.relpersistence::text AS persistence, c.relispartition AS is_partition,
       EXISTS (SELECT 1 FROM pg_catalog.pg_index i
               WHERE i.indrelid = c.oid AND i.indisprimary) AS has_primary_key,
       c.reltuples::float8 AS reltuples, c.relpages::int8 AS relpages,
       c.relallvisible::int8 AS relallvisible,
       (SELECT inh.inhparent FROM pg_catalog.pg_inherits inh
        WHERE inh.inhrelid = c.oid AND c.relispartition LIMIT 1) AS parent_oid,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
       coalesce((SELECT array_agg(a.attname::text ORDER BY k.ord)
                 FROM pg_catalog.pg_partitioned_table pt
                 CROSS JOIN LATERAL unnest(pt.partattrs::int2[]) WITH ORDINALITY AS k(attnum, ord)
                 LEFT JOIN pg_catalog.pg_attribute a
                        ON a.attrelid = pt.partrelid AND a.attnum = k.attnum AND k.attnum <> 0
                 WHERE pt.partrelid = c.oid), '{{}}')::text[] AS partition_key_columns,
       coalesce(t.reloptions, '{{}}')::text[] AS toast_reloptions,
       lk.locked AS size_estimated,
       CASE WHEN lk.locked THEN c.relpages::int8 * bs.size
            ELSE coalesce(pg_relation_size(c.oid), 0) END AS heap_bytes,
       CASE WHEN c.reltoastrelid = 0 THEN 0
            WHEN lk.locked THEN coalesce(t.relpages, 0)::int8 * bs.size
            ELSE coalesce(pg_total_relation_size(c.reltoastrelid), 0) END AS toast_bytes,
       coalesce((SELECT sum(ic.relpages)::int8 FROM pg_catalog.pg_index i
                 JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
                 WHERE i.indrelid = c.oid), 0) * bs.size AS indexes_bytes_estimate,
       CASE WHEN c.relkind = 'p' THEN 0 ELSE age(c.relfrozenxid) END::int8 AS frozenxid_age,
       CASE WHEN c.relkind = 'p' THEN 0 ELSE mxid_age(c.relminmxid) END::int8 AS minmxid_age,
       age(t.relfrozenxid)::int8 AS toast_frozenxid_age,
       coalesce(c.reloptions, '{{}}')::text[] AS reloptions,
       coalesce(s.seq_scan, 0) AS seq_scan, coalesce(s.seq_tup_read, 0) AS seq_tup_read,
       s.idx_scan, s.idx_tup_fetch,
       coalesce(s.n_tup_ins, 0) AS n_tup_ins, coalesce(s.n_tup_upd, 0) AS n_tup_upd,
       coalesce(s.n_tup_del, 0) AS n_tup_del, coalesce(s.n_tup_hot_upd, 0) AS n_tup_hot_upd,
       coalesce(s.n_live_tup, 0) AS n_live_tup, coalesce(s.n_dead_tup, 0) AS n_dead_tup,
       coalesce(s.n_mod_since_analyze, 0) AS n_mod_since_analyze, s.n_ins_since_vacuum,
       s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze,
       coalesce(s.vacuum_count, 0) AS vacuum_count,
       coalesce(s.autovacuum_count, 0) AS autovacuum_count,
       coalesce(s.analyze_count, 0) AS analyze_count,
       coalesce(s.autoanalyze_count, 0) AS autoanalyze_count,
       {last_scans},
       coalesce(io.heap_blks_read, 0) AS heap_blks_read,
       coalesce(io.heap_blks_hit, 0) AS heap_blks_hit,
       coalesce(io.idx_blks_read, 0) AS idx_blks_read,
       coalesce(io.idx_blks_hit, 0) AS idx_blks_hit,
       io.toast_blks_read, io.toast_blks_hit
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_class t ON t.oid = c.reltoastrelid AND c.reltoastrelid <> 0
LEFT JOIN pg_catalog.pg_stat_all_tables s ON s.relid = c.oid
LEFT JOIN pg_catalog.pg_statio_all_tables io ON io.relid = c.oid
CROSS JOIN (SELECT current_setting('block_size')::int8 AS size) bs
CROSS JOIN LATERAL (
  SELECT EXISTS (SELECT 1 FROM locked
                 WHERE {EXCLUSIVE}
                   AND (locked.relation IN (c.oid, c.reltoastrelid)
                        OR locked.relation IN (SELECT i.indexrelid FROM pg_catalog.pg_index i
                                               WHERE i.indrelid = c.oid))) AS locked
) lk
WHERE c.relkind IN ('r', 'p', 'm') AND {USER_SCHEMAS}
ORDER BY n.nspname, c.relname"
    )
}

/// Tables another session locks: `(oid, schema.name)`. Their sizes stay estimates.
pub(super) type Locked = Vec<(u32, String)>;

/// The tables (`indexes_bytes` still an estimate), and those locked by others.
pub(super) fn decode(rows: &[Row]) -> Result<(Vec<Table>, Locked), PgError> {
    let mut locked = Vec::new();
    let tables = rows
        .iter()
        .map(|r| {
            let table = Table {
                oid: r.try_get("oid")?,
                schema: r.try_get("schema")?,
                name: r.try_get("name")?,
                kind: r.try_get("kind")?,
                persistence: r.try_get("persistence")?,
                is_partition: r.try_get("is_partition")?,
                has_primary_key: r.try_get("has_primary_key")?,
                reltuples: r.try_get("reltuples")?,
                relpages: r.try_get("relpages")?,
                relallvisible: r.try_get("relallvisible")?,
                parent_oid: r.try_get("parent_oid")?,
                partition_key: r.try_get("partition_key")?,
                partition_key_columns: r.try_get("partition_key_columns")?,
                toast_reloptions: r.try_get("toast_reloptions")?,
                heap_bytes: r.try_get("heap_bytes")?,
                toast_bytes: r.try_get("toast_bytes")?,
                indexes_bytes: r.try_get("indexes_bytes_estimate")?,
                frozenxid_age: r.try_get("frozenxid_age")?,
                minmxid_age: r.try_get("minmxid_age")?,
                toast_frozenxid_age: r.try_get("toast_frozenxid_age")?,
                reloptions: r.try_get("reloptions")?,
                seq_scan: r.try_get("seq_scan")?,
                seq_tup_read: r.try_get("seq_tup_read")?,
                idx_scan: r.try_get("idx_scan")?,
                idx_tup_fetch: r.try_get("idx_tup_fetch")?,
                n_tup_ins: r.try_get("n_tup_ins")?,
                n_tup_upd: r.try_get("n_tup_upd")?,
                n_tup_del: r.try_get("n_tup_del")?,
                n_tup_hot_upd: r.try_get("n_tup_hot_upd")?,
                n_live_tup: r.try_get("n_live_tup")?,
                n_dead_tup: r.try_get("n_dead_tup")?,
                n_mod_since_analyze: r.try_get("n_mod_since_analyze")?,
                n_ins_since_vacuum: r.try_get("n_ins_since_vacuum")?,
                last_vacuum: r.try_get("last_vacuum")?,
                last_autovacuum: r.try_get("last_autovacuum")?,
                last_analyze: r.try_get("last_analyze")?,
                last_autoanalyze: r.try_get("last_autoanalyze")?,
                vacuum_count: r.try_get("vacuum_count")?,
                autovacuum_count: r.try_get("autovacuum_count")?,
                analyze_count: r.try_get("analyze_count")?,
                autoanalyze_count: r.try_get("autoanalyze_count")?,
                last_seq_scan: r.try_get("last_seq_scan")?,
                last_idx_scan: r.try_get("last_idx_scan")?,
                heap_blks_read: r.try_get("heap_blks_read")?,
                heap_blks_hit: r.try_get("heap_blks_hit")?,
                idx_blks_read: r.try_get("idx_blks_read")?,
                idx_blks_hit: r.try_get("idx_blks_hit")?,
                toast_blks_read: r.try_get("toast_blks_read")?,
                toast_blks_hit: r.try_get("toast_blks_hit")?,
            };
            if r.try_get("size_estimated")? {
                locked.push((table.oid, table.qualified_name()));
            }
            Ok(table)
        })
        .collect::<Result<Vec<_>, PgError>>()?;
    Ok((tables, locked))
}

/// Replaces the `relpages` estimate of `indexes_bytes` by the sum of the index sizes,
/// for tables not locked by other sessions (their locked indexes are missing).
pub(super) fn fill_index_sizes(tables: &mut [Table], locked: &[(u32, String)], indexes: &[Index]) {
    let mut sums: HashMap<u32, i64> = HashMap::new();
    for index in indexes {
        *sums.entry(index.table_oid).or_default() += index.size_bytes;
    }
    for table in tables {
        if !locked.iter().any(|(oid, _)| *oid == table.oid) {
            table.indexes_bytes = sums.get(&table.oid).copied().unwrap_or(0);
        }
    }
}
