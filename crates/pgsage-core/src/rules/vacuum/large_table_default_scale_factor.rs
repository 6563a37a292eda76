use crate::knowledge::autovacuum::{reltuples, table_setting, vacuum_trigger};
use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::vacuum::common::{disabled_by_reloption, maintained, table_object};
use crate::rules::{Basis, Draft, Rule, RuleContext, RuleMeta, Skip};
use crate::snapshot::{Snapshot, Table};

declare_rule! {
    /// ## What it detects
    /// Large tables left on the server-wide `autovacuum_vacuum_scale_factor` (no
    /// per-table storage parameter) whose dead-row trigger
    /// (`autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor × reltuples`) is at
    /// least `min_trigger_rows` rows: with the default 0.2, a 20-million-row table waits
    /// for 4 million dead rows before autovacuum touches it.
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
    /// - `min_trigger_rows` (default 1000000): report tables whose trigger is at least this.
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
    pub struct LargeTableDefaultScaleFactor {
        id: "VAC005",
        name: "large-table-default-scale-factor",
        pack: "vacuum",
        title: "Large table on the global autovacuum scale factor",
        params: [
            ("min_trigger_rows", "Report tables whose dead-row trigger is at least this many rows"),
            ("target_dead_pct", "Share of rows that may be dead before a vacuum, in %"),
            ("max_target_rows", "At most this many dead rows before a vacuum"),
            ("min_minutes_between_vacuums", "Do not recommend triggers reached more often than this, in minutes"),
            ("server_finding_min_tables", "Affected tables that make one finding on a server-wide value above the default"),
        ],
    }
}

/// Tunables for the recommended trigger.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target {
    pub dead_pct: f64,
    pub max_rows: f64,
    pub min_minutes: f64,
}

/// The predicate: on the global scale factor with a trigger of at least `min_trigger`.
pub(crate) fn on_default_with_huge_trigger(
    snapshot: &Snapshot,
    table: &Table,
    min_trigger: f64,
) -> bool {
    maintained(table)
        && !disabled_by_reloption(table)
        && table.reloption("autovacuum_vacuum_scale_factor").is_none()
        && vacuum_trigger(snapshot, table) >= min_trigger
}

/// The dead-row trigger to aim for: `dead_pct` % of the rows, at most `max_rows`, but
/// at least what the table's churn produces in `min_minutes` (when known); never above
/// the current trigger.
pub(crate) fn target_rows(
    rows: f64,
    churn_per_minute: Option<f64>,
    current: f64,
    t: Target,
) -> f64 {
    let by_size = (rows * t.dead_pct / 100.0).min(t.max_rows);
    let by_churn = churn_per_minute.map_or(0.0, |c| c * t.min_minutes);
    by_size.max(by_churn).min(current).max(1000.0)
}

/// A scale factor rounded to two significant digits (0.0047 → 0.0047, 0.01234 → 0.012).
pub(crate) fn round_scale(v: f64) -> f64 {
    if v <= 0.0 {
        return 0.0;
    }
    let digits = (-v.log10().floor()) as i32 + 1;
    let m = 10f64.powi(digits);
    (v * m).round() / m
}

/// PostgreSQL's default `autovacuum_vacuum_scale_factor`.
const DEFAULT_SCALE_FACTOR: f64 = 0.2;

/// Tables shown in the server-level finding.
const SERVER_FINDING_TABLES: usize = 10;

/// One finding on the server-wide setting when it is raised above the default and
/// affects many tables: the setting is the cause, not each table.
fn server_level(ctx: &RuleContext<'_>, affected: &[(f64, String, &Table)]) -> Draft {
    let snap = ctx.snapshot;
    let global = snap
        .setting("autovacuum_vacuum_scale_factor")
        .and_then(|s| s.as_f64())
        .unwrap_or(DEFAULT_SCALE_FACTOR);
    let mut largest: Vec<&(f64, String, &Table)> = affected.iter().collect();
    largest.sort_by(|a, b| b.0.total_cmp(&a.0));
    let shown: Vec<serde_json::Value> = largest
        .iter()
        .take(SERVER_FINDING_TABLES)
        .map(|(trigger, name, t)| {
            serde_json::json!({
                "table": name,
                "reltuples": reltuples(t),
                "autovacuum_trigger_rows": trigger.round(),
            })
        })
        .collect();
    Draft::new(
        ObjectRef::setting("autovacuum_vacuum_scale_factor"),
        format!(
            "autovacuum_vacuum_scale_factor is {global} server-wide (default {DEFAULT_SCALE_FACTOR}): {} large tables wait for at least {:.0} dead rows before autovacuum vacuums them",
            affected.len(),
            largest.last().map_or(0.0, |l| l.0),
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

/// Updates and deletes of `table` per minute over the basis, when measurable.
fn churn_per_minute(ctx: &RuleContext<'_>, table: &Table) -> Option<f64> {
    let now = (table.n_tup_upd + table.n_tup_del) as f64;
    match ctx.basis() {
        Basis::Interval { seconds } => {
            let before = ctx
                .snapshot
                .baseline
                .as_ref()?
                .tables
                .iter()
                .find(|b| b.oid == table.oid)?;
            let d = now - (before.n_tup_upd + before.n_tup_del) as f64;
            (d >= 0.0).then(|| d / (seconds / 60.0))
        }
        Basis::SinceReset { seconds } => {
            (ctx.stats_too_young().is_none() && seconds > 0.0).then(|| now / (seconds / 60.0))
        }
    }
}

impl Rule for LargeTableDefaultScaleFactor {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let min_trigger = ctx.number("min_trigger_rows")?;
        let target = Target {
            dead_pct: ctx.number("target_dead_pct")?,
            max_rows: ctx.number("max_target_rows")?,
            min_minutes: ctx.number("min_minutes_between_vacuums")?,
        };
        let server_min_tables = ctx.number("server_finding_min_tables")?;
        let snap = ctx.snapshot;
        let mut drafts = Vec::new();
        let mut affected = Vec::new();
        for t in &snap.tables {
            if !on_default_with_huge_trigger(snap, t, min_trigger) {
                continue;
            }
            let rows = reltuples(t);
            if rows <= 0.0 {
                continue;
            }
            let current = vacuum_trigger(snap, t);
            let global_scale = table_setting(snap, t, "autovacuum_vacuum_scale_factor", 0.2);
            let churn = churn_per_minute(ctx, t);
            let goal = target_rows(rows, churn, current, target);
            let scale = round_scale(goal / rows);
            let analyze_scale = round_scale(scale / 2.0);
            let name = t.qualified_name();
            affected.push((current, name.clone(), t));
            let mut options = vec![
                format!("autovacuum_vacuum_scale_factor = {scale}"),
                format!("autovacuum_analyze_scale_factor = {analyze_scale}"),
            ];
            if snap.server.major() >= 13 {
                options.push(format!("autovacuum_vacuum_insert_scale_factor = {scale}"));
            }
            let new_trigger =
                table_setting(snap, t, "autovacuum_vacuum_threshold", 50.0) + scale * rows;
            let mut draft = Draft::new(
                table_object(snap, t),
                format!(
                    "`{}` (about {:.0} rows) uses the server's autovacuum_vacuum_scale_factor of {global_scale}: autovacuum waits for {:.0} dead rows before vacuuming it",
                    t.name, rows, current
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
                "Give the table its own scale factor so it is vacuumed after about {:.0} dead rows instead of {:.0}",
                new_trigger, current
            ))
            .fix(
                format!("ALTER TABLE {name} SET ({});", options.join(", ")),
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
        let global = snap
            .setting("autovacuum_vacuum_scale_factor")
            .and_then(|s| s.as_f64());
        if global.is_some_and(|g| g > DEFAULT_SCALE_FACTOR)
            && affected.len() as f64 >= server_min_tables
        {
            return Ok(vec![server_level(ctx, &affected)]);
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{assert_fires, assert_quiet};

    const T: Target = Target {
        dead_pct: 1.0,
        max_rows: 500_000.0,
        min_minutes: 60.0,
    };

    #[test]
    fn target_from_size_then_churn() {
        // 20 M rows, default trigger 4 M: 1 % = 200 k.
        assert_eq!(target_rows(20e6, None, 4e6, T), 200_000.0);
        // 200 M rows: capped at 500 k.
        assert_eq!(target_rows(200e6, None, 40e6, T), 500_000.0);
        // 20 M rows updated 10 k/min: at least an hour of churn, 600 k.
        assert_eq!(target_rows(20e6, Some(10_000.0), 4e6, T), 600_000.0);
        // Never above the current trigger.
        assert_eq!(target_rows(20e6, Some(1e6), 4e6, T), 4e6);
    }

    #[test]
    fn scale_factors_are_rounded() {
        assert_eq!(round_scale(0.01), 0.01);
        assert_eq!(round_scale(0.01234), 0.012);
        assert_eq!(round_scale(0.0047), 0.0047);
        assert_eq!(round_scale(0.25), 0.25);
    }

    #[test]
    fn fires_on_a_large_table_on_the_global_scale_factor() {
        let f = assert_fires("VAC005", "public.stock_valuation_layer");
        let sql = &f[0].fix.as_ref().expect("a fix").sql;
        assert!(sql.contains("autovacuum_vacuum_scale_factor = "), "{sql}");
    }

    /// The demo snapshot (captured by `scripts/make-demo-snapshot.sh`) runs with a
    /// server-wide scale factor of 50: one finding on the setting, not one per table.
    #[test]
    fn one_server_finding_when_the_global_value_is_the_cause() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../testdata/snapshots/demo.json"
        );
        let snapshot = Snapshot::load(path).expect("demo snapshot");
        let mut config = crate::RuleConfig::shipped().expect("shipped packs");
        let vac005 = |config: &crate::RuleConfig| -> Vec<crate::Finding> {
            crate::audit(&snapshot, config)
                .findings
                .into_iter()
                .filter(|f| f.rule == "VAC005")
                .collect()
        };
        let grouped = vac005(&config);
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
        let per_table = vac005(&config);
        assert_eq!(per_table.len() as u64, affected);
    }

    #[test]
    fn quiet_on_tuned_and_small_tables() {
        assert_quiet("VAC005");
    }
}
