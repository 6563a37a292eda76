//! Node lines (`Hash Left Join  (cost=… rows=… width=…) (actual time=… rows=… loops=…)`)
//! and subplan headers (`InitPlan 1 (returns $0)`, `SubPlan 2`, `CTE name`).

use serde_json::{Map, Number, Value};

/// `InitPlan …` / `SubPlan …` / `CTE …` header lines: the relationship and the name.
pub(super) fn subplan_header(text: &str) -> Option<(&'static str, &str)> {
    let relationship = if text.starts_with("InitPlan ") || text.starts_with("CTE ") {
        "InitPlan"
    } else if text.starts_with("SubPlan ") {
        "SubPlan"
    } else {
        return None;
    };
    // Detail lines have a `: `; headers never do.
    (!text.contains(": ")).then_some((relationship, text))
}

/// A node line to EXPLAIN's JSON keys, or `None` if it is not one.
pub(super) fn parse_node_line(line: &str) -> Option<Map<String, Value>> {
    let (desc, stats) = split_stats(line);
    let mut object = Map::new();
    describe(desc.trim(), &mut object)?;
    if stats.is_none() && !is_known_node_type(&object) {
        return None;
    }
    let Some(stats) = stats else {
        return Some(object);
    };
    let mut rest = stats;
    while let Some(open) = rest.find('(') {
        let close = rest[open..].find(')')? + open;
        let group = &rest[open + 1..close];
        if let Some(cost) = group.strip_prefix("cost=") {
            apply_cost(&mut object, cost)?;
        } else if let Some(actual) = group.strip_prefix("actual ") {
            apply_actual(&mut object, actual)?;
        } else if group == "never executed" {
            object.insert("Actual Rows".into(), 0.into());
            object.insert("Actual Loops".into(), 0.into());
        } else {
            return None;
        }
        rest = &rest[close + 1..];
    }
    rest.trim().is_empty().then_some(object)
}

/// Whether a node line carries `(cost=…)`, `(actual …)` or `(never executed)`.
pub(super) fn has_statistics(line: &str) -> bool {
    split_stats(line).1.is_some()
}

/// Splits `desc  (cost=…) (actual …)` at the first statistics group.
fn split_stats(line: &str) -> (&str, Option<&str>) {
    ["  (cost=", "  (actual ", "  (never executed)"]
        .iter()
        .filter_map(|marker| line.find(marker))
        .min()
        .map_or((line, None), |at| (&line[..at], Some(&line[at..])))
}

fn number(s: &str) -> Option<Value> {
    let x: f64 = s.trim().parse().ok()?;
    if !x.is_finite() {
        return None;
    }
    if x.fract() == 0.0 && x.abs() < 9.0e15 && !s.contains('.') {
        // Integers stay integers, as in JSON EXPLAIN.
        return Some(Value::Number(Number::from(x as i64)));
    }
    Number::from_f64(x).map(Value::Number)
}

/// `0.00..35.50 rows=2550 width=4`
fn apply_cost(object: &mut Map<String, Value>, cost: &str) -> Option<()> {
    let mut parts = cost.split_whitespace();
    let (startup, total) = parts.next()?.split_once("..")?;
    object.insert("Startup Cost".into(), number(startup)?);
    object.insert("Total Cost".into(), number(total)?);
    for part in parts {
        let (key, value) = part.split_once('=')?;
        let key = match key {
            "rows" => "Plan Rows",
            "width" => "Plan Width",
            _ => return None,
        };
        object.insert(key.into(), number(value)?);
    }
    Some(())
}

/// `time=0.010..0.011 rows=3 loops=1` or `rows=3 loops=1` (TIMING off).
pub(super) fn apply_actual(object: &mut Map<String, Value>, actual: &str) -> Option<()> {
    for part in actual.split_whitespace() {
        let (key, value) = part.split_once('=')?;
        match key {
            "time" => {
                let (startup, total) = value.split_once("..")?;
                object.insert("Actual Startup Time".into(), number(startup)?);
                object.insert("Actual Total Time".into(), number(total)?);
            }
            "rows" => {
                object.insert("Actual Rows".into(), number(value)?);
            }
            "loops" => {
                object.insert("Actual Loops".into(), number(value)?);
            }
            _ => return None,
        }
    }
    Some(())
}

const JOIN_TYPES: [&str; 7] = [
    "Left",
    "Right",
    "Full",
    "Semi",
    "Anti",
    "Right Semi",
    "Right Anti",
];

/// Node types that print no ` on …` part.
const PLAIN_NODE_TYPES: [&str; 22] = [
    "Result",
    "ProjectSet",
    "ModifyTable",
    "Append",
    "Merge Append",
    "Recursive Union",
    "BitmapAnd",
    "BitmapOr",
    "Nested Loop",
    "Merge Join",
    "Hash Join",
    "Materialize",
    "Memoize",
    "Sort",
    "Incremental Sort",
    "Group",
    "Aggregate",
    "WindowAgg",
    "Unique",
    "Gather",
    "Gather Merge",
    "Hash",
];

const SCAN_NODE_TYPES: [&str; 14] = [
    "Seq Scan",
    "Sample Scan",
    "Index Scan",
    "Index Only Scan",
    "Bitmap Index Scan",
    "Bitmap Heap Scan",
    "Tid Scan",
    "Tid Range Scan",
    "Subquery Scan",
    "Function Scan",
    "Table Function Scan",
    "Values Scan",
    "CTE Scan",
    "Named Tuplestore Scan",
];

fn is_known_node_type(object: &Map<String, Value>) -> bool {
    let Some(t) = object.get("Node Type").and_then(Value::as_str) else {
        return false;
    };
    PLAIN_NODE_TYPES.contains(&t)
        || SCAN_NODE_TYPES.contains(&t)
        || matches!(
            t,
            "WorkTable Scan" | "Foreign Scan" | "Custom Scan" | "SetOp" | "LockRows" | "Limit"
        )
}

/// The description part of a node line to `Node Type` and the keys it implies.
fn describe(desc: &str, object: &mut Map<String, Value>) -> Option<()> {
    if desc.is_empty() || desc.contains(": ") {
        return None;
    }
    let mut desc = desc;
    let mut parallel = false;
    if let Some(rest) = desc.strip_prefix("Parallel ") {
        parallel = true;
        desc = rest;
    }
    if let Some(rest) = desc.strip_prefix("Async ") {
        object.insert("Async Capable".into(), true.into());
        desc = rest;
    }
    object.insert("Node Type".into(), desc.into());
    object.insert("Parallel Aware".into(), parallel.into());

    // Aggregates: [Partial |Finalize ](Aggregate|GroupAggregate|HashAggregate|MixedAggregate)
    let (partial_mode, agg) = match desc.split_once(' ') {
        Some(("Partial", rest)) => ("Partial", rest),
        Some(("Finalize", rest)) => ("Finalize", rest),
        _ => ("Simple", desc),
    };
    let strategy = match agg {
        "Aggregate" => Some("Plain"),
        "GroupAggregate" => Some("Sorted"),
        "HashAggregate" => Some("Hashed"),
        "MixedAggregate" => Some("Mixed"),
        _ => None,
    };
    if let Some(strategy) = strategy {
        object.insert("Node Type".into(), "Aggregate".into());
        object.insert("Strategy".into(), strategy.into());
        object.insert("Partial Mode".into(), partial_mode.into());
        return Some(());
    }
    // SetOp: (SetOp|HashSetOp) (Intersect|Except)[ All]
    for (prefix, strategy) in [("HashSetOp ", "Hashed"), ("SetOp ", "Sorted")] {
        if let Some(command) = desc.strip_prefix(prefix) {
            object.insert("Node Type".into(), "SetOp".into());
            object.insert("Strategy".into(), strategy.into());
            object.insert("Command".into(), command.into());
            return Some(());
        }
    }
    // Joins: "Nested Loop[ <type> Join]", "Hash[ <type>] Join", "Merge[ <type>] Join".
    if let Some(join) = join_description(desc) {
        let (node_type, join_type) = join;
        object.insert("Node Type".into(), node_type.into());
        object.insert("Join Type".into(), join_type.into());
        return Some(());
    }
    // ModifyTable: "Insert on t", "Update on t", "Delete on t", "Merge on t".
    for operation in ["Insert", "Update", "Delete", "Merge"] {
        if let Some(target) = desc
            .strip_prefix(operation)
            .and_then(|r| r.strip_prefix(" on "))
        {
            object.insert("Node Type".into(), "ModifyTable".into());
            object.insert("Operation".into(), operation.into());
            relation_and_alias(target, object);
            return Some(());
        }
    }
    // Index scans: "Index [Only ]Scan[ Backward] using idx on rel [alias]".
    for node_type in ["Index Only Scan", "Index Scan"] {
        if let Some(rest) = desc.strip_prefix(node_type) {
            let (direction, rest) = match rest.strip_prefix(" Backward") {
                Some(r) => ("Backward", r),
                None => ("Forward", rest),
            };
            let rest = rest.strip_prefix(" using ")?;
            let (index, target) = split_on(rest)?;
            object.insert("Node Type".into(), node_type.into());
            object.insert("Scan Direction".into(), direction.into());
            object.insert("Index Name".into(), unquote(index).into());
            relation_and_alias(target, object);
            return Some(());
        }
    }
    if let Some(index) = desc.strip_prefix("Bitmap Index Scan on ") {
        object.insert("Node Type".into(), "Bitmap Index Scan".into());
        object.insert("Index Name".into(), unquote(index.trim()).into());
        return Some(());
    }
    // Custom Scan (Provider) [on rel]
    if let Some(rest) = desc.strip_prefix("Custom Scan (") {
        let (provider, rest) = rest.split_once(')')?;
        object.insert("Node Type".into(), "Custom Scan".into());
        object.insert("Custom Plan Provider".into(), provider.into());
        if let Some(target) = rest.strip_prefix(" on ") {
            relation_and_alias(target, object);
        }
        return Some(());
    }
    // "<Scan type> on <target>"
    if let Some((node_type, target)) = desc.split_once(" on ") {
        object.insert("Node Type".into(), node_type.into());
        match node_type {
            "CTE Scan" | "WorkTable Scan" => {
                let (name, alias) = name_and_alias(target);
                object.insert("CTE Name".into(), name.clone().into());
                object.insert("Alias".into(), alias.unwrap_or(name).into());
            }
            "Function Scan" => {
                let (name, alias) = name_and_alias(target);
                let function = name.rsplit_once('.').map_or(name.clone(), |(s, f)| {
                    object.insert("Schema".into(), unquote(s).into());
                    f.to_string()
                });
                object.insert("Function Name".into(), unquote(&function).into());
                object.insert("Alias".into(), alias.unwrap_or(function).into());
            }
            "Subquery Scan"
            | "Values Scan"
            | "Table Function Scan"
            | "Named Tuplestore Scan"
            | "Result" => {
                let (name, alias) = name_and_alias(target);
                object.insert("Alias".into(), alias.unwrap_or(name).into());
            }
            _ => relation_and_alias(target, object),
        }
        return Some(());
    }
    Some(())
}

fn join_description(desc: &str) -> Option<(&'static str, &str)> {
    if desc == "Nested Loop" {
        return Some(("Nested Loop", "Inner"));
    }
    if let Some(rest) = desc.strip_prefix("Nested Loop ") {
        let join_type = rest.strip_suffix(" Join")?;
        return JOIN_TYPES
            .contains(&join_type)
            .then_some(("Nested Loop", join_type));
    }
    for (prefix, node_type) in [("Hash ", "Hash Join"), ("Merge ", "Merge Join")] {
        if let Some(rest) = desc.strip_prefix(prefix) {
            if rest == "Join" {
                return Some((node_type, "Inner"));
            }
            let join_type = rest.strip_suffix(" Join")?;
            return JOIN_TYPES
                .contains(&join_type)
                .then_some((node_type, join_type));
        }
    }
    None
}

/// Splits `idx on rel alias` at ` on ` outside quotes.
fn split_on(s: &str) -> Option<(&str, &str)> {
    let mut in_quotes = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            ' ' if !in_quotes && s[i..].starts_with(" on ") => {
                return Some((&s[..i], &s[i + 4..]));
            }
            _ => {}
        }
    }
    None
}

/// Whitespace-separated words, double-quoted identifiers kept whole.
fn words(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let mut in_quotes = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                start.get_or_insert(i);
            }
            c if c.is_whitespace() && !in_quotes => {
                if let Some(st) = start.take() {
                    out.push(&s[st..i]);
                }
            }
            _ => {
                start.get_or_insert(i);
            }
        }
    }
    if let Some(st) = start {
        out.push(&s[st..]);
    }
    out
}

/// `"My Table"` → `My Table`, `a""b` → `a"b`.
fn unquote(s: &str) -> String {
    match s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) {
        Some(inner) => inner.replace("\"\"", "\""),
        None => s.to_string(),
    }
}

/// Splits `schema.name` at a dot outside quotes.
fn split_qualified(s: &str) -> (Option<&str>, &str) {
    let mut in_quotes = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => in_quotes = !in_quotes,
            '.' if !in_quotes => return (Some(&s[..i]), &s[i + 1..]),
            _ => {}
        }
    }
    (None, s)
}

fn name_and_alias(target: &str) -> (String, Option<String>) {
    let w = words(target);
    let name = w.first().map(|n| unquote(n)).unwrap_or_default();
    (name, w.get(1).map(|a| unquote(a)))
}

/// `[schema.]rel [alias]` → `Relation Name`, `Schema`, `Alias`.
fn relation_and_alias(target: &str, object: &mut Map<String, Value>) {
    let w = words(target);
    let Some(first) = w.first() else { return };
    let (schema, rel) = split_qualified(first);
    let rel = unquote(rel);
    if let Some(schema) = schema {
        object.insert("Schema".into(), unquote(schema).into());
    }
    object.insert("Relation Name".into(), rel.clone().into());
    let alias = w.get(1).map(|a| unquote(a)).unwrap_or(rel);
    object.insert("Alias".into(), alias.into());
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_node_lines() {
        let o = parse_node_line(
            "Index Only Scan Backward using \"My Idx\" on public.sale_order so  \
             (cost=0.29..8.31 rows=1 width=4) (actual time=0.010..0.011 rows=1.00 loops=3)",
        )
        .unwrap();
        assert_eq!(o["Node Type"], "Index Only Scan");
        assert_eq!(o["Index Name"], "My Idx");
        assert_eq!(o["Schema"], "public");
        assert_eq!(o["Relation Name"], "sale_order");
        assert_eq!(o["Alias"], "so");
        assert_eq!(o["Scan Direction"], "Backward");
        assert_eq!(o["Actual Loops"], 3);
        assert_eq!(o["Actual Rows"], 1.0);

        let o = parse_node_line(
            "Hash Right Anti Join  (cost=1.00..2.00 rows=1 width=8) (never executed)",
        )
        .unwrap();
        assert_eq!(o["Node Type"], "Hash Join");
        assert_eq!(o["Join Type"], "Right Anti");
        assert_eq!(o["Actual Loops"], 0);

        let o = parse_node_line(
            "Partial HashAggregate  (cost=1..2 rows=3 width=4) (actual rows=3 loops=1)",
        )
        .unwrap();
        assert_eq!(o["Strategy"], "Hashed");
        assert_eq!(o["Partial Mode"], "Partial");
        assert!(o.get("Actual Total Time").is_none());

        assert!(parse_node_line("Hello world, this is not a plan").is_none());
        assert!(parse_node_line("Filter: (a > 1)").is_none());
        assert!(parse_node_line("Seq Scan on t  (cost=x..y rows=1 width=4)").is_none());
    }
}
