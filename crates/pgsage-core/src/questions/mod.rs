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
//! [`answer`] gathers the four answers ([`WorkloadAnswers`], plain data in
//! [`crate::report::workload_questions`] with their rendering) for the reports' "Workload
//! questions" section; the `workload` rule pack (WRK001–WRK004) turns the same answers
//! into findings, with the same thresholds (the rules' parameters in
//! `rules/workload.toml`, read by the engine: [`Thresholds`]).
//!
//! Layer: above `advise` (a hot read the index advisor names an index for is left to it),
//! below `rules`.

pub mod cache;
pub mod capacity;
pub mod overlaps;
pub mod reporting;
pub mod windows;

pub use cache::CacheThresholds;
pub use capacity::CapacityThresholds;
pub use overlaps::OverlapThresholds;
pub use reporting::ReportingThresholds;

pub use crate::report::workload_questions::{
    Answer, Cache, CacheCandidate, CachedTable, Capacity, LeftToIndex, Overlaps, PeakStatement,
    Reporting, WindowRef, WorkloadAnswers,
};
use crate::snapshot::{Fact, HostFacts, Snapshot};
use crate::workload::{QueryStats, SourceKind, Workload};

/// What the questions may use besides the workload.
#[derive(Debug, Clone, Default)]
pub struct Facts<'a> {
    /// A snapshot of the server: standbys, tables, sessions, `max_connections`.
    pub snapshot: Option<&'a Snapshot>,
    /// The host's cores (flags, configuration, then the snapshot's host facts).
    pub cpus: Option<Fact<f64>>,
    /// WAL written per second over the snapshot's basis, with where it came from
    /// (`wal_lsn_interval`, `pg_stat_wal_interval`, `pg_stat_wal_since_reset`): the `wal`
    /// pack's rate, set by the engine ([`crate::engine::question_facts`]).
    pub wal_bytes_per_s: Option<Fact<f64>>,
    /// Where the ERP already sends its read-only work (Odoo's `db_replica_host`, from
    /// `--odoo-conf`), when known.
    pub replica_host: Option<String>,
}

impl<'a> Facts<'a> {
    /// The facts of a snapshot (if any) and host facts given by the user, which win.
    pub fn new(snapshot: Option<&'a Snapshot>, host: &HostFacts) -> Facts<'a> {
        let cpus = host
            .cpus
            .clone()
            .or_else(|| snapshot.and_then(|s| s.host.cpus.clone()));
        Facts {
            snapshot,
            cpus,
            wal_bytes_per_s: None,
            replica_host: None,
        }
    }
}

/// A statement's figures in `window`.
pub fn peak_statement(w: &Workload, q: &QueryStats, window: &WindowRef) -> PeakStatement {
    let (calls, ms) = windows::in_window(w, q, window);
    let named = |shares: &[crate::workload::Share]| -> Vec<String> {
        let mut s: Vec<_> = shares.iter().filter(|s| s.name != "?").collect();
        s.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms));
        s.into_iter().take(3).map(|s| s.name.clone()).collect()
    };
    PeakStatement {
        fingerprint: q.fingerprint.to_string(),
        query: q.query.clone(),
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

/// The thresholds of the four questions (the `workload` rules' parameters); `Err` with the
/// reason when a question is not asked (its rule turned off).
#[derive(Debug, Clone)]
pub struct Thresholds {
    /// WRK001's.
    pub reporting: Result<ReportingThresholds, String>,
    /// WRK002's.
    pub cache: Result<CacheThresholds, String>,
    /// WRK003's.
    pub overlaps: Result<OverlapThresholds, String>,
    /// WRK004's.
    pub capacity: Result<CapacityThresholds, String>,
}

/// Answers the four questions.
pub fn answer(w: &Workload, facts: &Facts<'_>, t: &Thresholds) -> WorkloadAnswers {
    let all = windows::windows(w);
    WorkloadAnswers {
        source: match w.source.kind {
            SourceKind::Log => "log",
            SourceKind::PgStatStatements => "pg_stat_statements",
        }
        .to_owned(),
        windows: all.len(),
        interactive_peak: windows::interactive_peak(&all).cloned(),
        reporting: Answer::from_result(
            t.reporting
                .clone()
                .and_then(|t| reporting::reports_at_peak(w, facts, &t)),
        ),
        cache: Answer::from_result(
            t.cache
                .clone()
                .and_then(|t| cache::cache_candidates(w, facts, &t)),
        ),
        overlaps: Answer::from_result(
            t.overlaps
                .clone()
                .and_then(|t| overlaps::batch_at_peak(w, &t)),
        ),
        capacity: Answer::from_result(
            t.capacity
                .clone()
                .and_then(|_| capacity::capacity_at_peak(w, facts)),
        ),
    }
}

/// pg_stat_statements reset this recently (seconds) is a sample of the time since.
pub const RECENT_RESET_SECONDS: f64 = 3600.0;

/// Ok when the workload's windows are samples of the day: a log capture with time
/// windows, or pg_stat_statements deltas over a sampled interval. pg_stat_statements
/// since its reset sums every hour since (days, nights and weekends in one window): the
/// peak is not in it.
pub fn one_window_is_a_sample(w: &Workload) -> Result<(), String> {
    if windows::has_windows(w) {
        return Ok(());
    }
    match (w.source.kind, w.source.basis.as_deref()) {
        (SourceKind::PgStatStatements, Some("interval")) => Ok(()),
        // Reset at most an hour ago: the counters are one sample of that hour, as an
        // interval would be (a reset before the busy hour is a way to sample it).
        (SourceKind::PgStatStatements, Some("since_reset"))
            if w
                .source
                .window_seconds
                .is_some_and(|s| s > 0.0 && s <= RECENT_RESET_SECONDS) =>
        {
            Ok(())
        }
        (SourceKind::PgStatStatements, _) => Err(
            "pg_stat_statements since its reset is one window over every hour since: sample an interval of the counters during the peak, or read server logs"
                .to_owned(),
        ),
        (SourceKind::Log, _) => {
            Err("the log lines carry no timestamps: no time windows (add %m to log_line_prefix)".to_owned())
        }
    }
}
