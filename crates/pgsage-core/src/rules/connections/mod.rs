//! The `connections` pack: connection limits, pooling, idle and blocked sessions.

mod common;
pub(crate) use common::connection_plan;
mod connections_near_limit;
mod connections_not_pooled;
mod idle_in_transaction;
mod long_running_query;
mod max_connections_oversized;
mod missing_safety_timeouts;
mod no_reserved_admin_slots;
mod orphaned_prepared_transaction;
mod sessions_blocked_on_locks;
mod tenant_hogs_connections;

pub use connections_near_limit::ConnectionsNearLimit;
pub use connections_not_pooled::ConnectionsNotPooled;
pub use idle_in_transaction::IdleInTransaction;
pub use long_running_query::LongRunningQuery;
pub use max_connections_oversized::MaxConnectionsOversized;
pub use missing_safety_timeouts::MissingSafetyTimeouts;
pub use no_reserved_admin_slots::SuperuserReservedZero;
pub use orphaned_prepared_transaction::OrphanedPreparedTransaction;
pub use sessions_blocked_on_locks::SessionsBlockedOnLocks;
pub use tenant_hogs_connections::TenantHogsConnections;

/// This pack's rules.
pub(crate) static RULES: &[super::Rule] = &[
    super::Rule::Snapshot(&ConnectionsNearLimit),
    super::Rule::Snapshot(&MaxConnectionsOversized),
    super::Rule::Snapshot(&ConnectionsNotPooled),
    super::Rule::Snapshot(&IdleInTransaction),
    super::Rule::Snapshot(&LongRunningQuery),
    super::Rule::Snapshot(&MissingSafetyTimeouts),
    super::Rule::Snapshot(&SessionsBlockedOnLocks),
    super::Rule::Snapshot(&OrphanedPreparedTransaction),
    super::Rule::Snapshot(&TenantHogsConnections),
    super::Rule::Snapshot(&SuperuserReservedZero),
];
