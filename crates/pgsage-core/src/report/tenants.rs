//! The report's "Tenants" table: per tenant database, its share of statement time and its
//! calls, temporary bytes, rows read, WAL, connections, size and growth, over the window
//! the figures cover. Built from [`crate::knowledge::tenants`] when the cluster holds at
//! least two tenant databases (one database has no neighbours to compare with).

use serde::{Deserialize, Serialize};

use crate::knowledge::tenants::{figure, Tenants};
use crate::Snapshot;

/// Tenant databases needed for the table.
pub const MIN_TENANTS: usize = 2;

/// The tenants table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantTable {
    /// Window of the statement figures (time, calls, WAL): `over the last 10 min (sampled
    /// interval)` or `since the pg_stat_statements counters were reset …`; none without
    /// `pg_stat_statements`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statements_window: Option<String>,
    /// Why statement figures are lifetime although the snapshot has a sampled interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statements_window_note: Option<String>,
    /// Window of the `pg_stat_database` figures (temporary bytes, rows read) and growth.
    pub database_window: String,
    /// `interval` or `since_reset`, for the `pg_stat_database` figures.
    pub basis: String,
    /// Length of that window, seconds.
    pub window_seconds: f64,
    /// One row per tenant database, most statement time first.
    pub databases: Vec<TenantRow>,
    /// Roles with statement time or connections in tenant databases, most time first
    /// (JSON only: a role spans databases).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<PartyRow>,
    /// Applications (`application_name`) connected to tenant databases, most connections
    /// first (JSON only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applications: Vec<PartyRow>,
}

/// A role's or an application's figures among tenant databases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartyRow {
    /// Role or application name (hashed in a redacted snapshot).
    pub name: String,
    /// Statement time, ms (roles only: `pg_stat_statements` has no application).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_ms: Option<f64>,
    /// Share of the tenants' statement time, %.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_share_pct: Option<f64>,
    /// Statement calls (roles only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calls: Option<i64>,
    /// Client connections at collection time.
    pub connections: usize,
    /// Of which active.
    pub active_sessions: usize,
}

/// One tenant database's figures (amounts over the window, shares among tenants in %).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TenantRow {
    /// Database.
    pub database: String,
    /// Statement time, ms.
    pub time_ms: Option<f64>,
    /// Share of the tenants' statement time, %.
    pub time_share_pct: Option<f64>,
    /// Statement calls.
    pub calls: Option<i64>,
    /// Temporary file bytes.
    pub temp_bytes: i64,
    /// Share of the tenants' temporary bytes, %.
    pub temp_share_pct: Option<f64>,
    /// Rows read by scans (`tup_returned`).
    pub rows_read: i64,
    /// Share of the tenants' rows read, %.
    pub rows_read_share_pct: Option<f64>,
    /// WAL its statements generated, bytes.
    pub wal_bytes: Option<i64>,
    /// Client connections at collection time.
    pub connections: usize,
    /// Of which active.
    pub active_sessions: usize,
    /// `CONNECTION LIMIT` (none when unlimited).
    pub connection_limit: Option<i32>,
    /// Size, bytes.
    pub size_bytes: Option<i64>,
    /// Share of the tenants' size, %.
    pub size_share_pct: Option<f64>,
    /// Growth over the window, bytes (none without a window).
    pub growth_bytes: Option<i64>,
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// The table for a snapshot, when it holds at least [`MIN_TENANTS`] tenant databases.
pub fn of(snapshot: &Snapshot) -> Option<TenantTable> {
    let t = Tenants::of(snapshot);
    if t.count() < MIN_TENANTS {
        return None;
    }
    let databases = t
        .databases
        .iter()
        .map(|d| TenantRow {
            database: d.name.clone(),
            time_ms: d.statement_time_ms.map(round1),
            time_share_pct: t.share(d, figure::time).map(round1),
            calls: d.calls,
            temp_bytes: d.temp_bytes,
            temp_share_pct: t.share(d, figure::temp).map(round1),
            rows_read: d.rows_read,
            rows_read_share_pct: t.share(d, figure::rows_read).map(round1),
            wal_bytes: d.wal_bytes,
            connections: d.connections,
            active_sessions: d.active_sessions,
            connection_limit: (d.connection_limit >= 0).then_some(d.connection_limit),
            size_bytes: d.size_bytes,
            size_share_pct: t.share(d, figure::size).map(round1),
            growth_bytes: d.growth_bytes,
        })
        .collect();
    Some(TenantTable {
        statements_window: t.describe_statements_window(),
        statements_window_note: t.statements_fallback.clone(),
        database_window: t.describe_database_window(),
        basis: t.database_basis.label().to_owned(),
        window_seconds: t.database_basis.seconds().round(),
        databases,
        roles: t.roles.iter().map(|p| party(&t, p)).collect(),
        applications: t.applications.iter().map(|p| party(&t, p)).collect(),
    })
}

fn party(t: &Tenants, p: &crate::knowledge::tenants::PartyUsage) -> PartyRow {
    let total = t.total(figure::time);
    PartyRow {
        name: p.name.clone(),
        time_ms: p.statement_time_ms.map(round1),
        time_share_pct: p
            .statement_time_ms
            .zip(total)
            .and_then(|(mine, all)| crate::knowledge::tenants::share_pct(mine, all))
            .map(round1),
        calls: p.calls,
        connections: p.connections,
        active_sessions: p.active_sessions,
    }
}
