//! The `connections` pack: connection limits, pooling, idle and blocked sessions.

mod connections_near_limit;

pub use connections_near_limit::ConnectionsNearLimit;
