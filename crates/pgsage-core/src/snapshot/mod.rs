//! The [`Snapshot`]: everything pgsage knows about a server at one moment, as plain
//! serde data with one shape for every PostgreSQL version.
//!
//! The file format is versioned ([`SNAPSHOT_VERSION`]) and documented in
//! `docs/snapshot-format.md`.

mod activity;
mod database_sections;
mod erp;
mod file;
mod normalise;
mod objects;
mod server;
mod statements;
mod stats;

pub use activity::{
    Backend, LockWait, PreparedXact, ReplicationClient, ReplicationSlot, StandbyStatus,
    VacuumProgress,
};
pub use database_sections::DatabaseSections;
pub use erp::{Attachments, ErpFacts, QueueBacklog, ScheduledJob};
pub use normalise::{normalised_collected_at, NORMALISED_PORT, NORMALISED_SERVER_DIR};
pub use objects::{
    Column, Constraint, Extension, ForeignKey, Index, Role, Sequence, Table, Trigger,
};
pub(crate) use server::unit_multiplier;
pub use server::{Fact, Gap, HostFacts, Platform, ServerInfo, Setting, StorageKind, ToolInfo};
pub use statements::{Statement, StatementTotals, StatementUsage, Statements};
pub use stats::{ArchiverStats, CheckpointerStats, DatabaseStats, IoStats, WalStats};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The snapshot file format version this build reads and writes.
///
/// Version 2 added [`Snapshot::other_databases`]; version 1 files load unchanged (the
/// field is empty).
pub const SNAPSHOT_VERSION: u32 = 2;

/// Everything collected from one server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// File format version, [`SNAPSHOT_VERSION`].
    pub snapshot_version: u32,
    /// The pgsage build that collected it.
    pub tool: ToolInfo,
    /// When collection finished (server clock).
    pub collected_at: DateTime<Utc>,
    /// Whether host, user and application names were replaced by hashes and literals removed.
    pub redacted: bool,
    /// Server and session facts.
    pub server: ServerInfo,
    /// Host facts known at collection time.
    pub host: HostFacts,
    /// What could not be collected, and why.
    pub gaps: Vec<Gap>,
    /// `pg_settings`.
    pub settings: Vec<Setting>,
    /// Every database of the cluster.
    pub databases: Vec<DatabaseStats>,
    /// `pg_stat_activity`.
    pub activity: Vec<Backend>,
    /// Sessions waiting for locks, and on whom.
    pub lock_waits: Vec<LockWait>,
    /// Running VACUUMs (`pg_stat_progress_vacuum`), autovacuum's included.
    #[serde(default)]
    pub vacuum_progress: Vec<VacuumProgress>,
    /// Checkpointer and background writer.
    pub checkpointer: Option<CheckpointerStats>,
    /// `pg_stat_wal` (14+).
    pub wal: Option<WalStats>,
    /// `pg_stat_archiver`.
    pub archiver: Option<ArchiverStats>,
    /// `pg_stat_io` (16+).
    pub io: Vec<IoStats>,
    /// Connected standbys and subscribers.
    pub replication: Vec<ReplicationClient>,
    /// Replication slots.
    pub replication_slots: Vec<ReplicationSlot>,
    /// The standby's view of its replication, when collected from a standby.
    #[serde(default)]
    pub standby: Option<StandbyStatus>,
    /// Prepared transactions.
    pub prepared_xacts: Vec<PreparedXact>,
    /// Roles that can log in.
    pub roles: Vec<Role>,
    /// The managed services' administration roles present on the server
    /// (`azure_pg_admin`, `rds_superuser`, `cloudsqlsuperuser`, …): evidence of the
    /// platform ([`crate::knowledge::platform`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub provider_roles: Vec<String>,
    /// The managed services' marker settings the server knows, with their values
    /// (`azure.extensions` → `pg_stat_statements,hypopg`, `rds.force_ssl` → `1`, …), read
    /// with `current_setting(name, true)`: a provider may define them so that
    /// `pg_settings` does not list them. Snapshots that recorded only the names load with
    /// empty values.
    #[serde(
        default,
        skip_serializing_if = "std::collections::BTreeMap::is_empty",
        deserialize_with = "provider_settings::deserialize"
    )]
    pub provider_settings: std::collections::BTreeMap<String, String>,
    /// Tables of the connected database.
    pub tables: Vec<Table>,
    /// Indexes of the connected database.
    pub indexes: Vec<Index>,
    /// Foreign keys of the connected database.
    pub foreign_keys: Vec<ForeignKey>,
    /// Sequences of the connected database.
    pub sequences: Vec<Sequence>,
    /// Extensions installed in the connected database.
    pub extensions: Vec<Extension>,
    /// Columns of the connected database's tables, with planner statistics when visible.
    #[serde(default)]
    pub columns: Vec<Column>,
    /// Primary key, unique, check and exclusion constraints of the connected database.
    #[serde(default)]
    pub constraints: Vec<Constraint>,
    /// User triggers of the connected database.
    #[serde(default)]
    pub triggers: Vec<Trigger>,
    /// The ERP application recognised in the connected database (Odoo), and what was
    /// read of it; `None` when none was recognised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erp: Option<ErpFacts>,
    /// The current WAL position in bytes (`pg_current_wal_lsn()`, or the replay position on
    /// a standby): with the baseline's, the WAL rate on every version.
    #[serde(default)]
    pub wal_lsn_bytes: Option<i64>,
    /// `pg_stat_statements`, when installed and readable.
    pub statements: Option<Statements>,
    /// The first of two samples, when collected with an interval.
    pub baseline: Option<Baseline>,
    /// The per-database sections of the other databases of the cluster, when collected
    /// with `--all-databases` or `--databases PATTERN` (the connected database's are the
    /// top-level `tables`, `indexes`, …). Read them through [`Snapshot::database_views`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_databases: Vec<DatabaseSections>,
}

/// The counters of an earlier sample, so rules can use rates over a window
/// instead of totals since the last statistics reset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// When the earlier sample was taken.
    pub collected_at: DateTime<Utc>,
    /// Databases at that time.
    pub databases: Vec<DatabaseStats>,
    /// Checkpointer at that time.
    pub checkpointer: Option<CheckpointerStats>,
    /// WAL at that time.
    pub wal: Option<WalStats>,
    /// Tables at that time.
    pub tables: Vec<Table>,
    /// Indexes at that time.
    pub indexes: Vec<Index>,
    /// Statements at that time.
    pub statements: Option<Statements>,
    /// WAL position at that time, in bytes.
    #[serde(default)]
    pub wal_lsn_bytes: Option<i64>,
}

impl Snapshot {
    /// A setting by name.
    pub fn setting(&self, name: &str) -> Option<&Setting> {
        self.settings.iter().find(|s| s.name == name)
    }

    /// Whether an extension is installed in the connected database.
    pub fn has_extension(&self, name: &str) -> bool {
        self.extensions.iter().any(|e| e.name == name)
    }

    /// The connected database's statistics.
    pub fn current_database(&self) -> Option<&DatabaseStats> {
        self.databases
            .iter()
            .find(|d| d.name == self.server.database)
    }

    /// Seconds the server had been up at collection time.
    pub fn uptime_seconds(&self) -> f64 {
        seconds_between(self.server.started_at, self.collected_at)
    }

    /// Seconds between the baseline and this sample, when sampled with an interval.
    pub fn window_seconds(&self) -> Option<f64> {
        self.baseline
            .as_ref()
            .map(|b| seconds_between(b.collected_at, self.collected_at))
            .filter(|s| *s > 0.0)
    }

    /// Seconds from a timestamp to collection time (0 when in the future).
    pub fn age_seconds(&self, at: DateTime<Utc>) -> f64 {
        seconds_between(at, self.collected_at).max(0.0)
    }

    /// A gap recorded for `what`, if any.
    pub fn gap(&self, what: &str) -> Option<&Gap> {
        self.gaps.iter().find(|g| g.what == what)
    }
}

fn seconds_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_milliseconds() as f64 / 1000.0
}

/// Reading `provider_settings` as written now (name → value) or by the first snapshots
/// that had the field (a list of names).
mod provider_settings {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Written {
        Values(BTreeMap<String, String>),
        Names(Vec<String>),
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<BTreeMap<String, String>, D::Error> {
        Ok(match Written::deserialize(d)? {
            Written::Values(map) => map,
            Written::Names(names) => names.into_iter().map(|n| (n, String::new())).collect(),
        })
    }
}
