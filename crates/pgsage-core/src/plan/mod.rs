//! EXPLAIN plans: a typed tree ([`Plan`], [`PlanNode`]) read from `EXPLAIN (FORMAT JSON)`
//! or from the text format, for PostgreSQL 13–18, and the figures rules need
//! ([`Plan::profile`]: exclusive time per node and its share of the total). The `plans`
//! pack judges them in [`crate::engine::plan`].
//!
//! ```
//! let text = "Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4) (actual time=0.010..0.011 rows=3 loops=1)\n\
//!             Planning Time: 0.050 ms\n\
//!             Execution Time: 0.030 ms\n";
//! let plans = pgsage_core::plan::parse_plans(text)?;
//! let profile = plans[0].profile();
//! assert_eq!(plans[0].root.relation_name.as_deref(), Some("t"));
//! assert_eq!(profile.nodes[0].path.to_string(), "0");
//! # Ok::<(), pgsage_core::plan::PlanError>(())
//! ```
//!
//! Formats, limits and the exclusive-time method are described in `docs/plans.md`.

mod convert;
mod error;
pub mod from_log;
mod input;
mod json;
mod metrics;
mod model;
mod profile;
mod text;
mod tree;

pub use error::PlanError;
pub use metrics::RowsEstimate;
pub use model::{
    Buffers, Children, IoTimings, Jit, ParentRelationship, Plan, PlanFormat, PlanNode,
    Serialization, TriggerTime, WalUsage, WorkerStats,
};
pub use profile::{NodeProfile, PlanProfile};
pub use tree::{NodePath, NodePathError, NodeVisit, PreOrder};

/// The deepest plan tree the parsers accept (root = level 1); deeper input is refused
/// with [`PlanError::TooDeep`].
///
/// Parsing, [`Plan::nodes`], [`Plan::profile`] and dropping are iterative and work at
/// any depth, but the derived `Clone`, `PartialEq`, `Debug` and serde impls recurse once
/// per level: measured in an unoptimized build, they need about 7.5 KiB of stack per
/// level, so 200 levels fit a 2 MiB thread stack (the default for spawned threads) with
/// room to spare. Real plans stay far below: each join adds one level, so 200 levels is
/// a chain of some 190 joins.
pub const MAX_PLAN_DEPTH: usize = 200;

/// The deepest JSON nesting accepted: two levels per plan level (`"Plans"` array and
/// node object) plus room for the top-level array and sections inside a node.
pub const MAX_JSON_DEPTH: usize = 2 * MAX_PLAN_DEPTH + 16;

/// Parses EXPLAIN output in either format; JSON when the first non-blank character
/// (after psql decorations) is `[` or `{`, text otherwise. Returns every plan found
/// (EXPLAIN JSON may hold several; pasted text may too).
pub fn parse_plans(input: &str) -> Result<Vec<Plan>, PlanError> {
    let clean = input::strip_psql_decorations(input);
    match clean.trim_start().chars().next() {
        None => Err(PlanError::Empty),
        Some('[' | '{') => json::parse_json_plans(&clean),
        Some(_) => text::parse_text_plans(&clean),
    }
}

/// Parses EXPLAIN output holding exactly one plan (see [`parse_plans`]).
pub fn parse_plan(input: &str) -> Result<Plan, PlanError> {
    let mut plans = parse_plans(input)?;
    match plans.len() {
        1 => Ok(plans.remove(0)),
        n => Err(PlanError::shape(
            "top level",
            format!("expected one plan, found {n}"),
        )),
    }
}

/// Parses `EXPLAIN (FORMAT JSON)` output (psql decorations allowed).
pub fn parse_json(input: &str) -> Result<Vec<Plan>, PlanError> {
    let clean = input::strip_psql_decorations(input);
    if clean.trim().is_empty() {
        return Err(PlanError::Empty);
    }
    json::parse_json_plans(&clean)
}

/// Parses text-format EXPLAIN output (psql decorations allowed).
pub fn parse_text(input: &str) -> Result<Vec<Plan>, PlanError> {
    let clean = input::strip_psql_decorations(input);
    if clean.trim().is_empty() {
        return Err(PlanError::Empty);
    }
    text::parse_text_plans(&clean)
}

impl Plan {
    /// A plan with only a node tree (no query-level sections).
    pub fn from_root(root: PlanNode, source_format: PlanFormat) -> Plan {
        Plan {
            root,
            planning_time_ms: None,
            execution_time_ms: None,
            planning_buffers: None,
            triggers: Vec::new(),
            jit: None,
            settings: Default::default(),
            serialization: None,
            query_text: None,
            source_format,
            extra: Default::default(),
        }
    }

    /// Total trigger time, ms (`None` when no trigger times were reported).
    pub fn trigger_time_ms(&self) -> Option<f64> {
        self.triggers.iter().map(|t| t.time_ms).sum()
    }

    /// Whether EXPLAIN ran the query (ANALYZE): the root has actual loops.
    pub fn is_analyzed(&self) -> bool {
        self.root.actual_loops.is_some()
    }
}
