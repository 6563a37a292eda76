//! The [`Workload`]: per-fingerprint statistics and the profile of a capture, as plain serde
//! data (the `workload.json` contract, documented in `docs/workload.md`).

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::fingerprint::{Fingerprint, StatementKind};
use crate::{Error, Result};

/// The `workload.json` format version.
pub const WORKLOAD_SCHEMA_VERSION: u32 = 1;

/// A captured workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    /// [`WORKLOAD_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Where it came from.
    pub source: WorkloadSource,
    /// Sums over the whole capture.
    pub totals: Totals,
    /// Read/write mix, rates, peak window, shares, per-window classification.
    pub profile: super::profile::Profile,
    /// Every fingerprint, by total execution time (largest first).
    pub queries: Vec<QueryStats>,
    /// Serialization failures, deadlocks, lock timeouts and lock waits of a log
    /// capture, per (kind × table × statement), most first (absent in older files and
    /// in pg_stat_statements workloads).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub incidents: Vec<super::incidents::IncidentGroup>,
}

/// Where a workload came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadSource {
    /// `log` or `pg_stat_statements`.
    pub kind: SourceKind,
    /// The log files read (empty for pg_stat_statements).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// The server's version, when known (`15.18`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    /// pg_stat_statements: `interval` (deltas between two samples) or `since_reset`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub basis: Option<String>,
    /// Start of the captured period, when known.
    pub started_at: Option<DateTime<Utc>>,
    /// End of the captured period, when known.
    pub ended_at: Option<DateTime<Utc>>,
    /// Length of the captured period in seconds, when known.
    pub window_seconds: Option<f64>,
    /// Whether pg_stat_statements records planning time (`track_planning`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub track_planning: Option<bool>,
}

/// The kind of source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// Server logs (per-execution samples: percentiles, time buckets).
    Log,
    /// pg_stat_statements (cumulative counters: rows, blocks, planning, temp I/O).
    PgStatStatements,
}

/// Sums over a capture.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Executions (top-level statements only for pg_stat_statements, so nested statements
    /// are not counted twice).
    pub calls: u64,
    /// Execution time, ms (top-level).
    pub total_ms: f64,
    /// Distinct fingerprints.
    pub fingerprints: usize,
    /// Executions that could not be attributed to a query: pg_stat_statements entries of
    /// other roles whose text is hidden, or beyond the collected top entries.
    pub unattributed_calls: u64,
    /// Their execution time, ms.
    pub unattributed_ms: f64,
    /// Log samples skipped (empty statement text).
    #[serde(default)]
    pub skipped_samples: u64,
}

/// One fingerprint's statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryStats {
    /// The fingerprint (16 hex digits).
    pub fingerprint: Fingerprint,
    /// The statement as pg_stat_statements or the log has it, constants replaced by `$n`
    /// ([`super::fingerprint::shown_text`]).
    pub query: String,
    /// Read, write, DDL, …
    pub kind: StatementKind,
    /// Executions.
    pub calls: u64,
    /// Execution time, ms.
    pub total_ms: f64,
    /// Mean execution time, ms.
    pub mean_ms: f64,
    /// Shortest execution, ms.
    pub min_ms: f64,
    /// Longest execution, ms.
    pub max_ms: f64,
    /// Median, ms (logs only: pg_stat_statements keeps no distribution).
    pub p50_ms: Option<f64>,
    /// 95th percentile, ms (logs only).
    pub p95_ms: Option<f64>,
    /// 99th percentile, ms (logs only).
    pub p99_ms: Option<f64>,
    /// Rows returned or affected (pg_stat_statements only: logs do not record rows).
    pub rows: Option<i64>,
    /// Whether it ran at top level (false: inside a function; pg_stat_statements 14+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toplevel: Option<bool>,
    /// Planning time, ms (pg_stat_statements with `track_planning`, or logged parse/bind
    /// steps of the extended protocol).
    pub plan_ms: Option<f64>,
    /// Times planned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plans: Option<i64>,
    /// Shared blocks found in the buffer cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_blks_hit: Option<i64>,
    /// Shared blocks read from disk (or the OS cache).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_blks_read: Option<i64>,
    /// Temporary file bytes written (pg_stat_statements temp blocks × 8 KiB, or the log's
    /// `temporary file` lines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temp_bytes: Option<i64>,
    /// Whether it is a bulk load (`COPY … FROM`, multi-row `VALUES`).
    #[serde(default)]
    pub bulk: bool,
    /// pg_stat_statements queryids merged into this fingerprint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queryids: Vec<i64>,
    /// pg_stat_statements' own text of the largest entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_text: Option<String>,
    /// One logged statement with its constants, cut to 4 KiB (for EXPLAIN by the index
    /// advisor; it may hold data values).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
    /// Executions and time per database.
    pub databases: Vec<Share>,
    /// … per user.
    pub users: Vec<Share>,
    /// … per application (logs with `%a`).
    pub applications: Vec<Share>,
    /// … per time bucket (logs with timestamps).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub buckets: Vec<Bucket>,
}

/// Executions and time of one database, user or application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Share {
    /// Its name (`?` when the source does not say).
    pub name: String,
    /// Executions.
    pub calls: u64,
    /// Execution time, ms.
    pub total_ms: f64,
}

/// Executions and time in one time bucket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    /// Start of the bucket.
    pub start: DateTime<Utc>,
    /// Executions.
    pub calls: u64,
    /// Execution time, ms.
    pub total_ms: f64,
}

impl Workload {
    /// The workload as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Writes `workload.json`.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        std::fs::write(path, self.to_json() + "\n").map_err(|source| Error::Io {
            context: format!("writing {}", path.display()),
            source,
        })
    }

    /// Reads a `workload.json`.
    pub fn load(path: impl AsRef<Path>) -> Result<Workload> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            context: format!("reading {}", path.display()),
            source,
        })?;
        let w: Workload = serde_json::from_str(&text).map_err(|e| Error::InvalidValue {
            what: path.display().to_string(),
            problem: format!("not a workload file: {e}"),
        })?;
        if w.schema_version != WORKLOAD_SCHEMA_VERSION {
            return Err(Error::InvalidValue {
                what: path.display().to_string(),
                problem: format!(
                    "workload schema version {} (this build reads {WORKLOAD_SCHEMA_VERSION})",
                    w.schema_version
                ),
            });
        }
        Ok(w)
    }

    /// A query by fingerprint.
    pub fn query(&self, fingerprint: Fingerprint) -> Option<&QueryStats> {
        self.queries.iter().find(|q| q.fingerprint == fingerprint)
    }
}

impl QueryStats {
    /// Share of the capture's execution time, in %.
    pub fn share_pct(&self, totals: &Totals) -> f64 {
        if totals.total_ms > 0.0 {
            100.0 * self.total_ms / totals.total_ms
        } else {
            0.0
        }
    }

    /// The database it ran in when only one, for finding objects.
    pub fn single_database(&self) -> Option<&str> {
        match self.databases.as_slice() {
            [one] if one.name != "?" => Some(&one.name),
            _ => None,
        }
    }
}
