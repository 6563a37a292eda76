use crate::plan::{NodeProfile, ParentRelationship};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleMeta, Skip};

use super::context::round;
use super::{PlanContext, PlanRule};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// A Nested Loop whose inner side ran a scan at least `min_loops` times (once per
    /// outer row; through a Memoize, once per cache miss) while the join took at least
    /// `min_share_pct` of the plan's time.
    ///
    /// ## Why it matters
    /// A nested loop is the best join for a few outer rows; for thousands it repeats the
    /// inner scan thousands of times — each index probe is cheap, but 100,000 of them
    /// are not, and they touch the same index and heap pages again and again. A hash or
    /// merge join reads each side once. The planner picks the nested loop when it
    /// expects few outer rows: the usual cause is an underestimate on the outer side
    /// (see EXP001), or hash and merge joins disabled in the session.
    ///
    /// ## How to fix
    /// - Outer rows underestimated: fix the estimate (ANALYZE, extended statistics).
    /// - `enable_hashjoin` / `enable_mergejoin` off (the finding shows settings EXPLAIN
    ///   reported): turn them back on.
    /// - Inner side a sequential scan or a poor index: index the inner table's join
    ///   columns so each probe is cheap.
    /// - An ORM issuing the join per row (N+1) shows the same pattern across queries:
    ///   fetch the rows in one query.
    ///
    /// ## Thresholds
    /// - `min_loops` (default 1000): executions of the inner scan.
    /// - `min_share_pct` (default 20): share of the plan's time taken by the join and
    ///   everything it ran (the inner side's own time is not used: text EXPLAIN rounds
    ///   per-loop times to 0.001 ms, which hides a fast scan run 20,000 times).
    ///
    /// Needs EXPLAIN ANALYZE with timing.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/planner-optimizer.html>
    /// - <https://www.postgresql.org/docs/current/runtime-config-query.html#RUNTIME-CONFIG-QUERY-ENABLE>
    pub struct NestedLoopMany {
        id: "EXP005",
        name: "nested-loop-many",
        pack: "plans",
        title: "Nested loop repeats its inner scan thousands of times",
        params: {
            min_loops: f64 = ("loops", "Executions of the inner scan"),
            min_share_pct: f64 = ("%", "Smallest share of the plan's time taken by the join"),
        },
    }
}

/// The children of node `index` in the profile.
fn children<'p, 'a>(
    ctx: &'p PlanContext<'a>,
    index: usize,
) -> impl Iterator<Item = (usize, &'p NodeProfile<'a>)> {
    ctx.profile
        .nodes
        .iter()
        .enumerate()
        .filter(move |(_, c)| c.parent == Some(index))
}

impl PlanRule for NestedLoopMany {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &PlanContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        ctx.require_timing()?;
        let min_loops = p.min_loops;
        let min_share = p.min_share_pct / 100.0;
        let mut drafts = Vec::new();
        for (i, np) in ctx.profile.nodes.iter().enumerate() {
            if np.node.node_type != "Nested Loop" {
                continue;
            }
            let Some((inner_i, inner)) = children(ctx, i)
                .find(|(_, c)| c.node.parent_relationship == Some(ParentRelationship::Inner))
            else {
                continue;
            };
            // Through a Memoize, the scan runs once per cache miss.
            let (scan, memoized) = if inner.node.node_type == "Memoize" {
                match children(ctx, inner_i).next() {
                    Some((_, c)) => (c, true),
                    None => continue,
                }
            } else {
                (inner, false)
            };
            let loops = scan.node.actual_loops.unwrap_or(0.0);
            // The join's share, not the inner side's: text EXPLAIN rounds per-loop times
            // to 0.001 ms, so a fast inner scan run 20,000 times may show 0 ms.
            let join_share = ctx.inclusive_share(np);
            if loops < min_loops || join_share < min_share {
                continue;
            }
            let per_loop = scan.node.actual_total_time_ms.unwrap_or(0.0);
            let outer = children(ctx, i)
                .find(|(_, c)| c.node.parent_relationship == Some(ParentRelationship::Outer))
                .map(|(_, c)| c.node);
            let disabled: Vec<String> = ["enable_hashjoin", "enable_mergejoin"]
                .into_iter()
                .filter(|s| ctx.setting(s) == Some("off"))
                .map(|s| format!("{s} = off"))
                .collect();
            let mut draft = ctx
                .node_draft(
                    np,
                    format!(
                        "`Nested Loop` ran its inner `{}` {} times{}, {} per run; the join took {} of the plan's time",
                        super::node_label(scan.node),
                        units::count(loops),
                        if memoized { ", once per Memoize cache miss" } else { "" },
                        units::millis(per_loop),
                        units::share(join_share)
                    ),
                )
                .evidence("inner_node_path", scan.path.to_string())
                .evidence("inner_loops", loops)
                .evidence("inner_ms_per_loop", round(per_loop, 4))
                .evidence("inclusive_share", round(join_share, 4));
            if let Some(o) = outer.and_then(|o| Some((o, o.plan_rows?, o.actual_rows?))) {
                draft = draft
                    .evidence("outer_rows_planned", o.1)
                    .evidence("outer_rows_actual", o.2);
            }
            let outer_under = outer
                .and_then(|o| o.rows_estimate())
                .filter(|e| e.underestimated && e.factor >= 10.0);
            let advice = if !disabled.is_empty() {
                draft = draft.evidence("settings", disabled.join(", "));
                format!(
                    "The session has {}: with them on, the planner can join both sides in one pass (hash or merge join)",
                    disabled.join(" and ")
                )
            } else if let Some(e) = outer_under {
                format!(
                    "The planner expected {} outer rows and got {}: fix that estimate (ANALYZE, extended statistics) \
                     so it can choose a hash or merge join",
                    units::count(e.planned),
                    units::count(e.actual)
                )
            } else if scan.node.node_type == "Seq Scan" {
                "Index the inner table's join columns, or let the planner use a hash join"
                    .to_owned()
            } else {
                "Check whether a hash or merge join would be cheaper (compare EXPLAIN ANALYZE with \
                 SET LOCAL enable_nestloop = off), and whether the outer row estimate is right"
                    .to_owned()
            };
            drafts.push(draft.recommend(advice));
        }
        Ok(drafts)
    }
}
