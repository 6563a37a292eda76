//! When autovacuum vacuums and analyses a table.
//!
//! Autovacuum vacuums a table once its dead rows exceed
//! `autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor × reltuples` (at most
//! `autovacuum_vacuum_max_threshold` on 18+), or (13+) once
//! the rows inserted since its last vacuum exceed
//! `autovacuum_vacuum_insert_threshold + autovacuum_vacuum_insert_scale_factor × reltuples`,
//! and analyses it once the rows modified since its last analyse exceed
//! `autovacuum_analyze_threshold + autovacuum_analyze_scale_factor × reltuples`. Each
//! parameter is the table's storage parameter (`ALTER TABLE … SET (…)`) when set, else the
//! server's setting; `reltuples` of a never-vacuumed, never-analysed table (`-1`, 14+)
//! counts as 0.
//!
//! For large tables the default scale factor lets millions of dead rows pile up before a
//! vacuum; [`table_scale_factors`] computes the per-table settings that bring the trigger
//! down to a [`ScaleFactorTarget`]. Rule VAC005 and `pgsage tune` both use it, with VAC005's
//! parameters, so they recommend the same values for the same table.
//!
//! References: `relation_needs_vacanalyze` in `src/backend/postmaster/autovacuum.c`;
//! <https://www.postgresql.org/docs/current/routine-vacuuming.html#AUTOVACUUM>;
//! <https://www.postgresql.org/docs/current/runtime-config-autovacuum.html>.

use crate::snapshot::{Snapshot, Table};

use super::counters;

/// PostgreSQL's default `autovacuum_vacuum_threshold`.
pub const DEFAULT_VACUUM_THRESHOLD: f64 = 50.0;
/// PostgreSQL's default `autovacuum_vacuum_scale_factor`.
pub const DEFAULT_VACUUM_SCALE_FACTOR: f64 = 0.2;
/// PostgreSQL's default `autovacuum_vacuum_max_threshold` (18+; `-1` disables the cap).
pub const DEFAULT_VACUUM_MAX_THRESHOLD: f64 = 100_000_000.0;
/// PostgreSQL's default `autovacuum_analyze_threshold`.
pub const DEFAULT_ANALYZE_THRESHOLD: f64 = 50.0;
/// PostgreSQL's default `autovacuum_analyze_scale_factor`.
pub const DEFAULT_ANALYZE_SCALE_FACTOR: f64 = 0.1;
/// PostgreSQL's default `autovacuum_vacuum_insert_threshold` (13+; `-1` disables the
/// insert-driven vacuum).
pub const DEFAULT_INSERT_THRESHOLD: f64 = 1000.0;
/// PostgreSQL's default `autovacuum_vacuum_insert_scale_factor` (13+).
pub const DEFAULT_INSERT_SCALE_FACTOR: f64 = 0.2;

/// A numeric autovacuum parameter for `table`: its storage parameter, else the server's
/// setting, else `default` (PostgreSQL's built-in value).
pub fn table_setting(snapshot: &Snapshot, table: &Table, name: &str, default: f64) -> f64 {
    table
        .reloption(name)
        .and_then(|v| v.parse::<f64>().ok())
        .or_else(|| snapshot.setting(name).and_then(|s| s.as_f64()))
        .unwrap_or(default)
}

/// `reltuples` as autovacuum uses it: `-1` (never vacuumed or analysed, 14+) counts as 0.
pub fn reltuples(table: &Table) -> f64 {
    table.reltuples.max(0.0)
}

/// The number of dead rows at which autovacuum vacuums `table`:
/// `autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor × reltuples`, capped at
/// `autovacuum_vacuum_max_threshold` on PostgreSQL 18+ (a server without the setting has
/// no cap; `-1` disables it).
pub fn vacuum_trigger(snapshot: &Snapshot, table: &Table) -> f64 {
    let trigger = table_setting(
        snapshot,
        table,
        "autovacuum_vacuum_threshold",
        DEFAULT_VACUUM_THRESHOLD,
    ) + table_setting(
        snapshot,
        table,
        "autovacuum_vacuum_scale_factor",
        DEFAULT_VACUUM_SCALE_FACTOR,
    ) * reltuples(table);
    match vacuum_max_threshold(snapshot, table) {
        Some(max) => trigger.min(max),
        None => trigger,
    }
}

/// `autovacuum_vacuum_max_threshold` for `table` (18+): `None` when the server predates it
/// or the cap is disabled (`-1`).
pub fn vacuum_max_threshold(snapshot: &Snapshot, table: &Table) -> Option<f64> {
    snapshot.setting("autovacuum_vacuum_max_threshold")?;
    let max = table_setting(
        snapshot,
        table,
        "autovacuum_vacuum_max_threshold",
        DEFAULT_VACUUM_MAX_THRESHOLD,
    );
    (max >= 0.0).then_some(max)
}

/// The number of rows modified since the last analyse at which autovacuum analyses
/// `table`: `autovacuum_analyze_threshold + autovacuum_analyze_scale_factor × reltuples`.
pub fn analyze_trigger(snapshot: &Snapshot, table: &Table) -> f64 {
    table_setting(
        snapshot,
        table,
        "autovacuum_analyze_threshold",
        DEFAULT_ANALYZE_THRESHOLD,
    ) + table_setting(
        snapshot,
        table,
        "autovacuum_analyze_scale_factor",
        DEFAULT_ANALYZE_SCALE_FACTOR,
    ) * reltuples(table)
}

/// The number of rows inserted since the last vacuum at which autovacuum vacuums `table`
/// (13+): `autovacuum_vacuum_insert_threshold + autovacuum_vacuum_insert_scale_factor ×
/// reltuples`; `None` when the insert-driven vacuum is disabled (threshold `-1`).
///
/// PostgreSQL 18 scales `reltuples` here by the share of pages not all-frozen
/// (`1 − relallfrozen / relpages`); the snapshot has no `relallfrozen`, so this is the
/// trigger of an unfrozen table, an upper bound on 18.
pub fn insert_trigger(snapshot: &Snapshot, table: &Table) -> Option<f64> {
    let threshold = table_setting(
        snapshot,
        table,
        "autovacuum_vacuum_insert_threshold",
        DEFAULT_INSERT_THRESHOLD,
    );
    if threshold < 0.0 {
        return None;
    }
    let scale = table_setting(
        snapshot,
        table,
        "autovacuum_vacuum_insert_scale_factor",
        DEFAULT_INSERT_SCALE_FACTOR,
    );
    Some(threshold + scale * reltuples(table))
}

/// A numeric autovacuum parameter as the server sets it, ignoring the table's storage
/// parameter: `setting`, else `default`.
fn server_setting(snapshot: &Snapshot, name: &str, default: f64) -> f64 {
    snapshot
        .setting(name)
        .and_then(|s| s.as_f64())
        .unwrap_or(default)
}

/// The dead-row trigger `table` would have on the server's settings alone (its storage
/// parameters ignored): what [`vacuum_trigger`] gives once they are reset.
pub fn server_vacuum_trigger(snapshot: &Snapshot, table: &Table) -> f64 {
    let trigger = server_setting(
        snapshot,
        "autovacuum_vacuum_threshold",
        DEFAULT_VACUUM_THRESHOLD,
    ) + server_setting(
        snapshot,
        "autovacuum_vacuum_scale_factor",
        DEFAULT_VACUUM_SCALE_FACTOR,
    ) * reltuples(table);
    match snapshot.setting("autovacuum_vacuum_max_threshold") {
        Some(_) => {
            let max = server_setting(
                snapshot,
                "autovacuum_vacuum_max_threshold",
                DEFAULT_VACUUM_MAX_THRESHOLD,
            );
            if max >= 0.0 {
                trigger.min(max)
            } else {
                trigger
            }
        }
        None => trigger,
    }
}

/// The analyse trigger `table` would have on the server's settings alone.
pub fn server_analyze_trigger(snapshot: &Snapshot, table: &Table) -> f64 {
    server_setting(
        snapshot,
        "autovacuum_analyze_threshold",
        DEFAULT_ANALYZE_THRESHOLD,
    ) + server_setting(
        snapshot,
        "autovacuum_analyze_scale_factor",
        DEFAULT_ANALYZE_SCALE_FACTOR,
    ) * reltuples(table)
}

/// The dead-row trigger to judge `table` by: its own ([`vacuum_trigger`]) or the server's
/// ([`server_vacuum_trigger`]), whichever is lower. A storage parameter that makes
/// autovacuum laxer than the server's settings does not make the dead rows it lets pile up
/// healthy: judged against the lax trigger alone, a busy table would look fine while it
/// carries half its size in dead rows.
pub fn judged_vacuum_trigger(snapshot: &Snapshot, table: &Table) -> f64 {
    vacuum_trigger(snapshot, table).min(server_vacuum_trigger(snapshot, table))
}

/// The analyse trigger to judge `table` by: the lower of its own and the server's (see
/// [`judged_vacuum_trigger`]).
pub fn judged_analyze_trigger(snapshot: &Snapshot, table: &Table) -> f64 {
    analyze_trigger(snapshot, table).min(server_analyze_trigger(snapshot, table))
}

/// What autovacuum does for a table: vacuum it, or analyse it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutovacuumTask {
    /// Vacuum (dead rows).
    Vacuum,
    /// Analyse (rows modified since the last analyse).
    Analyze,
}

impl AutovacuumTask {
    /// `vacuum` or `analyse`, for messages.
    pub fn verb(self) -> &'static str {
        match self {
            AutovacuumTask::Vacuum => "vacuum",
            AutovacuumTask::Analyze => "analyse",
        }
    }
}

/// A trigger that `table`'s own storage parameters make laxer than the server's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct LaxTrigger {
    /// Which trigger.
    pub task: AutovacuumTask,
    /// The trigger with the table's storage parameters, in rows.
    pub table_trigger: f64,
    /// The trigger on the server's settings alone, in rows.
    pub server_trigger: f64,
    /// The storage parameters laxer than the server's values, `name=value` as set: what
    /// `ALTER TABLE … RESET (…)` removes. A stricter one set beside them stays.
    pub options: Vec<String>,
}

/// Whether a storage parameter's value is laxer than the server's for the same name: a
/// higher threshold or scale factor, or a cap lifted (`-1`) or raised.
fn laxer(snapshot: &Snapshot, name: &str, value: f64, default: f64) -> bool {
    let server = server_setting(snapshot, name, default);
    if name == "autovacuum_vacuum_max_threshold" {
        let uncapped = |v: f64| if v < 0.0 { f64::INFINITY } else { v };
        return uncapped(value) > uncapped(server);
    }
    value > server
}

/// The triggers of `table` that its storage parameters make laxer than the server's: the
/// table's trigger above the server's, with the parameters that are laxer. `None` entries
/// are left out; `autovacuum_enabled = false` is not a trigger (rule VAC002's).
pub fn lax_triggers(snapshot: &Snapshot, table: &Table) -> Vec<LaxTrigger> {
    let groups: [(AutovacuumTask, &[(&str, f64)]); 2] = [
        (
            AutovacuumTask::Vacuum,
            &[
                ("autovacuum_vacuum_threshold", DEFAULT_VACUUM_THRESHOLD),
                (
                    "autovacuum_vacuum_scale_factor",
                    DEFAULT_VACUUM_SCALE_FACTOR,
                ),
                (
                    "autovacuum_vacuum_max_threshold",
                    DEFAULT_VACUUM_MAX_THRESHOLD,
                ),
            ],
        ),
        (
            AutovacuumTask::Analyze,
            &[
                ("autovacuum_analyze_threshold", DEFAULT_ANALYZE_THRESHOLD),
                (
                    "autovacuum_analyze_scale_factor",
                    DEFAULT_ANALYZE_SCALE_FACTOR,
                ),
            ],
        ),
    ];
    groups
        .into_iter()
        .filter_map(|(task, params)| {
            let (table_trigger, server_trigger) = match task {
                AutovacuumTask::Vacuum => (
                    vacuum_trigger(snapshot, table),
                    server_vacuum_trigger(snapshot, table),
                ),
                AutovacuumTask::Analyze => (
                    analyze_trigger(snapshot, table),
                    server_analyze_trigger(snapshot, table),
                ),
            };
            let options: Vec<String> = params
                .iter()
                .filter_map(|(name, default)| {
                    let value = table.reloption(name)?;
                    let v: f64 = value.parse().ok()?;
                    laxer(snapshot, name, v, *default).then(|| format!("{name}={value}"))
                })
                .collect();
            (table_trigger > server_trigger && !options.is_empty()).then_some(LaxTrigger {
                task,
                table_trigger,
                server_trigger,
                options,
            })
        })
        .collect()
}

/// `ALTER TABLE {table} RESET (…);` for the storage parameters of `lax` (names only), with
/// `table` already quoted (`Table::qualified_name`).
pub fn reset_lax_options(table: &str, lax: &[&LaxTrigger]) -> String {
    let names: Vec<&str> = lax
        .iter()
        .flat_map(|l| l.options.iter())
        .filter_map(|o| o.split_once('=').map(|(name, _)| name))
        .collect();
    format!("ALTER TABLE {table} RESET ({});", names.join(", "))
}

/// Relations autovacuum looks after: ordinary tables and materialized views, permanent or
/// unlogged (temporary tables are only vacuumed by their own session; partitioned tables
/// have no storage). `do_autovacuum` in `autovacuum.c` scans `RELKIND_RELATION` and
/// `RELKIND_MATVIEW`, skipping other sessions' temporary tables.
pub fn maintained(table: &Table) -> bool {
    matches!(table.kind.as_str(), "r" | "m") && table.persistence != "t"
}

/// Whether the table's own storage parameter disables autovacuum
/// (`autovacuum_enabled = false`; anti-wraparound vacuums still run).
pub fn disabled_by_reloption(table: &Table) -> bool {
    table.reloption("autovacuum_enabled").is_some_and(is_false)
}

/// A boolean storage-parameter value that means false (PostgreSQL's `parse_bool`).
pub fn is_false(v: &str) -> bool {
    matches!(
        v.to_ascii_lowercase().as_str(),
        "false" | "off" | "no" | "0" | "f" | "n"
    )
}

/// The dead-row trigger to aim for on a large table: rule VAC005's parameters
/// (`rules/vacuum.toml`), which `pgsage tune` uses too.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaleFactorTarget {
    /// Share of the rows that may be dead before a vacuum, in % (`target_dead_pct`).
    pub dead_pct: f64,
    /// At most this many dead rows before a vacuum (`max_target_rows`).
    pub max_rows: f64,
    /// Do not vacuum more often than every this many minutes at the observed rate of
    /// updates and deletes (`min_minutes_between_vacuums`).
    pub min_minutes: f64,
}

impl Default for ScaleFactorTarget {
    /// The shipped pack's values (a test keeps them equal).
    fn default() -> Self {
        ScaleFactorTarget {
            dead_pct: 1.0,
            max_rows: 500_000.0,
            min_minutes: 60.0,
        }
    }
}

/// The smallest target trigger recommended, in dead rows.
pub const MIN_TARGET_ROWS: f64 = 1000.0;

/// The dead-row trigger to aim for: `dead_pct` % of the rows, at most `max_rows`, but
/// at least what the table's churn produces in `min_minutes` (when known); never above
/// the `current` trigger, never below [`MIN_TARGET_ROWS`].
pub fn target_rows(
    rows: f64,
    churn_per_minute: Option<f64>,
    current: f64,
    target: &ScaleFactorTarget,
) -> f64 {
    let by_size = (rows * target.dead_pct / 100.0).min(target.max_rows);
    let by_churn = churn_per_minute.map_or(0.0, |c| c * target.min_minutes);
    by_size.max(by_churn).min(current).max(MIN_TARGET_ROWS)
}

/// A scale factor rounded to two significant digits (0.0047 → 0.0047, 0.01234 → 0.012).
pub fn round_scale(v: f64) -> f64 {
    if v <= 0.0 {
        return 0.0;
    }
    let digits = (-v.log10().floor()) as i32 + 1;
    let m = 10f64.powi(digits);
    (v * m).round() / m
}

/// Per-table autovacuum settings for a large table (see [`table_scale_factors`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TableScaleFactors {
    /// The dead-row trigger aimed for ([`target_rows`]).
    pub target_rows: f64,
    /// `autovacuum_vacuum_scale_factor`: the target over `reltuples`, two significant digits.
    pub vacuum: f64,
    /// `autovacuum_analyze_scale_factor`: half of it (PostgreSQL's defaults keep the same
    /// ratio, 0.1 to 0.2), so statistics follow the table's changes.
    pub analyze: f64,
    /// `autovacuum_vacuum_insert_scale_factor` (13+): the same as the vacuum scale factor,
    /// so append-heavy tables get their visibility map maintained too.
    pub insert: Option<f64>,
    /// The dead-row trigger with the new scale factor (the table's threshold included).
    pub new_trigger_rows: f64,
}

impl TableScaleFactors {
    /// The storage parameters to set, `(name, value)`, as `ALTER TABLE … SET` takes them.
    pub fn settings(&self) -> Vec<(String, String)> {
        let mut out = vec![
            (
                "autovacuum_vacuum_scale_factor".to_owned(),
                self.vacuum.to_string(),
            ),
            (
                "autovacuum_analyze_scale_factor".to_owned(),
                self.analyze.to_string(),
            ),
        ];
        if let Some(insert) = self.insert {
            out.push((
                "autovacuum_vacuum_insert_scale_factor".to_owned(),
                insert.to_string(),
            ));
        }
        out
    }

    /// `ALTER TABLE {table} SET (…);` for `table`, already quoted (`Table::qualified_name`).
    pub fn alter_table(&self, table: &str) -> String {
        let options: Vec<String> = self
            .settings()
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        format!("ALTER TABLE {table} SET ({});", options.join(", "))
    }
}

/// The per-table settings that make autovacuum vacuum `table` after [`target_rows`] dead
/// rows instead of its current trigger; `None` for a table without rows (`reltuples` ≤ 0).
/// `churn_per_minute` is the table's updates and deletes per minute
/// ([`churn_per_minute`]), when measurable.
pub fn table_scale_factors(
    snapshot: &Snapshot,
    table: &Table,
    churn_per_minute: Option<f64>,
    target: &ScaleFactorTarget,
) -> Option<TableScaleFactors> {
    let rows = reltuples(table);
    if rows <= 0.0 {
        return None;
    }
    let goal = target_rows(
        rows,
        churn_per_minute,
        vacuum_trigger(snapshot, table),
        target,
    );
    let vacuum = round_scale(goal / rows);
    Some(TableScaleFactors {
        target_rows: goal,
        vacuum,
        analyze: round_scale(vacuum / 2.0),
        insert: (snapshot.server.major() >= 13).then_some(vacuum),
        new_trigger_rows: table_setting(
            snapshot,
            table,
            "autovacuum_vacuum_threshold",
            DEFAULT_VACUUM_THRESHOLD,
        ) + vacuum * rows,
    })
}

/// `table`'s updates and deletes per minute (what makes dead rows): see [`rate_per_minute`].
pub fn churn_per_minute(
    snapshot: &Snapshot,
    table: &Table,
    min_stats_age_seconds: f64,
) -> Option<f64> {
    rate_per_minute(snapshot, table, min_stats_age_seconds, |t| {
        t.n_tup_upd + t.n_tup_del
    })
}

/// `table`'s inserts, updates and deletes per minute (what makes statistics stale): see
/// [`rate_per_minute`].
pub fn modifications_per_minute(
    snapshot: &Snapshot,
    table: &Table,
    min_stats_age_seconds: f64,
) -> Option<f64> {
    rate_per_minute(snapshot, table, min_stats_age_seconds, |t| {
        t.n_tup_ins + t.n_tup_upd + t.n_tup_del
    })
}

/// A counter of `table` per minute: over the sampled window when the snapshot has a
/// baseline (the table must be in it), else since the statistics reset
/// ([`counters::since_reset_seconds`]) when those counters are at least
/// `min_stats_age_seconds` old; `None` when not measurable.
fn rate_per_minute(
    snapshot: &Snapshot,
    table: &Table,
    min_stats_age_seconds: f64,
    counter: impl Fn(&Table) -> i64,
) -> Option<f64> {
    let now = counter(table) as f64;
    if let Some(window) = snapshot.window_seconds() {
        let before = snapshot
            .baseline
            .as_ref()?
            .tables
            .iter()
            .find(|b| b.oid == table.oid)?;
        let delta = now - counter(before) as f64;
        return (delta >= 0.0).then(|| delta / (window / 60.0));
    }
    let seconds = counters::since_reset_seconds(snapshot);
    (seconds >= min_stats_age_seconds && seconds > 0.0).then(|| now / (seconds / 60.0))
}

/// Which large tables get their own scale factor, and to what: rule VAC005's parameters
/// (`rules/vacuum.toml`), which `pgsage tune` uses too.
///
/// Why the defaults are what they are:
/// - `min_trigger_rows` = 200,000: the trigger of a table of a million rows on
///   PostgreSQL's default scale factor (0.2). Established guidance treats a dead-row
///   trigger in the hundreds of thousands on a table of a million rows or more as too late:
///   each vacuum then has hundreds of thousands of index entries to remove and the table
///   carries a fifth of its size in dead rows between runs. pganalyze's VACUUM Advisor
///   ("Bloat – Insufficient VACUUM Frequency") recommends per-table
///   `autovacuum_vacuum_scale_factor`/`threshold` when infrequent vacuums let a table grow;
///   the AWS and Crunchy Data autovacuum guides tell DBAs to lower the scale factor of
///   large, write-heavy tables (per table, to about 0.01 in common practice); and
///   PostgreSQL 18 caps the trigger
///   (`autovacuum_vacuum_max_threshold`) because "very large tables incurring a huge amount
///   of bloat between vacuums" is what the scale factor alone gives. The previous default,
///   1,000,000, only reached tables of 5 million rows and more.
/// - the target, 1 % of the rows and at most 500,000 dead rows ([`ScaleFactorTarget`]):
///   the common 0.01, capped so the largest tables do not wait for millions;
///   never more often than every 60 minutes of the observed churn, because every vacuum
///   that removes dead rows scans each index of the table in full.
///
/// References:
/// - <https://pganalyze.com/docs/vacuum-advisor>
/// - <https://pganalyze.com/docs/checks/vacuum/insufficient_vacuum_frequency>
/// - <https://docs.aws.amazon.com/prescriptive-guidance/latest/tuning-postgresql-parameters/autovacuum-vacuum-scale-factor.html>
/// - <https://docs.crunchybridge.com/guides/vacuum-and-autovacuum>
/// - <https://www.postgresql.org/message-id/E1tfnHP-005ZJr-RO%40gemulon.postgresql.org>
///   (`autovacuum_vacuum_max_threshold`, PostgreSQL 18)
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LargeTablePolicy {
    /// Tables on the server-wide scale factor whose dead-row trigger is at least this
    /// (`min_trigger_rows`).
    pub min_trigger_rows: f64,
    /// The trigger to aim for.
    pub target: ScaleFactorTarget,
    /// With a server-wide scale factor above PostgreSQL's default, this many affected
    /// tables make the server-wide value the cause (`server_finding_min_tables`).
    pub server_finding_min_tables: f64,
}

impl Default for LargeTablePolicy {
    /// The shipped pack's values (a test keeps them equal).
    fn default() -> Self {
        LargeTablePolicy {
            min_trigger_rows: 200_000.0,
            target: ScaleFactorTarget::default(),
            server_finding_min_tables: 3.0,
        }
    }
}

/// Whether `table` is left on the server-wide `autovacuum_vacuum_scale_factor` (no storage
/// parameter, autovacuum not disabled for it) with a dead-row trigger of at least
/// `min_trigger_rows`.
pub fn on_server_scale_factor(snapshot: &Snapshot, table: &Table, min_trigger_rows: f64) -> bool {
    maintained(table)
        && !disabled_by_reloption(table)
        && table.reloption("autovacuum_vacuum_scale_factor").is_none()
        && vacuum_trigger(snapshot, table) >= min_trigger_rows
}

/// A large table on the server-wide scale factor, with the settings that fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct LargeTable<'a> {
    /// The table.
    pub table: &'a Table,
    /// Its dead-row trigger now.
    pub trigger_rows: f64,
    /// Its updates and deletes per minute ([`churn_per_minute`]), when measurable.
    pub churn_per_minute: Option<f64>,
    /// Its own settings.
    pub factors: TableScaleFactors,
}

/// What to do about the large tables on the server-wide scale factor.
#[derive(Debug, Clone, PartialEq)]
pub struct LargeTables<'a> {
    /// The tables, in the snapshot's order.
    pub tables: Vec<LargeTable<'a>>,
    /// The server-wide scale factor when it is above PostgreSQL's default and affects at
    /// least `server_finding_min_tables` tables: the setting is the cause, and bringing it
    /// back the fix, rather than one storage parameter per table.
    pub raised_server_scale_factor: Option<f64>,
}

/// The large tables on the server-wide scale factor ([`on_server_scale_factor`]) and their
/// own settings ([`table_scale_factors`]) under `policy`; `min_stats_age_seconds` as for
/// [`churn_per_minute`].
pub fn large_tables<'a>(
    snapshot: &'a Snapshot,
    policy: &LargeTablePolicy,
    min_stats_age_seconds: f64,
) -> LargeTables<'a> {
    let tables: Vec<LargeTable<'a>> = snapshot
        .tables
        .iter()
        .filter(|t| on_server_scale_factor(snapshot, t, policy.min_trigger_rows))
        .filter_map(|t| {
            let churn = churn_per_minute(snapshot, t, min_stats_age_seconds);
            Some(LargeTable {
                table: t,
                trigger_rows: vacuum_trigger(snapshot, t),
                churn_per_minute: churn,
                factors: table_scale_factors(snapshot, t, churn, &policy.target)?,
            })
        })
        .collect();
    let raised_server_scale_factor = snapshot
        .setting("autovacuum_vacuum_scale_factor")
        .and_then(|s| s.as_f64())
        .filter(|g| {
            *g > DEFAULT_VACUUM_SCALE_FACTOR
                && tables.len() as f64 >= policy.server_finding_min_tables
        });
    LargeTables {
        tables,
        raised_server_scale_factor,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::testing::{demo, set, unset};

    fn table(s: &mut Snapshot, reltuples: f64, reloptions: &[&str]) -> Table {
        let t = &mut s.tables[0];
        t.reltuples = reltuples;
        t.reloptions = reloptions.iter().map(|o| (*o).to_owned()).collect();
        t.clone()
    }

    #[test]
    fn triggers_use_the_server_settings_then_postgresqls_defaults() {
        let mut s = demo();
        set(&mut s, "autovacuum_vacuum_threshold", "50");
        set(&mut s, "autovacuum_vacuum_scale_factor", "0.1");
        let t = table(&mut s, 1_000_000.0, &[]);
        assert_eq!(vacuum_trigger(&s, &t), 100_050.0);
        for name in [
            "autovacuum_vacuum_threshold",
            "autovacuum_vacuum_scale_factor",
            "autovacuum_analyze_threshold",
            "autovacuum_analyze_scale_factor",
            "autovacuum_vacuum_insert_threshold",
            "autovacuum_vacuum_insert_scale_factor",
        ] {
            unset(&mut s, name);
        }
        assert_eq!(vacuum_trigger(&s, &t), 200_050.0);
        assert_eq!(analyze_trigger(&s, &t), 100_050.0);
        assert_eq!(insert_trigger(&s, &t), Some(201_000.0));
    }

    #[test]
    fn storage_parameters_win_and_minus_one_disables_inserts() {
        let mut s = demo();
        set(&mut s, "autovacuum_vacuum_scale_factor", "0.2");
        set(&mut s, "autovacuum_vacuum_insert_threshold", "1000");
        let t = table(
            &mut s,
            10_000_000.0,
            &[
                "autovacuum_vacuum_scale_factor=0.01",
                "autovacuum_vacuum_threshold=1000",
                "autovacuum_vacuum_insert_threshold=-1",
            ],
        );
        assert_eq!(vacuum_trigger(&s, &t), 101_000.0);
        assert_eq!(insert_trigger(&s, &t), None);
    }

    #[test]
    fn postgresql_18_caps_the_vacuum_trigger() {
        let mut s = demo();
        set(&mut s, "autovacuum_vacuum_threshold", "50");
        set(&mut s, "autovacuum_vacuum_scale_factor", "0.2");
        unset(&mut s, "autovacuum_vacuum_max_threshold");
        let t = table(&mut s, 1e9, &[]);
        assert_eq!(vacuum_trigger(&s, &t), 200_000_050.0);
        set(&mut s, "autovacuum_vacuum_max_threshold", "100000000");
        assert_eq!(vacuum_trigger(&s, &t), 1e8);
        let t = table(&mut s, 1e9, &["autovacuum_vacuum_max_threshold=-1"]);
        assert_eq!(vacuum_trigger(&s, &t), 200_000_050.0);
    }

    const T: ScaleFactorTarget = ScaleFactorTarget {
        dead_pct: 1.0,
        max_rows: 500_000.0,
        min_minutes: 60.0,
    };

    #[test]
    fn false_values() {
        for v in ["false", "off", "FALSE", "0", "no"] {
            assert!(is_false(v), "{v}");
        }
        for v in ["true", "on", "1"] {
            assert!(!is_false(v), "{v}");
        }
    }

    #[test]
    fn the_default_target_is_the_shipped_packs() {
        assert_eq!(ScaleFactorTarget::default(), T);
        let config = crate::RuleConfig::shipped().expect("shipped packs");
        let p = &config.rules["VAC005"].params;
        let number = |name: &str| match p.get(name) {
            Some(crate::rules::ParamValue::Number(n)) => *n,
            other => panic!("{name}: {other:?}"),
        };
        let d = LargeTablePolicy::default();
        assert_eq!(d.min_trigger_rows, number("min_trigger_rows"));
        assert_eq!(d.target.dead_pct, number("target_dead_pct"));
        assert_eq!(d.target.max_rows, number("max_target_rows"));
        assert_eq!(d.target.min_minutes, number("min_minutes_between_vacuums"));
        assert_eq!(
            d.server_finding_min_tables,
            number("server_finding_min_tables")
        );
    }

    #[test]
    fn large_tables_on_the_server_scale_factor() {
        let mut s = demo();
        set(&mut s, "autovacuum_vacuum_scale_factor", "0.2");
        set(&mut s, "autovacuum_vacuum_threshold", "50");
        for t in &mut s.tables {
            t.reltuples = 1000.0;
            t.reloptions.clear();
        }
        s.tables[0].reltuples = 20e6;
        s.tables[1].reltuples = 20e6;
        for t in &mut s.tables[2..5] {
            t.reltuples = 100_000.0;
        }
        s.tables[1].reloptions = vec!["autovacuum_vacuum_scale_factor=0.01".into()];
        let policy = LargeTablePolicy::default();
        let large = large_tables(&s, &policy, 86_400.0);
        assert_eq!(large.tables.len(), 1, "{large:#?}");
        assert_eq!(large.tables[0].table.oid, s.tables[0].oid);
        assert_eq!(large.tables[0].trigger_rows, 4_000_050.0);
        assert_eq!(large.raised_server_scale_factor, None);
        // A raised server-wide value affecting enough tables is the cause.
        set(&mut s, "autovacuum_vacuum_scale_factor", "50");
        let large = large_tables(&s, &policy, 86_400.0);
        assert!(large.tables.len() >= 3, "{}", large.tables.len());
        assert_eq!(large.raised_server_scale_factor, Some(50.0));
    }

    /// A table of a million rows on PostgreSQL's defaults waits for 200,050 dead rows:
    /// the trigger established guidance (pganalyze's VACUUM Advisor, the vacuum tuning
    /// guides cited on `LargeTablePolicy`) tells a DBA to lower. The shipped policy reports
    /// it; a table of half a million rows (100,050) is left alone.
    #[test]
    fn a_million_row_table_on_the_default_scale_factor_is_large() {
        let mut s = demo();
        set(&mut s, "autovacuum_vacuum_scale_factor", "0.2");
        set(&mut s, "autovacuum_vacuum_threshold", "50");
        for t in &mut s.tables {
            t.reltuples = 1000.0;
            t.reloptions.clear();
        }
        s.tables[0].reltuples = 1e6;
        s.tables[1].reltuples = 5e5;
        let large = large_tables(&s, &LargeTablePolicy::default(), 86_400.0);
        let oids: Vec<u32> = large.tables.iter().map(|l| l.table.oid).collect();
        assert_eq!(oids, [s.tables[0].oid], "{large:#?}");
        let f = &large.tables[0].factors;
        assert_eq!((f.target_rows, f.vacuum), (10_000.0, 0.01));
    }

    #[test]
    fn target_from_size_then_churn() {
        // 20 M rows, default trigger 4 M: 1 % = 200 k.
        assert_eq!(target_rows(20e6, None, 4e6, &T), 200_000.0);
        // 200 M rows: capped at 500 k.
        assert_eq!(target_rows(200e6, None, 40e6, &T), 500_000.0);
        // 20 M rows updated 10 k/min: at least an hour of churn, 600 k.
        assert_eq!(target_rows(20e6, Some(10_000.0), 4e6, &T), 600_000.0);
        // Never above the current trigger.
        assert_eq!(target_rows(20e6, Some(1e6), 4e6, &T), 4e6);
    }

    #[test]
    fn scale_factors_are_rounded() {
        assert_eq!(round_scale(0.01), 0.01);
        assert_eq!(round_scale(0.01234), 0.012);
        assert_eq!(round_scale(0.0047), 0.0047);
        assert_eq!(round_scale(0.25), 0.25);
    }

    #[test]
    fn per_table_settings_and_their_sql() {
        let mut s = demo();
        set(&mut s, "autovacuum_vacuum_threshold", "50");
        set(&mut s, "autovacuum_vacuum_scale_factor", "0.2");
        unset(&mut s, "autovacuum_vacuum_max_threshold");
        let t = table(&mut s, 20e6, &[]);
        let f = table_scale_factors(&s, &t, None, &T).expect("rows");
        assert_eq!(
            (f.target_rows, f.vacuum, f.analyze),
            (200_000.0, 0.01, 0.005)
        );
        assert_eq!(f.new_trigger_rows, 200_050.0);
        assert_eq!(f.insert, Some(0.01), "the demo server is 17");
        assert_eq!(
            f.alter_table("public.t"),
            "ALTER TABLE public.t SET (autovacuum_vacuum_scale_factor = 0.01, \
             autovacuum_analyze_scale_factor = 0.005, autovacuum_vacuum_insert_scale_factor = 0.01);"
        );
        let t = table(&mut s, 0.0, &[]);
        assert_eq!(table_scale_factors(&s, &t, None, &T), None);
    }

    #[test]
    fn churn_over_the_window_or_since_a_reset_old_enough() {
        let mut s = demo();
        s.baseline = None;
        let mut t = s.tables[0].clone();
        t.n_tup_upd = 1_000_000;
        t.n_tup_del = 0;
        let age = crate::knowledge::counters::since_reset_seconds(&s);
        let per_minute = churn_per_minute(&s, &t, 0.0).expect("measurable");
        assert!((per_minute - 1e6 / (age / 60.0)).abs() < 1e-6);
        assert_eq!(churn_per_minute(&s, &t, age + 1.0), None);
    }

    #[test]
    fn never_analysed_tables_count_as_empty() {
        let mut s = demo();
        set(&mut s, "autovacuum_vacuum_threshold", "50");
        let t = table(&mut s, -1.0, &[]);
        assert_eq!(reltuples(&t), 0.0);
        assert_eq!(vacuum_trigger(&s, &t), 50.0);
    }
}
