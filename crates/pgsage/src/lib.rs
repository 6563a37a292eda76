//! # pgsage
//!
//! A PostgreSQL tuning advisor. The flow:
//!
//! 1. [`collect_snapshot`] connects (read-only, gentle) and reads what the server knows about
//!    itself into a [`Snapshot`] — plain serde data, one shape for PostgreSQL 13–18, saved
//!    and loaded with [`Snapshot::save`] / [`Snapshot::load`].
//! 2. [`audit`] runs the rules (pure functions over the snapshot, in parallel) with a
//!    [`RuleConfig`] built from the rule packs under `rules/` and the user's overrides.
//! 3. The resulting [`Report`] holds [`Finding`]s with evidence and fixes, and renders as
//!    JSON, a table or Markdown.
#![deny(missing_docs)]

pub mod advise;
pub mod api;
pub mod collect;
pub mod config;
pub mod connect;
mod engine;
mod error;
pub mod frames;
pub mod host;
pub mod plan;
pub mod redact;
pub mod report;
pub mod rules;
pub mod snapshot;
pub mod sql;
pub mod tune;
pub mod workload;

pub use collect::{collect_snapshot, collect_snapshot_with, CollectOptions};
pub use config::RuleConfig;
pub use connect::ConnectOptions;
pub use engine::{audit, audit_and_tune, audit_from, tune_report, Source};
pub use error::{Error, Result};
pub use report::{Finding, Report, Severity};
pub use snapshot::Snapshot;
