//! The `plans` pack: what is wrong with one EXPLAIN plan — row estimates far off,
//! sequential scans that filter most rows away, spills to disk, lossy bitmaps, loops run
//! thousands of times, heap fetches, parallel workers not launched, JIT, planning and
//! trigger time, cold reads and heavy join filters.
//!
//! These rules judge a [`Plan`](crate::plan::Plan), not a snapshot: they implement
//! [`PlanRule`] and run through [`crate::engine::plan::analyze`] (`pgsage plan`), not
//! in `pgsage audit`. They are in the one registry ([`RULES`](super::RULES)) like every
//! other rule, so the catalogue, the pack file, `pgsage.toml` and the docs treat them
//! alike.
//!
//! Every finding points at a node (path, node type, relation), carries the node's
//! exclusive time and its share of the plan's time (`time_share`, by which findings are
//! ranked), and passes a "matters" gate: a node that took a negligible part of the time
//! is not worth a warning, however wrong its estimate.

mod context;
mod filter_columns;

mod cold_cache_reads;
mod index_only_heap_fetches;
mod jit_share;
mod join_filter_heavy;
mod lossy_bitmap;
mod nested_loop_many;
mod parallel_workers_not_launched;
mod planning_over_execution;
mod row_estimate_error;
mod seq_scan_filter;
mod spill_to_disk;
mod subplan_many_loops;
mod trigger_time;

pub use cold_cache_reads::ColdCacheReads;
pub use context::{node_label, PlanContext};
pub use filter_columns::filter_columns;
pub use index_only_heap_fetches::HeapFetches;
pub use jit_share::JitShare;
pub use join_filter_heavy::JoinFilterHeavy;
pub use lossy_bitmap::LossyBitmap;
pub use nested_loop_many::NestedLoopMany;
pub use parallel_workers_not_launched::ParallelNotLaunched;
pub use planning_over_execution::PlanningOverExecution;
pub use row_estimate_error::RowEstimateError;
pub use seq_scan_filter::SeqScanFilter;
pub use spill_to_disk::SpillToDisk;
pub use subplan_many_loops::SubplanManyLoops;
pub use trigger_time::TriggerTime;

use crate::rules::{PlanRule, Rule};

macro_rules! plan_rules {
    ($($ty:ident),* $(,)?) => {
        /// This pack's rules.
        pub(crate) static RULES: &[Rule] = &[$(Rule::Plan(&$ty)),*];
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
