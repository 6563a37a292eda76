//! The windows the questions look at: the interactive peak (the window with the most
//! executions of short statements) and the busiest window (the most execution time), and
//! a fingerprint's executions and time inside one window.

use super::WindowRef;
use crate::workload::profile::{thresholds::OLTP_MEAN_MS, Window};
use crate::workload::{QueryStats, SourceKind, Workload};

/// Whether the workload has per-window statistics per fingerprint (a log capture with
/// timestamps), as opposed to one window for everything (pg_stat_statements).
pub fn has_windows(w: &Workload) -> bool {
    w.source.kind == SourceKind::Log && w.queries.iter().any(|q| !q.buckets.is_empty())
}

/// A statement's executions and time in a window: its time bucket of a log capture; its
/// whole counters when the workload is one window (pg_stat_statements). Statements run
/// inside functions count (a report is often a function), but not twice in the totals:
/// see [`counts_in_totals`].
pub fn in_window(w: &Workload, q: &QueryStats, win: &WindowRef) -> (u64, f64) {
    if !has_windows(w) {
        return (q.calls, q.total_ms);
    }
    q.buckets
        .iter()
        .find(|b| Some(b.start) == win.start)
        .map_or((0, 0.0), |b| (b.calls, b.total_ms))
}

/// Whether a statement's time is part of the workload's totals (nested statements of
/// pg_stat_statements' `track = all` are not: their caller's time holds them).
pub fn counts_in_totals(q: &QueryStats) -> bool {
    q.toplevel != Some(false)
}

/// A short, non-bulk statement: what interactive users send (the profile's OLTP mean).
pub fn is_short(q: &QueryStats) -> bool {
    !q.bulk && q.mean_ms <= OLTP_MEAN_MS
}

/// Every window of the profile with its executions of short statements.
pub fn windows(w: &Workload) -> Vec<WindowRef> {
    w.profile
        .windows
        .iter()
        .enumerate()
        .map(|(index, win)| {
            let mut r = WindowRef {
                index,
                start: win.start,
                seconds: clipped_seconds(w, win),
                calls: win.calls,
                total_ms: win.total_ms,
                interactive_calls: 0,
            };
            if !has_windows(w) {
                // One window: the totals include time pg_stat_statements could not
                // attribute to a text (other roles' statements), which is busy time too.
                r.calls = w.totals.calls;
                r.total_ms = w.totals.total_ms;
            }
            r.interactive_calls = w
                .queries
                .iter()
                .filter(|q| is_short(q))
                .map(|q| in_window(w, q, &r).0)
                .sum();
            r
        })
        .collect()
}

/// The interactive peak: the window with the most executions of short statements (a
/// report or a batch job makes a window busy in time, interactive users in executions).
/// None when no window has any.
pub fn interactive_peak(windows: &[WindowRef]) -> Option<&WindowRef> {
    windows
        .iter()
        .filter(|w| w.interactive_calls > 0)
        .max_by(|a, b| {
            a.interactive_calls
                .cmp(&b.interactive_calls)
                .then(b.index.cmp(&a.index))
        })
}

/// The busiest window: the most execution time (the profile's peak).
pub fn busiest(windows: &[WindowRef]) -> Option<&WindowRef> {
    windows.iter().filter(|w| w.total_ms > 0.0).max_by(|a, b| {
        a.total_ms
            .total_cmp(&b.total_ms)
            .then(b.index.cmp(&a.index))
    })
}

/// The window with the fewest executions of short statements, other than `not`: where
/// work moved out of the peak hurts nobody.
pub fn quietest(windows: &[WindowRef], not: usize) -> Option<&WindowRef> {
    windows.iter().filter(|w| w.index != not).min_by(|a, b| {
        a.interactive_calls
            .cmp(&b.interactive_calls)
            .then(a.index.cmp(&b.index))
    })
}

/// A window's length: the bucket, clipped to the capture's first and last statement
/// (the first and last buckets are partial); for pg_stat_statements, the sampled window.
fn clipped_seconds(w: &Workload, win: &Window) -> Option<f64> {
    let (Some(start), Some(len)) = (win.start, win.seconds) else {
        return win.seconds.or(w.source.window_seconds);
    };
    let end = start + chrono::TimeDelta::milliseconds((len * 1000.0) as i64);
    let from = w.source.started_at.map_or(start, |s| s.max(start));
    let to = w.source.ended_at.map_or(end, |e| e.min(end));
    let secs = (to - from).num_milliseconds() as f64 / 1000.0;
    // A capture of a few statements: at least a second, so a rate stays finite.
    Some(secs.max(1.0))
}
