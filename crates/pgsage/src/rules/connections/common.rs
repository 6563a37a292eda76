//! Helpers shared by the `connections` rules: which sessions are clients (the collector's
//! own session left out), session ages, and grouping by database.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::rules::Skip;
use crate::snapshot::{Backend, Snapshot};

/// The `application_name` the collector sets on its session.
pub(crate) const COLLECTOR_APPLICATION: &str = "pgsage";

/// Whether `b` is the collector's own session: a client backend of the collecting role in
/// the connected database whose `application_name` is `pgsage` (or its pseudonym in a
/// redacted snapshot).
pub(crate) fn is_collector(snap: &Snapshot, b: &Backend) -> bool {
    let app_matches = b.application_name.as_deref().is_some_and(|a| {
        a == COLLECTOR_APPLICATION
            || (snap.redacted && a == crate::redact::pseudonym("app", COLLECTOR_APPLICATION))
    });
    b.backend_type == "client backend"
        && app_matches
        && b.database.as_deref() == Some(snap.server.database.as_str())
        && b.user.as_deref() == Some(snap.server.user.as_str())
}

/// Client backends, without the collector's own session.
pub(crate) fn clients(snap: &Snapshot) -> Vec<&Backend> {
    snap.activity
        .iter()
        .filter(|b| b.backend_type == "client backend" && !is_collector(snap, b))
        .collect()
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
            "the states of {hidden} sessions of other roles are hidden: collect as a role with pg_monitor (or pg_read_all_stats)"
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
