//! The rules: one file per rule, grouped by pack, all listed in [`RULES`].
//!
//! A rule is a pure function of the snapshot, the host facts and its parameters; it
//! returns [`Draft`] findings or says why it was skipped. Parameters' values live in
//! the rule packs under `rules/` so users tune them without recompiling.

mod context;
pub mod docs;
mod macros;

pub mod connections;
pub mod indexing;
pub mod memory;
pub mod vacuum;

pub use context::{Basis, Draft, ParamValue, RuleContext, Skip};

/// The description of a rule: everything but its logic.
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable id: pack prefix plus number, e.g. `VAC001`.
    pub id: &'static str,
    /// Kebab-case name of what is wrong, e.g. `dead-tuple-ratio`.
    pub name: &'static str,
    /// Pack it belongs to.
    pub pack: &'static str,
    /// One-line title shown in reports.
    pub title: &'static str,
    /// Markdown doc with the headings What it detects, Why it matters, How to fix,
    /// Thresholds and References.
    pub doc: &'static str,
    /// Its parameters; values and defaults are in the pack file.
    pub params: &'static [ParamSpec],
}

/// One tunable parameter of a rule.
#[derive(Debug)]
pub struct ParamSpec {
    /// Key in the pack file.
    pub name: &'static str,
    /// What it means.
    pub doc: &'static str,
}

/// A rule.
pub trait Rule: Sync + Send {
    /// Its description.
    fn meta(&self) -> &'static RuleMeta;
    /// Checks the snapshot. `Err(Skip)` when a precondition is missing.
    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip>;
}

/// Every rule, in id order.
pub static RULES: &[&dyn Rule] = &[
    &connections::ConnectionsNearLimit,
    &indexing::DuplicateIndex,
    &memory::SharedBuffersSize,
    &vacuum::DeadTupleRatio,
];

/// A rule by id.
pub fn rule(id: &str) -> Option<&'static dyn Rule> {
    RULES
        .iter()
        .copied()
        .find(|r| r.meta().id.eq_ignore_ascii_case(id))
}

#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod registry_tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn ids_and_names_are_unique_and_well_formed() {
        let mut ids = BTreeSet::new();
        let mut names = BTreeSet::new();
        for r in RULES {
            let m = r.meta();
            assert!(ids.insert(m.id), "duplicate id {}", m.id);
            assert!(names.insert(m.name), "duplicate name {}", m.name);
            assert_eq!(m.id.len(), 6, "{}", m.id);
            assert!(m.id[3..].chars().all(|c| c.is_ascii_digit()), "{}", m.id);
            assert!(
                m.name.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{}",
                m.name
            );
        }
        let sorted: Vec<_> = RULES.iter().map(|r| r.meta().id).collect();
        let mut expected = sorted.clone();
        expected.sort();
        assert_eq!(sorted, expected, "RULES must be in id order");
    }

    #[test]
    fn every_rule_is_documented_with_the_headings() {
        for r in RULES {
            let m = r.meta();
            for heading in [
                "## What it detects",
                "## Why it matters",
                "## How to fix",
                "## Thresholds",
                "## References",
            ] {
                assert!(m.doc.contains(heading), "{} lacks `{heading}`", m.id);
            }
            for p in m.params {
                assert!(
                    m.doc.contains(&format!("`{}`", p.name)),
                    "{} does not document parameter `{}` under Thresholds",
                    m.id,
                    p.name
                );
            }
        }
    }
}
