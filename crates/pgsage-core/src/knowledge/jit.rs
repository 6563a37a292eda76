//! JIT compilation: PostgreSQL's cost thresholds and the profiles that turn it off.
//!
//! JIT compiles a query's expressions with LLVM when its planned cost exceeds
//! `jit_above_cost`; it also inlines functions above `jit_inline_above_cost` and optimizes
//! above `jit_optimize_above_cost`. Compilation is paid by every execution (nothing is
//! cached), so it only pays off on long queries.
//!
//! References: <https://www.postgresql.org/docs/current/jit-decision.html>,
//! <https://www.postgresql.org/docs/current/runtime-config-query.html#GUC-JIT-ABOVE-COST>
//! (defaults in `src/backend/utils/misc/guc_tables.c`).

use super::Profile;

/// PostgreSQL's default `jit_above_cost`.
pub const DEFAULT_ABOVE_COST: f64 = 100_000.0;
/// PostgreSQL's default `jit_inline_above_cost`.
pub const DEFAULT_INLINE_ABOVE_COST: f64 = 500_000.0;
/// PostgreSQL's default `jit_optimize_above_cost`.
pub const DEFAULT_OPTIMIZE_ABOVE_COST: f64 = 500_000.0;

/// The three thresholds with their defaults, in the order PostgreSQL documents them.
pub const DEFAULT_THRESHOLDS: [(&str, f64); 3] = [
    ("jit_above_cost", DEFAULT_ABOVE_COST),
    ("jit_inline_above_cost", DEFAULT_INLINE_ABOVE_COST),
    ("jit_optimize_above_cost", DEFAULT_OPTIMIZE_ABOVE_COST),
];

/// Whether the profile turns JIT off: `oltp` and `web` run short queries, where
/// compilation costs more than it saves; `mixed` and `dw` keep PostgreSQL's default.
pub fn off_for(profile: Profile) -> bool {
    matches!(profile, Profile::Oltp | Profile::Web)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_profiles() {
        assert_eq!(DEFAULT_THRESHOLDS[0], ("jit_above_cost", 100_000.0));
        assert!(off_for(Profile::Oltp) && off_for(Profile::Web));
        assert!(!off_for(Profile::Mixed) && !off_for(Profile::Dw));
    }
}
