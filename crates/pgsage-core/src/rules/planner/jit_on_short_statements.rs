use crate::knowledge::jit;
use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::{Snapshot, Statement};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// JIT compilation enabled (`jit = on`) where it costs short statements more than it
    /// saves, shown either way:
    /// - **measured**: in `pg_stat_statements` (PostgreSQL 15+, which records JIT time),
    ///   statements whose mean execution time is at most `short_statement_ms` spent at
    ///   least `min_jit_share_pct` of their execution time compiling (generation,
    ///   inlining, optimization, emission), and at least `min_jit_time_ms` in total;
    /// - **configured**: `jit_above_cost` lowered below `min_jit_above_cost`, so even
    ///   cheap statements are compiled.
    ///
    /// ## Why it matters
    /// JIT compiles expressions with LLVM before running a query: tens to hundreds of
    /// milliseconds per execution, paid again by every execution (nothing is cached). It
    /// pays off on long analytical scans; on OLTP statements that run in milliseconds —
    /// ERP order lookups, stock moves — it multiplies their latency, often when the
    /// planner's cost estimate is inflated by a misestimate rather than by real work.
    ///
    /// ## How to fix
    /// For an OLTP/ERP server: `ALTER SYSTEM SET jit = off;` and `SELECT pg_reload_conf();`
    /// (no restart), or keep JIT for reporting roles only (`ALTER ROLE reporting SET jit =
    /// on`). If JIT must stay on, put `jit_above_cost`, `jit_inline_above_cost` and
    /// `jit_optimize_above_cost` back to their defaults (100000, 500000, 500000) or higher.
    /// On managed services set them in the server parameters of the portal. Watch
    /// `mean_exec_time` and the `jit_*_time` columns of `pg_stat_statements` afterwards.
    ///
    /// ## Thresholds
    /// - `min_jit_above_cost` (default 10000): a lower `jit_above_cost` warns even without
    ///   measurements.
    /// - `short_statement_ms` (default 100): statements with a mean execution time up to
    ///   this are short.
    /// - `min_jit_share_pct` (default 20): JIT share of the short statements' execution
    ///   time that warns, in %.
    /// - `min_jit_time_ms` (default 10000): ignore less total JIT time than this, in ms.
    ///
    /// Uses deltas over the sampled window with `--interval`, else totals since the
    /// `pg_stat_statements` reset (lower confidence while they are young). Skipped when the
    /// thresholds are not lowered and `pg_stat_statements` is missing or too old (before
    /// PostgreSQL 15) to report JIT time. When JIT thresholds are lowered but no statement
    /// recorded any JIT time, the server may lack LLVM support (`SELECT
    /// pg_jit_available()`): the finding then has low confidence. Over an interval, other
    /// roles' entries read without `pg_read_all_stats` (queryid hidden) cannot be matched
    /// between the samples: when they exist and nothing is flagged, the rule is skipped.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/jit-decision.html>
    /// - <https://www.postgresql.org/docs/current/runtime-config-query.html#GUC-JIT-ABOVE-COST>
    /// - <https://www.postgresql.org/docs/current/pgstatstatements.html>
    pub struct JitOnShortStatements {
        id: "PLN003",
        name: "jit-on-short-statements",
        pack: "planner",
        title: "JIT compilation slows down short statements",
        params: {
            min_jit_above_cost: f64 = ("cost units", "jit_above_cost below this warns without measurements"),
            short_statement_ms: f64 = ("ms", "Mean execution time up to which a statement is short"),
            min_jit_share_pct: f64 = ("%", "JIT share of short statements' execution time that warns"),
            min_jit_time_ms: f64 = ("ms", "Minimum total JIT time of short statements"),
        },
    }
}

/// JIT use of the short statements over the basis.
#[derive(Debug, Default, PartialEq)]
struct JitUse {
    statements: usize,
    statements_with_jit: usize,
    calls: i64,
    exec_ms: f64,
    jit_ms: f64,
}

impl JitUse {
    fn share_pct(&self) -> f64 {
        if self.exec_ms > 0.0 {
            100.0 * self.jit_ms / self.exec_ms
        } else {
            0.0
        }
    }
}

/// An entry of another role read without `pg_read_all_stats`: no text, queryid 0.
fn hidden_queryid(s: &Statement) -> bool {
    s.queryid == 0 && s.query.is_none()
}

fn same_entry(a: &Statement, b: &Statement) -> bool {
    a.queryid == b.queryid
        && a.user == b.user
        && a.database == b.database
        && a.toplevel == b.toplevel
}

/// Sums JIT and execution time of statements whose mean time is at most `short_ms`,
/// as deltas against `baseline` entries when given.
fn short_statement_jit(top: &[Statement], baseline: Option<&[Statement]>, short_ms: f64) -> JitUse {
    let mut u = JitUse::default();
    for s in top {
        // Other roles' entries read without pg_read_all_stats all have queryid 0: their
        // deltas cannot be matched between the two samples.
        if baseline.is_some() && hidden_queryid(s) {
            continue;
        }
        let before = baseline.and_then(|b| b.iter().find(|p| same_entry(p, s)));
        let calls = s.calls - before.map_or(0, |p| p.calls);
        let exec = s.total_exec_time_ms - before.map_or(0.0, |p| p.total_exec_time_ms);
        let jit = s.jit_time_ms.unwrap_or(0.0) - before.and_then(|p| p.jit_time_ms).unwrap_or(0.0);
        if calls <= 0 || exec <= 0.0 || exec / calls as f64 > short_ms {
            continue;
        }
        u.statements += 1;
        u.calls += calls;
        u.exec_ms += exec;
        if jit > 0.0 {
            u.statements_with_jit += 1;
            u.jit_ms += jit;
        }
    }
    u
}

/// Why JIT time cannot be measured, if it cannot.
fn unmeasurable(snap: &Snapshot) -> Option<String> {
    let Some(st) = &snap.statements else {
        return Some(match snap.gap("pg_stat_statements") {
            Some(g) => format!("pg_stat_statements unavailable: {}", g.why),
            None => "pg_stat_statements is not installed".to_owned(),
        });
    };
    if snap.server.major() < 15 || st.top.iter().all(|s| s.jit_time_ms.is_none()) {
        return Some(format!(
            "pg_stat_statements {} on PostgreSQL {} does not record JIT time (needs PostgreSQL 15+, extension 1.10+)",
            st.extension_version,
            snap.server.major()
        ));
    }
    None
}

impl SnapshotRule for JitOnShortStatements {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min_above = p.min_jit_above_cost;
        let short_ms = p.short_statement_ms;
        let min_share = p.min_jit_share_pct;
        let min_jit_ms = p.min_jit_time_ms;
        let snap = ctx.snapshot;
        if ctx.setting("jit")?.as_bool() != Some(true) {
            return Ok(vec![]);
        }
        let above = ctx
            .setting("jit_above_cost")?
            .as_f64()
            .ok_or_else(|| Skip::because("jit_above_cost is not a number"))?;
        if above < 0.0 {
            // -1 disables JIT.
            return Ok(vec![]);
        }
        let lowered = above < min_above;
        let unmeasurable = unmeasurable(snap);
        if let (Some(why), false) = (&unmeasurable, lowered) {
            return Err(Skip::because(why.clone()));
        }
        let basis = ctx.basis();
        let usage = match (&unmeasurable, &snap.statements) {
            (None, Some(st)) => Some(short_statement_jit(
                &st.top,
                snap.baseline
                    .as_ref()
                    .and_then(|b| b.statements.as_ref())
                    .map(|b| b.top.as_slice()),
                short_ms,
            )),
            _ => None,
        };
        let measured = usage
            .as_ref()
            .is_some_and(|u| u.jit_ms >= min_jit_ms && u.share_pct() >= min_share);
        if !lowered && !measured {
            // Over an interval, other roles' entries (hidden queryids) cannot be measured.
            let hidden = match (&snap.baseline, &snap.statements) {
                (Some(_), Some(st)) => st.top.iter().filter(|s| hidden_queryid(s)).count(),
                _ => 0,
            };
            if hidden > 0 {
                return Err(Skip::because(format!(
                    "{} pg_stat_statements entries of other roles have their queryid hidden (the collecting role lacks pg_read_all_stats), so their JIT time over the interval cannot be measured: collect as a role with pg_monitor",
                    units::count(hidden)
                )));
            }
            return Ok(vec![]);
        }
        let setting_num = |name: &str| snap.setting(name).and_then(|s| s.as_f64());
        let mut message = String::from("`jit` is on");
        if lowered {
            message.push_str(&format!(
                " with `jit_above_cost` = {above} (default {}), so cheap statements are compiled too",
                jit::DEFAULT_ABOVE_COST
            ));
        }
        if let Some(u) = usage.as_ref().filter(|_| measured) {
            message.push_str(&format!(
                "; {} short statements (mean ≤ {}) spent {} compiling, {} of their {} of execution",
                units::count(u.statements_with_jit),
                units::millis(short_ms),
                units::millis(u.jit_ms),
                units::percent(u.share_pct()),
                units::millis(u.exec_ms)
            ));
        }
        let mut draft = Draft::new(ObjectRef::setting("jit"), message)
            .evidence("jit_above_cost", above)
            .evidence("basis", basis.label())
            .evidence("basis_seconds", basis.seconds().round());
        for name in ["jit_inline_above_cost", "jit_optimize_above_cost"] {
            if let Some(v) = setting_num(name) {
                draft = draft.evidence(name, v);
            }
        }
        match &usage {
            Some(u) => {
                draft = draft
                    .evidence("short_statements", u.statements)
                    .evidence("short_statements_with_jit", u.statements_with_jit)
                    .evidence("short_statement_calls", u.calls)
                    .evidence("short_statement_exec_time_ms", u.exec_ms.round())
                    .evidence("short_statement_jit_time_ms", u.jit_ms.round())
                    .evidence("jit_share_pct", (u.share_pct() * 10.0).round() / 10.0);
            }
            None => {
                if let Some(why) = &unmeasurable {
                    draft = draft.evidence("jit_time", why.as_str());
                }
            }
        }
        if measured {
            if let Some(reason) = ctx.stats_too_young() {
                draft = draft.low_confidence(reason);
            }
        } else if usage
            .as_ref()
            .is_some_and(|u| u.statements > 0 && u.statements_with_jit == 0)
        {
            draft = draft.low_confidence(
                "no statement recorded JIT time although the thresholds are lowered: this build may lack LLVM support (check SELECT pg_jit_available()); the setting still compiles every statement once LLVM is installed",
            );
        }
        // JIT off when it measurably costs, or when the recommended configuration turns
        // it off for the profile (oltp, web); else the default thresholds back.
        let changes: Vec<(&str, String)> = match ctx.sized_value("jit") {
            Some(v) => vec![("jit", v)],
            None if measured => vec![("jit", "off".to_owned())],
            None => jit::DEFAULT_THRESHOLDS
                .iter()
                .map(|(name, v)| (*name, v.to_string()))
                .collect(),
        };
        Ok(vec![draft
            .recommend("On an OLTP/ERP server turn JIT off (keep it for reporting roles with ALTER ROLE … SET jit = on if they benefit); otherwise restore jit_above_cost, jit_inline_above_cost and jit_optimize_above_cost to their defaults or higher")
            .with_fix(ctx.settings_fix(
                &changes,
                "",
                "mean_exec_time and jit_generation_time/jit_optimization_time in pg_stat_statements",
            ))])
    }
}

#[cfg(test)]
mod tests {
    use super::short_statement_jit;
    use crate::rules::testing::{assert_fires, assert_quiet};
    use crate::snapshot::Statement;

    #[test]
    fn fires_when_cheap_statements_are_compiled() {
        assert_fires("PLN003", "jit");
    }

    #[test]
    fn quiet_with_default_thresholds_or_jit_off() {
        assert_quiet("PLN003");
    }

    fn stmt(queryid: i64, calls: i64, exec: f64, jit: f64) -> Statement {
        let mut s: Statement = serde_json::from_value(serde_json::json!({
            "queryid": queryid, "user": "odoo", "database": "erp", "toplevel": true,
            "query": null, "calls": calls, "plans": 0, "total_plan_time_ms": 0.0,
            "total_exec_time_ms": exec, "mean_exec_time_ms": exec / calls as f64,
            "min_exec_time_ms": 0.0, "max_exec_time_ms": 0.0, "stddev_exec_time_ms": 0.0,
            "rows": 0, "shared_blks_hit": 0, "shared_blks_read": 0, "shared_blks_dirtied": 0,
            "shared_blks_written": 0, "local_blks_read": 0, "local_blks_written": 0,
            "temp_blks_read": 0, "temp_blks_written": 0, "shared_blk_read_time_ms": 0.0,
            "shared_blk_write_time_ms": 0.0, "wal_bytes": 0, "jit_time_ms": jit
        }))
        .expect("statement");
        s.jit_time_ms = Some(jit);
        s
    }

    #[test]
    fn long_statements_do_not_count_and_deltas_are_used() {
        let top = vec![stmt(1, 1000, 5000.0, 3000.0), stmt(2, 10, 60_000.0, 2000.0)];
        let u = short_statement_jit(&top, None, 100.0);
        assert_eq!((u.statements, u.jit_ms), (1, 3000.0));
        let base = vec![stmt(1, 500, 4000.0, 2900.0)];
        let u = short_statement_jit(&top, Some(&base), 100.0);
        assert_eq!((u.calls, u.jit_ms, u.exec_ms), (500, 100.0, 1000.0));
    }
}
