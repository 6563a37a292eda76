//! The `wal` pack: checkpoints, WAL volume, replication slots and lag, archiving, durability.

/// This pack's rules.
pub(crate) static RULES: &[&dyn super::Rule] = &[];
