//! What a plan rule sees ([`PlanContext`]) and the helpers every plan rule uses: the
//! "matters" gates, the node a finding points at, and its evidence.

use std::collections::BTreeMap;

use crate::plan::{NodeProfile, Plan, PlanNode, PlanProfile};
use crate::report::{ObjectKind, ObjectRef};
use crate::rules::{Draft, ParamValue, Skip};

/// One plan, its profile and a rule's parameters.
#[derive(Debug)]
pub struct PlanContext<'a> {
    /// The plan.
    pub plan: &'a Plan,
    /// Its profile: exclusive time and share per node.
    pub profile: &'a PlanProfile<'a>,
    /// This rule's parameters (from the pack file and the user's configuration).
    pub params: &'a BTreeMap<String, ParamValue>,
}

impl<'a> PlanContext<'a> {
    /// This rule's typed parameters (its `Params`, declared in `declare_rule!`).
    pub fn params<T: serde::de::DeserializeOwned>(&self) -> Result<T, Skip> {
        crate::rules::context::params_for_rule(self.params)
    }

    /// Skips unless EXPLAIN ran the query (ANALYZE).
    pub fn require_analyze(&self) -> Result<(), Skip> {
        if self.plan.is_analyzed() {
            Ok(())
        } else {
            Err(Skip::because(
                "the plan has no actual figures: run EXPLAIN (ANALYZE, BUFFERS)",
            ))
        }
    }

    /// Skips unless the plan has per-node times (ANALYZE without `TIMING off`).
    pub fn require_timing(&self) -> Result<f64, Skip> {
        self.require_analyze()?;
        match self.profile.total_ms {
            Some(total) if total > 0.0 => Ok(total),
            _ => Err(Skip::because(
                "the plan has no per-node times (TIMING off): run EXPLAIN (ANALYZE, BUFFERS)",
            )),
        }
    }

    /// Skips unless the plan has buffer counters (BUFFERS).
    pub fn require_buffers(&self) -> Result<(), Skip> {
        self.require_analyze()?;
        if self.plan.root.buffers.is_some() {
            Ok(())
        } else {
            Err(Skip::because(
                "the plan has no buffer counters: run EXPLAIN (ANALYZE, BUFFERS)",
            ))
        }
    }

    /// The share of the plan's time the node and everything it ran took.
    pub fn inclusive_share(&self, np: &NodeProfile<'_>) -> f64 {
        match (np.inclusive_ms, self.profile.total_ms) {
            (Some(ms), Some(total)) if total > 0.0 => (ms / total).min(1.0),
            _ => 0.0,
        }
    }

    /// The node's own share of the plan's time.
    pub fn share(np: &NodeProfile<'_>) -> f64 {
        np.share.unwrap_or(0.0)
    }

    /// A finding about a node: the object names the node, the evidence starts with its
    /// path, type, relation, exclusive time and share (`time_share`, the ranking key).
    pub fn node_draft(&self, np: &NodeProfile<'_>, message: impl Into<String>) -> Draft {
        let node = np.node;
        let mut draft = Draft::new(
            self.object(&format!("{} {}", np.path, node_label(node))),
            message,
        )
        .evidence("node_path", np.path.to_string())
        .evidence("node_type", node.node_type.clone());
        if let Some(rel) = node.qualified_relation() {
            draft = draft.evidence("relation", rel);
        }
        if let Some(ms) = np.exclusive_ms {
            draft = draft.evidence("node_exclusive_ms", round(ms, 3));
        }
        draft.evidence("time_share", round(Self::share(np), 4))
    }

    /// A finding about the query as a whole (planning, JIT, triggers); `share` is the
    /// part of the time it is about, used for ranking.
    pub fn query_draft(&self, what: &str, share: f64, message: impl Into<String>) -> Draft {
        Draft::new(self.object(what), message).evidence("time_share", round(share, 4))
    }

    fn object(&self, name: &str) -> ObjectRef {
        ObjectRef {
            query: self.plan.query_text.clone(),
            ..ObjectRef::named(ObjectKind::Query, name)
        }
    }

    /// A setting recorded in the plan (EXPLAIN's SETTINGS option), e.g. `work_mem`.
    pub fn setting(&self, name: &str) -> Option<&str> {
        self.plan.settings.get(name).map(String::as_str)
    }
}

/// `Seq Scan on public.stock_move m`, `Index Scan using product_pkey on product p`,
/// `SubPlan 1: Index Scan …`, `CTE Scan on totals t`, `Hash Join`: how a node is named in
/// findings and in the tree.
pub fn node_label(node: &PlanNode) -> String {
    let mut label = String::new();
    if let Some(sub) = &node.subplan_name {
        label.push_str(sub);
        label.push_str(": ");
    }
    if node.parallel_aware && !node.node_type.starts_with("Parallel") {
        label.push_str("Parallel ");
    }
    let node_type = match (node.node_type.as_str(), node.strategy.as_deref()) {
        ("Aggregate", Some("Hashed")) => "HashAggregate",
        ("Aggregate", Some("Sorted")) => "GroupAggregate",
        ("Aggregate", Some("Mixed")) => "MixedAggregate",
        (t, _) => t,
    };
    label.push_str(node_type);
    if let Some(join) = node.join_type.as_deref().filter(|j| *j != "Inner") {
        label.push_str(&format!(" ({join})"));
    }
    if let Some(index) = &node.index_name {
        label.push_str(&format!(" using {index}"));
    }
    let target = node
        .qualified_relation()
        .or_else(|| node.cte_name.clone())
        .or_else(|| node.function_name.clone());
    if let Some(target) = target {
        label.push_str(&format!(" on {target}"));
        if let Some(alias) = node.alias.as_deref().filter(|a| {
            Some(*a) != node.relation_name.as_deref() && Some(*a) != node.cte_name.as_deref()
        }) {
            label.push_str(&format!(" {alias}"));
        }
    }
    label
}

/// `x` rounded to `digits` decimals, for evidence.
pub(crate) fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// A memory size in kB as a setting value ([`crate::units::setting_bytes`]), rounded up
/// to a power of two megabytes (at least 1MB): `4MB`, `64MB`, `2GB`.
pub(crate) fn work_mem_text(kb: f64) -> String {
    let mb = (kb / 1024.0).max(1.0);
    let mut p = 1u64;
    while (p as f64) < mb && p < (1 << 21) {
        p *= 2;
    }
    crate::units::setting_bytes(p << 20)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_mem_rounds_up_to_a_power_of_two_megabytes() {
        assert_eq!(work_mem_text(64.0), "1MB");
        assert_eq!(work_mem_text(3000.0), "4MB");
        assert_eq!(work_mem_text(1_500_000.0), "2GB");
    }
}
