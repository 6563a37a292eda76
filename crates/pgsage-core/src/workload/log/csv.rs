//! csvlog: one CSV record per entry (quoted fields may hold newlines), columns in
//! PostgreSQL's fixed order (23 up to 12, 24 on 13, 26 on 14+).

use std::borrow::Cow;

use memchr::{memchr, memchr2};

use super::assemble::{Assembler, Entry};
use super::prefix::timestamp_len;
use super::severity::Severity;

const LOG_TIME: usize = 0;
const USER: usize = 1;
const DATABASE: usize = 2;
const PID: usize = 3;
const CONNECTION_FROM: usize = 4;
const SESSION: usize = 5;
const SEVERITY: usize = 11;
const SQLSTATE: usize = 12;
const MESSAGE: usize = 13;
const DETAIL: usize = 14;
const CONTEXT: usize = 18;
const QUERY: usize = 19;
const APPLICATION: usize = 22;
/// Columns every supported version writes.
const MIN_FIELDS: usize = 23;
/// Columns kept (more are ignored).
const MAX_FIELDS: usize = 32;

/// Parses a chunk of whole csvlog records.
pub(super) fn parse(chunk: &str, asm: &mut Assembler) {
    let b = chunk.as_bytes();
    let mut pos = 0;
    let mut line_no = 1u64;
    let mut fields: Vec<Cow<'_, str>> = Vec::with_capacity(MAX_FIELDS);
    while pos < b.len() {
        if b[pos] == b'\n' || (b[pos] == b'\r' && b.get(pos + 1) == Some(&b'\n')) {
            pos += if b[pos] == b'\n' { 1 } else { 2 };
            line_no += 1;
            continue;
        }
        fields.clear();
        match record(chunk, pos, &mut fields) {
            Some((end, newlines)) if fields.len() >= MIN_FIELDS => {
                entry(&fields, asm);
                line_no += newlines;
                pos = end;
            }
            _ => {
                // Not a record: count this line and resynchronise on the next one.
                let end = memchr(b'\n', &b[pos..]).map_or(b.len(), |i| pos + i);
                asm.out.stats.unparsed(line_no, &chunk[pos..end]);
                line_no += 1;
                pos = end + 1;
            }
        }
    }
    asm.out.stats.lines += super::count_lines(b);
    asm.out.stats.bytes += b.len() as u64;
}

/// Reads one record starting at `pos`: its fields, the position after its newline and
/// the number of lines it spans. `None` for an unterminated quote or a stray byte after
/// a closing quote.
fn record<'a>(s: &'a str, mut pos: usize, out: &mut Vec<Cow<'a, str>>) -> Option<(usize, u64)> {
    let b = s.as_bytes();
    let mut lines = 1u64;
    loop {
        if out.len() >= MAX_FIELDS {
            return None;
        }
        if b.get(pos) == Some(&b'"') {
            let start = pos + 1;
            let mut i = start;
            let mut escaped = false;
            loop {
                let q = memchr(b'"', &b[i..])? + i;
                lines += memchr::memchr_iter(b'\n', &b[i..q]).count() as u64;
                if b.get(q + 1) == Some(&b'"') {
                    escaped = true;
                    i = q + 2;
                    continue;
                }
                let raw = &s[start..q];
                out.push(if escaped {
                    Cow::Owned(raw.replace("\"\"", "\""))
                } else {
                    Cow::Borrowed(raw)
                });
                pos = q + 1;
                break;
            }
        } else {
            let end = memchr2(b',', b'\n', &b[pos..]).map_or(b.len(), |i| pos + i);
            let raw = &s[pos..end];
            out.push(Cow::Borrowed(raw.strip_suffix('\r').unwrap_or(raw)));
            pos = end;
        }
        match b.get(pos) {
            Some(b',') => pos += 1,
            Some(b'\n') => return Some((pos + 1, lines)),
            Some(b'\r') if b.get(pos + 1) == Some(&b'\n') => return Some((pos + 2, lines)),
            None => return Some((pos, lines)),
            Some(_) => return None,
        }
    }
}

fn entry(f: &[Cow<'_, str>], asm: &mut Assembler) {
    let get = |i: usize| f.get(i).map(|c| c.as_ref()).filter(|v| !v.is_empty());
    let client = get(CONNECTION_FROM).map(|c| match c.rfind(':') {
        // `host:port`; `[local]` has no port.
        Some(i) if c[i + 1..].bytes().all(|d| d.is_ascii_digit()) => &c[..i],
        _ => c,
    });
    let e = Entry {
        time: get(LOG_TIME),
        user: get(USER),
        database: get(DATABASE),
        application: get(APPLICATION),
        client,
        pid: get(PID).and_then(|p| p.parse().ok()),
        session: get(SESSION),
        sqlstate: get(SQLSTATE),
        severity: get(SEVERITY).and_then(Severity::from_name),
        message: Cow::Borrowed(get(MESSAGE).unwrap_or("")),
        detail: get(DETAIL).map(Cow::Borrowed),
        context: get(CONTEXT).map(Cow::Borrowed),
        statement: get(QUERY).map(Cow::Borrowed),
    };
    asm.entry(e);
}

/// Whether `line` looks like the start of a csvlog record (a `log_time` then a comma):
/// where chunks may be cut.
pub(super) fn is_record_start(line: &[u8]) -> bool {
    timestamp_len(line, true).is_some_and(|n| line.get(n) == Some(&b','))
}
