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
pub mod planner;
pub mod plans;
pub mod queries;
pub mod schema;
pub mod storage;
pub mod vacuum;
pub mod wal;

use std::sync::LazyLock;

pub use context::{Basis, Draft, ParamValue, RuleContext, Skip, Target, Views};

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

/// Every audit rule (what `pgsage audit` runs), in id order: the packs' own lists
/// (`<pack>::RULES`) put together. The plan rules are in [`ALL_RULES`] only.
pub static RULES: LazyLock<Vec<&'static dyn Rule>> = LazyLock::new(|| {
    let mut all = [
        connections::RULES,
        indexing::RULES,
        memory::RULES,
        planner::RULES,
        queries::RULES,
        schema::RULES,
        storage::RULES,
        vacuum::RULES,
        wal::RULES,
    ]
    .concat();
    all.sort_by_key(|r| r.meta().id);
    all
});

/// Every rule, in id order: the audit rules ([`RULES`]) and the rules that judge EXPLAIN
/// plans ([`plans`], run by `pgsage plan`, not by `pgsage audit`). The catalogue, the
/// pack files and the generated docs cover all of them.
pub static ALL_RULES: LazyLock<Vec<&'static dyn Rule>> = LazyLock::new(|| {
    let mut all = [RULES.as_slice(), plans::RULES].concat();
    all.sort_by_key(|r| r.meta().id);
    all
});

/// A rule by id (audit or plan rule).
pub fn rule(id: &str) -> Option<&'static dyn Rule> {
    ALL_RULES
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
        for r in ALL_RULES.iter() {
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
        for r in ALL_RULES.iter() {
            let m = r.meta();
            let prefix = match m.pack {
                "connections" => "CON",
                "vacuum" => "VAC",
                "indexing" => "IDX",
                "memory" => "MEM",
                "wal" => "WAL",
                "planner" => "PLN",
                "storage" => "STO",
                "schema" => "SCH",
                "queries" => "QRY",
                "plans" => "EXP",
                other => panic!("{}: unknown pack {other}", m.id),
            };
            assert!(m.id.starts_with(prefix), "{} in pack {}", m.id, m.pack);
        }
    }

    #[test]
    fn every_rule_is_documented_with_the_headings() {
        for r in ALL_RULES.iter() {
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
