//! A setting's value as a provider's API takes it.
//!
//! Every provider we render for takes numeric parameters as a plain number in
//! PostgreSQL's own unit for that parameter, the `unit` column of `pg_settings` (`8kB` for
//! `shared_buffers`, `kB` for `work_mem`, `MB` for `max_wal_size`, `ms` for
//! `log_min_duration_statement`), not with a unit suffix as `ALTER SYSTEM` does:
//! - Azure flexible server lists each parameter with that unit and takes the number
//!   (<https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-server-parameters>,
//!   the "Unit" column of `az postgres flexible-server parameter list`);
//! - RDS and Aurora parameter groups take the number in the parameter's unit and booleans
//!   as `1`/`0`
//!   (<https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.Parameters.html>);
//! - Cloud SQL flags take the number in the flag's unit, booleans as `on`/`off`
//!   (<https://cloud.google.com/sql/docs/postgres/flags>).
//!
//! So the unit comes from the audited server's own `pg_settings` row, and, for a snapshot
//! without it, from [`BASE_UNITS`] (PostgreSQL's units, checked against real servers by
//! the tests).

use super::SettingChange;
use crate::snapshot::{Platform, Snapshot};

/// A value converted for a provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    /// The value to send.
    pub value: String,
    /// Its unit, when it has one.
    pub unit: Option<String>,
}

/// PostgreSQL's unit of the numeric parameters pgsage changes, for snapshots that lack
/// their `pg_settings` row (the tests check each against real servers).
pub const BASE_UNITS: &[(&str, &str)] = &[
    ("autovacuum_naptime", "s"),
    ("autovacuum_vacuum_cost_delay", "ms"),
    ("autovacuum_work_mem", "kB"),
    ("checkpoint_timeout", "s"),
    ("deadlock_timeout", "ms"),
    ("effective_cache_size", "8kB"),
    ("idle_in_transaction_session_timeout", "ms"),
    ("lock_timeout", "ms"),
    ("log_autovacuum_min_duration", "ms"),
    ("log_min_duration_statement", "ms"),
    ("log_temp_files", "kB"),
    ("maintenance_work_mem", "kB"),
    ("max_wal_size", "MB"),
    ("min_wal_size", "MB"),
    ("shared_buffers", "8kB"),
    ("statement_timeout", "ms"),
    ("temp_buffers", "8kB"),
    ("temp_file_limit", "kB"),
    ("wal_buffers", "8kB"),
    ("work_mem", "kB"),
];

/// How a platform writes booleans.
fn boolean(platform: Platform, on: bool) -> &'static str {
    match (platform, on) {
        // Parameter groups list booleans with the allowed values `0,1`.
        (Platform::AwsRds | Platform::AwsAurora, true) => "1",
        (Platform::AwsRds | Platform::AwsAurora, false) => "0",
        (_, true) => "on",
        (_, false) => "off",
    }
}

fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Some(true),
        "off" | "false" | "no" | "0" => Some(false),
        _ => None,
    }
}

/// `change`'s value as `platform`'s API takes it (`snapshot`: the audited server's, for
/// its `pg_settings` units; plans and workloads have none).
pub fn to_provider(
    platform: Platform,
    snapshot: Option<&Snapshot>,
    change: &SettingChange,
) -> Converted {
    let row = snapshot.and_then(|s| s.setting(&change.name));
    let vartype = row.map(|s| s.vartype.as_str());
    let value = change.value.trim();
    // Without the server's row, only RDS's own convention is known for sure (its groups
    // list booleans as 0/1); a provider's own parameter (Azure's `pgbouncer.enabled`
    // takes `true`) keeps the value as written.
    let is_bool = match vartype {
        Some(t) => t == "bool",
        None => {
            matches!(platform, Platform::AwsRds | Platform::AwsAurora)
                && matches!(
                    value.to_ascii_lowercase().as_str(),
                    "on" | "off" | "true" | "false"
                )
        }
    };
    if is_bool {
        if let Some(on) = parse_bool(value) {
            return Converted {
                value: boolean(platform, on).to_owned(),
                unit: None,
            };
        }
    }
    let unit = row
        .and_then(|s| s.unit.clone())
        .filter(|u| !u.is_empty())
        .or_else(|| {
            BASE_UNITS
                .iter()
                .find(|(n, _)| *n == change.name)
                .map(|(_, u)| (*u).to_owned())
        });
    let Some(unit) = unit else {
        return Converted {
            value: value.to_owned(),
            unit: None,
        };
    };
    let integer = vartype != Some("real");
    match in_unit(value, &unit, integer) {
        Some(v) => Converted {
            value: v,
            unit: Some(unit),
        },
        // Not a number with a unit (`-1`, `DEFAULT`): as written.
        None => Converted {
            value: value.to_owned(),
            unit: Some(unit),
        },
    }
}

/// `value` (`4GB`, `15min`, `200`) as a number of `unit` (`8kB`, `s`); a number without a
/// unit is already in `unit`, as PostgreSQL reads it. `None` when it is not a number.
pub fn in_unit(value: &str, unit: &str, integer: bool) -> Option<String> {
    let split = value
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(value.len());
    let (number, suffix) = value.split_at(split);
    let number: f64 = number.parse().ok()?;
    let suffix = suffix.trim();
    let amount = if suffix.is_empty() {
        number
    } else {
        let from = crate::snapshot::unit_multiplier(suffix)?;
        let to = crate::snapshot::unit_multiplier(unit)?;
        // Memory to memory, time to time only.
        if is_memory(suffix) != is_memory(unit) {
            return None;
        }
        number * from / to
    };
    Some(if integer {
        format!("{}", amount.round() as i64)
    } else {
        // A real parameter keeps its fraction, without trailing zeros.
        let text = format!("{amount:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    })
}

fn is_memory(unit: &str) -> bool {
    unit.ends_with('B')
}
