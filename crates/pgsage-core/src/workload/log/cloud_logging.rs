//! Cloud Logging exports (Cloud SQL, AlloyDB): what `gcloud logging read --format=json`
//! prints (a JSON array of entries) or what a Cloud Storage sink writes (one entry per
//! line), each server log line in the entry's `textPayload`.
//!
//! [`Lines`] turns the export, as it is read, into stderr log lines: the entry's
//! `timestamp` as `%m` prints it, a space, then `textPayload` (continuation lines keep
//! their tab). The stderr reader then matches `%m ` followed by the server's own
//! `log_line_prefix` (see [`super::pipeline`]). Entries are parsed one at a time from a
//! buffer that is refilled as needed, so no more than one entry is held beyond the
//! read buffer; a malformed or truncated export ends the input with an error naming
//! the line, and what was read before it is still used.

use std::borrow::Cow;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use memchr::memchr_iter;
use serde::Deserialize;

/// Bytes read from the export at a time.
const READ_BYTES: usize = 64 * 1024;

/// Keys that only a Cloud Logging entry has (a jsonlog line never does): detection
/// looks for one of them, quoted, in the first bytes. An escaped quote inside a string
/// (`\"textPayload\"`) cannot match, since the closing quote is preceded by `\`.
const ENTRY_KEYS: &[&[u8]] = &[b"\"textPayload\"", b"\"logName\"", b"\"insertId\""];

/// Whether `head` (the first bytes of an input) is a Cloud Logging export: a JSON array
/// of objects, or an object, whose first bytes name an entry's keys. (A stderr line
/// that starts with `[` — a prefix such as `[%p]: ` — is followed by no `{`.)
pub(super) fn looks_like(head: &[u8]) -> bool {
    let mut bytes = head.iter().filter(|b| !b.is_ascii_whitespace());
    let opens = match bytes.next() {
        Some(b'{') => true,
        Some(b'[') => matches!(bytes.next(), Some(b'{' | b']') | None),
        _ => false,
    };
    opens
        && ENTRY_KEYS
            .iter()
            .any(|k| head.windows(k.len()).any(|w| w == *k))
}

/// The parts of an entry the reader needs; other keys are ignored.
#[derive(Deserialize)]
struct Entry<'a> {
    #[serde(borrow, default, rename = "textPayload")]
    text_payload: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "receiveTimestamp")]
    receive_timestamp: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "logName")]
    log_name: Option<Cow<'a, str>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the first value (or after a closing `]`).
    Start,
    /// Inside an array; `first` until its first element is read.
    Array { first: bool },
    /// Entries one after the other (one a line, or pretty-printed).
    Stream,
    /// The end, or an error was returned.
    Done,
}

/// A Cloud Logging export read as stderr log lines.
pub(super) struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
    /// Line number (from 1) of `buf[pos]` in the export.
    line: u64,
    state: State,
    entries: u64,
    out: Vec<u8>,
    out_pos: usize,
    /// The time of the last entry with one, to see the order of the export.
    last_at: Option<DateTime<Utc>>,
    order: Arc<Order>,
}

/// How the entries of an export follow each other in time, counted as they are read.
#[derive(Debug, Default)]
pub(super) struct Order {
    /// Entries later than the one before.
    forward: AtomicU64,
    /// Entries earlier than the one before.
    backward: AtomicU64,
}

impl Order {
    /// A warning when most entries are earlier than the one before: the export lists
    /// the newest first (`gcloud logging read`'s default order).
    pub(super) fn warning(&self) -> Option<String> {
        let back = self.backward.load(Ordering::Relaxed);
        let forward = self.forward.load(Ordering::Relaxed);
        (back > forward).then(|| {
            "the Cloud Logging entries are newest first (gcloud logging read's default \
             order): statements whose duration is logged apart, and messages split over \
             entries, are read only from an export made with --order=asc"
                .to_string()
        })
    }
}

impl<R: Read> Lines<R> {
    /// The order of the entries read so far (shared, to be looked at after the reader
    /// has been handed on).
    pub(super) fn order(&self) -> Arc<Order> {
        Arc::clone(&self.order)
    }

    pub(super) fn new(reader: R) -> Lines<R> {
        Lines {
            reader,
            buf: Vec::new(),
            pos: 0,
            eof: false,
            line: 1,
            state: State::Start,
            entries: 0,
            out: Vec::new(),
            out_pos: 0,
            last_at: None,
            order: Arc::default(),
        }
    }

    /// Reads more of the export; false at its end.
    fn fill(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        if self.pos > 0 && self.pos * 2 >= self.buf.len() {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let len = self.buf.len();
        self.buf.resize(len + READ_BYTES, 0);
        loop {
            match self.reader.read(&mut self.buf[len..]) {
                Ok(0) => {
                    self.buf.truncate(len);
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.buf.truncate(len + n);
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(len);
                    return Err(e);
                }
            }
        }
    }

    fn advance(&mut self, n: usize) {
        let end = (self.pos + n).min(self.buf.len());
        self.line += memchr_iter(b'\n', &self.buf[self.pos..end]).count() as u64;
        self.pos = end;
    }

    /// The next byte that is not white space (not consumed), `None` at the end.
    fn peek_non_space(&mut self) -> io::Result<Option<u8>> {
        loop {
            let skip = self.buf[self.pos..]
                .iter()
                .take_while(|b| b.is_ascii_whitespace())
                .count();
            self.advance(skip);
            if let Some(&b) = self.buf.get(self.pos) {
                return Ok(Some(b));
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    fn malformed(&mut self, what: String) -> io::Error {
        self.state = State::Done;
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!(
                "Cloud Logging export, line {}: {what} ({} entries read before it)",
                self.line, self.entries
            ),
        )
    }

    /// Parses the entry at `pos` into `out`, reading more of the export as needed.
    fn entry(&mut self) -> io::Result<()> {
        loop {
            let rest = &self.buf[self.pos..];
            let mut values = serde_json::Deserializer::from_slice(rest).into_iter::<Entry<'_>>();
            match values.next() {
                Some(Ok(e)) => {
                    let used = values.byte_offset();
                    if let Some(at) = write_entry(&e, &mut self.out) {
                        match self.last_at.map(|last| at.cmp(&last)) {
                            Some(std::cmp::Ordering::Greater) => {
                                self.order.forward.fetch_add(1, Ordering::Relaxed);
                            }
                            Some(std::cmp::Ordering::Less) => {
                                self.order.backward.fetch_add(1, Ordering::Relaxed);
                            }
                            _ => {}
                        }
                        self.last_at = Some(at);
                    }
                    self.entries += 1;
                    self.advance(used);
                    return Ok(());
                }
                Some(Err(e)) if e.is_eof() => {
                    if !self.fill()? {
                        return Err(self.malformed("the export ends inside an entry".into()));
                    }
                }
                Some(Err(e)) => {
                    // serde_json's position is relative to this entry's start.
                    let text = e.to_string();
                    let text = text
                        .rfind(" at line ")
                        .map_or(text.as_str(), |at| &text[..at])
                        .to_string();
                    self.line += (e.line() as u64).saturating_sub(1);
                    return Err(self.malformed(format!("malformed entry: {text}")));
                }
                None => return Err(self.malformed("an entry was expected".into())),
            }
        }
    }

    /// Puts the next entry's lines into `out`; false at the end of the export.
    fn next_entry(&mut self) -> io::Result<bool> {
        loop {
            match self.state {
                State::Done => return Ok(false),
                State::Start => match self.peek_non_space()? {
                    None => {
                        self.state = State::Done;
                        return Ok(false);
                    }
                    Some(b'[') => {
                        self.advance(1);
                        self.state = State::Array { first: true };
                    }
                    Some(b'{') => self.state = State::Stream,
                    Some(_) => {
                        return Err(self
                            .malformed("not a Cloud Logging export (expected `[` or `{`)".into()))
                    }
                },
                State::Array { first } => match self.peek_non_space()? {
                    None => {
                        return Err(self.malformed("the export ends before the array's `]`".into()))
                    }
                    Some(b']') => {
                        self.advance(1);
                        self.state = State::Start;
                    }
                    Some(b',') if !first => {
                        self.advance(1);
                        if self.peek_non_space()? == Some(b']') {
                            return Err(self.malformed("a `,` before `]`".into()));
                        }
                        self.entry()?;
                        return Ok(true);
                    }
                    Some(_) if first => {
                        self.state = State::Array { first: false };
                        self.entry()?;
                        return Ok(true);
                    }
                    Some(_) => {
                        return Err(self.malformed("`,` or `]` expected after an entry".into()))
                    }
                },
                State::Stream => match self.peek_non_space()? {
                    None => {
                        self.state = State::Done;
                        return Ok(false);
                    }
                    Some(b'[') => self.state = State::Start,
                    Some(_) => {
                        self.entry()?;
                        return Ok(true);
                    }
                },
            }
        }
    }
}

impl<R: Read> Read for Lines<R> {
    fn read(&mut self, dest: &mut [u8]) -> io::Result<usize> {
        while self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
            if !self.next_entry()? {
                return Ok(0);
            }
        }
        let n = dest.len().min(self.out.len() - self.out_pos);
        dest[..n].copy_from_slice(&self.out[self.out_pos..self.out_pos + n]);
        self.out_pos += n;
        Ok(n)
    }
}

/// The entry as stderr lines: `YYYY-MM-DD HH:MM:SS.mmm UTC ` and `textPayload`, its
/// continuation lines starting with a tab. A payload that starts with a tab is a
/// continuation line the export carried as an entry of its own: it stays one, without
/// the time. An entry without `textPayload` (another log
/// in the same export, a structured payload) becomes one line that no prefix matches,
/// so it is counted, with its log name, among the lines that did not parse. Returns the
/// entry's time, if it has one.
fn write_entry(e: &Entry<'_>, out: &mut Vec<u8>) -> Option<DateTime<Utc>> {
    let Some(payload) = e.text_payload.as_deref() else {
        out.extend_from_slice(b"(Cloud Logging entry without textPayload");
        if let Some(name) = e.log_name.as_deref() {
            out.extend_from_slice(b" in ");
            out.extend_from_slice(name.replace(['\n', '\r'], " ").as_bytes());
        }
        out.extend_from_slice(b")\n");
        return None;
    };
    let at = [e.timestamp.as_deref(), e.receive_timestamp.as_deref()]
        .into_iter()
        .flatten()
        .find_map(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let continued = payload.starts_with('\t');
    if let Some(at) = at.filter(|_| !continued) {
        let at = at.format("%Y-%m-%d %H:%M:%S%.3f UTC ");
        out.extend_from_slice(at.to_string().as_bytes());
    }
    let payload = payload.trim_end_matches(['\n', '\r']);
    for (i, line) in payload.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if i > 0 && !line.starts_with('\t') {
            out.push(b'\t');
        }
        out.extend_from_slice(line.as_bytes());
        out.push(b'\n');
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &str) -> (String, Option<String>) {
        let mut out = String::new();
        let err = Lines::new(input.as_bytes())
            .read_to_string(&mut out)
            .err()
            .map(|e| e.to_string());
        (out, err)
    }

    const ENTRY: &str = r#"{"textPayload": "2022-07-30 05:04:30.061 UTC [4075710]: [2-1] db=shop,user=app LOG:  duration: 1.5 ms  statement: SELECT 1", "timestamp": "2022-07-30T05:04:30.062622Z", "logName": "projects/p/logs/cloudsql.googleapis.com%2Fpostgres.log"}"#;

    #[test]
    fn an_array_and_a_stream_of_entries_give_the_same_lines() {
        let array = format!("[\n  {ENTRY},\n  {ENTRY}\n]\n");
        let stream = format!("{ENTRY}\n{ENTRY}\n");
        let (a, ea) = lines(&array);
        let (s, es) = lines(&stream);
        assert_eq!((ea, es), (None, None));
        assert_eq!(a, s);
        assert_eq!(
            a.lines().next(),
            Some("2022-07-30 05:04:30.062 UTC 2022-07-30 05:04:30.061 UTC [4075710]: [2-1] db=shop,user=app LOG:  duration: 1.5 ms  statement: SELECT 1")
        );
        assert_eq!(a.lines().count(), 2);
        assert!(looks_like(array.as_bytes()) && looks_like(stream.as_bytes()));
    }

    #[test]
    fn continuation_lines_keep_or_get_their_tab() {
        let e = r#"[{"textPayload": "[7]: [1-1] db=d,user=u LOG:  statement: SELECT a,\n\t b\nFROM t\n", "timestamp": "2020-04-08T21:32:23.456622Z"}]"#;
        let (out, err) = lines(e);
        assert_eq!(err, None);
        assert_eq!(
            out,
            "2020-04-08 21:32:23.456 UTC [7]: [1-1] db=d,user=u LOG:  statement: SELECT a,\n\t b\n\tFROM t\n"
        );
    }

    #[test]
    fn jsonlog_and_text_are_not_cloud_logging() {
        assert!(!looks_like(
            br#"{"timestamp":"2024-05-01 10:00:00.123 UTC","message":"x \"textPayload\""}"#
        ));
        assert!(!looks_like(
            b"2024-05-01 10:00:00 UTC [1] LOG:  textPayload"
        ));
        assert!(looks_like(b"  \n[]\n\"logName\""));
        assert!(!looks_like(
            b"[42]: [1-1] db=d,user=u LOG:  statement: SELECT '\"logName\"'"
        ));
    }

    /// A truncated export keeps the entries before the cut and ends with an error naming
    /// the line; so do malformed ones; none panics, whatever the cut.
    #[test]
    fn truncated_or_malformed_exports_end_with_an_error() {
        let array = format!("[\n  {ENTRY},\n  {ENTRY}\n]\n");
        for cut in 0..array.len() {
            let (out, err) = lines(&array[..cut]);
            if cut == 0 {
                assert_eq!((out.as_str(), err), ("", None));
                continue;
            }
            let complete = out.lines().count();
            assert!(complete <= 2, "{cut}");
            if cut < array.len() - 2 {
                let err = err.unwrap_or_else(|| panic!("no error when cut at {cut}"));
                assert!(err.starts_with("Cloud Logging export, line "), "{err}");
            }
        }
        let (out, err) = lines(&format!("[{ENTRY}, 12]"));
        assert_eq!(out.lines().count(), 1);
        let err = err.expect("an error");
        assert!(
            err.contains("line 1: malformed entry: invalid type"),
            "{err}"
        );
        let (_, err) = lines(&format!("[\n{ENTRY}\n{ENTRY}]"));
        assert!(
            err.is_some_and(|e| e.contains("line 3: `,` or `]` expected")),
            "missing comma"
        );
        let (_, err) = lines("hello");
        assert!(err.is_some_and(|e| e.contains("not a Cloud Logging export")));
    }

    /// Any one byte of an export replaced by JSON's delimiters, an escape, a line end or
    /// a byte that is not UTF-8: the reader ends with lines or an error, never a panic.
    #[test]
    fn damaged_exports_never_panic() {
        let array = format!("[\n  {ENTRY},\n  {ENTRY}\n]\n");
        for at in 0..array.len() {
            for b in [b'"', b'{', b'}', b'[', b']', b',', b'\\', b'\n', 0xff] {
                let mut damaged = array.clone().into_bytes();
                damaged[at] = b;
                let mut out = Vec::new();
                let _ = Lines::new(damaged.as_slice()).read_to_end(&mut out);
            }
        }
    }

    #[test]
    fn an_entry_without_text_is_one_line_naming_its_log() {
        let (out, err) =
            lines(r#"[{"protoPayload": {}, "logName": "projects/p/logs/cloudaudit"}]"#);
        assert_eq!(err, None);
        assert_eq!(
            out,
            "(Cloud Logging entry without textPayload in projects/p/logs/cloudaudit)\n"
        );
    }

    /// An export that carries each line of a multi-line message as its own entry gives
    /// the same lines as one that carries the whole message.
    #[test]
    fn continuation_lines_as_entries_of_their_own() {
        let whole = r#"[{"textPayload": "[7]: [1-1] db=d,user=u LOG:  statement: SELECT a,\n\tb", "timestamp": "2020-04-08T21:32:23Z"}]"#;
        let split = r#"[{"textPayload": "[7]: [1-1] db=d,user=u LOG:  statement: SELECT a,", "timestamp": "2020-04-08T21:32:23Z"},
                        {"textPayload": "\tb", "timestamp": "2020-04-08T21:32:23Z"}]"#;
        assert_eq!(lines(whole), lines(split));
    }

    /// Newest first (gcloud's default order) is told apart from oldest first.
    #[test]
    fn the_order_of_the_entries_is_seen() {
        let entry = |t: &str| {
            format!(
                r#"{{"textPayload": "[1]: [1-1] db=d,user=u LOG:  statement: SELECT 1", "timestamp": "{t}"}}"#
            )
        };
        let times = [
            "2020-04-08T21:32:21Z",
            "2020-04-08T21:32:22Z",
            "2020-04-08T21:32:23Z",
        ];
        let oldest_first: Vec<String> = times.iter().map(|t| entry(t)).collect();
        let newest_first: Vec<String> = times.iter().rev().map(|t| entry(t)).collect();
        for (entries, newest) in [(oldest_first, false), (newest_first, true)] {
            let text = format!("[{}]", entries.join(","));
            let mut reader = Lines::new(text.as_bytes());
            let order = reader.order();
            let mut out = String::new();
            reader.read_to_string(&mut out).expect("read");
            assert_eq!(order.warning().is_some(), newest, "{text}");
        }
    }

    /// Entries larger than one read are put together from several reads.
    #[test]
    fn entries_larger_than_a_read_are_whole() {
        let long = "x".repeat(3 * READ_BYTES);
        let e = format!(
            r#"[{{"textPayload": "[1]: [1-1] db=d,user=u LOG:  statement: SELECT '{long}'", "timestamp": "2020-04-08T21:32:23Z"}}]"#
        );
        let (out, err) = lines(&e);
        assert_eq!(err, None);
        assert!(out.ends_with(&format!("'{long}'\n")));
        assert!(out.starts_with("2020-04-08 21:32:23.000 UTC [1]"));
    }
}
