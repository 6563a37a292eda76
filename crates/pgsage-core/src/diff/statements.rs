//! Statements that regressed between two snapshots: their mean execution time over the
//! interval against their mean before it.
//!
//! A statement is matched by `queryid` with its database, role and top-level flag; when
//! the queryids differ (a new major version, a changed schema), by its normalized text
//! with the same database and role. Its calls, time and rows in between are the
//! differences of its counters; when `pg_stat_statements` was reset or the entry was
//! evicted and counted again, the new snapshot's own counters (since then) are used
//! instead of a negative difference. Only the `top` entries a snapshot holds can be
//! compared.

use serde::{Deserialize, Serialize};

use super::resets::{statements_reset, CounterReset};
use crate::snapshot::{Snapshot, Statement};

/// When a statement counts as regressed: all three must hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegressionThresholds {
    /// The new mean is at least this multiple of the old one.
    pub mean_ratio: f64,
    /// The mean rose by at least this many milliseconds.
    pub min_mean_increase_ms: f64,
    /// The statement ran at least this many times in between.
    pub min_calls: i64,
}

impl Default for RegressionThresholds {
    fn default() -> Self {
        RegressionThresholds {
            mean_ratio: 1.5,
            min_mean_increase_ms: 1.0,
            min_calls: 10,
        }
    }
}

/// How a statement was matched between the snapshots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchedBy {
    /// Same `queryid`, database, role and top-level flag.
    Queryid,
    /// Same normalized text, database and role (the queryids differ).
    Text,
}

/// What the new figures cover.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    /// The differences of the counters between the snapshots.
    Interval,
    /// The new snapshot's counters alone: they were reset (or the entry evicted) in
    /// between.
    SinceReset,
}

/// A statement whose mean execution time rose past the thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatementRegression {
    /// `queryid` in the new snapshot.
    pub queryid: i64,
    /// Its database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// Its role.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Its normalized text, when readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// How it was matched.
    pub matched_by: MatchedBy,
    /// What the new figures cover.
    pub basis: Basis,
    /// Mean execution time before, ms.
    pub old_mean_ms: f64,
    /// Mean execution time in between (or since the reset), ms.
    pub new_mean_ms: f64,
    /// `new_mean_ms / old_mean_ms`.
    pub ratio: f64,
    /// Calls before (since the old snapshot's reset).
    pub old_calls: i64,
    /// Calls in between (or since the reset).
    pub new_calls: i64,
    /// Rows per call before.
    pub old_rows_per_call: f64,
    /// Rows per call in between (or since the reset).
    pub new_rows_per_call: f64,
    /// The time the calls in between took beyond what they took at the old mean, ms.
    pub extra_time_ms: f64,
}

/// The regressed statements of `new` against `old`, costliest first.
pub fn regressions(
    old: &Snapshot,
    new: &Snapshot,
    resets: &[CounterReset],
    t: &RegressionThresholds,
) -> Vec<StatementRegression> {
    let (Some(os), Some(ns)) = (&old.statements, &new.statements) else {
        return Vec::new();
    };
    let reset = statements_reset(resets);
    let mut out: Vec<StatementRegression> = ns
        .top
        .iter()
        .filter_map(|n| {
            let (o, by) = matching(&os.top, n)?;
            regression(o, n, by, reset, t)
        })
        .collect();
    out.sort_by(|a, b| b.extra_time_ms.total_cmp(&a.extra_time_ms));
    out
}

fn matching<'a>(old: &'a [Statement], n: &Statement) -> Option<(&'a Statement, MatchedBy)> {
    let same_place = |o: &&Statement| o.database == n.database && o.user == n.user;
    if let Some(o) = old
        .iter()
        .filter(same_place)
        .find(|o| o.queryid == n.queryid && o.toplevel == n.toplevel)
    {
        return Some((o, MatchedBy::Queryid));
    }
    let text = normalized(n.query.as_deref()?);
    let mut by_text = old
        .iter()
        .filter(same_place)
        .filter(|o| o.query.as_deref().is_some_and(|q| normalized(q) == text));
    let first = by_text.next()?;
    // Two old entries with one text (differing search paths): no sure match.
    by_text.next().is_none().then_some((first, MatchedBy::Text))
}

/// Whitespace collapsed and lower-cased: the same statement as two versions normalize it.
fn normalized(query: &str) -> String {
    query
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn regression(
    o: &Statement,
    n: &Statement,
    matched_by: MatchedBy,
    reset: bool,
    t: &RegressionThresholds,
) -> Option<StatementRegression> {
    if o.calls <= 0 {
        return None;
    }
    let restarted = reset || n.calls < o.calls || n.total_exec_time_ms < o.total_exec_time_ms;
    let (basis, calls, time_ms, rows) = if restarted {
        (Basis::SinceReset, n.calls, n.total_exec_time_ms, n.rows)
    } else {
        (
            Basis::Interval,
            n.calls - o.calls,
            n.total_exec_time_ms - o.total_exec_time_ms,
            n.rows - o.rows,
        )
    };
    if calls < t.min_calls.max(1) {
        return None;
    }
    let old_mean_ms = o.total_exec_time_ms / o.calls as f64;
    let new_mean_ms = time_ms / calls as f64;
    let regressed = new_mean_ms >= old_mean_ms * t.mean_ratio
        && new_mean_ms - old_mean_ms >= t.min_mean_increase_ms;
    regressed.then(|| StatementRegression {
        queryid: n.queryid,
        database: n.database.clone(),
        user: n.user.clone(),
        query: n.query.clone(),
        matched_by,
        basis,
        old_mean_ms,
        new_mean_ms,
        // A mean of zero cannot come from a call that ran; a microsecond keeps the ratio
        // finite (JSON has no infinity).
        ratio: new_mean_ms / old_mean_ms.max(0.001),
        old_calls: o.calls,
        new_calls: calls,
        old_rows_per_call: o.rows as f64 / o.calls as f64,
        new_rows_per_call: rows as f64 / calls as f64,
        extra_time_ms: calls as f64 * (new_mean_ms - old_mean_ms),
    })
}
