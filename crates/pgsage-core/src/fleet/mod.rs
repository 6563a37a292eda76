//! Fleets: auditing many servers in one run (`pgsage fleet`), the pure half.
//!
//! - [`Inventory`] ([`inventory`]): the servers, read from TOML and checked.
//! - [`FleetRun`] ([`run`]): what the live layer (`pgsage::fleet`) brings back, server
//!   by server: a snapshot and its report, or why not ([`ServerStatus`]).
//! - [`FleetSummary`] ([`summary`]): every server's status and counts, the actions across
//!   the fleet and the totals by tag; rendered by [`render`] (table, Markdown, JSON).
//! - [`FindingRow`] ([`findings`]): one row per finding, written as NDJSON and as
//!   Parquet ([`mod@parquet`]) for DuckDB, polars or Spark.
//! - [`write_dir`] ([`output`]): the output directory, every file replaced atomically.
//!
//! `docs/fleet.md` describes all of it for users.

pub mod findings;
pub mod inventory;
pub mod output;
pub mod parquet;
pub mod render;
pub mod run;
pub mod summary;

#[cfg(test)]
pub(crate) mod tests;

pub use findings::{write_ndjson, FindingRow};
pub use inventory::{Inventory, ServerEntry};
pub use output::{write_dir, Written};
pub use parquet::write_parquet;
pub use render::{render_summary, FleetFormat};
pub use run::{Audited, FleetRun, Outcome, ServerRun, ServerStatus};
pub use summary::FleetSummary;
