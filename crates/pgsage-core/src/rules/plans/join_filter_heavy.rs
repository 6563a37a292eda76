use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleMeta, Skip};

use super::context::round;
use super::{PlanContext, PlanRule};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// A join that formed many row pairs only to discard them by its `Join Filter`: at
    /// least `min_removed_rows` rows removed by the join filter (over all loops), at
    /// least `min_removed_share_pct` of the pairs it tested, while the join itself took at
    /// least `min_share_pct` of the plan's time.
    ///
    /// ## Why it matters
    /// A join filter is a condition the join method cannot use to find matching rows (an
    /// inequality, an `OR`, an expression over both sides): the join tests it on every
    /// pair, which for a nested loop is outer × inner rows. Removing 99 % of millions of
    /// pairs is CPU spent for nothing and grows quadratically with the data.
    ///
    /// ## How to fix
    /// Give the join an equality it can hash or merge on (rewrite `a.x + 1 = b.y` as a
    /// condition on a column, split an `OR` into a `UNION ALL` of two joins), or an index
    /// on the inner side that serves the condition (a range condition can be an index
    /// condition of the inner scan of a nested loop). Check the row estimates on both
    /// sides: a misestimate may have made a nested loop look cheap.
    ///
    /// ## Thresholds
    /// - `min_removed_rows` (default 10000): rows removed by the join filter, over all loops.
    /// - `min_removed_share_pct` (default 90): removed over tested pairs (removed + joined).
    /// - `min_share_pct` (default 10): the join's own share of the plan's time.
    ///
    /// Needs EXPLAIN ANALYZE with timing.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/using-explain.html#USING-EXPLAIN-ANALYZE>
    /// - <https://www.postgresql.org/docs/current/planner-optimizer.html>
    pub struct JoinFilterHeavy {
        id: "EXP013",
        name: "join-filter-heavy",
        pack: "plans",
        title: "Join discards most row pairs by its join filter",
        params: {
            min_removed_rows: f64 = ("rows", "Rows removed by the join filter, over all loops"),
            min_removed_share_pct: f64 = ("%", "Removed over tested row pairs"),
            min_share_pct: f64 = ("%", "Smallest share of the plan's time the join itself took"),
        },
    }
}

impl PlanRule for JoinFilterHeavy {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &PlanContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        ctx.require_timing()?;
        let min_removed = p.min_removed_rows;
        let min_removed_share = p.min_removed_share_pct / 100.0;
        let min_share = p.min_share_pct / 100.0;
        let mut drafts = Vec::new();
        for np in &ctx.profile.nodes {
            let node = np.node;
            let Some(per_loop) = node.rows_removed_by_join_filter else {
                continue;
            };
            let loops = node.actual_loops.unwrap_or(1.0).max(1.0);
            let removed = per_loop * loops;
            let joined = node.actual_rows.unwrap_or(0.0) * loops;
            let removed_share = removed / (removed + joined).max(1.0);
            let share = PlanContext::share(np);
            if removed < min_removed || removed_share < min_removed_share || share < min_share {
                continue;
            }
            let filter = node.join_filter.as_deref().unwrap_or("?");
            drafts.push(
                ctx.node_draft(
                    np,
                    format!(
                        "`{}` tested {} row pairs against its join filter `{filter}` and discarded {} of them; \
                         it took {} of the plan's time",
                        super::node_label(node),
                        units::count(removed + joined),
                        units::share(removed_share),
                        units::share(share)
                    ),
                )
                .evidence("rows_removed_by_join_filter", removed)
                .evidence("rows_joined", joined)
                .evidence("removed_share", round(removed_share, 4))
                .evidence("join_filter", filter)
                .recommend(
                    "Give the join a condition it can use to find matches (an equality to hash or merge on, \
                     or an index condition on the inner side) instead of testing every pair",
                ),
            );
        }
        Ok(drafts)
    }
}
