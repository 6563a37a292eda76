//! # pgsage-core
//!
//! The pure half of pgsage, the PostgreSQL tuning advisor: everything that works on data
//! already in hand and never talks to a server. The `pgsage` crate adds the live layer
//! (connecting, collecting, live EXPLAIN, HypoPG validation) on top and re-exports this
//! crate, so front ends use `pgsage::…` paths only.
//!
//! - [`Snapshot`] ([`snapshot`]): what a server knows about itself, as plain serde data,
//!   one shape for PostgreSQL 13–18, saved and loaded with [`Snapshot::save`] /
//!   [`Snapshot::load`].
//! - [`audit`] runs the [`rules`] (pure functions over the snapshot, in parallel) with a
//!   [`RuleConfig`] built from the rule packs under `rules/` and the user's overrides
//!   ([`config`]); the resulting [`Report`] ([`report`]) holds [`Finding`]s with evidence
//!   and fixes, and renders as JSON, a table or Markdown.
//! - [`knowledge`]: the PostgreSQL formulas (autovacuum triggers, memory, WAL and
//!   connection sizing, JIT, parallel and storage settings) the rules and [`tune`] share.
//! - [`tune`] (configuration from hardware and workload), [`plan`] (EXPLAIN parsing and
//!   analysis), [`workload`] (server log parsing, `pg_stat_statements`, aggregation),
//!   [`advise`] (index candidates, unvalidated advice and its rendering), [`redact`] and
//!   [`frames`] (typed tables); [`engine`] runs the rules over a snapshot, a plan or a
//!   workload.
//! - [`diff`]: what changed between two snapshots or reports of one server, and
//!   `audit --baseline`.
//! - [`units`]: the one spelling of bytes, durations, counts and percentages in text.
//!
//! This crate must not depend on tokio, tokio-postgres or a TLS library
//! (`docs/architecture.md`); its errors ([`Error`]) carry no driver error.
#![deny(missing_docs)]

pub mod advise;
pub mod config;
pub mod diff;
pub mod engine;
mod error;
pub mod fleet;
pub mod frames;
pub mod host;
pub mod html;
pub mod knowledge;
pub mod plan;
pub mod questions;
pub mod redact;
pub mod report;
pub mod rules;
pub mod snapshot;
pub mod sql;
pub mod tune;
pub mod units;
pub mod workload;

pub use config::RuleConfig;
pub use engine::{audit, audit_and_tune, audit_from, tune_report, Source};
pub use error::{Error, ParseValueError, Result};
pub use report::{Finding, Report, Severity};
pub use snapshot::Snapshot;
