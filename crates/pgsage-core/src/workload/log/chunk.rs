//! Cuts an input into chunks of whole entries, so chunks can be parsed independently.
//!
//! A chunk ends before a line that starts an entry (stderr: a prefixed line that is not
//! `DETAIL`/`STATEMENT`/…; csvlog: a line starting with a timestamp and a comma;
//! jsonlog: any line). Read errors (a truncated `.gz`) end the input: what was read is
//! still parsed and the error is reported in the statistics.

use std::io::{self, Read};

use memchr::memrchr;

use super::prefix::LinePrefix;
use super::{csv, stderr, LogFormat};

/// How far back from a chunk's end to look for an entry start before reading more.
const MAX_BACKTRACK_LINES: usize = 100_000;

pub(super) struct Chunker<R> {
    reader: R,
    buf: Vec<u8>,
    eof: bool,
    target: usize,
    max_record: usize,
    /// Buffers of chunks already parsed, to read the next chunks into: their pages are
    /// mapped already (a fresh 4 MiB buffer per chunk cost page faults, zeroing and,
    /// freed on a parser thread, the allocator's cross-thread bookkeeping).
    spare: Vec<Vec<u8>>,
    /// A read error that ended the input early.
    pub error: Option<io::Error>,
}

/// Parsed chunks' buffers kept for reuse (enough for the chunks in flight to turn over).
const MAX_SPARE: usize = 8;

impl<R: Read> Chunker<R> {
    pub(super) fn new(reader: R, target: usize, max_record: usize) -> Chunker<R> {
        Chunker {
            reader,
            buf: Vec::new(),
            eof: false,
            target: target.max(1),
            max_record: max_record.max(target),
            spare: Vec::new(),
            error: None,
        }
    }

    /// Reads until at least `want` bytes are buffered (or the input ends) and returns
    /// them, for format detection.
    pub(super) fn peek(&mut self, want: usize) -> &[u8] {
        self.fill(want);
        &self.buf
    }

    fn fill(&mut self, want: usize) {
        while !self.eof && self.buf.len() < want {
            let len = self.buf.len();
            let grow = (want - len).max(64 * 1024);
            self.buf.resize(len + grow, 0);
            match self.reader.read(&mut self.buf[len..]) {
                Ok(0) => {
                    self.buf.truncate(len);
                    self.eof = true;
                }
                Ok(n) => self.buf.truncate(len + n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => self.buf.truncate(len),
                Err(e) => {
                    self.buf.truncate(len);
                    self.eof = true;
                    self.error = Some(e);
                }
            }
        }
    }

    /// What was buffered, followed by the rest of the input (to read it through another
    /// reader once detection has seen the first bytes), and the read error that ended
    /// it early, if one did.
    pub(super) fn into_reader(self) -> (io::Chain<io::Cursor<Vec<u8>>, R>, Option<io::Error>) {
        (io::Cursor::new(self.buf).chain(self.reader), self.error)
    }

    /// Gives back a parsed chunk's buffer, to read a later chunk into.
    pub(super) fn recycle(&mut self, mut buf: Vec<u8>) {
        // An outsized buffer (one huge entry) is not worth keeping.
        if self.spare.len() < MAX_SPARE && buf.capacity() <= 2 * self.target + (1 << 20) {
            buf.clear();
            self.spare.push(buf);
        }
    }

    /// Cuts the buffer at `cut`: the chunk is what comes before, the rest stays buffered
    /// (in a recycled buffer when there is one).
    fn cut(&mut self, cut: usize) -> Vec<u8> {
        let mut rest = self.spare.pop().unwrap_or_default();
        rest.extend_from_slice(&self.buf[cut..]);
        self.buf.truncate(cut);
        std::mem::replace(&mut self.buf, rest)
    }

    /// The next chunk of whole entries, `None` at the end.
    pub(super) fn next_chunk(
        &mut self,
        format: LogFormat,
        prefix: Option<&LinePrefix>,
    ) -> Option<Vec<u8>> {
        let mut want = self.target;
        loop {
            self.fill(want);
            if self.buf.is_empty() {
                return None;
            }
            if self.eof {
                return Some(std::mem::take(&mut self.buf));
            }
            if let Some(cut) = split_point(&self.buf, format, prefix) {
                return Some(self.cut(cut));
            }
            if self.buf.len() >= self.max_record {
                // One entry larger than the limit: cut at the last line end.
                let cut = memrchr(b'\n', &self.buf).map_or(self.buf.len(), |i| i + 1);
                return Some(self.cut(cut));
            }
            want = self.buf.len() * 2;
        }
    }
}

/// Where to cut `buf` (the start of its last entry-start line that is not its first
/// line), `None` when there is none.
fn split_point(buf: &[u8], format: LogFormat, prefix: Option<&LinePrefix>) -> Option<usize> {
    // Only complete lines count.
    let mut end = memrchr(b'\n', buf)?;
    for _ in 0..MAX_BACKTRACK_LINES {
        let start = memrchr(b'\n', &buf[..end]).map_or(0, |i| i + 1);
        if start == 0 {
            return None;
        }
        let line = &buf[start..end];
        let ok = match format {
            LogFormat::Json => true,
            LogFormat::Csv => csv::is_record_start(line),
            LogFormat::Stderr | LogFormat::CloudLogging => {
                prefix.is_some_and(|p| stderr::is_entry_start(line, p))
            }
        };
        if ok {
            return Some(start);
        }
        end = start - 1;
    }
    None
}
