use crate::rules::macros::declare_rule;
use crate::rules::{Draft, Skip, WorkloadContext, WorkloadRule};
use crate::units;
use crate::workload::SourceKind;

use super::{base_evidence, query_object, round1, round3};

declare_rule! {
    /// ## What it detects
    /// Queries that spend at least `min_plan_share_pct` of their time (planning plus
    /// execution) in the planner, at least `min_mean_plan_ms` per planning, and at least
    /// `min_plan_ms` in total: statements planned again at every execution although
    /// planning costs more than running them (many-way joins, tables with hundreds of
    /// partitions, huge `IN` lists).
    ///
    /// ## Why it matters
    /// Planning is CPU spent before any row is read, paid again at each execution of an
    /// unprepared statement. On OLTP statements over partitioned tables or wide ORM joins
    /// it can dominate the response time and the server's CPU.
    ///
    /// ## How to fix
    /// Prepare the statement once and execute it many times (protocol-level prepared
    /// statements: most drivers do it when asked, PgBouncer 1.21+ supports them in
    /// transaction mode); then the plan cache reuses a generic plan after five executions
    /// (`plan_cache_mode`). Reduce the planner's search: fewer partitions or partition
    /// pruning on a constant, `join_collapse_limit`/`from_collapse_limit` for the role,
    /// fewer joins. Watch `total_plan_time` in pg_stat_statements afterwards.
    ///
    /// ## Thresholds
    /// - `min_plan_share_pct` (default 30): planning share of planning + execution, in %.
    /// - `min_mean_plan_ms` (default 1): mean planning time, in ms (cheap planning of
    ///   trivial statements is not a problem even when it exceeds their execution).
    /// - `min_plan_ms` (default 10000): total planning time over the capture, in ms.
    ///
    /// Needs `pg_stat_statements.track_planning = on` (off by default), or a log with the
    /// extended protocol's parse/bind steps timed (`log_min_duration_statement = 0`);
    /// skipped otherwise.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/pgstatstatements.html#PGSTATSTATEMENTS-CONFIG-PARAMS>
    /// - <https://www.postgresql.org/docs/current/sql-prepare.html>
    /// - <https://www.postgresql.org/docs/current/runtime-config-query.html#GUC-PLAN-CACHE-MODE>
    pub struct HighPlanningShare {
        id: "QRY004",
        name: "high-planning-share",
        pack: "queries",
        title: "Planning takes a large share of a query's time",
        params: {
            min_plan_share_pct: f64 = ("%", "Planning share of planning + execution time"),
            min_mean_plan_ms: f64 = ("ms", "Mean planning time"),
            min_plan_ms: f64 = ("ms", "Total planning time over the capture"),
        },
    }
}

impl WorkloadRule for HighPlanningShare {
    fn meta(&self) -> &'static crate::rules::RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &WorkloadContext<'_>) -> Result<Vec<Draft>, Skip> {
        let w = ctx.workload;
        let p: Params = ctx.params()?;
        let min_share = p.min_plan_share_pct;
        let min_mean = p.min_mean_plan_ms;
        let min_total = p.min_plan_ms;
        if w.source.track_planning == Some(false) {
            return Err(Skip::because(
                "pg_stat_statements.track_planning is off: planning time is not recorded (turn it on to judge planning)",
            ));
        }
        if w.queries.iter().all(|q| q.plan_ms.is_none()) {
            return Err(Skip::because(match w.source.kind {
                SourceKind::Log => "the log has no timed parse/bind steps (extended protocol with log_min_duration_statement = 0), so planning time is unknown",
                SourceKind::PgStatStatements => "pg_stat_statements recorded no planning time (pg_stat_statements.track_planning is off)",
            }));
        }
        Ok(w
            .queries
            .iter()
            .filter_map(|q| {
                let plan = q.plan_ms?;
                let plans = q.plans.unwrap_or(q.calls as i64).max(1) as f64;
                let share = if plan + q.total_ms > 0.0 {
                    100.0 * plan / (plan + q.total_ms)
                } else {
                    0.0
                };
                let mean = plan / plans;
                (share >= min_share && mean >= min_mean && plan >= min_total)
                    .then_some((q, plan, share, mean))
            })
            .map(|(q, plan, share, mean)| {
                let d = Draft::new(
                    query_object(q),
                    format!(
                        "`{}` spends {} of its time planning ({} per planning, {} in total)",
                        super::short_text(&q.query),
                        units::percent(share),
                        units::millis(mean),
                        units::millis(plan)
                    ),
                )
                .evidence("plan_time_ms", round1(plan))
                .evidence("plan_share_pct", round1(share))
                .evidence("mean_plan_time_ms", round3(mean));
                let d = match q.plans {
                    Some(n) => d.evidence("plans", n),
                    None => d,
                };
                base_evidence(d, q, w).recommend(
                    "Prepare the statement once and execute it many times (driver-level prepared statements; PgBouncer 1.21+ in transaction mode supports them) so the plan is reused; reduce what the planner searches: partition pruning, fewer joins, join_collapse_limit for the role",
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
    fn fires_on_a_query_replanned_at_every_call() {
        assert_fires(
            "QRY004",
            &fingerprint(super::super::tests_support::PLANNING_QUERY).to_string(),
        );
    }

    #[test]
    fn quiet_on_cheap_planning() {
        assert_quiet("QRY004");
    }
}
