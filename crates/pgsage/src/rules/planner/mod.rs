//! The `planner` pack: cost settings vs storage, JIT, disabled planner methods, parallelism, observability.

/// This pack's rules.
pub(crate) static RULES: &[&dyn super::Rule] = &[];
