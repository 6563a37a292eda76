use crate::questions::overlaps::{batch_at_peak, OverlapThresholds};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, Skip, WorkloadContext, WorkloadRule};
use crate::units;

use super::peak_draft;

declare_rule! {
    /// ## What it detects
    /// Batch work — bulk writes (`COPY`, multi-row `INSERT`) or writes with a mean time of
    /// at least `min_write_mean_ms` (imports, cron jobs, recomputations) — taking at least
    /// `min_peak_share_pct` of the execution time of the interactive peak: the time
    /// window with the most short statements (at least `min_interactive_per_s` per
    /// second). The finding names the statement, the applications and users that ran it,
    /// its time in the peak, and the quietest window to move it to.
    ///
    /// Needs time windows: server logs (`pgsage workload` with log files; `--bucket`
    /// sets the window length). pg_stat_statements keeps one window and is skipped.
    ///
    /// ## Why it matters
    /// A batch job writes many rows in long transactions: it takes CPU and I/O from the
    /// users, holds row locks they wait on (an ERP's cron recomputing stock while orders
    /// are entered: serialization failures and lock waits), and fills the WAL. The same
    /// job an hour later costs the users nothing.
    ///
    /// ## How to fix
    /// - ERP side: move the job out of the peak — for an Odoo scheduled action, set its
    ///   `nextcall` to the quiet hour and its interval to daily (Settings › Technical ›
    ///   Scheduled Actions), or lower `max_cron_threads` during the day; split imports into
    ///   smaller batches.
    /// - Database side: run the job under its own role with a `statement_timeout` and a
    ///   `lock_timeout` (`ALTER ROLE … SET …`), and through a pooler with a small pool
    ///   for batch work so it cannot take every connection.
    ///
    /// ## Thresholds
    /// - `min_write_mean_ms` (default 50): mean time of a batch write, in ms.
    /// - `min_peak_share_pct` (default 10): share of the peak window's execution time, in %.
    /// - `min_interactive_per_s` (default 5): short statements per second that make a
    ///   window an interactive peak.
    ///
    /// ## References
    /// - <https://www.odoo.com/documentation/18.0/developer/reference/backend/actions.html#automated-actions-cron>
    /// - <https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-STATEMENT-TIMEOUT>
    pub struct BatchAtInteractivePeak {
        id: "WRK003",
        name: "batch-at-interactive-peak",
        pack: "workload",
        title: "Batch work runs during the interactive peak",
        params: {
            min_write_mean_ms: f64 = ("ms", "Mean time of a batch write"),
            min_peak_share_pct: f64 = ("%", "Share of the peak window's execution time"),
            min_interactive_per_s: f64 = ("statements/s", "Short statements per second of an interactive peak"),
        },
    }
}

impl WorkloadRule for BatchAtInteractivePeak {
    fn meta(&self) -> &'static crate::rules::RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &WorkloadContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let t = OverlapThresholds {
            min_write_mean_ms: p.min_write_mean_ms,
            min_peak_share_pct: p.min_peak_share_pct,
            min_interactive_per_s: p.min_interactive_per_s,
        };
        let o = batch_at_peak(ctx.workload, &t).map_err(Skip)?;
        let peak = o.peak.label();
        let to = o
            .quietest
            .as_ref()
            .map(|q| format!(" to the quietest window ({})", q.label()))
            .unwrap_or_default();
        Ok(o.jobs
            .iter()
            .map(|s| {
                let who = s
                    .applications
                    .iter()
                    .chain(&s.users)
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join(", ");
                let message = format!(
                    "`{}`, {} ({} each), takes {} of the interactive peak ({}): {} runs, {}{}",
                    super::short_text(&s.query),
                    if s.bulk { "a bulk write" } else { "a slow write" },
                    units::millis(s.mean_ms),
                    units::percent(s.peak_share_pct),
                    peak,
                    units::count(s.peak_calls),
                    units::millis(s.peak_ms),
                    if who.is_empty() { String::new() } else { format!(", run by {who}") },
                );
                let mut d = peak_draft(ctx.workload, s, &peak, message);
                if let Some(q) = &o.quietest {
                    d = d.evidence("quietest_window", q.label());
                }
                d.recommend(format!(
                    "Move this job out of the peak{to}: for an Odoo scheduled action (ir_cron), set its nextcall to the quiet hour and its interval accordingly, or lower max_cron_threads during the day; split imports into smaller batches. On the database, run batch work under its own role with statement_timeout and lock_timeout (ALTER ROLE … SET …), through a pooler with a small pool for batch work"
                ))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::super::log_cases::{expects, findings, statement};
    use crate::workload::fingerprint::fingerprint;

    const PLANT: &str = "batch-at-peak.log.gz";
    const TWIN: &str = "batch-at-night.log.gz";

    #[test]
    fn fires_on_a_cron_import_in_the_interactive_peak() {
        assert!(expects(PLANT, "WRK003"));
        let import = fingerprint(&statement("import")).to_string();
        let found = findings(PLANT, "WRK003");
        let f = found
            .iter()
            .find(|f| f.object.name == import)
            .unwrap_or_else(|| panic!("the import is not named: {found:#?}"));
        // Who runs it, how much of the peak it takes, and where to move it.
        assert!(f.message.contains("odoo-cron"), "{}", f.message);
        assert!(f.evidence.contains_key("peak_share_pct"));
        assert!(f.evidence.contains_key("quietest_window"));
        assert!(f.recommendation.contains("nextcall"));
    }

    #[test]
    fn quiet_when_the_import_runs_in_its_own_window() {
        assert!(!expects(TWIN, "WRK003"));
        assert_eq!(findings(TWIN, "WRK003"), Vec::new());
    }

    #[test]
    fn skipped_on_pg_stat_statements_for_want_of_windows() {
        let found = crate::rules::testing::case_findings("workload", "reports-elsewhere", "WRK001");
        assert!(found.is_empty());
        let w = findings_skip_reason();
        assert!(w.contains("server logs"), "{w}");
    }

    fn findings_skip_reason() -> String {
        let snap = crate::Snapshot::load(pgsage_testkit::scenario::fixture_path(
            "workload",
            "reports-at-peak",
        ))
        .expect("fixture");
        let report = crate::audit(&snap, &crate::RuleConfig::shipped().expect("packs"));
        report
            .skipped
            .iter()
            .find(|s| s.rule == "WRK003")
            .map(|s| s.reason.clone())
            .expect("WRK003 skipped in the audit")
    }
}
