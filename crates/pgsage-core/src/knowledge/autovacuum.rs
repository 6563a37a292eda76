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
//! References: `relation_needs_vacanalyze` in `src/backend/postmaster/autovacuum.c`;
//! <https://www.postgresql.org/docs/current/routine-vacuuming.html#AUTOVACUUM>;
//! <https://www.postgresql.org/docs/current/runtime-config-autovacuum.html>.

use crate::snapshot::{Snapshot, Table};

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

    #[test]
    fn never_analysed_tables_count_as_empty() {
        let mut s = demo();
        set(&mut s, "autovacuum_vacuum_threshold", "50");
        let t = table(&mut s, -1.0, &[]);
        assert_eq!(reltuples(&t), 0.0);
        assert_eq!(vacuum_trigger(&s, &t), 50.0);
    }
}
