//! PostgreSQL knowledge: the formulas the audit's rules and `pgsage tune` share, each in
//! one place, documented with the PostgreSQL source or documentation it follows and
//! unit-tested. Where a rule's parameters shape a formula (VAC005's per-table target,
//! CON002's pool size), `tune` gets them through [`crate::RuleConfig::tune_options`], so the
//! audit and `tune` give the same values (`tests/one_voice.rs` checks it).
//!
//! - [`autovacuum`]: when autovacuum vacuums and analyses a table (the dead-row, insert and
//!   analyse triggers, per-table storage parameters over the server's settings), and the
//!   per-table scale factors that bring a large table's trigger down to a target.
//! - [`memory`]: `shared_buffers`, `effective_cache_size`, `maintenance_work_mem`,
//!   `wal_buffers`, `work_mem` and `huge_pages` from RAM, connections and profile; the
//!   worst-case memory estimate; the `work_mem` needed by measured spills and its budget.
//! - [`wal`]: `min_wal_size` / `max_wal_size` per profile and `max_wal_size` from a WAL rate.
//! - [`connections`]: which sessions are client connections, the pool size and the
//!   `max_connections` limits (with and without a pooler).
//! - [`jit`]: the JIT cost thresholds and the profiles that turn JIT off.
//! - [`parallel`], [`storage`], [`planner`]: parallel workers from CPUs,
//!   `random_page_cost` / `effective_io_concurrency` from the storage kind,
//!   `default_statistics_target` per profile.
//! - [`platform`], [`server_parameters`]: which platform a server runs on, and how it lets
//!   users change a server parameter (provider commands, units, refused parameters).
//! - [`platform_tiers`]: the RAM, vCPUs and storage of managed services' compute sizes
//!   (`--tier`), from the providers' documentation.
//! - [`platform_logs`]: where each managed platform's server log comes from and the
//!   `log_line_prefix` of its lines.
//! - [`platform_pooling`], [`platform_slots`], [`platform_privileges`]: each platform's own
//!   pooler, the connection slots and sessions that are the provider's, and the grants its
//!   admin can give.
//! - [`counters`]: how old the cumulative statistics counters are.
//! - [`tenants`]: each tenant database's (role's, application's) share of a shared cluster.
//! - [`maintenance`]: how long a fix's table work (index build, vacuum, rewrite) may take.
//! - [`Profile`]: the workload profile a configuration is sized for.
//!
//! Everything here is a pure function of plain values or of a [`crate::Snapshot`]: no rule
//! context, no tuning report. The rules and [`crate::tune`] call into this module, never
//! the other way round.

pub mod autovacuum;
pub mod connections;
pub mod counters;
pub mod jit;
pub mod maintenance;
pub mod memory;
pub mod odoo;
pub mod parallel;
pub mod planner;
pub mod platform;
pub mod platform_logs;
pub mod platform_pooling;
pub mod platform_privileges;
pub mod platform_slots;
pub mod platform_tiers;
mod profile;
pub mod server_parameters;
pub mod storage;
pub mod tenants;
pub mod wal;

pub use profile::Profile;

/// Bytes in a kilobyte (PostgreSQL's `kB` is 1024 bytes).
pub(crate) const KB: u64 = 1024;
/// Bytes in a megabyte.
pub(crate) const MB: u64 = 1024 * KB;
/// Bytes in a gigabyte.
pub(crate) const GB: u64 = 1024 * MB;

#[cfg(test)]
mod pgtune_tests;
#[cfg(test)]
mod testing;
