use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleMeta, Skip};

use super::context::{round, work_mem_text};
use super::{PlanContext, PlanRule};
use crate::units;

/// Bytes of work_mem one exact heap page takes in a TID bitmap (a page-table entry with
/// its hash overhead).
const BYTES_PER_EXACT_PAGE: f64 = 72.0;

declare_rule! {
    /// ## What it detects
    /// A Bitmap Heap Scan whose bitmap did not fit in `work_mem` and became lossy: at
    /// least `min_lossy_share_pct` of its heap blocks are `lossy`, and the scan took at least
    /// `min_share_pct` of the plan's time.
    ///
    /// ## Why it matters
    /// A lossy bitmap remembers only which pages hold matching rows, not which rows: the
    /// scan must re-check every row on those pages against the condition (`Rows Removed
    /// by Index Recheck`), which costs CPU and makes the bitmap scan slower than it
    /// should be, sometimes slower than a sequential scan.
    ///
    /// ## How to fix
    /// Give the query enough `work_mem` for an exact bitmap: about 72 bytes per heap page
    /// (exact + lossy blocks); the finding gives a value, rounded up to a power of two.
    /// Set it for the query (`SET LOCAL work_mem`) or the role rather than server-wide.
    /// A more selective index (or condition) makes the bitmap smaller too.
    ///
    /// ## Thresholds
    /// - `min_lossy_share_pct` (default 10): share of the heap blocks that are lossy.
    /// - `min_share_pct` (default 5): the scan's own share of the plan's time.
    ///
    /// Needs EXPLAIN ANALYZE with timing.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/using-explain.html>
    /// - <https://www.postgresql.org/docs/current/runtime-config-resource.html#GUC-WORK-MEM>
    pub struct LossyBitmap {
        id: "EXP004",
        name: "lossy-bitmap",
        pack: "plans",
        title: "Bitmap heap scan went lossy",
        params: {
            min_lossy_share_pct: f64 = ("%", "Share of the heap blocks that are lossy"),
            min_share_pct: f64 = ("%", "Smallest share of the plan's time the scan itself took"),
        },
    }
}

impl PlanRule for LossyBitmap {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &PlanContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        ctx.require_timing()?;
        let min_lossy = p.min_lossy_share_pct / 100.0;
        let min_share = p.min_share_pct / 100.0;
        let mut drafts = Vec::new();
        for np in &ctx.profile.nodes {
            let node = np.node;
            let Some(lossy) = node.lossy_heap_blocks.filter(|l| *l > 0) else {
                continue;
            };
            let exact = node.exact_heap_blocks.unwrap_or(0);
            let pages = (lossy + exact) as f64;
            let lossy_share = lossy as f64 / pages;
            let share = PlanContext::share(np);
            if lossy_share < min_lossy || share < min_share {
                continue;
            }
            let target = work_mem_text(pages * BYTES_PER_EXACT_PAGE / 1024.0);
            let rechecked = node.rows_removed_by_index_recheck.unwrap_or(0.0)
                * node.actual_loops.unwrap_or(1.0).max(1.0);
            drafts.push(
                ctx.node_draft(
                    np,
                    format!(
                        "`{}` kept {} of its {} heap blocks only as lossy pages: every row on them was \
                         re-checked ({} rows removed by the recheck); the scan took {} of the plan's time",
                        super::node_label(node),
                        units::share(lossy_share),
                        units::count(pages),
                        units::count(rechecked),
                        units::share(share)
                    ),
                )
                .evidence("lossy_blocks", lossy)
                .evidence("exact_blocks", exact)
                .evidence("lossy_share", round(lossy_share, 4))
                .evidence("rows_removed_by_recheck", rechecked)
                .evidence("suggested_work_mem", target.clone())
                .recommend(format!(
                    "Run the query with work_mem = '{target}' (SET LOCAL or per role) so the bitmap stays exact"
                ))
                .fix(
                    format!("SET LOCAL work_mem = '{target}';  -- in the transaction that runs the query"),
                    "none",
                    "Heap Blocks: lossy= in EXPLAIN ANALYZE",
                ),
            );
        }
        Ok(drafts)
    }
}
