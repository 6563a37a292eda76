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
//!
//! This crate is the live layer: [`connect`], [`collect`], live EXPLAIN
//! ([`plan::analyze_live`]), HypoPG validation ([`advise::live`]) and the index advisor's
//! entry point ([`advise::request::run`]). Everything pure (the snapshot model, rules,
//! packs, report, tuning, plan and log parsing, index candidates) lives in
//! [`pgsage_core`] and is re-exported here under the same paths (`pgsage::snapshot`,
//! `pgsage::rules`, …); `docs/architecture.md` says what goes where.
#![deny(missing_docs)]

pub mod advise;
pub mod collect;
pub mod connect;
mod error;
pub mod fleet;
pub mod plan;

pub use pgsage_core::{
    config, diff, engine, frames, host, html, knowledge, questions, redact, report, rules,
    snapshot, sql, tune, units, workload,
};

pub use collect::{
    collect_snapshot, collect_snapshot_cancellable, collect_snapshot_with,
    collect_snapshot_with_stats, CollectOptions, DatabaseSelection,
};
pub use connect::ConnectOptions;
pub use error::{DriverError, Error, Result};
pub use pgsage_core::Error as CoreError;
pub use pgsage_core::ParseValueError;
pub use pgsage_core::{
    audit, audit_and_tune, audit_from, tune_report, Finding, Report, RuleConfig, Severity,
    Snapshot, Source,
};
