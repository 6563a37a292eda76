//! The `queries` pack: the workload's queries — one taking most of the time, N+1
//! patterns, huge result sets, expensive planning, temp-file spills, low cache hit, and a
//! tenant taking a disproportionate share of the load.
//!
//! Every rule judges a [`Workload`], so the same rules serve two sources:
//! - `pgsage audit`: the workload of the snapshot's `pg_stat_statements` (deltas over the
//!   sampled window with `--interval`), built once per audit (`RuleContext::workload`);
//! - `pgsage workload`: a log capture (or pg_stat_statements again), see
//!   `crate::engine::workload`.
//!
//! In an audit, every verdict is a share or a rate of pg_stat_statements counters over
//! their window ([`workload_window`]): below the audit's minimum (a sampled interval of 10
//! minutes, or `min_stats_age_hours` since pg_stat_statements' reset) the findings are
//! "unsure" — information, low confidence, no fix (`crate::knowledge::counters`).
//!
//! A rule whose numbers the source does not carry (rows, blocks and planning time are not
//! in logs; percentiles are not in pg_stat_statements) is skipped with the reason.

mod dominant_query;
mod high_planning_share;
mod huge_result_sets;
mod n_plus_one_queries;
mod noisy_neighbour;
mod query_low_cache_hit;
mod query_temp_spills;

use crate::knowledge::counters::StatsWindow;
use crate::rules::{Basis, RuleContext};
use std::collections::BTreeMap;

pub use dominant_query::DominantQuery;
pub use high_planning_share::HighPlanningShare;
pub use huge_result_sets::HugeResultSets;
pub use n_plus_one_queries::NPlusOne;
pub use noisy_neighbour::NoisyNeighbour;
pub use query_low_cache_hit::LowCacheHit;
pub use query_temp_spills::TempSpills;

use crate::report::{ObjectKind, ObjectRef};
use crate::rules::{Draft, ParamValue, Rule, Skip};
use crate::workload::{QueryStats, SourceKind, Workload};

/// This pack's rules.
pub(crate) static RULES: &[Rule] = &[
    Rule::Workload(&DominantQuery),
    Rule::Workload(&NPlusOne),
    Rule::Workload(&HugeResultSets),
    Rule::Workload(&HighPlanningShare),
    Rule::Workload(&TempSpills),
    Rule::Workload(&LowCacheHit),
    Rule::Workload(&NoisyNeighbour),
];

/// What a workload rule sees: the workload, the server facts given with it, and its
/// parameters.
#[derive(Debug)]
pub struct WorkloadContext<'a> {
    /// The workload (pg_stat_statements of a snapshot, or server logs).
    pub workload: &'a Workload,
    /// The snapshot and host facts beside the workload: the audited snapshot, or
    /// `pgsage workload --snapshot` (empty for a log capture alone). Rules that need a
    /// fact it lacks skip with the reason.
    pub facts: &'a crate::questions::Facts<'a>,
    /// This rule's parameters (from the pack file and the user's configuration).
    pub params: &'a BTreeMap<String, ParamValue>,
}

impl WorkloadContext<'_> {
    /// This rule's typed parameters (its `Params`, declared in `declare_rule!`).
    pub fn params<T: serde::de::DeserializeOwned>(&self) -> Result<T, Skip> {
        crate::rules::context::params_for_rule(self.params)
    }
}

/// The window of the snapshot's pg_stat_statements workload (its own basis: the sampled
/// interval, or since pg_stat_statements' reset), under the audit's minimums.
pub(crate) fn workload_window(ctx: &RuleContext<'_>, w: &Workload) -> StatsWindow {
    let window = ctx.stats_window();
    match (w.source.basis.as_deref(), w.source.window_seconds) {
        (Some("interval"), Some(seconds)) => {
            window.over(Basis::Interval { seconds }, "pg_stat_statements counters")
        }
        (Some("since_reset"), Some(seconds)) => {
            window.over(Basis::SinceReset { seconds }, "pg_stat_statements counters")
        }
        _ => window,
    }
}

/// The finding object for a query: its fingerprint, with the database when it ran in one
/// and the normalized text.
pub(crate) fn query_object(q: &QueryStats) -> ObjectRef {
    ObjectRef {
        kind: ObjectKind::Query,
        database: q.single_database().map(str::to_owned),
        schema: None,
        name: q.fingerprint.to_string(),
        query: Some(short_text(&q.query)),
    }
}

/// Normalized text cut to 500 characters for reports.
pub(crate) fn short_text(q: &str) -> String {
    if q.chars().count() <= 500 {
        return q.to_owned();
    }
    let cut: String = q.chars().take(500).collect();
    format!("{cut}…")
}

/// Common evidence: executions, time, mean, share, source and window.
pub(crate) fn base_evidence(d: Draft, q: &QueryStats, w: &Workload) -> Draft {
    let mut d = d
        .evidence("calls", q.calls)
        .evidence("total_time_ms", round1(q.total_ms))
        .evidence("mean_time_ms", round3(q.mean_ms))
        .evidence("time_share_pct", round1(q.share_pct(&w.totals)))
        .evidence("source", source_label(w));
    if let Some(s) = w.source.window_seconds {
        d = d.evidence("window_s", s.round());
    }
    if let Some(p95) = q.p95_ms {
        d = d.evidence("p95_time_ms", round3(p95));
    }
    if !q.queryids.is_empty() {
        d = d.evidence(
            "queryids",
            q.queryids
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(","),
        );
    }
    d
}

/// `log`, `pg_stat_statements (interval)` or `pg_stat_statements (since_reset)`.
pub(crate) fn source_label(w: &Workload) -> String {
    match (w.source.kind, &w.source.basis) {
        (SourceKind::Log, _) => "log".to_owned(),
        (SourceKind::PgStatStatements, Some(b)) => format!("pg_stat_statements ({b})"),
        (SourceKind::PgStatStatements, None) => "pg_stat_statements".to_owned(),
    }
}

/// Executions of every statement, nested ones included (for call shares).
pub(crate) fn all_calls(w: &Workload) -> u64 {
    w.totals.calls
        + w.queries
            .iter()
            .filter(|q| q.toplevel == Some(false))
            .map(|q| q.calls)
            .sum::<u64>()
}

pub(crate) fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

pub(crate) fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A statement that reads or writes data (not DDL, utility, DO/CALL, transaction control).
pub(crate) fn is_dml(q: &QueryStats) -> bool {
    use crate::workload::fingerprint::StatementKind;
    matches!(q.kind, StatementKind::Read | StatementKind::Write)
}

/// The statements the `queries` scenario plants (testdata/scenarios/queries.toml), as
/// pg_stat_statements records them.
#[cfg(test)]
pub(crate) mod tests_support {
    /// QRY001: the query that takes nearly all the time.
    pub const DOMINANT_QUERY: &str = "SELECT count(*) FROM stock_move WHERE md5(note) LIKE $1";
    /// QRY002: a lookup run row by row.
    pub const LOOKUP_QUERY: &str = "SELECT name FROM res_partner WHERE id = $1";
    /// QRY003: a whole-table read.
    pub const WHOLE_TABLE_QUERY: &str = "SELECT id, name, price FROM product_template";
    /// QRY004: a join of many tables, planned at every execution.
    pub const PLANNING_QUERY: &str = "SELECT count(*) FROM j1, j2, j3, j4, j5, j6, j7, j8, j9, j10 WHERE j1.id = j2.id AND j2.id = j3.id AND j3.id = j4.id AND j4.id = j5.id AND j5.id = j6.id AND j6.id = j7.id AND j7.id = j8.id AND j8.id = j9.id AND j9.id = j10.id AND j1.id = $1";
    /// QRY005: a full sort of a table larger than `work_mem`.
    pub const SPILL_QUERY: &str = "SELECT id FROM sort_me ORDER BY note OFFSET $1";
    /// QRY006: a sequential scan of a table larger than a quarter of `shared_buffers`.
    pub const SCAN_QUERY: &str = "SELECT count(*) FROM big_history WHERE amount > $1";
}
