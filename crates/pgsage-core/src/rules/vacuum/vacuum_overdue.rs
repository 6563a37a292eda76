use crate::knowledge::autovacuum::{judged_vacuum_trigger, AutovacuumTask};
use crate::report::Severity;
use crate::rules::macros::declare_rule;
use crate::rules::vacuum::common::{
    disabled_by_reloption, disabled_globally, last_vacuum, lax_trigger_note, maintained, round1,
    table_object, when,
};
use crate::rules::vacuum::dead_tuple_ratio::{dead_heavy, dead_pct};
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::{Snapshot, Table};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// Tables past autovacuum's dead-row trigger (`autovacuum_vacuum_threshold +
    /// autovacuum_vacuum_scale_factor × reltuples`: the lower of the table's own, storage
    /// parameters included, and the server's, so that a storage parameter making
    /// autovacuum laxer than the server does not hide the table) that have not been
    /// vacuumed for `max_hours_since_vacuum` hours, or never since the
    /// statistics were reset, although they have at least `min_dead_tuples` dead rows:
    /// autovacuum should have processed them long ago and did not.
    ///
    /// Tables that [VAC001](dead-tuple-ratio) already reports (a large share of dead rows)
    /// and tables whose own `autovacuum_enabled = false` [VAC002](autovacuum-disabled)
    /// reports are left out, so a table is not reported twice for the same reason.
    ///
    /// ## Why it matters
    /// With autovacuum running, a table past its trigger is normally vacuumed within
    /// `autovacuum_naptime` (one minute). When it is not, autovacuum is off, every
    /// worker is busy with other (large) tables, its vacuums are cancelled by lock
    /// conflicts (DDL, `LOCK TABLE`, long `TRUNCATE`s in batches), or it is so throttled
    /// by cost limits that it never gets there. Dead rows keep accumulating and the
    /// visibility map goes stale.
    ///
    /// ## How to fix
    /// Vacuum the table now (`VACUUM (ANALYZE, VERBOSE)`), then find out why autovacuum
    /// did not: check `autovacuum` is on, look for `autovacuum worker` backends busy on
    /// other tables (raise `autovacuum_max_workers` or lower their cost delay), and for
    /// "canceling autovacuum task" in the server log (lock conflicts). Setting
    /// `log_autovacuum_min_duration = 0` shows what autovacuum does.
    ///
    /// ## Thresholds
    /// - `min_dead_tuples` (default 1000): ignore tables with fewer dead rows.
    /// - `max_hours_since_vacuum` (default 24): a table past its trigger and not
    ///   vacuumed for this long is overdue.
    /// - `vac001_min_dead_tuples` (default 10000) and `vac001_warning_ratio_pct`
    ///   (default 20): VAC001's thresholds, to leave out the tables it reports; keep
    ///   them equal to VAC001's `min_dead_tuples` and `warning_ratio_pct`.
    ///
    /// `n_dead_tup` is a level, but "never vacuumed" is counted from the last statistics
    /// reset: when statistics are young the finding has low confidence.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/routine-vacuuming.html#AUTOVACUUM>
    /// - <https://www.postgresql.org/docs/current/runtime-config-autovacuum.html>
    /// - <https://www.postgresql.org/docs/current/runtime-config-logging.html#GUC-LOG-AUTOVACUUM-MIN-DURATION>
    pub struct VacuumOverdue {
        id: "VAC003",
        name: "vacuum-overdue",
        pack: "vacuum",
        title: "Vacuum overdue",
        params: {
            min_dead_tuples: f64 = ("rows", "Ignore tables with fewer dead rows than this"),
            max_hours_since_vacuum: f64 = ("h", "Hours without a vacuum, past the trigger, that make a table overdue"),
            vac001_min_dead_tuples: f64 = ("rows", "VAC001's min_dead_tuples (tables it reports are left out)"),
            vac001_warning_ratio_pct: f64 = ("%", "VAC001's warning_ratio_pct, in % (tables it reports are left out)"),
        },
    }
}

/// The predicate: past the trigger with enough dead rows, not vacuumed for
/// `max_hours` (or never), and not already reported by VAC001 or VAC002.
pub(crate) fn overdue(
    snapshot: &Snapshot,
    table: &Table,
    min_dead: f64,
    max_hours: f64,
    vac001: (f64, f64),
) -> bool {
    let dead = table.n_dead_tup as f64;
    if !maintained(table) || dead < min_dead || dead <= judged_vacuum_trigger(snapshot, table) {
        return false;
    }
    if disabled_by_reloption(table) || dead_heavy(snapshot, table, vac001.0, vac001.1) {
        return false;
    }
    last_vacuum(table).is_none_or(|at| snapshot.age_seconds(at) >= max_hours * 3600.0)
}

impl SnapshotRule for VacuumOverdue {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min_dead = p.min_dead_tuples;
        let max_hours = p.max_hours_since_vacuum;
        let vac001 = (p.vac001_min_dead_tuples, p.vac001_warning_ratio_pct);
        let snap = ctx.snapshot;
        let global_off = disabled_globally(snap);
        let young = ctx.stats_too_young();
        let mut drafts = Vec::new();
        for t in snap.tables.iter() {
            if !overdue(snap, t, min_dead, max_hours, vac001) {
                continue;
            }
            let last = last_vacuum(t);
            let trigger = judged_vacuum_trigger(snap, t);
            let lax = lax_trigger_note(snap, t, AutovacuumTask::Vacuum);
            let since = match last {
                Some(at) => {
                    format!("last vacuumed {}", units::duration(snap.age_seconds(at))) + " ago"
                }
                None => "never vacuumed since statistics were reset".to_owned(),
            };
            let name = t.qualified_name();
            let mut draft = Draft::new(
                table_object(snap, t),
                format!(
                    "`{}` has {} dead rows, past {}, and was {since}{}",
                    t.name,
                    units::count(t.n_dead_tup),
                    match &lax {
                        Some((note, _)) => format!("the server's autovacuum trigger ({note})"),
                        None => format!("autovacuum's trigger of {}", units::count(trigger)),
                    },
                    if global_off { " (autovacuum is off for the server)" } else { "" }
                ),
            )
            .severity(Severity::Warning)
            .evidence("n_dead_tup", t.n_dead_tup)
            .evidence("n_live_tup", t.n_live_tup)
            .evidence("dead_pct", round1(dead_pct(t)))
            .evidence("autovacuum_trigger_rows", trigger.round())
            .evidence("last_vacuum", when(last))
            .evidence("n_tup_upd", t.n_tup_upd)
            .evidence("n_tup_del", t.n_tup_del)
            .evidence("autovacuum_count", t.autovacuum_count)
            .evidence("table_bytes", t.heap_bytes)
            .recommend(match (&lax, global_off) {
                (_, true) => "Vacuum the table now and switch autovacuum back on (see VAC002)",
                (Some(_), false) => "Vacuum the table now, and reset its storage parameters that make autovacuum wait longer than the server's settings (the server's trigger then applies)",
                (None, false) => "Vacuum the table now, then find why autovacuum did not: all workers busy on other tables, vacuums cancelled by lock conflicts (server log: \"canceling autovacuum task\"), or cost limits too low; set log_autovacuum_min_duration to see its work",
            })
            .fix(
                match &lax {
                    Some((_, reset)) => format!("VACUUM (ANALYZE, VERBOSE) {name};\n{reset}"),
                    None => format!("VACUUM (ANALYZE, VERBOSE) {name};"),
                },
                "none",
                "last_autovacuum and n_dead_tup in pg_stat_user_tables",
            );
            if let Some(reason) = &young {
                if last.is_none() {
                    draft = draft.low_confidence(reason.clone());
                }
            }
            drafts.push(draft);
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};
    use crate::RuleConfig;

    #[test]
    fn fires_on_a_table_autovacuum_has_not_reached() {
        assert_fires("VAC003", "public.account_move_line");
    }

    #[test]
    fn quiet_when_tables_are_vacuumed() {
        assert_quiet("VAC003");
    }

    #[test]
    fn mirrors_vac001_thresholds() {
        let config = RuleConfig::shipped().expect("shipped");
        let n = |rule: &str, p: &str| config.rules[rule].params[p].clone();
        assert_eq!(
            n("VAC003", "vac001_min_dead_tuples"),
            n("VAC001", "min_dead_tuples")
        );
        assert_eq!(
            n("VAC003", "vac001_warning_ratio_pct"),
            n("VAC001", "warning_ratio_pct")
        );
    }
}
