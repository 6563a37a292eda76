//! Where the time went: inclusive and exclusive time per node, share of the total,
//! loops above a node, and the node's own buffers. The method is in `docs/plans.md`.

use super::model::{Buffers, ParentRelationship, Plan, PlanNode};
use super::tree::NodePath;

/// One node with the figures computed from its place in the tree.
#[derive(Debug, Clone)]
pub struct NodeProfile<'a> {
    /// The node.
    pub node: &'a PlanNode,
    /// Its path (`0.1.0`).
    pub path: NodePath,
    /// Its parent's index in [`PlanProfile::nodes`].
    pub parent: Option<usize>,
    /// Processes sharing the node's work: the Gather's launched workers + 1 (leader)
    /// inside a parallel part, at most the node's loops; 1 elsewhere.
    pub processes: f64,
    /// Wall-clock time spent in the node and everything it ran, ms:
    /// `actual total time × loops / processes`. `None` without timing.
    pub inclusive_ms: Option<f64>,
    /// Time spent in the node itself, ms, never negative. `None` without timing.
    pub exclusive_ms: Option<f64>,
    /// `exclusive_ms / total_ms`, 0–1.
    pub share: Option<f64>,
    /// The largest `actual loops` of any ancestor (1 when none ran more than once):
    /// "this node sits under a loop run N times".
    pub loops_above: f64,
    /// Blocks the node touched itself: its buffers minus its (non-InitPlan) children's,
    /// each counter floored at 0. `None` without BUFFERS.
    pub exclusive_buffers: Option<Buffers>,
}

/// Every node of a plan, in pre-order, with exclusive times.
#[derive(Debug, Clone)]
pub struct PlanProfile<'a> {
    /// Nodes in pre-order (`nodes[0]` is the root).
    pub nodes: Vec<NodeProfile<'a>>,
    /// The time shares are relative to: the larger of `Execution Time` and the sum of
    /// exclusive times, ms. `None` without timing.
    pub total_ms: Option<f64>,
}

impl PlanProfile<'_> {
    /// The profile of the node at `path`.
    pub fn get(&self, path: &NodePath) -> Option<&NodeProfile<'_>> {
        self.nodes.iter().find(|n| &n.path == path)
    }

    /// Sum of exclusive times, ms (about the root's inclusive time plus InitPlans it
    /// does not cover). `None` without timing.
    pub fn exclusive_sum_ms(&self) -> Option<f64> {
        self.nodes.iter().map(|n| n.exclusive_ms).sum()
    }
}

fn is_gather(node: &PlanNode) -> bool {
    matches!(node.node_type.as_str(), "Gather" | "Gather Merge")
}

fn is_init_plan(node: &PlanNode) -> bool {
    node.parent_relationship == Some(ParentRelationship::InitPlan)
}

/// How a node refers to an InitPlan's result: `$0` up to 15, `(InitPlan 1)` from 16 on.
fn init_plan_references(subplan_name: &str) -> Vec<String> {
    let mut refs = Vec::new();
    let mut words = subplan_name.split_whitespace();
    if let (Some("InitPlan"), Some(number)) = (words.next(), words.next()) {
        refs.push(format!("(InitPlan {number})"));
    }
    if let Some(start) = subplan_name.find("returns ") {
        let list = subplan_name[start + 8..].trim_end_matches(')');
        for param in list.split(',') {
            let param = param.trim();
            if param.starts_with('$') {
                refs.push(param.to_string());
            }
        }
    }
    refs
}

/// Whether `text` mentions `reference` as a whole token (`$1` does not match `$10`).
fn mentions(text: &str, reference: &str) -> bool {
    let mut from = 0;
    while let Some(pos) = text[from..].find(reference) {
        let end = from + pos + reference.len();
        let next = text[end..].chars().next();
        if !reference.starts_with('$') || !next.is_some_and(|c| c.is_ascii_digit()) {
            return true;
        }
        from = end;
    }
    false
}

fn node_mentions(node: &PlanNode, references: &[String]) -> bool {
    node.expressions()
        .any(|(_, text)| references.iter().any(|r| mentions(text, r)))
}

impl Plan {
    /// Inclusive and exclusive time, share of the total and own buffers of every node.
    ///
    /// Exclusive time is `inclusive − Σ inclusive of the children`, where inclusive is
    /// `actual total time × loops / processes` (parallel parts report per-process
    /// averages). InitPlans (CTEs included) are not subtracted from the node they hang
    /// under; their time is taken from the node that ran them instead: the CTE Scans
    /// reading the CTE (shared in proportion to the scans' time), or the first node (in
    /// execution order) whose expressions use the InitPlan's result, or the Gather that
    /// computed it for its workers. Results below 0 (measurement noise) become 0.
    pub fn profile(&self) -> PlanProfile<'_> {
        let visits: Vec<_> = self.nodes().collect();
        let n = visits.len();
        let mut processes = vec![1.0_f64; n];
        let mut loops_above = vec![1.0_f64; n];
        let mut inclusive: Vec<Option<f64>> = vec![None; n];
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, v) in visits.iter().enumerate() {
            if let Some(p) = v.parent {
                children[p].push(i);
                let parent = visits[p].node;
                let parent_loops = parent.actual_loops.unwrap_or(1.0);
                loops_above[i] = loops_above[p].max(parent_loops);
                processes[i] = if is_init_plan(v.node) {
                    1.0
                } else if is_gather(parent) {
                    parent.workers_launched.unwrap_or(0) as f64 + 1.0
                } else {
                    processes[p]
                };
            }
            let loops = v.node.actual_loops;
            if let Some(l) = loops {
                if l >= 1.0 {
                    processes[i] = processes[i].min(l);
                }
            }
            inclusive[i] = match (v.node.actual_total_time_ms, loops) {
                (_, Some(0.0)) => Some(0.0),
                (Some(t), Some(l)) => Some(t * l / processes[i].max(1.0)),
                (Some(t), None) => Some(t),
                (None, _) => None,
            };
        }

        // Exclusive: minus the children that run inside the node (not InitPlans).
        let mut exclusive: Vec<Option<f64>> = inclusive.clone();
        for i in 0..n {
            for &c in &children[i] {
                if !is_init_plan(visits[c].node) {
                    exclusive[i] = match (exclusive[i], inclusive[c]) {
                        (Some(e), Some(ci)) => Some(e - ci),
                        (e, _) => e,
                    };
                }
            }
        }

        // InitPlans: take their time from the node that ran them.
        for (c, v) in visits.iter().enumerate() {
            if !is_init_plan(v.node) {
                continue;
            }
            let (Some(parent), Some(time)) = (v.parent, inclusive[c]) else {
                continue;
            };
            if time <= 0.0 {
                continue;
            }
            let name = v.node.subplan_name.as_deref().unwrap_or("");
            if let Some(cte) = name.strip_prefix("CTE ") {
                let scans: Vec<usize> = (0..n)
                    .filter(|&i| {
                        visits[i].node.node_type == "CTE Scan"
                            && visits[i].node.cte_name.as_deref() == Some(cte)
                    })
                    .collect();
                let weights: Vec<f64> = scans
                    .iter()
                    .map(|&i| inclusive[i].unwrap_or(0.0).max(0.0))
                    .collect();
                let sum: f64 = weights.iter().sum();
                for (k, &i) in scans.iter().enumerate() {
                    let part = if sum > 0.0 {
                        time * weights[k] / sum
                    } else {
                        time / scans.len() as f64
                    };
                    exclusive[i] = exclusive[i].map(|e| e - part);
                }
                if scans.is_empty() {
                    exclusive[parent] = exclusive[parent].map(|e| e - time);
                }
                continue;
            }
            let runner = if is_gather(visits[parent].node) {
                parent
            } else {
                let references = init_plan_references(name);
                first_user(&visits, &children, parent, c, &references).unwrap_or(parent)
            };
            exclusive[runner] = exclusive[runner].map(|e| e - time);
        }

        let exclusive: Vec<Option<f64>> = exclusive
            .into_iter()
            .map(|e| e.map(|e| e.max(0.0)))
            .collect();
        let sum: Option<f64> = exclusive.iter().copied().sum();
        let total_ms = sum.map(|s| s.max(self.execution_time_ms.unwrap_or(0.0)));

        let mut nodes = Vec::with_capacity(n);
        for (i, v) in visits.into_iter().enumerate() {
            let share = match (exclusive[i], total_ms) {
                (Some(e), Some(t)) if t > 0.0 => Some(e / t),
                (Some(_), Some(_)) => Some(0.0),
                _ => None,
            };
            nodes.push(NodeProfile {
                node: v.node,
                path: v.path,
                parent: v.parent,
                processes: processes[i],
                inclusive_ms: inclusive[i],
                exclusive_ms: exclusive[i],
                share,
                loops_above: loops_above[i],
                exclusive_buffers: None,
            });
        }
        for profile in &mut nodes {
            let node = profile.node;
            profile.exclusive_buffers = node.buffers.map(|own| {
                node.children
                    .iter()
                    .filter(|c| !is_init_plan(c))
                    .filter_map(|c| c.buffers)
                    .fold(own, |acc, b| acc.saturating_sub(&b))
            });
        }
        PlanProfile { nodes, total_ms }
    }
}

/// The first node, in execution order (children before parents, post-order), under
/// `parent` (itself included, the InitPlan `skip` excluded) whose expressions mention
/// one of `references`.
fn first_user(
    visits: &[super::tree::NodeVisit<'_>],
    children: &[Vec<usize>],
    parent: usize,
    skip: usize,
    references: &[String],
) -> Option<usize> {
    if references.is_empty() {
        return None;
    }
    // Iterative post-order.
    let mut stack = vec![(parent, false)];
    while let Some((i, expanded)) = stack.pop() {
        if i == skip {
            continue;
        }
        if expanded {
            if node_mentions(visits[i].node, references) {
                return Some(i);
            }
        } else {
            stack.push((i, true));
            for &c in children[i].iter().rev() {
                stack.push((c, false));
            }
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::plan::parse_plan;

    #[test]
    fn init_plan_references_by_version() {
        assert_eq!(
            init_plan_references("InitPlan 1 (returns $0,$1)"),
            ["(InitPlan 1)", "$0", "$1"]
        );
        assert_eq!(init_plan_references("InitPlan 2"), ["(InitPlan 2)"]);
        assert!(init_plan_references("SubPlan 1").is_empty());
        assert!(mentions("(a > $1)", "$1"));
        assert!(!mentions("(a > $10)", "$1"));
        assert!(mentions("(a > $10) AND (b = $1)", "$1"));
        assert!(mentions("(x > (InitPlan 1).col1)", "(InitPlan 1)"));
    }

    /// An InitPlan used by a scan below the node it hangs under: its time comes off the
    /// scan, not off the join.
    #[test]
    fn init_plan_time_comes_off_the_node_that_ran_it() {
        let plan = parse_plan(
            "Hash Join  (cost=1..2 rows=1 width=4) (actual time=0.1..100.0 rows=1 loops=1)\n\
             \x20 InitPlan 1 (returns $0)\n\
             \x20   ->  Result  (cost=1..2 rows=1 width=4) (actual time=50.0..50.0 rows=1 loops=1)\n\
             \x20 ->  Seq Scan on a  (cost=1..2 rows=1 width=4) (actual time=0.1..70.0 rows=1 loops=1)\n\
             \x20       Filter: (x > $0)\n\
             \x20 ->  Hash  (cost=1..2 rows=1 width=4) (actual time=10.0..10.0 rows=1 loops=1)\n\
             \x20       ->  Seq Scan on b  (cost=1..2 rows=1 width=4) (actual time=0.1..10.0 rows=1 loops=1)\n\
             Execution Time: 100.0 ms\n",
        )
        .unwrap();
        let profile = plan.profile();
        let excl: Vec<f64> = profile
            .nodes
            .iter()
            .map(|n| n.exclusive_ms.unwrap())
            .collect();
        // Hash Join, Result (InitPlan), Seq Scan a, Hash, Seq Scan b
        assert_eq!(excl, [20.0, 50.0, 20.0, 0.0, 10.0]);
        assert_eq!(profile.exclusive_sum_ms(), Some(100.0));
        assert_eq!(profile.nodes[1].path.to_string(), "0.0");
        assert_eq!(profile.nodes[4].path.to_string(), "0.2.0");
    }

    #[test]
    fn parallel_children_count_wall_clock_time() {
        let plan = parse_plan(
            "Gather  (cost=1..2 rows=1 width=4) (actual time=0.1..40.0 rows=30 loops=1)\n\
             \x20 Workers Planned: 2\n\
             \x20 Workers Launched: 2\n\
             \x20 ->  Parallel Seq Scan on a  (cost=1..2 rows=1 width=4) (actual time=0.1..36.0 rows=10 loops=3)\n\
             Execution Time: 40.0 ms\n",
        )
        .unwrap();
        let profile = plan.profile();
        assert_eq!(profile.nodes[1].processes, 3.0);
        assert_eq!(profile.nodes[1].inclusive_ms, Some(36.0));
        assert_eq!(profile.nodes[0].exclusive_ms, Some(4.0));
    }
}
