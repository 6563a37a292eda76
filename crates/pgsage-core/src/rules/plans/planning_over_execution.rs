use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleMeta, Skip};

use super::context::round;
use super::{PlanContext, PlanRule};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// Planning that took at least `min_ratio` times the execution time and at least
    /// `min_planning_ms`.
    ///
    /// ## Why it matters
    /// A query planned every time it runs pays its planning time on every execution.
    /// Planning grows with the number of joined tables (join orders to consider),
    /// partitions (each one's statistics and constraints), indexes and statistics
    /// objects; when it exceeds execution, it is the first thing to cut.
    ///
    /// ## How to fix
    /// - Prepared statements (or the driver's statement cache) plan once and reuse a
    ///   generic plan after five executions.
    /// - Many partitions: make sure the partition key is in the WHERE clause so pruning
    ///   happens early; fewer, larger partitions.
    /// - Many joined tables: lower `join_collapse_limit` / `from_collapse_limit` for the
    ///   query, or write the joins in a good order; `geqo_threshold` bounds exhaustive
    ///   search.
    /// - Planning buffers (the plan's `Planning:` section) high on a cold cache: the
    ///   catalog was read from disk; it is warm on the next runs.
    ///
    /// ## Thresholds
    /// - `min_ratio` (default 2): planning time over execution time.
    /// - `min_planning_ms` (default 1): smallest planning time worth reporting, ms; a
    ///   0.1 ms plan for a 0.02 ms primary-key lookup is normal.
    ///
    /// Needs EXPLAIN ANALYZE (planning and execution times).
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/sql-prepare.html>
    /// - <https://www.postgresql.org/docs/current/runtime-config-query.html#GUC-JOIN-COLLAPSE-LIMIT>
    /// - <https://www.postgresql.org/docs/current/ddl-partition-pruning.html>
    pub struct PlanningOverExecution {
        id: "EXP009",
        name: "planning-over-execution",
        pack: "plans",
        title: "Planning takes longer than execution",
        params: {
            min_ratio: f64 = ("×", "Planning time over execution time"),
            min_planning_ms: f64 = ("ms", "Smallest planning time worth reporting"),
        },
    }
}

impl PlanRule for PlanningOverExecution {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &PlanContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        ctx.require_analyze()?;
        let min_ratio = p.min_ratio;
        let min_ms = p.min_planning_ms;
        let (Some(planning), Some(exec)) = (ctx.plan.planning_time_ms, ctx.plan.execution_time_ms)
        else {
            return Err(Skip::because(
                "the plan has no Planning Time or Execution Time (SUMMARY off?)",
            ));
        };
        if planning < min_ms || planning < exec * min_ratio {
            return Ok(Vec::new());
        }
        let share = planning / (planning + exec).max(f64::MIN_POSITIVE);
        let mut draft = ctx
            .query_draft(
                "planning",
                share,
                format!(
                    "Planning took {} and execution {} ({}x)",
                    units::millis(planning),
                    units::millis(exec),
                    units::number(planning / exec.max(0.001))
                ),
            )
            .evidence("planning_ms", round(planning, 3))
            .evidence("execution_ms", round(exec, 3));
        if let Some(b) = ctx.plan.planning_buffers {
            draft = draft
                .evidence("planning_shared_hit", b.shared_hit)
                .evidence("planning_shared_read", b.shared_read);
        }
        let nodes = ctx.profile.nodes.len();
        draft = draft.evidence("plan_nodes", nodes);
        Ok(vec![draft.recommend(
            "Plan once and reuse: a prepared statement (or the driver's statement cache); if many tables \
             or partitions are involved, prune partitions by the key or lower join_collapse_limit for this query",
        )])
    }
}
