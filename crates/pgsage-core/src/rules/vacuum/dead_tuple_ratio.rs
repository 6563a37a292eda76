use crate::knowledge::autovacuum::{disabled_by_reloption, judged_vacuum_trigger, AutovacuumTask};
use crate::report::{ObjectKind, ObjectRef, Severity};
use crate::rules::macros::declare_rule;
use crate::rules::vacuum::common::lax_trigger_note;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::{Snapshot, Table};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// Tables where dead row versions are a large share of the rows
    /// (`n_dead_tup / (n_live_tup + n_dead_tup)`) and above the point where autovacuum
    /// should already have cleaned them (`autovacuum_vacuum_threshold +
    /// autovacuum_vacuum_scale_factor × reltuples`). The trigger judged by is the lower of
    /// the table's own (its storage parameters included) and the server's: a storage
    /// parameter that makes autovacuum laxer (`autovacuum_vacuum_scale_factor = 0.5`)
    /// does not make the dead rows it lets pile up healthy, so such a table is reported
    /// with the parameter, and the fix resets it ([VAC012](lax-autovacuum-storage-parameter)).
    ///
    /// ## Why it matters
    /// Dead rows take space in the table and its indexes, make sequential and index scans
    /// read more pages, and are a sign that vacuum is losing: autovacuum is disabled on the
    /// table, cannot keep up, or cannot remove them because an old transaction, replication
    /// slot or prepared transaction holds the xmin horizon back.
    ///
    /// ## How to fix
    /// Run `VACUUM (ANALYZE, VERBOSE)` on the table now (it does not block reads or
    /// writes). If autovacuum is disabled on it, re-enable it. If VERBOSE reports dead
    /// rows that "are not yet removable", find what holds the xmin horizon back (long
    /// transactions, idle-in-transaction sessions, stale replication slots). For large,
    /// busy tables, lower the per-table `autovacuum_vacuum_scale_factor` so vacuum runs
    /// before the table fills with dead rows.
    ///
    /// ## Thresholds
    /// - `min_dead_tuples` (default 10000): ignore tables with fewer dead rows.
    /// - `warning_ratio_pct` (default 20): dead share that warns.
    /// - `critical_ratio_pct` (default 50): dead share that is critical.
    ///
    /// Uses the current `n_dead_tup` estimate (a level, not a rate), so it does not depend
    /// on how long statistics have been collected.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/routine-vacuuming.html>
    /// - <https://www.postgresql.org/docs/current/runtime-config-autovacuum.html>
    /// - <https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ALL-TABLES-VIEW>
    pub struct DeadTupleRatio {
        id: "VAC001",
        name: "dead-tuple-ratio",
        pack: "vacuum",
        title: "Many dead rows",
        params: {
            min_dead_tuples: f64 = ("rows", "Ignore tables with fewer dead rows than this"),
            warning_ratio_pct: f64 = ("%", "Share of dead rows that warns"),
            critical_ratio_pct: f64 = ("%", "Share of dead rows that is critical"),
        },
    }
}

/// Dead rows as a share of all row versions, in % (0 for an empty table).
pub(crate) fn dead_pct(table: &Table) -> f64 {
    let total = (table.n_live_tup + table.n_dead_tup) as f64;
    if total <= 0.0 {
        0.0
    } else {
        100.0 * table.n_dead_tup as f64 / total
    }
}

/// The predicate of this rule: at least `min_dead` dead rows, at least `warning_pct` %
/// of the rows, and past autovacuum's trigger. Other rules use it so that they do not
/// report the same table for the same reason.
pub(crate) fn dead_heavy(
    snapshot: &Snapshot,
    table: &Table,
    min_dead: f64,
    warning_pct: f64,
) -> bool {
    let dead = table.n_dead_tup as f64;
    dead >= min_dead
        && dead_pct(table) >= warning_pct
        && dead > judged_vacuum_trigger(snapshot, table)
}

/// Whether autovacuum can run on `table` at all: on server-wide and not disabled by the
/// table's storage parameter.
pub(crate) fn autovacuum_enabled(snapshot: &Snapshot, table: &Table) -> bool {
    let global = snapshot
        .setting("autovacuum")
        .and_then(|s| s.as_bool())
        .unwrap_or(true);
    global && !disabled_by_reloption(table)
}

impl SnapshotRule for DeadTupleRatio {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min_dead = p.min_dead_tuples;
        let warning = p.warning_ratio_pct;
        let critical = p.critical_ratio_pct;
        let snap = ctx.snapshot;
        let mut drafts = Vec::new();
        for t in snap.tables.iter().filter(|t| t.kind != "p") {
            if !dead_heavy(snap, t, min_dead, warning) {
                continue;
            }
            let pct = dead_pct(t);
            let trigger = judged_vacuum_trigger(snap, t);
            let enabled = autovacuum_enabled(snap, t);
            let lax = lax_trigger_note(snap, t, AutovacuumTask::Vacuum);
            let last_vacuum = t.last_autovacuum.max(t.last_vacuum);
            let name = t.qualified_name();
            let mut fix_sql = format!("VACUUM (ANALYZE, VERBOSE) {name};");
            let recommendation = if let (true, Some((_, reset))) = (enabled, &lax) {
                fix_sql.push('\n');
                fix_sql.push_str(reset);
                "Vacuum the table now, and reset its storage parameters that make autovacuum wait longer than the server's settings (the server's trigger then applies)".to_owned()
            } else if enabled {
                "Vacuum the table now; if VERBOSE reports rows not yet removable, look for what holds the xmin horizon back (long transactions, idle-in-transaction sessions, replication slots), then lower its autovacuum_vacuum_scale_factor if autovacuum cannot keep up".to_owned()
            } else {
                fix_sql.push_str(&format!("\nALTER TABLE {name} RESET (autovacuum_enabled);"));
                "Autovacuum is disabled for this table: vacuum it now and re-enable autovacuum"
                    .to_owned()
            };
            let mut draft = Draft::new(
                ObjectRef::in_schema(ObjectKind::Table, &snap.server.database, &t.schema, &t.name),
                format!(
                    "`{}` has {} dead rows, {} of its rows ({}){}",
                    t.name,
                    units::count(t.n_dead_tup),
                    units::percent(pct),
                    match &lax {
                        Some((note, _)) if enabled => note.clone(),
                        _ => format!("autovacuum would start at {}", units::count(trigger)),
                    },
                    if enabled {
                        ""
                    } else {
                        "; autovacuum is disabled for it"
                    }
                ),
            )
            .severity(if pct >= critical {
                Severity::Critical
            } else {
                Severity::Warning
            })
            .evidence("n_dead_tup", t.n_dead_tup)
            .evidence("n_live_tup", t.n_live_tup)
            .evidence("dead_pct", (pct * 10.0).round() / 10.0)
            .evidence("autovacuum_trigger_rows", trigger.round())
            .evidence("autovacuum_enabled", enabled)
            .evidence("table_bytes", t.heap_bytes)
            .evidence(
                "last_vacuum",
                last_vacuum.map_or("never".to_owned(), |v| v.to_rfc3339()),
            )
            .recommend(recommendation)
            .fix(
                fix_sql,
                "none",
                "n_dead_tup and last_autovacuum in pg_stat_user_tables",
            );
            if t.reloption("autovacuum_enabled").is_some() && enabled {
                draft = draft.evidence("reloptions", t.reloptions.join(","));
            }
            drafts.push(draft);
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_a_table_full_of_dead_rows() {
        assert_fires("VAC001", "public.stock_move_line");
    }

    /// `autovacuum_vacuum_scale_factor = 0.5` on the table puts its trigger at 20,050
    /// dead rows; judged by it alone, 12,000 dead rows (30 %) looked fine. Judged by the
    /// server's trigger (8,050) too, they are reported, with the parameter to reset.
    #[test]
    fn a_lax_storage_parameter_does_not_hide_dead_rows() {
        let f = assert_fires("VAC001", "public.mail_followers");
        let f = f
            .iter()
            .find(|f| f.object.name == "mail_followers")
            .expect("mail_followers");
        assert!(
            f.message.contains("autovacuum_vacuum_scale_factor=0.5"),
            "{}",
            f.message
        );
        let sql = f.fix.as_ref().map(|x| x.sql.as_str()).unwrap_or_default();
        assert!(
            sql.contains(
                "ALTER TABLE public.mail_followers RESET (autovacuum_vacuum_scale_factor);"
            ),
            "{sql}"
        );
    }

    #[test]
    fn quiet_on_a_vacuumed_twin() {
        assert_quiet("VAC001");
    }
}
