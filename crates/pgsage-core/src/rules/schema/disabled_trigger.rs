use std::collections::{BTreeMap, BTreeSet};

use crate::report::{ObjectKind, ObjectRef};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::Trigger;

declare_rule! {
    /// ## What it detects
    /// User triggers that are disabled (`ALTER TABLE … DISABLE TRIGGER`,
    /// `pg_trigger.tgenabled = 'D'`), one finding per table. Triggers set to fire only on
    /// replicas (`R`) or always (`A`) are deliberate and not reported, nor are the
    /// internal triggers behind foreign keys. A partition's copy of a disabled trigger of
    /// its partitioned parent is reported on the parent only.
    ///
    /// ## Why it matters
    /// A disabled trigger silently stops doing its job: audit trails, denormalized totals,
    /// `updated_at` stamps or business checks are no longer maintained, and the data drifts
    /// from what the application expects. Triggers are typically disabled for a bulk load
    /// and forgotten.
    ///
    /// ## How to fix
    /// If it should run, enable it: `ALTER TABLE … ENABLE TRIGGER …` (a brief SHARE ROW
    /// EXCLUSIVE lock), then repair the rows written while it was off. If it is disabled
    /// on purpose, drop it or suppress the finding with the reason.
    ///
    /// ## Thresholds
    /// None.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-DISABLE-ENABLE-TRIGGER>
    /// - <https://www.postgresql.org/docs/current/catalog-pg-trigger.html>
    pub struct DisabledTrigger {
        id: "SCH005",
        name: "disabled-trigger",
        pack: "schema",
        title: "Disabled trigger",
        params: {},
    }
}

impl SnapshotRule for DisabledTrigger {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let snap = ctx.snapshot;
        if let Some(gap) = snap.gap("triggers") {
            return Err(Skip::because(format!(
                "triggers not collected: {}",
                gap.why
            )));
        }
        let partitions: BTreeSet<(&str, &str)> = snap
            .tables
            .iter()
            .filter(|t| t.is_partition)
            .map(|t| (t.schema.as_str(), t.name.as_str()))
            .collect();
        let partitioned: BTreeSet<(&str, &str)> = snap
            .tables
            .iter()
            .filter(|t| t.kind == "p")
            .map(|t| (t.schema.as_str(), t.name.as_str()))
            .collect();
        // Disabled trigger names on partitioned tables, per schema: their partitions'
        // copies are the same trigger.
        let parent_disabled: BTreeSet<(&str, &str)> = snap
            .triggers
            .iter()
            .filter(|t| {
                t.enabled == "D" && partitioned.contains(&(t.schema.as_str(), t.table.as_str()))
            })
            .map(|t| (t.schema.as_str(), t.name.as_str()))
            .collect();
        let mut by_table: BTreeMap<(&str, &str), Vec<&Trigger>> = BTreeMap::new();
        for t in snap.triggers.iter().filter(|t| t.enabled == "D") {
            if partitions.contains(&(t.schema.as_str(), t.table.as_str()))
                && parent_disabled.contains(&(t.schema.as_str(), t.name.as_str()))
            {
                continue;
            }
            by_table
                .entry((t.schema.as_str(), t.table.as_str()))
                .or_default()
                .push(t);
        }
        let mut drafts = Vec::new();
        for ((schema, table), triggers) in by_table {
            let qualified = crate::sql::qualified(schema, table);
            let names: Vec<String> = triggers
                .iter()
                .map(|t| format!("`{}` ({})", t.name, t.function))
                .collect();
            let fix: Vec<String> = triggers
                .iter()
                .map(|t| {
                    format!(
                        "ALTER TABLE {qualified} ENABLE TRIGGER {};",
                        crate::sql::quote_ident(&t.name)
                    )
                })
                .collect();
            drafts.push(
                Draft::new(
                    ObjectRef::in_schema(ObjectKind::Table, &snap.server.database, schema, table),
                    format!(
                        "`{table}` has {} disabled trigger{}: {} — {} not run on its writes",
                        triggers.len(),
                        if triggers.len() == 1 { "" } else { "s" },
                        names.join(", "),
                        if triggers.len() == 1 { "it does" } else { "they do" }
                    ),
                )
                .evidence("disabled_triggers", triggers.iter().map(|t| t.name.clone()).collect::<Vec<_>>().join(", "))
                .evidence("functions", triggers.iter().map(|t| t.function.clone()).collect::<Vec<_>>().join(", "))
                .evidence("enabled", "D")
                .recommend("Enable the trigger if it should run and repair the rows written while it was off; if it is off on purpose, drop it or suppress this finding with the reason")
                .fix(fix.join("\n"), "none", "the data the trigger maintains"),
            );
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_a_disabled_trigger() {
        assert_fires("SCH005", "public.sale_order_audited");
    }

    #[test]
    fn quiet_on_enabled_and_replica_triggers() {
        assert_quiet("SCH005");
    }
}
