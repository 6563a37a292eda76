use crate::knowledge::autovacuum::{analyze_trigger, vacuum_trigger};
use crate::report::{ObjectRef, Severity};
use crate::rules::macros::declare_rule;
use crate::rules::vacuum::common::{
    disabled_by_reloption, disabled_globally, last_vacuum, maintained, table_object, when,
};
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::{Snapshot, Table};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// - `autovacuum = off` for the whole server (critical), or `track_counts = off`,
    ///   which leaves autovacuum blind: it decides from the statistics `track_counts`
    ///   gathers, so nothing is vacuumed or analysed but anti-wraparound vacuums.
    /// - Tables whose storage parameter `autovacuum_enabled = false` switches autovacuum
    ///   (and autoanalyze) off for them, unless they are visibly vacuumed by hand instead
    ///   (a manual `VACUUM` within `manual_vacuum_grace_hours` and dead rows below
    ///   autovacuum's trigger).
    ///
    /// ## Why it matters
    /// Without autovacuum, dead rows are never reclaimed (tables and indexes bloat),
    /// planner statistics go stale (bad plans), the visibility map is not maintained
    /// (index-only scans read the heap) and freezing is left to emergency
    /// anti-wraparound vacuums, which are long, cannot be cancelled and arrive at the
    /// worst moment. Switching it off "for the nightly batch" and forgetting to switch
    /// it back on is a classic ERP incident.
    ///
    /// ## How to fix
    /// `ALTER SYSTEM SET autovacuum = on;` (and `track_counts = on`) then
    /// `SELECT pg_reload_conf();` — on a managed service, set the `autovacuum`
    /// parameter in the provider's parameter group. For a table:
    /// `ALTER TABLE … RESET (autovacuum_enabled);`, then `VACUUM (ANALYZE)` it once.
    /// If autovacuum disturbs a batch, tune it (cost limits, per-table thresholds)
    /// instead of switching it off.
    ///
    /// ## Thresholds
    /// - `manual_vacuum_grace_hours` (default 24): a table with autovacuum disabled but
    ///   vacuumed by hand within this many hours, and below autovacuum's trigger, is
    ///   considered deliberately maintained and not reported.
    ///
    /// The TOAST table's own `toast.autovacuum_enabled` is not in the snapshot yet and
    /// is not checked.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/runtime-config-autovacuum.html#GUC-AUTOVACUUM>
    /// - <https://www.postgresql.org/docs/current/sql-createtable.html#SQL-CREATETABLE-STORAGE-PARAMETERS>
    /// - <https://www.postgresql.org/docs/current/routine-vacuuming.html#AUTOVACUUM>
    pub struct AutovacuumDisabled {
        id: "VAC002",
        name: "autovacuum-disabled",
        pack: "vacuum",
        title: "Autovacuum switched off",
        params: {
            manual_vacuum_grace_hours: f64 = ("h", "A table vacuumed by hand this recently (and below the trigger) is not reported"),
        },
    }
}

/// Whether a table with autovacuum disabled is visibly maintained by hand instead.
fn maintained_by_hand(snapshot: &Snapshot, table: &Table, grace_hours: f64) -> bool {
    let recent = table
        .last_vacuum
        .is_some_and(|t| snapshot.age_seconds(t) <= grace_hours * 3600.0);
    recent && (table.n_dead_tup as f64) <= vacuum_trigger(snapshot, table)
}

fn server_off(ctx: &RuleContext<'_>, name: &str, message: String, recommendation: &str) -> Draft {
    Draft::new(ObjectRef::setting(name), message)
        .severity(Severity::Critical)
        .evidence(name, "off")
        .recommend(recommendation)
        .with_fix(ctx.settings_fix(
            &[(name, "on".into())],
            "",
            "pg_stat_activity for `autovacuum worker` backends, last_autovacuum and last_autoanalyze in pg_stat_user_tables",
        ))
}

impl SnapshotRule for AutovacuumDisabled {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let grace = p.manual_vacuum_grace_hours;
        let snap = ctx.snapshot;
        ctx.setting("autovacuum")?;
        let mut drafts = Vec::new();
        if disabled_globally(snap) {
            let tables_needing = snap
                .tables
                .iter()
                .filter(|t| maintained(t) && t.n_dead_tup as f64 > vacuum_trigger(snap, t))
                .count();
            drafts.push(
                server_off(
                ctx,
                    "autovacuum",
                    format!(
                        "`autovacuum` is off for the whole server: dead rows are not reclaimed and statistics are not refreshed ({} tables of `{}` are already past autovacuum's trigger); only anti-wraparound vacuums still run",
                        units::count(tables_needing),
                        snap.server.database
                    ),
                    "Switch autovacuum back on (on a managed service: the `autovacuum` parameter of the instance's parameter group); if it disturbs a batch, tune its cost limits or per-table thresholds instead",
                )
                .evidence("tables_past_vacuum_trigger", tables_needing),
            );
        }
        if snap
            .setting("track_counts")
            .and_then(|s| s.as_bool())
            .is_some_and(|on| !on)
        {
            drafts.push(server_off(
                ctx,
                "track_counts",
                "`track_counts` is off: autovacuum has no statistics to decide which tables to vacuum or analyse".to_owned(),
                "Switch track_counts back on (on a managed service: the `track_counts` parameter of the parameter group)",
            ));
        }
        for t in snap.tables.iter().filter(|t| maintained(t)) {
            if !disabled_by_reloption(t) || maintained_by_hand(snap, t, grace) {
                continue;
            }
            let name = t.qualified_name();
            let trigger = vacuum_trigger(snap, t);
            let a_trigger = analyze_trigger(snap, t);
            let mut needs = Vec::new();
            if t.n_dead_tup as f64 > trigger {
                needs.push(format!(
                    "{} dead rows (autovacuum would start at {})",
                    units::count(t.n_dead_tup),
                    units::count(trigger)
                ));
            }
            if t.n_mod_since_analyze as f64 > a_trigger {
                needs.push(format!(
                    "{} rows modified since the last analyse (autoanalyze would start at {})",
                    units::count(t.n_mod_since_analyze),
                    units::count(a_trigger)
                ));
            }
            let message = format!(
                "Autovacuum and autoanalyze are disabled for `{}` (`autovacuum_enabled = false`){}",
                t.name,
                if needs.is_empty() {
                    String::new()
                } else {
                    format!("; it already has {}", needs.join(" and "))
                }
            );
            drafts.push(
                Draft::new(table_object(snap, t), message)
                    .evidence("reloptions", t.reloptions.join(","))
                    .evidence("n_dead_tup", t.n_dead_tup)
                    .evidence("autovacuum_trigger_rows", trigger.round())
                    .evidence("n_mod_since_analyze", t.n_mod_since_analyze)
                    .evidence("autoanalyze_trigger_rows", a_trigger.round())
                    .evidence("last_vacuum", when(last_vacuum(t)))
                    .evidence("table_bytes", t.heap_bytes)
                    .recommend("Re-enable autovacuum for the table and vacuum it once now; if autovacuum disturbed a batch, give the table its own cost or threshold settings instead")
                    .fix(
                        format!("ALTER TABLE {name} RESET (autovacuum_enabled);\nVACUUM (ANALYZE) {name};"),
                        "none",
                        "last_autovacuum, n_dead_tup and n_mod_since_analyze in pg_stat_user_tables",
                    ),
            );
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_when_autovacuum_is_off_for_the_server() {
        let f = assert_fires("VAC002", "autovacuum");
        assert!(f
            .iter()
            .any(|f| f.severity == crate::report::Severity::Critical));
    }

    #[test]
    fn fires_on_a_table_with_autovacuum_disabled() {
        assert_fires("VAC002", "public.stock_move_line");
    }

    #[test]
    fn quiet_when_autovacuum_runs() {
        assert_quiet("VAC002");
    }
}
