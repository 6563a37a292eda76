//! The `plans` pack: what is wrong with one EXPLAIN plan — row estimates far off,
//! sequential scans that filter most rows away, spills to disk, lossy bitmaps, loops run
//! thousands of times, heap fetches, parallel workers not launched, JIT, planning and
//! trigger time, cold reads and heavy join filters.
//!
//! These rules judge a [`Plan`](crate::plan::Plan), not a snapshot: they implement
//! [`PlanRule`] and run through [`crate::engine::plan::analyze`] (`pgsage plan`). They are also
//! [`Rule`]s so that the catalogue, the pack file, the user's `pgsage.toml` and the
//! generated docs treat them like every other rule, but they are not in
//! [`RULES`](super::RULES) (what `pgsage audit` runs): see [`ALL_RULES`](super::ALL_RULES).
//!
//! Every finding points at a node (path, node type, relation), carries the node's
//! exclusive time and its share of the plan's time (`time_share`, by which findings are
//! ranked), and passes a "matters" gate: a node that took a negligible part of the time
//! is not worth a warning, however wrong its estimate.

mod context;
mod filter_columns;

mod cold_cache_reads;
mod heap_fetches;
mod jit_share;
mod join_filter_heavy;
mod lossy_bitmap;
mod nested_loop_many;
mod parallel_not_launched;
mod planning_over_execution;
mod row_estimate_error;
mod seq_scan_filter;
mod spill_to_disk;
mod subplan_many_loops;
mod trigger_time;

pub use cold_cache_reads::ColdCacheReads;
pub use context::{node_label, PlanContext};
pub use filter_columns::filter_columns;
pub use heap_fetches::HeapFetches;
pub use jit_share::JitShare;
pub use join_filter_heavy::JoinFilterHeavy;
pub use lossy_bitmap::LossyBitmap;
pub use nested_loop_many::NestedLoopMany;
pub use parallel_not_launched::ParallelNotLaunched;
pub use planning_over_execution::PlanningOverExecution;
pub use row_estimate_error::RowEstimateError;
pub use seq_scan_filter::SeqScanFilter;
pub use spill_to_disk::SpillToDisk;
pub use subplan_many_loops::SubplanManyLoops;
pub use trigger_time::TriggerTime;

use crate::rules::{Draft, Rule, RuleContext, RuleMeta, Skip};

/// A rule of the `plans` pack: a judge of one plan.
pub trait PlanRule: Sync + Send {
    /// Its description.
    fn meta(&self) -> &'static RuleMeta;
    /// Checks a plan. `Err(Skip)` when the plan lacks what the rule needs (no ANALYZE,
    /// no timing, no BUFFERS).
    fn check_plan(&self, ctx: &PlanContext<'_>) -> Result<Vec<Draft>, Skip>;
}

/// Why a plan rule does not run in `pgsage audit`.
const NOT_A_SNAPSHOT_RULE: &str = "a plan rule: it judges EXPLAIN plans (`pgsage plan`)";

macro_rules! plan_rules {
    ($($ty:ident),* $(,)?) => {
        $(
            impl Rule for $ty {
                fn meta(&self) -> &'static RuleMeta {
                    &Self::META
                }
                fn check(&self, _: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
                    Err(Skip::because(NOT_A_SNAPSHOT_RULE))
                }
            }
        )*
        /// This pack's rules, as entries of the catalogue.
        pub(crate) static RULES: &[&dyn Rule] = &[$(&$ty),*];
        /// This pack's rules, as judges of a plan, in id order.
        pub static PLAN_RULES: &[&dyn PlanRule] = &[$(&$ty),*];
    };
}

plan_rules!(
    RowEstimateError,
    SeqScanFilter,
    SpillToDisk,
    LossyBitmap,
    NestedLoopMany,
    HeapFetches,
    ParallelNotLaunched,
    JitShare,
    PlanningOverExecution,
    TriggerTime,
    SubplanManyLoops,
    ColdCacheReads,
    JoinFilterHeavy,
);
