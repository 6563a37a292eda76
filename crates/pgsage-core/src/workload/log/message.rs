//! The text of a `LOG` message: what it reports (a timed statement, a temp file, a
//! checkpoint, …). Shared by the stderr, csvlog and jsonlog readers.

use std::borrow::Cow;

/// What a `LOG` message says.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Message<'a> {
    /// `duration: 1.5 ms  …` with what was timed.
    Timed(f64, Timed<'a>),
    /// `duration: 1.5 ms` alone (log_duration).
    Duration(f64),
    /// `statement: …` (log_statement, simple protocol).
    Statement(&'a str),
    /// `execute <name>: …` (log_statement, extended protocol).
    Execute(&'a str),
    /// `temporary file: path "…", size N`.
    TempFile(u64),
    Checkpoint,
    Autovacuum,
    Connection,
    Disconnection,
    LockWait,
    Other,
}

/// What a `duration: … ms  …` message timed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Timed<'a> {
    Statement(&'a str),
    Execute(&'a str),
    ParseOrBind(&'a str),
    /// auto_explain: the text after `plan:\n`.
    Plan(&'a str),
    /// Something else (`fastpath function call`, …).
    Other,
}

pub(super) fn classify(msg: &str) -> Message<'_> {
    if let Some(rest) = msg.strip_prefix("duration: ") {
        let Some(sp) = rest.find(" ms") else {
            return Message::Other;
        };
        let Ok(ms) = rest[..sp].parse::<f64>() else {
            return Message::Other;
        };
        let after = &rest[sp + 3..];
        if after.trim_end().is_empty() {
            return Message::Duration(ms);
        }
        let Some(what) = after.strip_prefix("  ") else {
            return Message::Other;
        };
        let timed = if let Some(q) = what.strip_prefix("statement: ") {
            Timed::Statement(q)
        } else if let Some(q) = what.strip_prefix("execute ").and_then(after_name) {
            Timed::Execute(q)
        } else if let Some(q) = what
            .strip_prefix("parse ")
            .or_else(|| what.strip_prefix("bind "))
            .and_then(after_name)
        {
            Timed::ParseOrBind(q)
        } else if let Some(p) = what.strip_prefix("plan:") {
            Timed::Plan(p.strip_prefix('\n').unwrap_or(p))
        } else {
            Timed::Other
        };
        return Message::Timed(ms, timed);
    }
    if let Some(q) = msg.strip_prefix("statement: ") {
        return Message::Statement(q);
    }
    if let Some(q) = msg.strip_prefix("execute ").and_then(after_name) {
        return Message::Execute(q);
    }
    if let Some(rest) = msg.strip_prefix("temporary file: ") {
        let size = rest
            .rfind(", size ")
            .and_then(|i| rest[i + 7..].trim_end().parse::<u64>().ok())
            .unwrap_or(0);
        return Message::TempFile(size);
    }
    if msg.starts_with("checkpoint ") || msg.starts_with("restartpoint ") {
        return Message::Checkpoint;
    }
    if msg.starts_with("automatic ") {
        return Message::Autovacuum;
    }
    if msg.starts_with("connection ") || msg.starts_with("replication connection ") {
        return Message::Connection;
    }
    if msg.starts_with("disconnection: ") {
        return Message::Disconnection;
    }
    if msg.starts_with("process ")
        && (msg.contains(" still waiting for ") || msg.contains(" acquired "))
    {
        return Message::LockWait;
    }
    Message::Other
}

/// `<unnamed>: SELECT …` / `S_1/C_2: …` / `fetch from <unnamed>/C_1: …` → the query.
fn after_name(s: &str) -> Option<&str> {
    let i = s.find(": ")?;
    Some(&s[i + 2..])
}

/// `parameters: $1 = '5', $2 = NULL` → `['5'`, `NULL]` (SQL literals as logged).
/// `None` when the detail is not a parameter list.
pub(super) fn parameters(detail: &str) -> Option<Vec<String>> {
    // "parameters:" up to 16, "Parameters:" from 17.
    let d = detail.trim_start();
    let mut rest = d
        .strip_prefix("parameters: ")
        .or_else(|| d.strip_prefix("Parameters: "))?;
    let mut out = Vec::new();
    loop {
        let r = rest.strip_prefix('$')?;
        let eq = r.find(" = ")?;
        let v = &r[eq + 3..];
        let len = if v.starts_with('\'') {
            literal_len(v)?
        } else {
            v.find(", $").unwrap_or(v.len())
        };
        out.push(v[..len].to_string());
        rest = &v[len..];
        match rest.strip_prefix(", ") {
            Some(r) => rest = r,
            None => return Some(out),
        }
    }
}

/// Length of a quoted literal `'…'` with `''` escapes; an unterminated one runs to
/// the end.
fn literal_len(v: &str) -> Option<usize> {
    let b = v.as_bytes();
    let mut i = 1;
    while i < b.len() {
        if b[i] == b'\'' {
            if b.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        i += 1;
    }
    Some(b.len())
}

/// The query an auto_explain plan explains: `"Query Text"` in JSON, the `Query Text:`
/// lines in text format (up to the first plan line).
pub(super) fn explain_query(plan: &str) -> Option<Cow<'_, str>> {
    let t = plan.trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        #[derive(serde::Deserialize)]
        struct Top<'a> {
            #[serde(rename = "Query Text", borrow)]
            query: Option<Cow<'a, str>>,
        }
        let top: Top<'_> = serde_json::from_str(t).ok()?;
        return top.query;
    }
    let body = t.strip_prefix("Query Text: ")?;
    let mut end = body.len();
    let mut at = 0;
    for line in body.split_inclusive('\n') {
        if at > 0 && is_plan_line(line) {
            end = at;
            break;
        }
        at += line.len();
    }
    Some(Cow::Borrowed(body[..end].trim_end_matches(['\n', '\r'])))
}

fn is_plan_line(line: &str) -> bool {
    line.contains("  (cost=")
        || line.contains("  (actual ")
        || line.contains("(never executed)")
        || line.starts_with("Query Parameters: ")
        || line.starts_with("Query Identifier: ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies() {
        assert_eq!(
            classify("duration: 12.345 ms  statement: SELECT 1"),
            Message::Timed(12.345, Timed::Statement("SELECT 1"))
        );
        assert_eq!(
            classify("duration: 0.1 ms  execute <unnamed>/C_1: SELECT $1"),
            Message::Timed(0.1, Timed::Execute("SELECT $1"))
        );
        assert_eq!(
            classify("duration: 0.1 ms  bind s0: SELECT $1"),
            Message::Timed(0.1, Timed::ParseOrBind("SELECT $1"))
        );
        assert_eq!(classify("duration: 2.000 ms"), Message::Duration(2.0));
        assert_eq!(
            classify("execute S_1: SELECT 1"),
            Message::Execute("SELECT 1")
        );
        assert_eq!(
            classify("temporary file: path \"base/pgsql_tmp/pgsql_tmp1.0\", size 1400000"),
            Message::TempFile(1_400_000)
        );
    }

    #[test]
    fn parameters_parse() {
        assert_eq!(
            parameters("parameters: $1 = 'it''s, $2 = x', $2 = NULL, $3 = '5'"),
            Some(vec!["'it''s, $2 = x'".into(), "NULL".into(), "'5'".into()])
        );
        assert_eq!(parameters("prepare: PREPARE x AS SELECT 1"), None);
    }

    #[test]
    fn explain_queries() {
        let text =
            "Query Text: SELECT a\n  FROM t\nSeq Scan on t  (cost=0.00..1.00 rows=1 width=4)";
        assert_eq!(explain_query(text).as_deref(), Some("SELECT a\n  FROM t"));
        let json = "{\n  \"Query Text\": \"SELECT 1\",\n  \"Plan\": {}\n}";
        assert_eq!(explain_query(json).as_deref(), Some("SELECT 1"));
    }
}
