use crate::rules::macros::declare_rule;
use crate::rules::{Draft, Skip, WorkloadContext, WorkloadRule};
use crate::units;
use crate::workload::fingerprint::StatementKind;
use crate::workload::QueryStats;

use super::{all_calls, base_evidence, query_object, round1};

declare_rule! {
    /// ## What it detects
    /// The N+1 pattern: a trivial parameterized `SELECT` (mean execution time at most
    /// `max_mean_ms`, at most `max_rows_per_call` rows per call when the source records
    /// rows) executed at least `min_calls` times and making up at least
    /// `min_calls_share_pct` of all executions — an application fetching rows one by one in
    /// a loop (an ORM loading a relation per parent row) instead of in one query.
    ///
    /// ## Why it matters
    /// Each execution is cheap on the server, but each costs a network round trip, a
    /// parse/bind/execute cycle and a context switch: a page that issues 2,000 lookups
    /// spends its time in latency, not in the database, and the server spends its CPU on
    /// per-statement overhead. It scales with the data (N grows), so it gets worse with
    /// time.
    ///
    /// ## How to fix
    /// Fetch the rows in one statement: `WHERE id = ANY($1)` with an array of ids, a join,
    /// or the ORM's batch loading (Django `select_related`/`prefetch_related`, Rails
    /// `includes`, Hibernate batch fetching / `JOIN FETCH`, Odoo `browse(ids).read()`
    /// instead of a loop). Cache lookups of data that rarely changes.
    ///
    /// ## Thresholds
    /// - `min_calls` (default 10000): executions over the capture.
    /// - `min_calls_share_pct` (default 20): share of all executions, in %.
    /// - `max_mean_ms` (default 1): mean execution time of a trivial query, in ms.
    /// - `max_rows_per_call` (default 1): rows per execution (pg_stat_statements only).
    ///
    /// Counts statements run inside functions too (pg_stat_statements.track = all), but not
    /// the foreign key checks PostgreSQL runs itself (`SELECT 1 FROM ONLY … FOR KEY SHARE
    /// OF x`): the application does not loop over them.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/pgstatstatements.html>
    /// - <https://www.postgresql.org/docs/current/functions-comparisons.html#FUNCTIONS-COMPARISONS-ANY-SOME>
    pub struct NPlusOne {
        id: "QRY002",
        name: "n-plus-one-queries",
        pack: "queries",
        title: "A trivial query runs a huge number of times (N+1 pattern)",
        params: {
            min_calls: f64 = ("calls", "Executions over the capture"),
            min_calls_share_pct: f64 = ("%", "Share of all executions"),
            max_mean_ms: f64 = ("ms", "Mean execution time of a trivial query"),
            max_rows_per_call: f64 = ("rows", "Rows per execution of a single-row lookup"),
        },
    }
}

/// Whether the query is a trivial parameterized single-row lookup run very often.
fn is_n_plus_one(
    q: &QueryStats,
    all: u64,
    min_calls: f64,
    min_share: f64,
    max_mean: f64,
    max_rows: f64,
) -> bool {
    let share = if all > 0 {
        100.0 * q.calls as f64 / all as f64
    } else {
        0.0
    };
    q.kind == StatementKind::Read
        && q.query.contains('$')
        // PostgreSQL's own foreign key checks (a write on the referenced table runs one per
        // row, `track = all` shows them): not the application's loop; their cost is
        // IDX005's (the referencing columns' index).
        && !crate::sql::is_foreign_key_check(&q.query)
        && q.calls as f64 >= min_calls
        && share >= min_share
        && q.mean_ms <= max_mean
        && q.rows.is_none_or(|r| r as f64 <= max_rows * q.calls as f64)
}

impl WorkloadRule for NPlusOne {
    fn meta(&self) -> &'static crate::rules::RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &WorkloadContext<'_>) -> Result<Vec<Draft>, Skip> {
        let w = ctx.workload;
        let p: Params = ctx.params()?;
        let min_calls = p.min_calls;
        let min_share = p.min_calls_share_pct;
        let max_mean = p.max_mean_ms;
        let max_rows = p.max_rows_per_call;
        let all = all_calls(w);
        Ok(w
            .queries
            .iter()
            .filter(|q| is_n_plus_one(q, all, min_calls, min_share, max_mean, max_rows))
            .map(|q| {
                let share = 100.0 * q.calls as f64 / all.max(1) as f64;
                let mut d = Draft::new(
                    query_object(q),
                    format!(
                        "`{}` ran {} times ({} of all executions) at {} each: a row-by-row lookup loop",
                        super::short_text(&q.query),
                        units::count(q.calls),
                        units::percent(share),
                        units::millis(q.mean_ms)
                    ),
                )
                .evidence("calls_share_pct", round1(share));
                if let Some(r) = q.rows {
                    d = d.evidence("rows_per_call", round1(r as f64 / q.calls as f64));
                }
                if let Some(s) = w.source.window_seconds.filter(|s| *s > 0.0) {
                    d = d.evidence("calls_per_s", round1(q.calls as f64 / s));
                }
                base_evidence(d, q, w).recommend(
                    "Load the rows in one statement instead of one per parent row: WHERE id = ANY($1) with an array of ids, a join, or the ORM's batch loading (select_related/prefetch_related, includes, JOIN FETCH, browse(ids).read())",
                )
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};
    use crate::workload::fingerprint::fingerprint;

    #[test]
    fn fires_on_a_lookup_loop() {
        let planted = fingerprint(super::super::tests_support::LOOKUP_QUERY);
        assert_fires("QRY002", &planted.to_string());
    }

    #[test]
    fn quiet_on_batched_lookups() {
        assert_quiet("QRY002");
    }

    /// The same counts as a lookup loop, for the check `ri_triggers.c` runs per row
    /// written: not the application's loop.
    #[test]
    fn quiet_on_postgres_own_foreign_key_checks() {
        let query = |text: &str| -> crate::workload::QueryStats {
            serde_json::from_value(serde_json::json!({
                "fingerprint": fingerprint(text).to_string(),
                "query": text,
                "kind": crate::workload::fingerprint::StatementKind::Read,
                "calls": 120_000, "total_ms": 1_200.0, "mean_ms": 0.01,
                "min_ms": 0.005, "max_ms": 0.2, "rows": 120_000,
                "databases": [], "users": [], "applications": [], "buckets": [],
            }))
            .expect("query stats")
        };
        let check = query(
            r#"SELECT $2 FROM ONLY "public"."sale_order" x WHERE "id" OPERATOR(pg_catalog.=) $1 FOR KEY SHARE OF x"#,
        );
        let lookup = query(super::super::tests_support::LOOKUP_QUERY);
        let flagged = |q| super::is_n_plus_one(q, 200_000, 10_000.0, 20.0, 1.0, 1.0);
        assert!(flagged(&lookup), "the same counts on an application lookup");
        assert!(!flagged(&check));
    }
}
