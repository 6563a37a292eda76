use crate::questions::reporting::{reports_at_peak, ReportingThresholds};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, Skip, WorkloadContext, WorkloadRule};
use crate::units;

use super::peak_draft;

declare_rule! {
    /// ## What it detects
    /// Long read-only statements — reports, exports, aggregates over large tables, with a
    /// mean time of at least `min_mean_ms` — that take at least `min_peak_share_pct` of
    /// the execution time of the interactive peak (the window with the most short
    /// statements, at least `min_interactive_per_s` of them per second) on the primary.
    /// With a snapshot beside the workload (the audit, or `pgsage workload --snapshot`),
    /// the finding says whether a standby already streams from the server.
    ///
    /// Needs time windows: a log capture, or pg_stat_statements sampled over an interval
    /// taken during the peak (`pgsage audit --interval 10m`); pg_stat_statements since its
    /// reset sums every hour and is skipped. A server whose reports run on a replica, or
    /// outside the peak, is quiet.
    ///
    /// ## Why it matters
    /// A report reads many blocks and holds a snapshot for seconds or minutes: it competes
    /// with the users for CPU, I/O and the buffer cache at the hour they are busiest, and
    /// its snapshot holds back vacuum on the busiest tables. A read replica serves it with
    /// the same data (a few seconds behind) without touching the primary.
    ///
    /// ## How to fix
    /// - ERP side: send reports to a read replica — Odoo 18+'s `db_replica_host` /
    ///   `db_replica_port` (read-only requests and reports go to the replica), or a
    ///   separate reporting connection for BI tools and exports; or schedule the exports
    ///   outside the peak (an `ir_cron` with its `nextcall` at night).
    /// - Database side: a streaming standby for reporting (with
    ///   `max_standby_streaming_delay` sized for the reports, or `hot_standby_feedback`),
    ///   and a per-role `statement_timeout` for the reporting role on the primary so a
    ///   runaway report cannot take the peak.
    ///
    /// ## Thresholds
    /// - `min_mean_ms` (default 1000): mean time of a long read, in ms.
    /// - `min_peak_share_pct` (default 10): share of the peak window's execution time, in %.
    /// - `min_interactive_per_s` (default 5): short statements per second that make a
    ///   window an interactive peak.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/hot-standby.html>
    /// - <https://www.odoo.com/documentation/18.0/administration/on_premise/deploy.html>
    pub struct ReportsOnPrimaryAtPeak {
        id: "WRK001",
        name: "reports-on-primary-at-peak",
        pack: "workload",
        title: "Long reports run on the primary during the interactive peak",
        params: {
            min_mean_ms: f64 = ("ms", "Mean time of a long read"),
            min_peak_share_pct: f64 = ("%", "Share of the peak window's execution time"),
            min_interactive_per_s: f64 = ("statements/s", "Short statements per second of an interactive peak"),
        },
    }
}

impl WorkloadRule for ReportsOnPrimaryAtPeak {
    fn meta(&self) -> &'static crate::rules::RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &WorkloadContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let t = ReportingThresholds {
            min_mean_ms: p.min_mean_ms,
            min_peak_share_pct: p.min_peak_share_pct,
            min_interactive_per_s: p.min_interactive_per_s,
        };
        let r = reports_at_peak(ctx.workload, ctx.facts, &t).map_err(Skip)?;
        let peak = r.peak.label();
        let (where_to, fix) = match (r.standbys, &ctx.facts.replica_host) {
            // odoo.conf already names a replica: these reports are the ones that do not
            // go there.
            (_, Some(host)) => (
                format!("Odoo already sends read-only requests to the replica {host} (db_replica_host)"),
                "These statements still run on the primary: Odoo sends only read-only requests to db_replica_host, so run these reports through the replica (a read-only request or cursor in the module that runs them, or the BI tool's own connection to the replica), or move them out of the peak (an ir_cron's nextcall at night). On the primary, give the reporting role a statement_timeout (ALTER ROLE … SET statement_timeout)",
            ),
            (standbys, None) => match standbys {
            Some(n) if n > 0 => (
                format!("{} streams from this server", units::counted(n, "standby", "standbys")),
                "Send it to the standby that already streams from this server: in Odoo 18+ set db_replica_host/db_replica_port in odoo.conf (reports and read-only requests go to the replica); for BI tools and exports, point their connection at the replica. Or move it out of the peak (an ir_cron's nextcall at night). On the primary, give the reporting role a statement_timeout (ALTER ROLE … SET statement_timeout) so a runaway report cannot take the peak",
            ),
            Some(_) => (
                "no standby streams from this server".to_owned(),
                "Add a read replica for reporting (a streaming standby; size max_standby_streaming_delay for the reports) and send the reports there: in Odoo 18+ db_replica_host/db_replica_port in odoo.conf, for BI tools their own connection; or move them out of the peak (an ir_cron's nextcall at night). On the primary, give the reporting role a statement_timeout (ALTER ROLE … SET statement_timeout)",
            ),
            None => (
                "whether a standby exists is unknown (no snapshot)".to_owned(),
                "Send it to a read replica (Odoo 18+: db_replica_host/db_replica_port in odoo.conf; BI tools: their own connection), adding a streaming standby if there is none; or move it out of the peak (an ir_cron's nextcall at night). On the primary, give the reporting role a statement_timeout (ALTER ROLE … SET statement_timeout)",
            ),
            },
        };
        Ok(r.statements
            .iter()
            .map(|s| {
                let message = format!(
                    "`{}`, a long read ({} each), takes {} of the interactive peak ({}) on the primary: {} runs, {}; {where_to}",
                    super::short_text(&s.query),
                    units::millis(s.mean_ms),
                    units::percent(s.peak_share_pct),
                    peak,
                    units::count(s.peak_calls),
                    units::millis(s.peak_ms),
                );
                let mut d = peak_draft(ctx.workload, s, &peak, message);
                if let Some(n) = r.standbys {
                    d = d.evidence("standbys", n);
                }
                if let Some(rate) = r.interactive_per_s {
                    d = d.evidence("peak_short_statements_per_s", super::round1(rate));
                }
                d.recommend(fix)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet, case_findings};

    /// The sales report of the `workload` scenario, run beside order entry.
    const SALES_REPORT: &str = "SELECT partner_id, sum(amount), count(DISTINCT md5(note)) FROM sale_order_line_wrk GROUP BY partner_id";

    #[test]
    fn fires_on_a_report_beside_order_entry() {
        let planted = crate::workload::fingerprint::fingerprint(SALES_REPORT);
        let found = assert_fires("WRK001", &planted.to_string());
        assert!(found
            .iter()
            .all(|f| f.recommendation.contains("db_replica_host")));
        // No standby in the case: the finding says so, and asks for a replica.
        let alone = case_findings("workload", "reports-at-peak", "WRK001");
        assert!(
            alone.iter().all(|f| f.message.contains("no standby")),
            "{alone:#?}"
        );
        // A standby streams: the finding says so, and sends the report there.
        let replica = case_findings("workload", "reports-at-peak-with-standby", "WRK001");
        assert!(
            !replica.is_empty()
                && replica
                    .iter()
                    .all(|f| f.message.contains("1 standby streams")
                        && f.recommendation.contains("already streams")
                        && f.evidence.get("standbys").is_some_and(|n| n == 1)),
            "{replica:#?}"
        );
    }

    #[test]
    fn an_odoo_replica_already_configured_is_named() {
        let snapshot = crate::Snapshot::load(pgsage_testkit::scenario::fixture_path(
            "workload",
            "reports-at-peak",
        ))
        .expect("fixture");
        let scenario = pgsage_testkit::scenario::Scenario::all()
            .expect("scenarios")
            .into_iter()
            .find(|s| s.name == "workload")
            .expect("workload scenario");
        let mut config = crate::RuleConfig::shipped().expect("packs");
        config
            .apply_toml(&scenario.config, "workload")
            .expect("config");
        config
            .apply_toml(
                "[odoo]\ndb_replica_host = \"erp-replica.internal\"\n",
                "test",
            )
            .expect("odoo");
        let found: Vec<_> = crate::audit(&snapshot, &config)
            .findings
            .into_iter()
            .filter(|f| f.rule == "WRK001")
            .collect();
        assert!(
            !found.is_empty()
                && found
                    .iter()
                    .all(|f| f.message.contains("erp-replica.internal")
                        && f.recommendation.contains("still run on the primary")),
            "{found:#?}"
        );
    }

    #[test]
    fn quiet_when_the_report_runs_elsewhere() {
        assert_quiet("WRK001");
    }
}

#[cfg(test)]
mod log_tests {
    use super::super::log_cases::{expects, findings, statement};
    use crate::workload::fingerprint::fingerprint;

    #[test]
    fn fires_on_a_report_in_the_interactive_peak_of_a_log() {
        let file = "batch-at-peak.log.gz";
        assert!(expects(file, "WRK001"));
        let report = fingerprint(&statement("report")).to_string();
        let found = findings(file, "WRK001");
        let f = found
            .iter()
            .find(|f| f.object.name == report)
            .unwrap_or_else(|| panic!("the report is not named: {found:#?}"));
        assert!(
            f.evidence
                .get("applications")
                .is_some_and(|a| a == "odoo-report"),
            "{f:#?}"
        );
    }

    #[test]
    fn quiet_on_a_log_where_reports_run_at_night() {
        assert_eq!(findings("batch-at-night.log.gz", "WRK001"), Vec::new());
    }
}
