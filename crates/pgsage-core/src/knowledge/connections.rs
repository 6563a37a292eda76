//! Connections: which sessions are client connections, and how many connection slots and
//! pooled server connections a host needs. Rule CON002 and `pgsage tune` size the pool and
//! `max_connections` with the same model ([`sizing`], [`advise_limit`]) and CON002's
//! parameters ([`PoolPolicy`]).
//!
//! A CPU runs one backend at a time: beyond a few active connections per CPU, more slots add
//! memory and contention, not throughput. A pooler (PgBouncer in transaction mode) keeps the
//! server connections near the CPUs' capacity however many clients connect.
//!
//! On a managed platform, only the user's slots and sessions count: the slots the provider
//! keeps and the sessions of its operators are not the user's ([`platform_slots`]).
//!
//! References: <https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-MAX-CONNECTIONS>,
//! <https://wiki.postgresql.org/wiki/Number_Of_Database_Connections>,
//! <https://www.pgbouncer.org/config.html#default_pool_size>,
//! <https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ACTIVITY-VIEW>.

use std::collections::BTreeSet;

use super::{platform_slots, Profile};
use crate::snapshot::{Backend, Platform, Snapshot};

/// Default `max_connections` per profile (PGTune's), when neither the server nor the user
/// says.
pub fn default_connections(profile: Profile) -> i64 {
    match profile {
        Profile::Web => 200,
        Profile::Oltp => 300,
        Profile::Dw => 40,
        Profile::Mixed => 100,
    }
}

/// The `application_name` the collector sets on its session.
pub const COLLECTOR_APPLICATION: &str = "pgsage";

/// Whether `b` is the collector's own session: a client backend of the collecting role in
/// the connected database whose `application_name` is `pgsage` (or its pseudonym in a
/// redacted snapshot).
pub fn is_collector(snap: &Snapshot, b: &Backend) -> bool {
    let app_matches = b.application_name.as_deref().is_some_and(|a| {
        a == COLLECTOR_APPLICATION
            || (snap.redacted && a == crate::redact::pseudonym("app", COLLECTOR_APPLICATION))
    });
    b.backend_type == "client backend"
        && app_matches
        && b.database.as_deref() == Some(snap.server.database.as_str())
        && b.user.as_deref() == Some(snap.server.user.as_str())
}

/// Whether a session is the user's to count: neither the collector's own nor a managed
/// provider's operator's ([`platform_slots::is_operator_session`]: `azuresu`, `rdsadmin`,
/// `cloudsqladmin`).
fn is_users(snap: &Snapshot, b: &Backend) -> bool {
    !is_collector(snap, b) && !platform_slots::is_operator_session(snap, b)
}

/// Client backends, without the collector's own session and the provider's operators'.
pub fn clients(snap: &Snapshot) -> Vec<&Backend> {
    snap.activity
        .iter()
        .filter(|b| b.backend_type == "client backend" && is_users(snap, b))
        .collect()
}

/// Other roles' sessions whose type and state the collecting role may not see (it lacks
/// `pg_read_all_stats`/`pg_monitor`): their `backend_type` comes empty and their state
/// hidden, while their database and role stay visible. Rows with both a database and a
/// role are almost always client backends (background processes have neither, or no
/// database); parallel workers and background workers connected to a database look the
/// same, so counts that include them are upper bounds.
pub fn hidden_sessions(snap: &Snapshot) -> Vec<&Backend> {
    if snap.server.can_read_all_stats {
        return Vec::new();
    }
    snap.activity
        .iter()
        .filter(|b| {
            b.backend_type.is_empty()
                && b.state.is_none()
                && b.database.is_some()
                && b.user.is_some()
                && is_users(snap, b)
        })
        .collect()
}

/// Client backends, plus the sessions of other roles whose type is hidden (see
/// [`hidden_sessions`]): all the client connections the role can count.
pub fn clients_and_hidden(snap: &Snapshot) -> Vec<&Backend> {
    let mut all = clients(snap);
    all.extend(hidden_sessions(snap));
    all
}

/// The client connections seen at collection (one sample of `pg_stat_activity`, the
/// collector's own session left out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Sessions {
    /// Client connections, other roles' sessions of hidden type included
    /// ([`clients_and_hidden`]).
    pub clients: usize,
    /// Those not idle; hidden sessions count as not idle, so this is an upper bound.
    pub active: usize,
    /// Sessions of other roles whose type and state are hidden.
    pub hidden: usize,
    /// Distinct (database, role) pairs: a pooler keeps one pool per pair.
    pub pools: usize,
}

impl Sessions {
    /// Counts the snapshot's sessions.
    pub fn observe(snapshot: &Snapshot) -> Sessions {
        let clients = clients_and_hidden(snapshot);
        let pools: BTreeSet<_> = clients
            .iter()
            .map(|b| (b.database.clone(), b.user.clone()))
            .collect();
        Sessions {
            clients: clients.len(),
            active: clients
                .iter()
                .filter(|b| b.state.as_deref() != Some("idle"))
                .count(),
            hidden: hidden_sessions(snapshot).len(),
            pools: pools.len(),
        }
    }
}

/// PostgreSQL's default `superuser_reserved_connections`.
pub const DEFAULT_SUPERUSER_RESERVED: i64 = 3;

/// PostgreSQL's reserves: `superuser_reserved_connections` (default 3) plus
/// `reserved_connections` (16+, default 0).
fn postgres_reserved_slots(snapshot: &Snapshot) -> i64 {
    let setting = |name: &str| snapshot.setting(name).and_then(|s| s.as_f64());
    let superuser =
        setting("superuser_reserved_connections").map_or(DEFAULT_SUPERUSER_RESERVED, |v| v as i64);
    let reserved = setting("reserved_connections").map_or(0, |v| v as i64);
    superuser.max(0) + reserved.max(0)
}

/// Slots ordinary roles cannot use: PostgreSQL's reserves (`superuser_reserved_connections`,
/// default 3, plus `reserved_connections`, 16+) and what a managed platform keeps on top
/// ([`platform_slots::provider_slots`]: RDS's `rds.rds_superuser_reserved_connections`).
pub fn reserved_slots(snapshot: &Snapshot, platform: Platform) -> i64 {
    postgres_reserved_slots(snapshot) + platform_slots::provider_slots(snapshot, platform)
}

/// Slots ordinary roles cannot use once the audit's advice is applied: the reserved slots
/// ([`reserved_slots`]), with PostgreSQL's default `superuser_reserved_connections`
/// ([`DEFAULT_SUPERUSER_RESERVED`]) when PostgreSQL's reserves are 0, which is what rule
/// CON010 sets. The sizing of `max_connections` and of per-role limits counts these.
pub fn advised_reserved_slots(snapshot: &Snapshot, platform: Platform) -> i64 {
    let postgres = match postgres_reserved_slots(snapshot) {
        0 => DEFAULT_SUPERUSER_RESERVED,
        n => n,
    };
    postgres + platform_slots::provider_slots(snapshot, platform)
}

/// Rule CON002's parameters (`rules/connections.toml`), which `pgsage tune` uses too.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoolPolicy {
    /// Server connections per pool per CPU (`pool_size_per_cpu`).
    pub pool_size_per_cpu: f64,
    /// Connection slots per CPU above which `max_connections` is oversized
    /// (`cpu_multiplier`).
    pub cpu_multiplier: f64,
    /// `max_connections` at or below this is never oversized, and never the target of a
    /// lowering (`max_connections_floor`; PostgreSQL's default is 100).
    pub max_connections_floor: f64,
}

impl Default for PoolPolicy {
    /// The shipped pack's values (a test keeps them equal).
    fn default() -> Self {
        PoolPolicy {
            pool_size_per_cpu: 2.0,
            cpu_multiplier: 10.0,
            max_connections_floor: 100.0,
        }
    }
}

/// `v` rounded up to a multiple of ten.
fn round_up_10(v: i64) -> i64 {
    (v.max(0) + 9) / 10 * 10
}

/// The server connections per pool (PgBouncer `default_pool_size`, transaction mode):
/// `pool_size_per_cpu` × CPUs, at least the active connections seen, at least 1.
pub fn pool_size(cpus: f64, pool_size_per_cpu: f64, active: usize) -> i64 {
    ((pool_size_per_cpu * cpus).ceil() as i64)
        .max(active as i64)
        .max(1)
}

/// `max_connections` once the clients go through a pooler: the pools' server connections,
/// the reserved slots and 10 spare for administration and monitoring, rounded up to ten,
/// never below `floor`.
pub fn pooled_limit(pool_size: i64, pools: usize, reserved: i64, floor: f64) -> i64 {
    round_up_10(pool_size * (pools.max(1) as i64) + reserved + 10).max(floor.max(0.0) as i64)
}

/// `max_connections` without a pooler: the client connections seen plus half again for
/// peaks, plus the reserved slots, rounded up to ten, at least 20.
pub fn headroom_limit(clients: usize, reserved: i64) -> i64 {
    let clients = clients as i64;
    round_up_10((clients * 3 + 1) / 2 + reserved).max(20)
}

/// Whether `max_connections` is oversized for the CPUs: above the floor and above
/// `cpu_multiplier` slots per CPU.
pub fn oversized(max_connections: f64, cpus: f64, policy: &PoolPolicy) -> bool {
    max_connections > policy.max_connections_floor && max_connections > policy.cpu_multiplier * cpus
}

/// The pool a host needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pool {
    /// Server connections per pool ([`pool_size`]).
    pub size: i64,
    /// Pools: the (database, role) pairs seen, at least one.
    pub pools: i64,
    /// `max_connections` with the pooler in front ([`pooled_limit`]).
    pub limit: i64,
}

/// The connection sizing of a server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sizing {
    /// `max_connections` without a pooler ([`headroom_limit`]).
    pub headroom_limit: i64,
    /// The pool, when the CPU count is known.
    pub pool: Option<Pool>,
}

/// Sizes the connections for the sessions seen, the reserved slots and the CPUs.
pub fn sizing(
    sessions: &Sessions,
    reserved: i64,
    cpus: Option<f64>,
    policy: &PoolPolicy,
) -> Sizing {
    Sizing {
        headroom_limit: headroom_limit(sessions.clients, reserved),
        pool: cpus.map(|cpus| {
            let size = pool_size(cpus, policy.pool_size_per_cpu, sessions.active);
            Pool {
                size,
                pools: sessions.pools.max(1) as i64,
                limit: pooled_limit(size, sessions.pools, reserved, policy.max_connections_floor),
            }
        }),
    }
}

/// What to do with `max_connections`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitAdvice {
    /// Too few slots for the clients seen: raise it to this ([`Sizing::headroom_limit`]).
    Raise(i64),
    /// Oversized for the CPUs, at least twice the pooled limit: put a pooler in front and
    /// lower it to this ([`Pool::limit`]).
    Lower(i64),
    /// Leave it.
    Keep,
}

/// The advice for the current `max_connections`: raise it when the clients seen leave no
/// headroom; lower it behind a pooler when it is [`oversized`] and at least twice the
/// pooled limit (a restart and a pooler are worth it only for a large cut).
pub fn advise_limit(
    current: i64,
    sizing: &Sizing,
    cpus: Option<f64>,
    policy: &PoolPolicy,
) -> LimitAdvice {
    if current < sizing.headroom_limit {
        return LimitAdvice::Raise(sizing.headroom_limit);
    }
    match (sizing.pool, cpus) {
        (Some(pool), Some(cpus))
            if oversized(current as f64, cpus, policy) && current >= 2 * pool.limit =>
        {
            LimitAdvice::Lower(pool.limit)
        }
        _ => LimitAdvice::Keep,
    }
}

/// A safety timeout rule CON006 suggests when a connecting role has none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SafetyTimeout {
    /// The setting.
    pub name: &'static str,
    /// Whether superusers get it too. `statement_timeout` and `lock_timeout` would cancel
    /// what superusers run on purpose (maintenance, index builds, migrations, restores),
    /// so they are suggested for application roles only; a transaction left open holds
    /// its locks and the xmin horizon whoever opened it, so
    /// `idle_in_transaction_session_timeout` applies to every role.
    pub superusers: bool,
    /// The suggested value: a starting point above what interactive and OLTP work needs.
    pub value: &'static str,
}

/// The safety timeouts rule CON006 checks, with the values it suggests.
pub const SAFETY_TIMEOUTS: &[SafetyTimeout] = &[
    SafetyTimeout {
        name: "idle_in_transaction_session_timeout",
        superusers: true,
        value: "10min",
    },
    SafetyTimeout {
        name: "statement_timeout",
        superusers: false,
        value: "5min",
    },
    SafetyTimeout {
        name: "lock_timeout",
        superusers: false,
        value: "10s",
    },
];

/// The connection numbers the audit's advice adds up to: `max_connections` as `pgsage
/// tune` recommends it (or as it is, when kept), the reserved slots after the advice
/// ([`advised_reserved_slots`]) and the pool size ([`pool_size`]) when the CPUs are known.
/// Every connection number in the `connections` rules' findings comes from here, so that
/// they agree with each other and with `pgsage tune`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionPlan {
    /// `max_connections` after the advice.
    pub max_connections: i64,
    /// Slots ordinary roles cannot use after the advice.
    pub reserved: i64,
    /// Server connections per (database, role) pool, when the CPUs are known.
    pub pool_size: Option<i64>,
    /// Whether the advice lowers `max_connections` behind a pooler
    /// ([`LimitAdvice::Lower`]): the limits then hold once the clients connect through it.
    pub behind_pooler: bool,
}

/// What one role or one database uses of the connection slots.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantUse {
    /// Its client connections that a `CONNECTION LIMIT` counts (superusers' sessions are
    /// never counted: PostgreSQL does not apply the limit to them).
    pub sessions: usize,
    /// The (database, role) pairs among its sessions: a pooler keeps one pool per pair.
    pub pools: usize,
}

impl ConnectionPlan {
    /// The slots ordinary roles can use: `max_connections` minus the reserved slots.
    pub fn usable(&self) -> i64 {
        (self.max_connections - self.reserved).max(0)
    }

    /// The `CONNECTION LIMIT` for one role or database (`ALTER ROLE … CONNECTION LIMIT n`,
    /// `ALTER DATABASE … CONNECTION LIMIT n`) so that it cannot take more than
    /// `max_share_pct` of the usable slots:
    ///
    /// `limit = max(⌊usable × max_share_pct / 100⌋, needed)`, where `usable` is
    /// `max_connections − reserved slots` after the advice, and `needed` is what the tenant
    /// must still be able to open: its pools' server connections (pool size × its
    /// (database, role) pairs) when the pool size is known, and the sessions it holds now
    /// unless the advice puts a pooler in front ([`ConnectionPlan::behind_pooler`]).
    ///
    /// `None` when that limit would not be below `usable`: it would cap nothing, and the
    /// tenant needs a pooler or more slots instead.
    pub fn tenant_limit(&self, tenant: &TenantUse, max_share_pct: f64) -> Option<i64> {
        let usable = self.usable();
        let pooled = self
            .pool_size
            .map_or(0, |size| size * tenant.pools.max(1) as i64);
        let held = if self.behind_pooler {
            0
        } else {
            tenant.sessions as i64
        };
        let share = (usable as f64 * max_share_pct / 100.0).floor() as i64;
        let limit = share.max(pooled).max(held).max(1);
        (limit < usable).then_some(limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: PoolPolicy = PoolPolicy {
        pool_size_per_cpu: 2.0,
        cpu_multiplier: 10.0,
        max_connections_floor: 100.0,
    };

    #[test]
    fn the_default_policy_is_the_shipped_packs() {
        assert_eq!(PoolPolicy::default(), P);
        let config = crate::RuleConfig::shipped().expect("shipped packs");
        let p = &config.rules["CON002"].params;
        let number = |name: &str| match p.get(name) {
            Some(crate::rules::ParamValue::Number(n)) => *n,
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(P.pool_size_per_cpu, number("pool_size_per_cpu"));
        assert_eq!(P.cpu_multiplier, number("cpu_multiplier"));
        assert_eq!(P.max_connections_floor, number("max_connections_floor"));
    }

    #[test]
    fn pool_from_cpus_and_active_connections() {
        assert_eq!(pool_size(4.0, 2.0, 3), 8);
        assert_eq!(pool_size(4.0, 2.0, 30), 30);
        assert_eq!(pool_size(2.5, 2.0, 0), 5);
        assert_eq!(pooled_limit(8, 1, 3, 100.0), 100);
        // 30 × 2 + 3 + 10 = 73 → 80.
        assert_eq!(pooled_limit(30, 2, 3, 50.0), 80);
    }

    #[test]
    fn headroom_is_one_and_a_half_times_the_clients() {
        // 40 × 1.5 + 3 = 63 → 70.
        assert_eq!(headroom_limit(40, 3), 70);
        assert_eq!(headroom_limit(1, 3), 20);
    }

    #[test]
    fn a_tenant_limit_fits_below_the_usable_slots_and_above_its_pools() {
        let plan = ConnectionPlan {
            max_connections: 100,
            reserved: 3,
            pool_size: Some(8),
            behind_pooler: true,
        };
        let big = TenantUse {
            sessions: 250,
            pools: 1,
        };
        // 97 usable × 60% = 58; the 250 sessions seen go through the pooler.
        assert_eq!(plan.tenant_limit(&big, 60.0), Some(58));
        // Without a pooler in front, the sessions held now must still fit: 250 ≥ 97.
        let direct = ConnectionPlan {
            behind_pooler: false,
            ..plan
        };
        assert_eq!(direct.tenant_limit(&big, 60.0), None);
        let small = TenantUse {
            sessions: 5,
            pools: 1,
        };
        assert_eq!(direct.tenant_limit(&small, 60.0), Some(58));
        // Eight pools of 8 connections need 64 slots, more than 60% of 97.
        let wide = TenantUse {
            sessions: 5,
            pools: 8,
        };
        assert_eq!(plan.tenant_limit(&wide, 60.0), Some(64));
        // Twelve pools need 96 of the 97 usable slots: still a cap; thirteen: none.
        let wider = TenantUse {
            sessions: 5,
            pools: 12,
        };
        assert_eq!(plan.tenant_limit(&wider, 60.0), Some(96));
        let widest = TenantUse {
            sessions: 5,
            pools: 13,
        };
        assert_eq!(plan.tenant_limit(&widest, 60.0), None);
    }

    #[test]
    fn the_providers_slots_and_operator_sessions_are_not_the_users() {
        use pgsage_testkit::scenario::fixture_path;
        let mut snap = Snapshot::load(fixture_path("connections", "slots-nearly-exhausted"))
            .expect("connections/slots-nearly-exhausted fixture");
        let before = Sessions::observe(&snap).clients;
        assert!(before >= 4, "{before}");
        // Four of the planted sessions become RDS's operator's, on a server with the role.
        for b in snap
            .activity
            .iter_mut()
            .filter(|b| {
                b.backend_type == "client backend"
                    && b.application_name.as_deref() != Some(COLLECTOR_APPLICATION)
            })
            .take(4)
        {
            b.user = Some("rdsadmin".into());
        }
        assert_eq!(Sessions::observe(&snap).clients, before, "no such role yet");
        snap.provider_roles.push("rdsadmin".into());
        assert_eq!(Sessions::observe(&snap).clients, before - 4);
        // RDS keeps rds.rds_superuser_reserved_connections (2 by default) on top of
        // PostgreSQL's reserves; a self-managed server does not.
        let postgres = reserved_slots(&snap, Platform::SelfManaged);
        assert_eq!(reserved_slots(&snap, Platform::AwsRds), postgres + 2);
        assert_eq!(
            advised_reserved_slots(&snap, Platform::AwsRds),
            advised_reserved_slots(&snap, Platform::SelfManaged) + 2
        );
        assert_eq!(
            reserved_slots(&snap, Platform::AzureFlexibleServer),
            postgres
        );
    }

    #[test]
    fn raise_lower_or_keep() {
        let sessions = Sessions {
            clients: 40,
            active: 3,
            hidden: 0,
            pools: 2,
        };
        let s = sizing(&sessions, 3, Some(4.0), &P);
        assert_eq!(
            s,
            Sizing {
                headroom_limit: 70,
                pool: Some(Pool {
                    size: 8,
                    pools: 2,
                    limit: 100
                })
            }
        );
        assert_eq!(advise_limit(50, &s, Some(4.0), &P), LimitAdvice::Raise(70));
        assert_eq!(advise_limit(150, &s, Some(4.0), &P), LimitAdvice::Keep);
        assert_eq!(
            advise_limit(1000, &s, Some(4.0), &P),
            LimitAdvice::Lower(100)
        );
        // 1000 slots are not oversized for 128 CPUs.
        let s = sizing(&sessions, 3, Some(128.0), &P);
        assert_eq!(advise_limit(1000, &s, Some(128.0), &P), LimitAdvice::Keep);
        // Without CPUs, only the headroom is known.
        let s = sizing(&sessions, 3, None, &P);
        assert_eq!(s.pool, None);
        assert_eq!(advise_limit(1000, &s, None, &P), LimitAdvice::Keep);
    }
}
