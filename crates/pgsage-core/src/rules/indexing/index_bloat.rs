use crate::report::{ObjectKind, ObjectRef, Severity};
use crate::rules::indexing::common::table_by_oid;
use crate::rules::macros::declare_rule;
use crate::rules::vacuum::bloat_estimate::{self as est, Bloat, ColumnShape};
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::{Index, Snapshot};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// Btree indexes much larger than a fresh build of the same entries: leaf pages left
    /// half empty by deletes and non-HOT updates, and deleted pages, that only a rebuild
    /// gives back.
    ///
    /// The expected size is computed, not measured: the index's entries
    /// (`pg_class.reltuples`) times the average leaf entry — 8-byte index tuple header (16
    /// with a null), the key and `INCLUDE` columns' average widths and null fractions from
    /// `pg_stats` with their types' alignment, 8-byte tuple alignment, 4-byte line pointer
    /// — on leaf pages of 8 kB minus the page header and btree special space, filled to
    /// the index's `fillfactor` (90 by default) as `CREATE INDEX` does, plus internal
    /// pages at 70 % and the metapage; against `relpages` from the same VACUUM/ANALYZE.
    /// Expression keys use the expression index's own statistics (`pg_stats` lists them
    /// under the index's name; only the index owner and superusers see them) — without
    /// them the index is not judged. For a partial index, plain key columns are counted
    /// as never null (the table's null fraction does not describe the indexed subset),
    /// which can only lower the estimate. The method is documented in
    /// `rules/vacuum/bloat_estimate.rs`.
    ///
    /// Only valid, ready btree indexes of at least `min_pages` pages are judged, whose
    /// table has visible, fresh statistics (`max_modified_since_analyze_pct`) and no
    /// dropped column. Other access methods (GIN, GiST, BRIN, hash) are not estimated.
    ///
    /// Two effects make a real index differ from the estimate, both understood:
    /// - **Deduplication** (PostgreSQL 13+, on by default) stores a duplicated key once
    ///   with a list of heap pointers, so an index with many duplicates is *smaller* than
    ///   the estimate: its bloat is underestimated, never overestimated (a bloated
    ///   low-cardinality index may go unreported).
    /// - **Page splits**: an index grown by random inserts (UUIDs, codes, names) settles
    ///   around 70 % leaf density, so it reads as 20–25 % bloated although a REINDEX would
    ///   only help until the next splits. The threshold is above that.
    ///
    /// Accuracy, measured against the truth (the size after `REINDEX`; `pgstatindex`
    /// alongside) on PostgreSQL 13–18 by `crates/pgsage/tests/bloat_accuracy.rs`: within
    /// ±1.8 points for indexes without many duplicates (primary keys, text, multi-column,
    /// `INCLUDE`, expression, split-grown), fresh or 40–70 % bloated; below the truth for
    /// deduplicated ones. Figures in `docs/bloat-estimates.md`.
    ///
    /// ## Why it matters
    /// A bloated index makes every scan of it read more pages, takes more of the buffer
    /// cache and of every backup, and makes index-only scans and inserts slower. Unlike
    /// the heap, a btree reuses a half-empty leaf page only for keys of its key range, so
    /// space left by deleted rows is often never filled again.
    ///
    /// ## How to fix
    /// Rebuild it without blocking writes: `REINDEX INDEX CONCURRENTLY` (PostgreSQL 12+).
    /// It builds a new copy next to the old one (free disk space for one more copy is
    /// needed), waits for running transactions at each phase (a long transaction makes it
    /// wait), and takes a SHARE UPDATE EXCLUSIVE lock (no DDL or VACUUM on the table
    /// meanwhile). If it fails or is cancelled it leaves an invalid `…_ccnew` index behind:
    /// drop it with `DROP INDEX CONCURRENTLY`. Then find why the index bloated (mass
    /// deletes, non-HOT updates of its columns, vacuum held back) so it does not come back.
    ///
    /// ## Thresholds
    /// - `min_pages` (default 128 pages = 1 MB): smaller indexes are not judged.
    /// - `max_modified_since_analyze_pct` (default 20): indexes whose table had more rows
    ///   modified since its last ANALYZE (% of `reltuples`) are not judged.
    /// - `warning_bloat_pct` (default 45) and `warning_wasted_bytes` (default 64 MB): both
    ///   must be reached. 45 % leaves room for the ~23 % of a healthy index grown by page
    ///   splits plus the estimate's error.
    /// - `critical_bloat_pct` (default 70) and `critical_wasted_bytes` (default 1 GB):
    ///   both reached → critical.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/btree-implementation.html>
    /// - <https://www.postgresql.org/docs/current/sql-reindex.html#SQL-REINDEX-CONCURRENTLY>
    /// - <https://www.postgresql.org/docs/current/storage-page-layout.html>
    /// - <https://www.postgresql.org/docs/current/pgstattuple.html>
    pub struct IndexBloat {
        id: "IDX008",
        name: "index-bloat",
        pack: "indexing",
        title: "Index bloat",
        params: {
            min_pages: f64 = ("pages", "Indexes with fewer pages are not judged"),
            max_modified_since_analyze_pct: f64 = ("%", "Indexes whose table had more rows modified since its last ANALYZE (% of reltuples) are not judged"),
            warning_bloat_pct: f64 = ("%", "Estimated wasted share of the index that warns"),
            warning_wasted_bytes: f64 = ("bytes", "Estimated wasted bytes that warn (with the share)"),
            critical_bloat_pct: f64 = ("%", "Estimated wasted share that is critical"),
            critical_wasted_bytes: f64 = ("bytes", "Estimated wasted bytes that are critical (with the share)"),
        },
    }
}

/// Why an index was not judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NotJudged {
    /// Not a valid btree, too small, no entries recorded.
    OutOfScope,
    /// `pg_stats` hides some of its table's columns from the role.
    Hidden,
    /// Missing statistics (never analysed, or an expression without index statistics).
    NoStats,
    /// Its table had too many rows modified since the last ANALYZE, or dropped columns.
    Untrusted,
}

/// The estimate for one index.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct IndexEstimate {
    pub bloat: Bloat,
    pub tuple_bytes: f64,
    pub fillfactor: f64,
}

/// The shapes of an index's leaf entry: key columns then `INCLUDE` columns.
fn shapes(snap: &Snapshot, i: &Index) -> Result<Vec<ColumnShape>, NotJudged> {
    let table_col = |pred: &dyn Fn(&crate::snapshot::Column) -> bool| {
        snap.columns
            .iter()
            .find(|c| c.table_oid == i.table_oid && !c.of_index && pred(c))
    };
    let plain = |c: Option<&crate::snapshot::Column>| -> Result<ColumnShape, NotJudged> {
        let c = c.ok_or(NotJudged::NoStats)?;
        if c.stats_hidden {
            return Err(NotJudged::Hidden);
        }
        let mut s = est::shape_of(c).ok_or(NotJudged::NoStats)?;
        if i.predicate.is_some() {
            s.null_frac = 0.0;
        }
        Ok(s)
    };
    let mut out = Vec::new();
    let mut expressions = Vec::new();
    for (pos, attnum) in i.key_attnums.iter().enumerate() {
        if *attnum == 0 {
            expressions.push((out.len(), pos + 1));
            out.push(ColumnShape {
                null_frac: 0.0,
                avg_width: 0.0,
                type_len: 0,
                align: 1,
                computed: true,
            });
        } else {
            out.push(plain(table_col(&|c| c.attnum == *attnum))?);
        }
    }
    for name in &i.include_columns {
        out.push(plain(table_col(&|c| &c.name == name))?);
    }
    for (slot, position) in expressions {
        let c = snap
            .columns
            .iter()
            .find(|c| c.of_index && c.table_oid == i.oid && c.attnum as usize == position)
            .ok_or(NotJudged::NoStats)?;
        out[slot] = est::shape_of(c).ok_or(NotJudged::NoStats)?;
    }
    Ok(out)
}

/// Estimates `i`'s bloat, or says why it cannot be judged.
pub(crate) fn estimate_index(
    snap: &Snapshot,
    i: &Index,
    min_pages: f64,
    max_mod_pct: f64,
) -> Result<IndexEstimate, NotJudged> {
    if i.access_method != "btree"
        || !(i.is_valid && i.is_ready && i.is_live)
        || (i.relpages as f64) < min_pages
        || i.reltuples <= 0.0
    {
        return Err(NotJudged::OutOfScope);
    }
    let table = table_by_oid(snap, i.table_oid).ok_or(NotJudged::OutOfScope)?;
    if table.persistence == "t" {
        return Err(NotJudged::OutOfScope);
    }
    let shapes = shapes(snap, i)?;
    if table.reltuples <= 0.0
        || 100.0 * table.n_mod_since_analyze as f64 / table.reltuples > max_mod_pct
    {
        return Err(NotJudged::Untrusted);
    }
    let live = snap
        .columns
        .iter()
        .filter(|c| c.table_oid == table.oid && !c.of_index);
    let (count, natts) = live.fold((0usize, 0i16), |(n, m), c| (n + 1, m.max(c.table_natts)));
    if natts as usize > count {
        return Err(NotJudged::Untrusted);
    }
    let fillfactor = i
        .reloption("fillfactor")
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(90.0);
    let tuple_bytes = est::index_tuple_bytes(&shapes);
    let expected = est::btree_pages(
        i.reltuples,
        tuple_bytes,
        est::variable(&shapes),
        fillfactor,
        est::block_size(snap),
    );
    Ok(IndexEstimate {
        bloat: Bloat {
            expected_pages: expected,
            actual_pages: i.relpages as f64,
        },
        tuple_bytes,
        fillfactor,
    })
}

impl SnapshotRule for IndexBloat {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let gates = est::Gates::read(ctx)?;
        let snap = ctx.snapshot;
        est::require_column_stats(snap, snap.indexes.iter().any(|r| r.relpages > 0))?;
        let block = est::block_size(snap);
        let mut judged = 0;
        let mut hidden = 0;
        let mut drafts = Vec::new();
        for i in &snap.indexes {
            let e = match estimate_index(snap, i, gates.min_pages, gates.max_modified_pct) {
                Ok(e) => e,
                Err(NotJudged::Hidden) => {
                    hidden += 1;
                    continue;
                }
                Err(_) => continue,
            };
            judged += 1;
            if let Some(critical) = gates.verdict(&e.bloat, block) {
                drafts.push(finding(snap, i, &e, block, critical));
            }
        }
        if judged == 0 && hidden > 0 {
            return Err(Skip::because(format!(
                "pg_stats hides the column statistics of the tables of {hidden} btree index(es) large enough to judge from role {} (it needs SELECT on the tables; pg_monitor alone cannot read pg_stats), so their entry widths are unknown",
                snap.server.user
            )));
        }
        Ok(drafts)
    }
}

fn finding(snap: &Snapshot, i: &Index, e: &IndexEstimate, block: f64, critical: bool) -> Draft {
    let pct = e.bloat.wasted_pct();
    let wasted = e.bloat.wasted_pages() * block;
    let name = i.qualified_name();
    Draft::new(
        ObjectRef::in_schema(ObjectKind::Index, &snap.server.database, &i.schema, &i.name),
        format!(
            "Index `{}` on `{}` is estimated {} bloated: {} of its {} would be freed by a rebuild ({} pages expected for {} entries of about {}, {} pages actual)",
            i.name,
            i.table,
            units::percent(pct),
            units::bytes(wasted),
            units::bytes(e.bloat.actual_pages * block),
            units::count(e.bloat.expected_pages),
            units::count(i.reltuples),
            units::bytes(e.tuple_bytes),
            units::count(i.relpages),
        ),
    )
    .severity(if critical { Severity::Critical } else { Severity::Warning })
    .evidence("bloat_pct", (pct * 10.0).round() / 10.0)
    .evidence("wasted_bytes", wasted.round())
    .evidence("actual_pages", i.relpages)
    .evidence("expected_pages", e.bloat.expected_pages)
    .evidence("index_bytes", i.size_bytes)
    .evidence("reltuples", i.reltuples)
    .evidence("avg_entry_bytes", (e.tuple_bytes * 10.0).round() / 10.0)
    .evidence("fillfactor_pct", e.fillfactor)
    .evidence(
        "basis",
        "estimate: reltuples × entry width from pg_stats (null_frac, avg_width, alignment, headers) on leaf pages at fillfactor vs relpages",
    )
    .recommend(
        "Rebuild the index without blocking writes with REINDEX INDEX CONCURRENTLY (needs free space for a second copy; waits for running transactions); if it fails, drop the invalid _ccnew index it leaves. Then find why it bloated (mass deletes, non-HOT updates of its columns, vacuum held back). Confirm first with pgstatindex() if pgstattuple is available (avg_leaf_density far below the fillfactor).",
    )
    .fix(
        format!("REINDEX INDEX CONCURRENTLY {name};"),
        "none",
        "pg_relation_size() of the index after the rebuild; no invalid index left (pg_index.indisvalid)",
    )
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_an_index_left_half_empty() {
        assert_fires("IDX008", "public.bloat_stock_quant_location_idx");
    }

    #[test]
    fn quiet_on_fresh_and_rebuilt_indexes() {
        assert_quiet("IDX008");
    }
}
