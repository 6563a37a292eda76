//! Setting values: formatting as `ALTER SYSTEM` takes them and comparing with the
//! current `pg_settings` row.

use serde::{Deserialize, Serialize};

use super::{Advice, Apply, Basis};
use crate::snapshot::{Setting, Snapshot};
use crate::units::setting_bytes;

/// A recommended value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "lowercase")]
pub enum Value {
    /// A memory size in bytes (written in kB, MB or GB).
    Bytes(u64),
    /// An integer.
    Int(i64),
    /// A real number.
    Real(f64),
    /// An enum, boolean or string.
    Text(String),
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Bytes(b) => f.write_str(&setting_bytes(*b)),
            Value::Int(i) => write!(f, "{i}"),
            Value::Real(r) => write!(f, "{r}"),
            Value::Text(t) => f.write_str(t),
        }
    }
}

/// A recommendation before it is compared with the server.
#[derive(Debug, Clone)]
pub(super) struct Rec {
    pub(super) name: &'static str,
    pub(super) value: Value,
    pub(super) basis: Basis,
    pub(super) why: String,
    pub(super) evidence: Vec<String>,
    /// A current value at least this large is fine.
    pub(super) never_lower: bool,
    /// Relative difference from the current value still shown as "ok" (memory sizes
    /// derived from formulas are not worth a restart for a few percent).
    pub(super) tolerance: f64,
}

impl Rec {
    fn new(name: &'static str, value: Value, basis: Basis, why: String) -> Self {
        Rec {
            name,
            value,
            basis,
            why,
            evidence: Vec::new(),
            never_lower: false,
            tolerance: 0.0,
        }
    }
    pub(super) fn bytes(name: &'static str, v: u64, basis: Basis, why: String) -> Self {
        Rec {
            tolerance: 0.1,
            ..Rec::new(name, Value::Bytes(v), basis, why)
        }
    }
    pub(super) fn int(name: &'static str, v: i64, basis: Basis, why: String) -> Self {
        Rec::new(name, Value::Int(v), basis, why)
    }
    pub(super) fn real(name: &'static str, v: f64, basis: Basis, why: String) -> Self {
        Rec::new(name, Value::Real(v), basis, why)
    }
    pub(super) fn text(name: &'static str, v: &str, basis: Basis, why: String) -> Self {
        Rec::new(name, Value::Text(v.into()), basis, why)
    }
    pub(super) fn never_lower(mut self) -> Self {
        self.never_lower = true;
        self
    }
    pub(super) fn evidence(mut self, e: Vec<String>) -> Self {
        self.evidence = e;
        self
    }

    /// Whether the current setting already satisfies the recommendation.
    fn satisfied_by(&self, s: &Setting) -> bool {
        let (cur, rec) = match &self.value {
            Value::Bytes(b) => match s.as_bytes() {
                Some(c) => (c, *b as f64),
                None => return false,
            },
            Value::Int(i) => match s.as_f64() {
                Some(c) => (c, *i as f64),
                None => return false,
            },
            Value::Real(r) => match s.as_f64() {
                Some(c) => (c, *r),
                None => return false,
            },
            Value::Text(t) => return s.setting.eq_ignore_ascii_case(t),
        };
        if self.never_lower && cur >= rec {
            return true;
        }
        (cur - rec).abs() <= self.tolerance * rec.abs() + 1e-9
    }

    pub(super) fn resolve(self, snapshot: &Snapshot) -> Advice {
        let setting = snapshot.setting(self.name);
        let change = !setting.is_some_and(|s| self.satisfied_by(s));
        let apply = match setting {
            Some(s) if s.needs_restart() => Apply::Restart,
            Some(_) => Apply::Reload,
            None if needs_restart_without_settings(self.name) => Apply::Restart,
            None => Apply::Reload,
        };
        Advice {
            name: self.name.to_owned(),
            current: setting.map(current_text),
            recommended: self.value.to_string(),
            change,
            apply,
            basis: self.basis,
            why: self.why,
            evidence: self.evidence,
        }
    }
}

/// Whether a setting needs a restart, for when the snapshot lacks its `pg_settings` row.
pub fn needs_restart_without_settings(name: &str) -> bool {
    RESTART.contains(&name)
}

/// Settings that need a restart, for when the snapshot lacks `pg_settings`.
const RESTART: &[&str] = &[
    "shared_buffers",
    "huge_pages",
    "max_connections",
    "max_worker_processes",
    "wal_buffers",
    "shared_preload_libraries",
    "autovacuum_max_workers",
    "autovacuum_worker_slots",
    "superuser_reserved_connections",
    "max_prepared_transactions",
    "max_locks_per_transaction",
    "max_wal_senders",
    "max_replication_slots",
    "wal_level",
    "archive_mode",
];

/// The current value for display, as `SHOW` prints it and a setting takes it: memory and
/// time in the largest unit that keeps them whole (`16384` of `8kB` → `128MB`, `300` of
/// `s` → `5min`), `-1` and `0` (usually "off") bare, other values as stored. The one
/// formatter of a setting's value (`tune`, the audit, `pgsage diff`).
pub fn current_text(s: &Setting) -> String {
    let Some(unit) = s.unit.as_deref().filter(|u| !u.is_empty()) else {
        return s.setting.clone();
    };
    if let Some(b) = s.as_bytes().filter(|b| b.fract() == 0.0) {
        return setting_bytes(b as u64);
    }
    if let Some(ms) = s.as_millis().filter(|ms| *ms > 0.0 && ms.fract() == 0.0) {
        return time_text(ms as u64);
    }
    match s.setting.as_str() {
        "-1" | "0" => s.setting.clone(),
        v => format!("{v}{unit}"),
    }
}

/// Whole milliseconds in the largest time unit that keeps them whole, as `SHOW` does.
fn time_text(ms: u64) -> String {
    const UNITS: [(u64, &str); 5] = [
        (86_400_000, "d"),
        (3_600_000, "h"),
        (60_000, "min"),
        (1_000, "s"),
        (1, "ms"),
    ];
    UNITS
        .iter()
        .find(|(size, _)| ms.is_multiple_of(*size))
        .map_or_else(
            || format!("{ms}ms"),
            |(size, name)| format!("{}{name}", ms / size),
        )
}
