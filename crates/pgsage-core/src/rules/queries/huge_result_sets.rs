use crate::rules::macros::declare_rule;
use crate::rules::{Draft, Skip, WorkloadContext, WorkloadRule};
use crate::units;
use crate::workload::fingerprint::StatementKind;

use super::{base_evidence, query_object, round1};

declare_rule! {
    /// ## What it detects
    /// `SELECT` statements that return at least `min_rows_per_call` rows per execution on
    /// average and ran at least `min_calls` times: applications reading whole tables (or
    /// large slices) to filter, count or page through them on the client side.
    ///
    /// ## Why it matters
    /// Every row is read, serialized, sent over the network and decoded by the client; the
    /// work grows with the table. It is usually a missing `WHERE`, a missing `LIMIT` on a
    /// list screen, a count done in the application (`len(query.all())`) or an export run
    /// far more often than needed.
    ///
    /// ## How to fix
    /// Filter and aggregate in SQL (`WHERE`, `count(*)`, `GROUP BY`), page with `LIMIT` and
    /// keyset pagination (`WHERE id > $1 ORDER BY id LIMIT 100`), select only the needed
    /// columns, and stream real exports with `COPY … TO STDOUT` or a cursor.
    ///
    /// ## Thresholds
    /// - `min_rows_per_call` (default 10000): mean rows per execution.
    /// - `min_calls` (default 100): executions over the capture.
    ///
    /// Needs row counts: pg_stat_statements has them; server logs do not (skipped).
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/pgstatstatements.html>
    /// - <https://www.postgresql.org/docs/current/queries-limit.html>
    pub struct HugeResultSets {
        id: "QRY003",
        name: "huge-result-sets",
        pack: "queries",
        title: "A query returns huge numbers of rows",
        params: {
            min_rows_per_call: f64 = ("rows", "Mean rows per execution"),
            min_calls: f64 = ("calls", "Executions over the capture"),
        },
    }
}

impl WorkloadRule for HugeResultSets {
    fn meta(&self) -> &'static crate::rules::RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &WorkloadContext<'_>) -> Result<Vec<Draft>, Skip> {
        let w = ctx.workload;
        let p: Params = ctx.params()?;
        let min_rows = p.min_rows_per_call;
        let min_calls = p.min_calls;
        if !w.queries.is_empty() && w.queries.iter().all(|q| q.rows.is_none()) {
            return Err(Skip::because(
                "the capture has no row counts (server logs do not record them; use pg_stat_statements)",
            ));
        }
        Ok(w
            .queries
            .iter()
            .filter_map(|q| {
                let rows = q.rows?;
                let per_call = rows as f64 / q.calls.max(1) as f64;
                (q.kind == StatementKind::Read
                    && q.calls as f64 >= min_calls
                    && per_call >= min_rows)
                    .then_some((q, rows, per_call))
            })
            .map(|(q, rows, per_call)| {
                let d = Draft::new(
                    query_object(q),
                    format!(
                        "`{}` returns {} rows per call on average ({} rows in {} calls)",
                        super::short_text(&q.query),
                        units::count(per_call),
                        units::count(rows),
                        units::count(q.calls)
                    ),
                )
                .evidence("rows", rows)
                .evidence("rows_per_call", round1(per_call));
                base_evidence(d, q, w).recommend(
                    "Filter, aggregate and page in SQL instead of in the application: add the missing WHERE, count(*) or GROUP BY, LIMIT with keyset pagination, only the needed columns; stream real exports with COPY … TO STDOUT or a cursor",
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
    fn fires_on_a_whole_table_read() {
        let planted = fingerprint(super::super::tests_support::WHOLE_TABLE_QUERY);
        assert_fires("QRY003", &planted.to_string());
    }

    #[test]
    fn quiet_on_paged_reads() {
        assert_quiet("QRY003");
    }
}
