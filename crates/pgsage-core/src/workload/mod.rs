//! The workload: what queries run, how often and how long, from pg_stat_statements or from
//! server logs, fingerprinted so the same query with different constants is one entry.
//!
//! - [`log`] reads server logs (stderr with any `log_line_prefix`, csvlog, jsonlog,
//!   compressed or not) into [`Sample`]s.
//! - [`Sample`] is one executed statement as a log reports it; the aggregation turns
//!   samples (or pg_stat_statements entries) into per-fingerprint statistics.
//! - [`fingerprint`] normalizes statements (constants → `$n`, lists collapsed) into
//!   64-bit fingerprints that match between a log and pg_stat_statements.
//! - [`Aggregator`] turns samples into a [`Workload`] (memory bounded by the number of
//!   distinct fingerprints; mergeable across threads); [`from_snapshot`] does the same for
//!   a snapshot's pg_stat_statements.
//! - [`Workload`] is the `workload.json` contract (`docs/workload.md`); the `queries`
//!   rule pack judges it, and the report of `pgsage workload` shows it
//!   ([`crate::engine::workload`]).

mod aggregate;
pub mod fingerprint;
mod frame;
mod from_logs;
pub mod log;
mod model;
pub mod profile;
mod sample;
pub mod sketch;
mod statements;

pub use aggregate::{AggregateOptions, Aggregator};
pub use frame::{queries_frame, QueryRow};
pub use from_logs::{found_statements, from_log_files, from_logs};
pub use model::{
    Bucket, QueryStats, Share, SourceKind, Totals, Workload, WorkloadSource,
    WORKLOAD_SCHEMA_VERSION,
};
pub use sample::{Sample, SampleKind};
pub use statements::{from_snapshot, from_statements, NoWorkload};
