//! The `vacuum` pack: dead tuples, autovacuum settings and capacity, freezing, bloat.

mod dead_tuple_ratio;

pub use dead_tuple_ratio::DeadTupleRatio;

/// This pack's rules.
pub(crate) static RULES: &[&dyn super::Rule] = &[&DeadTupleRatio];
