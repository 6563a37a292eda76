//! What each platform lets users change: the parameters it refuses (with what to do
//! instead), Aurora's cluster-level parameters, and the extension allow-lists.
//!
//! Sources:
//! - Azure flexible server, read-only parameters (`fsync`, `full_page_writes`,
//!   `synchronous_commit` allow only `on`; archiving is the service's backup):
//!   <https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-server-parameters>,
//!   <https://learn.microsoft.com/azure/postgresql/flexible-server/param-write-ahead-log-settings>;
//!   extensions allow-listed in `azure.extensions` before `CREATE EXTENSION`:
//!   <https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-extensions>.
//! - RDS: archiving and replication level are the service's (`rds.logical_replication`
//!   turns logical decoding on):
//!   <https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.Parameters.html>.
//! - Aurora: storage writes and recovers pages itself, so WAL sizing, checkpoints and
//!   durability switches do not apply; cluster-level parameters live in the DB cluster
//!   parameter group:
//!   <https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraPostgreSQL.Reference.ParameterGroups.html>.
//! - Cloud SQL: only the flags listed are settable; logical decoding is
//!   `cloudsql.logical_decoding`, extensions that need preloading have their own flags:
//!   <https://cloud.google.com/sql/docs/postgres/flags>.

use super::ParameterGroup;
use crate::snapshot::{Platform, Snapshot};

/// Whether a platform lets users set a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Settable, in this parameter group.
    Settable(ParameterGroup),
    /// Refused: why, and what the user can do instead.
    Refused {
        /// Why the platform refuses it.
        why: &'static str,
        /// What the user can do.
        instead: &'static str,
    },
}

/// A parameter a platform refuses.
struct Refusal {
    name: &'static str,
    why: &'static str,
    instead: &'static str,
}

const fn refuse(name: &'static str, why: &'static str, instead: &'static str) -> Refusal {
    Refusal { name, why, instead }
}

const DURABILITY_KEPT: &str = "nothing to change: the service keeps it on";
const ARCHIVING_KEPT: &str =
    "nothing to change: the service archives WAL for its backups and point-in-time restore";

const AZURE: &[Refusal] = &[
    refuse("fsync", "read-only on Azure flexible server (only `on` is allowed)", DURABILITY_KEPT),
    refuse(
        "full_page_writes",
        "read-only on Azure flexible server (only `on` is allowed)",
        DURABILITY_KEPT,
    ),
    refuse(
        "synchronous_commit",
        "read-only on Azure flexible server (only `on` is allowed)",
        "for a session or role that can lose its last commits on a crash, SET synchronous_commit = off there (ALTER ROLE … SET)",
    ),
    refuse("archive_mode", "read-only: the service archives WAL for its backups", ARCHIVING_KEPT),
    refuse("archive_command", "read-only: the service archives WAL for its backups", ARCHIVING_KEPT),
    refuse("archive_library", "read-only: the service archives WAL for its backups", ARCHIVING_KEPT),
    // The service keeps 15 connections for replication and monitoring
    // (https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-limits).
    refuse(
        "superuser_reserved_connections",
        "the service's: it reserves 15 connections for its replication and monitoring",
        "nothing to change; size max_connections with those 15 left out",
    ),
    refuse(
        "reserved_connections",
        "the service's: it reserves 15 connections for its replication and monitoring",
        "nothing to change; size max_connections with those 15 left out",
    ),
];

const RDS: &[Refusal] = &[
    refuse(
        "archive_mode",
        "not modifiable on RDS: the service archives WAL for its backups",
        ARCHIVING_KEPT,
    ),
    refuse(
        "archive_command",
        "not modifiable on RDS: the service archives WAL for its backups",
        ARCHIVING_KEPT,
    ),
    refuse(
        "archive_library",
        "not modifiable on RDS: the service archives WAL for its backups",
        ARCHIVING_KEPT,
    ),
    refuse(
        "wal_level",
        "not modifiable on RDS",
        "set rds.logical_replication = 1 in the parameter group (restart) for logical decoding",
    ),
    refuse(
        "synchronous_standby_names",
        "not modifiable on RDS: Multi-AZ replicates below PostgreSQL",
        "use a Multi-AZ deployment for a synchronous standby",
    ),
];

const AURORA: &[Refusal] = &[
    refuse("fsync", "not applicable on Aurora: its storage writes and recovers pages itself", DURABILITY_KEPT),
    refuse(
        "full_page_writes",
        "not applicable on Aurora: its storage writes and recovers pages itself",
        DURABILITY_KEPT,
    ),
    refuse(
        "max_wal_size",
        "not applicable on Aurora: no PostgreSQL checkpoints or WAL files on its storage",
        "nothing to change: Aurora sizes its own log",
    ),
    refuse(
        "min_wal_size",
        "not applicable on Aurora: no PostgreSQL checkpoints or WAL files on its storage",
        "nothing to change: Aurora sizes its own log",
    ),
    refuse(
        "checkpoint_timeout",
        "not applicable on Aurora: no PostgreSQL checkpoints on its storage",
        "nothing to change",
    ),
    refuse(
        "checkpoint_completion_target",
        "not applicable on Aurora: no PostgreSQL checkpoints on its storage",
        "nothing to change",
    ),
    refuse(
        "wal_compression",
        "not applicable on Aurora: its storage does not write full-page images",
        "nothing to change",
    ),
    refuse("archive_mode", "not applicable on Aurora: its storage keeps the log for backups", ARCHIVING_KEPT),
    refuse("archive_command", "not applicable on Aurora: its storage keeps the log for backups", ARCHIVING_KEPT),
    refuse(
        "wal_level",
        "not modifiable on Aurora",
        "set rds.logical_replication = 1 in the DB cluster parameter group (restart) for logical decoding",
    ),
];

const CLOUD_SQL_PRELOAD: &str = "pg_stat_statements is preloaded by Cloud SQL (CREATE EXTENSION pg_stat_statements is enough); other libraries have their own flags (cloudsql.enable_pg_cron, cloudsql.enable_auto_explain, cloudsql.enable_pgaudit …)";

const CLOUD_SQL: &[Refusal] = &[
    refuse("fsync", "not a Cloud SQL flag", DURABILITY_KEPT),
    refuse("full_page_writes", "not a Cloud SQL flag", DURABILITY_KEPT),
    refuse(
        "archive_mode",
        "not a Cloud SQL flag: the service archives WAL for its backups",
        ARCHIVING_KEPT,
    ),
    refuse(
        "archive_command",
        "not a Cloud SQL flag: the service archives WAL for its backups",
        ARCHIVING_KEPT,
    ),
    refuse(
        "wal_level",
        "not a Cloud SQL flag",
        "set the flag cloudsql.logical_decoding = on for logical decoding",
    ),
    refuse(
        "shared_preload_libraries",
        "not a Cloud SQL flag",
        CLOUD_SQL_PRELOAD,
    ),
    refuse(
        "huge_pages",
        "not a Cloud SQL flag: the service decides",
        "nothing to change",
    ),
    refuse(
        "synchronous_standby_names",
        "not a Cloud SQL flag: high availability replicates below PostgreSQL",
        "use a high-availability (regional) instance for a synchronous standby",
    ),
];

const ALLOYDB: &[Refusal] = &[
    refuse("fsync", "not an AlloyDB flag", DURABILITY_KEPT),
    refuse("full_page_writes", "not an AlloyDB flag", DURABILITY_KEPT),
    refuse(
        "archive_mode",
        "not an AlloyDB flag: the service keeps the log for backups",
        ARCHIVING_KEPT,
    ),
    refuse(
        "archive_command",
        "not an AlloyDB flag: the service keeps the log for backups",
        ARCHIVING_KEPT,
    ),
    refuse(
        "shared_preload_libraries",
        "not an AlloyDB flag",
        "pg_stat_statements is preloaded by AlloyDB: CREATE EXTENSION pg_stat_statements",
    ),
];

/// Aurora parameters of the DB cluster parameter group (the rest are instance-level):
/// those that must be the same on every instance because they act on the shared storage
/// or on replication.
const AURORA_CLUSTER_LEVEL: &[&str] = &[
    "autovacuum",
    "autovacuum_*",
    "rds.logical_replication",
    "rds.force_ssl",
    "max_replication_slots",
    "max_wal_senders",
    "max_logical_replication_workers",
    "wal_sender_timeout",
    "password_encryption",
    "track_commit_timestamp",
    "timezone",
];

fn refusals(platform: Platform) -> &'static [Refusal] {
    match platform {
        Platform::AzureFlexibleServer => AZURE,
        Platform::AwsRds => RDS,
        Platform::AwsAurora => AURORA,
        Platform::GcpCloudSql => CLOUD_SQL,
        Platform::GcpAlloydb => ALLOYDB,
        Platform::SelfManaged => &[],
    }
}

fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// Whether `platform` lets users set `name`, and where.
pub fn access(platform: Platform, name: &str) -> Access {
    if let Some(r) = refusals(platform).iter().find(|r| r.name == name) {
        return Access::Refused {
            why: r.why,
            instead: r.instead,
        };
    }
    if platform == Platform::AwsAurora && AURORA_CLUSTER_LEVEL.iter().any(|p| matches(p, name)) {
        return Access::Settable(ParameterGroup::Cluster);
    }
    Access::Settable(ParameterGroup::Instance)
}

/// Settings a Cloud SQL configuration file sets that are not flags a user set (locale,
/// paths, the service's own logging): left out of the flags to keep.
const NOT_USER_FLAGS: &[&str] = &[
    "lc_*",
    "DateStyle",
    "TimeZone",
    "log_timezone",
    "default_text_search_config",
    "dynamic_shared_memory_type",
    "listen_addresses",
    "port",
    "data_directory",
    "hba_file",
    "ident_file",
    "config_file",
    "unix_socket_*",
    "ssl*",
    "log_destination",
    "logging_collector",
    "log_directory",
    "log_filename",
    "log_line_prefix",
    "cluster_name",
    "shared_preload_libraries",
];

/// Whether a setting from the server's configuration file may be a flag the user set
/// (Cloud SQL, AlloyDB).
pub fn is_user_flag(name: &str) -> bool {
    !NOT_USER_FLAGS.iter().any(|p| matches(p, name))
}

/// Azure's extension allow-list parameter.
pub const AZURE_EXTENSIONS: &str = "azure.extensions";

/// The setting change a platform needs before `CREATE EXTENSION` of `extensions` works:
/// on Azure, adding them to `azure.extensions` (its current list kept). `None` when none
/// is needed or they are all allowed already.
pub fn allow_extensions(
    platform: Platform,
    snapshot: Option<&Snapshot>,
    extensions: &[String],
) -> Option<super::SettingChange> {
    if platform != Platform::AzureFlexibleServer || extensions.is_empty() {
        return None;
    }
    let current: Option<String> = snapshot.and_then(|snapshot| {
        snapshot
            .setting(AZURE_EXTENSIONS)
            .map(|s| s.setting.clone())
            .or_else(|| snapshot.provider_settings.get(AZURE_EXTENSIONS).cloned())
            .filter(|v| !v.is_empty())
    });
    let mut list: Vec<String> = match &current {
        Some(v) => v
            .split(',')
            .map(|e| e.trim().to_ascii_lowercase())
            .filter(|e| !e.is_empty())
            .collect(),
        // Unknown: keep what is there, which pgsage cannot see.
        None => vec!["<current azure.extensions>".to_owned()],
    };
    let missing: Vec<String> = extensions
        .iter()
        .map(|e| e.to_ascii_lowercase())
        .filter(|e| !list.contains(e))
        .collect();
    if missing.is_empty() {
        return None;
    }
    list.extend(missing);
    Some(super::SettingChange {
        name: AZURE_EXTENSIONS.to_owned(),
        value: list.join(","),
        restart: false,
    })
}

/// The extensions `sql` creates (`CREATE EXTENSION [IF NOT EXISTS] name`).
pub fn created_extensions(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in sql.lines() {
        let t = line.trim();
        if t.starts_with("--") {
            continue;
        }
        let words: Vec<&str> = t.split_whitespace().collect();
        let upper: Vec<String> = words.iter().map(|w| w.to_ascii_uppercase()).collect();
        if upper.len() >= 3 && upper[0] == "CREATE" && upper[1] == "EXTENSION" {
            let at = if upper.get(2).map(String::as_str) == Some("IF") {
                5
            } else {
                2
            };
            if let Some(name) = words.get(at) {
                let name = name.trim_end_matches(';').trim_matches('"');
                if !name.is_empty() && !out.iter().any(|e: &String| e == name) {
                    out.push(name.to_owned());
                }
            }
        }
    }
    out
}
