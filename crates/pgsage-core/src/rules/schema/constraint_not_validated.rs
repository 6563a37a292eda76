use std::collections::BTreeSet;

use crate::report::{ObjectKind, ObjectRef};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::ForeignKey;

declare_rule! {
    /// ## What it detects
    /// Foreign key and check constraints added with `NOT VALID` and never validated
    /// (`pg_constraint.convalidated = false`).
    ///
    /// ## Why it matters
    /// `NOT VALID` is the first half of adding a constraint without a long lock: new rows
    /// are checked, existing rows are not. Until `VALIDATE CONSTRAINT` runs, rows that
    /// break the rule may exist (orphans, negative quantities), and the planner cannot
    /// rely on the constraint (no partition or join pruning from it). Left like this, it
    /// is usually a migration that never finished.
    ///
    /// ## How to fix
    /// `ALTER TABLE … VALIDATE CONSTRAINT …` takes only a SHARE UPDATE EXCLUSIVE lock
    /// (reads and writes go on; a foreign key also takes ROW SHARE on the referenced
    /// table) while it scans the table. If it fails, the query in the fix finds the rows
    /// that break the constraint: correct or delete them, then validate again.
    ///
    /// ## Thresholds
    /// None.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-VALIDATE-CONSTRAINT>
    /// - <https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-NOTES>
    pub struct ConstraintNotValidated {
        id: "SCH004",
        name: "constraint-not-validated",
        pack: "schema",
        title: "Constraint not validated",
        params: {},
    }
}

/// A query listing the rows that break a foreign key.
fn fk_violations(fk: &ForeignKey) -> String {
    let on: Vec<String> = fk
        .columns
        .iter()
        .zip(&fk.ref_columns)
        .map(|(c, r)| {
            format!(
                "p.{} = c.{}",
                crate::sql::quote_ident(r),
                crate::sql::quote_ident(c)
            )
        })
        .collect();
    let not_null: Vec<String> = fk
        .columns
        .iter()
        .map(|c| format!("c.{} IS NOT NULL", crate::sql::quote_ident(c)))
        .collect();
    format!(
        "SELECT c.* FROM {} c WHERE {} AND NOT EXISTS (SELECT 1 FROM {} p WHERE {}) LIMIT 100;",
        crate::sql::qualified(&fk.schema, &fk.table),
        not_null.join(" AND "),
        crate::sql::qualified(&fk.ref_schema, &fk.ref_table),
        on.join(" AND ")
    )
}

/// The expression of a `CHECK (…) NOT VALID` definition.
fn check_expression(definition: &str) -> Option<&str> {
    let rest = definition.strip_prefix("CHECK ")?;
    let rest = rest.strip_suffix(" NOT VALID").unwrap_or(rest);
    Some(rest.trim())
}

impl SnapshotRule for ConstraintNotValidated {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let snap = ctx.snapshot;
        let partitions: BTreeSet<(&str, &str)> = snap
            .tables
            .iter()
            .filter(|t| t.is_partition)
            .map(|t| (t.schema.as_str(), t.name.as_str()))
            .collect();
        let parent_fks: BTreeSet<(&str, &str)> = snap
            .foreign_keys
            .iter()
            .filter(|fk| !partitions.contains(&(fk.schema.as_str(), fk.table.as_str())))
            .map(|fk| (fk.schema.as_str(), fk.name.as_str()))
            .collect();
        let mut drafts = Vec::new();
        for fk in snap.foreign_keys.iter().filter(|fk| !fk.is_valid) {
            // A partition's clone of its parent's constraint is validated with the parent.
            if partitions.contains(&(fk.schema.as_str(), fk.table.as_str()))
                && parent_fks.contains(&(fk.schema.as_str(), fk.name.as_str()))
            {
                continue;
            }
            let table = crate::sql::qualified(&fk.schema, &fk.table);
            drafts.push(
                Draft::new(
                    ObjectRef::in_schema(ObjectKind::Constraint, &snap.server.database, &fk.schema, &fk.name),
                    format!(
                        "Foreign key `{}` on `{}` ({}) → `{}` is NOT VALID: existing rows were never checked",
                        fk.name,
                        fk.table,
                        fk.columns.join(", "),
                        fk.ref_table
                    ),
                )
                .evidence("table", table.clone())
                .evidence("kind", "foreign key")
                .evidence("is_valid", false)
                .evidence("referenced_table", crate::sql::qualified(&fk.ref_schema, &fk.ref_table))
                .recommend("Validate it (no write lock); if it fails, fix the orphan rows the query finds first")
                .fix(
                    format!(
                        "ALTER TABLE {table} VALIDATE CONSTRAINT {};\n-- if it fails, the orphans:\n{}",
                        crate::sql::quote_ident(&fk.name),
                        fk_violations(fk)
                    ),
                    "none",
                    "pg_constraint.convalidated",
                ),
            );
        }
        for c in snap.constraints.iter().filter(|c| !c.is_valid) {
            if partitions.contains(&(c.schema.as_str(), c.table.as_str())) {
                continue;
            }
            let table = crate::sql::qualified(&c.schema, &c.table);
            let mut fix = format!(
                "ALTER TABLE {table} VALIDATE CONSTRAINT {};",
                crate::sql::quote_ident(&c.name)
            );
            if let Some(expr) = (c.kind == "c")
                .then(|| check_expression(&c.definition))
                .flatten()
            {
                fix.push_str(&format!(
                    "\n-- if it fails, the rows that break it:\nSELECT * FROM {table} WHERE NOT {expr} LIMIT 100;"
                ));
            }
            drafts.push(
                Draft::new(
                    ObjectRef::in_schema(ObjectKind::Constraint, &snap.server.database, &c.schema, &c.name),
                    format!(
                        "Constraint `{}` on `{}` ({}) is NOT VALID: existing rows were never checked",
                        c.name, c.table, c.definition
                    ),
                )
                .evidence("table", table)
                .evidence("kind", if c.kind == "c" { "check" } else { c.kind.as_str() })
                .evidence("is_valid", false)
                .evidence("definition", c.definition.clone())
                .recommend("Validate it (no write lock); if it fails, correct the rows the query finds first")
                .fix(fix, "none", "pg_constraint.convalidated"),
            );
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use super::check_expression;
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_not_valid_constraints() {
        assert_fires("SCH004", "public.purchase_line_order_fk");
        assert_fires("SCH004", "public.purchase_line_qty_positive");
    }

    #[test]
    fn quiet_on_validated_constraints() {
        assert_quiet("SCH004");
    }

    #[test]
    fn check_expressions_are_extracted() {
        assert_eq!(
            check_expression("CHECK ((qty >= 0)) NOT VALID"),
            Some("((qty >= 0))")
        );
    }
}
