use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleMeta, Skip};

use super::context::round;
use super::{PlanContext, PlanRule};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// A trigger (the plan's `Trigger …: time=… calls=…` lines) taking at least
    /// `min_share_pct` of the execution time and at least `min_trigger_ms`. Foreign-key
    /// triggers (`RI_ConstraintTrigger…`, `Trigger for constraint …`) are named as such.
    ///
    /// ## Why it matters
    /// Trigger time is not in any plan node: a DELETE whose plan looks instant can spend
    /// seconds in triggers. The usual culprit is a foreign key: deleting (or updating the
    /// key of) a referenced row makes PostgreSQL look up the referencing rows — `ON
    /// DELETE CASCADE`, `SET NULL` or the plain check — once per row, and without an index
    /// on the referencing columns each lookup is a sequential scan of the referencing
    /// table.
    ///
    /// ## How to fix
    /// For a foreign-key trigger: index the referencing columns of that constraint,
    /// `CREATE INDEX CONCURRENTLY ON referencing_table (fk_columns);` (the `pgsage audit`
    /// rule IDX005 lists unindexed foreign keys with the exact statement; `\d
    /// referencing_table` shows the constraint). For other triggers: look at what the
    /// trigger function does per row (`FOR EACH ROW` triggers run once per row; a
    /// statement-level trigger with transition tables runs once).
    ///
    /// ## Thresholds
    /// - `min_share_pct` (default 20): the trigger's share of the execution time.
    /// - `min_trigger_ms` (default 1): smallest trigger time worth reporting, ms.
    ///
    /// Needs EXPLAIN ANALYZE (trigger times are measured).
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK>
    /// - <https://www.postgresql.org/docs/current/using-explain.html#USING-EXPLAIN-ANALYZE>
    pub struct TriggerTime {
        id: "EXP010",
        name: "trigger-time",
        pack: "plans",
        title: "Triggers take much of the execution time",
        params: {
            min_share_pct: f64 = ("%", "The trigger's share of the execution time"),
            min_trigger_ms: f64 = ("ms", "Smallest trigger time worth reporting"),
        },
    }
}

impl PlanRule for TriggerTime {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &PlanContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        ctx.require_analyze()?;
        let min_share = p.min_share_pct / 100.0;
        let min_ms = p.min_trigger_ms;
        let exec = ctx.plan.execution_time_ms.unwrap_or(0.0);
        let mut drafts = Vec::new();
        for t in &ctx.plan.triggers {
            let Some(time) = t.time_ms else {
                continue;
            };
            let share = if exec > 0.0 {
                (time / exec).min(1.0)
            } else {
                1.0
            };
            if time < min_ms || share < min_share {
                continue;
            }
            let calls = t.calls.unwrap_or(0.0);
            let name = t
                .constraint_name
                .as_ref()
                .map(|c| format!("constraint {c}"))
                .or_else(|| t.name.clone())
                .unwrap_or_else(|| "trigger".into());
            let fk = t.constraint_name.is_some()
                || t.name
                    .as_deref()
                    .is_some_and(|n| n.starts_with("RI_ConstraintTrigger"));
            let on = t
                .relation
                .as_deref()
                .map(|r| format!(" on `{r}`"))
                .unwrap_or_default();
            let mut draft = ctx
                .query_draft(
                    &format!("trigger {name}"),
                    share,
                    format!(
                        "Trigger for {name}{on} took {} over {} calls ({} of the {} execution time)",
                        units::millis(time),
                        units::count(calls),
                        units::share(share),
                        units::millis(exec)
                    ),
                )
                .evidence("trigger_ms", round(time, 3))
                .evidence("calls", calls)
                .evidence("ms_per_call", round(time / calls.max(1.0), 4))
                .evidence("execution_ms", round(exec, 3));
            if let Some(c) = &t.constraint_name {
                draft = draft.evidence("constraint", c.clone());
            }
            draft = if fk {
                draft.recommend(format!(
                    "A foreign-key trigger: each call looks up the referencing rows of {name}; index the \
                     referencing columns (CREATE INDEX CONCURRENTLY ON <referencing table> (<fk columns>); \
                     `pgsage audit` rule IDX005 gives the exact statement)"
                ))
            } else {
                draft.recommend(
                    "Look at what the trigger function does per row; a statement-level trigger with \
                     transition tables does it once per statement",
                )
            };
            drafts.push(draft);
        }
        Ok(drafts)
    }
}
