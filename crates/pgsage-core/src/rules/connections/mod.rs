//! The `connections` pack: connection limits, pooling, idle and blocked sessions.

mod common;
mod connections_near_limit;
mod connections_not_pooled;
mod idle_in_transaction;
mod long_running_query;
mod max_connections_oversized;
mod missing_safety_timeouts;
mod orphaned_prepared_transaction;
mod sessions_blocked_on_locks;
mod superuser_reserved_zero;
mod tenant_hogs_connections;

pub use connections_near_limit::ConnectionsNearLimit;
pub use connections_not_pooled::ConnectionsNotPooled;
pub use idle_in_transaction::IdleInTransaction;
pub use long_running_query::LongRunningQuery;
pub use max_connections_oversized::MaxConnectionsOversized;
pub use missing_safety_timeouts::MissingSafetyTimeouts;
pub use orphaned_prepared_transaction::OrphanedPreparedTransaction;
pub use sessions_blocked_on_locks::SessionsBlockedOnLocks;
pub use superuser_reserved_zero::SuperuserReservedZero;
pub use tenant_hogs_connections::TenantHogsConnections;

/// This pack's rules.
pub(crate) static RULES: &[&dyn super::Rule] = &[
    &ConnectionsNearLimit,
    &MaxConnectionsOversized,
    &ConnectionsNotPooled,
    &IdleInTransaction,
    &LongRunningQuery,
    &MissingSafetyTimeouts,
    &SessionsBlockedOnLocks,
    &OrphanedPreparedTransaction,
    &TenantHogsConnections,
    &SuperuserReservedZero,
];
