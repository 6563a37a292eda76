use crate::questions::cache::{cache_candidates, CacheThresholds};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, Skip, WorkloadContext, WorkloadRule};
use crate::units;

use super::super::queries::query_object;
use super::{base_evidence, round1, short_text};

declare_rule! {
    /// ## What it detects
    /// A hot read an application cache would serve: a `SELECT` run at least
    /// `min_calls_per_s` times per second, fast (mean at most `max_mean_ms`), returning
    /// few rows (at most `max_rows_per_call` per execution, when the source records rows),
    /// that reads only small tables (each at most `max_table_mb`) written rarely (at
    /// least `min_reads_per_write` executions per row inserted, updated or deleted in
    /// them) — the same answer computed again and again (currencies, companies, users'
    /// groups, product categories, configuration parameters).
    ///
    /// Never a statement that is slow because an index is missing: a hot read the index
    /// advisor (IDX009) recommends an index for is left to it (the index, not a cache, is
    /// the fix), and a read slower than `max_mean_ms` is not a candidate. Needs the
    /// tables' sizes and write rates: the audit's snapshot, or `pgsage workload
    /// --snapshot FILE` beside a log capture.
    ///
    /// ## Why it matters
    /// Each execution is cheap, but thousands per second cost a round trip, a parse/bind
    /// cycle and a backend's CPU each: the server spends cores answering a question whose
    /// answer has not changed. An application cache answers it in microseconds, and the
    /// rare writes invalidate it.
    ///
    /// ## How to fix
    /// - ERP side: cache the lookup in the application — Odoo's `@ormcache` on the model
    ///   method (cleared by `registry.clear_cache()` when the table is written), or Redis /
    ///   memcached with a short expiry for other applications; read the rows once per
    ///   request, not per record.
    /// - Database side: nothing to tune on the statement itself; a pooler lowers the cost
    ///   of each round trip while the cache is built.
    ///
    /// ## Thresholds
    /// - `min_calls_per_s` (default 50): executions per second over the capture.
    /// - `max_mean_ms` (default 5): mean execution time, in ms.
    /// - `max_rows_per_call` (default 100): rows per execution (pg_stat_statements only).
    /// - `max_table_mb` (default 64): size of each table read (table and TOAST), in MB.
    /// - `min_reads_per_write` (default 100): executions per row written in the tables.
    ///
    /// Log captures carry no row counts; a log capture's rate is over the capture, the
    /// tables' write rate over the snapshot's basis.
    ///
    /// ## References
    /// - <https://www.odoo.com/documentation/18.0/developer/reference/backend/performance.html#caching>
    /// - <https://redis.io/docs/latest/develop/use/client-side-caching/>
    pub struct CacheCandidate {
        id: "WRK002",
        name: "cache-candidate",
        pack: "workload",
        title: "A hot read of a small, rarely written table: an application cache would serve it",
        params: {
            min_calls_per_s: f64 = ("calls/s", "Executions per second over the capture"),
            max_mean_ms: f64 = ("ms", "Mean execution time"),
            max_rows_per_call: f64 = ("rows", "Rows per execution"),
            max_table_mb: f64 = ("MB", "Size of each table read"),
            min_reads_per_write: f64 = ("×", "Executions per row written in the tables read"),
        },
    }
}

impl WorkloadRule for CacheCandidate {
    fn meta(&self) -> &'static crate::rules::RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &WorkloadContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let t = CacheThresholds {
            min_calls_per_s: p.min_calls_per_s,
            max_mean_ms: p.max_mean_ms,
            max_rows_per_call: p.max_rows_per_call,
            max_table_mb: p.max_table_mb,
            min_reads_per_write: p.min_reads_per_write,
        };
        let w = ctx.workload;
        let cache = cache_candidates(w, ctx.facts, &t).map_err(Skip)?;
        Ok(cache
            .candidates
            .iter()
            .filter_map(|c| {
                let q = w.query(c.fingerprint.parse().ok()?)?;
                let tables = c
                    .tables
                    .iter()
                    .map(|t| {
                        format!(
                            "`{}` ({}, {} rows written/s)",
                            t.name,
                            units::bytes(t.size_bytes),
                            units::number(t.writes_per_s)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(", ");
                let mut d = Draft::new(
                    query_object(q),
                    format!(
                        "`{}` runs {} times per second at {} each, reading {tables}: the same answer again and again",
                        short_text(&c.query),
                        units::number(c.calls_per_s),
                        units::millis(c.mean_ms),
                    ),
                )
                .evidence("calls_per_s", round1(c.calls_per_s))
                .evidence(
                    "tables",
                    c.tables.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", "),
                )
                .evidence(
                    "table_bytes",
                    c.tables.iter().map(|t| t.size_bytes).sum::<i64>(),
                )
                .evidence(
                    "table_writes_per_s",
                    (c.tables.iter().map(|t| t.writes_per_s).sum::<f64>() * 1000.0).round() / 1000.0,
                );
                if let Some(r) = c.rows_per_call {
                    d = d.evidence("rows_per_call", round1(r));
                }
                if let Some(r) = c.reads_per_write {
                    d = d.evidence("reads_per_write", r.round());
                }
                Some(base_evidence(d, q, w).recommend(
                    "Cache the answer in the application: in Odoo, an @ormcache on the model method that reads it (cleared with registry.clear_cache() when the table is written); elsewhere Redis or memcached with a short expiry, or read it once per request instead of per record. The database has nothing to tune here; a pooler lowers the cost of each round trip meanwhile",
                ))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};
    use crate::workload::fingerprint::fingerprint;

    #[test]
    fn fires_on_a_hot_lookup_of_a_small_unwritten_table() {
        let planted = fingerprint("SELECT name, rate FROM res_currency_wrk WHERE id = $1");
        let found = assert_fires("WRK002", &planted.to_string());
        assert!(found.iter().all(|f| f.evidence.contains_key("calls_per_s")
            && f.evidence.contains_key("table_writes_per_s")));
    }

    #[test]
    fn quiet_on_a_hot_written_table_and_on_a_missing_index() {
        assert_quiet("WRK002");
    }

    /// The missing-index twin is quiet because the index advisor names an index for the
    /// lookup (the cache question leaves it to IDX009), not because it is not hot.
    #[test]
    fn a_hot_read_slow_for_want_of_an_index_is_left_to_the_index_advisor() {
        use crate::questions::{answer, Answer, Facts};
        let path = pgsage_testkit::scenario::fixture_path("workload", "hot-lookup-missing-index");
        let snap = crate::Snapshot::load(&path).expect("fixture");
        let w = crate::workload::from_snapshot(&snap).expect("pg_stat_statements");
        let mut config = crate::RuleConfig::shipped().expect("packs");
        let scenario = pgsage_testkit::scenario::Scenario::load("workload").expect("scenario");
        config
            .apply_toml(&scenario.config, "scenario")
            .expect("config");
        let thresholds = crate::engine::question_thresholds(&config);
        let answers = answer(&w, &Facts::new(Some(&snap), &snap.host), &thresholds);
        let Answer::Answered(cache) = &answers.cache else {
            panic!("cache not answered: {answers:#?}");
        };
        let lookup = fingerprint("SELECT id, name FROM product_wrk WHERE default_code = $1");
        assert!(cache.candidates.is_empty(), "{cache:#?}");
        let left = cache
            .left_to_index
            .iter()
            .find(|l| l.fingerprint == lookup.to_string())
            .unwrap_or_else(|| panic!("not left to the index advisor: {cache:#?}"));
        assert!(left.index.contains("default_code"), "{left:#?}");
    }
}
