use crate::report::{ObjectRef, Severity};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// Client connections using a large share of the connection slots ordinary roles can
    /// use: `max_connections` minus `superuser_reserved_connections`, (16+)
    /// `reserved_connections` and, on a managed platform, what the provider keeps on top
    /// (RDS: `rds.rds_superuser_reserved_connections`, 2 by default). Sessions of the
    /// provider's operators (`azuresu`, `rdsadmin`, `cloudsqladmin`) are not counted.
    ///
    /// ## Why it matters
    /// When the slots run out, new connections fail with `FATAL: sorry, too many clients
    /// already` (or `remaining connection slots are reserved`): the application is down
    /// even though the server is not busy. Running near the limit usually means each
    /// application process or worker holds its own connection, mostly idle.
    ///
    /// ## How to fix
    /// Put a pooler (PgBouncer in transaction mode, or the platform's own: Azure's built-in
    /// PgBouncer, turned on by the server parameter `pgbouncer.enabled`, which is then the
    /// fix; Amazon RDS Proxy; Cloud SQL Managed Connection Pooling) between the
    /// applications and the server, sized from the number of
    /// connections that are actually *active*, and lower the applications' own pool sizes.
    /// Raising `max_connections` (restart needed) only moves the wall and costs memory per
    /// slot. With the host's CPU count, the suggested pool size is the one rule CON002 and
    /// `pgsage tune` give (`pool_size_per_cpu` × CPUs, at least the active connections:
    /// `pgsage_core::knowledge::connections`).
    ///
    /// ## Thresholds
    /// - `warning_pct` (default 70): share of usable slots in use that gives a warning.
    /// - `critical_pct` (default 90): share that is critical.
    ///
    /// The count is a point-in-time sample of `pg_stat_activity` (client backends, without
    /// pgsage's own session). Collected by a role without `pg_monitor`, other roles'
    /// sessions come without their type and state: they are counted as clients (an upper
    /// bound, so a quiet verdict stays true) and a finding has low confidence.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-MAX-CONNECTIONS>
    /// - <https://www.pgbouncer.org/features.html>
    pub struct ConnectionsNearLimit {
        id: "CON001",
        name: "connections-near-limit",
        pack: "connections",
        title: "Connection slots nearly exhausted",
        params: {
            warning_pct: f64 = ("%", "Share of usable connection slots in use that warns"),
            critical_pct: f64 = ("%", "Share of usable connection slots in use that is critical"),
        },
    }
}

/// Client connections by state, and the usable slots.
#[derive(Debug, PartialEq)]
struct SlotUse {
    used: usize,
    usable: f64,
    active: usize,
    idle: usize,
    idle_in_transaction: usize,
    /// Sessions of other roles whose type and state are hidden, counted in `used`.
    hidden: usize,
    /// What the provider keeps on top of PostgreSQL's reserves, included in `usable`.
    provider: Option<crate::knowledge::platform_slots::ProviderReserve>,
}

fn slot_use(ctx: &RuleContext<'_>) -> Result<SlotUse, Skip> {
    let max = ctx
        .setting("max_connections")?
        .as_f64()
        .ok_or_else(|| Skip::because("max_connections is not a number"))?;
    let platform = super::common::platform(ctx);
    let reserved = crate::knowledge::connections::reserved_slots(ctx.snapshot, platform) as f64;
    // The collector's own session is not the application's.
    super::common::require_activity(ctx.snapshot)?;
    let clients = super::common::clients(ctx.snapshot);
    // Without pg_read_all_stats other roles' sessions come without their type: counted
    // too (an upper bound), so that a quiet verdict stays true.
    let hidden = super::common::hidden_sessions(ctx.snapshot).len();
    let count = |state: &str| {
        clients
            .iter()
            .filter(|b| b.state.as_deref() == Some(state))
            .count()
    };
    Ok(SlotUse {
        used: clients.len() + hidden,
        usable: (max - reserved).max(1.0),
        active: count("active"),
        idle: count("idle"),
        idle_in_transaction: count("idle in transaction") + count("idle in transaction (aborted)"),
        hidden,
        provider: crate::knowledge::platform_slots::provider_reserve(ctx.snapshot, platform),
    })
}

impl SnapshotRule for ConnectionsNearLimit {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let warning = p.warning_pct;
        let critical = p.critical_pct;
        let u = slot_use(ctx)?;
        let pct = 100.0 * u.used as f64 / u.usable;
        if pct < warning {
            return Ok(vec![]);
        }
        let severity = if pct >= critical {
            Severity::Critical
        } else {
            Severity::Warning
        };
        let hidden_note = if u.hidden > 0 {
            format!(
                ", {} of other roles in a state hidden from the collecting role",
                units::count(u.hidden)
            )
        } else {
            String::new()
        };
        let provider_note = u
            .provider
            .as_ref()
            .map(|r| {
                format!(
                    ", {} of them the provider's: {}",
                    units::count(r.slots),
                    r.source
                )
            })
            .unwrap_or_default();
        let pooling = super::common::pooling(ctx);
        let mut draft = Draft::new(
            ObjectRef::setting("max_connections"),
            format!(
                "{} client connections use {} of the {} slots available to ordinary roles (`max_connections` minus reserved{provider_note}); {} are active, {} idle, {} idle in transaction{hidden_note}",
                units::count(u.used),
                units::percent(pct),
                units::count(u.usable),
                units::count(u.active),
                units::count(u.idle),
                units::count(u.idle_in_transaction)
            ),
        )
        .severity(severity)
        .evidence("client_connections", u.used)
        .evidence("usable_slots", u.usable)
        .evidence("used_pct", (pct * 10.0).round() / 10.0)
        .evidence("active", u.active)
        .evidence("idle", u.idle)
        .evidence("idle_in_transaction", u.idle_in_transaction)
        .evidence("state_hidden", u.hidden)
        .recommend(match ctx.tuning().pool_size {
            // The pool size of the one connection model (CON002's and `pgsage tune`'s).
            // Sized for the sessions not idle, hidden ones counted as not idle.
            Some(size) => {
                let active = crate::knowledge::connections::Sessions::observe(ctx.snapshot).active;
                pooling.advise(
                    format!(
                        "Pool connections (PgBouncer in transaction mode, default_pool_size = {size} per database/role pair, for {active} sessions not idle now) instead of raising max_connections"
                    ),
                    &format!(
                        ", with {} = {size} per database/role pair (for {active} sessions not idle now), instead of raising max_connections",
                        pooling.pool_size_setting()
                    ),
                )
            }
            None => pooling.advise(
                format!(
                    "Pool connections (PgBouncer in transaction mode) with a server pool near the number of active connections ({} now, plus headroom) instead of raising max_connections",
                    u.active
                ),
                &format!(
                    ", with a server pool near the number of active connections ({} now, plus headroom), instead of raising max_connections",
                    u.active
                ),
            ),
        });
        if let Some(r) = &u.provider {
            draft = draft.evidence("provider_reserved_slots", r.slots);
        }
        if let Some(fix) = super::common::pooling_fix(ctx, &[], "") {
            draft = draft.with_fix(fix);
        }
        if let Some(size) = ctx.tuning().pool_size {
            draft = draft.evidence("suggested_pool_size", size);
        }
        if u.hidden > 0 {
            draft = draft.low_confidence(super::common::hidden_reason(ctx, u.hidden));
        }
        Ok(vec![draft])
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_when_most_slots_are_used() {
        let findings = assert_fires("CON001", "max_connections");
        assert!(findings[0].evidence["used_pct"].as_f64().unwrap_or(0.0) >= 70.0);
        // The 14 planted sessions, not pgsage's own.
        assert_eq!(findings[0].evidence["client_connections"], 14);
    }

    #[test]
    fn counts_hidden_sessions_with_low_confidence() {
        // Collected without pg_monitor: the 14 sessions are other roles', type hidden.
        let f =
            super::super::common::fixture_findings("slots-nearly-exhausted-unprivileged", "CON001");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].evidence["client_connections"], 14);
        assert_eq!(f[0].evidence["state_hidden"], 14);
        assert_eq!(f[0].confidence, crate::report::Confidence::Low);
        assert!(f[0]
            .confidence_reason
            .as_deref()
            .is_some_and(|r| r.contains("pg_monitor")));
    }

    #[test]
    fn quiet_with_few_connections() {
        assert_quiet("CON001");
    }
}
