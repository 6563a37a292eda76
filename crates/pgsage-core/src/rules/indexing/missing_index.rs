use crate::advise::{AdvisorOptions, IndexAdvice};
use crate::config::RuleConfig;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::units;
use crate::workload::Workload;

use super::common::{table_by_name, table_delta, table_rows};

declare_rule! {
    /// ## What it detects
    /// Indexes the workload's statements need and do not have. The statements are the
    /// snapshot's `pg_stat_statements` entries (interval deltas when sampled with
    /// `--interval`, else totals since the reset); the index advisor (the engine of
    /// `pgsage indexes`) parses each one, finds per table the columns compared with a
    /// constant or parameter (equality first, then one range), joined, sorted or grouped
    /// on, weighs them by the statements' execution time, drops what an existing index
    /// already serves, and keeps the candidates that pass the thresholds below. One
    /// finding per recommended index, on its table, with the `CREATE INDEX CONCURRENTLY`
    /// statement, its estimated size, the statements it helps (queryid, calls, total and
    /// mean time, share of the workload) and the table's sequential scans over the basis.
    ///
    /// An audit never talks to the server, so the advice is not validated with
    /// hypothetical indexes: findings have low confidence. `pgsage indexes --dsn …` on a
    /// server with HypoPG measures each statement's planner cost with and without the
    /// index before recommending it (see `docs/indexes.md`).
    ///
    /// **IDX006 and IDX009.** IDX006 (`seq-scan-heavy-table`) reads the table counters and
    /// says "an index is probably missing here"; IDX009 reads the statements and says
    /// which one. A table IDX009 flags is not flagged again by IDX006 (the specific
    /// finding wins): IDX006 runs the same advisor with IDX009's parameters from the
    /// audit's configuration, and leaves out the tables it recommends an index for.
    /// IDX006 still reports the tables whose scans no tracked statement explains
    /// (pg_stat_statements missing, texts hidden, statements the advisor cannot read such
    /// as expressions on columns), and every table when IDX009 is disabled.
    ///
    /// **IDX005 and IDX009.** A recommendation whose only helped statements are the
    /// foreign key checks PostgreSQL runs for writes on the referenced table
    /// (`SELECT 1 FROM ONLY … FOR KEY SHARE OF x`) is IDX005's finding
    /// (`unindexed-foreign-key`) and is not repeated here; when the application's own
    /// statements filter on the same columns, IDX009 reports it too.
    ///
    /// **IDX009 and the index drops.** No drop the audit proposes (IDX001, IDX002, IDX003,
    /// IDX007) removes an index the advisor relies on: the index-drop plan runs the
    /// advisor again without the dropped indexes, and keeps any whose absence would make
    /// it recommend a new index (IDX003 then reports it as info, with the statements that
    /// need it).
    ///
    /// ## Why it matters
    /// A statement that filters a large table on an unindexed column reads the whole
    /// table each time: its time grows with the table, it evicts useful pages from the
    /// cache, and on an ERP it is typically a screen or a scan at the warehouse that
    /// runs hundreds of times an hour. The right index turns each execution into a few
    /// page reads.
    ///
    /// ## How to fix
    /// Check the suggestion with `EXPLAIN (ANALYZE, BUFFERS)` on the listed statements
    /// (or run `pgsage indexes --dsn …` on a server with HypoPG, which does it with
    /// hypothetical indexes), then run the `CREATE INDEX CONCURRENTLY` statement: it
    /// builds without blocking writes (not inside a transaction block; an interrupted
    /// build leaves an invalid index to drop, see IDX004). Weigh the write overhead on
    /// tables written heavily. Afterwards, watch the statements' mean time in
    /// `pg_stat_statements` and the index's size; an index the new one makes redundant
    /// can then be dropped (IDX002).
    ///
    /// ## Thresholds
    /// - `max_indexes` (default 5): indexes recommended per run, most valuable first.
    /// - `max_key_columns` (default 3): key columns of a candidate.
    /// - `max_include_columns` (default 3): `INCLUDE` columns of a covering candidate
    ///   (0: no covering indexes).
    /// - `min_table_rows` (default 10000): smaller tables are ignored (a scan is cheap).
    /// - `max_selectivity_pct` (default 5): the share of the table a predicate may return
    ///   (estimated from `pg_stats`) for an index to pay off.
    /// - `min_cost_drop_pct` (default 50): validated advice only (`pgsage indexes`): the
    ///   planner cost drop a statement needs to count as helped.
    /// - `min_workload_share_pct` (default 1): share of the workload's execution time
    ///   the helped statements must take.
    /// - `min_mean_ms` (default 1): mean execution time of a helped statement, ms.
    /// - `statement_timeout_ms` (default 5000): validated advice only: timeout of each
    ///   `EXPLAIN` on the server.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/indexes.html>
    /// - <https://www.postgresql.org/docs/current/indexes-multicolumn.html>
    /// - <https://www.postgresql.org/docs/current/indexes-index-only-scans.html>
    /// - <https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY>
    /// - <https://www.postgresql.org/docs/current/pgstatstatements.html>
    /// - <https://github.com/HypoPG/hypopg>
    pub struct MissingIndex {
        id: "IDX009",
        name: "missing-index",
        pack: "indexing",
        title: "Missing index for the workload's statements",
        params: {
            max_indexes: f64 = ("indexes", "Recommended indexes per advisor run"),
            max_key_columns: f64 = ("columns", "Key columns per candidate index"),
            max_include_columns: f64 = ("columns", "INCLUDE columns per candidate (0: no covering indexes)"),
            min_table_rows: f64 = ("rows", "Ignore tables with fewer rows than this"),
            max_selectivity_pct: f64 = ("%", "Estimated share of the table a predicate may return"),
            min_cost_drop_pct: f64 = ("%", "Validated: planner cost drop required"),
            min_workload_share_pct: f64 = ("%", "Share of the workload's execution time the helped statements take"),
            min_mean_ms: f64 = ("ms", "Mean execution time of a helped statement"),
            statement_timeout_ms: f64 = ("ms", "Timeout of each EXPLAIN on a server"),
        },
    }
}

/// Advisor options from IDX009's parameters in the audit's configuration.
fn advisor_options(config: &RuleConfig) -> Result<AdvisorOptions, Skip> {
    AdvisorOptions::from_config(config).map_err(|e| Skip(e.to_string()))
}

/// The snapshot's pg_stat_statements workload (built once per audit), or why there is
/// none to advise on.
fn workload<'a>(ctx: &RuleContext<'a>) -> Result<&'a Workload, Skip> {
    let w = ctx.workload()?;
    // Other roles' statement texts are hidden from a role without pg_read_all_stats: with
    // most of the time unattributed, advice from the few visible statements would pass
    // the rest as healthy.
    let attributed_ms: f64 = w.queries.iter().map(|q| q.total_ms).sum();
    let hidden_ms = w.totals.unattributed_ms;
    if (w.queries.is_empty() && w.totals.unattributed_calls > 0)
        || (hidden_ms > 0.0 && hidden_ms >= attributed_ms)
    {
        return Err(Skip(format!(
            "pg_stat_statements texts are hidden for {} of the execution time (other roles' statements): grant pg_read_all_stats to the collecting role",
            units::share(hidden_ms / (hidden_ms + attributed_ms).max(f64::MIN_POSITIVE))
        )));
    }
    Ok(w)
}

/// The unvalidated advice for the snapshot's statements, built once per audit (IDX005,
/// IDX006 and IDX009 share it). Recommendations that only help foreign key checks are
/// left out: an index for a foreign key is IDX005's finding (with the referenced table's
/// write counters), and the same index reported twice is noise.
fn audit_advice<'a>(ctx: &RuleContext<'a>) -> Result<&'a IndexAdvice, Skip> {
    ctx.views
        .index_advice
        .get_or_init(|| advice_on(ctx, ctx.snapshot))
        .as_ref()
        .map_err(Clone::clone)
}

/// The advice for the audit's statements on `snap` (the snapshot, or the snapshot with
/// some indexes removed), without the recommendations that only help foreign key checks.
fn advice_on(ctx: &RuleContext<'_>, snap: &crate::Snapshot) -> Result<IndexAdvice, Skip> {
    let mut opts = advisor_options(ctx.config)?;
    let w = workload(ctx)?;
    opts.database = Some(snap.server.database.clone());
    let mut advice = crate::advise::advise(w, snap, &opts, crate::advise::render::UNVALIDATED);
    advice.recommendations.retain(|r| {
        !r.queries
            .iter()
            .all(|q| crate::sql::is_foreign_key_check(&q.query))
    });
    Ok(advice)
}

/// What IDX009 would recommend in addition to its advice if the indexes `dropped` (oids)
/// were gone: the indexes the workload's statements rely on among them. Empty when IDX009
/// does not run or has no workload to advise on.
pub(crate) fn advised_without(
    ctx: &RuleContext<'_>,
    dropped: &std::collections::BTreeSet<u32>,
) -> Vec<crate::advise::Recommendation> {
    if dropped.is_empty() || !ctx.config.is_enabled(MissingIndex::META.id) {
        return Vec::new();
    }
    let Ok(before) = audit_advice(ctx) else {
        return Vec::new();
    };
    let mut without = ctx.snapshot.clone();
    without.indexes.retain(|i| !dropped.contains(&i.oid));
    let Ok(after) = advice_on(ctx, &without) else {
        return Vec::new();
    };
    let key = |r: &crate::advise::Recommendation| {
        (
            r.schema.clone(),
            r.table.clone(),
            r.columns.clone(),
            r.include.clone(),
            r.predicate.clone(),
        )
    };
    let known: std::collections::BTreeSet<_> = before.recommendations.iter().map(key).collect();
    after
        .recommendations
        .into_iter()
        .filter(|r| !known.contains(&key(r)))
        .collect()
}

/// An index IDX009 recommends: schema, table and key column names (a descending key
/// without its `DESC`).
pub(crate) struct AdvisedIndex {
    /// Schema of the table.
    pub schema: String,
    /// The table.
    pub table: String,
    /// Key column names in order.
    pub columns: Vec<String>,
    /// Its `CREATE INDEX CONCURRENTLY` statement (IDX009's fix).
    pub create_statement: String,
}

/// The indexes IDX009 recommends with its parameters in the audit's configuration, for
/// the rules that leave their table or foreign key to it (IDX006, IDX005). Empty when
/// IDX009 does not run (disabled, or its pack) or there is no workload to advise on:
/// those rules then judge everything themselves.
pub(crate) fn advised_indexes(ctx: &RuleContext<'_>) -> Vec<AdvisedIndex> {
    index_advice(ctx).unwrap_or_default()
}

/// The indexes IDX009 recommends, or `None` when IDX009 gives no advice at all (disabled,
/// no workload, hidden statement texts): a rule that follows IDX009's verdict on a table
/// must then judge it itself.
pub(crate) fn index_advice(ctx: &RuleContext<'_>) -> Option<Vec<AdvisedIndex>> {
    if !ctx.config.is_enabled(MissingIndex::META.id) {
        return None;
    }
    let advice = audit_advice(ctx).ok()?;
    Some(
        advice
            .recommendations
            .iter()
            .map(|r| AdvisedIndex {
                schema: r.schema.clone(),
                table: r.table.clone(),
                columns: r
                    .columns
                    .iter()
                    .map(|c| c.strip_suffix(" DESC").unwrap_or(c).to_owned())
                    .collect(),
                create_statement: r.create_statement.clone(),
            })
            .collect(),
    )
}

impl SnapshotRule for MissingIndex {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let snap = ctx.snapshot;
        let advice = audit_advice(ctx)?;
        let w = workload(ctx)?;
        let basis = ctx.basis();
        let young = ctx.stats_too_young();
        let mut drafts = Vec::new();
        for r in &advice.recommendations {
            let mut d = crate::advise::render::draft(r, &snap.server.database, Some(w));
            if let Some(t) = table_by_name(snap, &r.schema, &r.table) {
                let seq = table_delta(ctx, t, |t| t.seq_scan);
                let read = table_delta(ctx, t, |t| t.seq_tup_read);
                d = d
                    .evidence("table_rows", table_rows(t).round())
                    .evidence("seq_scan", seq)
                    .evidence(
                        "rows_per_seq_scan",
                        if seq > 0 {
                            (read as f64 / seq as f64).round()
                        } else {
                            0.0
                        },
                    )
                    .evidence("basis", basis.label())
                    .evidence("window_s", basis.seconds().round());
                if seq > 0 {
                    d.message.push_str(&format!(
                        "; the table ({} rows) had {} sequential scans reading {} rows each over {}",
                        units::count(table_rows(t)),
                        units::count(seq),
                        units::count(read as f64 / seq as f64),
                        units::duration(basis.seconds())
                    ));
                }
            }
            if let Some(reason) = &young {
                let why = d.confidence_reason.take().unwrap_or_default();
                d = d.low_confidence(format!("{why}; {reason}"));
            }
            drafts.push(d);
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_a_large_table_filtered_on_an_unindexed_column() {
        let findings = assert_fires("IDX009", "public.stock_move_scan");
        for f in &findings {
            assert_eq!(
                f.evidence.get("columns"),
                Some(&serde_json::json!(["product_id"])),
                "{f:#?}"
            );
            let fix = f.fix.as_ref().expect("a fix");
            assert!(
                fix.sql.starts_with("CREATE INDEX CONCURRENTLY") && fix.sql.contains("product_id"),
                "{fix:?}"
            );
            assert!(f.confidence_reason.is_some(), "unvalidated: {f:#?}");
        }
    }

    #[test]
    fn quiet_when_the_index_exists_or_the_predicate_is_unselective() {
        assert_quiet("IDX009");
    }

    #[test]
    fn skipped_without_pg_stat_statements() {
        let path = pgsage_testkit::scenario::fixture_path("indexing", "seq_scans_untracked");
        let snap = crate::Snapshot::load(path).expect("fixture");
        let report = crate::audit(&snap, &crate::RuleConfig::shipped().expect("packs"));
        let skip = report
            .skipped
            .iter()
            .find(|s| s.rule == "IDX009")
            .expect("IDX009 skipped");
        assert!(
            skip.reason.contains("pg_stat_statements"),
            "{}",
            skip.reason
        );
        // IDX006 is then the finding for the table scanned sequentially.
        assert!(report
            .findings
            .iter()
            .any(|f| f.rule == "IDX006" && f.object.name == "stock_quant_scan"));
    }

    #[test]
    fn foreign_key_checks_are_recognized() {
        assert!(crate::sql::is_foreign_key_check(
            "SELECT $2 FROM ONLY \"public\".\"sale_order_line\" x WHERE $1 OPERATOR(pg_catalog.=) \"order_id\" FOR KEY SHARE OF x"
        ));
        assert!(!crate::sql::is_foreign_key_check(
            "SELECT * FROM sale_order_line WHERE order_id = $1 FOR UPDATE"
        ));
    }
}
