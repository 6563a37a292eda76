//! The `indexing` pack: duplicate, unused, invalid and missing indexes.

mod duplicate_index;

pub use duplicate_index::DuplicateIndex;
