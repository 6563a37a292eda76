//! The log reader's hook for lock incidents: an `ERROR` or lock-wait entry becomes a
//! [`crate::workload::incidents`] incident of its chunk. Called only for those entries
//! (statements never get here), and an error that is not a conflict costs one byte
//! compare.

use chrono::{DateTime, Utc};

use super::assemble::Entry;
use super::stats::LogStats;
use crate::workload::incidents::parse::{self, Logged};

fn logged<'a>(e: &'a Entry<'_>, at: Option<DateTime<Utc>>) -> Logged<'a> {
    Logged {
        message: &e.message,
        detail: e.detail.as_deref(),
        context: e.context.as_deref(),
        statement: e.statement.as_deref(),
        pid: e.pid,
        database: e.database,
        user: e.user,
        application: e.application,
        at,
    }
}

/// An `ERROR` entry: a serialization failure, deadlock or lock timeout is recorded.
pub(super) fn on_error(e: &Entry<'_>, at: Option<DateTime<Utc>>, stats: &mut LogStats) {
    if parse::error_kind(&e.message).is_none() {
        return;
    }
    if let Some(i) = parse::error(&logged(e, at)) {
        stats.incidents.add(i);
    }
}

/// A `process N still waiting for …` / `acquired …` entry.
pub(super) fn on_lock_wait(e: &Entry<'_>, at: Option<DateTime<Utc>>, stats: &mut LogStats) {
    if let Some(i) = parse::lock_wait(&logged(e, at)) {
        stats.incidents.add(i);
    }
}
