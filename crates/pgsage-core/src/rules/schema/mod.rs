//! The `schema` pack: sequences and keys near their maximum, tables without a primary key, NOT VALID constraints, disabled triggers.

mod common;
mod constraint_not_validated;
mod disabled_trigger;
mod integer_key_near_max;
mod partitioned_key;
mod sequence_near_max;
mod table_without_primary_key;

pub use constraint_not_validated::ConstraintNotValidated;
pub use disabled_trigger::DisabledTrigger;
pub use integer_key_near_max::IntegerKeyNearMax;
pub use sequence_near_max::SequenceNearMax;
pub use table_without_primary_key::TableWithoutPrimaryKey;

/// This pack's rules.
pub(crate) static RULES: &[super::Rule] = &[
    super::Rule::Snapshot(&SequenceNearMax),
    super::Rule::Snapshot(&IntegerKeyNearMax),
    super::Rule::Snapshot(&TableWithoutPrimaryKey),
    super::Rule::Snapshot(&ConstraintNotValidated),
    super::Rule::Snapshot(&DisabledTrigger),
];
