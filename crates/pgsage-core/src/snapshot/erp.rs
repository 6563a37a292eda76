//! What the collector read of an ERP application in a database: Odoo, recognised from its
//! catalog tables, with the facts the `erp` rule pack judges (installed modules,
//! attachments stored in the database, queue tables past their cleanup, scheduled jobs).
//!
//! Recognition itself is [`crate::knowledge::odoo::recognise`]: a pure function of the
//! database's tables, so a snapshot collected without the facts (an older pgsage, a role
//! that may not read the application's tables) is still recognised.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The ERP application found in a database, and what was read of it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ErpFacts {
    /// The application: `odoo`.
    pub product: String,
    /// The catalog tables it was recognised by, as `schema.table`.
    pub recognised_by: Vec<String>,
    /// Its schema (where the catalog tables are).
    pub schema: String,
    /// The version the application records for its base module (Odoo: `17.0.1.3`),
    /// when readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Installed modules (Odoo: `ir_module_module` in state `installed`), sorted; empty
    /// when not readable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub modules: Vec<String>,
    /// The application's own parameters that the rules care about (Odoo:
    /// `ir_config_parameter` keys such as `ir_attachment.location`). Only the keys named in
    /// [`crate::knowledge::odoo::PARAMETERS`] are read: the table also holds secrets.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, String>,
    /// Stored files (Odoo: `ir_attachment`), when readable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachments: Option<Attachments>,
    /// Queue and notification tables: rows kept past the application's own cleanup.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub queues: Vec<QueueBacklog>,
    /// Scheduled jobs (Odoo: `ir_cron`), when readable.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jobs: Vec<ScheduledJob>,
    /// The sections that could not be read (`modules`, `parameters`, `attachments`,
    /// `queue tables`, `scheduled jobs`): the snapshot's gaps say why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unread: Vec<String>,
}

impl ErpFacts {
    /// Whether a section was read (see [`ErpFacts::unread`]).
    pub fn read(&self, section: &str) -> bool {
        !self.unread.iter().any(|s| s == section)
    }
}

/// Where the application keeps its files, counted over the attachment table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Attachments {
    /// The table (`public.ir_attachment`).
    pub table: String,
    /// Attachments whose content is in the database (`db_datas` set).
    pub in_database: u64,
    /// Bytes of that content as stored (compressed or not: `pg_column_size`).
    pub in_database_bytes: u64,
    /// Attachments whose content is in the filestore (`store_fname` set).
    pub in_filestore: u64,
    /// Attachments stored in the database over the last [`Self::recent_days`] days.
    pub recent_in_database: u64,
    /// Their bytes.
    pub recent_in_database_bytes: u64,
    /// The window of the two counts above, in days.
    pub recent_days: u32,
}

/// A queue or notification table and the rows it keeps past the application's cleanup.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueueBacklog {
    /// `schema.table`.
    pub table: String,
    /// Rows in it when read.
    pub rows: u64,
    /// Rows older than the application's own cleanup keeps (see
    /// [`crate::knowledge::odoo::QUEUES`]).
    pub expired_rows: u64,
    /// Age of the oldest of those rows, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest_age_seconds: Option<f64>,
    /// What the application keeps, in seconds: rows older than this are expired.
    pub retention_seconds: f64,
}

/// One scheduled job of the application.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScheduledJob {
    /// Its name as the application shows it.
    pub name: String,
    /// The model it runs on (Odoo: `ir.autovacuum`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Whether it is active.
    pub active: bool,
    /// Every `interval_number` `interval_type` (`1 days`, `5 minutes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    /// When it runs next (application time, stored without time zone: UTC for Odoo).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_run: Option<DateTime<Utc>>,
    /// When it last ran, when the application records it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_run: Option<DateTime<Utc>>,
}

impl ErpFacts {
    /// Whether a module is installed (always `false` when the modules were not read).
    pub fn has_module(&self, name: &str) -> bool {
        self.modules.iter().any(|m| m == name)
    }

    /// The major version (`17.0` of `17.0.1.3`).
    pub fn major_version(&self) -> Option<&str> {
        let v = self.version.as_deref()?;
        let mut dots = v.match_indices('.').map(|(i, _)| i);
        match (dots.next(), dots.next()) {
            (Some(_), Some(second)) => Some(&v[..second]),
            _ => Some(v),
        }
    }

    /// The application as shown to a user: `Odoo 17.0`, or `Odoo` without a version.
    pub fn label(&self) -> String {
        let name = match self.product.as_str() {
            "odoo" => "Odoo",
            other => other,
        };
        match self.major_version() {
            Some(v) => format!("{name} {v}"),
            None => name.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn major_version_keeps_the_series() {
        let mut f = ErpFacts {
            product: "odoo".into(),
            version: Some("17.0.1.3".into()),
            ..Default::default()
        };
        assert_eq!(f.major_version(), Some("17.0"));
        assert_eq!(f.label(), "Odoo 17.0");
        f.version = Some("saas~17.2.1.0".into());
        assert_eq!(f.major_version(), Some("saas~17.2"));
        f.version = None;
        assert_eq!(f.label(), "Odoo");
    }
}
