use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleMeta, Skip};

use super::context::round;
use super::{PlanContext, PlanRule};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// A Gather or Gather Merge that launched fewer parallel workers than planned (`Workers
    /// Launched` < `Workers Planned`), when the parallel part took at least `min_share_pct`
    /// of the plan's time.
    ///
    /// ## Why it matters
    /// The planner costed the query for N workers; with fewer, the leader does their
    /// share of the work and the query runs up to N+1 times slower than planned. Workers
    /// come from a server-wide pool (`max_parallel_workers`, itself taken from
    /// `max_worker_processes`): when other queries hold them, or the pool is too small,
    /// queries get fewer or none.
    ///
    /// ## How to fix
    /// Check the pool: `max_parallel_workers` (and `max_worker_processes`, which bounds
    /// it and needs a restart) against the concurrent parallel queries; lower
    /// `max_parallel_workers_per_gather` so more queries get some workers; or run the
    /// heavy reporting queries when the pool is free. The `pgsage audit` rule PLN005
    /// checks these settings against the CPUs.
    ///
    /// ## Thresholds
    /// - `min_share_pct` (default 20): share of the plan's time taken by the Gather and
    ///   everything below it.
    ///
    /// Needs EXPLAIN ANALYZE with timing.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/how-parallel-query-works.html>
    /// - <https://www.postgresql.org/docs/current/runtime-config-resource.html#GUC-MAX-PARALLEL-WORKERS>
    pub struct ParallelNotLaunched {
        id: "EXP007",
        name: "parallel-workers-not-launched",
        pack: "plans",
        title: "Parallel workers planned but not launched",
        params: {
            min_share_pct: f64 = ("%", "Smallest share of the plan's time taken by the parallel part"),
        },
    }
}

impl PlanRule for ParallelNotLaunched {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &PlanContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        ctx.require_timing()?;
        let min_share = p.min_share_pct / 100.0;
        let mut drafts = Vec::new();
        for np in &ctx.profile.nodes {
            let node = np.node;
            let (Some(planned), Some(launched)) = (node.workers_planned, node.workers_launched)
            else {
                continue;
            };
            let share = ctx.inclusive_share(np);
            if launched >= planned || share < min_share {
                continue;
            }
            let mut draft = ctx
                .node_draft(
                    np,
                    format!(
                        "`{}` planned {planned} parallel workers and launched {launched}: the leader did \
                         their work; the parallel part took {} of the plan's time",
                        super::node_label(node),
                        units::share(share)
                    ),
                )
                .evidence("workers_planned", planned)
                .evidence("workers_launched", launched)
                .evidence("inclusive_share", round(share, 4));
            for s in [
                "max_parallel_workers",
                "max_worker_processes",
                "max_parallel_workers_per_gather",
            ] {
                if let Some(v) = ctx.setting(s) {
                    draft = draft.evidence(s, v);
                }
            }
            drafts.push(draft.recommend(
                "Check the parallel worker pool (max_parallel_workers, max_worker_processes) against the \
                 parallel queries running at the same time, or lower max_parallel_workers_per_gather",
            ));
        }
        Ok(drafts)
    }
}
