use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleMeta, Skip};

use super::context::round;
use super::{PlanContext, PlanRule};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// JIT compilation taking at least `min_share_pct` of the query's execution time and at
    /// least `min_jit_ms` (the plan's `JIT:` section: generation, inlining, optimization
    /// and emission).
    ///
    /// ## Why it matters
    /// JIT compiles the query's expressions with LLVM before running it, and pays that
    /// again on every execution. It pays off on long analytical queries; when it is a
    /// large part of the time the query would have been faster without it. Usually the
    /// planner's cost crossed `jit_above_cost` (100000 by default) because of a large
    /// estimate, or the thresholds were lowered.
    ///
    /// ## How to fix
    /// For this query: `SET LOCAL jit = off;`. For OLTP/ERP servers: `ALTER SYSTEM SET jit
    /// = off;` and `SELECT pg_reload_conf();`, or raise `jit_above_cost`,
    /// `jit_inline_above_cost` and `jit_optimize_above_cost` (inlining and optimization are
    /// usually most of the time). A misestimate that inflates the cost (EXP001) is worth
    /// fixing too. The `pgsage audit` rule PLN003 sees the same server-wide in
    /// `pg_stat_statements`.
    ///
    /// ## Thresholds
    /// - `min_share_pct` (default 20): JIT time as a share of the execution time.
    /// - `min_jit_ms` (default 10): smallest JIT time worth reporting, ms.
    ///
    /// Needs EXPLAIN ANALYZE (JIT timings are measured).
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/jit-decision.html>
    /// - <https://www.postgresql.org/docs/current/runtime-config-query.html#GUC-JIT-ABOVE-COST>
    pub struct JitShare {
        id: "EXP008",
        name: "jit-share",
        pack: "plans",
        title: "JIT compilation is a large share of the execution time",
        params: {
            min_share_pct: f64 = ("%", "JIT time as a share of the execution time"),
            min_jit_ms: f64 = ("ms", "Smallest JIT time worth reporting"),
        },
    }
}

impl PlanRule for JitShare {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &PlanContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        ctx.require_analyze()?;
        let min_share = p.min_share_pct / 100.0;
        let min_ms = p.min_jit_ms;
        let Some(jit) = &ctx.plan.jit else {
            return Ok(Vec::new());
        };
        let (Some(total), Some(exec)) = (jit.total_ms, ctx.plan.execution_time_ms) else {
            return Ok(Vec::new());
        };
        let share = if exec > 0.0 {
            (total / exec).min(1.0)
        } else {
            0.0
        };
        if total < min_ms || share < min_share {
            return Ok(Vec::new());
        }
        let mut draft = ctx
            .query_draft(
                "JIT",
                share,
                format!(
                    "JIT compiled {} functions in {} ({} of the {} execution time): inlining {}, optimization {}, emission {}",
                    units::count(jit.functions.unwrap_or(0)),
                    units::millis(total),
                    units::share(share),
                    units::millis(exec),
                    units::millis(jit.inlining_ms.unwrap_or(0.0)),
                    units::millis(jit.optimization_ms.unwrap_or(0.0)),
                    units::millis(jit.emission_ms.unwrap_or(0.0))
                ),
            )
            .evidence("jit_total_ms", round(total, 3))
            .evidence("execution_ms", round(exec, 3))
            .evidence("jit_functions", jit.functions.unwrap_or(0));
        for s in [
            "jit_above_cost",
            "jit_inline_above_cost",
            "jit_optimize_above_cost",
        ] {
            if let Some(v) = ctx.setting(s) {
                draft = draft.evidence(s, v);
            }
        }
        Ok(vec![draft
            .recommend(
                "Run this query without JIT (SET LOCAL jit = off), or raise jit_above_cost and \
                 jit_inline/optimize_above_cost so only long queries are compiled",
            )
            .fix(
                "SET LOCAL jit = off;  -- in the transaction that runs the query",
                "none",
                "Execution Time and the JIT section in EXPLAIN ANALYZE",
            )])
    }
}
