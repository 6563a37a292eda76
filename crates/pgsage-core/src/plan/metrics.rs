//! Questions rules ask of one node: estimate error, spills, rows removed, conditions.

use serde_json::Value;

use super::model::PlanNode;

/// Estimated against actual rows at one node.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RowsEstimate {
    /// `Plan Rows` (per loop).
    pub planned: f64,
    /// `Actual Rows` (per loop).
    pub actual: f64,
    /// How far off, always ≥ 1: `max(planned, actual) / min(planned, actual)` with both
    /// floored at 1 row (so 0 actual rows against 1 planned is exact).
    pub factor: f64,
    /// Whether the planner expected fewer rows than came.
    pub underestimated: bool,
}

impl PlanNode {
    /// Whether ANALYZE ran and this node never ran (`never executed`, loops = 0).
    pub fn never_executed(&self) -> bool {
        self.actual_loops == Some(0.0)
    }

    /// Rows over all loops: `actual rows × loops`.
    pub fn total_actual_rows(&self) -> Option<f64> {
        Some(self.actual_rows? * self.actual_loops?)
    }

    /// Estimated against actual rows (ANALYZE, node executed).
    pub fn rows_estimate(&self) -> Option<RowsEstimate> {
        let planned = self.plan_rows?;
        let actual = self.actual_rows?;
        if self.never_executed() {
            return None;
        }
        let (p, a) = (planned.max(1.0), actual.max(1.0));
        Some(RowsEstimate {
            planned,
            actual,
            factor: p.max(a) / p.min(a),
            underestimated: a > p,
        })
    }

    /// Share (0–1) of the rows the node read that its `Filter` threw away.
    pub fn filter_removed_share(&self) -> Option<f64> {
        let removed = self.rows_removed_by_filter?;
        let kept = self.actual_rows.unwrap_or(0.0);
        let seen = removed + kept;
        (seen > 0.0).then(|| removed / seen)
    }

    /// Whether a sort, hash join or hashed aggregate went to disk.
    pub fn spilled_to_disk(&self) -> bool {
        self.sort_space_type.as_deref() == Some("Disk")
            || self.hash_batches.is_some_and(|b| b > 1)
            || self.hash_agg_batches.is_some_and(|b| b > 1)
            || self.disk_usage_kb.is_some_and(|d| d > 0.0)
            || self
                .workers
                .iter()
                .any(|w| w.sort_space_type.as_deref() == Some("Disk"))
    }

    /// Temporary-file blocks written (BUFFERS), this node and its children.
    pub fn temp_written_blocks(&self) -> Option<u64> {
        self.buffers.map(|b| b.temp_written)
    }

    /// Shared blocks read from outside shared_buffers (BUFFERS), this node and its
    /// children.
    pub fn shared_read_blocks(&self) -> Option<u64> {
        self.buffers.map(|b| b.shared_read)
    }

    /// Whether this node is a join (`Nested Loop`, `Hash Join`, `Merge Join`).
    pub fn is_join(&self) -> bool {
        matches!(
            self.node_type.as_str(),
            "Nested Loop" | "Hash Join" | "Merge Join"
        )
    }

    /// Whether this node reads a table or index (any `… Scan`).
    pub fn is_scan(&self) -> bool {
        self.node_type.ends_with("Scan")
    }

    /// The relation as written in the query: `schema.table` when the schema is known.
    pub fn qualified_relation(&self) -> Option<String> {
        let rel = self.relation_name.as_deref()?;
        Some(match self.schema.as_deref() {
            Some(schema) => format!("{schema}.{rel}"),
            None => rel.to_string(),
        })
    }

    /// Every expression EXPLAIN printed for the node, with its label: conditions,
    /// filters, keys and output, including those kept in `extra`.
    pub fn expressions(&self) -> impl Iterator<Item = (&str, &str)> {
        let typed = [
            ("Filter", &self.filter),
            ("Index Cond", &self.index_cond),
            ("Recheck Cond", &self.recheck_cond),
            ("Join Filter", &self.join_filter),
            ("Hash Cond", &self.hash_cond),
            ("Merge Cond", &self.merge_cond),
            ("One-Time Filter", &self.one_time_filter),
        ]
        .into_iter()
        .filter_map(|(label, v)| v.as_deref().map(|v| (label, v)));
        let lists = self
            .sort_key
            .iter()
            .map(|s| ("Sort Key", s.as_str()))
            .chain(self.output.iter().map(|s| ("Output", s.as_str())));
        let extra = self.extra.iter().flat_map(|(k, v)| {
            let items: Vec<(&str, &str)> = match v {
                Value::String(s) => vec![(k.as_str(), s.as_str())],
                Value::Array(a) => a
                    .iter()
                    .filter_map(|x| x.as_str().map(|s| (k.as_str(), s)))
                    .collect(),
                _ => Vec::new(),
            };
            items
        });
        typed.chain(lists).chain(extra)
    }
}
