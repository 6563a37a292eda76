use crate::knowledge::autovacuum::{
    churn_per_minute, lax_triggers, modifications_per_minute, reset_lax_options, AutovacuumTask,
    LaxTrigger,
};
use crate::rules::macros::declare_rule;
use crate::rules::vacuum::common::{disabled_by_reloption, maintained, table_object};
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::{Snapshot, Table};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// Busy tables whose own storage parameters make autovacuum or autoanalyze laxer
    /// than the server's settings: a higher `autovacuum_vacuum_scale_factor` or
    /// `autovacuum_vacuum_threshold` (or a lifted `autovacuum_vacuum_max_threshold`), a
    /// higher `autovacuum_analyze_scale_factor` or `autovacuum_analyze_threshold`, that put
    /// the table's trigger at least `min_laxity_factor` times the server's and at
    /// `min_trigger_rows` rows or more.
    ///
    /// A table is busy when, on the server's settings, autovacuum would have had to run
    /// on it: its updates and deletes (for vacuum), or inserts, updates and deletes (for
    /// analyse), reach the server's trigger at least once a day at the measured rate (over
    /// the sampled interval, or since the statistics reset when they are old enough), or
    /// its dead rows or rows modified since the last analyse are past the server's trigger
    /// now. A lax setting on a table that hardly changes costs nothing and is left alone;
    /// a stricter one is never reported.
    ///
    /// ## Why it matters
    /// Such settings are usually left over from a bulk load or copied from a forum post.
    /// They hide the problem they cause: dead rows and stale statistics are judged against
    /// the table's own trigger, so a table with `autovacuum_vacuum_scale_factor = 0.5`
    /// carries up to half its size in dead rows between vacuums while looking within its
    /// limits. The dead-row and statistics rules ([VAC001](dead-tuple-ratio),
    /// [VAC003](vacuum-overdue), [VAC004](stale-statistics)) therefore judge against the
    /// server's trigger too, and say which parameter is to blame.
    ///
    /// ## How to fix
    /// `ALTER TABLE … RESET (autovacuum_vacuum_scale_factor, …)`: the server's settings
    /// apply again (a `SHARE UPDATE EXCLUSIVE` lock, no rewrite). A table that needs its
    /// own settings should get stricter ones, not laxer: a large table gets the per-table
    /// scale factor of [VAC005](large-table-default-scale-factor) and `pgsage tune`.
    ///
    /// ## Thresholds
    /// - `min_laxity_factor` (default 2): the table's trigger must be at least this many
    ///   times the server's.
    /// - `min_trigger_rows` (default 10000): ignore tables whose own trigger is below this
    ///   many rows (waiting a little longer on a small table does not matter).
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/routine-vacuuming.html#AUTOVACUUM>
    /// - <https://www.postgresql.org/docs/current/sql-createtable.html#SQL-CREATETABLE-STORAGE-PARAMETERS>
    /// - <https://www.postgresql.org/docs/current/sql-altertable.html>
    pub struct LaxAutovacuumStorageParameter {
        id: "VAC012",
        name: "lax-autovacuum-storage-parameter",
        pack: "vacuum",
        title: "Storage parameter makes autovacuum laxer than the server",
        params: {
            min_laxity_factor: f64 = ("×", "The table's trigger must be at least this many times the server's"),
            min_trigger_rows: f64 = ("rows", "Ignore tables whose own trigger is below this many rows"),
        },
    }
}

/// Minutes in a day, for rates per minute.
const MINUTES_PER_DAY: f64 = 1440.0;

/// Whether autovacuum, on the server's settings, would have had to run `task` on `table`:
/// its changes reach the server's trigger at least once a day, or are past it now.
fn busy(snapshot: &Snapshot, table: &Table, lax: &LaxTrigger, min_stats_age_s: f64) -> bool {
    let (rate, level) = match lax.task {
        AutovacuumTask::Vacuum => (
            churn_per_minute(snapshot, table, min_stats_age_s),
            table.n_dead_tup,
        ),
        AutovacuumTask::Analyze => (
            modifications_per_minute(snapshot, table, min_stats_age_s),
            table.n_mod_since_analyze,
        ),
    };
    rate.is_some_and(|r| r * MINUTES_PER_DAY >= lax.server_trigger)
        || level as f64 > lax.server_trigger
}

impl SnapshotRule for LaxAutovacuumStorageParameter {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let snap = ctx.snapshot;
        let mut drafts = Vec::new();
        for t in snap
            .tables
            .iter()
            .filter(|t| maintained(t) && !disabled_by_reloption(t))
        {
            let lax: Vec<LaxTrigger> = lax_triggers(snap, t)
                .into_iter()
                .filter(|l| {
                    l.table_trigger >= p.min_trigger_rows
                        && l.table_trigger >= p.min_laxity_factor * l.server_trigger
                        && busy(snap, t, l, ctx.min_stats_age_seconds)
                })
                .collect();
            if lax.is_empty() {
                continue;
            }
            let what: Vec<String> = lax
                .iter()
                .map(|l| {
                    format!(
                        "{} {} autovacuum {} it after {} {} rows instead of the server's {}",
                        l.options.join(", "),
                        if l.options.len() == 1 { "has" } else { "have" },
                        l.task.verb(),
                        units::count(l.table_trigger),
                        match l.task {
                            AutovacuumTask::Vacuum => "dead",
                            AutovacuumTask::Analyze => "modified",
                        },
                        units::count(l.server_trigger)
                    )
                })
                .collect();
            let refs: Vec<&LaxTrigger> = lax.iter().collect();
            let mut draft = Draft::new(
                table_object(snap, t),
                format!(
                    "`{}` is busy, but its own storage parameters make autovacuum wait longer than the server's settings: {}",
                    t.name,
                    what.join("; ")
                ),
            )
            .evidence(
                "reloptions",
                lax.iter()
                    .flat_map(|l| l.options.iter().cloned())
                    .collect::<Vec<_>>()
                    .join(","),
            )
            .evidence("n_dead_tup", t.n_dead_tup)
            .evidence("n_mod_since_analyze", t.n_mod_since_analyze)
            .evidence("reltuples", t.reltuples.max(0.0))
            .evidence("basis", ctx.basis().label());
            for l in &lax {
                let key = l.task.verb();
                draft = draft
                    .evidence(&format!("{key}_trigger_rows"), l.table_trigger.round())
                    .evidence(
                        &format!("server_{key}_trigger_rows"),
                        l.server_trigger.round(),
                    );
            }
            if let Some(r) = churn_per_minute(snap, t, ctx.min_stats_age_seconds) {
                draft = draft.evidence("updates_deletes_per_day", (r * MINUTES_PER_DAY).round());
            }
            drafts.push(
                draft
                    .recommend("Reset these storage parameters so the server's settings apply; a table that needs its own should get stricter ones (for a large table, VAC005's scale factor), not laxer")
                    .fix(
                        reset_lax_options(&t.qualified_name(), &refs),
                        "none",
                        "n_dead_tup, n_mod_since_analyze, last_autovacuum and last_autoanalyze in pg_stat_user_tables",
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
    fn fires_on_a_busy_table_with_lax_storage_parameters() {
        let f = assert_fires("VAC012", "public.mail_followers");
        let sql = f[0].fix.as_ref().map(|x| x.sql.clone()).unwrap_or_default();
        assert!(
            sql.contains("RESET (autovacuum_vacuum_scale_factor"),
            "{sql}"
        );
    }

    #[test]
    fn quiet_on_stricter_or_idle_tables() {
        assert_quiet("VAC012");
    }

    /// The same lax parameters on a table that did not change in the window (its
    /// counters as a quiet table's would be) cost nothing: not reported.
    #[test]
    fn quiet_on_an_idle_table_with_lax_parameters() {
        let path = pgsage_testkit::scenario::fixture_path("vacuum", "problems");
        let mut snapshot = crate::Snapshot::load(&path).expect("fixture");
        let config = crate::RuleConfig::shipped().expect("packs");
        let flagged = |s: &crate::Snapshot| {
            crate::audit(s, &config)
                .findings
                .iter()
                .any(|f| f.rule == "VAC012" && f.object.name == "mail_followers")
        };
        assert!(flagged(&snapshot));
        let t = snapshot
            .tables
            .iter_mut()
            .find(|t| t.name == "mail_followers")
            .expect("planted");
        (t.n_tup_ins, t.n_tup_upd, t.n_tup_del) = (0, 0, 0);
        (t.n_dead_tup, t.n_mod_since_analyze) = (0, 0);
        assert!(!flagged(&snapshot));
    }
}
