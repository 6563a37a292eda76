//! The typed plan tree: [`Plan`] and [`PlanNode`], one shape for EXPLAIN's JSON and
//! text formats and for PostgreSQL 13–18.
//!
//! Every number is an `Option`: EXPLAIN leaves out what it did not measure (actual times
//! without ANALYZE or with `TIMING off`, buffers without `BUFFERS`, …). Keys that have no
//! typed field are kept, as EXPLAIN's JSON gives them, in the `extra` maps.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One EXPLAIN result: the node tree and the query-level sections.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// The top node.
    pub root: PlanNode,
    /// `Planning Time`, in ms (ANALYZE or SUMMARY).
    pub planning_time_ms: Option<f64>,
    /// `Execution Time`, in ms (ANALYZE with SUMMARY, the default).
    pub execution_time_ms: Option<f64>,
    /// Buffers used by planning (`Planning:` section, BUFFERS, 13+).
    pub planning_buffers: Option<Buffers>,
    /// Trigger executions (ANALYZE), e.g. the foreign-key checks of a DELETE.
    pub triggers: Vec<TriggerTime>,
    /// The JIT section, when JIT compiled anything.
    pub jit: Option<Jit>,
    /// Settings that differ from the built-in defaults and affect planning (SETTINGS, 12+).
    pub settings: BTreeMap<String, String>,
    /// The `Serialization` section (ANALYZE, SERIALIZE, 17+).
    pub serialization: Option<Serialization>,
    /// `Query Text`, as auto_explain writes it.
    pub query_text: Option<String>,
    /// Which EXPLAIN format this plan was read from.
    pub source_format: PlanFormat,
    /// Query-level keys without a typed field (`Query Identifier`, `Planning` memory, …).
    pub extra: Map<String, Value>,
}

/// The EXPLAIN format a [`Plan`] was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanFormat {
    /// `EXPLAIN (FORMAT JSON)`.
    Json,
    /// The default text format.
    Text,
}

/// One trigger's executions, from the `Triggers` section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TriggerTime {
    /// The trigger's name (`RI_ConstraintTrigger_a_16411`); absent in text without VERBOSE
    /// for constraint triggers.
    pub name: Option<String>,
    /// The constraint behind the trigger, for foreign-key triggers.
    pub constraint_name: Option<String>,
    /// The table the trigger is on.
    pub relation: Option<String>,
    /// Total time spent in the trigger, ms.
    pub time_ms: Option<f64>,
    /// How many times it fired.
    pub calls: Option<f64>,
}

/// The `JIT` section.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Jit {
    /// Functions compiled.
    pub functions: Option<u64>,
    /// `Options: Inlining …, Optimization …, Expressions …, Deforming …`.
    pub inlining: Option<bool>,
    /// Whether the code was optimized.
    pub optimization: Option<bool>,
    /// Whether expressions were compiled.
    pub expressions: Option<bool>,
    /// Whether tuple deforming was compiled.
    pub deforming: Option<bool>,
    /// Code generation time, ms (deforming included).
    pub generation_ms: Option<f64>,
    /// Of which deforming code generation, ms (17+).
    pub deform_ms: Option<f64>,
    /// Inlining time, ms.
    pub inlining_ms: Option<f64>,
    /// Optimization time, ms.
    pub optimization_ms: Option<f64>,
    /// Emission time, ms.
    pub emission_ms: Option<f64>,
    /// Total JIT time, ms.
    pub total_ms: Option<f64>,
}

/// The `Serialization` section (17+).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Serialization {
    /// Time to serialize the result, ms.
    pub time_ms: Option<f64>,
    /// Output volume, kB.
    pub output_kb: Option<f64>,
    /// `text` or `binary`.
    pub format: Option<String>,
    /// Buffers touched while serializing (detoasting).
    pub buffers: Option<Buffers>,
}

/// How a node hangs under its parent (`Parent Relationship`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum ParentRelationship {
    /// The outer (first, left) input.
    Outer,
    /// The inner (second, right) input of a join.
    Inner,
    /// A member of an Append / Merge Append / BitmapAnd / BitmapOr.
    Member,
    /// An initplan: run at most once, its result used as a parameter (also CTEs).
    InitPlan,
    /// A subplan: run for rows of the parent (correlated subqueries), unless hashed.
    SubPlan,
    /// The input of a Subquery Scan.
    Subquery,
    /// Any other value, kept as written.
    Other(String),
}

impl From<String> for ParentRelationship {
    fn from(s: String) -> Self {
        match s.as_str() {
            "Outer" => Self::Outer,
            "Inner" => Self::Inner,
            "Member" => Self::Member,
            "InitPlan" => Self::InitPlan,
            "SubPlan" => Self::SubPlan,
            "Subquery" => Self::Subquery,
            _ => Self::Other(s),
        }
    }
}

impl From<ParentRelationship> for String {
    fn from(r: ParentRelationship) -> String {
        r.as_str().to_string()
    }
}

impl ParentRelationship {
    /// EXPLAIN's spelling.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Outer => "Outer",
            Self::Inner => "Inner",
            Self::Member => "Member",
            Self::InitPlan => "InitPlan",
            Self::SubPlan => "SubPlan",
            Self::Subquery => "Subquery",
            Self::Other(s) => s,
        }
    }
}

/// Block counters (`Buffers:` / `Shared Hit Blocks` …). Like EXPLAIN's, they include
/// the node's children.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Buffers {
    /// Shared blocks found in shared_buffers.
    pub shared_hit: u64,
    /// Shared blocks read from the OS (page cache or disk).
    pub shared_read: u64,
    /// Shared blocks dirtied.
    pub shared_dirtied: u64,
    /// Shared blocks written (evicted dirty).
    pub shared_written: u64,
    /// Local (temporary table) blocks hit.
    pub local_hit: u64,
    /// Local blocks read.
    pub local_read: u64,
    /// Local blocks dirtied.
    pub local_dirtied: u64,
    /// Local blocks written.
    pub local_written: u64,
    /// Temporary file blocks read (sorts, hashes spilling to disk).
    pub temp_read: u64,
    /// Temporary file blocks written.
    pub temp_written: u64,
}

impl Buffers {
    /// `self - other`, each counter floored at 0.
    pub fn saturating_sub(&self, other: &Buffers) -> Buffers {
        Buffers {
            shared_hit: self.shared_hit.saturating_sub(other.shared_hit),
            shared_read: self.shared_read.saturating_sub(other.shared_read),
            shared_dirtied: self.shared_dirtied.saturating_sub(other.shared_dirtied),
            shared_written: self.shared_written.saturating_sub(other.shared_written),
            local_hit: self.local_hit.saturating_sub(other.local_hit),
            local_read: self.local_read.saturating_sub(other.local_read),
            local_dirtied: self.local_dirtied.saturating_sub(other.local_dirtied),
            local_written: self.local_written.saturating_sub(other.local_written),
            temp_read: self.temp_read.saturating_sub(other.temp_read),
            temp_written: self.temp_written.saturating_sub(other.temp_written),
        }
    }

    /// `self + other`, saturating.
    pub fn saturating_add(&self, other: &Buffers) -> Buffers {
        Buffers {
            shared_hit: self.shared_hit.saturating_add(other.shared_hit),
            shared_read: self.shared_read.saturating_add(other.shared_read),
            shared_dirtied: self.shared_dirtied.saturating_add(other.shared_dirtied),
            shared_written: self.shared_written.saturating_add(other.shared_written),
            local_hit: self.local_hit.saturating_add(other.local_hit),
            local_read: self.local_read.saturating_add(other.local_read),
            local_dirtied: self.local_dirtied.saturating_add(other.local_dirtied),
            local_written: self.local_written.saturating_add(other.local_written),
            temp_read: self.temp_read.saturating_add(other.temp_read),
            temp_written: self.temp_written.saturating_add(other.temp_written),
        }
    }
}

/// I/O timings (`track_io_timing = on`), ms. PostgreSQL 13–15 report shared and local
/// reads together as `I/O Read Time`, which lands in the `shared_*` fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct IoTimings {
    /// Time reading shared blocks.
    pub shared_read_ms: Option<f64>,
    /// Time writing shared blocks.
    pub shared_write_ms: Option<f64>,
    /// Time reading local blocks (17+).
    pub local_read_ms: Option<f64>,
    /// Time writing local blocks (17+).
    pub local_write_ms: Option<f64>,
    /// Time reading temporary files (15+).
    pub temp_read_ms: Option<f64>,
    /// Time writing temporary files (15+).
    pub temp_write_ms: Option<f64>,
}

/// WAL generated by a node (`WAL` option, 13+).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WalUsage {
    /// WAL records.
    pub records: Option<u64>,
    /// Full-page images.
    pub fpi: Option<u64>,
    /// Bytes of WAL.
    pub bytes: Option<u64>,
    /// Times the WAL buffers were full (18+).
    pub buffers_full: Option<u64>,
}

/// One parallel worker's share of a node (`Workers` list).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerStats {
    /// `Worker Number`.
    pub worker_number: Option<u64>,
    /// Startup time in this worker, ms.
    pub actual_startup_time_ms: Option<f64>,
    /// Total time in this worker, ms (per loop).
    pub actual_total_time_ms: Option<f64>,
    /// Rows in this worker (per loop).
    pub actual_rows: Option<f64>,
    /// Loops in this worker.
    pub actual_loops: Option<f64>,
    /// Sort method in this worker.
    pub sort_method: Option<String>,
    /// `Memory` or `Disk`.
    pub sort_space_type: Option<String>,
    /// kB.
    pub sort_space_used_kb: Option<f64>,
    /// Buffers used by this worker.
    pub buffers: Option<Buffers>,
    /// Everything else EXPLAIN said about this worker.
    pub extra: Map<String, Value>,
}

/// One node of the plan tree.
///
/// Children are in [`PlanNode::children`] in EXPLAIN's order; the `parent_relationship`
/// of each says how it is used. Dropping is iterative (see [`Children`]), so arbitrarily
/// deep trees built by hand are safe to drop; the parsers refuse trees deeper than
/// [`MAX_PLAN_DEPTH`](super::MAX_PLAN_DEPTH) so that derived recursive impls (`Clone`,
/// `Debug`, serde) stay within the stack too.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PlanNode {
    /// `Node Type`: `Seq Scan`, `Hash Join`, `Aggregate`, `ModifyTable`, …
    pub node_type: String,
    /// How this node hangs under its parent (absent on the root).
    pub parent_relationship: Option<ParentRelationship>,
    /// `InitPlan 1 (returns $0)`, `SubPlan 2`, `CTE orders`.
    pub subplan_name: Option<String>,
    /// `Parallel Aware` (`Parallel Seq Scan`, …).
    pub parallel_aware: bool,
    /// `Async Capable` (14+).
    pub async_capable: Option<bool>,
    /// `Operation` of a ModifyTable (`Insert`, `Update`, `Delete`, `Merge`).
    pub operation: Option<String>,
    /// The scanned or modified table.
    pub relation_name: Option<String>,
    /// Its schema (VERBOSE).
    pub schema: Option<String>,
    /// The alias in the query.
    pub alias: Option<String>,
    /// The index of an index, index-only or bitmap index scan.
    pub index_name: Option<String>,
    /// The CTE read by a CTE Scan or WorkTable Scan.
    pub cte_name: Option<String>,
    /// The function of a Function Scan.
    pub function_name: Option<String>,
    /// `Forward`, `Backward` or `NoMovement`.
    pub scan_direction: Option<String>,
    /// `Inner`, `Left`, `Full`, `Right`, `Semi`, `Anti`, `Right Semi`, `Right Anti`.
    pub join_type: Option<String>,
    /// `Inner Unique` (VERBOSE).
    pub inner_unique: Option<bool>,
    /// Aggregate/SetOp strategy: `Plain`, `Sorted`, `Hashed`, `Mixed`.
    pub strategy: Option<String>,
    /// `Simple`, `Partial` or `Finalize` (parallel aggregation).
    pub partial_mode: Option<String>,
    /// Estimated cost to the first row.
    pub startup_cost: Option<f64>,
    /// Estimated cost to the last row.
    pub total_cost: Option<f64>,
    /// Estimated rows per loop.
    pub plan_rows: Option<f64>,
    /// Estimated row width, bytes.
    pub plan_width: Option<f64>,
    /// Time to the first row, ms, averaged over loops.
    pub actual_startup_time_ms: Option<f64>,
    /// Time to the last row, ms, averaged over loops (and over workers in parallel parts).
    pub actual_total_time_ms: Option<f64>,
    /// Rows per loop (fractional from 18 on).
    pub actual_rows: Option<f64>,
    /// Times the node was run (0: never executed).
    pub actual_loops: Option<f64>,
    /// Output columns (VERBOSE).
    pub output: Vec<String>,
    /// `Filter`.
    pub filter: Option<String>,
    /// `Index Cond`.
    pub index_cond: Option<String>,
    /// `Recheck Cond` (bitmap heap scans).
    pub recheck_cond: Option<String>,
    /// `Join Filter`.
    pub join_filter: Option<String>,
    /// `Hash Cond`.
    pub hash_cond: Option<String>,
    /// `Merge Cond`.
    pub merge_cond: Option<String>,
    /// `One-Time Filter`.
    pub one_time_filter: Option<String>,
    /// `Rows Removed by Filter`, per loop.
    pub rows_removed_by_filter: Option<f64>,
    /// `Rows Removed by Join Filter`, per loop.
    pub rows_removed_by_join_filter: Option<f64>,
    /// `Rows Removed by Index Recheck`, per loop.
    pub rows_removed_by_index_recheck: Option<f64>,
    /// `Heap Fetches` of an index-only scan.
    pub heap_fetches: Option<f64>,
    /// `Sort Key`.
    pub sort_key: Vec<String>,
    /// `quicksort`, `top-N heapsort`, `external sort`, `external merge`.
    pub sort_method: Option<String>,
    /// `Memory` or `Disk`.
    pub sort_space_type: Option<String>,
    /// kB.
    pub sort_space_used_kb: Option<f64>,
    /// Hash table buckets.
    pub hash_buckets: Option<u64>,
    /// Buckets planned before the table grew.
    pub original_hash_buckets: Option<u64>,
    /// Hash join batches (> 1: spilled to disk).
    pub hash_batches: Option<u64>,
    /// Batches planned.
    pub original_hash_batches: Option<u64>,
    /// `Peak Memory Usage` of a Hash, hashed Aggregate or Memoize, kB.
    pub peak_memory_kb: Option<f64>,
    /// `HashAgg Batches` (13+; > 1: spilled to disk).
    pub hash_agg_batches: Option<u64>,
    /// `Disk Usage` of a hashed Aggregate, kB.
    pub disk_usage_kb: Option<f64>,
    /// Bitmap heap scan blocks with exact bitmaps.
    pub exact_heap_blocks: Option<u64>,
    /// Blocks with lossy bitmaps (work_mem too small for an exact bitmap).
    pub lossy_heap_blocks: Option<u64>,
    /// Parallel workers planned (Gather, Gather Merge).
    pub workers_planned: Option<u64>,
    /// Parallel workers actually started.
    pub workers_launched: Option<u64>,
    /// Per-worker figures.
    pub workers: Vec<WorkerStats>,
    /// Block counters (BUFFERS), including the children's.
    pub buffers: Option<Buffers>,
    /// I/O timings (BUFFERS with track_io_timing), including the children's.
    pub io_timings: Option<IoTimings>,
    /// WAL generated (WAL), including the children's.
    pub wal: Option<WalUsage>,
    /// `Disabled` (18): the planner had to use a disabled node type.
    pub disabled: Option<bool>,
    /// Every other key EXPLAIN gave, as it gave it (`Group Key`, `Cache Key`, …).
    pub extra: Map<String, Value>,
    /// The node's inputs and subplans.
    pub children: Children,
}

/// A node's children: a `Vec<PlanNode>` (it derefs to one) that drops iteratively, so
/// that dropping a tree of any depth cannot overflow the stack.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Children(pub Vec<PlanNode>);

impl std::ops::Deref for Children {
    type Target = Vec<PlanNode>;

    fn deref(&self) -> &Vec<PlanNode> {
        &self.0
    }
}

impl std::ops::DerefMut for Children {
    fn deref_mut(&mut self) -> &mut Vec<PlanNode> {
        &mut self.0
    }
}

impl From<Vec<PlanNode>> for Children {
    fn from(nodes: Vec<PlanNode>) -> Self {
        Children(nodes)
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        let mut pending = std::mem::take(&mut self.0);
        while let Some(mut node) = pending.pop() {
            pending.append(&mut node.children.0);
        }
    }
}
