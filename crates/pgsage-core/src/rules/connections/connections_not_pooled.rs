use crate::knowledge::counters::Verdict;
use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::{Basis, Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::Snapshot;
use crate::units;

use super::common::{age, clients, round1};

declare_rule! {
    /// ## What it detects
    /// Signs that applications connect without a pooler:
    /// - **many idle connections**: at least `min_idle_connections` client sessions idle for
    ///   `min_idle_seconds` or more, and at least `min_idle_pct` of all client sessions;
    /// - **connection churn**: new sessions per second (`pg_stat_database.sessions`,
    ///   PostgreSQL 14+) of at least `min_sessions_per_second`, over the sampled interval
    ///   (`--interval`) or since the statistics reset, with at least `min_sessions` new
    ///   sessions in that window. A window shorter than the audit's minimum (a sampled
    ///   interval of 10 minutes, or `min_stats_age_hours` of counters) gives an "unsure"
    ///   verdict: reported as information without a fix, or noted beside idle sessions. Before 14, a low-confidence estimate from connection ages:
    ///   at least half of the client sessions younger than `young_connection_seconds` on a
    ///   server up for more than an hour.
    ///
    /// ## Why it matters
    /// An idle connection still holds a backend process with its caches (often several MB
    /// each) and a connection slot; hundreds of them crowd out the slots and memory the
    /// active ones need. Opening a connection costs a process fork, authentication (SCRAM,
    /// TLS) and catalog cache warm-up — milliseconds of server CPU per connection, which
    /// at tens per second is a large share of a small server's work.
    ///
    /// ## How to fix
    /// Put PgBouncer (`pool_mode = transaction`) or the platform's own pooler between the
    /// applications and the server, and point the applications at it. The recommendation
    /// names the platform's pooler: Azure's built-in PgBouncer (server parameter
    /// `pgbouncer.enabled = true`, then port 6432; not on Burstable tiers), which the fix
    /// turns on, or, when the snapshot shows it on already, says to connect through it;
    /// Amazon RDS Proxy (pins a session that changes state); Cloud SQL Managed Connection
    /// Pooling (Enterprise Plus edition). Keep the
    /// applications' own pools small (for Odoo: `db_maxconn` per worker). For churn, find
    /// who connects with `log_connections = on` and make short-lived clients (cron
    /// scripts, PHP/CGI workers, serverless functions) go through the pooler.
    ///
    /// ## Thresholds
    /// - `min_idle_connections` (default 20): idle client sessions needed to flag.
    /// - `min_idle_pct` (default 50): share of client sessions that must be idle, in %.
    /// - `min_idle_seconds` (default 300): a session counts as idle after this long.
    /// - `min_sessions_per_second` (default 2): new sessions per second that is churn.
    /// - `min_sessions` (default 100): new sessions needed in the window.
    /// - `young_connection_seconds` (default 60): before 14, a session younger than this
    ///   counts as freshly opened.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-DATABASE-VIEW>
    /// - <https://www.pgbouncer.org/features.html>
    /// - <https://www.postgresql.org/docs/current/runtime-config-logging.html#GUC-LOG-CONNECTIONS>
    pub struct ConnectionsNotPooled {
        id: "CON003",
        name: "connections-not-pooled",
        pack: "connections",
        title: "Many idle connections or high connection churn",
        params: {
            min_idle_connections: f64 = ("connections", "Idle client sessions needed to flag"),
            min_idle_pct: f64 = ("%", "Share of client sessions that must be idle"),
            min_idle_seconds: f64 = ("s", "A session counts as idle after this many seconds"),
            min_sessions_per_second: f64 = ("sessions/s", "New sessions per second that is churn"),
            min_sessions: f64 = ("sessions", "New sessions needed in the window to judge churn"),
            young_connection_seconds: f64 = ("s", "Before 14: sessions younger than this are fresh"),
        },
    }
}

/// New sessions over the window: (sessions, seconds), summed over databases.
/// `None` when the counters do not exist (before 14).
fn new_sessions(snap: &Snapshot, basis: Basis) -> Option<(i64, f64)> {
    if snap.databases.iter().all(|d| d.sessions.is_none()) {
        return None;
    }
    match (basis, &snap.baseline) {
        (Basis::Interval { seconds }, Some(base)) => {
            let delta: i64 = snap
                .databases
                .iter()
                .filter_map(|d| {
                    let before = base.databases.iter().find(|b| b.oid == d.oid)?;
                    Some((d.sessions? - before.sessions?).max(0))
                })
                .sum();
            Some((delta, seconds))
        }
        _ => {
            // Since each database's own reset (or the server start).
            let mut total = 0;
            let mut rate = 0.0;
            for d in &snap.databases {
                let Some(n) = d.sessions else { continue };
                let since = d
                    .stats_reset
                    .map_or(snap.server.started_at, |r| r.max(snap.server.started_at));
                let secs = snap.age_seconds(since);
                if secs > 0.0 {
                    total += n;
                    rate += n as f64 / secs;
                }
            }
            (rate > 0.0).then(|| (total, total as f64 / rate))
        }
    }
}

impl SnapshotRule for ConnectionsNotPooled {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min_idle = p.min_idle_connections;
        let min_idle_pct = p.min_idle_pct;
        let min_idle_s = p.min_idle_seconds;
        let min_rate = p.min_sessions_per_second;
        let min_sessions = p.min_sessions;
        let young_s = p.young_connection_seconds;
        let snap = ctx.snapshot;
        super::common::require_session_states(snap)?;
        let clients = clients(snap);
        let idle_long = clients
            .iter()
            .filter(|b| b.state.as_deref() == Some("idle"))
            .filter(|b| age(snap, b.state_change).is_some_and(|a| a >= min_idle_s))
            .count();
        let idle_pct = if clients.is_empty() {
            0.0
        } else {
            100.0 * idle_long as f64 / clients.len() as f64
        };
        let idle_flag = idle_long as f64 >= min_idle && idle_pct >= min_idle_pct;

        let basis = ctx.basis();
        let mut churn: Option<(f64, i64, bool)> = None; // rate, sessions, low confidence
        let mut churn_note: Option<String> = None;
        // Churn is a rate: below the window it is unsure (reported on its own as such, or
        // noted beside the idle sessions).
        let unsure = ctx.stats_window().unsure(Verdict::Rate);
        match new_sessions(snap, basis) {
            Some((n, secs)) if secs > 0.0 => {
                let rate = n as f64 / secs;
                if rate >= min_rate && n as f64 >= min_sessions {
                    match &unsure {
                        Some(u) if idle_flag => churn_note = Some(u.reason.clone()),
                        _ => churn = Some((rate, n, false)),
                    }
                }
            }
            Some(_) => {}
            None => {
                // Before 14: fresh connections on a server that has been up a while.
                let young = clients
                    .iter()
                    .filter(|b| age(snap, b.backend_start).is_some_and(|a| a < young_s))
                    .count();
                if snap.uptime_seconds() < 3600.0 {
                    churn_note = Some(
                        "server up for less than an hour: connection ages say nothing about churn"
                            .into(),
                    );
                } else if young as f64 >= min_idle && 2 * young >= clients.len() {
                    churn = Some((f64::NAN, young as i64, true));
                }
            }
        }
        if !idle_flag && churn.is_none() {
            return Ok(vec![]);
        }
        let mut parts = Vec::new();
        if idle_flag {
            parts.push(format!(
                "{} of {} client sessions ({}) have been idle for {} or more",
                units::count(idle_long),
                units::count(clients.len()),
                units::percent(idle_pct),
                units::duration(min_idle_s)
            ));
        }
        match churn {
            Some((rate, n, false)) => parts.push(format!(
                "{} sessions were opened in {} ({} per second)",
                units::count(n),
                units::duration(basis_seconds(snap, basis, n, rate)),
                units::number(rate)
            )),
            Some((_, n, true)) => parts.push(format!(
                "{} of {} client sessions are younger than {} on a server up for {}",
                units::count(n),
                units::count(clients.len()),
                units::duration(young_s),
                units::duration(snap.uptime_seconds())
            )),
            None => {}
        }
        let mut draft = Draft::new(ObjectRef::server(), format!("{}: the applications do not seem to share pooled connections", parts.join("; ")))
            .evidence("client_connections", clients.len())
            .evidence("idle_connections", idle_long)
            .evidence("idle_pct", round1(idle_pct))
            .evidence("min_idle_seconds", min_idle_s)
            .recommend({
                let pooling = super::common::pooling(ctx);
                const REST: &str = "keep the applications' own pools small. To find short-lived clients, log connections for a while";
                match (pooling.already_on(), pooling.alternative()) {
                    (Some(on), _) => format!("{on}; {REST}"),
                    (None, Some(alt)) => format!(
                        "Put PgBouncer (pool_mode = transaction) or the platform's own pooler, {alt}, in front of the server and point the applications at it; {REST}"
                    ),
                    (None, None) => format!(
                        "Put PgBouncer (pool_mode = transaction) or the managed service's pooler in front of the server and point the applications at it; {REST}"
                    ),
                }
            });
        match churn {
            Some((rate, n, false)) => {
                draft = draft
                    .evidence("basis", basis.label())
                    .evidence("new_sessions", n)
                    .evidence("sessions_per_second", round1(rate));
            }
            Some((_, n, true)) => {
                draft = draft.evidence("young_connections", n).low_confidence(
                    "connection churn estimated from connection ages (session counters need PostgreSQL 14)",
                );
            }
            None => {}
        }
        if let Some(note) = churn_note {
            draft = draft.evidence("churn_not_judged", note);
        }
        // The platform's pooler when a server parameter turns it on (Azure's PgBouncer), and
        // for churn the connection log that finds the short-lived clients.
        let log: Vec<(&str, String)> = churn
            .is_some()
            .then(|| ("log_connections", "on".to_owned()))
            .into_iter()
            .collect();
        if let Some(fix) = super::common::pooling_fix(
            ctx,
            &log,
            if churn.is_some() {
                "who connects how often in the server log; turn log_connections off again once the clients are found"
            } else {
                ""
            },
        ) {
            draft = draft.with_fix(fix);
        }
        if let (Some((_, _, false)), Some(u)) = (churn, &unsure) {
            draft = draft.unsure(u.reason.clone(), &u.remedy);
        }
        Ok(vec![draft])
    }
}

/// The window length in seconds for the message.
fn basis_seconds(_snap: &Snapshot, basis: Basis, n: i64, rate: f64) -> f64 {
    match basis {
        Basis::Interval { seconds } => seconds,
        Basis::SinceReset { .. } if rate > 0.0 => n as f64 / rate,
        Basis::SinceReset { seconds } => seconds,
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_idle_connections_and_churn() {
        let f = assert_fires("CON003", "server");
        assert!(f
            .iter()
            .any(|f| f.evidence.contains_key("idle_connections")));
    }

    #[test]
    fn churn_over_a_few_seconds_is_unsure() {
        // connections/connection-churn measures churn over a 3-second interval: with the
        // shipped minimum statistics age, too short to judge a rate.
        use pgsage_testkit::scenario::{fixture_path, Scenario};
        let scenario = Scenario::load("connections").expect("connections scenario");
        let snapshot = crate::Snapshot::load(fixture_path("connections", "connection-churn"))
            .expect("connections/connection-churn fixture");
        let mut config = crate::RuleConfig::shipped().expect("shipped packs");
        config
            .apply_toml(&scenario.config, "scenario connections")
            .expect("scenario config");
        let confident = crate::audit(&snapshot, &config);
        let churn = |r: &crate::report::Report| {
            r.findings
                .iter()
                .find(|f| f.rule == "CON003" && f.evidence.contains_key("sessions_per_second"))
                .cloned()
        };
        let sure = churn(&confident).expect("churn judged with min_stats_age_hours = 0");
        assert!(sure.fix.is_some(), "{sure:#?}");
        config.min_stats_age_seconds =
            crate::knowledge::counters::DEFAULT_MIN_STATS_AGE_HOURS * 3600.0;
        let f = churn(&crate::audit(&snapshot, &config)).expect("still reported");
        assert_eq!(f.severity, crate::report::Severity::Info, "{f:#?}");
        assert_eq!(f.confidence, crate::report::Confidence::Low, "{f:#?}");
        assert!(f.fix.is_none(), "{f:#?}");
        let reason = f.confidence_reason.as_deref().unwrap_or_default();
        assert!(reason.contains("sampled interval is only"), "{reason}");
    }

    #[test]
    fn quiet_with_few_idle_sessions() {
        assert_quiet("CON003");
    }
}
