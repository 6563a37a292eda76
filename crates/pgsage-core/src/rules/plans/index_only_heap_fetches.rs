use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleMeta, Skip};

use super::context::round;
use super::{PlanContext, PlanRule};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// An Index Only Scan that had to visit the table anyway: at least `min_heap_fetches`
    /// `Heap Fetches`, for at least `min_fetch_share_pct` of the rows it returned, while the
    /// scan took at least `min_share_pct` of the plan's time.
    ///
    /// ## Why it matters
    /// An index-only scan answers from the index alone only for pages the visibility map
    /// marks all-visible; for every other row it fetches the heap tuple to check
    /// visibility — then it is an index scan with extra steps. The visibility map is set
    /// by VACUUM: a table that is written to (or only inserted into, before 13's insert
    /// threshold) and not vacuumed since loses the benefit of its covering indexes.
    ///
    /// ## How to fix
    /// `VACUUM (ANALYZE) table;` now, then make autovacuum keep up with the table:
    /// lower `autovacuum_vacuum_scale_factor` (and, 13+,
    /// `autovacuum_vacuum_insert_scale_factor` for insert-mostly tables) on the table:
    /// `ALTER TABLE t SET (autovacuum_vacuum_scale_factor = 0.02,
    /// autovacuum_vacuum_insert_scale_factor = 0.02);`. Long-running transactions keep
    /// VACUUM from marking pages all-visible: check `pg_stat_activity` for old `xact_start`.
    ///
    /// ## Thresholds
    /// - `min_heap_fetches` (default 1000): heap fetches (EXPLAIN's total for the node).
    /// - `min_fetch_share_pct` (default 10): heap fetches per row returned (over all loops).
    /// - `min_share_pct` (default 5): the scan's own share of the plan's time.
    ///
    /// Needs EXPLAIN ANALYZE with timing.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/indexes-index-only-scans.html>
    /// - <https://www.postgresql.org/docs/current/routine-vacuuming.html#VACUUM-FOR-VISIBILITY-MAP>
    pub struct HeapFetches {
        id: "EXP006",
        name: "index-only-heap-fetches",
        pack: "plans",
        title: "Index-only scan fetches heap rows (visibility map not current)",
        params: {
            min_heap_fetches: f64 = ("rows", "Heap fetches of the node"),
            min_fetch_share_pct: f64 = ("%", "Heap fetches per row returned"),
            min_share_pct: f64 = ("%", "Smallest share of the plan's time the scan itself took"),
        },
    }
}

impl PlanRule for HeapFetches {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &PlanContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        ctx.require_timing()?;
        let min_fetches = p.min_heap_fetches;
        let min_fetch_share = p.min_fetch_share_pct / 100.0;
        let min_share = p.min_share_pct / 100.0;
        let mut drafts = Vec::new();
        for np in &ctx.profile.nodes {
            let node = np.node;
            if node.node_type != "Index Only Scan" {
                continue;
            }
            let Some(fetches) = node.heap_fetches else {
                continue;
            };
            let rows = node.total_actual_rows().unwrap_or(0.0).max(1.0);
            let fetch_share = (fetches / rows).min(1.0);
            let share = PlanContext::share(np);
            if fetches < min_fetches || fetch_share < min_fetch_share || share < min_share {
                continue;
            }
            let table = node.qualified_relation().unwrap_or_else(|| "?".into());
            drafts.push(
                ctx.node_draft(
                    np,
                    format!(
                        "`{}` fetched {} rows from the table ({} of the rows it returned): the visibility \
                         map of `{table}` is not current; the scan took {} of the plan's time",
                        super::node_label(node),
                        units::count(fetches),
                        units::share(fetch_share),
                        units::share(share)
                    ),
                )
                .evidence("heap_fetches", fetches)
                .evidence("rows", rows)
                .evidence("fetch_share", round(fetch_share, 4))
                .recommend(format!(
                    "Vacuum `{table}` so its pages are marked all-visible, and tune its autovacuum \
                     thresholds so they stay so"
                ))
                .fix(
                    format!("VACUUM (ANALYZE) {table};"),
                    "none",
                    "Heap Fetches of the node in EXPLAIN ANALYZE; pg_class.relallvisible against relpages",
                ),
            );
        }
        Ok(drafts)
    }
}
