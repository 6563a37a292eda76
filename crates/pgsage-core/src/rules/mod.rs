//! The rules: one file per rule, grouped by pack, all listed in [`RULES`].
//!
//! A rule judges one [`Target`] — a snapshot ([`SnapshotRule`]), a workload
//! ([`WorkloadRule`]) or an EXPLAIN plan ([`PlanRule`]) — with its typed parameters
//! ([`params`]); it returns [`Draft`] findings or says why it was skipped. Parameters'
//! values live in the rule packs under `rules/` so users tune them without recompiling.

pub(crate) mod context;
pub mod docs;
pub(crate) mod drop_plan;
mod macros;
pub mod params;

pub mod connections;
pub mod erp;
pub mod indexing;
pub mod locks;
pub mod memory;
pub mod planner;
pub mod plans;
pub mod queries;
pub mod schema;
pub mod storage;
pub mod tenants;
pub mod vacuum;
pub mod wal;
pub mod workload;

use std::collections::BTreeMap;
use std::sync::LazyLock;

pub use context::{Basis, Draft, ParamValue, RuleContext, SettingTarget, Skip, Views};
pub use params::ParamSpec;
pub use plans::PlanContext;
pub use queries::WorkloadContext;

/// The description of a rule: everything but its logic.
#[derive(Debug)]
pub struct RuleMeta {
    /// Stable id: pack prefix plus number, e.g. `VAC001`.
    pub id: &'static str,
    /// Kebab-case name of what is wrong, e.g. `dead-tuple-ratio`; the rule's file is
    /// named after it (`dead_tuple_ratio.rs`).
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
    /// Whether parameter values fit the rule's `Params` (run when a configuration loads).
    pub check_params: fn(&BTreeMap<String, ParamValue>) -> Result<(), String>,
    /// The source file that declares it (`file!()`).
    pub source_file: &'static str,
}

/// What a rule judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// A snapshot of the server (`pgsage audit`).
    Snapshot,
    /// A workload: pg_stat_statements (in `pgsage audit`, from the snapshot) or server
    /// logs (`pgsage workload`).
    Workload,
    /// One EXPLAIN plan (`pgsage plan`).
    Plan,
}

impl Target {
    /// `snapshot`, `workload` or `plan`.
    pub fn name(self) -> &'static str {
        match self {
            Target::Snapshot => "snapshot",
            Target::Workload => "workload",
            Target::Plan => "plan",
        }
    }
}

/// A rule that judges a snapshot.
pub trait SnapshotRule: Sync + Send {
    /// Its description.
    fn meta(&self) -> &'static RuleMeta;
    /// Checks the snapshot. `Err(Skip)` when a precondition is missing.
    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip>;
}

/// A rule that judges a workload.
pub trait WorkloadRule: Sync + Send {
    /// Its description.
    fn meta(&self) -> &'static RuleMeta;
    /// Checks the workload. `Err(Skip)` when the source lacks what the rule needs.
    fn check(&self, ctx: &WorkloadContext<'_>) -> Result<Vec<Draft>, Skip>;
}

/// A rule that judges one EXPLAIN plan.
pub trait PlanRule: Sync + Send {
    /// Its description.
    fn meta(&self) -> &'static RuleMeta;
    /// Checks the plan. `Err(Skip)` when the plan lacks what the rule needs (no ANALYZE,
    /// no timing, no BUFFERS).
    fn check(&self, ctx: &PlanContext<'_>) -> Result<Vec<Draft>, Skip>;
}

/// A rule of the registry, by what it judges.
#[derive(Clone, Copy)]
pub enum Rule {
    /// Judges a snapshot.
    Snapshot(&'static dyn SnapshotRule),
    /// Judges a workload.
    Workload(&'static dyn WorkloadRule),
    /// Judges a plan.
    Plan(&'static dyn PlanRule),
}

impl Rule {
    /// Its description.
    pub fn meta(&self) -> &'static RuleMeta {
        match self {
            Rule::Snapshot(r) => r.meta(),
            Rule::Workload(r) => r.meta(),
            Rule::Plan(r) => r.meta(),
        }
    }

    /// What it judges.
    pub fn target(&self) -> Target {
        match self {
            Rule::Snapshot(_) => Target::Snapshot,
            Rule::Workload(_) => Target::Workload,
            Rule::Plan(_) => Target::Plan,
        }
    }

    /// Whether `pgsage audit` runs it: snapshot rules, and workload rules on the
    /// snapshot's pg_stat_statements (not the `locks` pack, which needs a log).
    pub fn in_audit(&self) -> bool {
        // The `locks` pack judges a log's lock incidents, which pg_stat_statements never
        // has: in an audit it could only ever be skipped.
        !matches!(self, Rule::Plan(_)) && self.meta().pack != "locks"
    }
}

impl std::fmt::Debug for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.meta().id, self.target().name())
    }
}

/// Every rule, in id order: the packs' own lists (`<pack>::RULES`) put together. This is
/// the one registry: the audit, `pgsage plan`, `pgsage workload`, the catalogue, the pack
/// files and the generated docs all read it.
pub static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let mut all = [
        connections::RULES,
        erp::RULES,
        indexing::RULES,
        locks::RULES,
        memory::RULES,
        planner::RULES,
        plans::RULES,
        queries::RULES,
        schema::RULES,
        storage::RULES,
        tenants::RULES,
        vacuum::RULES,
        wal::RULES,
        workload::RULES,
    ]
    .concat();
    all.sort_by_key(|r| r.meta().id);
    all
});

/// The rules that judge `target`, in id order.
pub fn rules_for(target: Target) -> impl Iterator<Item = Rule> {
    RULES.iter().copied().filter(move |r| r.target() == target)
}

/// A rule by id (case-insensitive).
pub fn rule(id: &str) -> Option<Rule> {
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
        for r in RULES.iter() {
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
        for r in RULES.iter() {
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
                "tenants" => "TEN",
                "erp" => "ERP",
                "locks" => "LCK",
                "workload" => "WRK",
                other => panic!("{}: unknown pack {other}", m.id),
            };
            assert!(m.id.starts_with(prefix), "{} in pack {}", m.id, m.pack);
        }
    }

    #[test]
    fn each_rule_lives_in_a_file_named_after_it() {
        for r in RULES.iter() {
            let m = r.meta();
            let file = std::path::Path::new(m.source_file)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default()
                .replace('_', "-");
            assert_eq!(file, m.name, "{} is declared in {}", m.id, m.source_file);
            assert!(
                m.source_file.contains(&format!("/rules/{}/", m.pack)),
                "{} of pack {} is declared in {}",
                m.id,
                m.pack,
                m.source_file
            );
        }
    }

    #[test]
    fn every_parameter_has_a_unit_and_a_doc_line() {
        for r in RULES.iter() {
            let m = r.meta();
            for p in m.params {
                assert!(!p.unit.trim().is_empty(), "{}.{} has no unit", m.id, p.name);
                assert!(
                    !p.doc.trim().is_empty() && !p.doc.contains('\n'),
                    "{}.{} needs one doc line",
                    m.id,
                    p.name
                );
                // Shares are percentages, and say so.
                if p.unit == "%" {
                    assert!(
                        p.name.ends_with("_pct")
                            || p.name.contains("_pct_")
                            || p.name.ends_with("fillfactor"),
                        "{}.{} is a percentage: its key ends in _pct",
                        m.id,
                        p.name
                    );
                }
                if p.name.ends_with("_pct") {
                    assert_eq!(p.unit, "%", "{}.{}", m.id, p.name);
                }
            }
        }
    }

    #[test]
    fn every_rule_has_a_firing_and_a_quiet_case() {
        // Snapshot and workload rules: scenario cases (captured as fixtures, replayed live);
        // plan rules: the plan corpus expectations (every other plan is a quiet case).
        let scenarios = pgsage_testkit::scenario::Scenario::all().expect("scenario files");
        let plan_expectations = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../testdata/plans/expectations.toml"),
        )
        .expect("plan expectations");
        for r in RULES.iter() {
            let id = r.meta().id;
            match r.target() {
                Target::Plan => assert!(
                    plan_expectations.contains(&format!("\"{id}\"")),
                    "{id}: no corpus plan expects it"
                ),
                // Lock incidents exist only in server logs: their cases are the captured
                // logs of testdata/logs/locks (a conflicts capture and its healthy twin).
                Target::Workload if r.meta().pack == "locks" => {
                    let manifest = std::fs::read_to_string(
                        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                            .join("../../testdata/logs/locks/pg18/manifest.json"),
                    )
                    .expect("lock captures (scripts/capture-lock-logs.sh)");
                    assert!(
                        manifest.contains("\"conflicts\"") && manifest.contains("\"healthy\""),
                        "{id}: no captured conflicts and healthy twin"
                    );
                }
                Target::Workload if workload::JUDGED_ON_LOGS_ONLY.contains(&id) => assert!(
                    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("../../testdata/logs/workload-windows/manifest.json")
                        .exists(),
                    "{id}: judged on logs only, and no captured workload-window logs"
                ),
                Target::Snapshot | Target::Workload => {
                    assert!(
                        scenarios.iter().any(|s| s
                            .cases
                            .iter()
                            .any(|c| c.expect.iter().any(|e| e.rule == id))),
                        "{id}: no scenario case where it fires"
                    );
                    assert!(
                        scenarios
                            .iter()
                            .any(|s| s.quiet_cases_for(id).next().is_some()),
                        "{id}: no scenario case where it is checked and quiet"
                    );
                }
            }
        }
    }

    #[test]
    fn every_rule_is_documented_with_the_headings() {
        for r in RULES.iter() {
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
