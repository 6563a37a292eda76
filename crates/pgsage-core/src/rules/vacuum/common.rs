//! Helpers shared by the vacuum rules: whether autovacuum is disabled, which tables it
//! looks after, and the table object. Autovacuum's triggers are
//! [`crate::knowledge::autovacuum`]'s.

use chrono::{DateTime, Utc};

use crate::report::{ObjectKind, ObjectRef};
use crate::snapshot::{Snapshot, Table};

/// Whether the table's own storage parameter disables autovacuum.
pub(crate) fn disabled_by_reloption(table: &Table) -> bool {
    table.reloption("autovacuum_enabled").is_some_and(is_false)
}

/// Whether the server setting `autovacuum` is off.
pub(crate) fn disabled_globally(snapshot: &Snapshot) -> bool {
    snapshot
        .setting("autovacuum")
        .and_then(|s| s.as_bool())
        .is_some_and(|on| !on)
}

/// A boolean storage-parameter value that means false.
pub(crate) fn is_false(v: &str) -> bool {
    matches!(
        v.to_ascii_lowercase().as_str(),
        "false" | "off" | "no" | "0" | "f" | "n"
    )
}

/// The later of the last manual vacuum and the last autovacuum.
pub(crate) fn last_vacuum(table: &Table) -> Option<DateTime<Utc>> {
    table.last_vacuum.max(table.last_autovacuum)
}

/// The later of the last manual analyse and the last autoanalyse.
pub(crate) fn last_analyze(table: &Table) -> Option<DateTime<Utc>> {
    table.last_analyze.max(table.last_autoanalyze)
}

/// Tables autovacuum looks after: ordinary tables and materialized views, permanent or
/// unlogged (temporary tables are only vacuumed by their own session; partitioned tables
/// have no storage).
pub(crate) fn maintained(table: &Table) -> bool {
    matches!(table.kind.as_str(), "r" | "m") && table.persistence != "t"
}

/// The table as a finding's object.
pub(crate) fn table_object(snapshot: &Snapshot, table: &Table) -> ObjectRef {
    ObjectRef::in_schema(
        ObjectKind::Table,
        &snapshot.server.database,
        &table.schema,
        &table.name,
    )
}

/// A timestamp for evidence, or `never`.
pub(crate) fn when(at: Option<DateTime<Utc>>) -> String {
    at.map_or("never".to_owned(), |v| v.to_rfc3339())
}

/// Rounds to one decimal, for percentages in evidence.
pub(crate) fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn false_values() {
        for v in ["false", "off", "FALSE", "0", "no"] {
            assert!(is_false(v), "{v}");
        }
        for v in ["true", "on", "1"] {
            assert!(!is_false(v), "{v}");
        }
    }
}
