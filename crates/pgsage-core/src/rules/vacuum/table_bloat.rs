use crate::report::Severity;
use crate::rules::macros::declare_rule;
use crate::rules::vacuum::bloat_estimate::{self as est, Bloat};
use crate::rules::vacuum::common::{last_analyze, maintained, round1, table_object, when};
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::{Snapshot, Table};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// Tables whose heap (main fork, TOAST excluded) is much larger than the same rows
    /// would take after a rewrite: space left behind by deleted and updated rows that
    /// VACUUM made reusable but did not give back.
    ///
    /// The expected size is computed, not measured (no table is read): `reltuples` rows
    /// of the average stored width that `pg_stats` gives for each column (`null_frac`,
    /// `avg_width`), laid out as PostgreSQL does — 23-byte tuple header, null bitmap when
    /// a row has nulls, each type's alignment, 8-byte tuple alignment, 4-byte line
    /// pointer, 24-byte page header, the space the table's `fillfactor` keeps free, at
    /// most 291 rows per 8 kB page — against `relpages` from the same VACUUM/ANALYZE. The
    /// method is documented in `rules/vacuum/bloat_estimate.rs`.
    ///
    /// It only judges a table when the estimate can be trusted, and says nothing about the
    /// others: every column has statistics visible to the role (`pg_stats` needs `SELECT`
    /// on the table — `pg_monitor` alone is not enough: then the rule is skipped with that
    /// reason), `reltuples` is known, few rows were modified since the last ANALYZE
    /// (`max_modified_since_analyze_pct`), no column was dropped (old rows still carry the
    /// dropped values, of unknown width, which would read as bloat), and the table has at
    /// least `min_pages` pages.
    ///
    /// Accuracy, measured against the truth (the size after `VACUUM FULL`; `pgstattuple`
    /// alongside) on PostgreSQL 13–18 by `crates/pgsage/tests/bloat_accuracy.rs`, on
    /// tables of several shapes (narrow, wide text, many nullable columns of mixed types,
    /// fillfactor 70; fresh and 30–70 % bloated): the estimated bloat share is within
    /// −3.1…+4.2 points of the truth on every table and version (the test allows ±10).
    /// Figures in `docs/bloat-estimates.md`.
    ///
    /// ## Why it matters
    /// Bloated tables make sequential scans, backups, replicas and the buffer cache carry
    /// empty space; the space is reused by later inserts but never returned to the
    /// operating system without a rewrite. Heavy bloat usually means that something held
    /// vacuum back for a while (a long transaction, an abandoned replication slot,
    /// autovacuum disabled or too slow for the churn) or that a batch deleted most rows.
    ///
    /// ## How to fix
    /// First find the cause, or the table bloats again: transactions open for hours
    /// (`pg_stat_activity.xact_start`), stale replication slots and prepared transactions
    /// (see VAC007), autovacuum disabled or falling behind on this table (give it its own
    /// `autovacuum_vacuum_scale_factor`/`autovacuum_vacuum_cost_limit`, see VAC005). Then
    /// reclaim the space:
    /// - online, with [`pg_repack`](https://reorg.github.io/pg_repack/) or `pg_squeeze`
    ///   (both offered on Azure Database for PostgreSQL and Amazon RDS/Aurora): they copy
    ///   the table in the background and hold an ACCESS EXCLUSIVE lock only for a moment
    ///   at the start and at the end; they need a primary key (or a unique not-null index)
    ///   and free disk space for a full copy of the table and its indexes;
    /// - offline, `VACUUM (FULL, ANALYZE)`: rewrites the table and its indexes while
    ///   holding an **ACCESS EXCLUSIVE lock** for the whole duration — no reads, no
    ///   writes — and also needs the space of a copy. Only in a maintenance window.
    ///
    /// A plain `VACUUM` does not shrink the file (except empty pages at its very end).
    ///
    /// ## Thresholds
    /// - `min_pages` (default 128 pages = 1 MB): smaller tables are not judged (page
    ///   granularity).
    /// - `max_modified_since_analyze_pct` (default 20): tables with more rows modified
    ///   since their last ANALYZE (`n_mod_since_analyze` vs `reltuples`) are not judged —
    ///   their widths and row count are stale.
    /// - `warning_bloat_pct` (default 35) and `warning_wasted_bytes` (default 64 MB): both
    ///   must be reached. Update-heavy tables keep 10–20 % free space in steady state,
    ///   which is healthy (updates reuse it), and the estimate has a few points of error:
    ///   35 % is above both.
    /// - `critical_bloat_pct` (default 60) and `critical_wasted_bytes` (default 1 GB):
    ///   both reached → critical.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/storage-page-layout.html>
    /// - <https://www.postgresql.org/docs/current/routine-vacuuming.html#VACUUM-FOR-SPACE-RECOVERY>
    /// - <https://www.postgresql.org/docs/current/view-pg-stats.html>
    /// - <https://www.postgresql.org/docs/current/pgstattuple.html>
    /// - <https://reorg.github.io/pg_repack/>
    pub struct TableBloat {
        id: "VAC009",
        name: "table-bloat",
        pack: "vacuum",
        title: "Table bloat",
        params: {
            min_pages: f64 = ("pages", "Tables with fewer pages are not judged"),
            max_modified_since_analyze_pct: f64 = ("%", "Tables with more rows modified since their last ANALYZE (% of reltuples) are not judged"),
            warning_bloat_pct: f64 = ("%", "Estimated wasted share of the heap that warns"),
            warning_wasted_bytes: f64 = ("bytes", "Estimated wasted bytes that warn (with the share)"),
            critical_bloat_pct: f64 = ("%", "Estimated wasted share that is critical"),
            critical_wasted_bytes: f64 = ("bytes", "Estimated wasted bytes that are critical (with the share)"),
        },
    }
}

/// Why a table was not judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotJudged {
    /// Too small, partitioned, temporary, or no rows recorded.
    OutOfScope,
    /// `pg_stats` hides some of its columns from the role.
    Hidden,
    /// Some columns have no statistics (never analysed) or no type facts.
    NoStats,
    /// Too many rows modified since the last ANALYZE.
    Stale,
    /// It has dropped columns.
    DroppedColumns,
}

/// The estimate for one table, with the figures used.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TableEstimate {
    pub bloat: Bloat,
    pub tuple_bytes: f64,
    pub fillfactor: f64,
    pub columns: usize,
}

/// Estimates `t`'s bloat, or says why it cannot be judged.
pub(crate) fn estimate_table(
    snap: &Snapshot,
    t: &Table,
    min_pages: f64,
    max_mod_pct: f64,
) -> Result<TableEstimate, NotJudged> {
    if !maintained(t) || (t.relpages as f64) < min_pages || t.reltuples <= 0.0 {
        return Err(NotJudged::OutOfScope);
    }
    let columns: Vec<_> = snap
        .columns
        .iter()
        .filter(|c| c.table_oid == t.oid && !c.of_index)
        .collect();
    if columns.is_empty() {
        return Err(NotJudged::NoStats);
    }
    if columns.iter().any(|c| c.stats_hidden) {
        return Err(NotJudged::Hidden);
    }
    let shapes: Option<Vec<_>> = columns.iter().map(|c| est::shape_of(c)).collect();
    let Some(shapes) = shapes else {
        return Err(NotJudged::NoStats);
    };
    if 100.0 * t.n_mod_since_analyze as f64 / t.reltuples > max_mod_pct {
        return Err(NotJudged::Stale);
    }
    let natts = columns
        .iter()
        .map(|c| c.table_natts)
        .max()
        .unwrap_or(0)
        .max(0) as usize;
    if natts > columns.len() {
        return Err(NotJudged::DroppedColumns);
    }
    let fillfactor = t
        .reloption("fillfactor")
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(100.0);
    let tuple_bytes = est::heap_tuple_bytes(&shapes, natts);
    let expected = est::heap_pages(
        t.reltuples,
        tuple_bytes,
        est::variable(&shapes),
        fillfactor,
        est::block_size(snap),
    );
    Ok(TableEstimate {
        bloat: Bloat {
            expected_pages: expected,
            actual_pages: t.relpages as f64,
        },
        tuple_bytes,
        fillfactor,
        columns: shapes.len(),
    })
}

impl SnapshotRule for TableBloat {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let gates = est::Gates::read(ctx)?;
        let snap = ctx.snapshot;
        est::require_column_stats(snap, snap.tables.iter().any(|r| r.relpages > 0))?;
        let block = est::block_size(snap);
        let mut judged = 0;
        let mut hidden = 0;
        let mut drafts = Vec::new();
        for t in &snap.tables {
            let e = match estimate_table(snap, t, gates.min_pages, gates.max_modified_pct) {
                Ok(e) => e,
                Err(NotJudged::Hidden) => {
                    hidden += 1;
                    continue;
                }
                Err(_) => continue,
            };
            judged += 1;
            if let Some(critical) = gates.verdict(&e.bloat, block) {
                drafts.push(finding(snap, t, &e, block, critical));
            }
        }
        if judged == 0 && hidden > 0 {
            return Err(Skip::because(format!(
                "pg_stats hides the column statistics of {hidden} table(s) large enough to judge from role {} (it needs SELECT on them; pg_monitor alone cannot read pg_stats), so their row widths are unknown",
                snap.server.user
            )));
        }
        Ok(drafts)
    }
}

fn finding(snap: &Snapshot, t: &Table, e: &TableEstimate, block: f64, critical: bool) -> Draft {
    let pct = e.bloat.wasted_pct();
    let wasted = e.bloat.wasted_pages() * block;
    let name = t.qualified_name();
    let fix = format!(
        "-- 1. Why did it bloat? Long transactions, stale slots and prepared transactions hold vacuum back:\n\
         SELECT pid, usename, state, xact_start FROM pg_stat_activity WHERE xact_start < now() - interval '1 hour' ORDER BY xact_start;\n\
         -- 2. Reclaim online (extension pg_repack, available on Azure and RDS; needs a primary key and space for a copy):\n\
         --    CREATE EXTENSION pg_repack;   then from a shell:  pg_repack --no-order --table={name} --dbname={db}\n\
         -- or offline: ACCESS EXCLUSIVE lock (no reads, no writes) for the whole rewrite:\n\
         VACUUM (FULL, ANALYZE, VERBOSE) {name};",
        db = crate::sql::quote_ident(&snap.server.database),
    );
    Draft::new(
        table_object(snap, t),
        format!(
            "`{}` is estimated {} bloated: {} of its {} heap would be freed by a rewrite ({} pages expected for {} rows of about {}, {} pages actual)",
            t.name,
            units::percent(pct),
            units::bytes(wasted),
            units::bytes(e.bloat.actual_pages * block),
            units::count(e.bloat.expected_pages),
            units::count(t.reltuples),
            units::bytes(e.tuple_bytes),
            units::count(t.relpages),
        ),
    )
    .severity(if critical { Severity::Critical } else { Severity::Warning })
    .evidence("bloat_pct", round1(pct))
    .evidence("wasted_bytes", wasted.round())
    .evidence("actual_pages", t.relpages)
    .evidence("expected_pages", e.bloat.expected_pages)
    .evidence("table_bytes", t.heap_bytes)
    .evidence("reltuples", t.reltuples)
    .evidence("avg_tuple_bytes", round1(e.tuple_bytes))
    .evidence("fillfactor_pct", e.fillfactor)
    .evidence("columns_with_stats", e.columns as u64)
    .evidence("n_mod_since_analyze", t.n_mod_since_analyze)
    .evidence("last_analyze", when(last_analyze(t)))
    .evidence(
        "basis",
        "estimate: reltuples × row width from pg_stats (null_frac, avg_width, alignment, headers, fillfactor) vs relpages",
    )
    .recommend(
        "Find what let the table bloat (long transactions, stale replication slots, autovacuum disabled or too slow for its churn) and fix it first; then rewrite the table online with pg_repack or pg_squeeze, or with VACUUM (FULL) in a maintenance window (it holds an ACCESS EXCLUSIVE lock throughout). Confirm first with pgstattuple_approx() if the extension is available.",
    )
    .fix(
        fix,
        "none",
        "pg_relation_size() after the rewrite; n_dead_tup and last_autovacuum in pg_stat_user_tables so it does not bloat again",
    )
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_a_table_with_most_rows_deleted() {
        let f = assert_fires("VAC009", "public.bloat_order_line");
        assert!(f.iter().all(|f| f.evidence.contains_key("expected_pages")));
    }

    #[test]
    fn quiet_on_fresh_and_rewritten_tables() {
        assert_quiet("VAC009");
    }
}
