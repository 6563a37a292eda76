use crate::plan::ParentRelationship;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleMeta, Skip};

use super::context::round;
use super::{PlanContext, PlanRule};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// A SubPlan (a correlated subquery in the SELECT list or WHERE clause) or a CTE Scan
    /// executed at least `min_loops` times, taking (with everything it ran) at least
    /// `min_share_pct` of the plan's time.
    ///
    /// ## Why it matters
    /// A correlated subquery is re-run for every row of the outer query: 50,000 rows,
    /// 50,000 executions, each an index probe or worse. A join computes the same in one
    /// pass over each side. A CTE Scan rescanned inside a loop re-reads the CTE's stored
    /// result each time (with its cost) and is never indexed.
    ///
    /// ## How to fix
    /// Rewrite the subquery as a join (`LEFT JOIN … ON …` for a scalar subquery, a
    /// semi-join `EXISTS` PostgreSQL can turn into a hash join, or a `LATERAL` join
    /// computing the aggregate once per group), or aggregate the inner table once in a
    /// derived table and join it. For a CTE read inside a loop, let PostgreSQL inline it
    /// (`NOT MATERIALIZED`, 12+) so conditions are pushed into it, or join it instead.
    ///
    /// ## Thresholds
    /// - `min_loops` (default 1000): executions of the subplan or CTE scan.
    /// - `min_share_pct` (default 10): share of the plan's time taken by the subplan
    ///   (everything it ran) or the CTE scan.
    ///
    /// Needs EXPLAIN ANALYZE with timing.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/queries-with.html#QUERIES-WITH-CTE-MATERIALIZATION>
    /// - <https://www.postgresql.org/docs/current/functions-subquery.html>
    pub struct SubplanManyLoops {
        id: "EXP011",
        name: "subplan-many-loops",
        pack: "plans",
        title: "Subquery or CTE executed many times",
        params: {
            min_loops: f64 = ("loops", "Executions of the subplan or CTE scan"),
            min_share_pct: f64 = ("%", "Smallest share of the plan's time taken by the subplan or CTE scan"),
        },
    }
}

impl PlanRule for SubplanManyLoops {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &PlanContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        ctx.require_timing()?;
        let min_loops = p.min_loops;
        let min_share = p.min_share_pct / 100.0;
        let mut drafts = Vec::new();
        for np in &ctx.profile.nodes {
            let node = np.node;
            let subplan = node.parent_relationship == Some(ParentRelationship::SubPlan);
            let cte_scan = node.node_type == "CTE Scan";
            if !subplan && !cte_scan {
                continue;
            }
            let loops = node.actual_loops.unwrap_or(0.0);
            let share = ctx.inclusive_share(np);
            if loops < min_loops || share < min_share {
                continue;
            }
            let per_loop = node.actual_total_time_ms.unwrap_or(0.0);
            let (what, advice) = if subplan {
                (
                    format!(
                        "`{}` (a correlated subquery) ran {} times",
                        super::node_label(node),
                        units::count(loops)
                    ),
                    "Rewrite the correlated subquery as a join (LEFT JOIN for a scalar subquery, EXISTS for a \
                     test), or aggregate the inner table once and join the result",
                )
            } else {
                (
                    format!(
                        "`{}` re-read its CTE {} times",
                        super::node_label(node),
                        units::count(loops)
                    ),
                    "Join the CTE instead of reading it inside a loop, or let PostgreSQL inline it \
                     (NOT MATERIALIZED) so the conditions reach its tables",
                )
            };
            drafts.push(
                ctx.node_draft(
                    np,
                    format!(
                        "{what} ({} each); with what it ran it took {} of the plan's time",
                        units::millis(per_loop),
                        units::share(share)
                    ),
                )
                .evidence("loops", loops)
                .evidence("ms_per_loop", round(per_loop, 4))
                .evidence("inclusive_share", round(share, 4))
                .recommend(advice),
            );
        }
        Ok(drafts)
    }
}
