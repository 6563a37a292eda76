//! The lines after the node tree: `Planning:` buffers, `Planning Time`, `Triggers`,
//! `JIT:`, `Settings:`, `Serialization:`, `Execution Time`.

use serde_json::{Map, Number, Value};

use super::{details, header, Line};
use crate::plan::PlanError;

/// Which multi-line section the indented lines belong to.
enum Section {
    None,
    Planning,
    Jit,
    Serialization,
}

/// Applies summary lines to the plan object; stops at the next plan's first line.
/// Returns how many lines it used.
pub(super) fn parse(
    lines: &[Line<'_>],
    root_indent: usize,
    plan: &mut Map<String, Value>,
) -> Result<usize, PlanError> {
    let mut section = Section::None;
    let mut used = 0;
    for line in lines {
        if line.indent <= root_indent && header::parse_node_line(line.text).is_some() {
            break;
        }
        used += 1;
        if line.indent > root_indent {
            match section {
                Section::Planning => {
                    section_object(plan, "Planning", |o| details::apply(o, *line, line.text))?
                }
                Section::Serialization => section_object(plan, "Serialization", |o| {
                    details::apply(o, *line, line.text)
                })?,
                Section::Jit => section_object(plan, "JIT", |o| jit_line(o, *line))?,
                Section::None => extra_line(plan, line.text),
            }
            continue;
        }
        section = Section::None;
        let text = line.text;
        let bad =
            |what: &str| PlanError::text(line.number, format!("cannot read {what}: `{text}`"));
        if text == "Planning:" {
            section = Section::Planning;
        } else if text == "JIT:" {
            section = Section::Jit;
        } else if let Some(ms) = text.strip_prefix("Planning Time:") {
            plan.insert(
                "Planning Time".into(),
                millis(ms).ok_or_else(|| bad("the time"))?,
            );
        } else if let Some(ms) = text.strip_prefix("Execution Time:") {
            plan.insert(
                "Execution Time".into(),
                millis(ms).ok_or_else(|| bad("the time"))?,
            );
        } else if let Some(rest) = text.strip_prefix("Trigger") {
            let trigger = trigger(rest).ok_or_else(|| bad("the trigger"))?;
            match plan.get_mut("Triggers") {
                Some(Value::Array(t)) => t.push(trigger),
                _ => {
                    plan.insert("Triggers".into(), Value::Array(vec![trigger]));
                }
            }
        } else if let Some(rest) = text.strip_prefix("Settings:") {
            plan.insert("Settings".into(), Value::Object(settings(rest.trim())));
        } else if let Some(rest) = text.strip_prefix("Serialization:") {
            section = Section::Serialization;
            let s = serialization(rest).ok_or_else(|| bad("the serialization"))?;
            plan.insert("Serialization".into(), Value::Object(s));
        } else if let Some(rest) = text.strip_prefix("Query Identifier:") {
            let id: i64 = rest
                .trim()
                .parse()
                .map_err(|_| bad("the query identifier"))?;
            plan.insert("Query Identifier".into(), id.into());
        } else {
            extra_line(plan, text);
        }
    }
    Ok(used)
}

fn section_object(
    plan: &mut Map<String, Value>,
    key: &str,
    f: impl FnOnce(&mut Map<String, Value>) -> Result<(), PlanError>,
) -> Result<(), PlanError> {
    let entry = plan.entry(key).or_insert_with(|| Value::Object(Map::new()));
    match entry {
        Value::Object(o) => f(o),
        _ => Ok(()),
    }
}

/// A summary line we have no key for: kept under `Other` in the plan's extra keys.
fn extra_line(plan: &mut Map<String, Value>, text: &str) {
    match plan.get_mut("Other") {
        Some(Value::Array(a)) => a.push(text.into()),
        _ => {
            plan.insert("Other".into(), Value::Array(vec![text.into()]));
        }
    }
}

fn float(s: &str) -> Option<Value> {
    let x: f64 = s.trim().parse().ok()?;
    Number::from_f64(x).map(Value::Number)
}

/// ` 0.123 ms`
fn millis(s: &str) -> Option<Value> {
    float(s.trim().strip_suffix("ms")?)
}

/// ` RI_ConstraintTrigger_a_1 for constraint fk on t: time=1.2 calls=3`,
/// ` for constraint fk: time=…`, ` trg on t: time=…`.
fn trigger(rest: &str) -> Option<Value> {
    let (head, figures) = rest.rsplit_once(": ")?;
    let mut t = Map::new();
    for part in figures.split_whitespace() {
        let (key, value) = part.split_once('=')?;
        match key {
            "time" => t.insert("Time".into(), float(value)?),
            "calls" => t.insert("Calls".into(), float(value)?),
            _ => return None,
        };
    }
    let head = head.trim();
    let (name, after) = match head.split_once("for constraint ") {
        Some((name, constraint)) => {
            let (constraint, relation) = match constraint.rsplit_once(" on ") {
                Some((c, r)) => (c, Some(r)),
                None => (constraint, None),
            };
            t.insert("Constraint Name".into(), constraint.trim().into());
            (name.trim(), relation)
        }
        None => match head.rsplit_once(" on ") {
            Some((n, r)) => (n.trim(), Some(r)),
            None => (head, None),
        },
    };
    if !name.is_empty() {
        t.insert("Trigger Name".into(), name.into());
    }
    if let Some(relation) = after {
        t.insert("Relation".into(), relation.trim().into());
    }
    Some(Value::Object(t))
}

/// `work_mem = '64kB', search_path = '"$user", public'`
fn settings(s: &str) -> Map<String, Value> {
    let mut out = Map::new();
    let mut rest = s;
    while let Some((name, after)) = rest.split_once(" = ") {
        let name = name.trim().trim_start_matches(',').trim();
        let after = after.trim_start();
        let Some(quoted) = after.strip_prefix('\'') else {
            break;
        };
        // Find the closing quote; '' is an escaped quote.
        let mut value = String::new();
        let mut chars = quoted.char_indices().peekable();
        let mut end = quoted.len();
        while let Some((i, c)) = chars.next() {
            if c == '\'' {
                if chars.peek().map(|&(_, n)| n) == Some('\'') {
                    value.push('\'');
                    chars.next();
                    continue;
                }
                end = i + 1;
                break;
            }
            value.push(c);
        }
        out.insert(name.to_string(), value.into());
        rest = &quoted[end.min(quoted.len())..];
    }
    out
}

/// `time=0.010 ms  output=1kB  format=text`
fn serialization(s: &str) -> Option<Map<String, Value>> {
    let mut out = Map::new();
    for part in s.split("  ").map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = part.split_once('=')?;
        match key {
            "time" => out.insert("Time".into(), millis(value)?),
            "output" => out.insert("Output Volume".into(), float(value.strip_suffix("kB")?)?),
            "format" => out.insert("Format".into(), value.into()),
            _ => return None,
        };
    }
    Some(out)
}

/// Lines of the `JIT:` section.
fn jit_line(jit: &mut Map<String, Value>, line: Line<'_>) -> Result<(), PlanError> {
    let text = line.text;
    let bad = || PlanError::text(line.number, format!("cannot read the JIT line `{text}`"));
    let Some((key, value)) = text.split_once(':') else {
        return Err(bad());
    };
    let value = value.trim();
    match key {
        "Functions" => {
            let n: u64 = value.parse().map_err(|_| bad())?;
            jit.insert("Functions".into(), n.into());
        }
        "Options" => {
            let mut options = Map::new();
            for part in value.split(", ") {
                let (name, on) = part.rsplit_once(' ').ok_or_else(bad)?;
                options.insert(name.into(), (on == "true").into());
            }
            jit.insert("Options".into(), Value::Object(options));
        }
        "Timing" => {
            // `Generation 1.2 ms (Deform 0.1 ms), Inlining 0.0 ms, …, Total 9.9 ms`
            let mut timing = Map::new();
            for part in value.split(", ") {
                let (name, rest) = part.split_once(' ').ok_or_else(bad)?;
                let (ms, deform) = match rest.split_once(" (Deform ") {
                    Some((ms, d)) => (ms, Some(d.trim_end_matches(')'))),
                    None => (rest, None),
                };
                let ms = millis(ms).ok_or_else(bad)?;
                match deform {
                    Some(d) => {
                        let mut g = Map::new();
                        g.insert("Deform".into(), millis(d).ok_or_else(bad)?);
                        g.insert("Total".into(), ms);
                        timing.insert(name.into(), Value::Object(g));
                    }
                    None => {
                        timing.insert(name.into(), ms);
                    }
                }
            }
            jit.insert("Timing".into(), Value::Object(timing));
        }
        _ => {
            jit.insert(key.into(), value.into());
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_triggers_and_settings() {
        let t =
            trigger(" for constraint sale_order_line_order_id_fkey: time=12.5 calls=40").unwrap();
        assert_eq!(t["Constraint Name"], "sale_order_line_order_id_fkey");
        assert_eq!(t["Calls"], 40.0);
        let t =
            trigger(" RI_ConstraintTrigger_a_1 for constraint fk on sale_order: time=1 calls=2")
                .unwrap();
        assert_eq!(t["Trigger Name"], "RI_ConstraintTrigger_a_1");
        assert_eq!(t["Relation"], "sale_order");
        let s = settings("work_mem = '64kB', search_path = '\"$user\", public', x = 'it''s'");
        assert_eq!(s["work_mem"], "64kB");
        assert_eq!(s["search_path"], "\"$user\", public");
        assert_eq!(s["x"], "it's");
    }
}
