//! A plan's nodes as a table ([`nodes_frame`]), with the rules that found something at
//! each, for front ends that show them as a data frame.

use crate::frames::{typed_frame, Frame};
use crate::plan::Plan;
use crate::report::Report;
use crate::rules::plans::node_label;
use crate::Result;

/// One node of a plan as a table row (see [`nodes_frame`]): what EXPLAIN said about
/// it and what [`Plan::profile`](Plan::profile) computed from its place in
/// the tree.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct PlanNodeRow {
    /// Path in the tree: `0` is the root, `0.1` its second child.
    pub path: String,
    /// Depth, 0 for the root.
    pub depth: u64,
    /// The parent's path (`None` for the root).
    pub parent: Option<String>,
    /// `Node Type`: `Seq Scan`, `Hash Join`, …
    pub node_type: String,
    /// The node as `pgsage plan --tree` labels it (`Seq Scan on stock_move`).
    pub label: String,
    /// `Outer`, `Inner`, `InitPlan`, `SubPlan`, …
    pub parent_relationship: Option<String>,
    /// `InitPlan 1 (returns $0)`, `SubPlan 2`, `CTE orders`.
    pub subplan_name: Option<String>,
    /// The scanned or modified table.
    pub relation: Option<String>,
    /// Its schema (VERBOSE).
    pub schema: Option<String>,
    /// The alias in the query.
    pub alias: Option<String>,
    /// The index of an index, index-only or bitmap index scan.
    pub index_name: Option<String>,
    /// `Inner`, `Left`, `Semi`, `Anti`, …
    pub join_type: Option<String>,
    /// Estimated cost to the first row.
    pub startup_cost: Option<f64>,
    /// Estimated cost to the last row.
    pub total_cost: Option<f64>,
    /// Estimated rows per loop (`Plan Rows`).
    pub rows_estimated: Option<f64>,
    /// Actual rows per loop (ANALYZE).
    pub rows_actual: Option<f64>,
    /// Times the node ran (0: never executed).
    pub loops: Option<f64>,
    /// How far the estimate was off, ≥ 1 (`max / min` of planned and actual rows).
    pub rows_misestimate: Option<f64>,
    /// Whether the planner expected fewer rows than came.
    pub rows_underestimated: Option<bool>,
    /// Time in the node and everything it ran, ms (wall clock).
    pub inclusive_ms: Option<f64>,
    /// Time in the node itself, ms.
    pub exclusive_ms: Option<f64>,
    /// `exclusive_ms` over the plan's total, 0–1.
    pub time_share: Option<f64>,
    /// `Rows Removed by Filter`, per loop.
    pub rows_removed_by_filter: Option<f64>,
    /// Shared blocks the node itself found in shared_buffers (BUFFERS).
    pub shared_hit_blocks: Option<u64>,
    /// Shared blocks the node itself read.
    pub shared_read_blocks: Option<u64>,
    /// Temporary file blocks the node itself wrote (spills).
    pub temp_written_blocks: Option<u64>,
    /// `Filter`.
    pub filter: Option<String>,
    /// `Index Cond`.
    pub index_cond: Option<String>,
    /// Whether ANALYZE ran and the node never did.
    pub never_executed: bool,
    /// The rules with a finding at this node (from the report given).
    pub rules: Vec<String>,
}

/// A plan's nodes in pre-order as a table, one [`PlanNodeRow`] each; `report` (the plan's
/// [`analyze`](super::analyze) report) marks the nodes rules found something at.
pub fn nodes_frame(plan: &Plan, report: Option<&Report>) -> Result<Frame> {
    let profile = plan.profile();
    let mut rows = Vec::with_capacity(profile.nodes.len());
    for np in &profile.nodes {
        let node = np.node;
        let path = np.path.to_string();
        let estimate = node.rows_estimate();
        let rules = report
            .map(|r| {
                let mut ids: Vec<String> = Vec::new();
                for f in &r.findings {
                    let at = f.evidence.get("node_path").and_then(|p| p.as_str());
                    if at == Some(path.as_str()) && !ids.contains(&f.rule) {
                        ids.push(f.rule.clone());
                    }
                }
                ids
            })
            .unwrap_or_default();
        rows.push(PlanNodeRow {
            depth: np.path.depth() as u64,
            parent: np.parent.map(|p| profile.nodes[p].path.to_string()),
            node_type: node.node_type.clone(),
            label: node_label(node),
            parent_relationship: node
                .parent_relationship
                .as_ref()
                .map(|r| r.as_str().to_owned()),
            subplan_name: node.subplan_name.clone(),
            relation: node.relation_name.clone(),
            schema: node.schema.clone(),
            alias: node.alias.clone(),
            index_name: node.index_name.clone(),
            join_type: node.join_type.clone(),
            startup_cost: node.startup_cost,
            total_cost: node.total_cost,
            rows_estimated: node.plan_rows,
            rows_actual: node.actual_rows,
            loops: node.actual_loops,
            rows_misestimate: estimate.map(|e| e.factor),
            rows_underestimated: estimate.map(|e| e.underestimated),
            inclusive_ms: np.inclusive_ms,
            exclusive_ms: np.exclusive_ms,
            time_share: np.share,
            rows_removed_by_filter: node.rows_removed_by_filter,
            shared_hit_blocks: np.exclusive_buffers.map(|b| b.shared_hit),
            shared_read_blocks: np.exclusive_buffers.map(|b| b.shared_read),
            temp_written_blocks: np.exclusive_buffers.map(|b| b.temp_written),
            filter: node.filter.clone(),
            index_cond: node.index_cond.clone(),
            never_executed: node.never_executed(),
            rules,
            path,
        });
    }
    typed_frame("plan_nodes", &rows)
}
