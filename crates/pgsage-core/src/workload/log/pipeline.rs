//! The driver: one thread reads (and decompresses) and cuts chunks, rayon parses them
//! and hands each chunk's samples to the caller's `batch` step on the same parser
//! thread (fingerprint and aggregate them there, say), and the calling thread delivers
//! the batches' results in input order, pairing `log_statement` lines with
//! `log_duration` lines across chunk boundaries.
//!
//! The samples of a chunk are built, used and dropped on one parser thread: the calling
//! thread only reads, cuts and receives one result per chunk, so it does not become the
//! bottleneck (it was, when every sample crossed the channel to be aggregated there).
//! Chunks are cut the same way whatever the number of threads, and results arrive in
//! the same order, so a caller that folds them in order gets the same result for any
//! `threads`.
//!
//! At most `2 × threads + 1` chunks are in flight, so memory does not grow with the
//! input.
//!
//! Anything else a log entry yields (counts, an error's details) is recorded by
//! [`super::assemble::Assembler::entry`] in the chunk's [`ChunkOut`] on the parser
//! thread, and added to the [`State`] in `deliver`, chunk by chunk in input order.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;

use crate::workload::Sample;

use super::assemble::{Assembler, ChunkOut, Head, Pending};
use super::chunk::Chunker;
use super::prefix::{self, LinePrefix};
use super::stats::{InputInfo, LogStats, TempAcc};
use super::{cloud_logging, csv, json, stderr, LogFormat, LogOptions};

/// Bytes looked at to detect the format and the prefix.
const DETECT_BYTES: usize = 256 * 1024;
/// Lines looked at to detect the prefix.
const DETECT_LINES: usize = 500;
/// The longest single entry kept whole (longer ones are cut at a line end).
const MAX_RECORD: usize = 64 * 1024 * 1024;

/// What carries over from one chunk (and one input) to the next.
#[derive(Default)]
pub(super) struct State {
    carry: HashMap<Option<i32>, Pending>,
    pub stats: LogStats,
    temp: TempAcc,
}

impl State {
    pub(super) fn finish(mut self) -> LogStats {
        self.stats.statements_without_duration += self.carry.len() as u64;
        self.stats.temp_files.by_statement = self.temp.finish();
        self.stats
    }
}

struct Input<'n> {
    name: &'n str,
    prefix: Option<LinePrefix>,
    line_base: u64,
}

/// Reads one input (already decompressed) into `state`: each chunk's samples go through
/// `batch` on a parser thread, its result to `sink` on the calling thread, in input
/// order.
#[allow(clippy::too_many_arguments)]
pub(super) fn run<T: Send>(
    reader: impl Read,
    name: &str,
    gzip: bool,
    opts: &LogOptions,
    pool: Option<&rayon::ThreadPool>,
    state: &mut State,
    batch: &(dyn Fn(Vec<Sample>) -> T + Sync),
    sink: &mut dyn FnMut(T),
) {
    let mut chunker = Chunker::new(reader, opts.chunk_bytes, MAX_RECORD);
    let head = chunker.peek(DETECT_BYTES);
    let format = match opts.format {
        None => detect_format(head),
        // A Cloud Logging export wraps the lines a server wrote to stderr: a format
        // read from the server's log_destination does not make it plain text.
        Some(LogFormat::Stderr) if cloud_logging::looks_like(head) => LogFormat::CloudLogging,
        Some(f) => f,
    };
    let input = InputInfo {
        name: name.to_string(),
        gzip,
        format,
        prefix: None,
    };
    if format != LogFormat::CloudLogging {
        let prefix = (format == LogFormat::Stderr).then(|| match &opts.prefix {
            Some(p) => LinePrefix::new(p),
            None => detect_prefix(head, "").unwrap_or_else(|| LinePrefix::new(DEFAULT_PREFIX)),
        });
        return drive(
            chunker, input, format, prefix, opts, pool, state, batch, sink,
        );
    }
    // Each entry becomes `%m ` (its timestamp) and its textPayload, a stderr line.
    let (rest, early_error) = chunker.into_reader();
    if let Some(e) = early_error {
        state.stats.input_errors.push(format!("{name}: {e}"));
    }
    let lines = cloud_logging::Lines::new(rest);
    let order = lines.order();
    let mut chunker = Chunker::new(lines, opts.chunk_bytes, MAX_RECORD);
    let head = chunker.peek(DETECT_BYTES);
    let prefix = match &opts.prefix {
        Some(p) => entry_prefix(head, p),
        None => detect_prefix(head, ENTRY_TIME)
            .unwrap_or_else(|| LinePrefix::new(&format!("{ENTRY_TIME}{DEFAULT_PREFIX}"))),
    };
    drive(
        chunker,
        input,
        LogFormat::Stderr,
        Some(prefix),
        opts,
        pool,
        state,
        batch,
        sink,
    );
    if let Some(w) = order.warning() {
        state.stats.input_errors.push(format!("{name}: {w}"));
    }
}

/// What [`cloud_logging::Lines`] puts before each `textPayload`: the entry's time.
const ENTRY_TIME: &str = "%m ";

/// The prefix of a Cloud Logging export's lines whose `textPayload` starts with the
/// server's `log_line_prefix` `p`: the entry's time, then `p` — or `p` alone when the
/// payloads carry no time of their own and `p`'s own time escape is the entry's
/// (Cloud SQL's entries before 2021 began at `[%p]`), whichever matches more of the
/// first lines; the first on a tie.
fn entry_prefix(head: &[u8], p: &str) -> LinePrefix {
    let lines = head_lines(head);
    let timed = LinePrefix::new(&format!("{ENTRY_TIME}{p}"));
    let bare = LinePrefix::new(p);
    let count = |prefix: &LinePrefix| {
        lines
            .iter()
            .filter(|l| prefix.match_line(l).is_some())
            .count()
    };
    if count(&bare) > count(&timed) {
        bare
    } else {
        timed
    }
}

/// Cuts, parses and delivers one input in `format` (`Stderr` for a Cloud Logging
/// export's lines), recording `input` (with the prefix used) in the statistics.
#[allow(clippy::too_many_arguments)]
fn drive<T: Send, R: Read>(
    mut chunker: Chunker<R>,
    mut info: InputInfo,
    format: LogFormat,
    prefix: Option<LinePrefix>,
    opts: &LogOptions,
    pool: Option<&rayon::ThreadPool>,
    state: &mut State,
    batch: &(dyn Fn(Vec<Sample>) -> T + Sync),
    sink: &mut dyn FnMut(T),
) {
    let name = info.name.clone();
    info.prefix = prefix.as_ref().map(|p| p.as_str().to_string());
    state.stats.inputs.push(info);
    let mut input = Input {
        name: &name,
        prefix,
        line_base: 0,
    };
    let offset = opts.utc_offset_minutes;
    match pool {
        None => {
            while let Some(chunk) = chunker.next_chunk(format, input.prefix.as_ref()) {
                let parsed = parse_and_batch(chunk, format, input.prefix.as_ref(), offset, batch);
                chunker.recycle(deliver(parsed, &mut input, state, batch, sink));
            }
        }
        Some(pool) => {
            let threads = pool.current_num_threads().max(1);
            let max_in_flight = 2 * threads as u64 + 1;
            let (tx, rx) = mpsc::channel::<(u64, Parsed<T>)>();
            let pfx = input.prefix.clone();
            let pfx = pfx.as_ref();
            pool.in_place_scope(|scope| {
                let mut sent = 0u64;
                let mut delivered = 0u64;
                let mut ready: BTreeMap<u64, Parsed<T>> = BTreeMap::new();
                let mut more = true;
                while more || delivered < sent {
                    while let Ok((seq, parsed)) = rx.try_recv() {
                        ready.insert(seq, parsed);
                    }
                    while let Some(parsed) = ready.remove(&delivered) {
                        chunker.recycle(deliver(parsed, &mut input, state, batch, sink));
                        delivered += 1;
                    }
                    if !more || sent - delivered >= max_in_flight {
                        if delivered < sent {
                            match rx.recv() {
                                Ok((seq, parsed)) => {
                                    ready.insert(seq, parsed);
                                }
                                Err(_) => break,
                            }
                        }
                        continue;
                    }
                    match chunker.next_chunk(format, pfx) {
                        Some(chunk) => {
                            let tx = tx.clone();
                            let seq = sent;
                            scope.spawn(move |_| {
                                let parsed = parse_and_batch(chunk, format, pfx, offset, batch);
                                let _ = tx.send((seq, parsed));
                            });
                            sent += 1;
                        }
                        None => more = false,
                    }
                }
            });
        }
    }
    if let Some(e) = chunker.error.take() {
        state.stats.input_errors.push(format!(
            "{name}: reading stopped after {} lines: {e}",
            input.line_base
        ));
    }
}

/// PostgreSQL's default `log_line_prefix` (10+).
pub(super) const DEFAULT_PREFIX: &str = "%m [%p] ";

/// A parsed chunk: what it counted and left to pair, its batch's result (`None` when the
/// batch step panicked), and its buffer, for the chunker to reuse.
struct Parsed<T> {
    out: ChunkOut,
    result: Option<T>,
    buf: Vec<u8>,
}

/// Parses one chunk and runs `batch` on its samples, on the current (parser) thread.
fn parse_and_batch<T>(
    chunk: Vec<u8>,
    format: LogFormat,
    prefix: Option<&LinePrefix>,
    offset: Option<i32>,
    batch: &(dyn Fn(Vec<Sample>) -> T + Sync),
) -> Parsed<T> {
    let mut out = parse_chunk(&chunk, format, prefix, offset);
    let samples = std::mem::take(&mut out.samples);
    let n = samples.len();
    let result = catch_unwind(AssertUnwindSafe(|| batch(samples))).ok();
    if result.is_none() {
        out.stats.samples -= n as u64;
        out.stats.input_errors.push(format!(
            "internal error while using the samples of a chunk; its {n} samples are left out"
        ));
    }
    Parsed {
        out,
        result,
        buf: chunk,
    }
}

/// Hands a parsed chunk to the caller, in input order: first a batch of the statements
/// it completes for earlier chunks (`log_statement` lines whose `log_duration` line is
/// in this chunk), then the chunk's own batch; then adds its counts to the statistics.
/// Returns the chunk's buffer.
fn deliver<T>(
    parsed: Parsed<T>,
    input: &mut Input<'_>,
    state: &mut State,
    batch: &(dyn Fn(Vec<Sample>) -> T + Sync),
    sink: &mut dyn FnMut(T),
) -> Vec<u8> {
    let Parsed { out, result, buf } = parsed;
    let ChunkOut {
        samples,
        mut stats,
        temp,
        heads,
        tails,
    } = out;
    let mut paired = Vec::new();
    for (pid, head) in heads {
        match (state.carry.remove(&pid), head) {
            (Some(mut p), Head::Duration(ms, at)) => {
                p.sample.duration_ms = ms;
                p.sample.at = at.or(p.sample.at);
                stats.samples += 1;
                paired.push(p.sample);
            }
            (Some(_), Head::Reset) => stats.statements_without_duration += 1,
            (None, Head::Duration(..)) => stats.durations_without_statement += 1,
            (None, Head::Reset) => {}
        }
    }
    if !paired.is_empty() {
        sink(batch(paired));
    }
    debug_assert!(
        samples.is_empty(),
        "samples go to the batch step before delivery"
    );
    if let Some(result) = result {
        sink(result);
    }
    state.carry.extend(tails);
    for ex in &mut stats.unparsed_examples {
        ex.input = input.name.to_string();
    }
    let lines = stats.lines;
    state.stats.add_chunk(stats, input.line_base);
    state.temp.merge(temp);
    input.line_base += lines;
    buf
}

/// Parses one chunk; never panics outward (a bug in a parser costs the chunk, counted
/// as an input error, not the run).
fn parse_chunk(
    chunk: &[u8],
    format: LogFormat,
    prefix: Option<&LinePrefix>,
    offset: Option<i32>,
) -> ChunkOut {
    let result = catch_unwind(AssertUnwindSafe(|| {
        let mut asm = Assembler::new(offset);
        let text = match std::str::from_utf8(chunk) {
            Ok(t) => std::borrow::Cow::Borrowed(t),
            Err(_) => {
                asm.out.stats.invalid_utf8_lines += chunk
                    .split(|b| *b == b'\n')
                    .filter(|l| std::str::from_utf8(l).is_err())
                    .count() as u64;
                String::from_utf8_lossy(chunk)
            }
        };
        match (format, prefix) {
            (LogFormat::Json, _) => json::parse(&text, &mut asm),
            (LogFormat::Csv, _) => csv::parse(&text, &mut asm),
            (LogFormat::Stderr | LogFormat::CloudLogging, Some(p)) => {
                stderr::parse(&text, p, &mut asm)
            }
            (LogFormat::Stderr | LogFormat::CloudLogging, None) => {
                stderr::parse(&text, &LinePrefix::new(DEFAULT_PREFIX), &mut asm)
            }
        }
        asm.finish()
    }));
    result.unwrap_or_else(|_| {
        let mut out = ChunkOut::default();
        out.stats.lines = super::count_lines(chunk);
        out.stats.bytes = chunk.len() as u64;
        out.stats.unparsed_lines = out.stats.lines;
        out.stats
            .input_errors
            .push("internal error while parsing a chunk; its lines are counted as unparsed".into());
        out
    })
}

fn first_lines(head: &[u8]) -> impl Iterator<Item = &[u8]> + Clone {
    head.split(|b| *b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .take(DETECT_LINES)
}

/// A Cloud Logging export when the input is a JSON array or object with an entry's
/// keys, jsonlog when the first line is a JSON object, csvlog when it starts with a
/// timestamp and a comma, stderr otherwise.
pub(super) fn detect_format(head: &[u8]) -> LogFormat {
    if cloud_logging::looks_like(head) {
        return LogFormat::CloudLogging;
    }
    match first_lines(head).next() {
        Some(l) if l.first() == Some(&b'{') => LogFormat::Json,
        Some(l) if csv::is_record_start(l) => LogFormat::Csv,
        _ => LogFormat::Stderr,
    }
}

fn head_lines(head: &[u8]) -> Vec<String> {
    first_lines(head)
        .filter(|l| l.first() != Some(&b'\t'))
        .map(|l| {
            String::from_utf8_lossy(l)
                .trim_end_matches('\r')
                .to_string()
        })
        .collect()
}

/// The known prefix, after `lead` (what comes before the server's prefix on each line:
/// nothing, or a Cloud Logging entry's time), that matches most of the first lines.
fn detect_prefix(head: &[u8], lead: &str) -> Option<LinePrefix> {
    let lines = head_lines(head);
    prefix::detect(lines.iter().map(String::as_str), lead)
}
