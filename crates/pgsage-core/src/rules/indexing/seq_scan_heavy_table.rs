use crate::report::{ObjectKind, ObjectRef};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::{Statement, Table};
use crate::units;

use super::common::{table_delta, table_rows};

declare_rule! {
    /// ## What it detects
    /// Tables read mostly by sequential scans that each read many rows, while index scans
    /// are few: the signature of a missing index (a filter or join column without one).
    /// Over the basis (deltas when sampled with `--interval`, else since the statistics
    /// reset): at least `min_seq_scans` sequential scans, at a rate of at least
    /// `min_seq_scans_per_hour`, reading on average at least `min_rows_per_scan` rows,
    /// with sequential scans at least `min_seq_scan_pct` % of all scans, on a table of at
    /// least `min_table_rows` rows. When `pg_stat_statements` is available, the top
    /// statements that filter or join on the table (a WHERE or JOIN … ON condition on its
    /// columns) are listed as suspects; statements that touch every row
    /// (`UPDATE … SET state = $1` without WHERE), `DO` blocks, DDL and maintenance are not
    /// a sign of a missing index and are not listed.
    ///
    /// ## Why it matters
    /// A sequential scan reads the whole table to find a few rows: its cost grows with
    /// the table, it evicts useful pages from the cache, and it is usually the slowest
    /// query of an ERP screen or batch once the table has grown. A nightly `pg_dump` or an
    /// occasional report also scans sequentially, hence the rate and count thresholds.
    ///
    /// ## How to fix
    /// Run `EXPLAIN (ANALYZE, BUFFERS)` on the listed statements, find the filter or join
    /// columns that are scanned (`Seq Scan … Filter: …` removing most rows), and create an
    /// index on them with `CREATE INDEX CONCURRENTLY`. Statements that really need every
    /// row (reports, exports) are fine as they are: suppress the finding for the table.
    ///
    /// ## Thresholds
    /// - `min_table_rows` (default 10000): ignore smaller tables (a scan is cheap).
    /// - `min_seq_scans` (default 50): sequential scans over the basis.
    /// - `min_seq_scans_per_hour` (default 10): their rate, so that a daily backup or
    ///   report does not count.
    /// - `min_rows_per_scan` (default 10000): average rows read per sequential scan.
    /// - `min_seq_scan_pct` (default 50): share of sequential scans among all scans of the
    ///   table.
    ///
    /// Counters younger than the audit's `min_stats_age_hours` (or a sampled interval
    /// shorter than 10 minutes) give an "unsure" finding: information, low confidence.
    ///
    /// **IDX006 and IDX009.** When `pg_stat_statements` lets the index advisor name the
    /// index a table needs, IDX009 (`missing-index`) reports it with the
    /// `CREATE INDEX` statement, and IDX006 leaves that table out (the specific finding
    /// wins): IDX006 runs the same advisor, with IDX009's parameters from the audit's
    /// configuration, and skips the tables it recommends an index for, and the
    /// partitions of a partitioned table it recommends one for (all tables are judged
    /// when IDX009 is disabled). IDX006 remains the finding for the tables
    /// whose scans no tracked statement explains: `pg_stat_statements` missing or its
    /// texts hidden, statements beyond the collected top entries, or predicates the
    /// advisor cannot index (expressions on columns, `OR` of different columns).
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ALL-TABLES-VIEW>
    /// - <https://www.postgresql.org/docs/current/using-explain.html>
    /// - <https://www.postgresql.org/docs/current/pgstatstatements.html>
    pub struct SeqScanHeavyTable {
        id: "IDX006",
        name: "seq-scan-heavy-table",
        pack: "indexing",
        title: "Sequential scans where an index is likely missing",
        params: {
            min_table_rows: f64 = ("rows", "Ignore tables with fewer rows than this"),
            min_seq_scans: f64 = ("scans", "Sequential scans over the basis"),
            min_seq_scans_per_hour: f64 = ("scans/h", "Sequential scans per hour"),
            min_rows_per_scan: f64 = ("rows", "Average rows read per sequential scan"),
            min_seq_scan_pct: f64 = ("%", "Share of sequential scans among all scans"),
        },
    }
}

/// Whether `query` names `table` as a whole word (bare, quoted or schema-qualified).
pub(crate) fn mentions(query: &str, table: &str) -> bool {
    let q = query.to_lowercase();
    let t = table.to_lowercase();
    let is_word = |c: char| c.is_alphanumeric() || c == '_' || c == '$';
    let mut from = 0;
    while let Some(pos) = q[from..].find(&t) {
        let start = from + pos;
        let end = start + t.len();
        let before = q[..start].chars().next_back();
        let after = q[end..].chars().next();
        if !before.is_some_and(is_word) && !after.is_some_and(is_word) {
            return true;
        }
        from = end;
    }
    false
}

/// The top statements (by total execution time) that filter or join on the table: only
/// they can be the sign of a missing index. A statement that touches every row
/// (`UPDATE t SET state = $1`), a `DO` block, DDL or maintenance is not one.
fn suspects<'a>(top: &'a [Statement], table: &Table, limit: usize) -> Vec<&'a Statement> {
    let mut found: Vec<&Statement> = top
        .iter()
        .filter(|s| {
            s.query.as_deref().is_some_and(|q| {
                mentions(q, &table.name)
                    && crate::advise::candidates::parse::filters_table(q, &table.name)
            })
        })
        .collect();
    found.sort_by(|a, b| b.total_exec_time_ms.total_cmp(&a.total_exec_time_ms));
    found.truncate(limit);
    found
}

fn truncate(text: &str, max: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        format!("{}…", flat.chars().take(max).collect::<String>())
    }
}

impl SnapshotRule for SeqScanHeavyTable {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min_rows = p.min_table_rows;
        let min_scans = p.min_seq_scans;
        let min_rate = p.min_seq_scans_per_hour;
        let min_rows_per_scan = p.min_rows_per_scan;
        let min_pct = p.min_seq_scan_pct;
        let snap = ctx.snapshot;
        let basis = ctx.basis();
        let hours = (basis.seconds() / 3600.0).max(1.0 / 3600.0);
        let young = ctx
            .stats_window()
            .unsure(crate::knowledge::counters::Verdict::Rate);
        // Tables IDX009 names an index for are its findings, not ours — and so are the
        // partitions of a partitioned table it names one for (the index goes on each).
        let advised = super::missing_index::advised_indexes(ctx);
        let is_advised = |t: &Table| {
            advised
                .iter()
                .any(|a| a.schema == t.schema && a.table == t.name)
        };
        let mut drafts = Vec::new();
        for t in snap.tables.iter().filter(|t| t.kind == "r") {
            let parent = t
                .parent_oid
                .and_then(|oid| snap.tables.iter().find(|p| p.oid == oid));
            if is_advised(t) || parent.is_some_and(is_advised) {
                continue;
            }
            let rows = table_rows(t);
            if rows < min_rows {
                continue;
            }
            let seq = table_delta(ctx, t, |t| t.seq_scan);
            let read = table_delta(ctx, t, |t| t.seq_tup_read);
            let idx = table_delta(ctx, t, |t| t.idx_scan.unwrap_or(0));
            if seq <= 0 {
                continue;
            }
            let per_scan = read as f64 / seq as f64;
            let rate = seq as f64 / hours;
            let pct = 100.0 * seq as f64 / (seq + idx) as f64;
            if (seq as f64) < min_scans
                || rate < min_rate
                || per_scan < min_rows_per_scan
                || pct < min_pct
            {
                continue;
            }
            let statements = snap.statements.as_ref().map(|s| suspects(&s.top, t, 3));
            let mut message = format!(
                "`{}` ({} rows, {}) had {} sequential scans reading {} rows each on average, against {} index scans, over {} ({})",
                t.name,
                units::count(rows),
                units::bytes(t.heap_bytes),
                units::count(seq),
                units::count(per_scan),
                units::count(idx),
                units::duration(basis.seconds()),
                basis.label().replace('_', " ")
            );
            match &statements {
                Some(list) if !list.is_empty() => message.push_str(&format!(
                    "; top statements filtering or joining on it: {}",
                    list.iter()
                        .map(|s| format!(
                            "queryid {} ({} calls, {} mean)",
                            s.queryid,
                            units::count(s.calls),
                            units::millis(s.mean_exec_time_ms)
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                Some(_) => {
                    message.push_str("; no top pg_stat_statements entry filters or joins on it")
                }
                None => {
                    message.push_str("; pg_stat_statements is not available to name the statements")
                }
            }
            let mut draft = Draft::new(
                ObjectRef::in_schema(ObjectKind::Table, &snap.server.database, &t.schema, &t.name),
                message,
            )
            .evidence("seq_scan", seq)
            .evidence("seq_tup_read", read)
            .evidence("rows_per_seq_scan", per_scan.round())
            .evidence("idx_scan", idx)
            .evidence("seq_scan_pct", (pct * 10.0).round() / 10.0)
            .evidence("seq_scans_per_hour", (rate * 10.0).round() / 10.0)
            .evidence("table_rows", rows.round())
            .evidence("table_bytes", t.heap_bytes)
            .evidence("basis", basis.label())
            .evidence("window_s", basis.seconds().round())
            .recommend(format!(
                "EXPLAIN (ANALYZE, BUFFERS) the statements that read `{}`, find the filtered or joined columns behind the sequential scans and index them with CREATE INDEX CONCURRENTLY; leave reports that need every row as they are",
                t.name
            ));
            if let Some(list) = statements.filter(|l| !l.is_empty()) {
                draft = draft.evidence(
                    "statements",
                    serde_json::Value::Array(
                        list.iter()
                            .map(|s| {
                                serde_json::json!({
                                    "queryid": s.queryid,
                                    "calls": s.calls,
                                    "mean_exec_time_ms": (s.mean_exec_time_ms * 100.0).round() / 100.0,
                                    "total_exec_time_ms": s.total_exec_time_ms.round(),
                                    "query": s.query.as_deref().map(|q| truncate(q, 200)),
                                })
                            })
                            .collect(),
                    ),
                );
            }
            if let Some(u) = &young {
                draft = draft.unsure(u.reason.clone(), &u.remedy);
            }
            drafts.push(draft);
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use super::mentions;
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_a_table_scanned_sequentially() {
        assert_fires("IDX006", "public.stock_quant_scan");
    }

    #[test]
    fn quiet_on_indexed_lookups_and_small_tables() {
        assert_quiet("IDX006");
    }

    /// The table IDX009 names an index for is left to it, with IDX009's parameters from
    /// the audit's configuration; with IDX009 disabled, IDX006 reports it again.
    #[test]
    fn defers_to_idx009_only_while_it_runs() {
        use pgsage_testkit::scenario::fixture_path;
        let snap = crate::Snapshot::load(fixture_path("indexing", "missing_index"))
            .expect("fixture (scripts/capture-fixtures.sh)");
        let flagged = |config: &crate::RuleConfig, rule: &str| -> bool {
            crate::audit(&snap, config)
                .findings
                .iter()
                .any(|f| f.rule == rule && f.object.display_name() == "public.stock_move_scan")
        };
        let mut config = crate::RuleConfig::shipped().expect("packs");
        assert!(flagged(&config, "IDX009"));
        assert!(!flagged(&config, "IDX006"));
        config.set_enabled("IDX009", false).expect("IDX009");
        assert!(flagged(&config, "IDX006"));
        // IDX009 on, but with a table threshold above this table: IDX006 has it again.
        config.set_enabled("IDX009", true).expect("IDX009");
        config
            .set_param(
                "IDX009",
                "min_table_rows",
                crate::rules::ParamValue::Number(1e9),
            )
            .expect("param");
        assert!(!flagged(&config, "IDX009"));
        assert!(flagged(&config, "IDX006"));
    }

    #[test]
    fn table_names_match_as_words() {
        assert!(mentions(
            "SELECT count(*) FROM stock_quant WHERE x = $1",
            "stock_quant"
        ));
        assert!(mentions(
            "select * from public.\"stock_quant\"",
            "stock_quant"
        ));
        assert!(!mentions("SELECT * FROM stock_quant_line", "stock_quant"));
        assert!(!mentions("SELECT * FROM old_stock_quant", "stock_quant"));
    }

    /// Only a statement that filters or joins on the table can point at a missing index:
    /// not one that touches every row, not a DO block, not DDL or maintenance.
    #[test]
    fn only_statements_filtering_the_table_are_suspects() {
        use crate::advise::candidates::parse::filters_table;
        let t = "sale_order_line";
        for sql in [
            "SELECT sum(qty) FROM sale_order_line WHERE order_id = i",
            "SELECT l.* FROM sale_order o JOIN sale_order_line l ON l.order_id = o.id WHERE o.id = $1",
            "SELECT * FROM sale_order o WHERE EXISTS (SELECT 1 FROM sale_order_line l WHERE l.order_id = o.id)",
            "UPDATE sale_order_line SET state = $1 WHERE order_id = $2",
            "DELETE FROM public.sale_order_line WHERE lower(state) = $1",
            "WITH c AS (SELECT order_id FROM sale_order_line WHERE qty > $1) SELECT * FROM c",
        ] {
            assert!(filters_table(sql, t), "{sql}");
        }
        for sql in [
            "UPDATE sale_order_line SET state = $1",
            "SELECT count(*) FROM sale_order_line",
            "DO $$ BEGIN FOR i IN 1..400 LOOP PERFORM pg_stat_clear_snapshot(); EXIT WHEN (SELECT n_tup_upd >= 20000 FROM pg_stat_user_tables WHERE relid = 'sale_order_line'::regclass); END LOOP; END $$",
            "VACUUM (ANALYZE) sale_order_line",
            "CREATE INDEX ON sale_order_line (order_id)",
            "INSERT INTO sale_order_line (order_id, qty) SELECT g, g FROM generate_series(1, 10) g",
            "SELECT * FROM sale_order_line l, sale_order o WHERE o.state = $1",
        ] {
            assert!(!filters_table(sql, t), "{sql}");
        }
    }

    /// The old demo's `sale_order_line` (read by sequential scans) was explained by
    /// `UPDATE sale_order_line SET state = $1` and a DO loop waiting for statistics:
    /// neither filters the table. On every fixture and the demo, a cited statement filters
    /// or joins.
    #[test]
    fn statements_without_a_filter_are_not_cited() {
        let paths = pgsage_testkit::scenario::captured_snapshots();
        let mut config = crate::RuleConfig::shipped().expect("packs");
        config.set_enabled("IDX009", false).expect("IDX009");
        config.min_stats_age_seconds = 0.0;
        let mut cited_any = 0;
        for path in &paths {
            let snap = crate::Snapshot::load(path).expect("captured snapshot");
            let report = crate::audit(&snap, &config);
            for q in report
                .findings
                .iter()
                .filter(|f| f.rule == "IDX006")
                .flat_map(|f| {
                    f.evidence
                        .get("statements")
                        .and_then(|s| s.as_array().cloned())
                        .unwrap_or_default()
                })
                .filter_map(|s| s["query"].as_str().map(str::to_owned))
            {
                cited_any += 1;
                let upper = q.to_uppercase();
                assert!(!upper.starts_with("DO "), "{}: {q}", path.display());
                assert!(
                    upper.contains(" WHERE ") || upper.contains(" JOIN "),
                    "{}: cites a statement that neither filters nor joins: {q}",
                    path.display()
                );
            }
        }
        assert!(cited_any > 0, "no IDX006 finding cites a statement");
    }
}
