//! The `EXPLAIN (FORMAT JSON)` parser.

use serde_json::{Map, Value};

use super::convert::{plan_from_object, tree_from_object};
use super::input::json_depth_exceeds;
use super::model::{Plan, PlanFormat};
use super::{PlanError, MAX_JSON_DEPTH};

/// Parses JSON EXPLAIN output already stripped of psql decorations: an array of plan
/// objects (what EXPLAIN prints), one plan object (`{"Plan": …}`, as auto_explain
/// logs it), or a bare node (`{"Node Type": …}`).
pub(crate) fn parse_json_plans(text: &str) -> Result<Vec<Plan>, PlanError> {
    if let Some(line) = json_depth_exceeds(text, MAX_JSON_DEPTH) {
        return Err(PlanError::TooDeep {
            limit: MAX_JSON_DEPTH,
            line: Some(line),
        });
    }
    let mut objects = Vec::new();
    let mut offset = 0;
    // One JSON document, or several one after the other (several EXPLAINs pasted);
    // anything after the last one that is not JSON (psql's `Time: 1.2 ms`) is ignored.
    loop {
        let rest = &text[offset..];
        let mut de = serde_json::Deserializer::from_str(rest);
        // The nesting is bounded above (MAX_JSON_DEPTH), so serde_json's own limit of
        // 128 levels (about 60 plan levels) is lifted.
        de.disable_recursion_limit();
        let mut stream = de.into_iter::<Value>();
        let value = match stream.next() {
            Some(Ok(value)) => value,
            Some(Err(e)) => return Err(json_error(e, &text[..offset])),
            None => break,
        };
        offset += stream.byte_offset();
        match value {
            Value::Array(items) => objects.extend(items),
            Value::Object(o) => objects.push(Value::Object(o)),
            other => {
                return Err(PlanError::shape(
                    "top level",
                    format!(
                        "expected an array of plans or a plan object, found {}",
                        kind(&other)
                    ),
                ))
            }
        }
        let after = text[offset..].trim_start();
        if !(after.starts_with('[') || after.starts_with('{')) {
            break;
        }
    }
    if objects.is_empty() {
        return Err(PlanError::shape("top level", "an empty array: no plan"));
    }
    objects
        .into_iter()
        .enumerate()
        .map(|(i, object)| match object {
            Value::Object(o) => plan_from_value(o, i),
            other => Err(PlanError::shape(
                format!("plan {}", i + 1),
                format!("expected an object, found {}", kind(&other)),
            )),
        })
        .collect()
}

fn plan_from_value(object: Map<String, Value>, index: usize) -> Result<Plan, PlanError> {
    if object.contains_key("Plan") {
        plan_from_object(object, index, PlanFormat::Json)
    } else if object.contains_key("Node Type") {
        let root = tree_from_object(object, index)?;
        Ok(Plan::from_root(root, PlanFormat::Json))
    } else {
        Err(PlanError::shape(
            format!("plan {}", index + 1),
            "neither a \"Plan\" nor a \"Node Type\" key: not EXPLAIN output",
        ))
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `before` is the input before the document that failed, to count lines from the start.
fn json_error(e: serde_json::Error, before: &str) -> PlanError {
    // serde_json's message ends with " at line L column C", which PlanError says itself.
    let mut message = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    if message.ends_with(&suffix) {
        message.truncate(message.len() - suffix.len());
    }
    let lines_before = before.matches('\n').count();
    let column = if e.line() == 1 {
        e.column() + before.len() - before.rfind('\n').map_or(0, |i| i + 1)
    } else {
        e.column()
    };
    PlanError::Json {
        line: lines_before + e.line(),
        column,
        message,
    }
}
