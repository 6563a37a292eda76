//! The workload questions' answers (computed by `crate::questions`) as plain data: what
//! runs at the peak, what could move to a replica, what could be cached, batch work at the
//! peak, how much headroom is left. Statements are named by fingerprint and text; the
//! reports' "Workload questions" section renders them (`report::render`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
    /// WAL written per second over the snapshot's basis, when a snapshot says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wal_bytes_per_s: Option<f64>,
    /// Where the WAL rate came from (`wal_lsn_interval`, `pg_stat_wal_since_reset`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wal_source: Option<String>,
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
            // Seconds only for windows that do not start on a minute.
            Some(s) if chrono::Timelike::second(&s) != 0 => {
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
