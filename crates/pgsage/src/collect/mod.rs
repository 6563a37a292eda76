//! The live collector: reads a server's settings, statistics and catalogs into a
//! [`Snapshot`], with version-aware SQL for PostgreSQL 13–18.
//!
//! It is read-only and gentle: one connection, a `READ ONLY` transaction, timeouts set,
//! a fixed number of round trips whatever the number of tables. What it cannot see
//! (privileges, extensions, versions) becomes a [`Gap`](crate::snapshot::Gap), never an error.

use std::time::Duration;

use crate::snapshot::{HostFacts, Snapshot};
use crate::{ConnectOptions, Result};

/// What to collect.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// Keep `pg_stat_activity.query` texts (truncated to `query_text_max` characters).
    pub include_query_text: bool,
    /// Maximum length of a kept query text.
    pub query_text_max: usize,
    /// How many `pg_stat_statements` entries to keep, by total execution time.
    pub statements_top_n: usize,
    /// Take two samples this far apart and keep both (rates instead of lifetime counters).
    pub interval: Option<Duration>,
    /// Host facts given by the user (flags, config); recorded in the snapshot.
    pub host_facts: HostFacts,
}

impl Default for CollectOptions {
    fn default() -> Self {
        CollectOptions {
            include_query_text: false,
            query_text_max: 1000,
            statements_top_n: 1000,
            interval: None,
            host_facts: HostFacts::default(),
        }
    }
}

/// Connects with `options` and collects a snapshot with default [`CollectOptions`].
/// Blocks the calling thread (it runs its own small runtime).
pub fn collect_snapshot(options: &ConnectOptions) -> Result<Snapshot> {
    collect_snapshot_with(options, &CollectOptions::default())
}

/// Connects with `options` and collects what `collect` asks for. Blocking.
pub fn collect_snapshot_with(options: &ConnectOptions, collect: &CollectOptions) -> Result<Snapshot> {
    let _ = (options, collect);
    unimplemented!("collector under construction")
}
