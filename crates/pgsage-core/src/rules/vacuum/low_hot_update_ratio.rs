use crate::rules::macros::declare_rule;
use crate::rules::vacuum::common::{maintained, round1, table_object};
use crate::rules::{Basis, Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::Table;
use crate::units;

declare_rule! {
    /// ## What it detects
    /// Update-heavy tables (at least `min_updates` updates over the sampled interval, or
    /// since the statistics reset, and at least `min_updates_per_row` updates per live row)
    /// where less than `max_hot_pct` % of updates are HOT (heap-only tuple: the new row
    /// version stays on the same page and no index entry is written), whose
    /// `fillfactor` is still above `recommended_fillfactor`, and that have at least one
    /// index.
    ///
    /// A table without an index is left out: what HOT saves is index maintenance, and
    /// without an index a non-HOT update costs only the page it moves to and a dead row
    /// for vacuum, which the dead-row and bloat rules ([VAC001](dead-tuple-ratio),
    /// [VAC009](table-bloat)) measure directly. Giving up a tenth of every page to avoid
    /// that is not advice a DBA would give.
    ///
    /// ## Why it matters
    /// A non-HOT update writes a new entry in every index of the table, dirties more pages,
    /// produces more WAL and leaves dead index entries for vacuum. HOT needs free space on
    /// the row's page: with the default `fillfactor = 100`, pages are filled completely by
    /// inserts, and updates of ERP rows (order states, stock quantities) move to other
    /// pages.
    ///
    /// ## How to fix
    /// `ALTER TABLE … SET (fillfactor = 90)` (80 for tables updated many times per row)
    /// leaves room on each page for updated versions. It applies to pages written from then
    /// on; existing pages get the free space after a rewrite (`VACUUM FULL`, `CLUSTER`, or
    /// `pg_repack` online). HOT is impossible when an update changes an indexed column:
    /// if the updated columns are indexed, dropping an unneeded index helps more than
    /// fillfactor.
    ///
    /// ## Thresholds
    /// - `min_updates` (default 10000): ignore tables with fewer updates in the window.
    /// - `min_updates_per_row` (default 0.5): updates per live row in the window for a table
    ///   to count as update-heavy.
    /// - `max_hot_pct` (default 50): HOT share below which the table is reported, in %.
    /// - `recommended_fillfactor` (default 90): the fillfactor recommended; tables already
    ///   at or below it are not reported.
    ///
    /// Counter-based: uses the sampled interval when there is one (`--interval`), else the
    /// counters since the statistics reset. A window shorter than the audit's minimum (a
    /// 10-minute interval, or `min_stats_age_hours` of counters) gives an "unsure" finding:
    /// information, low confidence, no fix.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/storage-hot.html>
    /// - <https://www.postgresql.org/docs/current/sql-createtable.html#RELOPTION-FILLFACTOR>
    /// - <https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ALL-TABLES-VIEW>
    pub struct LowHotUpdateRatio {
        id: "VAC008",
        name: "low-hot-update-ratio",
        pack: "vacuum",
        title: "Few HOT updates on an update-heavy table",
        params: {
            min_updates: f64 = ("rows", "Ignore tables with fewer updates in the window"),
            min_updates_per_row: f64 = ("updates per row", "Updates per live row in the window for a table to count as update-heavy"),
            max_hot_pct: f64 = ("%", "HOT share of updates below which a table is reported"),
            recommended_fillfactor: f64 = ("%", "Fillfactor recommended; tables already at or below it are not reported"),
        },
    }
}

/// Updates and HOT updates of `table` over the basis.
fn updates(ctx: &RuleContext<'_>, table: &Table) -> Option<(i64, i64)> {
    match ctx.basis() {
        Basis::Interval { .. } => {
            let before = ctx
                .snapshot
                .baseline
                .as_ref()?
                .tables
                .iter()
                .find(|b| b.oid == table.oid)?;
            let upd = table.n_tup_upd - before.n_tup_upd;
            let hot = table.n_tup_hot_upd - before.n_tup_hot_upd;
            (upd >= 0 && hot >= 0).then_some((upd, hot))
        }
        Basis::SinceReset { .. } => Some((table.n_tup_upd, table.n_tup_hot_upd)),
    }
}

/// The table's fillfactor (100 when not set).
pub(crate) fn fillfactor(table: &Table) -> f64 {
    table
        .reloption("fillfactor")
        .and_then(|v| v.parse().ok())
        .unwrap_or(100.0)
}

/// Thresholds of the rule.
#[derive(Debug, Clone, Copy)]
pub(crate) struct HotLimits {
    pub min_updates: f64,
    pub min_per_row: f64,
    pub max_hot_pct: f64,
    pub fillfactor: f64,
}

/// The predicate: an indexed, update-heavy table with few HOT updates and a fillfactor
/// above the recommended one.
pub(crate) fn low_hot(
    upd: i64,
    hot: i64,
    live: i64,
    ff: f64,
    indexes: usize,
    l: HotLimits,
) -> bool {
    let upd_f = upd as f64;
    indexes > 0
        && upd_f >= l.min_updates
        && upd_f >= l.min_per_row * (live.max(1) as f64)
        && 100.0 * hot as f64 / upd_f < l.max_hot_pct
        && ff > l.fillfactor
}

impl SnapshotRule for LowHotUpdateRatio {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let l = HotLimits {
            min_updates: p.min_updates,
            min_per_row: p.min_updates_per_row,
            max_hot_pct: p.max_hot_pct,
            fillfactor: p.recommended_fillfactor,
        };
        let snap = ctx.snapshot;
        let basis = ctx.basis();
        let young = ctx
            .stats_window()
            .unsure(crate::knowledge::counters::Verdict::Share);
        let mut drafts = Vec::new();
        for t in snap
            .tables
            .iter()
            .filter(|t| maintained(t) && t.kind == "r")
        {
            let Some((upd, hot)) = updates(ctx, t) else {
                continue;
            };
            let ff = fillfactor(t);
            let indexes = snap.indexes.iter().filter(|i| i.table_oid == t.oid).count();
            if !low_hot(upd, hot, t.n_live_tup, ff, indexes, l) {
                continue;
            }
            let pct = 100.0 * hot as f64 / upd as f64;
            let per_row = upd as f64 / t.n_live_tup.max(1) as f64;
            let recommended = if per_row >= 5.0 && pct < 10.0 {
                l.fillfactor.min(80.0)
            } else {
                l.fillfactor
            };
            let name = t.qualified_name();
            let mut draft = Draft::new(
                table_object(snap, t),
                format!(
                    "Only {} of the {} updates of `{}` were HOT (fillfactor {:.0}): the others each wrote a new entry in {}",
                    units::percent(pct),
                    units::count(upd),
                    t.name,
                    ff,
                    if indexes == 1 {
                        "its index".to_owned()
                    } else {
                        format!("each of its {indexes} indexes")
                    }
                ),
            )
            .evidence("n_tup_upd", upd)
            .evidence("n_tup_hot_upd", hot)
            .evidence("hot_pct", round1(pct))
            .evidence("updates_per_live_row", round1(per_row))
            .evidence("fillfactor", ff)
            .evidence("indexes", indexes)
            .evidence("table_bytes", t.heap_bytes)
            .evidence("basis", basis.label())
            .evidence("basis_s", basis.seconds().round())
            .recommend(format!(
                "Leave free space on each page for updated rows (fillfactor {recommended:.0}); it applies to pages written from now on, a rewrite (VACUUM FULL, or pg_repack online) applies it to existing ones. If the updates change indexed columns, HOT is impossible: review those indexes instead"
            ))
            .fix(
                format!("ALTER TABLE {name} SET (fillfactor = {recommended:.0});"),
                "none",
                "n_tup_hot_upd / n_tup_upd in pg_stat_user_tables over the next days",
            );
            if let Some(u) = &young {
                draft = draft.unsure(u.reason.clone(), &u.remedy);
            }
            drafts.push(draft);
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{assert_fires, assert_quiet};

    const L: HotLimits = HotLimits {
        min_updates: 10_000.0,
        min_per_row: 0.5,
        max_hot_pct: 50.0,
        fillfactor: 90.0,
    };

    #[test]
    fn predicate() {
        assert!(low_hot(20_000, 0, 20_000, 100.0, 2, L));
        // Already at fillfactor 90.
        assert!(!low_hot(20_000, 0, 20_000, 90.0, 2, L));
        // Mostly HOT.
        assert!(!low_hot(20_000, 15_000, 20_000, 100.0, 2, L));
        // Few updates for a large table.
        assert!(!low_hot(20_000, 0, 10_000_000, 100.0, 2, L));
        assert!(!low_hot(5_000, 0, 5_000, 100.0, 2, L));
        // No index to maintain: HOT would save nothing but the page.
        assert!(!low_hot(20_000, 0, 20_000, 100.0, 0, L));
    }

    #[test]
    fn fires_on_an_update_heavy_table_without_hot_updates() {
        assert_fires("VAC008", "public.sale_order_line");
    }

    /// `sale_order_line_log` (no index) was updated row by row on full pages like
    /// `sale_order_line`: no HOT update, but no index entry written either.
    #[test]
    fn quiet_on_a_table_without_an_index() {
        let path = pgsage_testkit::scenario::fixture_path("vacuum", "problems");
        let snapshot = crate::Snapshot::load(&path).expect("fixture");
        let table = snapshot
            .tables
            .iter()
            .find(|t| t.name == "sale_order_line_log")
            .expect("planted");
        assert!(
            table.n_tup_upd >= 20_000 && table.n_tup_hot_upd < 2_000,
            "{table:?}"
        );
        let report = crate::audit(&snapshot, &crate::RuleConfig::shipped().expect("packs"));
        let flagged: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.rule == "VAC008")
            .map(|f| f.object.display_name())
            .collect();
        assert!(
            flagged.contains(&"public.sale_order_line".to_owned()),
            "{flagged:?}"
        );
        assert!(
            !flagged.contains(&"public.sale_order_line_log".to_owned()),
            "{flagged:?}"
        );
    }

    #[test]
    fn quiet_on_tables_with_hot_updates() {
        assert_quiet("VAC008");
    }
}
