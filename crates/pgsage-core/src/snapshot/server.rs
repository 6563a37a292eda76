//! Server-wide facts: version, settings, what could not be collected, host facts.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who collected the snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolInfo {
    /// Always `pgsage`.
    pub name: String,
    /// The crate version that wrote the snapshot.
    pub version: String,
}

impl ToolInfo {
    /// This build of pgsage.
    pub fn current() -> Self {
        ToolInfo {
            name: "pgsage".into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// The server and the session the snapshot was taken through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerInfo {
    /// `server_version`, e.g. `15.18` (distribution suffixes removed).
    pub version: String,
    /// `server_version_num`, e.g. `150018`.
    pub version_num: i32,
    /// `pg_postmaster_start_time()`.
    pub started_at: DateTime<Utc>,
    /// Host the collector connected to (hashed when redacted).
    pub host: Option<String>,
    /// Port the collector connected to.
    pub port: Option<u16>,
    /// The database the collector was connected to; per-table data is for this database only.
    pub database: String,
    /// The role the collector ran as (hashed when redacted).
    pub user: String,
    /// Whether that role is a superuser.
    pub is_superuser: bool,
    /// Whether that role has the privileges of `pg_monitor` (or `pg_read_all_stats`),
    /// i.e. can see other sessions' queries and all statistics.
    pub can_read_all_stats: bool,
    /// `pg_is_in_recovery()`: a standby.
    pub in_recovery: bool,
    /// `cluster_name`, if set.
    pub cluster_name: Option<String>,
}

impl ServerInfo {
    /// The major version (13, 14, …).
    pub fn major(&self) -> i32 {
        self.version_num / 10000
    }
}

/// One row of `pg_settings`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Setting {
    /// Parameter name.
    pub name: String,
    /// Current value, in `unit`.
    pub setting: String,
    /// Unit of `setting`, e.g. `8kB`, `ms`.
    pub unit: Option<String>,
    /// `bool`, `integer`, `real`, `string`, `enum`.
    pub vartype: String,
    /// Where the current value came from (`default`, `configuration file`, …).
    pub source: String,
    /// `postmaster` (restart), `sighup` (reload), `user`, …
    pub context: String,
    /// Value at server start.
    pub boot_val: Option<String>,
    /// Value `RESET` would restore.
    pub reset_val: Option<String>,
    /// Changed in the configuration file but waiting for a restart.
    pub pending_restart: bool,
}

impl Setting {
    /// The value as a number in its base unit (bytes for memory, milliseconds for time),
    /// or `None` when the value is not numeric.
    pub fn as_base_units(&self) -> Option<f64> {
        let v: f64 = self.setting.trim().parse().ok()?;
        let mult = match self.unit.as_deref() {
            None | Some("") => 1.0,
            Some(u) => unit_multiplier(u)?,
        };
        Some(v * mult)
    }

    /// Memory settings in bytes. `-1` (e.g. `autovacuum_work_mem`) yields `None`.
    pub fn as_bytes(&self) -> Option<f64> {
        let v = self.as_base_units()?;
        (v >= 0.0 && self.unit.as_deref().is_some_and(is_memory_unit)).then_some(v)
    }

    /// Time settings in milliseconds (`0` stays `0`: usually "disabled").
    pub fn as_millis(&self) -> Option<f64> {
        let v = self.as_base_units()?;
        self.unit.as_deref().is_some_and(is_time_unit).then_some(v)
    }

    /// Boolean settings.
    pub fn as_bool(&self) -> Option<bool> {
        match self.setting.as_str() {
            "on" | "true" | "yes" | "1" => Some(true),
            "off" | "false" | "no" | "0" => Some(false),
            _ => None,
        }
    }

    /// Numeric settings without unit conversion.
    pub fn as_f64(&self) -> Option<f64> {
        self.setting.trim().parse().ok()
    }

    /// Whether a change needs a restart (else a reload suffices).
    pub fn needs_restart(&self) -> bool {
        self.context == "postmaster"
    }
}

fn is_memory_unit(u: &str) -> bool {
    u.ends_with('B')
}

fn is_time_unit(u: &str) -> bool {
    matches!(u, "us" | "ms" | "s" | "min" | "h" | "d")
}

/// Multiplier from a `pg_settings.unit` to bytes or milliseconds.
/// The size of one `unit` of `pg_settings` (`8kB`, `MB`, `ms`, `min`) in bytes or
/// milliseconds.
pub(crate) fn unit_multiplier(unit: &str) -> Option<f64> {
    // pg_settings units look like "8kB", "kB", "MB", "16MB", "ms", "s", "min".
    let digits: String = unit.chars().take_while(|c| c.is_ascii_digit()).collect();
    let factor: f64 = if digits.is_empty() {
        1.0
    } else {
        digits.parse().ok()?
    };
    let base = match &unit[digits.len()..] {
        "B" => 1.0,
        "kB" => 1024.0,
        "MB" => 1024.0 * 1024.0,
        "GB" => 1024.0 * 1024.0 * 1024.0,
        "TB" => 1024.0f64.powi(4),
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1000.0,
        "min" => 60_000.0,
        "h" => 3_600_000.0,
        "d" => 86_400_000.0,
        _ => return None,
    };
    Some(factor * base)
}

/// Something the collector could not see, and why. Rules that need it are skipped.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Gap {
    /// The section or view, e.g. `pg_stat_statements`.
    pub what: String,
    /// Why: missing extension, privilege, version too old, error text.
    pub why: String,
}

/// Facts about the machine that SQL cannot see.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostFacts {
    /// Memory available to PostgreSQL, in bytes.
    pub ram_bytes: Option<Fact<u64>>,
    /// CPUs available to PostgreSQL.
    pub cpus: Option<Fact<f64>>,
    /// Kind of storage under the data directory.
    pub storage: Option<Fact<StorageKind>>,
    /// Where the server runs: a managed service or self-managed. Detected from the
    /// snapshot (provider settings and roles; the source names the evidence), or given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Fact<Platform>>,
    /// The managed service's compute size the RAM, CPUs and storage came from
    /// (`Standard_D4ds_v5`, `db.r6g.large`, `db-custom-4-16384`), with who named it (`flag`,
    /// `config`); see [`crate::knowledge::platform_tiers`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<Fact<String>>,
}

impl HostFacts {
    /// Fill facts missing from `self` with those of `other` (flags win over files, files over probes).
    pub fn or(mut self, other: &HostFacts) -> HostFacts {
        if self.ram_bytes.is_none() {
            self.ram_bytes = other.ram_bytes.clone();
        }
        if self.cpus.is_none() {
            self.cpus = other.cpus.clone();
        }
        if self.storage.is_none() {
            self.storage = other.storage.clone();
        }
        if self.platform.is_none() {
            self.platform = other.platform.clone();
        }
        if self.tier.is_none() {
            self.tier = other.tier.clone();
        }
        self
    }
}

/// A host fact and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fact<T> {
    /// The value.
    pub value: T,
    /// Where it came from: `flag`, `config`, `cgroup`, `proc`, `snapshot`.
    pub source: String,
}

impl<T> Fact<T> {
    /// A fact from `source`.
    pub fn new(value: T, source: &str) -> Self {
        Fact {
            value,
            source: source.to_owned(),
        }
    }
}

/// Where PostgreSQL runs, which decides how settings are changed (`ALTER SYSTEM`, or the
/// provider's API), which ones may be, and which pooler and logs there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Platform {
    /// Azure Database for PostgreSQL flexible server.
    AzureFlexibleServer,
    /// Amazon RDS for PostgreSQL.
    AwsRds,
    /// Amazon Aurora PostgreSQL.
    AwsAurora,
    /// Google Cloud SQL for PostgreSQL.
    GcpCloudSql,
    /// Google AlloyDB for PostgreSQL.
    GcpAlloydb,
    /// A server the user administers: `ALTER SYSTEM`, a superuser, the server's files.
    SelfManaged,
}

impl Platform {
    /// Every platform, in the order `--platform` lists them.
    pub const ALL: [Platform; 6] = [
        Platform::AzureFlexibleServer,
        Platform::AwsRds,
        Platform::AwsAurora,
        Platform::GcpCloudSql,
        Platform::GcpAlloydb,
        Platform::SelfManaged,
    ];

    /// `azure-flexible-server`, `aws-rds`, … as in JSON, `--platform` and pgsage.toml.
    pub fn as_str(self) -> &'static str {
        match self {
            Platform::AzureFlexibleServer => "azure-flexible-server",
            Platform::AwsRds => "aws-rds",
            Platform::AwsAurora => "aws-aurora",
            Platform::GcpCloudSql => "gcp-cloud-sql",
            Platform::GcpAlloydb => "gcp-alloydb",
            Platform::SelfManaged => "self-managed",
        }
    }

    /// The service's name for reading: `Azure Database for PostgreSQL flexible server`.
    pub fn service_name(self) -> &'static str {
        match self {
            Platform::AzureFlexibleServer => "Azure Database for PostgreSQL flexible server",
            Platform::AwsRds => "Amazon RDS for PostgreSQL",
            Platform::AwsAurora => "Amazon Aurora PostgreSQL",
            Platform::GcpCloudSql => "Google Cloud SQL for PostgreSQL",
            Platform::GcpAlloydb => "Google AlloyDB for PostgreSQL",
            Platform::SelfManaged => "a self-managed server",
        }
    }

    /// Whether the provider runs the server (no superuser, no `ALTER SYSTEM`).
    pub fn is_managed(self) -> bool {
        self != Platform::SelfManaged
    }
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Platform {
    type Err = crate::ParseValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Platform::ALL
            .into_iter()
            .find(|p| p.as_str() == wanted)
            .ok_or_else(|| {
                crate::ParseValueError::new(
                    "platform",
                    s,
                    "azure-flexible-server, aws-rds, aws-aurora, gcp-cloud-sql, gcp-alloydb or self-managed",
                )
            })
    }
}

/// Storage kinds, which change the cost model (`random_page_cost`, `effective_io_concurrency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    /// Spinning disks.
    Hdd,
    /// SATA/SAS SSD.
    Ssd,
    /// NVMe SSD.
    Nvme,
    /// Network/cloud block storage (EBS, Azure managed disks, SAN).
    San,
}

impl std::str::FromStr for StorageKind {
    type Err = crate::ParseValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "hdd" => Ok(StorageKind::Hdd),
            "ssd" => Ok(StorageKind::Ssd),
            "nvme" => Ok(StorageKind::Nvme),
            "san" | "network" | "cloud" => Ok(StorageKind::San),
            other => Err(crate::ParseValueError::new(
                "storage kind",
                other,
                "hdd, ssd, nvme or san",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(value: &str, unit: Option<&str>) -> Setting {
        Setting {
            name: "x".into(),
            setting: value.into(),
            unit: unit.map(Into::into),
            vartype: "integer".into(),
            source: "default".into(),
            context: "user".into(),
            boot_val: None,
            reset_val: None,
            pending_restart: false,
        }
    }

    #[test]
    fn units_convert_to_bytes_and_millis() {
        assert_eq!(
            setting("16384", Some("8kB")).as_bytes(),
            Some(134_217_728.0)
        );
        assert_eq!(setting("4096", Some("kB")).as_bytes(), Some(4_194_304.0));
        assert_eq!(
            setting("1024", Some("MB")).as_bytes(),
            Some(1_073_741_824.0)
        );
        assert_eq!(setting("-1", Some("kB")).as_bytes(), None);
        assert_eq!(setting("60", Some("s")).as_millis(), Some(60_000.0));
        assert_eq!(setting("1", Some("min")).as_millis(), Some(60_000.0));
        assert_eq!(setting("100", None).as_bytes(), None);
        assert_eq!(setting("on", None).as_bool(), Some(true));
    }
}
