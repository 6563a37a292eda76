//! Helpers shared by the vacuum rules: whether autovacuum is off server-wide, the last
//! (auto)vacuum and analyse, and the table object. Which tables autovacuum looks after and
//! when it runs are [`crate::knowledge::autovacuum`]'s.

use chrono::{DateTime, Utc};

pub(crate) use crate::knowledge::autovacuum::{disabled_by_reloption, maintained};
use crate::knowledge::autovacuum::{lax_triggers, reset_lax_options, AutovacuumTask};
use crate::report::{ObjectKind, ObjectRef};
use crate::snapshot::{Snapshot, Table};

/// Whether the server setting `autovacuum` is off.
pub(crate) fn disabled_globally(snapshot: &Snapshot) -> bool {
    snapshot
        .setting("autovacuum")
        .and_then(|s| s.as_bool())
        .is_some_and(|on| !on)
}

/// The later of the last manual vacuum and the last autovacuum.
pub(crate) fn last_vacuum(table: &Table) -> Option<DateTime<Utc>> {
    table.last_vacuum.max(table.last_autovacuum)
}

/// The later of the last manual analyse and the last autoanalyse.
pub(crate) fn last_analyze(table: &Table) -> Option<DateTime<Utc>> {
    table.last_analyze.max(table.last_autoanalyze)
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

/// When `table`'s own storage parameters make autovacuum's `task` trigger laxer than the
/// server's: a clause for the message (`its own storage parameter
/// autovacuum_vacuum_scale_factor=0.5 puts autovacuum's vacuum trigger at 50,050 rows
/// instead of the server's 20,050`) and the statement that resets them.
pub(crate) fn lax_trigger_note(
    snapshot: &Snapshot,
    table: &Table,
    task: AutovacuumTask,
) -> Option<(String, String)> {
    let lax = lax_triggers(snapshot, table);
    let l = lax.iter().find(|l| l.task == task)?;
    Some((
        format!(
            "its own storage {} {} puts autovacuum's {} trigger at {} rows instead of the server's {}",
            if l.options.len() == 1 { "parameter" } else { "parameters" },
            l.options.join(", "),
            task.verb(),
            crate::units::count(l.table_trigger),
            crate::units::count(l.server_trigger)
        ),
        reset_lax_options(&table.qualified_name(), &[l]),
    ))
}

/// Rounds to one decimal, for percentages in evidence.
pub(crate) fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}
