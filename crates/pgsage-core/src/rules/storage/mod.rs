//! The `storage` pack: large binary data, TOAST-heavy tables, the largest relations and databases.

mod binary_data_in_tables;
mod largest_databases;
mod largest_tables;

pub use binary_data_in_tables::BinaryDataInTables;
pub use largest_databases::LargestDatabases;
pub use largest_tables::LargestTables;

/// This pack's rules.
pub(crate) static RULES: &[super::Rule] = &[
    super::Rule::Snapshot(&BinaryDataInTables),
    super::Rule::Snapshot(&LargestTables),
    super::Rule::Snapshot(&LargestDatabases),
];
