//! The user's `pgsage.toml`: overrides of the shipped packs, suppressions, audit
//! settings and host facts. Unknown keys are errors.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::ParamValue;
use crate::report::Severity;

/// The whole user configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// `[audit]`.
    #[serde(default)]
    pub audit: AuditSection,
    /// `[host]`.
    #[serde(default)]
    pub host: HostSection,
    /// `[tune]`.
    #[serde(default)]
    pub tune: TuneSection,
    /// `[packs]`.
    #[serde(default)]
    pub packs: PacksSection,
    /// `[odoo]`.
    #[serde(default)]
    pub odoo: Option<OdooSection>,
    /// `[rules.ID]`.
    #[serde(default)]
    pub rules: BTreeMap<String, RuleOverride>,
    /// `[[suppress]]`.
    #[serde(default)]
    pub suppress: Vec<Suppression>,
}

/// `[audit]`: engine-wide settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSection {
    /// Usage-based rules need statistics at least this old (hours).
    pub min_stats_age_hours: Option<f64>,
}

/// `[tune]`: what the recommended configuration is sized for. `pgsage tune` and the
/// audit's setting fixes share it, so both give one value per setting.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TuneSection {
    /// `oltp`, `web`, `mixed` (the default) or `dw`.
    pub profile: Option<String>,
    /// The `max_connections` to plan for instead of deriving it from the server.
    pub connections: Option<i64>,
}

/// `[host]`: facts SQL cannot see.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostSection {
    /// RAM, e.g. `"24GiB"`.
    pub ram: Option<String>,
    /// CPUs.
    pub cpus: Option<f64>,
    /// `hdd`, `ssd`, `nvme`, `san`.
    pub storage: Option<String>,
    /// `azure-flexible-server`, `aws-rds`, `aws-aurora`, `gcp-cloud-sql`, `gcp-alloydb` or
    /// `self-managed`: overrides detection.
    pub platform: Option<String>,
    /// The managed service's compute size (`Standard_D4ds_v5`, `db.r6g.large`,
    /// `db-custom-4-16384`): RAM, CPUs and storage below `ram`, `cpus` and `storage`.
    pub tier: Option<String>,
}

/// `[packs]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PacksSection {
    /// Packs to turn off.
    #[serde(default)]
    pub disabled: Vec<String>,
}

/// `[rules.ID]`: overrides for one rule.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleOverride {
    /// Turn on or off.
    pub enabled: Option<bool>,
    /// Severity of every finding of this rule.
    pub severity: Option<Severity>,
    /// Parameter values.
    #[serde(default)]
    pub params: BTreeMap<String, ParamValue>,
}

/// `[[suppress]]`: hide findings of a rule for matching objects, with a reason.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    /// Rule id.
    pub rule: String,
    /// Glob over the object's `schema.name` (or `name`), e.g. `public.audit_*`.
    pub object: String,
    /// Why it is accepted; shown in the report.
    pub reason: String,
}

/// `[odoo]`: the Odoo servers' configuration, for the `erp` rules: an `odoo.conf` to read,
/// and/or its values (which win over the file's).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OdooSection {
    /// Path of an `odoo.conf` (only its pool and replica keys are read).
    pub conf: Option<String>,
    /// `workers`.
    pub workers: Option<u32>,
    /// `max_cron_threads`.
    pub max_cron_threads: Option<u32>,
    /// `db_maxconn`.
    pub db_maxconn: Option<u32>,
    /// `db_maxconn_gevent`.
    pub db_maxconn_gevent: Option<u32>,
    /// `db_replica_host`.
    pub db_replica_host: Option<String>,
}
