//! jsonlog (PostgreSQL 15+): one JSON object per line.

use std::borrow::Cow;

use memchr::memchr;
use serde::Deserialize;

use super::assemble::{Assembler, Entry};
use super::severity::Severity;

/// The keys a sample needs; others are ignored.
#[derive(Deserialize)]
struct Line<'a> {
    #[serde(borrow, default)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    user: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    dbname: Option<Cow<'a, str>>,
    #[serde(default)]
    pid: Option<i64>,
    #[serde(borrow, default)]
    remote_host: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    session_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    error_severity: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    state_code: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    detail: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    context: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    statement: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    application_name: Option<Cow<'a, str>>,
}

/// Parses a chunk of whole jsonlog lines.
pub(super) fn parse(chunk: &str, asm: &mut Assembler) {
    let b = chunk.as_bytes();
    let mut pos = 0;
    let mut line_no = 0u64;
    while pos < b.len() {
        let end = memchr(b'\n', &b[pos..]).map_or(b.len(), |i| pos + i);
        let line = chunk[pos..end].trim_end_matches('\r');
        line_no += 1;
        pos = end + 1;
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Line<'_>>(line) {
            Ok(l) => asm.entry(Entry {
                time: l.timestamp.as_deref(),
                user: l.user.as_deref(),
                database: l.dbname.as_deref(),
                application: l.application_name.as_deref(),
                client: l.remote_host.as_deref(),
                pid: l.pid.and_then(|p| i32::try_from(p).ok()),
                session: l.session_id.as_deref(),
                sqlstate: l.state_code.as_deref(),
                severity: l.error_severity.as_deref().and_then(Severity::from_name),
                message: l.message.unwrap_or(Cow::Borrowed("")),
                detail: l.detail,
                context: l.context,
                statement: l.statement,
            }),
            Err(_) => asm.out.stats.unparsed(line_no, line),
        }
    }
    asm.out.stats.lines += super::count_lines(b);
    asm.out.stats.bytes += b.len() as u64;
}
