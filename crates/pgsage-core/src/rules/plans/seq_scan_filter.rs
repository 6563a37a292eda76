use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleMeta, Skip};

use super::context::round;
use super::{filter_columns, PlanContext, PlanRule};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// A sequential scan (parallel or not) that reads a large relation only to throw
    /// most of its rows away by its `Filter`: at least `min_removed_share_pct` of the rows
    /// read removed, at least `min_rows_read` rows read (over all loops and workers), and
    /// the scan itself taking at least `min_share_pct` of the plan's time.
    ///
    /// ## Why it matters
    /// A sequential scan reads every page of the table whatever the filter keeps: its
    /// cost grows with the table, not with the result. When the filter keeps a few
    /// percent of the rows, an index on the filtered columns reads only those rows'
    /// pages, often hundreds of times less.
    ///
    /// ## How to fix
    /// Index the filtered columns, equality columns first, then one range column:
    /// `CREATE INDEX CONCURRENTLY ON table (eq_col, range_col);` (`CONCURRENTLY` does not
    /// block writes; it cannot run inside a transaction block). The finding gives the
    /// statement when it can read the columns from the filter. If only a fixed subset of
    /// rows is ever queried (`WHERE state = 'draft'`), a partial index
    /// (`… WHERE state = 'draft'`) is smaller. If the filter applies a function to the
    /// column, index the expression. Re-run EXPLAIN ANALYZE afterwards; check the index
    /// is used (`pg_stat_user_indexes.idx_scan`) and drop it if it is not.
    ///
    /// ## Thresholds
    /// - `min_removed_share_pct` (default 90): share of the rows read that the filter
    ///   removed.
    /// - `min_rows_read` (default 10000): rows read (kept + removed, × loops) — small
    ///   tables are read faster than an index is.
    /// - `min_share_pct` (default 10): the scan's own share of the plan's time.
    ///
    /// Needs EXPLAIN ANALYZE with timing.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/indexes-multicolumn.html>
    /// - <https://www.postgresql.org/docs/current/indexes-partial.html>
    /// - <https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY>
    pub struct SeqScanFilter {
        id: "EXP002",
        name: "seq-scan-filter",
        pack: "plans",
        title: "Sequential scan filters most rows away",
        params: {
            min_removed_share_pct: f64 = ("%", "Share of the rows read that the filter removed"),
            min_rows_read: f64 = ("rows", "Rows read (kept + removed, over all loops) that make a scan large"),
            min_share_pct: f64 = ("%", "Smallest share of the plan's time the scan itself took"),
        },
    }
}

impl PlanRule for SeqScanFilter {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &PlanContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        ctx.require_timing()?;
        let min_removed = p.min_removed_share_pct / 100.0;
        let min_rows = p.min_rows_read;
        let min_share = p.min_share_pct / 100.0;
        let mut drafts = Vec::new();
        for np in &ctx.profile.nodes {
            let node = np.node;
            if node.node_type != "Seq Scan" {
                continue;
            }
            let (Some(removed_share), Some(removed)) =
                (node.filter_removed_share(), node.rows_removed_by_filter)
            else {
                continue;
            };
            let loops = node.actual_loops.unwrap_or(1.0).max(1.0);
            let read = (removed + node.actual_rows.unwrap_or(0.0)) * loops;
            let share = PlanContext::share(np);
            if removed_share < min_removed || read < min_rows || share < min_share {
                continue;
            }
            let table = node.qualified_relation().unwrap_or_else(|| "?".into());
            let filter = node.filter.as_deref().unwrap_or("");
            let columns = filter_columns(filter);
            let mut draft = ctx
                .node_draft(
                    np,
                    format!(
                        "`Seq Scan on {table}` read {} rows and its filter `{filter}` removed {} of them, \
                         taking {} ({} of the plan's time)",
                        units::count(read),
                        units::share(removed_share),
                        units::millis(np.exclusive_ms.unwrap_or(0.0)),
                        units::share(share)
                    ),
                )
                .evidence("rows_read", read)
                .evidence("rows_kept", node.actual_rows.unwrap_or(0.0) * loops)
                .evidence("removed_share", round(removed_share, 4))
                .evidence("filter", filter);
            if columns.is_empty() {
                draft = draft.recommend(format!(
                    "Index what the filter tests on `{table}` (an expression index if it applies a \
                     function to a column), or a partial index if the query always selects the same \
                     few rows; then re-check the plan"
                ));
            } else {
                let cols = columns.join(", ");
                draft = draft
                    .evidence("index_columns", cols.clone())
                    .recommend(format!(
                        "Consider an index on `{table}` ({cols}) so the query reads only the rows it keeps; \
                         check with EXPLAIN ANALYZE that the planner uses it"
                    ))
                    .fix(
                        format!("CREATE INDEX CONCURRENTLY ON {table} ({cols});"),
                        "none",
                        "the plan (Index Scan or Bitmap Heap Scan instead of Seq Scan) and pg_stat_user_indexes.idx_scan",
                    );
            }
            drafts.push(draft);
        }
        Ok(drafts)
    }
}
