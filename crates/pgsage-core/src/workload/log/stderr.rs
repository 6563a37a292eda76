//! The stderr format: `log_line_prefix`, severity, message; continuation lines start
//! with a tab; `DETAIL:`/`STATEMENT:`/… lines with the same prefix belong to the
//! message before them.

use std::borrow::Cow;

use memchr::memchr;

use super::assemble::{Assembler, Entry};
use super::prefix::{LinePrefix, PrefixFields};
use super::severity::Severity;

/// One prefixed line and its continuation lines.
struct Piece<'a> {
    fields: PrefixFields<'a>,
    severity: Severity,
    /// The message part of the first line.
    first: &'a str,
    /// Byte range of the continuation lines in the chunk (empty when none).
    cont: (usize, usize),
}

impl<'a> Piece<'a> {
    fn text(&self, chunk: &'a str) -> Cow<'a, str> {
        if self.cont.0 == self.cont.1 {
            return Cow::Borrowed(self.first);
        }
        let mut s = String::with_capacity(self.first.len() + self.cont.1 - self.cont.0);
        s.push_str(self.first);
        for line in chunk[self.cont.0..self.cont.1].split('\n') {
            s.push('\n');
            let line = line.strip_suffix('\r').unwrap_or(line);
            s.push_str(line.strip_prefix('\t').unwrap_or(line));
        }
        Cow::Owned(s)
    }
}

/// Parses a chunk of whole stderr entries; `line_base` numbers its lines for examples.
pub(super) fn parse(chunk: &str, prefix: &LinePrefix, asm: &mut Assembler) {
    let bytes = chunk.as_bytes();
    let mut pos = 0;
    let mut line_no = 0u64;
    let mut piece: Option<Piece<'_>> = None;
    let mut entry: Option<Entry<'_>> = None;
    while pos < bytes.len() {
        let end = memchr(b'\n', &bytes[pos..]).map_or(bytes.len(), |i| pos + i);
        let raw = &chunk[pos..end];
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        line_no += 1;
        let start = pos;
        pos = end + 1;
        if line.starts_with('\t') {
            match piece.as_mut() {
                Some(p) => {
                    if p.cont.0 == p.cont.1 {
                        p.cont.0 = start;
                    }
                    p.cont.1 = end;
                }
                None => asm.out.stats.unparsed(line_no, line),
            }
            continue;
        }
        if let Some(p) = piece.take() {
            close(p, chunk, &mut entry, asm);
        }
        if line.is_empty() {
            continue;
        }
        match prefix.match_line(line) {
            Some(m) => {
                piece = Some(Piece {
                    fields: m.fields,
                    severity: m.severity,
                    first: &line[m.message_at..],
                    cont: (0, 0),
                });
            }
            None => asm.out.stats.unparsed(line_no, line),
        }
    }
    if let Some(p) = piece.take() {
        close(p, chunk, &mut entry, asm);
    }
    if let Some(e) = entry.take() {
        asm.entry(e);
    }
    asm.out.stats.lines += line_no;
    asm.out.stats.bytes += bytes.len() as u64;
}

fn close<'a>(p: Piece<'a>, chunk: &'a str, entry: &mut Option<Entry<'a>>, asm: &mut Assembler) {
    if p.severity.is_secondary() {
        match entry.as_mut() {
            Some(e) if e.pid == p.fields.pid => match p.severity {
                Severity::Detail => e.detail = Some(p.text(chunk)),
                Severity::Statement => e.statement = Some(p.text(chunk)),
                // Kept only where an incident may need it: no copy for the CONTEXT of
                // nested statements' durations.
                Severity::Context if e.wants_context() => {
                    e.context = Some(p.text(chunk));
                }
                _ => {}
            },
            _ => asm.out.stats.messages.orphan_secondary += 1,
        }
        return;
    }
    if let Some(prev) = entry.take() {
        asm.entry(prev);
    }
    let f = p.fields;
    *entry = Some(Entry {
        time: f.time,
        user: f.user,
        database: f.database,
        application: f.application,
        client: f.client,
        pid: f.pid,
        session: f.session,
        sqlstate: f.sqlstate,
        severity: Some(p.severity),
        message: p.text(chunk),
        detail: None,
        context: None,
        statement: None,
    });
}

/// Whether `line` starts a new entry (a prefixed line that is not a secondary line):
/// where chunks may be cut.
pub(super) fn is_entry_start(line: &[u8], prefix: &LinePrefix) -> bool {
    let Ok(line) = std::str::from_utf8(line) else {
        return false;
    };
    prefix
        .match_line(line.strip_suffix('\r').unwrap_or(line))
        .is_some_and(|m| !m.severity.is_secondary())
}
