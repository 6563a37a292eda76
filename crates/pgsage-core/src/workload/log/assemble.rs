//! Turns log entries (from any format) into [`Sample`]s and counts, for one chunk.
//!
//! `log_statement` + `log_duration` logs give the statement and its duration on two
//! entries of the same backend, possibly in different chunks: each chunk pairs what it
//! can and reports the rest (the first duration or reset per backend, the statements
//! still waiting at its end) for [`super::pipeline`] to pair in order.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::workload::incidents::parse::{self as incidents, Logged};
use crate::workload::{Sample, SampleKind};

use super::message::{classify, explain_query, parameters, Message, Timed};
use super::severity::Severity;
use super::stats::{LogStats, TempAcc};
use super::time::{Parsed, TimeParser};

/// One log entry: a message with its secondary lines, in any format.
#[derive(Debug, Default)]
pub(super) struct Entry<'a> {
    pub time: Option<&'a str>,
    pub user: Option<&'a str>,
    pub database: Option<&'a str>,
    pub application: Option<&'a str>,
    pub client: Option<&'a str>,
    pub pid: Option<i32>,
    pub session: Option<&'a str>,
    pub sqlstate: Option<&'a str>,
    pub severity: Option<Severity>,
    pub message: Cow<'a, str>,
    pub detail: Option<Cow<'a, str>>,
    /// `CONTEXT:` (where a lock wait or conflict happened: `while updating tuple …`).
    pub context: Option<Cow<'a, str>>,
    pub statement: Option<Cow<'a, str>>,
}

impl Entry<'_> {
    /// Whether its CONTEXT may attribute a lock incident (errors, `process N …` lock
    /// messages): other entries' CONTEXT lines are not copied.
    pub(super) fn wants_context(&self) -> bool {
        self.severity == Some(Severity::Error) || self.message.starts_with("process ")
    }

    /// What a lock incident needs of it.
    fn logged(&self, at: Option<chrono::DateTime<chrono::Utc>>) -> Logged<'_> {
        Logged {
            message: &self.message,
            detail: self.detail.as_deref(),
            context: self.context.as_deref(),
            statement: self.statement.as_deref(),
            pid: self.pid,
            database: self.database,
            user: self.user,
            application: self.application,
            at,
        }
    }
}

/// A `log_statement` line waiting for its `log_duration` line.
#[derive(Debug)]
pub(super) struct Pending {
    pub sample: Sample,
}

/// The first pairing event of a backend in a chunk.
#[derive(Debug)]
pub(super) enum Head {
    /// A duration with no statement before it in this chunk (at: its time).
    Duration(f64, Option<chrono::DateTime<chrono::Utc>>),
    /// A statement, an error or a timed statement: whatever waited before is dropped.
    Reset,
}

/// What parsing one chunk produced.
#[derive(Debug, Default)]
pub(super) struct ChunkOut {
    pub samples: Vec<Sample>,
    pub stats: LogStats,
    pub temp: TempAcc,
    pub heads: Vec<(Option<i32>, Head)>,
    pub tails: Vec<(Option<i32>, Pending)>,
}

#[derive(Debug, Default)]
struct Backend {
    seen: bool,
    pending: Option<Pending>,
}

/// Builds samples and counts from a chunk's entries.
pub(super) struct Assembler {
    time: TimeParser,
    backends: HashMap<Option<i32>, Backend>,
    pub out: ChunkOut,
}

impl Assembler {
    pub(super) fn new(fallback_offset_min: Option<i32>) -> Assembler {
        Assembler {
            time: TimeParser::new(fallback_offset_min),
            backends: HashMap::new(),
            out: ChunkOut::default(),
        }
    }

    /// Ends the chunk: statements still waiting become tails.
    pub(super) fn finish(mut self) -> ChunkOut {
        let mut tails: Vec<(Option<i32>, Pending)> = self
            .backends
            .into_iter()
            .filter_map(|(k, b)| b.pending.map(|p| (k, p)))
            .collect();
        tails.sort_by_key(|(k, _)| *k);
        self.out.tails = tails;
        self.out.stats.samples = self.out.samples.len() as u64;
        self.out
    }

    pub(super) fn entry(&mut self, e: Entry<'_>) {
        self.out.stats.records += 1;
        let at = self.at(e.time);
        let Some(sev) = e.severity else {
            self.out.stats.messages.other += 1;
            return;
        };
        let m = &mut self.out.stats.messages;
        match sev {
            Severity::Log => {}
            Severity::Error | Severity::Fatal | Severity::Panic => {
                m.errors += 1;
                let code = e.sqlstate.filter(|s| !s.is_empty()).unwrap_or("unknown");
                *self
                    .out
                    .stats
                    .errors_by_sqlstate
                    .entry(code.to_string())
                    .or_default() += 1;
                if sev == Severity::Error {
                    self.reset(e.pid);
                    // Lock incidents: one byte compared for errors that are not.
                    if incidents::error_kind(&e.message).is_some() {
                        if let Some(i) = incidents::error(&e.logged(at)) {
                            self.out.stats.incidents.add(i);
                        }
                    }
                }
                return;
            }
            Severity::Warning => {
                m.warnings += 1;
                return;
            }
            _ if sev.is_secondary() => {
                m.orphan_secondary += 1;
                return;
            }
            _ => {
                m.other += 1;
                return;
            }
        }
        match classify(&e.message) {
            Message::Timed(ms, timed) => {
                let (kind, query, plan): (SampleKind, Cow<'_, str>, Option<&str>) = match timed {
                    Timed::Statement(q) => {
                        m.statements += 1;
                        (SampleKind::Simple, Cow::Borrowed(q), None)
                    }
                    Timed::Execute(q) => {
                        m.executes += 1;
                        (SampleKind::Execute, Cow::Borrowed(q), None)
                    }
                    Timed::ParseOrBind(q) => {
                        m.parse_bind += 1;
                        (SampleKind::ParseOrBind, Cow::Borrowed(q), None)
                    }
                    Timed::Plan(p) => {
                        m.auto_explain += 1;
                        let q = explain_query(p).unwrap_or(Cow::Borrowed(""));
                        (SampleKind::AutoExplain, q, Some(p))
                    }
                    Timed::Other => {
                        m.other += 1;
                        return;
                    }
                };
                if kind != SampleKind::AutoExplain {
                    self.reset(e.pid);
                }
                let s = build(&e, at, ms, kind, &query, plan);
                self.out.samples.push(s);
            }
            Message::Duration(ms) => {
                m.durations += 1;
                let b = self.backends.entry(e.pid).or_default();
                if let Some(mut p) = b.pending.take() {
                    p.sample.duration_ms = ms;
                    p.sample.at = at.or(p.sample.at);
                    self.out.samples.push(p.sample);
                } else if !b.seen {
                    self.out.heads.push((e.pid, Head::Duration(ms, at)));
                } else {
                    self.out.stats.durations_without_statement += 1;
                }
                b.seen = true;
            }
            Message::Statement(q) | Message::Execute(q) => {
                m.logged_statements += 1;
                let kind = if matches!(classify(&e.message), Message::Statement(_)) {
                    SampleKind::Simple
                } else {
                    SampleKind::Execute
                };
                let sample = build(&e, at, 0.0, kind, q, None);
                self.reset(e.pid);
                if let Some(b) = self.backends.get_mut(&e.pid) {
                    b.pending = Some(Pending { sample });
                }
            }
            Message::TempFile(bytes) => {
                m.temp_files += 1;
                self.out.stats.temp_files.count += 1;
                self.out.stats.temp_files.bytes += bytes;
                let stmt = e.statement.as_deref().map(str::to_string);
                self.out.temp.add((e.pid, stmt), 1, bytes);
            }
            Message::Checkpoint => m.checkpoints += 1,
            Message::Autovacuum => m.autovacuum += 1,
            Message::Connection => m.connections += 1,
            Message::Disconnection => m.disconnections += 1,
            Message::LockWait => {
                m.lock_waits += 1;
                if let Some(i) = incidents::lock_wait(&e.logged(at)) {
                    self.out.stats.incidents.add(i);
                }
            }
            Message::Other => m.other += 1,
        }
    }

    /// A statement, error or timed statement of `pid`: a statement still waiting for
    /// its duration will not get one.
    fn reset(&mut self, pid: Option<i32>) {
        let b = self.backends.entry(pid).or_default();
        if b.pending.take().is_some() {
            self.out.stats.statements_without_duration += 1;
        }
        if !b.seen {
            self.out.heads.push((pid, Head::Reset));
        }
        b.seen = true;
    }

    fn at(&mut self, time: Option<&str>) -> Option<chrono::DateTime<chrono::Utc>> {
        match self.time.parse(time?) {
            Parsed::At(t) => {
                self.out.stats.saw_time(t);
                Some(t)
            }
            Parsed::UnknownZone => {
                self.out.stats.unknown_time_zones += 1;
                None
            }
            Parsed::Invalid => None,
        }
    }
}

fn opt(s: Option<&str>) -> Option<String> {
    s.filter(|v| !v.is_empty() && *v != "[unknown]")
        .map(str::to_string)
}

fn build(
    e: &Entry<'_>,
    at: Option<chrono::DateTime<chrono::Utc>>,
    ms: f64,
    kind: SampleKind,
    query: &str,
    plan: Option<&str>,
) -> Sample {
    Sample {
        at,
        duration_ms: ms,
        query: query.to_string(),
        parameters: e.detail.as_deref().and_then(parameters).unwrap_or_default(),
        database: opt(e.database),
        user: opt(e.user),
        application: opt(e.application),
        client: opt(e.client),
        pid: e.pid,
        session: opt(e.session),
        kind,
        plan: plan.map(str::to_string),
    }
}
