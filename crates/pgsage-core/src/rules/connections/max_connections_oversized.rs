use crate::knowledge::connections::{self, PoolPolicy, Sessions};
use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::units;

use super::common::hidden_reason;

declare_rule! {
    /// ## What it detects
    /// `max_connections` set far above what the host's CPUs can run at once: more than
    /// `cpu_multiplier` connections per CPU, and above `max_connections_floor` (the
    /// PostgreSQL default of 100 is left alone). Needs the host's CPU count (`--cpus`);
    /// skipped without it.
    ///
    /// ## Why it matters
    /// A CPU runs one backend at a time: hundreds of connection slots do not add
    /// throughput, they let hundreds of queries compete for a few cores, each with its
    /// own `work_mem` and per-backend memory, so a load spike turns into a memory and
    /// context-switch storm instead of a short queue. Every slot also costs shared memory
    /// and makes snapshot-taking (`GetSnapshotData`) slower before PostgreSQL 14. A large
    /// `max_connections` is usually a sign that every application process opens its own
    /// connections instead of sharing a pool.
    ///
    /// ## How to fix
    /// Put a pooler in front of the server — PgBouncer with `pool_mode = transaction`
    /// (or the platform's own, named in the recommendation: Azure's built-in PgBouncer,
    /// server parameter `pgbouncer.enabled`, port 6432, not on Burstable tiers; Amazon
    /// RDS Proxy, which pins sessions that change state; Cloud SQL Managed Connection
    /// Pooling, Enterprise Plus edition) — with a server pool of about `pool_size_per_cpu` ×
    /// CPUs per database/user pair, never below the number of connections observed
    /// *active*. Once the applications connect through it, lower `max_connections` (a
    /// restart; on managed services the `max_connections` parameter of the parameter
    /// group / server parameters). Watch the pooler's waiting clients (`SHOW POOLS`,
    /// `cl_waiting`) and the query latency afterwards.
    ///
    /// ## Thresholds
    /// - `cpu_multiplier` (default 10): connection slots per CPU above which the limit is
    ///   oversized.
    /// - `max_connections_floor` (default 100): never flag a limit at or below this.
    /// - `pool_size_per_cpu` (default 2): suggested server pool per CPU (2–4 is usual; at
    ///   least the observed active connections).
    ///
    /// The suggested limit is the pools' server connections, the reserved slots and 10
    /// spare, rounded up to ten, never below `max_connections_floor`. `pgsage tune` sizes
    /// the pool and `max_connections` with the same model and parameters
    /// (`pgsage_core::knowledge::connections`) and lowers the limit when it is at least
    /// twice that; this finding gives its value.
    ///
    /// The observed connections are one sample of `pg_stat_activity` (without pgsage's
    /// own session).
    ///
    /// Collected by a role without `pg_monitor`, other roles' sessions come without their
    /// type and state: they count as non-idle client connections (so the suggested pool is
    /// an upper bound) and the finding has low confidence.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-MAX-CONNECTIONS>
    /// - <https://wiki.postgresql.org/wiki/Number_Of_Database_Connections>
    /// - <https://www.pgbouncer.org/config.html#default_pool_size>
    pub struct MaxConnectionsOversized {
        id: "CON002",
        name: "max-connections-oversized",
        pack: "connections",
        title: "max_connections far above what the CPUs can run",
        params: {
            cpu_multiplier: f64 = ("connections per CPU", "Connection slots per CPU above which max_connections is oversized"),
            max_connections_floor: f64 = ("connections", "Never flag max_connections at or below this"),
            pool_size_per_cpu: f64 = ("connections per CPU", "Suggested server pool size per CPU"),
        },
    }
}

impl SnapshotRule for MaxConnectionsOversized {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let policy = PoolPolicy {
            pool_size_per_cpu: p.pool_size_per_cpu,
            cpu_multiplier: p.cpu_multiplier,
            max_connections_floor: p.max_connections_floor,
        };
        let max = ctx
            .setting("max_connections")?
            .as_f64()
            .ok_or_else(|| Skip::because("max_connections is not a number"))?;
        let cpus = ctx.cpus()?;
        super::common::require_activity(ctx.snapshot)?;
        if !connections::oversized(max, cpus, &policy) {
            return Ok(vec![]);
        }
        // Sessions of other roles whose state is hidden count as not idle: the pool size
        // suggested stays an upper bound. The same sizing as `pgsage tune`'s.
        let sessions = Sessions::observe(ctx.snapshot);
        // The reserved slots after the advice (CON010 restores the default when none are).
        // On a managed platform, with what the provider keeps on top.
        let reserved =
            connections::advised_reserved_slots(ctx.snapshot, super::common::platform(ctx));
        let Some(pool) = connections::sizing(&sessions, reserved, Some(cpus), &policy).pool else {
            return Ok(vec![]);
        };
        if (pool.limit as f64) >= max {
            return Ok(vec![]);
        }
        // The limit `pgsage tune` recommends; the finding stays quiet when it keeps the
        // current one (or raises it: too few slots for the clients seen).
        let Some(limit) = ctx
            .value_for("max_connections", || pool.limit.to_string())
            .filter(|l| l.parse::<f64>().is_ok_and(|l| l < max))
        else {
            return Ok(vec![]);
        };
        let (active, hidden) = (sessions.active, sessions.hidden);
        let per_cpu_now = max / cpus;
        let mut draft = Draft::new(
            ObjectRef::setting("max_connections"),
            format!(
                "`max_connections` is {max:.0}, {} per CPU on {cpus} CPUs; {} client connections were open, {} of them not idle",
                units::number(per_cpu_now),
                units::count(sessions.clients),
                units::count(active)
            ),
        )
        .evidence("max_connections", max)
        .evidence("cpus", cpus)
        .evidence("connections_per_cpu", super::common::round1(per_cpu_now))
        .evidence("client_connections", sessions.clients)
        .evidence("non_idle_connections", active)
        .evidence("state_hidden", hidden)
        .evidence("database_user_pairs", pool.pools)
        .evidence("suggested_pool_size", pool.size)
        .evidence("suggested_max_connections", limit.clone())
        .recommend({
            let pooling = super::common::pooling(ctx);
            let (size, pairs) = (pool.size, pool.pools);
            match (pooling.already_on(), pooling.alternative()) {
                (Some(on), _) => format!(
                    "{on}, with {} = {size} for each of the {pairs} database/user pairs seen, then lower max_connections to {limit} (the max_connections server parameter)",
                    pooling.pool_size_setting()
                ),
                (None, Some(alt)) => format!(
                    "Route the applications through a pooler (PgBouncer pool_mode = transaction, default_pool_size = {size} for each of the {pairs} database/user pairs seen; or the platform's own pooler, {alt}), then lower max_connections to {limit} (the max_connections server parameter)"
                ),
                (None, None) => format!(
                    "Route the applications through a pooler (PgBouncer pool_mode = transaction, default_pool_size = {size} for each of the {pairs} database/user pairs seen; or the managed service's pooler), then lower max_connections to {limit} (on managed services: the max_connections server parameter)"
                ),
            }
        })
        .with_fix(ctx.settings_fix(
            &[("max_connections", limit.clone())],
            "-- after the applications connect through the pooler:",
            "the pooler's waiting clients (SHOW POOLS: cl_waiting, maxwait) and query latency; connection errors in the application logs",
        ));
        if hidden > 0 {
            draft = draft.low_confidence(hidden_reason(ctx, hidden));
        }
        Ok(vec![draft])
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_when_max_connections_dwarfs_the_cpus() {
        let f = assert_fires("CON002", "max_connections");
        assert!(f[0].evidence["connections_per_cpu"].as_f64().unwrap_or(0.0) > 10.0);
        assert!(f[0].fix.is_some());
    }

    #[test]
    fn low_confidence_when_session_states_are_hidden() {
        let f = super::super::common::fixture_findings("oversized-unprivileged", "CON002");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].evidence["state_hidden"], 2);
        assert_eq!(f[0].confidence, crate::report::Confidence::Low);
    }

    #[test]
    fn quiet_when_sized_for_the_host() {
        assert_quiet("CON002");
    }
}
