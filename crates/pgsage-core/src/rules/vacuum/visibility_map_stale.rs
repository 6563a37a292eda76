use crate::knowledge::autovacuum::{insert_trigger, reltuples, table_setting, vacuum_trigger};
use crate::rules::macros::declare_rule;
use crate::rules::vacuum::common::{
    disabled_by_reloption, disabled_globally, last_vacuum, maintained, round1, table_object, when,
};
use crate::rules::{Basis, Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::Table;
use crate::units;

declare_rule! {
    /// ## What it detects
    /// Large tables that are insert-only or mostly static but whose visibility map is
    /// mostly unset (`relallvisible` below `max_all_visible_pct` % of the table's pages),
    /// while nothing will make autovacuum set it:
    /// - the insert-driven vacuum (PostgreSQL 13+) is disabled for the table
    ///   (`autovacuum_vacuum_insert_threshold = -1`, as a storage parameter or server-wide);
    /// - or it is so lax (`autovacuum_vacuum_insert_threshold +
    ///   autovacuum_vacuum_insert_scale_factor × reltuples` inserted rows) that the table may
    ///   grow past half unvacuumed before the next run;
    /// - or no trigger is pending at all (few dead rows, few rows inserted since the last
    ///   vacuum): typically a static table whose last vacuum ran while an old transaction
    ///   held the xmin horizon back, or whose counters were lost in a statistics reset or a
    ///   crash. Autovacuum will not visit it again before an anti-wraparound vacuum.
    ///
    /// Not reported: small tables, tables never vacuumed nor analysed (`relpages = 0`),
    /// tables where updates and deletes are more than `max_update_pct` % of the writes
    /// (their visibility map cannot stay set: a different problem, see VAC001/VAC005/VAC008),
    /// tables autovacuum is due to vacuum already (past their dead-row or insert trigger:
    /// e.g. a table being bulk-loaded right now), and tables with autovacuum disabled
    /// (VAC002).
    ///
    /// ## Why it matters
    /// Index-only scans read the heap for every row on a page not marked all-visible
    /// (`Heap Fetches` in `EXPLAIN ANALYZE`, `idx_tup_fetch` growing on indexes used by
    /// index-only scans), so the covering indexes an ERP relies on for reports do not help.
    /// Vacuum skips all-visible pages, and all-frozen ones during freezing: a table whose map
    /// was never set is read and written in full by its first anti-wraparound vacuum —
    /// hours of I/O and WAL on a large history table, at a moment autovacuum chooses.
    ///
    /// ## How to fix
    /// `VACUUM (ANALYZE) schema.table;` now (it does not block reads or writes), then make
    /// autovacuum keep the map set: on 13+ re-enable or tighten the insert trigger for the
    /// table, e.g. `ALTER TABLE … SET (autovacuum_vacuum_insert_threshold = 1000,
    /// autovacuum_vacuum_insert_scale_factor = 0.05);`. Watch `relallvisible` against
    /// `relpages` in `pg_class`, `n_ins_since_vacuum` and `last_autovacuum` in
    /// `pg_stat_user_tables`, and `Heap Fetches` of index-only scans.
    ///
    /// ## Thresholds
    /// - `min_table_mb` (default 100): only tables at least this large (current size).
    /// - `max_all_visible_pct` (default 50): report when fewer pages than this are
    ///   all-visible, in %; an insert trigger is "too lax" when it lets the unvacuumed part
    ///   grow past `100 - max_all_visible_pct` % of the table.
    /// - `max_update_pct` (default 10): only tables whose updates and deletes are at most
    ///   this share of their writes (and of their rows), in %, over the sampled interval or
    ///   since the statistics reset.
    /// - `recommended_insert_scale_factor` (default 0.05): the insert scale factor the fix
    ///   sets.
    ///
    /// The page share is computed against the table's current size, since `relallvisible`
    /// and `relpages` date from the last VACUUM/ANALYZE. Confidence is low when the
    /// counters that show the table is insert-only are younger than the configured minimum.
    /// PostgreSQL 12 and older (no insert-driven vacuum) are not supported.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/routine-vacuuming.html#VACUUM-FOR-VISIBILITY-MAP>
    /// - <https://www.postgresql.org/docs/current/indexes-index-only-scans.html>
    /// - <https://www.postgresql.org/docs/current/runtime-config-autovacuum.html#GUC-AUTOVACUUM-VACUUM-INSERT-THRESHOLD>
    /// - <https://www.postgresql.org/docs/current/storage-vm.html>
    pub struct VisibilityMapStale {
        id: "VAC010",
        name: "visibility-map-stale",
        pack: "vacuum",
        title: "Visibility map mostly unset on an insert-only or static table",
        params: {
            min_table_mb: f64 = ("MB", "Only tables at least this large"),
            max_all_visible_pct: f64 = ("%", "Report when fewer pages than this are all-visible"),
            max_update_pct: f64 = ("%", "Only tables whose updates and deletes are at most this share of writes and rows"),
            recommended_insert_scale_factor: f64 = ("fraction of rows", "Insert scale factor the fix sets"),
        },
    }
}

/// Why autovacuum will not set the map.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cause {
    /// `autovacuum_vacuum_insert_threshold = -1`, for the table (`by_table`) or the server.
    InsertVacuumDisabled { by_table: bool },
    /// The insert trigger lets the table grow too far between vacuums.
    InsertTriggerLax,
    /// No trigger pending: nothing will vacuum the table before anti-wraparound.
    NothingPending,
}

/// Whether an insert trigger lets more than `max_unvacuumed_pct` % of the table be
/// unvacuumed inserts before autovacuum runs.
pub(crate) fn trigger_too_lax(trigger: f64, rows: f64, max_unvacuumed_pct: f64) -> bool {
    rows > 0.0 && 100.0 * trigger / (rows + trigger) > max_unvacuumed_pct
}

/// All-visible pages as a share of the table's pages, in %: against the larger of
/// `relpages` and the current size, since pages added since the last VACUUM/ANALYZE are
/// not all-visible.
pub(crate) fn all_visible_pct(relallvisible: i64, relpages: i64, current_pages: f64) -> f64 {
    let pages = (relpages as f64).max(current_pages);
    if pages <= 0.0 {
        return 100.0;
    }
    100.0 * (relallvisible.max(0) as f64).min(pages) / pages
}

/// Updates + deletes as a share of all writes, in % (0 when nothing was written).
pub(crate) fn update_share_pct(inserts: f64, updates_deletes: f64) -> f64 {
    let writes = inserts + updates_deletes;
    if writes <= 0.0 {
        0.0
    } else {
        100.0 * updates_deletes / writes
    }
}

/// The table's inserts and updates + deletes over the basis: deltas against the baseline
/// when sampled with an interval (none when the table is not in the baseline), else
/// totals since the reset.
fn writes(ctx: &RuleContext<'_>, table: &Table) -> Option<(f64, f64)> {
    let now = (
        table.n_tup_ins as f64,
        (table.n_tup_upd + table.n_tup_del) as f64,
    );
    match ctx.basis() {
        Basis::Interval { .. } => {
            let before = ctx
                .snapshot
                .baseline
                .as_ref()?
                .tables
                .iter()
                .find(|b| b.oid == table.oid)?;
            let ins = now.0 - before.n_tup_ins as f64;
            let upd = now.1 - (before.n_tup_upd + before.n_tup_del) as f64;
            (ins >= 0.0 && upd >= 0.0).then_some((ins, upd))
        }
        Basis::SinceReset { .. } => Some(now),
    }
}

/// The predicate, on facts already read from the snapshot: why autovacuum will not set
/// the map of a table whose map is mostly unset, or `None` when it is healthy, small,
/// updated, or due to be vacuumed anyway.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Facts {
    pub table_bytes: f64,
    pub visible_pct: f64,
    pub update_pct: f64,
    pub updates_per_row_pct: f64,
    pub dead_past_trigger: bool,
    /// The insert trigger (`None`: disabled) and rows inserted since the last vacuum.
    pub insert: Option<(f64, f64)>,
    pub rows: f64,
}

/// Thresholds of [`assess`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub min_table_bytes: f64,
    pub max_visible_pct: f64,
    pub max_update_pct: f64,
}

/// See [`Facts`].
pub(crate) fn assess(f: Facts, l: Limits) -> Option<Cause> {
    if f.table_bytes < l.min_table_bytes
        || f.visible_pct >= l.max_visible_pct
        || f.update_pct > l.max_update_pct
        || f.updates_per_row_pct > l.max_update_pct
        || f.dead_past_trigger
    {
        return None;
    }
    match f.insert {
        None => Some(Cause::InsertVacuumDisabled { by_table: false }),
        Some((trigger, since)) if since > trigger => None,
        Some((trigger, _)) if trigger_too_lax(trigger, f.rows, 100.0 - l.max_visible_pct) => {
            Some(Cause::InsertTriggerLax)
        }
        Some(_) => Some(Cause::NothingPending),
    }
}

impl SnapshotRule for VisibilityMapStale {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let limits = Limits {
            min_table_bytes: p.min_table_mb * 1024.0 * 1024.0,
            max_visible_pct: p.max_all_visible_pct,
            max_update_pct: p.max_update_pct,
        };
        let rec_scale = p.recommended_insert_scale_factor;
        let snap = ctx.snapshot;
        if snap.server.major() < 13 {
            return Err(Skip::because(
                "PostgreSQL 12 and older have no insert-driven autovacuum (and are not supported)",
            ));
        }
        if disabled_globally(snap) {
            return Err(Skip::because(
                "autovacuum is off for the whole server (reported by VAC002)",
            ));
        }
        let block_size = snap
            .setting("block_size")
            .and_then(|s| s.as_f64())
            .unwrap_or(8192.0);
        let global_insert_disabled = snap
            .setting("autovacuum_vacuum_insert_threshold")
            .and_then(|s| s.as_f64())
            .is_some_and(|v| v < 0.0);
        let young = ctx.stats_too_young();
        let basis = ctx.basis();
        let mut drafts = Vec::new();
        for t in snap.tables.iter().filter(|t| maintained(t)) {
            // Never vacuumed nor analysed: the map's state is unknown (VAC004 reports it).
            if t.relpages <= 0 || t.reltuples <= 0.0 || disabled_by_reloption(t) {
                continue;
            }
            let Some((inserts, updates)) = writes(ctx, t) else {
                continue;
            };
            let rows = reltuples(t);
            let current_pages = t.heap_bytes as f64 / block_size;
            let visible = all_visible_pct(t.relallvisible, t.relpages, current_pages);
            let dead_trigger = vacuum_trigger(snap, t);
            let ins_trigger = insert_trigger(snap, t);
            let ins_since = t.n_ins_since_vacuum.unwrap_or(0) as f64;
            let facts = Facts {
                table_bytes: t.heap_bytes as f64,
                visible_pct: visible,
                update_pct: update_share_pct(inserts, updates),
                updates_per_row_pct: 100.0 * updates / rows,
                dead_past_trigger: t.n_dead_tup as f64 > dead_trigger,
                insert: ins_trigger.map(|tr| (tr, ins_since)),
                rows,
            };
            let Some(mut cause) = assess(facts, limits) else {
                continue;
            };
            if let Cause::InsertVacuumDisabled { by_table } = &mut cause {
                *by_table = t
                    .reloption("autovacuum_vacuum_insert_threshold")
                    .and_then(|v| v.parse::<f64>().ok())
                    .is_some_and(|v| v < 0.0);
            }
            drafts.push(finding(
                ctx,
                t,
                cause,
                &facts,
                Extra {
                    current_pages,
                    dead_trigger,
                    ins_since,
                    inserts,
                    updates,
                    rec_scale,
                    global_insert_disabled,
                    basis,
                    young: young.clone(),
                },
            ));
        }
        Ok(drafts)
    }
}

/// Numbers for the finding beyond the predicate's.
struct Extra {
    current_pages: f64,
    dead_trigger: f64,
    ins_since: f64,
    inserts: f64,
    updates: f64,
    rec_scale: f64,
    global_insert_disabled: bool,
    basis: Basis,
    young: Option<String>,
}

fn finding(ctx: &RuleContext<'_>, t: &Table, cause: Cause, f: &Facts, x: Extra) -> Draft {
    let snap = ctx.snapshot;
    let name = t.qualified_name();
    let visible = f.visible_pct;
    let cur_scale = table_setting(snap, t, "autovacuum_vacuum_insert_scale_factor", 0.2);
    let scale = if cur_scale >= 0.0 {
        cur_scale.min(x.rec_scale)
    } else {
        x.rec_scale
    };
    let tighten = format!(
        "ALTER TABLE {name} SET (autovacuum_vacuum_insert_threshold = 1000, autovacuum_vacuum_insert_scale_factor = {scale});"
    );
    let (why, recommendation, sql) = match cause {
        Cause::InsertVacuumDisabled { by_table } => {
            let mut sql = format!("VACUUM (ANALYZE) {name};\n{tighten}");
            let scope = if by_table {
                "for the table (`autovacuum_vacuum_insert_threshold = -1`)"
            } else {
                "server-wide (`autovacuum_vacuum_insert_threshold = -1`)"
            };
            if !by_table && x.global_insert_disabled {
                sql.push_str(
                    "\n-- or for every table (managed services: the parameter group):\n-- ALTER SYSTEM SET autovacuum_vacuum_insert_threshold = 1000;\n-- SELECT pg_reload_conf();",
                );
            }
            (
                format!("the insert-driven autovacuum is disabled {scope}, so only dead rows or an anti-wraparound vacuum will ever vacuum it"),
                "Vacuum the table now and re-enable the insert-driven autovacuum for it, so new pages are marked all-visible (and frozen) in small runs".to_owned(),
                sql,
            )
        }
        Cause::InsertTriggerLax => {
            let (trigger, _) = f.insert.unwrap_or_default();
            (
                format!(
                    "its insert trigger is {} inserted rows (autovacuum_vacuum_insert_scale_factor {cur_scale}), so most of the table may be unvacuumed inserts",
                    units::count(trigger)
                ),
                format!(
                    "Vacuum the table now and tighten its insert trigger to a scale factor of {scale}, so autovacuum marks new pages all-visible after about {} inserted rows",
                    units::count(1000.0 + scale * f.rows)
                ),
                format!("VACUUM (ANALYZE) {name};\n{tighten}"),
            )
        }
        Cause::NothingPending => (
            format!(
                "no autovacuum trigger is pending ({} rows inserted since the last vacuum, {} dead rows): autovacuum will not visit it again before an anti-wraparound vacuum",
                units::count(x.ins_since),
                units::count(t.n_dead_tup)
            ),
            "Vacuum the table now (for a table that no longer changes, VACUUM (FREEZE, ANALYZE) also spares the later anti-wraparound vacuum); if its last vacuum ran while a long transaction was open, look for what holds the xmin horizon back (VAC007)".to_owned(),
            format!("VACUUM (ANALYZE) {name};"),
        ),
    };
    let kind = if x.inserts <= 0.0 && x.updates <= 0.0 {
        "static"
    } else if x.updates <= 0.0 {
        "insert-only"
    } else {
        "mostly insert-only"
    };
    let message = format!(
        "`{}` ({}, {kind}) has only {} of its pages marked all-visible: index-only scans read the heap and its first anti-wraparound vacuum will read and write it in full; {why}",
        t.name,
        units::bytes(t.heap_bytes),
        units::percent(visible)
    );
    let ins_trigger_json = match f.insert {
        Some((tr, _)) => serde_json::Value::from(tr.round()),
        None => serde_json::Value::from("disabled"),
    };
    let mut d = Draft::new(table_object(snap, t), message)
        .evidence("relpages", t.relpages)
        .evidence("relallvisible", t.relallvisible)
        .evidence("current_pages", x.current_pages.round())
        .evidence("all_visible_pct", round1(visible))
        .evidence("table_bytes", t.heap_bytes)
        .evidence("reltuples", f.rows)
        .evidence("n_ins_since_vacuum", x.ins_since)
        .evidence("insert_trigger_rows", ins_trigger_json)
        .evidence("n_dead_tup", t.n_dead_tup)
        .evidence("autovacuum_trigger_rows", x.dead_trigger.round())
        .evidence("inserts", x.inserts)
        .evidence("updates_deletes", x.updates)
        .evidence("update_pct", round1(f.update_pct))
        .evidence("basis", x.basis.label())
        .evidence("idx_scan", t.idx_scan.unwrap_or(0))
        .evidence("idx_tup_fetch", t.idx_tup_fetch.unwrap_or(0))
        .evidence("frozenxid_age_xacts", t.frozenxid_age)
        .evidence("last_vacuum", when(last_vacuum(t)))
        .recommend(recommendation)
        .fix(
            sql,
            "none",
            "relallvisible vs relpages in pg_class; n_ins_since_vacuum and last_autovacuum in pg_stat_user_tables; Heap Fetches of index-only scans in EXPLAIN (ANALYZE)",
        );
    if !t.reloptions.is_empty() {
        d = d.evidence("reloptions", t.reloptions.join(","));
    }
    if let Some(reason) = x.young {
        d = d.low_confidence(format!(
            "{reason}: the table may be updated more than these counters show"
        ));
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{assert_fires, assert_quiet};

    const L: Limits = Limits {
        min_table_bytes: 100.0 * 1_048_576.0,
        max_visible_pct: 50.0,
        max_update_pct: 10.0,
    };

    fn facts() -> Facts {
        Facts {
            table_bytes: 500.0 * 1_048_576.0,
            visible_pct: 5.0,
            update_pct: 0.0,
            updates_per_row_pct: 0.0,
            dead_past_trigger: false,
            insert: Some((201_000.0, 0.0)),
            rows: 1_000_000.0,
        }
    }

    #[test]
    fn causes() {
        assert_eq!(assess(facts(), L), Some(Cause::NothingPending));
        let disabled = Facts {
            insert: None,
            ..facts()
        };
        assert_eq!(
            assess(disabled, L),
            Some(Cause::InsertVacuumDisabled { by_table: false })
        );
        let lax = Facts {
            insert: Some((5_001_000.0, 100_000.0)),
            ..facts()
        };
        assert_eq!(assess(lax, L), Some(Cause::InsertTriggerLax));
    }

    #[test]
    fn quiet_cases() {
        // Autovacuum is due (being loaded right now).
        let due = Facts {
            insert: Some((201_000.0, 300_000.0)),
            ..facts()
        };
        assert_eq!(assess(due, L), None);
        assert_eq!(
            assess(
                Facts {
                    dead_past_trigger: true,
                    ..facts()
                },
                L
            ),
            None
        );
        // Small, mostly visible, updated.
        assert_eq!(
            assess(
                Facts {
                    table_bytes: 1e6,
                    ..facts()
                },
                L
            ),
            None
        );
        assert_eq!(
            assess(
                Facts {
                    visible_pct: 80.0,
                    ..facts()
                },
                L
            ),
            None
        );
        assert_eq!(
            assess(
                Facts {
                    update_pct: 40.0,
                    ..facts()
                },
                L
            ),
            None
        );
        assert_eq!(
            assess(
                Facts {
                    updates_per_row_pct: 30.0,
                    ..facts()
                },
                L
            ),
            None
        );
    }

    #[test]
    fn helpers() {
        assert!(trigger_too_lax(2e6, 1e6, 50.0));
        assert!(!trigger_too_lax(201_000.0, 1e6, 50.0));
        assert_eq!(all_visible_pct(50, 100, 200.0), 25.0);
        assert_eq!(all_visible_pct(500, 100, 50.0), 100.0);
        assert_eq!(all_visible_pct(0, 0, 0.0), 100.0);
        assert_eq!(update_share_pct(0.0, 0.0), 0.0);
        assert_eq!(update_share_pct(90.0, 10.0), 10.0);
    }

    #[test]
    fn fires_on_insert_only_tables_autovacuum_leaves_alone() {
        assert_fires("VAC010", "public.stock_move_history");
        assert_fires("VAC010", "public.mail_message_archive");
        assert_fires("VAC010", "public.account_move_archive");
    }

    #[test]
    fn quiet_on_vacuumed_small_updated_and_loading_tables() {
        assert_quiet("VAC010");
    }
}
