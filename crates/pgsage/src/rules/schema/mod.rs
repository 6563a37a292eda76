//! The `schema` pack: sequences and keys near their maximum, tables without a primary key, NOT VALID constraints, disabled triggers.

/// This pack's rules.
pub(crate) static RULES: &[&dyn super::Rule] = &[];
