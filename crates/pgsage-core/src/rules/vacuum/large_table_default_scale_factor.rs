use crate::knowledge::autovacuum::{
    self, large_tables, reltuples, table_setting, LargeTable, LargeTablePolicy, ScaleFactorTarget,
};
use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::vacuum::common::table_object;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// Large tables left on the server-wide `autovacuum_vacuum_scale_factor` (no
    /// per-table storage parameter) whose dead-row trigger
    /// (`autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor × reltuples`) is at
    /// least `min_trigger_rows` rows: with the default 0.2, a table of a million rows waits
    /// for 200,000 dead rows before autovacuum touches it, a 20-million-row table for 4
    /// million.
    ///
    /// The recommended per-table scale factor is computed from the table's size and churn:
    /// vacuum when `target_dead_pct` % of the rows are dead, at most `max_target_rows`
    /// dead rows, but not more often than every `min_minutes_between_vacuums` minutes at the
    /// observed rate of updates and deletes (over the sampled interval, or since the
    /// statistics reset). The analyse scale factor is half of it, and on 13+ the insert
    /// scale factor the same, so append-heavy tables get their visibility map maintained
    /// too.
    ///
    /// When the server-wide value itself is above PostgreSQL's default (0.2) and at least
    /// `server_finding_min_tables` tables are affected, the setting is the cause: one
    /// finding on `autovacuum_vacuum_scale_factor` lists the tables instead of one finding
    /// per table.
    ///
    /// `pgsage tune` lists the same tables with the same storage parameters: both use these
    /// parameters and the formulas of `pgsage_core::knowledge::autovacuum`.
    ///
    /// ## Why it matters
    /// A vacuum that starts only after millions of dead rows has millions of index
    /// entries to remove and takes hours, during which the table and its indexes bloat
    /// and queries read dead rows. Frequent, small vacuums are cheap; rare, huge ones are
    /// what make autovacuum look harmful.
    ///
    /// ## How to fix
    /// Give the table its own settings, e.g.
    /// `ALTER TABLE … SET (autovacuum_vacuum_scale_factor = 0.005, autovacuum_analyze_scale_factor = 0.0025);`
    /// (no lock beyond `SHARE UPDATE EXCLUSIVE`, no rewrite). Watch how often it is vacuumed
    /// (`autovacuum_count`) and how long each run takes (`log_autovacuum_min_duration`).
    ///
    /// ## Thresholds
    /// - `min_trigger_rows` (default 200000): report tables whose trigger is at least this:
    ///   the trigger of a table of a million rows on the default scale factor. A dead-row
    ///   trigger in the hundreds of thousands on a table of a million rows or more is what
    ///   established guidance tells a DBA to lower (pganalyze's VACUUM Advisor recommends
    ///   per-table scale factors when vacuums are too rare; the AWS and Crunchy Data guides
    ///   lower the scale factor of large, write-heavy tables; PostgreSQL 18 added
    ///   `autovacuum_vacuum_max_threshold` for the same reason). The earlier default,
    ///   1000000, waited for tables of 5 million rows.
    /// - `target_dead_pct` (default 1): share of rows that may be dead before a vacuum, in %.
    /// - `max_target_rows` (default 500000): at most this many dead rows before a vacuum.
    /// - `min_minutes_between_vacuums` (default 60): do not recommend a trigger that the
    ///   observed update/delete rate would reach more often than this.
    ///
    /// - `server_finding_min_tables` (default 3): with a server-wide scale factor above the
    ///   default 0.2, this many affected tables give one finding on the setting.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/routine-vacuuming.html#AUTOVACUUM>
    /// - <https://www.postgresql.org/docs/current/sql-createtable.html#SQL-CREATETABLE-STORAGE-PARAMETERS>
    /// - <https://pganalyze.com/docs/vacuum-advisor>
    /// - <https://pganalyze.com/docs/checks/vacuum/insufficient_vacuum_frequency>
    /// - <https://docs.aws.amazon.com/prescriptive-guidance/latest/tuning-postgresql-parameters/autovacuum-vacuum-scale-factor.html>
    /// - <https://docs.crunchybridge.com/guides/vacuum-and-autovacuum>
        pub struct LargeTableDefaultScaleFactor {
        id: "VAC005",
        name: "large-table-default-scale-factor",
        pack: "vacuum",
        title: "Large table on the global autovacuum scale factor",
        params: {
            min_trigger_rows: f64 = ("rows", "Report tables whose dead-row trigger is at least this many rows"),
            target_dead_pct: f64 = ("%", "Share of rows that may be dead before a vacuum"),
            max_target_rows: f64 = ("rows", "At most this many dead rows before a vacuum"),
            min_minutes_between_vacuums: f64 = ("min", "Do not recommend triggers reached more often than this"),
            server_finding_min_tables: f64 = ("tables", "Affected tables that make one finding on a server-wide value above the default"),
        },
    }
}

/// PostgreSQL's default `autovacuum_vacuum_scale_factor`.
const DEFAULT_SCALE_FACTOR: f64 = autovacuum::DEFAULT_VACUUM_SCALE_FACTOR;

/// Tables shown in the server-level finding.
const SERVER_FINDING_TABLES: usize = 10;

/// One finding on the server-wide setting when it is raised above the default and
/// affects many tables: the setting is the cause, not each table.
fn server_level(ctx: &RuleContext<'_>, global: f64, affected: &[LargeTable<'_>]) -> Draft {
    let mut largest: Vec<&LargeTable<'_>> = affected.iter().collect();
    largest.sort_by(|a, b| b.trigger_rows.total_cmp(&a.trigger_rows));
    let shown: Vec<serde_json::Value> = largest
        .iter()
        .take(SERVER_FINDING_TABLES)
        .map(|l| {
            serde_json::json!({
                "table": l.table.qualified_name(),
                "reltuples": reltuples(l.table),
                "autovacuum_trigger_rows": l.trigger_rows.round(),
            })
        })
        .collect();
    Draft::new(
        ObjectRef::setting("autovacuum_vacuum_scale_factor"),
        format!(
            "autovacuum_vacuum_scale_factor is {global} server-wide (default {DEFAULT_SCALE_FACTOR}): {} large tables wait for at least {} dead rows before autovacuum vacuums them",
            units::count(affected.len()),
            units::count(largest.last().map_or(0.0, |l| l.trigger_rows)),
        ),
    )
    .evidence("autovacuum_vacuum_scale_factor", global)
    .evidence("affected_tables", affected.len())
    .evidence("largest_triggers", serde_json::Value::Array(shown))
    .recommend(format!(
        "Bring the server-wide scale factor back to {DEFAULT_SCALE_FACTOR} (or lower); then give the largest tables their own, smaller scale factor (this rule will name them)"
    ))
    .with_fix(ctx.settings_fix(
        &[(
            "autovacuum_vacuum_scale_factor",
            DEFAULT_SCALE_FACTOR.to_string(),
        )],
        "",
        "autovacuum_count and n_dead_tup in pg_stat_user_tables",
    ))
}

impl SnapshotRule for LargeTableDefaultScaleFactor {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let policy = LargeTablePolicy {
            min_trigger_rows: p.min_trigger_rows,
            target: ScaleFactorTarget {
                dead_pct: p.target_dead_pct,
                max_rows: p.max_target_rows,
                min_minutes: p.min_minutes_between_vacuums,
            },
            server_finding_min_tables: p.server_finding_min_tables,
        };
        let snap = ctx.snapshot;
        // The same tables and settings as `pgsage tune`'s per-table advice.
        let large = large_tables(snap, &policy, ctx.min_stats_age_seconds);
        if let Some(global) = large.raised_server_scale_factor {
            return Ok(vec![server_level(ctx, global, &large.tables)]);
        }
        let mut drafts = Vec::new();
        for LargeTable {
            table: t,
            trigger_rows: current,
            churn_per_minute: churn,
            factors,
        } in &large.tables
        {
            let rows = reltuples(t);
            let global_scale = table_setting(
                snap,
                t,
                "autovacuum_vacuum_scale_factor",
                DEFAULT_SCALE_FACTOR,
            );
            let scale = factors.vacuum;
            let name = t.qualified_name();
            let new_trigger = factors.new_trigger_rows;
            let mut draft = Draft::new(
                table_object(snap, t),
                format!(
                    "`{}` (about {} rows) uses the server's autovacuum_vacuum_scale_factor of {global_scale}: autovacuum waits for {} dead rows before vacuuming it",
                    t.name,
                    units::count(rows),
                    units::count(*current)
                ),
            )
            .evidence("reltuples", rows)
            .evidence("table_bytes", t.heap_bytes)
            .evidence("autovacuum_vacuum_scale_factor", global_scale)
            .evidence("autovacuum_trigger_rows", current.round())
            .evidence("recommended_scale_factor", scale)
            .evidence("recommended_trigger_rows", new_trigger.round())
            .evidence("basis", ctx.basis().label())
            .recommend(format!(
                "Give the table its own scale factor so it is vacuumed after about {} dead rows instead of {}",
                units::count(new_trigger),
                units::count(*current)
            ))
            .fix(
                factors.alter_table(&name),
                "none",
                "autovacuum_count and n_dead_tup in pg_stat_user_tables; the duration of each run with log_autovacuum_min_duration",
            );
            match churn {
                Some(c) => draft = draft.evidence("updates_deletes_per_hour", (c * 60.0).round()),
                None => {
                    draft = draft.evidence("updates_deletes_per_hour", "unknown");
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
    use crate::Snapshot;

    #[test]
    fn fires_on_a_large_table_on_the_global_scale_factor() {
        let f = assert_fires("VAC005", "public.stock_valuation_layer");
        let sql = &f[0].fix.as_ref().expect("a fix").sql;
        assert!(sql.contains("autovacuum_vacuum_scale_factor = "), "{sql}");
    }

    /// The demo ERP (captured by `scripts/make-demo-snapshot.sh`) leaves its 5-million-row
    /// journal items table on the default scale factor: one finding on that table. With
    /// the server-wide value raised above PostgreSQL's default, the setting is the cause:
    /// one finding on the setting, not one per table.
    #[test]
    fn one_server_finding_when_the_global_value_is_the_cause() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/snapshots/demo.json"
        );
        let mut snapshot = Snapshot::load(path).expect("demo snapshot");
        let mut config = crate::RuleConfig::shipped().expect("shipped packs");
        let vac005 = |snapshot: &Snapshot, config: &crate::RuleConfig| -> Vec<crate::Finding> {
            crate::audit(snapshot, config)
                .findings
                .into_iter()
                .filter(|f| f.rule == "VAC005")
                .collect()
        };
        let as_captured = vac005(&snapshot, &config);
        let objects: Vec<&str> = as_captured.iter().map(|f| f.object.name.as_str()).collect();
        assert_eq!(objects, ["account_move_line"], "{as_captured:#?}");

        // Raised server-wide, with a trigger low enough for the demo's mid-sized tables
        // (stock moves, order lines, messages) to count too.
        snapshot
            .settings
            .iter_mut()
            .find(|s| s.name == "autovacuum_vacuum_scale_factor")
            .expect("the setting is collected")
            .setting = "0.4".into();
        config
            .set_param(
                "VAC005",
                "min_trigger_rows",
                crate::rules::ParamValue::Number(100_000.0),
            )
            .expect("param");
        let grouped = vac005(&snapshot, &config);
        assert_eq!(grouped.len(), 1, "{grouped:#?}");
        assert_eq!(
            grouped[0].object.display_name(),
            "autovacuum_vacuum_scale_factor"
        );
        let affected = grouped[0].evidence["affected_tables"]
            .as_u64()
            .expect("affected_tables");
        assert!(affected >= 3, "{affected}");
        assert!(grouped[0].fix.as_ref().is_some_and(|f| f
            .sql
            .contains("ALTER SYSTEM SET autovacuum_vacuum_scale_factor")));
        // With the grouping out of reach, the same tables get one finding each.
        config
            .set_param(
                "VAC005",
                "server_finding_min_tables",
                crate::rules::ParamValue::Number(1e9),
            )
            .expect("param");
        let per_table = vac005(&snapshot, &config);
        assert_eq!(per_table.len() as u64, affected);
    }

    #[test]
    fn quiet_on_tuned_and_small_tables() {
        assert_quiet("VAC005");
    }
}
