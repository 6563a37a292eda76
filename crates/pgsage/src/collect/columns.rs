//! Columns of the connected database's tables, with their planner statistics from
//! `pg_stats`, in one query whatever their number.

use std::collections::HashSet;

use tokio_postgres::{Error as PgError, Row};

use super::tables::USER_SCHEMAS;
use crate::snapshot::Column;

/// The same relations as the tables section (kinds `r`, `p`, `m`, user schemas), live
/// columns only, then the expression columns of their indexes (whose statistics
/// `pg_stats` lists under the index's name; `of_index`). `format_type` and `pg_stats`
/// read catalogs only: no relation is opened or locked. `pg_stats` is joined by name, as
/// the view exposes it: the non-inherited row, or for a partitioned parent (which has only
/// those) the inherited one. The view shows a row only when the role may `SELECT` the
/// column and no row-level security hides the table; `stats_hidden` repeats its test so
/// that the decoder can tell "not analysed" from "not visible" (see
/// [`Decoded::hidden_tables`]). Index expression statistics are visible to the indexes'
/// owners (and superusers) only.
///
/// `pg_stats` is read once, into a materialized CTE that both halves hash-join: joined
/// directly, the planner evaluated the view (a privilege check per column of every
/// relation, catalogs included) for each half and matched index expressions in a nested
/// loop — 2 s of the collection on 2,000 tables, now about 0.25 s
/// (docs/performance.md).
pub(super) fn sql() -> String {
    format!(
        "\
WITH stats AS MATERIALIZED (
  SELECT schemaname, tablename, attname, inherited, null_frac, avg_width, n_distinct,
         correlation
  FROM pg_catalog.pg_stats
  WHERE schemaname NOT IN ('pg_catalog', 'information_schema') AND schemaname !~ '^pg_toast')
SELECT c.oid AS table_oid, n.nspname::text AS schema, c.relname::text AS table_name,
       a.attname::text AS name, a.attnum, format_type(a.atttypid, a.atttypmod) AS data_type,
       a.attnotnull AS not_null, a.attidentity <> '' AS is_identity,
       EXISTS (SELECT 1 FROM pg_catalog.pg_constraint pk
               WHERE pk.conrelid = c.oid AND pk.contype = 'p'
                 AND a.attnum = ANY (pk.conkey)) AS in_primary_key,
       st.null_frac::float8 AS null_frac, st.avg_width::int4 AS avg_width,
       st.n_distinct::float8 AS n_distinct, st.correlation::float8 AS correlation,
       NOT (has_column_privilege(c.oid, a.attnum, 'SELECT')
            AND (NOT c.relrowsecurity OR NOT row_security_active(c.oid))) AS stats_hidden,
       c.reltuples::float8 AS reltuples, a.attlen AS type_len, a.attalign::text AS type_align,
       c.relnatts AS table_natts, false AS of_index
FROM pg_catalog.pg_attribute a
JOIN pg_catalog.pg_class c ON c.oid = a.attrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN stats st
  ON st.schemaname = n.nspname AND st.tablename = c.relname AND st.attname = a.attname
 AND st.inherited = (c.relkind = 'p')
WHERE a.attnum > 0 AND NOT a.attisdropped
  AND c.relkind IN ('r', 'p', 'm') AND {USER_SCHEMAS}
UNION ALL
SELECT ic.oid, n.nspname::text, ic.relname::text,
       a.attname::text, a.attnum, format_type(a.atttypid, a.atttypmod),
       a.attnotnull, false, false,
       st.null_frac::float8, st.avg_width::int4, st.n_distinct::float8, st.correlation::float8,
       NOT has_column_privilege(ic.oid, a.attnum, 'SELECT'),
       ic.reltuples::float8, a.attlen, a.attalign::text, ic.relnatts, true
FROM pg_catalog.pg_index i
JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
JOIN pg_catalog.pg_class c ON c.oid = i.indrelid
JOIN pg_catalog.pg_namespace n ON n.oid = ic.relnamespace
JOIN pg_catalog.pg_attribute a
  ON a.attrelid = ic.oid AND a.attnum > 0 AND a.attnum <= i.indnkeyatts
 AND i.indkey[a.attnum - 1] = 0
LEFT JOIN stats st
  ON st.schemaname = n.nspname AND st.tablename = ic.relname AND st.attname = a.attname
 AND NOT st.inherited
WHERE c.relkind IN ('r', 'p', 'm') AND {USER_SCHEMAS}
ORDER BY 2, 3, 5"
    )
}

/// The columns, and how many analysed tables' statistics the role cannot see.
pub(super) struct Decoded {
    pub(super) columns: Vec<Column>,
    /// Tables with at least one visible `pg_stats` row.
    pub(super) visible_tables: usize,
    /// Tables with rows (`reltuples > 0`) whose statistics `pg_stats` hides from the role.
    pub(super) hidden_tables: usize,
}

pub(super) fn decode(rows: &[Row]) -> Result<Decoded, PgError> {
    let mut visible = HashSet::new();
    let mut hidden = HashSet::new();
    let columns = rows
        .iter()
        .map(|r| {
            let column = Column {
                table_oid: r.try_get("table_oid")?,
                schema: r.try_get("schema")?,
                table: r.try_get("table_name")?,
                name: r.try_get("name")?,
                attnum: r.try_get("attnum")?,
                data_type: r.try_get("data_type")?,
                not_null: r.try_get("not_null")?,
                is_identity: r.try_get("is_identity")?,
                in_primary_key: r.try_get("in_primary_key")?,
                null_frac: r.try_get("null_frac")?,
                avg_width: r.try_get("avg_width")?,
                n_distinct: r.try_get("n_distinct")?,
                correlation: r.try_get("correlation")?,
                type_len: r.try_get("type_len")?,
                type_align: r.try_get("type_align")?,
                table_natts: r.try_get("table_natts")?,
                stats_hidden: r.try_get("stats_hidden")?,
                of_index: r.try_get("of_index")?,
            };
            // Index expressions are readable by the index's owner only: they do not make
            // a table's statistics hidden.
            if !column.of_index {
                if column.null_frac.is_some() {
                    visible.insert(column.table_oid);
                } else if column.stats_hidden && r.try_get::<_, f64>("reltuples")? > 0.0 {
                    hidden.insert(column.table_oid);
                }
            }
            Ok(column)
        })
        .collect::<Result<Vec<_>, PgError>>()?;
    let hidden_tables = hidden.difference(&visible).count();
    Ok(Decoded {
        columns,
        visible_tables: visible.len(),
        hidden_tables,
    })
}
