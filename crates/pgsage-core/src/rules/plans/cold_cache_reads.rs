use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleMeta, Skip};

use super::context::round;
use super::{PlanContext, PlanRule};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// A node that read at least `min_read_blocks` shared blocks itself from outside
    /// shared_buffers (`Buffers: shared read=…`, the node's own, children's excluded),
    /// at least `min_read_share_pct` of the shared blocks it touched, while taking at least
    /// `min_share_pct` of the plan's time.
    ///
    /// ## Why it matters
    /// Blocks read outside shared_buffers come from the OS page cache at best and from
    /// disk at worst: the same plan can take 10 ms warm and 2 s cold. A query that is
    /// slow only the first time, or after other queries evicted its data, shows it here;
    /// so does a query that reads far more data than the cache can hold. With
    /// `track_io_timing = on` the plan says how long the reads took.
    ///
    /// ## How to fix
    /// First make the node read less: an index instead of a scan (see EXP002), fewer
    /// columns (narrower rows, TOAST), a partial or covering index. If the working set
    /// genuinely exceeds the cache: `shared_buffers` (the `pgsage audit` memory rules size
    /// it) and RAM for the page cache. Run the query twice: if the second run reads
    /// nothing, it was a cold cache (restart, failover, a large batch job), not a plan
    /// problem; `pg_prewarm` can warm critical tables after a restart. Turn on
    /// `track_io_timing` to see the read time per node.
    ///
    /// ## Thresholds
    /// - `min_read_blocks` (default 1000): shared blocks read by the node itself (8 kB each).
    /// - `min_read_share_pct` (default 50): read blocks over the shared blocks (hit + read)
    ///   the node touched.
    /// - `min_share_pct` (default 10): the node's own share of the plan's time.
    ///
    /// Needs EXPLAIN (ANALYZE, BUFFERS).
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/using-explain.html#USING-EXPLAIN-ANALYZE>
    /// - <https://www.postgresql.org/docs/current/runtime-config-statistics.html#GUC-TRACK-IO-TIMING>
    /// - <https://www.postgresql.org/docs/current/pgprewarm.html>
    pub struct ColdCacheReads {
        id: "EXP012",
        name: "cold-cache-reads",
        pack: "plans",
        title: "Node reads many blocks from outside shared buffers",
        params: {
            min_read_blocks: f64 = ("blocks", "Shared blocks read by the node itself"),
            min_read_share_pct: f64 = ("%", "Read blocks over the shared blocks the node touched"),
            min_share_pct: f64 = ("%", "Smallest share of the plan's time the node itself took"),
        },
    }
}

impl PlanRule for ColdCacheReads {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &PlanContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        ctx.require_timing()?;
        ctx.require_buffers()?;
        let min_blocks = p.min_read_blocks;
        let min_read_share = p.min_read_share_pct / 100.0;
        let min_share = p.min_share_pct / 100.0;
        let mut drafts = Vec::new();
        for np in &ctx.profile.nodes {
            let Some(b) = np.exclusive_buffers else {
                continue;
            };
            let read = b.shared_read as f64;
            let touched = (b.shared_read + b.shared_hit) as f64;
            let read_share = if touched > 0.0 { read / touched } else { 0.0 };
            let share = PlanContext::share(np);
            if read < min_blocks || read_share < min_read_share || share < min_share {
                continue;
            }
            let io_ms = np.node.io_timings.and_then(|t| t.shared_read_ms);
            let mut message = format!(
                "`{}` read {} blocks ({}) from outside shared_buffers, {} of the blocks it touched",
                super::node_label(np.node),
                units::count(read),
                units::bytes(read * 8192.0),
                units::share(read_share)
            );
            if let Some(io) = io_ms {
                message.push_str(&format!(", waiting {} for reads", units::millis(io)));
            }
            message.push_str(&format!(
                "; it took {} of the plan's time",
                units::share(share)
            ));
            let mut draft = ctx
                .node_draft(np, message)
                .evidence("shared_read_blocks", b.shared_read)
                .evidence("shared_hit_blocks", b.shared_hit)
                .evidence("read_share", round(read_share, 4));
            if let Some(io) = io_ms {
                draft = draft.evidence("io_read_ms", round(io, 3));
            }
            drafts.push(draft.recommend(
                "Make the node read less (an index, fewer or narrower columns); if a second run reads \
                 nothing it was a cold cache; if the working set exceeds the cache, size shared_buffers \
                 and RAM for it",
            ));
        }
        Ok(drafts)
    }
}
