//! Tenants of a shared cluster: each database's (and role's, and application's) share of
//! what the cluster does ([`Tenants`]).
//!
//! ERP hosting keeps one database per customer on a shared cluster, so "who is the noisy
//! neighbour" is a question about shares: of statement time, calls, temporary files, rows
//! read, WAL, connections, active sessions, size and growth. The sources:
//! - statement time, calls, rows returned and WAL bytes: `pg_stat_statements` summed over
//!   *every* top-level entry per database and role (`Statements::usage`), not only the top
//!   statements kept in the snapshot;
//! - rows read (`tup_returned`), blocks read outside shared buffers, temporary bytes and
//!   (14+) active time: `pg_stat_database`;
//! - connections and active sessions: `pg_stat_activity` at collection time (client
//!   connections only, pgsage's own left out: [`connections::clients`]);
//! - size: `pg_database_size`, and growth between the two samples of an interval
//!   collection or between two snapshots ([`Tenants::between`]).
//!
//! Counters are read over the sampled window when the snapshot has one (deltas between its
//! two samples) and since their reset otherwise ([`Basis`], named with every share):
//! lifetime shares answer "who has used the cluster", a window's "who uses it now".
//! `pg_stat_statements` has its own reset: when it was reset (or its entries evicted)
//! between the samples, statement shares fall back to its lifetime sums and say so.
//!
//! Shares are among *tenant* databases ([`is_tenant_database`]): templates, databases that
//! refuse connections, `postgres` and the managed platforms' own databases are not
//! tenants (their load is the provider's or the DBA's).

use std::collections::BTreeMap;

use crate::knowledge::connections;
use crate::knowledge::counters::{Basis, StatsWindow};
use crate::snapshot::{Baseline, DatabaseStats, Snapshot, StatementUsage, Statements};

/// Databases that are not tenants though they accept connections: the maintenance
/// database every cluster has, and the managed platforms' own.
pub const SYSTEM_DATABASES: &[&str] = &[
    "postgres",
    "rdsadmin",
    "cloudsqladmin",
    "azure_maintenance",
    "azure_sys",
    "alloydbadmin",
    "alloydbmetadata",
    "_dodb",
];

/// PostgreSQL's block size for `temp_blks_written` and `blks_read`, in bytes.
const BLOCK_BYTES: f64 = 8192.0;

/// Whether a database is a tenant: not a template, accepts connections, not left invalid
/// by an interrupted `DROP DATABASE`, and not a system database ([`SYSTEM_DATABASES`]).
pub fn is_tenant_database(d: &DatabaseStats) -> bool {
    !d.is_template
        && d.allow_connections
        && d.connection_limit != -2
        && !SYSTEM_DATABASES.contains(&d.name.as_str())
}

/// One tenant database's use of the cluster, over [`Tenants::statements_basis`] (statement
/// figures) and [`Tenants::database_basis`] (the `pg_stat_database` figures).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TenantUsage {
    /// Database name.
    pub name: String,
    /// Statement execution time, ms (none without `pg_stat_statements`).
    pub statement_time_ms: Option<f64>,
    /// Statement calls.
    pub calls: Option<i64>,
    /// Rows returned or affected by its statements.
    pub rows_returned: Option<i64>,
    /// WAL its statements generated, bytes.
    pub wal_bytes: Option<i64>,
    /// Temporary bytes its statements wrote (`temp_blks_written` × 8 kB).
    pub statement_temp_bytes: Option<i64>,
    /// The role taking most of its statement time, and that time in ms: the role a
    /// per-role setting (`ALTER ROLE … IN DATABASE …`) would target.
    pub top_role: Option<(String, f64)>,
    /// Rows read by its scans (`tup_returned`).
    pub rows_read: i64,
    /// Blocks read outside shared buffers (`blks_read`), bytes.
    pub read_bytes: i64,
    /// Temporary file bytes (`temp_bytes`: sorts, hashes and index builds beyond memory).
    pub temp_bytes: i64,
    /// Time its sessions spent running statements, ms (`active_time`, 14+).
    pub active_time_ms: Option<f64>,
    /// Whether its `pg_stat_database` counters were reset during the window (its figures
    /// are then since that reset, not over the whole window).
    pub reset_in_window: bool,
    /// Client connections at collection time.
    pub connections: usize,
    /// Of which running a statement (`state = active`).
    pub active_sessions: usize,
    /// `datconnlimit` (-1: none).
    pub connection_limit: i32,
    /// Size, bytes (none when the role may not see it).
    pub size_bytes: Option<i64>,
    /// Growth over the window, bytes (none without a window or a size).
    pub growth_bytes: Option<i64>,
}

/// A role's or an application's use (statement figures only for roles: applications are
/// not in `pg_stat_statements`), within tenant databases.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PartyUsage {
    /// Role or `application_name`.
    pub name: String,
    /// Statement execution time, ms (roles, with `pg_stat_statements`).
    pub statement_time_ms: Option<f64>,
    /// Statement calls (roles).
    pub calls: Option<i64>,
    /// Client connections.
    pub connections: usize,
    /// Of which active.
    pub active_sessions: usize,
}

/// Every tenant database's use, and per role and application.
#[derive(Debug, Clone, PartialEq)]
pub struct Tenants {
    /// The window of the statement figures (none without `pg_stat_statements`).
    pub statements_basis: Option<Basis>,
    /// Why statement figures are lifetime although the snapshot has a window.
    pub statements_fallback: Option<String>,
    /// The window of the `pg_stat_database` figures and of growth.
    pub database_basis: Basis,
    /// Tenant databases, by statement time (else temporary bytes), most first.
    pub databases: Vec<TenantUsage>,
    /// Roles with load or connections in tenant databases, most time first.
    pub roles: Vec<PartyUsage>,
    /// Applications with connections to tenant databases, most connections first.
    pub applications: Vec<PartyUsage>,
}

/// `part` as a percentage of `whole` (none when the whole is zero).
pub fn share_pct(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| 100.0 * part / whole)
}

impl Tenants {
    /// The tenants of a snapshot: over its sampled window when it has one, else lifetime.
    pub fn of(snapshot: &Snapshot) -> Tenants {
        let database_basis = Basis::of(snapshot);
        let baseline = snapshot.baseline.as_ref();
        let (statements_basis, statements_fallback, usage) = statement_usage(snapshot, baseline);
        let per_db = sum_by(&usage, |u| u.database.clone());
        let clients = connections::clients(snapshot);
        let mut databases: Vec<TenantUsage> = snapshot
            .databases
            .iter()
            .filter(|d| is_tenant_database(d))
            .map(|d| {
                let before = baseline.and_then(|b| b.databases.iter().find(|o| o.name == d.name));
                let mut t = database_usage(d, before);
                if statements_basis.is_some() {
                    let s = per_db.get(&d.name).cloned().unwrap_or_default();
                    t.statement_time_ms = Some(s.total_exec_time_ms);
                    t.calls = Some(s.calls);
                    t.rows_returned = Some(s.rows);
                    t.wal_bytes = Some(s.wal_bytes);
                    t.statement_temp_bytes =
                        Some((s.temp_blks_written as f64 * BLOCK_BYTES) as i64);
                    t.top_role = usage
                        .iter()
                        .filter(|u| u.database.as_deref() == Some(d.name.as_str()))
                        .filter_map(|u| Some((u.user.clone()?, u.total_exec_time_ms)))
                        .fold(BTreeMap::<String, f64>::new(), |mut m, (r, ms)| {
                            *m.entry(r).or_insert(0.0) += ms;
                            m
                        })
                        .into_iter()
                        .filter(|(_, ms)| *ms > 0.0)
                        .max_by(|a, b| a.1.total_cmp(&b.1));
                }
                let mine = clients
                    .iter()
                    .filter(|b| b.database.as_deref() == Some(d.name.as_str()));
                for b in mine {
                    t.connections += 1;
                    if b.state.as_deref() == Some("active") {
                        t.active_sessions += 1;
                    }
                }
                t
            })
            .collect();
        databases.sort_by(|a, b| {
            let key = |t: &TenantUsage| (t.statement_time_ms.unwrap_or(0.0), t.temp_bytes);
            key(b)
                .partial_cmp(&key(a))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| a.name.cmp(&b.name))
        });
        let tenant_names: Vec<&str> = databases.iter().map(|t| t.name.as_str()).collect();
        let in_tenant = |db: Option<&str>| db.is_some_and(|db| tenant_names.contains(&db));
        let tenant_clients: Vec<_> = clients
            .iter()
            .filter(|b| in_tenant(b.database.as_deref()))
            .collect();
        let mut roles: BTreeMap<String, PartyUsage> = BTreeMap::new();
        if statements_basis.is_some() {
            let tenant_usage: Vec<StatementUsage> = usage
                .iter()
                .filter(|u| in_tenant(u.database.as_deref()))
                .cloned()
                .collect();
            for (name, s) in sum_by(&tenant_usage, |u| u.user.clone()) {
                let r = roles.entry(name.clone()).or_insert_with(|| PartyUsage {
                    name,
                    ..PartyUsage::default()
                });
                r.statement_time_ms = Some(s.total_exec_time_ms);
                r.calls = Some(s.calls);
            }
        }
        let mut applications: BTreeMap<String, PartyUsage> = BTreeMap::new();
        for b in &tenant_clients {
            let active = b.state.as_deref() == Some("active");
            for (map, key) in [
                (&mut roles, b.user.clone()),
                (
                    &mut applications,
                    b.application_name.clone().filter(|a| !a.is_empty()),
                ),
            ] {
                let Some(key) = key else { continue };
                let p = map.entry(key.clone()).or_insert_with(|| PartyUsage {
                    name: key,
                    ..PartyUsage::default()
                });
                p.connections += 1;
                p.active_sessions += usize::from(active);
            }
        }
        let mut roles: Vec<PartyUsage> = roles.into_values().collect();
        roles.sort_by(|a, b| {
            b.statement_time_ms
                .unwrap_or(0.0)
                .partial_cmp(&a.statement_time_ms.unwrap_or(0.0))
                .unwrap_or(std::cmp::Ordering::Equal)
                .then(b.connections.cmp(&a.connections))
                .then_with(|| a.name.cmp(&b.name))
        });
        let mut applications: Vec<PartyUsage> = applications.into_values().collect();
        applications.sort_by(|a, b| {
            b.connections
                .cmp(&a.connections)
                .then_with(|| a.name.cmp(&b.name))
        });
        Tenants {
            statements_basis,
            statements_fallback,
            database_basis,
            databases,
            roles,
            applications,
        }
    }

    /// The tenants between two snapshots of the same server: `new`'s figures over the
    /// window since `old` was collected (as if `old` were `new`'s first sample).
    pub fn between(old: &Snapshot, new: &Snapshot) -> Tenants {
        let mut joined = new.clone();
        joined.baseline = Some(Baseline {
            collected_at: old.collected_at,
            databases: old.databases.clone(),
            checkpointer: old.checkpointer.clone(),
            wal: old.wal.clone(),
            tables: Vec::new(),
            indexes: Vec::new(),
            statements: old.statements.clone(),
            wal_lsn_bytes: None,
        });
        Tenants::of(&joined)
    }

    /// How many tenant databases the cluster holds.
    pub fn count(&self) -> usize {
        self.databases.len()
    }

    /// A tenant by name.
    pub fn get(&self, name: &str) -> Option<&TenantUsage> {
        self.databases.iter().find(|t| t.name == name)
    }

    /// Sum of a figure over every tenant.
    pub fn total(&self, figure: impl Fn(&TenantUsage) -> Option<f64>) -> Option<f64> {
        let mut any = false;
        let mut sum = 0.0;
        for t in &self.databases {
            if let Some(v) = figure(t) {
                any = true;
                sum += v;
            }
        }
        any.then_some(sum)
    }

    /// A tenant's share of a figure among all tenants, in %.
    pub fn share(
        &self,
        t: &TenantUsage,
        figure: impl Fn(&TenantUsage) -> Option<f64>,
    ) -> Option<f64> {
        let mine = figure(t)?;
        share_pct(mine, self.total(figure)?)
    }

    /// The share every tenant would have if the load were even, in %.
    pub fn fair_share_pct(&self) -> f64 {
        100.0 / self.databases.len().max(1) as f64
    }

    /// `over the last 10 min (sampled interval)` or `since the statistics were reset (3 h)`,
    /// for statement figures.
    pub fn describe_statements_window(&self) -> Option<String> {
        self.statements_basis
            .map(|b| describe(b, "pg_stat_statements counters"))
    }

    /// The same for the `pg_stat_database` figures and growth.
    pub fn describe_database_window(&self) -> String {
        describe(self.database_basis, "statistics")
    }
}

/// Figures a tenant table and rules read, by name, so that one formula computes each.
pub mod figure {
    use super::TenantUsage;

    /// Statement time, ms.
    pub fn time(t: &TenantUsage) -> Option<f64> {
        t.statement_time_ms
    }
    /// Calls.
    pub fn calls(t: &TenantUsage) -> Option<f64> {
        t.calls.map(|c| c as f64)
    }
    /// Temporary bytes (`pg_stat_database`).
    pub fn temp(t: &TenantUsage) -> Option<f64> {
        Some(t.temp_bytes as f64)
    }
    /// Rows read (`tup_returned`).
    pub fn rows_read(t: &TenantUsage) -> Option<f64> {
        Some(t.rows_read as f64)
    }
    /// Bytes read outside shared buffers.
    pub fn read(t: &TenantUsage) -> Option<f64> {
        Some(t.read_bytes as f64)
    }
    /// WAL bytes of its statements.
    pub fn wal(t: &TenantUsage) -> Option<f64> {
        t.wal_bytes.map(|w| w as f64)
    }
    /// Client connections.
    pub fn connections(t: &TenantUsage) -> Option<f64> {
        Some(t.connections as f64)
    }
    /// Active sessions.
    pub fn active(t: &TenantUsage) -> Option<f64> {
        Some(t.active_sessions as f64)
    }
    /// Size, bytes.
    pub fn size(t: &TenantUsage) -> Option<f64> {
        t.size_bytes.map(|s| s as f64)
    }
    /// Growth over the window, bytes (shrinking counts as none).
    pub fn growth(t: &TenantUsage) -> Option<f64> {
        t.growth_bytes.map(|g| g.max(0) as f64)
    }
}

/// The window in words, as every verdict over counters says it
/// ([`StatsWindow::describe`]).
fn describe(basis: Basis, counters: &'static str) -> String {
    StatsWindow {
        basis,
        since_reset_seconds: basis.seconds(),
        min_age_seconds: 0.0,
        counters,
    }
    .describe()
}

/// A database's `pg_stat_database` figures and size, as deltas since `before` when given.
fn database_usage(d: &DatabaseStats, before: Option<&DatabaseStats>) -> TenantUsage {
    // A reset (or a dropped and re-created database) in between: counters since then.
    let reset = before.is_some_and(|b| b.stats_reset != d.stats_reset || b.oid != d.oid);
    let base = before.filter(|_| !reset);
    let delta = |now: i64, then: fn(&DatabaseStats) -> i64| (now - base.map_or(0, then)).max(0);
    TenantUsage {
        name: d.name.clone(),
        rows_read: delta(d.tup_returned, |b| b.tup_returned),
        read_bytes: delta(d.blks_read, |b| b.blks_read).saturating_mul(BLOCK_BYTES as i64),
        temp_bytes: delta(d.temp_bytes, |b| b.temp_bytes),
        active_time_ms: d
            .active_time_ms
            .map(|now| (now - base.and_then(|b| b.active_time_ms).unwrap_or(0.0)).max(0.0)),
        reset_in_window: reset,
        connection_limit: d.connection_limit,
        size_bytes: d.size_bytes,
        growth_bytes: match (d.size_bytes, before.and_then(|b| b.size_bytes)) {
            (Some(now), Some(then)) if before.is_some_and(|b| b.oid == d.oid) => Some(now - then),
            _ => None,
        },
        ..TenantUsage::default()
    }
}

/// The statement sums to use, their window, and why they fell back to lifetime when the
/// snapshot has a window they cannot cover.
fn statement_usage(
    snapshot: &Snapshot,
    baseline: Option<&Baseline>,
) -> (Option<Basis>, Option<String>, Vec<StatementUsage>) {
    let Some(now) = snapshot.statements.as_ref().filter(|s| !s.usage.is_empty()) else {
        return (None, None, Vec::new());
    };
    let lifetime = || {
        let start = snapshot.server.started_at;
        let since = now.stats_reset.map_or(start, |r| r.max(start));
        Basis::SinceReset {
            seconds: snapshot.age_seconds(since),
        }
    };
    let (Some(seconds), Some(then)) = (
        snapshot.window_seconds(),
        baseline.and_then(|b| b.statements.as_ref()),
    ) else {
        return (Some(lifetime()), None, now.usage.clone());
    };
    match interval_usage(now, then) {
        Ok(deltas) => (Some(Basis::Interval { seconds }), None, deltas),
        Err(why) => (Some(lifetime()), Some(why), now.usage.clone()),
    }
}

/// Deltas per database and role between two samples, or why they would mislead.
fn interval_usage(now: &Statements, then: &Statements) -> Result<Vec<StatementUsage>, String> {
    if now.stats_reset != then.stats_reset {
        return Err("pg_stat_statements was reset during the sampled interval".into());
    }
    if now.dealloc.unwrap_or(0) != then.dealloc.unwrap_or(0) {
        return Err(
            "pg_stat_statements evicted entries during the sampled interval (pg_stat_statements.max reached): the sums went down"
                .into(),
        );
    }
    let key = |u: &StatementUsage| (u.database.clone(), u.user.clone());
    let before: BTreeMap<_, &StatementUsage> = then.usage.iter().map(|u| (key(u), u)).collect();
    let mut out = Vec::with_capacity(now.usage.len());
    for u in &now.usage {
        let mut d = u.clone();
        if let Some(b) = before.get(&key(u)) {
            d.entries = u.entries;
            d.calls -= b.calls;
            d.total_exec_time_ms -= b.total_exec_time_ms;
            d.total_plan_time_ms -= b.total_plan_time_ms;
            d.rows -= b.rows;
            d.shared_blks_read -= b.shared_blks_read;
            d.shared_blks_hit -= b.shared_blks_hit;
            d.temp_blks_written -= b.temp_blks_written;
            d.wal_bytes -= b.wal_bytes;
        }
        if d.calls < 0 || d.total_exec_time_ms < -1.0 {
            return Err(
                "pg_stat_statements sums went down during the sampled interval (entries reset or evicted)"
                    .into(),
            );
        }
        d.total_exec_time_ms = d.total_exec_time_ms.max(0.0);
        out.push(d);
    }
    Ok(out)
}

/// Sums per key (entries without one are left out).
fn sum_by(
    usage: &[StatementUsage],
    key: impl Fn(&StatementUsage) -> Option<String>,
) -> BTreeMap<String, StatementUsage> {
    let mut out: BTreeMap<String, StatementUsage> = BTreeMap::new();
    for u in usage {
        let Some(k) = key(u) else { continue };
        let s = out.entry(k).or_default();
        s.entries += u.entries;
        s.calls += u.calls;
        s.total_exec_time_ms += u.total_exec_time_ms;
        s.total_plan_time_ms += u.total_plan_time_ms;
        s.rows += u.rows;
        s.shared_blks_read += u.shared_blks_read;
        s.shared_blks_hit += u.shared_blks_hit;
        s.temp_blks_written += u.temp_blks_written;
        s.wal_bytes += u.wal_bytes;
    }
    out
}

/// A per-role `statement_timeout` for a tenant's role, in whole minutes: 4 × the longest
/// mean execution time among its top statements, rounded up, at least one minute. Its
/// normal statements still finish (a mean is well below the occasional slow run, and 4×
/// leaves room for it); a runaway report is cut off.
pub fn role_timeout_minutes(longest_mean_ms: f64) -> i64 {
    ((4.0 * longest_mean_ms.max(0.0)) / 60_000.0)
        .ceil()
        .max(1.0) as i64
}

#[cfg(test)]
mod tests {
    use super::*;
    use pgsage_testkit::scenario::fixture_path;

    fn noisy() -> Snapshot {
        Snapshot::load(fixture_path("tenants", "noisy-tenant")).expect("captured fixture")
    }

    #[test]
    fn tenants_leave_out_postgres_and_templates() {
        let s = noisy();
        let t = Tenants::of(&s);
        let mut names: Vec<&str> = t.databases.iter().map(|d| d.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["acme", "beta", "delta", "gamma", "scenario"]);
        assert!(s.databases.iter().any(|d| d.name == "postgres"));
        assert!(s.databases.iter().any(|d| d.is_template));
        // Statement sums over every entry, not the top ones only.
        let acme = t.get("acme").expect("acme");
        let top_ms: f64 = s
            .statements
            .as_ref()
            .expect("statements")
            .top
            .iter()
            .filter(|q| q.database.as_deref() == Some("acme") && q.toplevel != Some(false))
            .map(|q| q.total_exec_time_ms)
            .sum();
        assert!((acme.statement_time_ms.expect("time") - top_ms).abs() < 1.0);
        assert!(matches!(t.statements_basis, Some(Basis::SinceReset { .. })));
    }

    #[test]
    fn between_two_snapshots_figures_are_deltas_and_growth() {
        let new = noisy();
        let mut old = new.clone();
        old.collected_at = new.collected_at - chrono::TimeDelta::seconds(600);
        for d in old.databases.iter_mut().filter(|d| d.name == "acme") {
            d.size_bytes = d.size_bytes.map(|b| b - (1 << 30));
            d.temp_bytes -= 1000;
        }
        let t = Tenants::between(&old, &new);
        assert_eq!(t.database_basis, Basis::Interval { seconds: 600.0 });
        assert_eq!(t.statements_basis, Some(Basis::Interval { seconds: 600.0 }));
        let acme = t.get("acme").expect("acme");
        assert_eq!(acme.growth_bytes, Some(1 << 30));
        assert_eq!(acme.temp_bytes, 1000);
        // Nothing ran in between by the statement counters.
        assert_eq!(acme.statement_time_ms, Some(0.0));
        assert_eq!(t.get("beta").expect("beta").growth_bytes, Some(0));
    }

    #[test]
    fn a_reset_between_samples_falls_back_to_lifetime_statement_figures() {
        let new = noisy();
        let mut old = new.clone();
        old.collected_at = new.collected_at - chrono::TimeDelta::seconds(600);
        if let Some(st) = old.statements.as_mut() {
            st.stats_reset = Some(new.collected_at - chrono::TimeDelta::days(3));
        }
        let t = Tenants::between(&old, &new);
        assert!(matches!(t.statements_basis, Some(Basis::SinceReset { .. })));
        assert!(t.statements_fallback.is_some_and(|w| w.contains("reset")));
    }

    #[test]
    fn redaction_hashes_the_roles_of_the_sums() {
        let mut s = noisy();
        let has_postgres = |s: &Snapshot| {
            s.statements.as_ref().is_some_and(|st| {
                st.usage
                    .iter()
                    .any(|u| u.user.as_deref() == Some("postgres"))
            })
        };
        assert!(has_postgres(&s));
        crate::redact::redact(&mut s);
        assert!(!has_postgres(&s));
    }

    #[test]
    fn timeouts_leave_room_for_normal_statements() {
        assert_eq!(role_timeout_minutes(0.0), 1);
        assert_eq!(role_timeout_minutes(200.0), 1);
        assert_eq!(role_timeout_minutes(20_000.0), 2);
        assert_eq!(role_timeout_minutes(90_000.0), 6);
    }
}
