//! The `indexing` pack: duplicate, unused, invalid and missing indexes.

mod duplicate_index;

pub use duplicate_index::DuplicateIndex;

/// This pack's rules.
pub(crate) static RULES: &[&dyn super::Rule] = &[&DuplicateIndex];
