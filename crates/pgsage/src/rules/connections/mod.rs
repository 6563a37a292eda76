//! The `connections` pack: connection limits, pooling, idle and blocked sessions.

mod connections_near_limit;

pub use connections_near_limit::ConnectionsNearLimit;

/// This pack's rules.
pub(crate) static RULES: &[&dyn super::Rule] = &[&ConnectionsNearLimit];
