use std::collections::{BTreeMap, BTreeSet};

use crate::knowledge::connections::{ConnectionPlan, TenantUse};
use crate::report::{ObjectKind, ObjectRef, Severity};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::{Backend, Snapshot};
use crate::sql::quote_ident;
use crate::units;

use super::common::{clients_and_hidden, connection_plan, hidden_reason, hidden_sessions, round1};

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
    /// When the role is a superuser (or, for a database, most of its sessions are
    /// superusers'), the finding is that the application connects as a superuser: a
    /// warning, with no `CONNECTION LIMIT` fix, since PostgreSQL applies neither role nor
    /// database connection limits to superusers, and a superuser may also take the slots
    /// `superuser_reserved_connections` keeps for administrators. The evidence names the
    /// superuser roles and the applications (`application_name`) behind the sessions.
    ///
    /// ## How to fix
    /// Cap the tenant: `ALTER ROLE … CONNECTION LIMIT n` or
    /// `ALTER DATABASE … CONNECTION LIMIT n` (no restart), or a per-user / per-database
    /// pool size in the pooler (`max_user_connections`, `max_db_connections` in
    /// PgBouncer); then fix the application's pool size. For a superuser: create a role
    /// without `SUPERUSER` for the application, grant it only what it needs, connect the
    /// application with it, then cap it and give it its timeouts (CON006).
    ///
    /// ## Thresholds
    /// - `max_share_pct` (default 60): share of client connections that is
    ///   disproportionate, and the share of the usable slots the suggested limit allows.
    /// - `min_connections` (default 20): client connections needed to judge.
    ///
    /// The suggested `CONNECTION LIMIT` comes from the one connection model that rule
    /// CON002 and `pgsage tune` use (`pgsage_core::knowledge::connections`,
    /// `ConnectionPlan::tenant_limit`): `max(⌊usable × max_share_pct / 100⌋, needed)`,
    /// where `usable` is `max_connections` as `pgsage tune` recommends it minus the
    /// reserved slots after the advice (`superuser_reserved_connections`, 3 when CON010
    /// restores it, plus `reserved_connections`), and `needed` is the tenant's pooled
    /// server connections (`tune`'s pool size × its database/role pairs) and, unless
    /// `max_connections` is lowered behind a pooler, the sessions it holds now. The limit
    /// is always below `usable`; when it cannot be (the tenant needs every slot), there is
    /// no limit fix and the recommendation is a pooler. When `max_connections` is lowered
    /// behind a pooler, the fix applies once the applications connect through it.
    /// Superusers' sessions are not counted by a limit, so they are left out of `needed`.
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

/// The sessions of one tenant (a database, role or application).
fn sessions_of<'a>(sessions: &[&'a Backend], key: Key, name: &str) -> Vec<&'a Backend> {
    sessions
        .iter()
        .copied()
        .filter(|b| key(b).as_deref() == Some(name))
        .collect()
}

/// Whether a role is a superuser (unknown roles are not).
fn is_superuser(snap: &Snapshot, role: Option<&str>) -> bool {
    role.is_some_and(|role| snap.roles.iter().any(|r| r.name == role && r.is_superuser))
}

/// What a `CONNECTION LIMIT` on the tenant would count: its sessions of non-superuser
/// roles, and their (database, role) pairs.
fn cappable_use(snap: &Snapshot, mine: &[&Backend]) -> TenantUse {
    let counted: Vec<&&Backend> = mine
        .iter()
        .filter(|b| !is_superuser(snap, b.user.as_deref()))
        .collect();
    let pools: BTreeSet<(Option<&str>, Option<&str>)> = counted
        .iter()
        .map(|b| (b.database.as_deref(), b.user.as_deref()))
        .collect();
    TenantUse {
        sessions: counted.len(),
        pools: pools.len().max(1),
    }
}

/// `erp` (5), unnamed (2): the applications behind a tenant's sessions, most first.
fn applications(mine: &[&Backend]) -> Vec<(String, usize)> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for b in mine {
        let app = b
            .application_name
            .clone()
            .filter(|a| !a.is_empty())
            .unwrap_or_default();
        *counts.entry(app).or_insert(0) += 1;
    }
    let mut apps: Vec<(String, usize)> = counts.into_iter().collect();
    apps.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    apps
}

/// Which applications the sessions come from: "its sessions' application_name: `erp`
/// for 5, not set for 2", or "none of its sessions sets an application_name".
fn describe_applications(apps: &[(String, usize)]) -> String {
    if apps.iter().all(|(a, _)| a.is_empty()) {
        return "none of its sessions sets an application_name".to_owned();
    }
    let parts = apps
        .iter()
        .map(|(a, n)| {
            if a.is_empty() {
                format!("not set for {}", units::count(*n))
            } else {
                format!("`{a}` for {}", units::count(*n))
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!("its sessions' application_name: {parts}")
}

/// How the limit relates to the plan, for the recommendation: `58 is at most 60% of the
/// 97 slots ordinary roles can use (max_connections 100 minus 3 reserved), and at least
/// its pooled server connections (8 per pool × 1 pool)`.
fn limit_basis(plan: &ConnectionPlan, limit: i64, tenant: &TenantUse, max_share: f64) -> String {
    let mut text = format!(
        "{limit} is at most {} of the {} slots ordinary roles can use (max_connections {} minus {} reserved)",
        units::percent(max_share),
        units::count(plan.usable()),
        plan.max_connections,
        plan.reserved
    );
    if let Some(size) = plan.pool_size {
        text.push_str(&format!(
            ", and at least its pooled server connections ({size} per pool × {})",
            units::counted(tenant.pools, "pool", "pools")
        ));
    }
    text
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
        // The one model of connection numbers: max_connections as `tune` recommends it,
        // the reserved slots after the advice, `tune`'s pool size.
        let plan = connection_plan(ctx);
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
                let mine = sessions_of(&sessions, key, name);
                let others = counts.len() - 1;
                let share_text = format!(
                    "{label} `{name}` holds {} of {} client connections ({}); {} other {label}(s) share the rest",
                    units::count(n),
                    units::count(total),
                    units::percent(pct),
                    units::count(others)
                );
                let cappable = cappable_use(snap, &mine);
                let superuser_sessions = n - cappable.sessions.min(n);
                let mut draft = if matches!(kind, ObjectKind::Role | ObjectKind::Database)
                    && 2 * superuser_sessions > n
                {
                    // PostgreSQL applies no CONNECTION LIMIT to superusers: that the
                    // sessions are a superuser's is the finding.
                    superuser_draft(snap, kind, name, &share_text, &mine, plan, max_share)
                } else {
                    let limited = match kind {
                        ObjectKind::Database => snap
                            .databases
                            .iter()
                            .find(|d| &d.name == name)
                            .map(|d| d.connection_limit >= 0),
                        ObjectKind::Role => snap
                            .roles
                            .iter()
                            .find(|r| &r.name == name)
                            .map(|r| r.connection_limit >= 0),
                        _ => Some(false),
                    };
                    // Already capped (or unknown): the DBA has decided its share.
                    if limited != Some(false) {
                        continue;
                    }
                    let mut draft = Draft::new(ObjectRef::named(kind, name), share_text.clone())
                        .recommend(format!(
                            "Cap the {label}'s connections (CONNECTION LIMIT, or a per-{label} pool size in the pooler) so it cannot fill max_connections, then size its own connection pool to what it uses"
                        ));
                    let statement = match kind {
                        ObjectKind::Database => Some("ALTER DATABASE"),
                        ObjectKind::Role => Some("ALTER ROLE"),
                        _ => None,
                    };
                    match (statement, plan) {
                        (None, _) => {
                            draft = draft.recommend(format!(
                                "Give application `{name}` a smaller connection pool{}, or route it through a pooler with a per-user/per-database limit (PgBouncer max_user_connections / max_db_connections) so it cannot fill max_connections",
                                plan.and_then(|p| p.pool_size)
                                    .map(|size| format!(" (about {size} server connections per database/role pair)"))
                                    .unwrap_or_default()
                            ));
                        }
                        (Some(statement), Some(plan)) => {
                            draft = limit_fix(
                                draft,
                                statement,
                                label,
                                name,
                                &plan,
                                &cappable,
                                max_share,
                                superuser_sessions,
                            );
                        }
                        (Some(_), None) => {}
                    }
                    draft
                };
                draft = draft
                    .evidence("dimension", label)
                    .evidence("connections", n)
                    .evidence("client_connections", total)
                    .evidence("share_pct", round1(pct))
                    .evidence("other_tenants", others);
                if hidden > 0 {
                    draft = draft
                        .evidence("state_hidden", hidden)
                        .low_confidence(hidden_reason(ctx, hidden));
                }
                drafts.push(draft);
            }
        }
        Ok(drafts)
    }
}

/// The `CONNECTION LIMIT` fix for a role or database, from the connection plan; without
/// one when no limit below the usable slots leaves the tenant what it needs.
#[allow(clippy::too_many_arguments)]
fn limit_fix(
    mut draft: Draft,
    statement: &str,
    label: &str,
    name: &str,
    plan: &ConnectionPlan,
    tenant: &TenantUse,
    max_share: f64,
    superuser_sessions: usize,
) -> Draft {
    draft = draft
        .evidence("max_connections", plan.max_connections)
        .evidence("reserved_slots", plan.reserved)
        .evidence("usable_slots", plan.usable());
    if let Some(size) = plan.pool_size {
        draft = draft
            .evidence("pool_size", size)
            .evidence("tenant_pools", tenant.pools);
    }
    let uncounted = if superuser_sessions > 0 {
        format!(
            "; the limit does not count its {} of superusers",
            units::counted(superuser_sessions, "session", "sessions")
        )
    } else {
        String::new()
    };
    let Some(limit) = plan.tenant_limit(tenant, max_share) else {
        return draft.recommend(format!(
            "Route the {label}'s connections through a pooler{}: no CONNECTION LIMIT below the {} slots ordinary roles can use (max_connections {} minus {} reserved) leaves it the connections it holds now{uncounted}",
            plan.pool_size.map(|s| format!(" (about {s} server connections per database/role pair)")).unwrap_or_default(),
            units::count(plan.usable()),
            plan.max_connections,
            plan.reserved
        ));
    };
    let before = if plan.behind_pooler {
        format!(
            "-- after the applications connect through the pooler and max_connections is lowered to {}:\n",
            plan.max_connections
        )
    } else {
        String::new()
    };
    draft
        .evidence("suggested_connection_limit", limit)
        .recommend(format!(
            "Cap the {label}'s connections with CONNECTION LIMIT {limit} (or a per-{label} pool size in the pooler) so it cannot fill max_connections, then size its own connection pool to what it uses; {}{uncounted}",
            limit_basis(plan, limit, tenant, max_share)
        ))
        .fix(
            format!("{before}{statement} {} CONNECTION LIMIT {limit};", quote_ident(name)),
            "none",
            "new connections beyond the limit fail with `too many connections for role/database`: check the application's pool size first",
        )
}

/// The finding when the sessions that make a role or database dominant are a superuser's.
fn superuser_draft(
    snap: &Snapshot,
    kind: ObjectKind,
    name: &str,
    share_text: &str,
    mine: &[&Backend],
    plan: Option<ConnectionPlan>,
    max_share: f64,
) -> Draft {
    let superusers: BTreeSet<&str> = mine
        .iter()
        .filter_map(|b| b.user.as_deref())
        .filter(|u| is_superuser(snap, Some(u)))
        .collect();
    let roles = superusers
        .iter()
        .map(|r| format!("`{r}`"))
        .collect::<Vec<_>>()
        .join(", ");
    let apps = applications(mine);
    let who = match kind {
        ObjectKind::Role => format!("`{name}` is a superuser"),
        _ => format!("most of them are sessions of superuser {roles}"),
    };
    // The limit the application's own role would get: all these sessions, one pool per
    // database/role pair seen.
    let pools: BTreeSet<(Option<&str>, Option<&str>)> = mine
        .iter()
        .map(|b| (b.database.as_deref(), b.user.as_deref()))
        .collect();
    let tenant = TenantUse {
        sessions: mine.len(),
        pools: pools.len().max(1),
    };
    let limit = plan.and_then(|p| p.tenant_limit(&tenant, max_share));
    let mut draft = Draft::new(
        ObjectRef::named(kind, name),
        format!(
            "{share_text}: {who}, and PostgreSQL applies no CONNECTION LIMIT to superusers (nor keeps its reserved slots from them); {}",
            describe_applications(&apps)
        ),
    )
    .severity(Severity::Warning)
    .evidence("superuser_roles", superusers.iter().copied().collect::<Vec<_>>())
    .evidence(
        "applications",
        apps.iter()
            .map(|(a, n)| serde_json::json!({ "application_name": a, "connections": n }))
            .collect::<Vec<_>>(),
    )
    .recommend(format!(
        "Connect the application with its own role without SUPERUSER (CREATE ROLE … LOGIN, then GRANT it only what it needs) instead of {roles}; then cap that role{} and give it its timeouts. A superuser ignores CONNECTION LIMIT, can take the slots reserved for administrators, and turns any SQL injection into control of the server",
        limit
            .map(|l| format!(" (CONNECTION LIMIT {l})"))
            .unwrap_or_default()
    ));
    if let (Some(limit), Some(plan)) = (limit, plan) {
        draft = draft
            .evidence("suggested_connection_limit", limit)
            .evidence("max_connections", plan.max_connections)
            .evidence("reserved_slots", plan.reserved)
            .evidence("usable_slots", plan.usable());
    }
    draft
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

    #[test]
    fn names_a_superuser_instead_of_capping_it() {
        let f = super::super::common::fixture_findings("superuser-tenant", "CON009");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].object.name, "postgres");
        assert!(
            f[0].fix.is_none(),
            "no CONNECTION LIMIT for a superuser: {f:#?}"
        );
        assert_eq!(f[0].severity, crate::report::Severity::Warning);
        assert_eq!(
            f[0].evidence["superuser_roles"],
            serde_json::json!(["postgres"])
        );
        assert!(f[0].message.contains("superuser"), "{}", f[0].message);
        assert!(f[0].recommendation.contains("without SUPERUSER"));
    }

    #[test]
    fn the_limit_fits_under_the_lowered_max_connections() {
        // 400 slots on 4 CPUs: CON002 and `tune` lower max_connections to 100 behind a
        // pooler; the cap leaves room under that, for the pool of 8.
        let f = super::super::common::fixture_findings("oversized-noisy-tenant", "CON009");
        assert_eq!(f.len(), 1, "{f:#?}");
        let limit = f[0].evidence["suggested_connection_limit"]
            .as_i64()
            .expect("a limit");
        assert_eq!(f[0].evidence["max_connections"], 100);
        assert!((8..97).contains(&limit), "{limit}");
        let sql = &f[0].fix.as_ref().expect("a fix").sql;
        assert!(
            sql.starts_with("-- after the applications connect through the pooler"),
            "{sql}"
        );
        assert!(
            sql.ends_with(&format!("CONNECTION LIMIT {limit};")),
            "{sql}"
        );
    }
}
