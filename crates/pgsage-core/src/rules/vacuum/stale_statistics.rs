use crate::knowledge::autovacuum::{judged_analyze_trigger, AutovacuumTask};
use crate::rules::macros::declare_rule;
use crate::rules::vacuum::common::{
    disabled_by_reloption, disabled_globally, last_analyze, lax_trigger_note, maintained, round1,
    table_object, when,
};
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::{Snapshot, Table};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// - Tables with rows that were **never analysed**: `reltuples = -1` (PostgreSQL 14+
    ///   marks a table never vacuumed nor analysed that way) while `n_live_tup` is at
    ///   least `min_rows`.
    /// - Tables whose **statistics are stale**: more rows modified since the last analyse
    ///   (`n_mod_since_analyze`) than `stale_factor` times autoanalyze's trigger
    ///   (`autovacuum_analyze_threshold + autovacuum_analyze_scale_factor × reltuples`:
    ///   the lower of the table's own, storage parameters included, and the server's, so
    ///   that a storage parameter making autoanalyze laxer than the server does not hide
    ///   the table; the fix then resets it), and at least `min_modified_rows`.
    ///
    /// Tables whose own `autovacuum_enabled = false` are reported by
    /// [VAC002](autovacuum-disabled) instead; partitioned parents, which autovacuum never
    /// analyses, and temporary tables are not checked.
    ///
    /// ## Why it matters
    /// The planner estimates row counts from these statistics. A table loaded or changed
    /// in bulk without an analyse gets estimates off by orders of magnitude: nested
    /// loops over millions of rows, hash tables sized for ten rows spilling to disk,
    /// wrong join orders. Autoanalyze normally keeps up; when it does not, autovacuum is
    /// off, overwhelmed, or the table was just bulk-loaded by a job that should analyse
    /// it itself.
    ///
    /// ## How to fix
    /// `ANALYZE` the table now (it reads a sample and takes only a light lock). Batch jobs
    /// that load or rewrite large parts of a table should run `ANALYZE` on it before
    /// their next queries. If autoanalyze lags on a large table, lower its
    /// `autovacuum_analyze_scale_factor`.
    ///
    /// ## Thresholds
    /// - `min_rows` (default 1000): never-analysed tables with fewer live rows are ignored.
    /// - `min_modified_rows` (default 10000): ignore tables with fewer modified rows.
    /// - `stale_factor` (default 2): how many times autoanalyze's trigger the modified
    ///   rows must exceed (autoanalyze may simply not have reached a table just past it).
    /// - `min_analyze_age_minutes` (default 60): a table analysed more recently than this
    ///   is left alone. A few hot rows updated thousands of times a minute are always past
    ///   the trigger between two autoanalyze runs; statistics are stale only when the last
    ///   analyse is old as well.
    ///
    /// `n_mod_since_analyze` is reset with the statistics: after a reset, staleness is
    /// under-reported, never over-reported.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/routine-vacuuming.html#VACUUM-FOR-STATISTICS>
    /// - <https://www.postgresql.org/docs/current/sql-analyze.html>
    /// - <https://www.postgresql.org/docs/current/runtime-config-autovacuum.html#GUC-AUTOVACUUM-ANALYZE-SCALE-FACTOR>
    pub struct StaleStatistics {
        id: "VAC004",
        name: "stale-statistics",
        pack: "vacuum",
        title: "Planner statistics stale or missing",
        params: {
            min_rows: f64 = ("rows", "Never-analysed tables with fewer live rows are ignored"),
            min_modified_rows: f64 = ("rows", "Ignore tables with fewer rows modified since the last analyse"),
            stale_factor: f64 = ("×", "Times autoanalyze's trigger the modified rows must exceed"),
            min_analyze_age_minutes: f64 = ("min", "Tables analysed more recently than this are left alone: autoanalyze keeps up, the table is just busy"),
        },
    }
}

/// Why a table's statistics are missing or stale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Staleness {
    /// Never analysed, this many live rows.
    NeverAnalysed,
    /// Modified rows over the trigger by this factor.
    Stale(f64),
}

/// The predicate.
pub(crate) fn staleness(
    snapshot: &Snapshot,
    table: &Table,
    min_rows: f64,
    min_modified: f64,
    factor: f64,
    min_analyze_age_s: f64,
) -> Option<Staleness> {
    if !maintained(table) || disabled_by_reloption(table) {
        return None;
    }
    if table.reltuples < 0.0 && table.n_live_tup as f64 >= min_rows {
        return Some(Staleness::NeverAnalysed);
    }
    // A busy table (a few hot rows updated thousands of times a minute) is always past its
    // trigger between two autoanalyze runs; only an analyse that is also old is stale.
    if last_analyze(table).is_some_and(|at| snapshot.age_seconds(at) < min_analyze_age_s) {
        return None;
    }
    let modified = table.n_mod_since_analyze as f64;
    let trigger = judged_analyze_trigger(snapshot, table);
    (modified >= min_modified && modified > factor * trigger)
        .then(|| Staleness::Stale(modified / trigger))
}

impl SnapshotRule for StaleStatistics {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min_rows = p.min_rows;
        let min_modified = p.min_modified_rows;
        let factor = p.stale_factor;
        let min_age_s = p.min_analyze_age_minutes * 60.0;
        let snap = ctx.snapshot;
        let global_off = disabled_globally(snap);
        let mut drafts = Vec::new();
        for t in &snap.tables {
            let Some(kind) = staleness(snap, t, min_rows, min_modified, factor, min_age_s) else {
                continue;
            };
            let trigger = judged_analyze_trigger(snap, t);
            let lax = lax_trigger_note(snap, t, AutovacuumTask::Analyze);
            let last = last_analyze(t);
            let message = match kind {
                Staleness::NeverAnalysed => format!(
                    "`{}` has about {} rows but was never analysed: the planner has no statistics for it",
                    t.name,
                    units::count(t.n_live_tup)
                ),
                Staleness::Stale(_) => format!(
                    "`{}` has {} rows modified since its last analyse ({}), {}× {}: its planner statistics are stale",
                    t.name,
                    units::count(t.n_mod_since_analyze),
                    last.map_or("none recorded since statistics were reset".to_owned(), |at| format!(
                        "{} ago",
                        units::duration(snap.age_seconds(at))
                    )),
                    units::number(t.n_mod_since_analyze as f64 / trigger),
                    match &lax {
                        Some((note, _)) => format!("the server's autoanalyze trigger ({note})"),
                        None => format!("autoanalyze's trigger of {}", units::count(trigger)),
                    }
                ),
            };
            let name = t.qualified_name();
            drafts.push(
                Draft::new(table_object(snap, t), message)
                    .evidence("never_analysed", kind == Staleness::NeverAnalysed)
                    .evidence("reltuples", t.reltuples)
                    .evidence("n_live_tup", t.n_live_tup)
                    .evidence("n_mod_since_analyze", t.n_mod_since_analyze)
                    .evidence("autoanalyze_trigger_rows", trigger.round())
                    .evidence(
                        "modified_vs_trigger",
                        round1(t.n_mod_since_analyze as f64 / trigger.max(1.0)),
                    )
                    .evidence("last_analyze", when(last))
                    .evidence("autovacuum_on", !global_off)
                    .recommend(match (&lax, global_off) {
                        (_, true) => "Analyse the table now, and switch autovacuum back on (see VAC002) so autoanalyze keeps its statistics fresh",
                        (Some(_), false) => "Analyse the table now, and reset its storage parameters that make autoanalyze wait longer than the server's settings (the server's trigger then applies)",
                        (None, false) => "Analyse the table now; jobs that load or rewrite large parts of it should run ANALYZE themselves, and a large table whose autoanalyze lags needs a lower autovacuum_analyze_scale_factor",
                    })
                    .fix(
                        match &lax {
                            Some((_, reset)) => format!("ANALYZE {name};\n{reset}"),
                            None => format!("ANALYZE {name};"),
                        },
                        "none",
                        "n_mod_since_analyze and last_autoanalyze in pg_stat_user_tables; estimated vs actual rows in EXPLAIN ANALYZE",
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
    fn fires_on_a_table_modified_since_its_analyse() {
        assert_fires("VAC004", "public.product_template");
    }

    #[test]
    fn fires_on_a_table_never_analysed() {
        assert_fires("VAC004", "public.res_partner_import");
    }

    /// `autovacuum_analyze_scale_factor = 0.5` puts the table's analyse trigger at 20,050
    /// modified rows; 12,000 are stale statistics by the server's trigger (4,050).
    #[test]
    fn a_lax_storage_parameter_does_not_hide_stale_statistics() {
        let f = assert_fires("VAC004", "public.mail_followers");
        let sql = f
            .iter()
            .find(|f| f.object.name == "mail_followers")
            .and_then(|f| f.fix.as_ref())
            .map(|x| x.sql.clone())
            .unwrap_or_default();
        assert!(
            sql.contains("RESET (autovacuum_analyze_scale_factor)"),
            "{sql}"
        );
    }

    #[test]
    fn quiet_on_analysed_tables() {
        assert_quiet("VAC004");
    }

    /// With the shipped `min_analyze_age_minutes`, the table analysed seconds before the
    /// capture (then grown by half) is busy, not stale; the never-analysed one still fires.
    #[test]
    fn a_recent_analyse_is_not_stale_with_shipped_thresholds() {
        let path = pgsage_testkit::scenario::fixture_path("vacuum", "autovacuum-off");
        let snapshot = crate::Snapshot::load(&path).expect("fixture");
        let report = crate::audit(&snapshot, &crate::RuleConfig::shipped().expect("packs"));
        let flagged: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.rule == "VAC004")
            .map(|f| f.object.display_name())
            .collect();
        assert!(
            flagged.contains(&"public.res_partner_import".to_owned()),
            "{flagged:?}"
        );
        assert!(
            !flagged.contains(&"public.product_template".to_owned()),
            "{flagged:?}"
        );
    }
}
