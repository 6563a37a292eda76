use std::collections::BTreeMap;

use crate::report::{ObjectKind, ObjectRef};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::Backend;
use crate::sql::quote_ident;
use crate::units;

use super::common::{clients_and_hidden, hidden_reason, hidden_sessions, round1};

declare_rule! {
    /// ## What it detects
    /// One database, role or application (`application_name`, unnamed sessions left
    /// out) holding at least `max_share_pct` of the client connections, when there are
    /// at least `min_connections` of them and at least two databases, roles or
    /// applications share them. A database or role that already has a connection limit
    /// (`ALTER … CONNECTION LIMIT`) is not flagged. pgsage's own session is left out.
    ///
    /// ## Why it matters
    /// Connection slots are shared by everything on the server. A tenant that opens far
    /// more connections than the others — a leaking worker pool, a reporting tool opening
    /// one connection per chart, a batch fanning out — is the one that fills
    /// `max_connections` and locks every other application out.
    ///
    /// ## How to fix
    /// Cap the tenant: `ALTER ROLE … CONNECTION LIMIT n` or
    /// `ALTER DATABASE … CONNECTION LIMIT n` (no restart), or a per-user / per-database
    /// pool size in the pooler (`max_user_connections`, `max_db_connections` in
    /// PgBouncer); then fix the application's pool size.
    ///
    /// ## Thresholds
    /// - `max_share_pct` (default 60): share of client connections that is disproportionate.
    /// - `min_connections` (default 20): client connections needed to judge.
    ///
    /// Collected by a role without `pg_monitor`, other roles' sessions come without their
    /// type (their database, role and application stay visible): they are counted as
    /// client connections and a finding has low confidence.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/sql-alterrole.html>
    /// - <https://www.postgresql.org/docs/current/sql-alterdatabase.html>
    /// - <https://www.pgbouncer.org/config.html#max_user_connections>
    pub struct TenantHogsConnections {
        id: "CON009",
        name: "tenant-hogs-connections",
        pack: "connections",
        title: "One database, role or application holds most connections",
        params: {
            max_share_pct: f64 = ("%", "Share of client connections that is disproportionate"),
            min_connections: f64 = ("connections", "Client connections needed to judge"),
        },
    }
}

/// The dimensions: label, key of a session (None: not counted), object kind.
type Key = fn(&Backend) -> Option<String>;
const DIMENSIONS: &[(&str, Key, ObjectKind)] = &[
    ("database", |b| b.database.clone(), ObjectKind::Database),
    ("role", |b| b.user.clone(), ObjectKind::Role),
    (
        "application",
        |b| b.application_name.clone().filter(|a| !a.is_empty()),
        ObjectKind::Session,
    ),
];

/// Counts per key, and the total counted.
fn shares(sessions: &[&Backend], key: Key) -> (BTreeMap<String, usize>, usize) {
    let mut counts = BTreeMap::new();
    let mut total = 0;
    for k in sessions.iter().filter_map(|b| key(b)) {
        *counts.entry(k).or_insert(0) += 1;
        total += 1;
    }
    (counts, total)
}

impl SnapshotRule for TenantHogsConnections {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let max_share = p.max_share_pct;
        let min_conns = p.min_connections;
        let snap = ctx.snapshot;
        super::common::require_activity(snap)?;
        // Other roles' sessions keep their database, role and application when their type
        // is hidden: counted, with low confidence (some may be parallel workers).
        let sessions = clients_and_hidden(snap);
        let hidden = hidden_sessions(snap).len();
        let usable = snap
            .setting("max_connections")
            .and_then(|s| s.as_f64())
            .map(|m| m - crate::knowledge::connections::reserved_slots(snap) as f64);
        let mut drafts = Vec::new();
        for &(label, key, kind) in DIMENSIONS {
            let (counts, total) = shares(&sessions, key);
            if (total as f64) < min_conns || counts.len() < 2 {
                continue;
            }
            for (name, &n) in &counts {
                let pct = 100.0 * n as f64 / total as f64;
                if pct < max_share {
                    continue;
                }
                let fix = match kind {
                    ObjectKind::Database => snap
                        .databases
                        .iter()
                        .find(|d| &d.name == name)
                        .filter(|d| d.connection_limit < 0)
                        .map(|_| format!("ALTER DATABASE {} CONNECTION LIMIT", quote_ident(name))),
                    ObjectKind::Role => snap
                        .roles
                        .iter()
                        .find(|r| &r.name == name)
                        .filter(|r| r.connection_limit < 0)
                        .map(|_| format!("ALTER ROLE {} CONNECTION LIMIT", quote_ident(name))),
                    _ => Some(String::new()),
                };
                // Already capped (or unknown): the DBA has decided its share.
                let Some(fix) = fix else { continue };
                let cap = usable
                    .map(|u| (u * max_share / 100.0).floor() as usize)
                    .unwrap_or(n)
                    .max(n);
                let others = counts.len() - 1;
                let mut draft = Draft::new(
                    ObjectRef::named(kind, name),
                    format!(
                        "{label} `{name}` holds {} of {} client connections ({}); {} other {label}(s) share the rest",
                        units::count(n),
                        units::count(total),
                        units::percent(pct),
                        units::count(others)
                    ),
                )
                .evidence("dimension", label)
                .evidence("connections", n)
                .evidence("client_connections", total)
                .evidence("share_pct", round1(pct))
                .evidence("other_tenants", others)
                .recommend(format!(
                    "Cap the {label}'s connections (CONNECTION LIMIT, or a per-{label} pool size in the pooler) so it cannot fill max_connections, then size its own connection pool to what it uses"
                ));
                if fix.is_empty() {
                    draft = draft.recommend(format!(
                        "Give application `{name}` a smaller connection pool, or route it through a pooler with a per-user/per-database limit (PgBouncer max_user_connections / max_db_connections) so it cannot fill max_connections"
                    ));
                } else {
                    draft = draft.evidence("suggested_connection_limit", cap).fix(
                        format!("{fix} {cap};"),
                        "none",
                        "new connections beyond the limit fail with `too many connections for role/database`: check the application's pool size first",
                    );
                }
                if hidden > 0 {
                    draft = draft
                        .evidence("state_hidden", hidden)
                        .low_confidence(hidden_reason(hidden));
                }
                drafts.push(draft);
            }
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_a_role_with_most_connections() {
        let f = assert_fires("CON009", "con_tenant_big");
        assert_eq!(f[0].evidence["dimension"], "role");
    }

    #[test]
    fn counts_hidden_sessions_by_role_with_low_confidence() {
        let f = super::super::common::fixture_findings("noisy-tenant-unprivileged", "CON009");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].evidence["connections"], 5);
        assert_eq!(f[0].confidence, crate::report::Confidence::Low);
    }

    #[test]
    fn quiet_when_connections_are_spread() {
        assert_quiet("CON009");
    }
}
