//! The `storage` pack: large binary data, TOAST-heavy tables, the largest relations and databases.

/// This pack's rules.
pub(crate) static RULES: &[&dyn super::Rule] = &[];
