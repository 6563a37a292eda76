//! What a plan does with a table: its scan as one line (`Seq Scan on stock_move`,
//! `Index Scan using <13556>btree_stock_move_product_id on stock_move`) and whether it
//! uses a given hypothetical index.

use crate::plan::{Plan, PlanNode};

/// Whether any node of `plan` uses the hypothetical index `oid` (HypoPG names its
/// indexes `<oid>btree_…`).
pub(super) fn uses_index(plan: &Plan, oid: u32) -> bool {
    let prefix = format!("<{oid}>");
    plan.nodes().any(|v| {
        v.node
            .index_name
            .as_deref()
            .is_some_and(|name| name.starts_with(&prefix))
    })
}

/// The first scan of `table` in `plan` as one line, when the plan reads it.
pub(super) fn scan_of(plan: &Plan, schema: &str, table: &str) -> Option<String> {
    plan.nodes()
        .map(|v| v.node)
        .find(|node| is_scan_of(node, schema, table))
        .map(describe)
}

fn is_scan_of(node: &PlanNode, schema: &str, table: &str) -> bool {
    node.node_type != "ModifyTable"
        && node.relation_name.as_deref() == Some(table)
        && node.schema.as_deref().is_none_or(|s| s == schema)
}

fn describe(node: &PlanNode) -> String {
    let table = node.relation_name.as_deref().unwrap_or("?");
    match (node.node_type.as_str(), node.index_name.as_deref()) {
        (kind, Some(index)) => format!("{kind} using {index} on {table}"),
        ("Bitmap Heap Scan", None) => {
            let indexes: Vec<&str> = node
                .walk()
                .skip(1)
                .filter_map(|v| v.node.index_name.as_deref())
                .collect();
            if indexes.is_empty() {
                format!("Bitmap Heap Scan on {table}")
            } else {
                format!(
                    "Bitmap Heap Scan on {table} (Bitmap Index Scan on {})",
                    indexes.join(", ")
                )
            }
        }
        (kind, None) => format!("{kind} on {table}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::parse_plan;

    // EXPLAIN (FORMAT JSON) output of PostgreSQL 15 with a HypoPG index.
    const BITMAP: &str = r#"[{"Plan": {"Node Type": "ModifyTable", "Operation": "Update",
        "Relation Name": "sm", "Alias": "sm", "Startup Cost": 4.35, "Total Cost": 143.59,
        "Plan Rows": 0, "Plan Width": 0, "Plans": [{"Node Type": "Bitmap Heap Scan",
        "Parent Relationship": "Outer", "Relation Name": "sm", "Alias": "sm",
        "Startup Cost": 4.35, "Total Cost": 143.59, "Plan Rows": 40, "Plan Width": 38,
        "Recheck Cond": "(product_id = 5)", "Plans": [{"Node Type": "Bitmap Index Scan",
        "Parent Relationship": "Outer", "Index Name": "<13556>btree_sm_product_id",
        "Startup Cost": 0.00, "Total Cost": 4.34, "Plan Rows": 40, "Plan Width": 0,
        "Index Cond": "(product_id = 5)"}]}]}}]"#;

    const SEQ: &str = r#"[{"Plan": {"Node Type": "Seq Scan", "Relation Name": "sm",
        "Alias": "sm", "Startup Cost": 0.00, "Total Cost": 4000.0, "Plan Rows": 40,
        "Plan Width": 21, "Filter": "(product_id = 5)"}}]"#;

    #[test]
    fn the_scan_and_the_index_are_found() {
        let plan = parse_plan(BITMAP).expect("plan");
        assert!(uses_index(&plan, 13556));
        assert!(!uses_index(&plan, 1355));
        assert_eq!(
            scan_of(&plan, "public", "sm").as_deref(),
            Some("Bitmap Heap Scan on sm (Bitmap Index Scan on <13556>btree_sm_product_id)")
        );
        let seq = parse_plan(SEQ).expect("plan");
        assert!(!uses_index(&seq, 13556));
        assert_eq!(
            scan_of(&seq, "public", "sm").as_deref(),
            Some("Seq Scan on sm")
        );
        assert_eq!(scan_of(&seq, "public", "other"), None);
    }
}
