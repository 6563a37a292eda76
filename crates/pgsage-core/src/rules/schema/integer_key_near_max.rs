use crate::report::{ObjectKind, ObjectRef, Severity};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::units;

use super::common::{exhaustion, hidden_last_values, integer_type_max, owner_column, used_pct};

declare_rule! {
    /// ## What it detects
    /// `integer` or `smallint` columns (usually primary keys) fed by a sequence that can
    /// go further than the column can hold — typically a `bigint` sequence feeding an
    /// `integer` id, as left by migrations that widened the sequence but not the column —
    /// where the sequence's last value has used at least `warning_pct` % (critical from
    /// `critical_pct` %) of the column type's maximum. The sequence itself does not look
    /// close to its own maximum, so a sequence-only check misses it.
    ///
    /// ## Why it matters
    /// When the next value exceeds 2 147 483 647 (`integer`) or 32 767 (`smallint`),
    /// every insert fails with "integer out of range": the table can no longer take new
    /// rows.
    ///
    /// ## How to fix
    /// `ALTER TABLE … ALTER COLUMN … TYPE bigint` — it **rewrites the table and its
    /// indexes under an ACCESS EXCLUSIVE lock**, so plan a maintenance window, or do it
    /// online: add a `bigint` column, fill it by a trigger and in batches, build its unique
    /// index concurrently, then swap the columns and the primary key in a short
    /// transaction. Widen the foreign key columns that reference it the same way.
    ///
    /// ## Thresholds
    /// - `warning_pct` (default 85): share of the column type's maximum used that warns.
    /// - `critical_pct` (default 95): share that is critical.
    ///
    /// The values come from the sequences feeding the columns: when some of them cannot be
    /// read by the collecting role (`pg_monitor` has no `USAGE` on other owners' sequences)
    /// and nothing is flagged, the rule is skipped with that reason.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/datatype-numeric.html#DATATYPE-INT>
    /// - <https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES>
    pub struct IntegerKeyNearMax {
        id: "SCH002",
        name: "integer-key-near-max",
        pack: "schema",
        title: "Integer column close to overflow",
        params: {
            warning_pct: f64 = ("%", "Share of the column type's maximum used that warns"),
            critical_pct: f64 = ("%", "Share of the column type's maximum used that is critical"),
        },
    }
}

impl SnapshotRule for IntegerKeyNearMax {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let warning = p.warning_pct;
        let critical = p.critical_pct;
        let snap = ctx.snapshot;
        let mut drafts = Vec::new();
        for seq in snap.sequences.iter().filter(|s| s.increment > 0) {
            let (Some(last), Some(col_type)) = (seq.last_value, seq.owned_by_type.as_deref())
            else {
                continue;
            };
            let Some(col_max) = integer_type_max(col_type) else {
                continue;
            };
            // Only when the column overflows before the sequence: otherwise SCH001 says it.
            if col_max >= seq.max_value {
                continue;
            }
            let pct = used_pct(last, col_max);
            if pct < warning {
                continue;
            }
            let Some(col) = owner_column(snap, seq) else {
                continue;
            };
            let table = crate::sql::qualified(&col.schema, &col.table);
            let referencing: Vec<String> = snap
                .foreign_keys
                .iter()
                .filter(|fk| {
                    fk.ref_schema == col.schema
                        && fk.ref_table == col.table
                        && fk.ref_columns.iter().any(|c| c == &col.name)
                })
                .map(|fk| format!("{}.{} ({})", fk.schema, fk.table, fk.columns.join(", ")))
                .collect();
            let mut sql = format!(
                "-- rewrites {table} and its indexes under an ACCESS EXCLUSIVE lock\nALTER TABLE {table} ALTER COLUMN {} TYPE bigint;",
                crate::sql::quote_ident(&col.name)
            );
            for fk in snap.foreign_keys.iter().filter(|fk| {
                fk.ref_schema == col.schema
                    && fk.ref_table == col.table
                    && fk.ref_columns.len() == 1
                    && fk.ref_columns[0] == col.name
            }) {
                sql.push_str(&format!(
                    "\nALTER TABLE {} ALTER COLUMN {} TYPE bigint;",
                    crate::sql::qualified(&fk.schema, &fk.table),
                    crate::sql::quote_ident(&fk.columns[0])
                ));
            }
            if seq.data_type != "bigint" {
                sql.push_str(&format!(
                    "\nALTER SEQUENCE {} AS bigint;",
                    crate::sql::qualified(&seq.schema, &seq.name)
                ));
            }
            let left = col_max - last;
            let rate = exhaustion(ctx, &col.schema, &col.table, left);
            let mut draft = Draft::new(
                    ObjectRef::in_schema(
                        ObjectKind::Column,
                        &snap.server.database,
                        &col.schema,
                        &format!("{}.{}", col.table, col.name),
                    ),
                    format!(
                        "`{}.{}` is {col_type}{} but its sequence `{}` ({}) is at {}, {} of {col_type}'s maximum {}: {} inserts before \"{col_type} out of range\" errors",
                        col.table,
                        col.name,
                        if col.in_primary_key { " (primary key)" } else { "" },
                        seq.name,
                        seq.data_type,
                        units::count(last),
                        units::percent(pct),
                        units::count(col_max),
                        units::count(left)
                    ) + &rate.as_ref().map_or(String::new(), |r| r.sentence("values")),
                )
                .severity(if pct >= critical { Severity::Critical } else { Severity::Warning })
                .evidence("column_type", col_type.to_owned())
                .evidence("column_max", col_max)
                .evidence("sequence", crate::sql::qualified(&seq.schema, &seq.name))
                .evidence("sequence_type", seq.data_type.clone())
                .evidence("last_value", last)
                .evidence("used_pct", pct)
                .evidence("values_left", left)
                .evidence("in_primary_key", col.in_primary_key)
                .evidence("referencing_columns", referencing.join("; "))
                .recommend(format!(
                    "Widen `{}.{}` to bigint (and the foreign key columns referencing it): a table rewrite, so plan a window or an online column swap",
                    col.table, col.name
                ))
                .fix(sql, "none", "insert errors and the sequence's last_value");
            if let Some(r) = &rate {
                draft = r.evidence(draft);
            }
            drafts.push(draft);
        }
        // Nothing flagged, but some values of sequences feeding narrow columns were not
        // readable: not a healthy verdict.
        if drafts.is_empty() {
            let feeds_narrow_column = |s: &crate::snapshot::Sequence| {
                s.increment > 0
                    && s.owned_by_type
                        .as_deref()
                        .and_then(integer_type_max)
                        .is_some_and(|m| m < s.max_value)
            };
            if let Some(skip) = hidden_last_values(snap, feeds_narrow_column) {
                return Err(skip);
            }
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_an_integer_key_fed_by_a_bigint_sequence() {
        let f = assert_fires("SCH002", "public.account_move_line.id");
        assert!(f[0]
            .fix
            .as_ref()
            .expect("present")
            .sql
            .contains("TYPE bigint"));
    }

    #[test]
    fn quiet_on_bigint_keys() {
        assert_quiet("SCH002");
    }
}
