use crate::knowledge::counters::Verdict as Window;
use crate::report::{ObjectKind, ObjectRef};
use crate::rules::drop_plan::Verdict;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::{Index, Snapshot, Table};
use crate::units;

use super::common::{index_delta, is_protected, table_by_oid, table_rows, table_writes};
use super::index_drops;

declare_rule! {
    /// ## What it detects
    /// Plain (non-partial, non-unique) btree indexes whose leading column has only a few
    /// distinct values (`pg_stats.n_distinct` at most `max_distinct_values`: a boolean, a
    /// state or a type column) and that queries hardly use: at most
    /// `max_scans_per_1000_writes` index scans per 1000 rows written to the table over the
    /// basis. Indexes with no scan at all are reported by IDX003 (unused index), which
    /// shows the same `n_distinct`.
    ///
    /// ## Why it matters
    /// For a value that covers a large share of the rows, the planner prefers a sequential
    /// scan, so such an index only helps queries for the rare values — and pays for every
    /// row written all the same, over the whole table. A partial index on the rare values
    /// (`WHERE state = 'draft'`) serves those queries at a fraction of the size and write
    /// cost.
    ///
    /// ## How to fix
    /// Find the queries that use it (`pg_stat_statements`, `EXPLAIN`). If they look for a
    /// rare value, replace it with a partial index on that value
    /// (`CREATE INDEX CONCURRENTLY … WHERE col = 'rare'`), or lead it with a selective
    /// column; otherwise drop it with `DROP INDEX CONCURRENTLY`.
    ///
    /// **With the other drops.** The audit decides every index drop once (the index-drop
    /// plan shared by IDX001, IDX002, IDX003 and IDX007). An index that is the only one
    /// serving a foreign key (a `company_id` with three values, say), or that the
    /// workload's statements rely on, is reported as info without the fix, saying why it
    /// stays: a partial index on a rare value would not serve the key's checks. An index
    /// another rule drops (a duplicate copy, a redundant prefix) is left to that finding.
    ///
    /// ## Thresholds
    /// - `max_distinct_values` (default 10): distinct values of the leading column.
    /// - `max_scans_per_1000_writes` (default 1): index scans per 1000 rows written.
    /// - `min_table_writes` (default 10000): rows written over the basis, so the write cost
    ///   is real.
    /// - `min_index_bytes` (default 1048576, 1 MB): ignore smaller indexes.
    ///
    /// Needs `pg_stats` (the role must be able to read the table's statistics; tables whose
    /// statistics are hidden are not judged, and the report lists that gap: when a rarely
    /// scanned index could not be judged for that and nothing is flagged, the rule is
    /// skipped with the reason rather than reported as healthy); counters
    /// younger than the audit's `min_stats_age_hours` (or a sampled interval shorter than
    /// 10 minutes) give an "unsure" finding: information only, low confidence, no
    /// `DROP INDEX` (and the audit's drop plan does not count it as dropped).
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/view-pg-stats.html>
    /// - <https://www.postgresql.org/docs/current/indexes-partial.html>
    /// - <https://www.postgresql.org/docs/current/indexes-examine.html>
    pub struct LowCardinalityIndex {
        id: "IDX007",
        name: "low-cardinality-index",
        pack: "indexing",
        title: "Rarely used index on a low-cardinality column",
        params: {
            max_distinct_values: f64 = ("values", "Distinct values of the leading column at most"),
            max_scans_per_1000_writes: f64 = ("scans per 1000 rows written", "Index scans per 1000 rows written at most"),
            min_table_writes: f64 = ("rows", "Rows written to the table over the basis at least"),
            min_index_bytes: f64 = ("bytes", "Ignore indexes smaller than this"),
        },
    }
}

/// The estimated number of distinct values of an index's leading column (a plain
/// column with statistics).
pub(crate) fn leading_distinct(snap: &Snapshot, i: &Index) -> Option<f64> {
    let attnum = *i.key_attnums.first()?;
    if attnum == 0 {
        return None;
    }
    let col = snap
        .columns
        .iter()
        .find(|c| c.table_oid == i.table_oid && c.attnum == attnum)?;
    let nd = col.n_distinct?;
    if nd >= 0.0 {
        Some(nd)
    } else {
        let rows = table_by_oid(snap, i.table_oid).map(table_rows)?;
        Some(-nd * rows)
    }
}

/// Whether the statistics of the index's leading column are hidden from the collecting
/// role (they may exist, `pg_stats` does not show them).
fn leading_stats_hidden(snap: &Snapshot, i: &Index) -> bool {
    let Some(&attnum) = i.key_attnums.first() else {
        return false;
    };
    attnum != 0
        && snap
            .columns
            .iter()
            .find(|c| !c.of_index && c.table_oid == i.table_oid && c.attnum == attnum)
            .is_some_and(|c| c.stats_hidden)
}

/// An index IDX007 finds rarely used on a low-cardinality column.
pub(crate) struct LowCardinalityCandidate<'a> {
    /// The index.
    pub index: &'a Index,
    /// Its table.
    pub table: &'a Table,
    /// Scans over the basis.
    pub scans: i64,
    /// Rows written to the table over the basis.
    pub writes: i64,
    /// Distinct values of the leading column.
    pub distinct: f64,
}

/// The indexes IDX007 flags with its parameters (the drops it would propose, before the
/// index-drop plan decides), and how many rarely scanned indexes it could not judge
/// because their column statistics are hidden from the collecting role.
pub(crate) fn candidates<'a>(
    ctx: &RuleContext<'a>,
) -> Result<(Vec<LowCardinalityCandidate<'a>>, usize), Skip> {
    let p: Params = ctx.params()?;
    let snap = ctx.snapshot;
    if let Some(gap) = snap.gap("columns") {
        return Err(Skip::because(format!("columns not collected: {}", gap.why)));
    }
    let any_stats = snap.columns.iter().any(|c| c.n_distinct.is_some());
    if !any_stats {
        if let Some(gap) = snap.gap("pg_stats") {
            return Err(Skip::because(format!(
                "column statistics not visible: {}",
                gap.why
            )));
        }
        if snap.columns.is_empty() && !snap.tables.is_empty() {
            return Err(Skip::because(
                "the snapshot has no column statistics (pg_stats)",
            ));
        }
    }
    let mut out = Vec::new();
    // Rarely scanned indexes on written tables whose leading column's statistics the
    // role may not read (no SELECT on the table: pg_monitor alone): not judged.
    let mut hidden = 0;
    for i in snap.indexes.iter().filter(|i| {
        i.is_valid && !is_protected(i) && i.access_method == "btree" && i.predicate.is_none()
    }) {
        if (i.size_bytes as f64) < p.min_index_bytes {
            continue;
        }
        let Some(table) = table_by_oid(snap, i.table_oid).filter(|t| t.kind != "p") else {
            continue;
        };
        let writes = table_writes(ctx, table);
        let scans = index_delta(ctx, i, |i| i.idx_scan);
        if scans == 0 || (writes as f64) < p.min_table_writes {
            continue;
        }
        let per_1000 = 1000.0 * scans as f64 / writes as f64;
        if per_1000 > p.max_scans_per_1000_writes {
            continue;
        }
        let Some(distinct) = leading_distinct(snap, i) else {
            if leading_stats_hidden(snap, i) {
                hidden += 1;
            }
            continue;
        };
        if distinct > p.max_distinct_values {
            continue;
        }
        out.push(LowCardinalityCandidate {
            index: i,
            table,
            scans,
            writes,
            distinct,
        });
    }
    Ok((out, hidden))
}

impl SnapshotRule for LowCardinalityIndex {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let snap = ctx.snapshot;
        let (found, hidden) = candidates(ctx)?;
        let basis = ctx.basis();
        // Hardly any use, judged over the basis: the lifetime counters must be old
        // enough to rule out periodic jobs, and a sampled interval long enough for a share.
        let unsure = unsure_window(ctx);
        let plan = super::drop_plan(ctx);
        let mut drafts = Vec::new();
        for LowCardinalityCandidate {
            index: i,
            table,
            scans,
            writes,
            distinct,
        } in found
        {
            // One decision for every drop of the audit: another rule's finding may drop
            // it (one drop, one finding), or a foreign key or the workload keep it.
            let decision = plan.verdict(i.oid, Self::META.id);
            match decision {
                Verdict::OtherRule(_) => continue,
                // Unsure candidates are not in the plan: reported as unsure, no drop.
                Verdict::NoDrop if unsure.is_none() => continue,
                _ => {}
            }
            let per_1000 = 1000.0 * scans as f64 / writes as f64;
            let column = &i.key_columns[0];
            let mut draft = Draft::new(
                ObjectRef::in_schema(ObjectKind::Index, &snap.server.database, &i.schema, &i.name),
                format!(
                    "`{}` on `{}` ({}) leads with `{column}`, which has about {} distinct values; it was scanned {} times while {} rows were written ({})",
                    i.name,
                    i.table,
                    units::bytes(i.size_bytes),
                    units::count(distinct),
                    units::count(scans),
                    units::count(writes),
                    basis.label().replace('_', " ")
                ),
            )
            .evidence("leading_column", column.clone())
            .evidence("n_distinct", distinct.round())
            .evidence("idx_scan", scans)
            .evidence("table_writes", writes)
            .evidence("scans_per_1000_writes", (per_1000 * 100.0).round() / 100.0)
            .evidence("size_bytes", i.size_bytes)
            .evidence("basis", basis.label())
            .evidence("window_s", basis.seconds().round())
            .evidence("definition", i.definition.clone());
            match decision {
                Verdict::Drop(dropped) => {
                    if let Some(note) = index_drops::siblings_note(snap, dropped) {
                        draft.message.push_str(&format!("; {note}"));
                    }
                    draft = index_drops::with_siblings_kept(draft, snap, dropped)
                        .recommend(format!(
                            "If its few queries look for a rare value of `{column}`, replace `{}` with a partial index on that value; otherwise drop it",
                            i.name
                        ))
                        .fix(
                            format!(
                                "CREATE INDEX CONCURRENTLY {} ON {} ({}) WHERE {} = <rare value>;\nDROP INDEX CONCURRENTLY {};",
                                crate::sql::quote_ident(&format!("{}_partial", i.name)),
                                table.qualified_name(),
                                i.key_columns.join(", "),
                                crate::sql::quote_ident(column),
                                i.qualified_name()
                            ),
                            "none",
                            "latency of the queries filtering on the rare value",
                        );
                }
                // A foreign key or the workload needs it (a partial index on a rare
                // value would not serve them): said instead of a drop.
                Verdict::Keep(kept) => draft = index_drops::keep(draft, snap, i, kept),
                Verdict::OtherRule(_) | Verdict::NoDrop => {}
            }
            if let Some(u) = &unsure {
                draft = draft.unsure(u.reason.clone(), &u.remedy);
            }
            drafts.push(draft);
        }
        if drafts.is_empty() && hidden > 0 {
            return Err(Skip::because(format!(
                "{hidden} rarely scanned index(es) lead with a column whose statistics (pg_stats) the collecting role may not read, so their cardinality is unknown: grant it SELECT on those tables (pg_monitor alone cannot read pg_stats)"
            )));
        }
        Ok(drafts)
    }
}

/// Why this audit's window cannot judge rarity of use, when it cannot: its candidates are
/// then reported as unsure and left out of the drop plan.
pub(crate) fn unsure_window(ctx: &RuleContext<'_>) -> Option<crate::knowledge::counters::Unsure> {
    let window = ctx.stats_window();
    window
        .unsure(Window::AbsenceOfUse)
        .or_else(|| window.unsure(Window::Share))
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet, case_findings};

    #[test]
    fn fires_on_a_rarely_used_boolean_index() {
        assert_fires("IDX007", "public.mail_message_is_read_idx");
    }

    #[test]
    fn quiet_on_selective_or_busy_indexes() {
        assert_quiet("IDX007");
    }

    #[test]
    fn keeps_the_only_index_of_a_foreign_key() {
        let f = case_findings("indexing", "drop_conflicts", "IDX007");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].object.name, "conflict_entry_company_idx");
        assert_eq!(f[0].severity, crate::report::Severity::Info);
        assert!(f[0].fix.is_none(), "no DROP: {f:#?}");
        assert_eq!(f[0].evidence["kept_for"], "foreign_key");
        assert!(f[0].message.contains("conflict_entry_company_id_fkey"));
    }
}
