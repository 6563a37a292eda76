//! The text-format EXPLAIN parser.
//!
//! The tree comes from indentation: a node line is the first line or a line starting
//! with `->`; a node's children and detail lines are indented further than the column
//! where its description starts. `InitPlan …`, `SubPlan …` and `CTE …` header lines label
//! the node that follows them. Lines back at the root's indentation start the summary
//! (`Planning Time`, `Triggers`, `JIT`, `Settings`, `Execution Time`).
//!
//! Each node becomes the JSON object EXPLAIN's JSON format would have printed (same key
//! names), so that both formats go through the same conversion to [`PlanNode`](super::PlanNode).

mod details;
mod header;
mod summary;

use serde_json::{Map, Value};

use super::convert::plan_from_object;
use super::model::{Plan, PlanFormat};
use super::{PlanError, MAX_PLAN_DEPTH};

/// One non-blank input line.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    /// 1-based line number.
    pub(crate) number: usize,
    /// Leading spaces.
    pub(crate) indent: usize,
    /// The line without surrounding whitespace.
    pub(crate) text: &'a str,
}

/// A node being built: EXPLAIN's JSON keys, children, and where its text starts.
struct OpenNode {
    object: Map<String, Value>,
    children: Vec<Value>,
    /// Column of the node description; deeper lines belong to this node.
    text_column: usize,
    /// `Worker N:` blocks, in order.
    workers: Vec<Map<String, Value>>,
    /// Open `Worker N:` block: its column and index in `workers`.
    worker: Option<(usize, usize)>,
}

/// A pending `InitPlan 1 (returns $0)` / `SubPlan 1` / `CTE name` header.
struct SubplanHeader {
    column: usize,
    relationship: &'static str,
    name: String,
}

pub(crate) fn parse_text_plans(text: &str) -> Result<Vec<Plan>, PlanError> {
    let lines: Vec<Line<'_>> = text
        .lines()
        .enumerate()
        .filter_map(|(i, raw)| {
            let trimmed = raw.trim();
            (!trimmed.is_empty()).then(|| Line {
                number: i + 1,
                indent: raw.len() - raw.trim_start().len(),
                text: trimmed,
            })
        })
        .collect();
    if lines.is_empty() {
        return Err(PlanError::Empty);
    }
    // Leading lines that are not a plan (a psql prompt with the EXPLAIN command) are
    // skipped up to the first node line with statistics; JSON after them goes to the
    // JSON parser.
    let start = lines
        .iter()
        .position(|l| header::parse_node_line(l.text).is_some() && header::has_statistics(l.text));
    let json_start = lines.iter().position(|l| looks_like_json_start(l.text));
    let lines = match (start, json_start) {
        (Some(0), _) | (None, None) => &lines[..],
        (Some(s), None) => &lines[s..],
        (Some(s), Some(j)) if s < j => &lines[s..],
        (_, Some(j)) => {
            // Keep the line numbers: blank out what precedes the JSON.
            let from = text
                .split_inclusive('\n')
                .take(lines[j].number - 1)
                .map(str::len)
                .sum::<usize>();
            let blanked = "\n".repeat(lines[j].number - 1) + &text[from..];
            return super::json::parse_json_plans(&blanked);
        }
    };
    let first = &lines[0];
    if header::parse_node_line(first.text).is_none() {
        return Err(PlanError::text(
            first.number,
            format!(
                "not EXPLAIN output: a plan starts with a node line such as \
                 `Seq Scan on t  (cost=0.00..35.50 rows=2550 width=4)`, found `{}`",
                shorten(first.text)
            ),
        ));
    }
    let mut plans = Vec::new();
    let mut rest = lines;
    while !rest.is_empty() {
        let (plan, used) = parse_one(rest, plans.len())?;
        plans.push(plan);
        rest = &rest[used..];
        if let Some(next) = rest.first() {
            if header::parse_node_line(next.text).is_none() {
                return Err(PlanError::text(
                    next.number,
                    format!(
                        "expected the start of another plan, found `{}`",
                        shorten(next.text)
                    ),
                ));
            }
        }
    }
    Ok(plans)
}

/// How EXPLAIN's JSON starts: `[` alone (EXPLAIN), `{` alone, `[{` or `{"` (compact, or
/// auto_explain's `{"Query Text": …`).
fn looks_like_json_start(text: &str) -> bool {
    text == "[" || text == "{" || text.starts_with("[{") || text.starts_with("{\"")
}

fn shorten(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

/// Parses the plan starting at `lines[0]`; returns it and how many lines it used.
fn parse_one(lines: &[Line<'_>], index: usize) -> Result<(Plan, usize), PlanError> {
    let root_line = lines[0];
    let root_indent = root_line.indent;
    let mut stack: Vec<OpenNode> = vec![open_node(root_line, root_line.text, root_indent)?];
    let mut pending: Option<SubplanHeader> = None;
    let mut used = 1;
    while let Some(line) = lines.get(used) {
        if line.indent <= root_indent {
            break;
        }
        used += 1;
        let column = line.indent;
        if let Some(desc) = line.text.strip_prefix("->") {
            pop_to(&mut stack, column);
            let text_column = column + 2 + (desc.len() - desc.trim_start().len());
            let mut node = open_node(*line, desc.trim_start(), text_column)?;
            if let Some(h) = pending.take() {
                if h.column < column {
                    node.object
                        .insert("Parent Relationship".into(), h.relationship.into());
                    node.object.insert("Subplan Name".into(), h.name.into());
                }
            }
            if stack.len() >= MAX_PLAN_DEPTH {
                return Err(PlanError::TooDeep {
                    limit: MAX_PLAN_DEPTH,
                    line: Some(line.number),
                });
            }
            stack.push(node);
            continue;
        }
        if let Some((relationship, name)) = header::subplan_header(line.text) {
            pop_to(&mut stack, column);
            pending = Some(SubplanHeader {
                column,
                relationship,
                name: name.to_string(),
            });
            continue;
        }
        pop_to(&mut stack, column);
        let Some(top) = stack.last_mut() else {
            return Err(PlanError::text(line.number, "detail line outside any node"));
        };
        if let Some(rest) = details::worker_line(line.text) {
            let (number, rest) = rest;
            let mut worker = Map::new();
            worker.insert("Worker Number".into(), number.into());
            top.workers.push(worker);
            let slot = top.workers.len() - 1;
            top.worker = Some((column, slot));
            if !rest.is_empty() {
                apply_worker_detail(top, slot, *line, rest)?;
            }
            continue;
        }
        match top.worker {
            Some((worker_column, slot)) if column > worker_column => {
                apply_worker_detail(top, slot, *line, line.text)?;
            }
            _ => {
                top.worker = None;
                details::apply(&mut top.object, *line, line.text)?;
            }
        }
    }
    // Close every open node.
    while stack.len() > 1 {
        close_top(&mut stack);
    }
    let Some(root) = stack.pop() else {
        return Err(PlanError::text(root_line.number, "internal: no root"));
    };
    let root = finish(root);
    // The summary: lines back at the root's indentation, until the next plan.
    let mut object = Map::new();
    object.insert("Plan".into(), root);
    let summary_used = summary::parse(&lines[used..], root_indent, &mut object)?;
    let plan = plan_from_object(object, index, PlanFormat::Text)?;
    Ok((plan, used + summary_used))
}

fn open_node(line: Line<'_>, desc: &str, text_column: usize) -> Result<OpenNode, PlanError> {
    let object = header::parse_node_line(desc).ok_or_else(|| {
        PlanError::text(
            line.number,
            format!("cannot read the node line `{}`", shorten(desc)),
        )
    })?;
    Ok(OpenNode {
        object,
        children: Vec::new(),
        text_column,
        workers: Vec::new(),
        worker: None,
    })
}

fn apply_worker_detail(
    node: &mut OpenNode,
    slot: usize,
    line: Line<'_>,
    text: &str,
) -> Result<(), PlanError> {
    let Some(worker) = node.workers.get_mut(slot) else {
        return Err(PlanError::text(line.number, "internal: no such worker"));
    };
    if let Some(stats) = text.strip_prefix("actual ") {
        header::apply_actual(worker, stats)
            .ok_or_else(|| PlanError::text(line.number, "cannot read the worker's times"))
    } else {
        details::apply(worker, line, text)
    }
}

/// Closes nodes until the top one's description starts left of `column`.
fn pop_to(stack: &mut Vec<OpenNode>, column: usize) {
    while stack.len() > 1 && stack.last().is_some_and(|n| n.text_column >= column) {
        close_top(stack);
    }
}

fn close_top(stack: &mut Vec<OpenNode>) {
    if let Some(node) = stack.pop() {
        let value = finish(node);
        if let Some(parent) = stack.last_mut() {
            parent.children.push(value);
        }
    }
}

/// The node as JSON, with `Parent Relationship` filled in the way JSON EXPLAIN does for
/// children that had no `InitPlan`/`SubPlan`/`CTE` header.
fn finish(node: OpenNode) -> Value {
    let OpenNode {
        mut object,
        mut children,
        workers,
        ..
    } = node;
    if !workers.is_empty() {
        object.insert(
            "Workers".into(),
            Value::Array(workers.into_iter().map(Value::Object).collect()),
        );
    }
    let node_type = object
        .get("Node Type")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let mut ordinal = 0;
    for child in &mut children {
        if let Value::Object(c) = child {
            if c.contains_key("Parent Relationship") {
                continue;
            }
            let relationship = match node_type.as_str() {
                "Append" | "Merge Append" | "BitmapAnd" | "BitmapOr" => "Member",
                "Subquery Scan" => "Subquery",
                _ if ordinal == 0 => "Outer",
                _ => "Inner",
            };
            ordinal += 1;
            c.insert("Parent Relationship".into(), relationship.into());
        }
    }
    if !children.is_empty() {
        object.insert("Plans".into(), Value::Array(children));
    }
    Value::Object(object)
}
