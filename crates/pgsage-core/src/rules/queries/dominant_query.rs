use crate::rules::macros::declare_rule;
use crate::rules::{Draft, Skip, WorkloadContext, WorkloadRule};
use crate::units;

use super::{base_evidence, is_dml, query_object};

declare_rule! {
    /// ## What it detects
    /// One query (a fingerprint: the same statement with any constants) that takes at least
    /// `min_share_pct` of the workload's execution time, and at least `min_total_ms` in
    /// absolute terms. Only statements that read or write data count (`SELECT`, `INSERT`,
    /// `UPDATE`, `DELETE`, `MERGE`, `COPY`), not DDL, `DO` blocks or procedure calls.
    ///
    /// ## Why it matters
    /// When one query takes most of the server's time, it is the first and often the only
    /// thing worth tuning: halving it frees more capacity than tuning everything else.
    /// It is also a risk: if it slows down (a plan flip, growing data), the whole server
    /// does.
    ///
    /// ## How to fix
    /// Look at its plan: `EXPLAIN (ANALYZE, BUFFERS)` with typical constants (the
    /// `example` of a log capture, or `EXPLAIN (GENERIC_PLAN)` on PostgreSQL 16+ for the
    /// normalized text). Add the index it lacks (`pgsage indexes`), rewrite it, or cache
    /// its result in the application. If it runs very often, see whether the application
    /// can call it less (QRY002).
    ///
    /// ## Thresholds
    /// - `min_share_pct` (default 50): share of the total execution time, in %.
    /// - `min_total_ms` (default 60000): ignore queries with less execution time than
    ///   this over the capture, in ms.
    ///
    /// Uses deltas over the sampled window with `--interval`, else totals since the
    /// pg_stat_statements reset (lower confidence while they are young); or a log capture.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/pgstatstatements.html>
    /// - <https://www.postgresql.org/docs/current/using-explain.html>
    pub struct DominantQuery {
        id: "QRY001",
        name: "dominant-query",
        pack: "queries",
        title: "One query takes most of the execution time",
        params: {
            min_share_pct: f64 = ("%", "Share of the total execution time"),
            min_total_ms: f64 = ("ms", "Minimum execution time of the query over the capture"),
        },
    }
}

impl WorkloadRule for DominantQuery {
    fn meta(&self) -> &'static crate::rules::RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &WorkloadContext<'_>) -> Result<Vec<Draft>, Skip> {
        let w = ctx.workload;
        let p: Params = ctx.params()?;
        let min_share = p.min_share_pct;
        let min_total = p.min_total_ms;
        Ok(w
            .queries
            .iter()
            .filter(|q| is_dml(q) && q.total_ms >= min_total && q.share_pct(&w.totals) >= min_share)
            .map(|q| {
                let share = q.share_pct(&w.totals);
                let d = Draft::new(
                    query_object(q),
                    format!(
                        "`{}` takes {} of the execution time ({} in {} calls, {} each)",
                        super::short_text(&q.query),
                        units::percent(share),
                        units::millis(q.total_ms),
                        units::count(q.calls),
                        units::millis(q.mean_ms)
                    ),
                );
                base_evidence(d, q, w).recommend(
                    "Tune this query first: check its plan with EXPLAIN (ANALYZE, BUFFERS) on typical constants, add the index it lacks (pgsage indexes), rewrite it or cache its result; see whether the application can call it less often",
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
    fn fires_on_the_planted_dominant_query() {
        let planted = fingerprint(super::super::tests_support::DOMINANT_QUERY);
        assert_fires("QRY001", &planted.to_string());
    }

    #[test]
    fn quiet_on_a_balanced_workload() {
        assert_quiet("QRY001");
    }
}
