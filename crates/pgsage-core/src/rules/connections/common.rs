//! Helpers shared by the `connections` rules: session ages, grouping by database, the
//! skips for missing activity. Which sessions are clients (the collector's own session left
//! out) is [`crate::knowledge::connections`]'s.

use crate::units;
use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::knowledge::connections::{self, ConnectionPlan};
pub(crate) use crate::knowledge::connections::{clients, clients_and_hidden, hidden_sessions};
use crate::knowledge::platform_pooling::PoolingAdvice;
use crate::report::Fix;
use crate::rules::{RuleContext, Skip};
use crate::snapshot::{Backend, Platform, Snapshot};

/// The reason to lower confidence when `hidden` sessions of other roles were counted as
/// client connections, with the grant the platform allows for exact counts
/// ([`crate::knowledge::platform_privileges`]).
pub(crate) fn hidden_reason(ctx: &RuleContext<'_>, hidden: usize) -> String {
    let grant = crate::knowledge::platform_privileges::monitoring_grant(
        platform(ctx),
        ctx.snapshot.server.major(),
    );
    format!(
        "{hidden} session(s) of other roles have their type and state hidden (the collecting role lacks pg_monitor / pg_read_all_stats): they are counted as client connections, but some may be parallel or background workers; for exact counts: {}",
        grant.advice(&ctx.snapshot.server.user)
    )
}

/// Skips when `pg_stat_activity` was not collected.
pub(crate) fn require_activity(snap: &Snapshot) -> Result<(), Skip> {
    match snap.gap("pg_stat_activity") {
        Some(g) => Err(Skip::because(format!(
            "pg_stat_activity not collected: {}",
            g.why
        ))),
        None => Ok(()),
    }
}

/// Skips when other roles' session states are hidden (the collecting role lacks
/// `pg_read_all_stats`/`pg_monitor`): idle, waiting and running sessions cannot be told
/// apart.
pub(crate) fn require_session_states(snap: &Snapshot) -> Result<(), Skip> {
    require_activity(snap)?;
    let hidden = snap
        .activity
        .iter()
        // Without pg_read_all_stats, other roles' rows come with their state and backend
        // type hidden (an empty type), so both count as hidden client sessions.
        .filter(|b| {
            (b.backend_type == "client backend" || b.backend_type.is_empty()) && b.state.is_none()
        })
        .count();
    if hidden > 0 && !snap.server.can_read_all_stats {
        return Err(Skip::because(format!(
            "the states of {} sessions of other roles are hidden: collect as a role with pg_monitor (or pg_read_all_stats)",
            units::count(hidden)
        )));
    }
    Ok(())
}

/// Seconds from `at` to collection time.
pub(crate) fn age(snap: &Snapshot, at: Option<DateTime<Utc>>) -> Option<f64> {
    at.map(|t| snap.age_seconds(t))
}

/// Whether a session is idle in a transaction (aborted or not).
pub(crate) fn is_idle_in_transaction(b: &Backend) -> bool {
    matches!(
        b.state.as_deref(),
        Some("idle in transaction") | Some("idle in transaction (aborted)")
    )
}

/// Groups items by database name (`?` when unknown), in name order.
pub(crate) fn by_database<'a, T>(
    items: impl IntoIterator<Item = (Option<&'a str>, T)>,
) -> BTreeMap<String, Vec<T>> {
    let mut out: BTreeMap<String, Vec<T>> = BTreeMap::new();
    for (db, item) in items {
        out.entry(db.unwrap_or("?").to_owned())
            .or_default()
            .push(item);
    }
    out
}

/// The connection plan of the audit ([`ConnectionPlan`]): `max_connections` as `pgsage
/// tune` recommends it (its current value when kept), the reserved slots after the advice,
/// and `tune`'s pool size. `None` when `max_connections` is not in the snapshot.
pub(crate) fn connection_plan(ctx: &RuleContext<'_>) -> Option<ConnectionPlan> {
    let current = ctx
        .snapshot
        .setting("max_connections")
        .and_then(|s| s.as_f64())? as i64;
    let max_connections = ctx
        .sized_value("max_connections")
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(current);
    Some(ConnectionPlan {
        max_connections,
        reserved: connections::advised_reserved_slots(ctx.snapshot, platform(ctx)),
        pool_size: ctx.tuning().pool_size,
        behind_pooler: max_connections < current,
    })
}

/// The platform the advice is for ([`crate::knowledge::platform::of`]).
pub(crate) fn platform(ctx: &RuleContext<'_>) -> Platform {
    crate::knowledge::platform::of(ctx.snapshot, ctx.host).value
}

/// The pooler to advise on this platform ([`PoolingAdvice`]).
pub(crate) fn pooling(ctx: &RuleContext<'_>) -> PoolingAdvice {
    PoolingAdvice::of(ctx.snapshot, platform(ctx))
}

/// The fix that turns the platform's own pooler on, when it is a server parameter and the
/// snapshot does not show it on (Azure's `pgbouncer.enabled`), with `more` settings to
/// change in the same fix; `None` when there is nothing to change.
pub(crate) fn pooling_fix(
    ctx: &RuleContext<'_>,
    more: &[(&str, String)],
    watch: &str,
) -> Option<Fix> {
    let enable = pooling(ctx).enabling_change();
    let mut changes: Vec<(&str, String)> = enable.iter().cloned().collect();
    changes.extend(more.iter().cloned());
    if changes.is_empty() {
        return None;
    }
    let watch = match enable {
        Some(_) => format!(
            "that the applications connect through the pooler and the server's client connections drop{}",
            if watch.is_empty() { String::new() } else { format!("; {watch}") }
        ),
        None => watch.to_owned(),
    };
    Some(ctx.settings_fix(&changes, "", &watch))
}

/// Rounds to one decimal, for evidence.
pub(crate) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// `pid 123 (user `app`, application `odoo`)` for messages.
pub(crate) fn describe(b: &Backend) -> String {
    let mut parts = Vec::new();
    if let Some(u) = b.user.as_deref().filter(|u| !u.is_empty()) {
        parts.push(format!("user `{u}`"));
    }
    if let Some(a) = b.application_name.as_deref().filter(|a| !a.is_empty()) {
        parts.push(format!("application `{a}`"));
    }
    if parts.is_empty() {
        format!("pid {}", b.pid)
    } else {
        format!("pid {} ({})", b.pid, parts.join(", "))
    }
}

/// A rule's findings on a captured fixture of the `connections` scenario, audited with
/// the scenario's configuration.
#[cfg(test)]
pub(crate) fn fixture_findings(case: &str, rule: &str) -> Vec<crate::report::Finding> {
    use pgsage_testkit::scenario::{fixture_path, Scenario};
    let scenario = Scenario::load("connections").expect("connections scenario");
    let snapshot = crate::Snapshot::load(fixture_path("connections", case))
        .unwrap_or_else(|e| panic!("{e} (capture the fixtures with scripts/capture-fixtures.sh)"));
    let mut config = crate::RuleConfig::shipped().expect("shipped packs");
    config
        .apply_toml(&scenario.config, "scenario connections")
        .expect("scenario config");
    crate::audit(&snapshot, &config)
        .findings
        .into_iter()
        .filter(|f| f.rule == rule)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_by_database_in_name_order() {
        let g = by_database([(Some("b"), 1), (None, 2), (Some("a"), 3), (Some("b"), 4)]);
        let keys: Vec<_> = g.keys().cloned().collect();
        assert_eq!(keys, ["?", "a", "b"]);
        assert_eq!(g["b"], [1, 4]);
    }

    #[test]
    fn rounds_to_one_decimal() {
        assert_eq!(round1(12.345), 12.3);
    }
}
