//! The workload questions' answers (computed by `crate::questions`) as plain data, and
//! the "Workload questions" section of the text and Markdown reports: what runs at the
//! peak, what could move to a replica, what could be cached, batch work at the peak, how
//! much headroom is left. Statements are named by fingerprint and text.

use std::io::{self, Write};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::units;

/// One window as the answers name it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowRef {
    /// Its position in the profile's windows.
    pub index: usize,
    /// Its start, when known (logs).
    pub start: Option<DateTime<Utc>>,
    /// Its length in seconds, clipped to the capture (a capture that starts mid-window
    /// covers part of it), when known.
    pub seconds: Option<f64>,
    /// Executions in it.
    pub calls: u64,
    /// Execution time in it, ms.
    pub total_ms: f64,
    /// Executions of short statements (interactive work) in it.
    pub interactive_calls: u64,
}

/// What runs at the interactive peak that a replica could serve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reporting {
    /// The interactive peak.
    pub peak: WindowRef,
    /// Short statements per second in it.
    pub interactive_per_s: Option<f64>,
    /// Standbys streaming from this server (pg_stat_replication), when a snapshot says.
    pub standbys: Option<usize>,
    /// The long reads in the peak, most time first.
    pub statements: Vec<PeakStatement>,
}

/// A table a cache candidate reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachedTable {
    /// `schema.name`.
    pub name: String,
    /// Table and TOAST, bytes.
    pub size_bytes: i64,
    /// Estimated live rows.
    pub live_rows: i64,
    /// Rows inserted, updated or deleted per second over the snapshot's basis.
    pub writes_per_s: f64,
}

/// A hot read an application cache would serve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheCandidate {
    /// The fingerprint.
    pub fingerprint: String,
    /// Normalized text.
    pub query: String,
    /// Executions.
    pub calls: u64,
    /// Executions per second over the capture.
    pub calls_per_s: f64,
    /// Mean time, ms.
    pub mean_ms: f64,
    /// Rows per execution, when the source records rows.
    pub rows_per_call: Option<f64>,
    /// The tables it reads.
    pub tables: Vec<CachedTable>,
    /// Executions per row written in those tables (None: not written at all).
    pub reads_per_write: Option<f64>,
}

/// A hot read left to the index advisor: an index it lacks makes it slow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LeftToIndex {
    /// The fingerprint.
    pub fingerprint: String,
    /// Normalized text.
    pub query: String,
    /// Executions per second.
    pub calls_per_s: f64,
    /// The index IDX009 recommends for it.
    pub index: String,
}

/// The cache answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cache {
    /// Candidates, most executions first.
    pub candidates: Vec<CacheCandidate>,
    /// Hot reads an index serves better than a cache.
    pub left_to_index: Vec<LeftToIndex>,
}

/// Batch work in the interactive peak.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overlaps {
    /// The interactive peak.
    pub peak: WindowRef,
    /// The window with the least interactive work, where the jobs could move.
    pub quietest: Option<WindowRef>,
    /// The batch statements in the peak, most time first.
    pub jobs: Vec<PeakStatement>,
}

/// Headroom at the busiest window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Capacity {
    /// The busiest window (most execution time).
    pub peak: WindowRef,
    /// Average sessions busy with queries in it.
    pub busy_sessions: f64,
    /// Average sessions busy with queries over the whole capture, when its length is known.
    pub average_busy_sessions: Option<f64>,
    /// The host's cores, when known (host facts, `--cpus`, `--tier`).
    pub cpus: Option<f64>,
    /// Where the cores came from (`flag`, `config`, `cgroup`, …).
    pub cpus_source: Option<String>,
    /// Busy sessions as a share of the cores, %.
    pub busy_pct: Option<f64>,
    /// Client connections when the snapshot was taken.
    pub connections: Option<usize>,
    /// `max_connections`.
    pub max_connections: Option<i64>,
    /// Temporary file bytes over the capture (pg_stat_statements or logged temp files).
    pub temp_bytes: Option<i64>,
}

/// A statement in a window, with its share of the window's time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeakStatement {
    /// The fingerprint.
    pub fingerprint: String,
    /// Normalized text.
    pub query: String,
    /// Whether it is a bulk load (`COPY`, multi-row `VALUES`).
    pub bulk: bool,
    /// Executions in the window.
    pub peak_calls: u64,
    /// Execution time in the window, ms.
    pub peak_ms: f64,
    /// Share of the window's execution time, %.
    pub peak_share_pct: f64,
    /// Mean time over the capture, ms.
    pub mean_ms: f64,
    /// Share of the blocks read from disk over the capture (pg_stat_statements), %.
    pub io_share_pct: Option<f64>,
    /// The database, when it ran in one.
    pub database: Option<String>,
    /// Applications that ran it, most time first (logs with `%a`).
    pub applications: Vec<String>,
    /// Users that ran it, most time first.
    pub users: Vec<String>,
}

/// An answer, or why the question could not be answered from what was given.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Answer<T> {
    /// The answer.
    Answered(T),
    /// Why not (a missing fact, a source without windows, the rule turned off).
    Unanswered(String),
}

/// The four answers of the reports' "Workload" section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadAnswers {
    /// `log` or `pg_stat_statements`.
    pub source: String,
    /// Time windows in the capture (one for pg_stat_statements).
    pub windows: usize,
    /// The interactive peak: the window with the most short statements.
    pub interactive_peak: Option<WindowRef>,
    /// Long reads at the interactive peak (WRK001).
    pub reporting: Answer<Reporting>,
    /// Hot reads an application cache would serve (WRK002).
    pub cache: Answer<Cache>,
    /// Batch work in the interactive peak (WRK003).
    pub overlaps: Answer<Overlaps>,
    /// Headroom at the busiest window (WRK004).
    pub capacity: Answer<Capacity>,
}

impl WindowRef {
    /// `2026-12-07 09:00 UTC` or `the sampled window`.
    pub fn label(&self) -> String {
        match self.start {
            // Seconds only for windows shorter than a minute.
            Some(s)
                if chrono::Timelike::second(&s) != 0 || self.seconds.is_some_and(|l| l < 60.0) =>
            {
                s.format("%Y-%m-%d %H:%M:%S UTC").to_string()
            }
            Some(s) => s.format("%Y-%m-%d %H:%M UTC").to_string(),
            None => "the captured window".to_owned(),
        }
    }
}

impl<T> Answer<T> {
    /// `Answered` from `Ok`, `Unanswered` with the reason from `Err`.
    pub fn from_result(r: Result<T, String>) -> Answer<T> {
        match r {
            Ok(v) => Answer::Answered(v),
            Err(reason) => Answer::Unanswered(reason),
        }
    }

    /// The answer, if any.
    pub fn answered(&self) -> Option<&T> {
        match self {
            Answer::Answered(v) => Some(v),
            Answer::Unanswered(_) => None,
        }
    }
}

/// The section as plain text.
pub fn render_text(a: &WorkloadAnswers, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "== Workload questions")?;
    for (title, lines) in sections(a) {
        writeln!(out, "  {title}: {}", lines[0])?;
        for l in &lines[1..] {
            writeln!(out, "    - {l}")?;
        }
    }
    Ok(())
}

/// The section as Markdown.
pub fn render_markdown(a: &WorkloadAnswers, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "## Workload questions\n")?;
    for (title, lines) in sections(a) {
        writeln!(out, "**{title}**: {}\n", lines[0])?;
        for l in &lines[1..] {
            writeln!(out, "- {l}")?;
        }
        if lines.len() > 1 {
            writeln!(out)?;
        }
    }
    Ok(())
}

/// (title, [summary, detail lines…]) per question.
fn sections(a: &WorkloadAnswers) -> Vec<(&'static str, Vec<String>)> {
    let mut s = Vec::new();
    s.push((
        "What runs at the peak",
        match &a.interactive_peak {
            Some(p) if a.windows <= 1 => vec![format!(
                "{} keeps one window ({} short statements{}): the per-hour classes and the peak hour need server logs",
                a.source,
                units::count(p.interactive_calls),
                p.seconds
                    .filter(|s| *s > 0.0)
                    .map(|s| format!(", {}/s", units::number(p.interactive_calls as f64 / s)))
                    .unwrap_or_default()
            )],
            Some(p) => vec![format!(
                "the interactive peak is {} with {} short statements{}",
                p.label(),
                units::count(p.interactive_calls),
                p.seconds
                    .filter(|s| *s > 0.0)
                    .map(|s| format!(" ({}/s)", units::number(p.interactive_calls as f64 / s)))
                    .unwrap_or_default()
            )],
            None => vec!["no short statements: no interactive peak".to_owned()],
        },
    ));
    s.push((
        "Move to a replica",
        answer(&a.reporting, |r| {
            let standby = match r.standbys {
                Some(0) => "; no standby streams from this server",
                Some(_) => "; a standby streams from this server",
                None => "",
            };
            let mut l = vec![if r.statements.is_empty() {
                format!("no long read takes a large share of the peak{standby}")
            } else {
                format!(
                    "{} {} {} of the peak's execution time on the primary{standby}",
                    units::counted(r.statements.len(), "long read", "long reads"),
                    if r.statements.len() == 1 {
                        "takes"
                    } else {
                        "take"
                    },
                    units::percent(r.statements.iter().map(|s| s.peak_share_pct).sum())
                )
            }];
            l.extend(r.statements.iter().map(statement_line));
            l
        }),
    ));
    s.push((
        "Cache",
        answer(&a.cache, |c| {
            let mut l = vec![if c.candidates.is_empty() {
                "no hot read of a small, rarely written table".to_owned()
            } else {
                format!(
                    "{} of small, rarely written tables",
                    units::counted(c.candidates.len(), "hot read", "hot reads")
                )
            }];
            l.extend(c.candidates.iter().map(|c| {
                format!(
                    "{} `{}`: {}/s at {} each, tables {}",
                    c.fingerprint,
                    cut(&c.query),
                    units::number(c.calls_per_s),
                    units::millis(c.mean_ms),
                    c.tables
                        .iter()
                        .map(|t| format!(
                            "{} ({}, {} writes/s)",
                            t.name,
                            units::bytes(t.size_bytes),
                            units::number(t.writes_per_s)
                        ))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }));
            l.extend(c.left_to_index.iter().map(|x| {
                format!(
                    "{} `{}`: {}/s, slow for want of an index, not a cache: {}",
                    x.fingerprint,
                    cut(&x.query),
                    units::number(x.calls_per_s),
                    x.index
                )
            }));
            l
        }),
    ));
    s.push((
        "Batch work at the peak",
        answer(&a.overlaps, |o| {
            let mut l = vec![if o.jobs.is_empty() {
                format!("no batch work in the interactive peak ({})", o.peak.label())
            } else {
                format!(
                    "{} {} {} of the peak's execution time{}",
                    units::counted(o.jobs.len(), "batch statement", "batch statements"),
                    if o.jobs.len() == 1 { "takes" } else { "take" },
                    units::percent(o.jobs.iter().map(|s| s.peak_share_pct).sum()),
                    o.quietest
                        .as_ref()
                        .map(|q| format!("; the quietest window is {}", q.label()))
                        .unwrap_or_default()
                )
            }];
            l.extend(o.jobs.iter().map(statement_line));
            l
        }),
    ));
    s.push((
        "Headroom",
        answer(&a.capacity, |c| {
            let busy = units::number(c.busy_sessions);
            let mut first = match (c.cpus, c.busy_pct) {
                (Some(cpus), Some(pct)) => format!(
                    "at the busiest window ({}), {busy} of {} cores are busy with queries ({})",
                    c.peak.label(),
                    units::number(cpus),
                    units::percent(pct)
                ),
                _ => format!(
                    "at the busiest window ({}), {busy} sessions are busy with queries (the host's cores are unknown)",
                    c.peak.label()
                ),
            };
            if let Some(avg) = c.average_busy_sessions {
                first.push_str(&format!("; {} on average", units::number(avg)));
            }
            let mut l = vec![first];
            if let (Some(n), Some(max)) = (c.connections, c.max_connections) {
                l.push(format!(
                    "{} of max_connections {} when the snapshot was taken",
                    units::counted(n, "client connection", "client connections"),
                    units::count(max)
                ));
            }
            if let Some(t) = c.temp_bytes {
                l.push(format!("{} of temporary files over the capture", units::bytes(t)));
            }
            l
        }),
    ));
    s
}

fn answer<T>(a: &Answer<T>, f: impl Fn(&T) -> Vec<String>) -> Vec<String> {
    match a {
        Answer::Answered(v) => f(v),
        Answer::Unanswered(why) => vec![format!("not answered: {why}")],
    }
}

fn statement_line(s: &PeakStatement) -> String {
    let mut l = format!(
        "{} `{}`: {} in the peak ({}, {} runs, {} each)",
        s.fingerprint,
        cut(&s.query),
        units::millis(s.peak_ms),
        units::percent(s.peak_share_pct),
        units::count(s.peak_calls),
        units::millis(s.mean_ms)
    );
    if let Some(io) = s.io_share_pct {
        l.push_str(&format!(", {} of the blocks read", units::percent(io)));
    }
    let who: Vec<&str> = s
        .applications
        .iter()
        .chain(&s.users)
        .map(String::as_str)
        .collect();
    if !who.is_empty() {
        l.push_str(&format!(", by {}", who.join(", ")));
    }
    l
}

/// The text cut to 100 characters for a one-line mention.
fn cut(q: &str) -> String {
    if q.chars().count() <= 100 {
        return q.to_owned();
    }
    format!("{}…", q.chars().take(100).collect::<String>())
}
