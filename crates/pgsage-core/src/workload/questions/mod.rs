//! The workload questions an ERP operator asks, answered from a workload (server logs or
//! pg_stat_statements) and, when given, a snapshot of the server (standbys, tables, host):
//!
//! - what runs at the interactive peak, and which long reads there could move to a read
//!   replica ([`reporting`]);
//! - which hot reads an application cache would serve ([`cache`]);
//! - which batch work overlaps the interactive peak ([`overlaps`], logs only: it needs
//!   time windows);
//! - how much headroom is left at the busiest window ([`capacity`]).
//!
//! [`WorkloadAnswers`] gathers the four answers for the reports' "Workload" section; the
//! `workload` rule pack (WRK001–WRK004) turns the same answers into findings, with the
//! same thresholds (the rules' parameters in `rules/workload.toml`).

pub mod cache;
pub mod capacity;
pub mod overlaps;
mod render;
pub mod reporting;
pub mod windows;

pub use cache::{Cache, CacheCandidate, CacheThresholds, CachedTable, LeftToIndex};
pub use capacity::{Capacity, CapacityThresholds};
pub use overlaps::{OverlapThresholds, Overlaps};
pub use render::{render_markdown, render_text};
pub use reporting::{Reporting, ReportingThresholds};
pub use windows::WindowRef;

use serde::{Deserialize, Serialize};

use crate::config::RuleConfig;
use crate::snapshot::{Fact, HostFacts, Snapshot};
use crate::workload::fingerprint::{Fingerprint, StatementKind};
use crate::workload::{QueryStats, SourceKind, Workload};

/// What the questions may use besides the workload.
#[derive(Debug, Clone, Default)]
pub struct Facts<'a> {
    /// A snapshot of the server: standbys, tables, sessions, `max_connections`.
    pub snapshot: Option<&'a Snapshot>,
    /// The host's cores (flags, configuration, then the snapshot's host facts).
    pub cpus: Option<Fact<f64>>,
}

impl<'a> Facts<'a> {
    /// The facts of a snapshot (if any) and host facts given by the user, which win.
    pub fn new(snapshot: Option<&'a Snapshot>, host: &HostFacts) -> Facts<'a> {
        let cpus = host
            .cpus
            .clone()
            .or_else(|| snapshot.and_then(|s| s.host.cpus.clone()));
        Facts { snapshot, cpus }
    }
}

/// A statement in a window, with its share of the window's time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeakStatement {
    /// The fingerprint.
    pub fingerprint: Fingerprint,
    /// Normalized text.
    pub query: String,
    /// Read, write, …
    pub kind: StatementKind,
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

impl PeakStatement {
    /// A statement's figures in `window`.
    pub fn of(w: &Workload, q: &QueryStats, window: &WindowRef) -> PeakStatement {
        let (calls, ms) = windows::in_window(w, q, window);
        let named = |shares: &[crate::workload::Share]| -> Vec<String> {
            let mut s: Vec<_> = shares.iter().filter(|s| s.name != "?").collect();
            s.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms));
            s.into_iter().take(3).map(|s| s.name.clone()).collect()
        };
        PeakStatement {
            fingerprint: q.fingerprint,
            query: q.query.clone(),
            kind: q.kind,
            bulk: q.bulk,
            peak_calls: calls,
            peak_ms: ms,
            peak_share_pct: if window.total_ms > 0.0 {
                100.0 * ms / window.total_ms
            } else {
                0.0
            },
            mean_ms: q.mean_ms,
            io_share_pct: None,
            database: q.single_database().map(str::to_owned),
            applications: named(&q.applications),
            users: named(&q.users),
        }
    }
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

impl<T> Answer<T> {
    fn from(r: Result<T, String>) -> Answer<T> {
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

/// The four answers of the reports' "Workload" section.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadAnswers {
    /// `log` or `pg_stat_statements`.
    pub source: SourceKind,
    /// Time windows in the capture (one for pg_stat_statements).
    pub windows: usize,
    /// The interactive peak: the window with the most short statements.
    pub interactive_peak: Option<WindowRef>,
    /// Long reads at the interactive peak (WRK001).
    pub reporting: Answer<Reporting>,
    /// Hot reads an application cache would serve (WRK002).
    pub cache: Answer<cache::Cache>,
    /// Batch work in the interactive peak (WRK003).
    pub overlaps: Answer<Overlaps>,
    /// Headroom at the busiest window (WRK004).
    pub capacity: Answer<Capacity>,
}

impl WorkloadAnswers {
    /// Answers the questions with the thresholds of the `workload` pack's rules in
    /// `config` (a rule turned off leaves its question unanswered).
    pub fn build(w: &Workload, facts: &Facts<'_>, config: &RuleConfig) -> WorkloadAnswers {
        let all = windows::windows(w);
        WorkloadAnswers {
            source: w.source.kind,
            windows: all.len(),
            interactive_peak: windows::interactive_peak(&all).cloned(),
            reporting: Answer::from(
                thresholds(config, "WRK001").and_then(|t| reporting::reports_at_peak(w, facts, &t)),
            ),
            cache: Answer::from(
                thresholds(config, "WRK002").and_then(|t| cache::cache_candidates(w, facts, &t)),
            ),
            overlaps: Answer::from(
                thresholds(config, "WRK003").and_then(|t| overlaps::batch_at_peak(w, &t)),
            ),
            capacity: Answer::from(
                thresholds::<CapacityThresholds>(config, "WRK004")
                    .and_then(|_| capacity::capacity_at_peak(w, facts)),
            ),
        }
    }

    /// The answers as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// A rule's parameters as the question's thresholds, or why the question is not asked.
fn thresholds<T: serde::de::DeserializeOwned>(config: &RuleConfig, id: &str) -> Result<T, String> {
    if !config.is_enabled(id) {
        return Err(format!("{id} is turned off"));
    }
    let settings = config
        .rules
        .get(id)
        .ok_or_else(|| format!("{id} is not in the rule packs"))?;
    crate::rules::params::parse(&settings.params).map_err(|e| format!("{id}: {e}"))
}

/// Ok when the workload's windows are samples of the day: a log capture with time
/// windows, or pg_stat_statements deltas over a sampled interval. pg_stat_statements
/// since its reset sums every hour since (days, nights and weekends in one window): the
/// peak is not in it.
pub(crate) fn one_window_is_a_sample(w: &Workload) -> Result<(), String> {
    if windows::has_windows(w) {
        return Ok(());
    }
    match (w.source.kind, w.source.basis.as_deref()) {
        (SourceKind::PgStatStatements, Some("interval")) => Ok(()),
        (SourceKind::PgStatStatements, _) => Err(
            "pg_stat_statements since its reset is one window over every hour since: sample an interval during the peak (pgsage audit --interval 10m) or read server logs"
                .to_owned(),
        ),
        (SourceKind::Log, _) => {
            Err("the log lines carry no timestamps: no time windows (add %m to log_line_prefix)".to_owned())
        }
    }
}
