//! Sequences of the connected database, with their owning column.

use tokio_postgres::{Error as PgError, Row};

use super::locks::LOCKED_CTE;
use super::tables::USER_SCHEMAS;
use crate::snapshot::Sequence;

/// From the catalogs rather than `pg_sequences`, to get the owning column in the same
/// pass: a `serial` column owns its sequence with an `a` (auto) dependency, an
/// identity column with an `i` (internal) one. The last value needs `SELECT` or
/// `USAGE` on the sequence (`readable`), and is not read while another session locks
/// the sequence in a conflicting mode (`locked`, e.g. during `ALTER SEQUENCE`; see
/// [`super::locks`]). Other sessions' temporary sequences are skipped, as
/// `pg_sequences` does, because reading them errors.
pub(super) fn sql() -> String {
    format!(
        "\
{LOCKED_CTE}
SELECT n.nspname::text AS schema, c.relname::text AS name,
       format_type(s.seqtypid, NULL) AS data_type,
       has_sequence_privilege(c.oid, 'SELECT,USAGE') AS readable,
       EXISTS (SELECT 1 FROM locked WHERE locked.relation = c.oid) AS locked,
       CASE WHEN has_sequence_privilege(c.oid, 'SELECT,USAGE')
             AND NOT EXISTS (SELECT 1 FROM locked WHERE locked.relation = c.oid)
            THEN pg_sequence_last_value(c.oid) END AS last_value,
       s.seqmax AS max_value, s.seqincrement AS increment, s.seqcycle AS cycle,
       owner.owned_by, owner.owned_by_type
FROM pg_catalog.pg_sequence s
JOIN pg_catalog.pg_class c ON c.oid = s.seqrelid
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN LATERAL (
  SELECT t.relname::text || '.' || a.attname::text AS owned_by,
         format_type(a.atttypid, a.atttypmod) AS owned_by_type
  FROM pg_catalog.pg_depend d
  JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
  JOIN pg_catalog.pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
  WHERE d.classid = 'pg_catalog.pg_class'::regclass AND d.objid = c.oid
    AND d.refclassid = 'pg_catalog.pg_class'::regclass AND d.refobjsubid > 0
    AND d.deptype IN ('a', 'i')
  LIMIT 1
) owner ON true
WHERE NOT pg_is_other_temp_schema(n.oid) AND {USER_SCHEMAS}
ORDER BY n.nspname, c.relname"
    )
}

/// Sequences whose last value could not be read, by reason.
#[derive(Debug, Default)]
pub(super) struct Hidden {
    /// For lack of `SELECT` or `USAGE`.
    pub(super) unreadable: usize,
    /// Because another session locked them.
    pub(super) locked: usize,
}

/// The sequences, and how many last values are hidden.
pub(super) fn decode(rows: &[Row]) -> Result<(Vec<Sequence>, Hidden), PgError> {
    let mut hidden = Hidden::default();
    let sequences = rows
        .iter()
        .map(|r| {
            if !r.try_get::<_, bool>("readable")? {
                hidden.unreadable += 1;
            } else if r.try_get::<_, bool>("locked")? {
                hidden.locked += 1;
            }
            Ok(Sequence {
                schema: r.try_get("schema")?,
                name: r.try_get("name")?,
                data_type: r.try_get("data_type")?,
                last_value: r.try_get("last_value")?,
                max_value: r.try_get("max_value")?,
                increment: r.try_get("increment")?,
                cycle: r.try_get("cycle")?,
                owned_by: r.try_get("owned_by")?,
                owned_by_type: r.try_get("owned_by_type")?,
            })
        })
        .collect::<Result<Vec<_>, PgError>>()?;
    Ok((sequences, hidden))
}

/// Why some sequences' last values are unknown, when some are.
pub(super) fn hidden_why(role: &str, hidden: &Hidden) -> Option<String> {
    let mut why = Vec::new();
    if hidden.unreadable > 0 {
        why.push(format!(
            "role {role} lacks SELECT or USAGE on {} sequence(s)",
            hidden.unreadable
        ));
    }
    if hidden.locked > 0 {
        why.push(format!(
            "{} sequence(s) are locked by other sessions (e.g. ALTER SEQUENCE)",
            hidden.locked
        ));
    }
    (!why.is_empty()).then(|| format!("{}: their last values are unknown", why.join("; ")))
}
