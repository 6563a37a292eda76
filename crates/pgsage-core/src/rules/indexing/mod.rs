//! The `indexing` pack: duplicate, redundant, unused and invalid indexes, unindexed
//! foreign keys and missing indexes.

mod common;
mod duplicate_index;
mod index_bloat;
mod invalid_index;
mod low_cardinality_index;
mod missing_index;
mod redundant_prefix_index;
mod seq_scan_heavy_table;
mod unindexed_foreign_key;
mod unused_index;

pub use duplicate_index::DuplicateIndex;
pub use index_bloat::IndexBloat;
pub use invalid_index::InvalidIndex;
pub use low_cardinality_index::LowCardinalityIndex;
pub use missing_index::MissingIndex;
pub use redundant_prefix_index::RedundantPrefixIndex;
pub use seq_scan_heavy_table::SeqScanHeavyTable;
pub use unindexed_foreign_key::UnindexedForeignKey;
pub use unused_index::UnusedIndex;

/// This pack's rules.
pub(crate) static RULES: &[super::Rule] = &[
    super::Rule::Snapshot(&DuplicateIndex),
    super::Rule::Snapshot(&RedundantPrefixIndex),
    super::Rule::Snapshot(&UnusedIndex),
    super::Rule::Snapshot(&InvalidIndex),
    super::Rule::Snapshot(&UnindexedForeignKey),
    super::Rule::Snapshot(&SeqScanHeavyTable),
    super::Rule::Snapshot(&LowCardinalityIndex),
    super::Rule::Snapshot(&IndexBloat),
    super::Rule::Snapshot(&MissingIndex),
];
