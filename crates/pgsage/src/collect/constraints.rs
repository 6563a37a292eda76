//! Primary key, unique, check and exclusion constraints, and user triggers, of the
//! connected database's tables, one query each whatever their number.

use tokio_postgres::{Error as PgError, Row};

use super::locks::{EXCLUSIVE, LOCKED_CTE};
use super::tables::USER_SCHEMAS;
use crate::snapshot::{Constraint, Trigger};

/// On the same relations as the tables section. `pg_get_constraintdef` of an exclusion
/// constraint deparses its index, so constraints of a table another session locks
/// exclusively are left out (as its indexes are; see [`super::locks`]) rather than
/// queueing behind the lock.
pub(super) fn constraints_sql() -> String {
    format!(
        "\
{LOCKED_CTE}
SELECT con.conname::text AS name, n.nspname::text AS schema, t.relname::text AS table_name,
       con.contype::text AS kind, con.convalidated AS is_valid,
       pg_get_constraintdef(con.oid) AS definition
FROM pg_catalog.pg_constraint con
JOIN pg_catalog.pg_class t ON t.oid = con.conrelid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
WHERE con.contype IN ('p', 'u', 'c', 'x') AND t.relkind IN ('r', 'p', 'm') AND {USER_SCHEMAS}
  AND NOT EXISTS (SELECT 1 FROM locked
                  WHERE {EXCLUSIVE}
                    AND (locked.relation = t.oid
                         OR locked.relation = con.conindid))
ORDER BY n.nspname, t.relname, con.conname"
    )
}

pub(super) fn decode_constraints(rows: &[Row]) -> Result<Vec<Constraint>, PgError> {
    rows.iter()
        .map(|r| {
            Ok(Constraint {
                name: r.try_get("name")?,
                schema: r.try_get("schema")?,
                table: r.try_get("table_name")?,
                kind: r.try_get("kind")?,
                is_valid: r.try_get("is_valid")?,
                definition: r.try_get("definition")?,
            })
        })
        .collect()
}

/// Catalog reads only (no relation is opened). Internal triggers (those behind foreign
/// keys, and on 13–14 the clones of a partitioned table's triggers) are left out.
pub(super) fn triggers_sql() -> String {
    format!(
        "\
SELECT tg.tgname::text AS name, n.nspname::text AS schema, t.relname::text AS table_name,
       tg.tgenabled::text AS enabled,
       pn.nspname::text || '.' || p.proname::text AS function
FROM pg_catalog.pg_trigger tg
JOIN pg_catalog.pg_class t ON t.oid = tg.tgrelid
JOIN pg_catalog.pg_namespace n ON n.oid = t.relnamespace
JOIN pg_catalog.pg_proc p ON p.oid = tg.tgfoid
JOIN pg_catalog.pg_namespace pn ON pn.oid = p.pronamespace
WHERE NOT tg.tgisinternal AND t.relkind IN ('r', 'p', 'm') AND {USER_SCHEMAS}
ORDER BY n.nspname, t.relname, tg.tgname"
    )
}

pub(super) fn decode_triggers(rows: &[Row]) -> Result<Vec<Trigger>, PgError> {
    rows.iter()
        .map(|r| {
            Ok(Trigger {
                name: r.try_get("name")?,
                schema: r.try_get("schema")?,
                table: r.try_get("table_name")?,
                enabled: r.try_get("enabled")?,
                function: r.try_get("function")?,
            })
        })
        .collect()
}
