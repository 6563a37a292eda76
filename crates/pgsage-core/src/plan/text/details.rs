//! A node's detail lines (`Filter: …`, `Buffers: shared hit=…`, `Sort Method: …`) to
//! the keys JSON EXPLAIN uses for the same facts.

use serde_json::{Map, Number, Value};

use super::Line;
use crate::plan::PlanError;

/// `Worker 0:  actual time=… rows=… loops=…` → (0, the rest).
pub(super) fn worker_line(text: &str) -> Option<(u64, &str)> {
    let rest = text.strip_prefix("Worker ")?;
    let (number, rest) = rest.split_once(':')?;
    let number = number.trim().parse().ok()?;
    Some((number, rest.trim()))
}

/// Details whose value is a comma-separated list in JSON.
const LIST_KEYS: [&str; 6] = [
    "Output",
    "Sort Key",
    "Presorted Key",
    "Group Key",
    "Hash Key",
    "Conflict Arbiter Indexes",
];

/// Details whose value is a number in JSON.
const NUMBER_KEYS: [&str; 11] = [
    "Rows Removed by Filter",
    "Rows Removed by Join Filter",
    "Rows Removed by Index Recheck",
    "Heap Fetches",
    "Workers Planned",
    "Workers Launched",
    "Planned Partitions",
    "Index Searches",
    "Tuples Inserted",
    "Conflicting Tuples",
    "Query Identifier",
];

/// Applies one detail line to `object` (a node or a worker).
pub(super) fn apply(
    object: &mut Map<String, Value>,
    line: Line<'_>,
    text: &str,
) -> Result<(), PlanError> {
    let bad = |what: &str| PlanError::text(line.number, format!("cannot read {what}: `{text}`"));
    let Some((key, value)) = text.split_once(':') else {
        // A line without a key: keep it rather than lose it.
        append_extra(object, "Text", text);
        return Ok(());
    };
    let value = value.trim();
    match key {
        "Buffers" => buffers(object, value).ok_or_else(|| bad("the buffers"))?,
        "I/O Timings" => io_timings(object, value).ok_or_else(|| bad("the I/O timings"))?,
        "WAL" => wal(object, value).ok_or_else(|| bad("the WAL usage"))?,
        "Heap Blocks" => heap_blocks(object, value).ok_or_else(|| bad("the heap blocks"))?,
        "Sort Method" => sort_method(object, value).ok_or_else(|| bad("the sort method"))?,
        "Buckets" => hash(object, value).ok_or_else(|| bad("the hash figures"))?,
        "Batches" => hash_agg(object, value).ok_or_else(|| bad("the hash aggregate figures"))?,
        "Hits" => memoize(object, text).ok_or_else(|| bad("the cache figures"))?,
        "Disabled" => {
            object.insert(key.into(), (value == "true").into());
        }
        _ if LIST_KEYS.contains(&key) => {
            let items: Vec<Value> = split_list(value).into_iter().map(Value::from).collect();
            object.insert(key.into(), Value::Array(items));
        }
        _ if NUMBER_KEYS.contains(&key) => {
            // `Planned Partitions: 4  Batches: 5  Memory Usage: …`: more fields follow.
            let (first, more) = match value.split_once("  ") {
                Some((first, more)) => (first, Some(more.trim())),
                None => (value, None),
            };
            object.insert(key.into(), number(first).ok_or_else(|| bad("the number"))?);
            if let Some(more) = more {
                apply(object, line, more)?;
            }
        }
        _ => {
            object.insert(key.into(), value.into());
        }
    }
    Ok(())
}

fn append_extra(object: &mut Map<String, Value>, key: &str, text: &str) {
    match object.get_mut(key) {
        Some(Value::Array(items)) => items.push(text.into()),
        _ => {
            object.insert(key.into(), Value::Array(vec![text.into()]));
        }
    }
}

fn number(s: &str) -> Option<Value> {
    let s = s.trim();
    let x: f64 = s.parse().ok()?;
    if !x.is_finite() {
        return None;
    }
    if !s.contains(['.', 'e', 'E']) {
        if let Ok(i) = s.parse::<u64>() {
            return Some(Value::Number(Number::from(i)));
        }
        if let Ok(i) = s.parse::<i64>() {
            return Some(Value::Number(Number::from(i)));
        }
    }
    Number::from_f64(x).map(Value::Number)
}

/// `25kB` → 25.
fn kilobytes(s: &str) -> Option<Value> {
    number(s.trim().strip_suffix("kB")?)
}

/// Splits at commas outside parentheses, brackets and quotes.
fn split_list(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut current = String::new();
    for c in s.chars() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
            }
            None => match c {
                '\'' | '"' => quote = Some(c),
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                ',' if depth == 0 => {
                    out.push(current.trim().to_string());
                    current.clear();
                    continue;
                }
                _ => {}
            },
        }
        current.push(c);
    }
    if !current.trim().is_empty() {
        out.push(current.trim().to_string());
    }
    out
}

/// `shared hit=1 read=2 dirtied=3 written=4, local hit=…, temp read=1 written=2`
fn buffers(object: &mut Map<String, Value>, value: &str) -> Option<()> {
    for kind in ["Shared", "Local"] {
        for counter in ["Hit", "Read", "Dirtied", "Written"] {
            object.insert(format!("{kind} {counter} Blocks"), 0.into());
        }
    }
    object.insert("Temp Read Blocks".into(), 0.into());
    object.insert("Temp Written Blocks".into(), 0.into());
    for group in value.split(", ") {
        let mut parts = group.split_whitespace();
        let kind = match parts.next()? {
            "shared" => "Shared",
            "local" => "Local",
            "temp" => "Temp",
            _ => return None,
        };
        for part in parts {
            let (counter, n) = part.split_once('=')?;
            let counter = match counter {
                "hit" => "Hit",
                "read" => "Read",
                "dirtied" => "Dirtied",
                "written" => "Written",
                _ => return None,
            };
            object.insert(format!("{kind} {counter} Blocks"), number(n)?);
        }
    }
    Some(())
}

/// 16+: `shared read=0.1 write=0.2, local read=…, temp read=… write=…`;
/// 13–15: `read=0.1 write=0.2[, temp read=…]`, 15 also `shared/local read=…`.
fn io_timings(object: &mut Map<String, Value>, value: &str) -> Option<()> {
    for group in value.split(", ") {
        let mut parts: Vec<&str> = group.split_whitespace().collect();
        let kind = match parts.first().copied() {
            Some("shared") | Some("shared/local") => {
                parts.remove(0);
                "Shared"
            }
            Some("local") => {
                parts.remove(0);
                "Local"
            }
            Some("temp") => {
                parts.remove(0);
                "Temp"
            }
            _ => "Shared",
        };
        for part in parts {
            let (what, ms) = part.split_once('=')?;
            let what = match what {
                "read" => "Read",
                "write" => "Write",
                _ => return None,
            };
            object.insert(format!("{kind} I/O {what} Time"), number(ms)?);
        }
    }
    Some(())
}

/// `records=1 fpi=0 bytes=100 buffers full=0`
fn wal(object: &mut Map<String, Value>, value: &str) -> Option<()> {
    for key in ["WAL Records", "WAL FPI", "WAL Bytes"] {
        object.insert(key.into(), 0.into());
    }
    let value = value.replace("buffers full=", "buffers_full=");
    for part in value.split_whitespace() {
        let (key, n) = part.split_once('=')?;
        let key = match key {
            "records" => "WAL Records",
            "fpi" => "WAL FPI",
            "bytes" => "WAL Bytes",
            "buffers_full" => "WAL Buffers Full",
            _ => return None,
        };
        object.insert(key.into(), number(n)?);
    }
    Some(())
}

/// `exact=12 lossy=100`
fn heap_blocks(object: &mut Map<String, Value>, value: &str) -> Option<()> {
    object.insert("Exact Heap Blocks".into(), 0.into());
    object.insert("Lossy Heap Blocks".into(), 0.into());
    for part in value.split_whitespace() {
        let (key, n) = part.split_once('=')?;
        let key = match key {
            "exact" => "Exact Heap Blocks",
            "lossy" => "Lossy Heap Blocks",
            _ => return None,
        };
        object.insert(key.into(), number(n)?);
    }
    Some(())
}

/// The `Key: value` fields of a line such as `quicksort  Memory: 25kB` (the first
/// field's value comes first, without its key).
fn fields(value: &str) -> (&str, Vec<(&str, &str)>) {
    let mut parts = value.split("  ").map(str::trim).filter(|p| !p.is_empty());
    let first = parts.next().unwrap_or("");
    let rest = parts
        .filter_map(|p| p.split_once(':').map(|(k, v)| (k.trim(), v.trim())))
        .collect();
    (first, rest)
}

/// `quicksort  Memory: 25kB` / `external merge  Disk: 1234kB`
fn sort_method(object: &mut Map<String, Value>, value: &str) -> Option<()> {
    let (method, rest) = fields(value);
    object.insert("Sort Method".into(), method.into());
    for (key, v) in rest {
        if key == "Memory" || key == "Disk" {
            object.insert("Sort Space Used".into(), kilobytes(v)?);
            object.insert("Sort Space Type".into(), key.into());
        }
    }
    Some(())
}

/// `N (originally M)` → (N, M); `N` → (N, N).
fn with_original(v: &str) -> Option<(Value, Value)> {
    match v.split_once(" (originally ") {
        Some((now, was)) => Some((number(now)?, number(was.strip_suffix(')')?)?)),
        None => {
            let n = number(v)?;
            Some((n.clone(), n))
        }
    }
}

/// `1024 (originally 512)  Batches: 4 (originally 1)  Memory Usage: 9kB`
fn hash(object: &mut Map<String, Value>, value: &str) -> Option<()> {
    let (buckets, rest) = fields(value);
    let (now, was) = with_original(buckets)?;
    object.insert("Hash Buckets".into(), now);
    object.insert("Original Hash Buckets".into(), was);
    for (key, v) in rest {
        match key {
            "Batches" => {
                let (now, was) = with_original(v)?;
                object.insert("Hash Batches".into(), now);
                object.insert("Original Hash Batches".into(), was);
            }
            "Memory Usage" => {
                object.insert("Peak Memory Usage".into(), kilobytes(v)?);
            }
            _ => {
                object.insert(key.into(), v.into());
            }
        }
    }
    Some(())
}

/// Hashed aggregate (13+): `5  Memory Usage: 4145kB  Disk Usage: 4048kB`
fn hash_agg(object: &mut Map<String, Value>, value: &str) -> Option<()> {
    let (batches, rest) = fields(value);
    object.insert("HashAgg Batches".into(), number(batches)?);
    for (key, v) in rest {
        match key {
            "Memory Usage" => {
                object.insert("Peak Memory Usage".into(), kilobytes(v)?);
            }
            "Disk Usage" => {
                object.insert("Disk Usage".into(), kilobytes(v)?);
            }
            _ => {
                object.insert(key.into(), v.into());
            }
        }
    }
    Some(())
}

/// Memoize: `Hits: 1  Misses: 2  Evictions: 0  Overflows: 0  Memory Usage: 1kB`
fn memoize(object: &mut Map<String, Value>, text: &str) -> Option<()> {
    for part in text.split("  ").map(str::trim).filter(|p| !p.is_empty()) {
        let (key, v) = part.split_once(':')?;
        let v = v.trim();
        match key {
            "Hits" | "Misses" | "Evictions" | "Overflows" => {
                object.insert(format!("Cache {key}"), number(v)?);
            }
            "Memory Usage" => {
                object.insert("Peak Memory Usage".into(), kilobytes(v)?);
            }
            _ => {
                object.insert(key.into(), v.into());
            }
        }
    }
    Some(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn line(text: &str) -> Line<'_> {
        Line {
            number: 1,
            indent: 0,
            text,
        }
    }

    fn apply_all(lines: &[&str]) -> Map<String, Value> {
        let mut o = Map::new();
        for l in lines {
            apply(&mut o, line(l), l).unwrap();
        }
        o
    }

    #[test]
    fn reads_detail_lines() {
        let o = apply_all(&[
            "Buffers: shared hit=10 read=2 dirtied=1, temp read=5 written=7",
            "I/O Timings: shared read=0.123, temp read=0.5 write=0.25",
            "Sort Method: external merge  Disk: 1184kB",
            "Buckets: 65536 (originally 1024)  Batches: 4 (originally 1)  Memory Usage: 3585kB",
            "Heap Blocks: exact=12 lossy=100",
            "Sort Key: (lower(name)), id DESC",
            "Rows Removed by Filter: 9000",
            "WAL: records=40 fpi=3 bytes=5120",
        ]);
        assert_eq!(o["Shared Hit Blocks"], 10);
        assert_eq!(o["Shared Written Blocks"], 0);
        assert_eq!(o["Temp Written Blocks"], 7);
        assert_eq!(o["Shared I/O Read Time"], 0.123);
        assert_eq!(o["Temp I/O Write Time"], 0.25);
        assert_eq!(o["Sort Space Type"], "Disk");
        assert_eq!(o["Sort Space Used"], 1184);
        assert_eq!(o["Original Hash Buckets"], 1024);
        assert_eq!(o["Hash Batches"], 4);
        assert_eq!(o["Lossy Heap Blocks"], 100);
        assert_eq!(
            o["Sort Key"],
            serde_json::json!(["(lower(name))", "id DESC"])
        );
        assert_eq!(o["Rows Removed by Filter"], 9000);
        assert_eq!(o["WAL FPI"], 3);
    }

    #[test]
    fn refuses_garbled_figures() {
        let mut o = Map::new();
        let text = "Buffers: shared hit=lots";
        assert!(apply(&mut o, line(text), text).is_err());
    }
}
