//! Foreign keys of the connected database, with column names, in one query.

use tokio_postgres::{Error as PgError, Row};

use super::tables::USER_SCHEMAS;
use crate::snapshot::ForeignKey;

pub(super) fn sql() -> String {
    format!(
        "\
SELECT con.conname::text AS name, n.nspname::text AS schema, t.relname::text AS table_name,
       con.conrelid AS table_oid,
       ARRAY(SELECT a.attname::text
             FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS columns,
       con.conkey AS attnums,
       rn.nspname::text AS ref_schema, rt.relname::text AS ref_table, con.confrelid AS ref_table_oid,
       ARRAY(SELECT a.attname::text
             FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
             ORDER BY k.ord) AS ref_columns,
       con.confdeltype::text AS on_delete, con.convalidated AS is_valid
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class t ON t.oid = con.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
JOIN pg_catalog.pg_class rt ON rt.oid = con.confrelid
JOIN pg_catalog.pg_namespace rn ON rn.oid = rt.relnamespace
WHERE con.contype = 'f' AND {USER_SCHEMAS}
ORDER BY n.nspname, t.relname, con.conname"
    )
}

pub(super) fn decode(rows: &[Row]) -> Result<Vec<ForeignKey>, PgError> {
    rows.iter()
        .map(|r| {
            Ok(ForeignKey {
                name: r.try_get("name")?,
                schema: r.try_get("schema")?,
                table: r.try_get("table_name")?,
                table_oid: r.try_get("table_oid")?,
                columns: r.try_get("columns")?,
                attnums: r.try_get("attnums")?,
                ref_schema: r.try_get("ref_schema")?,
                ref_table_oid: r.try_get("ref_table_oid")?,
                ref_table: r.try_get("ref_table")?,
                ref_columns: r.try_get("ref_columns")?,
                on_delete: r.try_get("on_delete")?,
                is_valid: r.try_get("is_valid")?,
            })
        })
        .collect()
}
