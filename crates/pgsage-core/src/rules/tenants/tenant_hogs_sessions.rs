use crate::knowledge::counters::Basis;
use crate::knowledge::tenants::figure;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::sql::quote_ident;
use crate::units;

use super::common::{database_object, disproportionate, round1};

declare_rule! {
    /// ## What it detects
    /// A tenant database running most of the statements at once: at collection time, on a
    /// cluster holding at least `min_tenants` tenant databases with at least
    /// `min_active_sessions` active client sessions (`state = active`) among them, one
    /// database holds at least `min_share_pct` of those sessions and at least
    /// `fair_share_multiple` times the even share. pgsage's own session is left out.
    ///
    /// Rule CON009 judges connections held (idle ones included) against `max_connections`;
    /// this rule judges *active* sessions, the ones competing for the CPUs and disks right
    /// now, among tenants.
    ///
    /// ## Why it matters
    /// A server runs about as many statements at once as it has CPUs. A tenant that runs
    /// most of them — a batch fanning out, a report run by every user at once — makes every
    /// other tenant's statements wait for a CPU. Its connection count may look modest: the
    /// harm is how many of them work at the same time.
    ///
    /// ## How to fix
    /// Cap the tenant's concurrency: its own pool in the pooler (PgBouncer `pool_size` for
    /// its database), sized to its fair part of the CPUs (`min_share_pct` of them when
    /// host facts give the CPU count), so its excess statements queue in the pooler; and a
    /// `CONNECTION LIMIT` on its database (`ALTER DATABASE … CONNECTION LIMIT n`) when it
    /// has none and connects directly, set to the connections it holds now so it cannot
    /// grow further while the pool is put in place.
    ///
    /// ## Thresholds
    /// - `min_share_pct` (default 50): share of the active sessions in tenant databases.
    /// - `fair_share_multiple` (default 2): times the even share (100 % / tenants).
    /// - `min_tenants` (default 3): tenant databases needed to speak of neighbours.
    /// - `min_active_sessions` (default 8): active sessions in tenant databases needed to
    ///   judge (a handful is a moment, not a pattern).
    ///
    /// One sample is a moment: the finding has low confidence unless the snapshot was
    /// taken with a sampled interval over which the tenant's share of statement time is
    /// disproportionate too (by the same two thresholds).
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ACTIVITY-VIEW>
    /// - <https://www.postgresql.org/docs/current/sql-alterdatabase.html>
    /// - <https://www.pgbouncer.org/config.html#section-databases>
    pub struct TenantHogsSessions {
        id: "TEN003",
        name: "tenant-hogs-sessions",
        pack: "tenants",
        title: "One tenant database runs most of the active sessions",
        params: {
            min_share_pct: f64 = ("%", "Share of active sessions in tenant databases that is disproportionate"),
            fair_share_multiple: f64 = ("×", "Times the even share (100% / tenants)"),
            min_tenants: f64 = ("databases", "Tenant databases needed to judge"),
            min_active_sessions: f64 = ("sessions", "Active sessions in tenant databases needed to judge"),
        },
    }
}

impl SnapshotRule for TenantHogsSessions {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let snap = ctx.snapshot;
        if snap.activity.is_empty() {
            return Err(Skip::because("pg_stat_activity was not collected"));
        }
        let Some(tenants) = super::common::tenants(snap, p.min_tenants) else {
            return Ok(vec![]);
        };
        let active_total = tenants.total(figure::active).unwrap_or(0.0);
        if active_total < p.min_active_sessions {
            return Ok(vec![]);
        }
        let fair = tenants.fair_share_pct();
        let cpus = ctx.cpus().ok();
        let mut drafts = Vec::new();
        for t in &tenants.databases {
            let share = tenants.share(t, figure::active);
            if !disproportionate(share, fair, p.min_share_pct, p.fair_share_multiple) {
                continue;
            }
            let share = share.unwrap_or(0.0);
            let mut d = Draft::new(
                database_object(&t.name),
                format!(
                    "tenant database `{}` runs {} of the {} active sessions in tenant databases ({}; it holds {}); {} tenant databases share the cluster (an even share is {})",
                    t.name,
                    units::count(t.active_sessions),
                    units::count(active_total),
                    units::percent(share),
                    units::counted(t.connections, "connection", "connections"),
                    units::count(tenants.count()),
                    units::percent(fair)
                ),
            )
            .evidence("tenants", tenants.count())
            .evidence("fair_share_pct", round1(fair))
            .evidence("active_sessions", t.active_sessions)
            .evidence("active_sessions_all_tenants", active_total as i64)
            .evidence("active_share_pct", round1(share))
            .evidence("connections", t.connections)
            .evidence("connection_limit", t.connection_limit);
            let pool = cpus.map(|c| ((c * p.min_share_pct / 100.0).floor() as i64).max(1));
            if let (Some(c), Some(n)) = (cpus, pool) {
                d = d.evidence("cpus", c).evidence("suggested_pool_size", n);
            }
            let pool_text = match (cpus, pool) {
                (Some(c), Some(n)) => format!(
                    "its own pool in the pooler (PgBouncer [databases] `{} = … pool_size={n}`: {} of the {} CPUs)",
                    t.name,
                    units::percent(p.min_share_pct),
                    units::decimal(c)
                ),
                _ => "its own pool in the pooler (PgBouncer pool_size for its database; give the host's CPU count to size it)".to_owned(),
            };
            d = d.recommend(format!(
                "Cap this tenant's concurrency with {pool_text}, so its excess statements queue in the pooler instead of on the CPUs"
            ));
            if t.connection_limit < 0 && t.connections > 0 {
                d = d.fix(
                    format!(
                        "-- holds {} now: no further growth while its pool is put in place\nALTER DATABASE {} CONNECTION LIMIT {};",
                        units::counted(t.connections, "connection", "connections"),
                        quote_ident(&t.name),
                        t.connections
                    ),
                    "none",
                    "connection errors 'too many connections for database' in the application's log",
                );
            }
            // One sample of pg_stat_activity is a moment; the tenant's statement time over
            // a sampled interval says whether the moment is typical.
            let time_share = tenants.share(t, figure::time);
            let confirmed = matches!(tenants.statements_basis, Some(Basis::Interval { .. }))
                && disproportionate(time_share, fair, p.min_share_pct, p.fair_share_multiple);
            if let Some(s) = time_share {
                d = d.evidence("time_share_pct", round1(s));
            }
            if !confirmed {
                d = d.low_confidence(match tenants.statements_basis {
                    Some(Basis::Interval { .. }) => format!(
                        "one sample of pg_stat_activity is a moment, and over the sampled interval the tenant took only {} of the statement time",
                        units::percent(time_share.unwrap_or(0.0))
                    ),
                    _ => "one sample of pg_stat_activity is a moment: sample an interval (--interval) so the tenant's statement time over the window confirms it".to_owned(),
                });
            }
            drafts.push(d);
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_the_tenant_running_most_sessions() {
        assert_fires("TEN003", "acme");
    }

    #[test]
    fn quiet_on_balanced_tenants() {
        assert_quiet("TEN003");
    }
}
