//! What a log reader saw: counts by message kind, unparsed lines, temp files.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::LogFormat;

/// How many unparsed lines are kept as examples.
pub const MAX_EXAMPLES: usize = 5;
/// Longest example kept, in bytes (longer lines are cut).
pub const MAX_EXAMPLE_BYTES: usize = 200;
/// Distinct (pid, statement) pairs kept for temporary files; the rest are added up
/// under no statement.
pub const MAX_TEMP_FILE_KEYS: usize = 10_000;

/// What the reader saw, for the whole input.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LogStats {
    /// The inputs, in the order read.
    pub inputs: Vec<InputInfo>,
    /// Bytes read (after decompression).
    pub bytes: u64,
    /// Lines read.
    pub lines: u64,
    /// Log entries (a message with its DETAIL/STATEMENT/… lines is one entry).
    pub records: u64,
    /// Samples delivered.
    pub samples: u64,
    /// Lines that are neither an entry start nor a continuation (never fatal).
    pub unparsed_lines: u64,
    /// A few unparsed lines, cut to 200 bytes.
    pub unparsed_examples: Vec<UnparsedLine>,
    /// Lines with invalid UTF-8 (read lossily: bad bytes become U+FFFD).
    pub invalid_utf8_lines: u64,
    /// Timestamps whose time zone abbreviation is unknown (samples without time).
    pub unknown_time_zones: u64,
    /// Entries by kind.
    pub messages: MessageCounts,
    /// Errors (ERROR, FATAL, PANIC) by SQLSTATE, when the log has it (`%e`, csvlog,
    /// jsonlog); `unknown` otherwise.
    pub errors_by_sqlstate: BTreeMap<String, u64>,
    /// Temporary files (`log_temp_files`).
    pub temp_files: TempFiles,
    /// `log_statement` lines never followed by a `log_duration` line of their backend
    /// (log_duration off, or the statement failed).
    pub statements_without_duration: u64,
    /// `log_duration` lines without a preceding `log_statement` line (parse and bind
    /// steps, or log_statement off).
    pub durations_without_statement: u64,
    /// Problems reading an input that ended it early (a truncated `.gz`, an I/O error
    /// mid-file); what was read before still counts.
    pub input_errors: Vec<String>,
    /// Earliest timestamp seen.
    pub first_at: Option<DateTime<Utc>>,
    /// Latest timestamp seen.
    pub last_at: Option<DateTime<Utc>>,
    /// Serialization failures, deadlocks, lock timeouts and lock waits, being added up
    /// (they become the workload's `incidents`, not part of this summary).
    #[serde(skip)]
    pub incidents: crate::workload::incidents::Incidents,
}

/// One input and how it was read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputInfo {
    /// The path, or `-` for standard input.
    pub name: String,
    /// Whether it was gzip-compressed.
    pub gzip: bool,
    /// Its format.
    pub format: LogFormat,
    /// The `log_line_prefix` used (stderr format).
    pub prefix: Option<String>,
}

/// An unparsed line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnparsedLine {
    /// The input (path or `-`).
    pub input: String,
    /// 1-based line number in that input.
    pub line: u64,
    /// The line, cut to 200 bytes.
    pub text: String,
}

/// Log entries by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MessageCounts {
    /// `duration: … ms  statement: …` (log_min_duration_statement; pairs of
    /// log_statement and log_duration lines count under `logged_statements` and
    /// `durations`).
    pub statements: u64,
    /// `duration: … ms  execute …`.
    pub executes: u64,
    /// `duration: … ms  parse …` / `bind …`.
    pub parse_bind: u64,
    /// auto_explain `duration: … ms  plan:`.
    pub auto_explain: u64,
    /// `duration: … ms` alone (log_duration).
    pub durations: u64,
    /// `statement: …` / `execute …:` without duration (log_statement).
    pub logged_statements: u64,
    /// ERROR, FATAL and PANIC.
    pub errors: u64,
    /// WARNING.
    pub warnings: u64,
    /// `checkpoint starting`/`complete`, restartpoints.
    pub checkpoints: u64,
    /// `automatic vacuum`/`automatic analyze`.
    pub autovacuum: u64,
    /// `connection received`/`authenticated`/`authorized`.
    pub connections: u64,
    /// `disconnection`.
    pub disconnections: u64,
    /// `temporary file: …`.
    pub temp_files: u64,
    /// `process … still waiting for …` / `acquired …` (log_lock_waits).
    pub lock_waits: u64,
    /// Anything else (server start and stop, NOTICE, INFO, DEBUG, …).
    pub other: u64,
    /// DETAIL, HINT, CONTEXT, STATEMENT, … lines with no entry before them.
    pub orphan_secondary: u64,
}

/// Temporary files, in total and per backend and statement.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TempFiles {
    /// Files logged.
    pub count: u64,
    /// Their total size in bytes.
    pub bytes: u64,
    /// Per (pid, statement), largest total first in [`LogStats`] returned by readers.
    pub by_statement: Vec<TempFileUse>,
}

/// Temporary files of one backend and statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct TempFileUse {
    /// Backend pid, when the log has it.
    pub pid: Option<i32>,
    /// The statement (`STATEMENT:` line / csvlog `query` / jsonlog `statement`).
    pub statement: Option<String>,
    /// Files.
    pub count: u64,
    /// Bytes.
    pub bytes: u64,
}

type TempKey = (Option<i32>, Option<String>);

/// Temp-file uses being added up (merged into [`TempFiles::by_statement`] at the end).
#[derive(Debug, Default)]
pub(super) struct TempAcc {
    map: HashMap<TempKey, (u64, u64)>,
}

impl TempAcc {
    pub(super) fn add(&mut self, key: TempKey, count: u64, bytes: u64) {
        let key = if self.map.len() >= MAX_TEMP_FILE_KEYS && !self.map.contains_key(&key) {
            (None, None)
        } else {
            key
        };
        let e = self.map.entry(key).or_default();
        e.0 += count;
        e.1 += bytes;
    }

    pub(super) fn merge(&mut self, other: TempAcc) {
        for (k, (c, b)) in other.map {
            self.add(k, c, b);
        }
    }

    pub(super) fn finish(self) -> Vec<TempFileUse> {
        let mut v: Vec<TempFileUse> = self
            .map
            .into_iter()
            .map(|((pid, statement), (count, bytes))| TempFileUse {
                pid,
                statement,
                count,
                bytes,
            })
            .collect();
        v.sort_by(|a, b| b.bytes.cmp(&a.bytes).then_with(|| a.pid.cmp(&b.pid)));
        v
    }
}

impl MessageCounts {
    fn add(&mut self, o: &MessageCounts) {
        self.statements += o.statements;
        self.executes += o.executes;
        self.parse_bind += o.parse_bind;
        self.auto_explain += o.auto_explain;
        self.durations += o.durations;
        self.logged_statements += o.logged_statements;
        self.errors += o.errors;
        self.warnings += o.warnings;
        self.checkpoints += o.checkpoints;
        self.autovacuum += o.autovacuum;
        self.connections += o.connections;
        self.disconnections += o.disconnections;
        self.temp_files += o.temp_files;
        self.lock_waits += o.lock_waits;
        self.other += o.other;
        self.orphan_secondary += o.orphan_secondary;
    }
}

impl LogStats {
    /// Adds a later chunk's counts; its unparsed examples' line numbers are relative to
    /// the chunk and are shifted by `line_base`.
    pub(super) fn add_chunk(&mut self, o: LogStats, line_base: u64) {
        self.bytes += o.bytes;
        self.lines += o.lines;
        self.records += o.records;
        self.samples += o.samples;
        self.unparsed_lines += o.unparsed_lines;
        for mut ex in o.unparsed_examples {
            if self.unparsed_examples.len() < MAX_EXAMPLES {
                ex.line += line_base;
                self.unparsed_examples.push(ex);
            }
        }
        self.invalid_utf8_lines += o.invalid_utf8_lines;
        self.unknown_time_zones += o.unknown_time_zones;
        self.messages.add(&o.messages);
        for (k, v) in o.errors_by_sqlstate {
            *self.errors_by_sqlstate.entry(k).or_default() += v;
        }
        self.temp_files.count += o.temp_files.count;
        self.temp_files.bytes += o.temp_files.bytes;
        self.statements_without_duration += o.statements_without_duration;
        self.durations_without_statement += o.durations_without_statement;
        self.input_errors.extend(o.input_errors);
        self.first_at = min_opt(self.first_at, o.first_at);
        self.last_at = max_opt(self.last_at, o.last_at);
        self.incidents.merge(o.incidents);
    }

    pub(super) fn saw_time(&mut self, t: DateTime<Utc>) {
        self.first_at = min_opt(self.first_at, Some(t));
        self.last_at = max_opt(self.last_at, Some(t));
    }

    pub(super) fn unparsed(&mut self, line_no: u64, text: &str) {
        self.unparsed_lines += 1;
        if self.unparsed_examples.len() < MAX_EXAMPLES {
            let mut cut = text.len().min(MAX_EXAMPLE_BYTES);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            self.unparsed_examples.push(UnparsedLine {
                input: String::new(),
                line: line_no,
                text: text[..cut].to_string(),
            });
        }
    }
}

fn min_opt<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

fn max_opt<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}
