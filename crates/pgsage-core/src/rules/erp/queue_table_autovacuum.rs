use crate::knowledge::autovacuum::vacuum_trigger;
use crate::knowledge::odoo;
use crate::report::{ObjectKind, ObjectRef, Severity};
use crate::rules::erp::common::odoo as odoo_database;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// An Odoo queue table (`bus_bus`, `queue_job`, `mail_mail`, `ir_cron_trigger`) on the
    /// server's default autovacuum triggers that is losing to its churn: at least
    /// `min_dead_rows` dead rows, and at least `min_dead_pct` of its rows dead. Tables
    /// with autovacuum switched off are VAC002's; tables large enough for VAC005's
    /// per-table scale factor are left to it, so one table never gets two settings.
    ///
    /// ## Why it matters
    /// A queue's rows are inserted, updated once or twice and deleted within minutes, and
    /// its readers (the bus poll, the job runner, the mail queue) scan the few live ones
    /// many times a minute. On the default triggers (50 rows + 20 % of the table)
    /// autovacuum waits for a fifth of the table to be dead — after a backlog, a fifth of
    /// a large table — and every poll wades through the dead rows meanwhile.
    ///
    /// ## How to fix
    /// Give the table a queue's triggers: a fixed threshold instead of a share
    /// (`autovacuum_vacuum_scale_factor = 0`, `autovacuum_vacuum_threshold =
    /// vacuum_threshold_rows`) and no cost delay (`autovacuum_vacuum_cost_delay = 0`: the
    /// vacuums are small and must not sleep), then `VACUUM` it once. No fillfactor: Odoo
    /// indexes the `state` columns its queues update, so those updates cannot be HOT.
    /// Odoo side: nothing — the table's cleanup job (ERP002) decides how many rows it
    /// keeps.
    ///
    /// ## Thresholds
    /// - `min_dead_rows` (default 10,000) and `min_dead_pct` (default 20): dead rows
    ///   below either are not reported.
    /// - `vacuum_threshold_rows` (default 1,000): the fixed trigger the fix sets.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/routine-vacuuming.html#AUTOVACUUM>
    /// - <https://www.postgresql.org/docs/current/sql-createtable.html#SQL-CREATETABLE-STORAGE-PARAMETERS>
    pub struct QueueTableAutovacuum {
        id: "ERP005",
        name: "queue-table-autovacuum",
        pack: "erp",
        title: "Odoo queue table on the default autovacuum triggers",
        params: {
            min_dead_rows: f64 = ("rows", "Dead rows below this count are not reported"),
            min_dead_pct: f64 = ("%", "Dead rows below this share of the table are not reported"),
            vacuum_threshold_rows: f64 = ("rows", "The fixed autovacuum trigger the fix sets"),
        },
    }
}

/// The per-table settings that tune a table's vacuum trigger (any of them set means
/// someone already chose).
const TRIGGER_SETTINGS: &[&str] = &[
    "autovacuum_vacuum_threshold",
    "autovacuum_vacuum_scale_factor",
    "autovacuum_enabled",
];

impl SnapshotRule for QueueTableAutovacuum {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let o = odoo_database(ctx)?;
        let snap = ctx.snapshot;
        let large = ctx
            .config
            .tune_options(ctx.host)
            .large_tables
            .min_trigger_rows;
        let mut drafts = Vec::new();
        for t in snap
            .tables
            .iter()
            .filter(|t| t.schema == o.recognition.schema && odoo::queue(&t.name).is_some())
        {
            if TRIGGER_SETTINGS.iter().any(|s| t.reloption(s).is_some()) {
                continue;
            }
            let trigger = vacuum_trigger(snap, t);
            // VAC005's tables: its per-table scale factor is the one setting they get.
            if trigger >= large {
                continue;
            }
            let dead = t.n_dead_tup.max(0) as f64;
            let rows = (t.n_live_tup.max(0) as f64) + dead;
            let dead_pct = if rows > 0.0 { 100.0 * dead / rows } else { 0.0 };
            if dead < p.min_dead_rows || dead_pct < p.min_dead_pct {
                continue;
            }
            let name = t.qualified_name();
            let threshold = p.vacuum_threshold_rows.round().max(50.0);
            drafts.push(
                Draft::new(
                    ObjectRef::in_schema(ObjectKind::Table, &snap.server.database, &t.schema, &t.name),
                    format!(
                        "{}'s queue table `{}` has {} dead rows, {} of its rows, on the server's default autovacuum trigger ({} dead rows for this table): its readers poll through them many times a minute",
                        o.label(),
                        t.name,
                        units::count(dead),
                        units::percent(dead_pct),
                        units::count(trigger),
                    ),
                )
                .severity(Severity::Warning)
                .evidence("n_dead_tup", t.n_dead_tup)
                .evidence("n_live_tup", t.n_live_tup)
                .evidence("dead_pct", (dead_pct * 10.0).round() / 10.0)
                .evidence("autovacuum_trigger_rows", trigger.round())
                .evidence("n_tup_upd", t.n_tup_upd)
                .evidence("n_tup_del", t.n_tup_del)
                .recommend(format!(
                    "Give the table a queue's autovacuum triggers — a fixed {} dead rows instead of a share of the table, and no cost delay — then vacuum it once; nothing changes on Odoo's side",
                    units::count(threshold)
                ))
                .fix(
                    format!(
                        "ALTER TABLE {name} SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = {threshold}, autovacuum_vacuum_cost_delay = 0);\nVACUUM (ANALYZE) {name};"
                    ),
                    "none",
                    "last_autovacuum and n_dead_tup of the table in pg_stat_user_tables",
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
    fn fires_on_a_churning_queue_on_default_triggers() {
        assert_fires("ERP005", "public.queue_job");
    }

    #[test]
    fn quiet_when_the_queue_has_its_own_triggers() {
        assert_quiet("ERP005");
    }
}
