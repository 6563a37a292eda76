use std::collections::BTreeSet;

use crate::report::{ObjectKind, ObjectRef};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::Index;
use crate::units;

use super::common::{is_protected, key_items};
use super::duplicate_index::duplicate_copies;
use super::index_drops;
use crate::rules::drop_plan::{DropReason, Dropped, Verdict};

declare_rule! {
    /// ## What it detects
    /// A valid btree index whose key columns are a leading prefix of another valid btree
    /// index on the same table with the same predicate: `(partner_id)` next to
    /// `(partner_id, date_order)`. Keys are compared as `pg_get_indexdef` prints them, so
    /// expressions, operator classes, collations and `DESC`/`NULLS FIRST` must match
    /// too. An index with `INCLUDE` columns is redundant only when the longer index
    /// carries those columns as keys or `INCLUDE` columns; an index with the same keys
    /// and fewer `INCLUDE` columns is redundant too. Exact duplicates are left to
    /// IDX001.
    ///
    /// Never reported: the shorter index is unique, backs a primary key, unique or
    /// exclusion constraint (the longer one cannot enforce it), or is partial with a
    /// different predicate.
    ///
    /// ## Why it matters
    /// Every query that can use the shorter index can use the longer one, whose leading
    /// columns are the same. The shorter index still costs a write on every insert and
    /// non-HOT update, space on disk and in the cache, and vacuum time.
    ///
    /// ## How to fix
    /// Drop the shorter index with `DROP INDEX CONCURRENTLY` (no lock on writes). Keep its
    /// definition (in the evidence) to recreate it if a query turns out to prefer it: the
    /// longer index is bigger, so a lookup by the leading column alone reads a few more
    /// pages through it. Watch that query's latency after the drop.
    ///
    /// **With the other drops.** The audit decides every index drop once (the index-drop
    /// plan shared by IDX001, IDX002, IDX003 and IDX007). An index is redundant only with
    /// a covering index that stays: when IDX003 (unused) or IDX007 (rarely used) drops
    /// every index covering it, it is not reported here, and the finding that drops the
    /// longer index says the shorter one stays. Of several covering indexes, the smallest
    /// that stays is named (`kept_indexes` in the evidence). Exact copies are IDX001's.
    /// `(order_id)` next to an unused `(order_id, product_id)`: IDX003 drops the longer
    /// one, `(order_id)` stays — never both.
    ///
    /// ## Thresholds
    /// None: the match is structural.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/indexes-multicolumn.html>
    /// - <https://www.postgresql.org/docs/current/indexes-index-only-scans.html>
    /// - <https://www.postgresql.org/docs/current/sql-dropindex.html>
    pub struct RedundantPrefixIndex {
        id: "IDX002",
        name: "redundant-prefix-index",
        pack: "indexing",
        title: "Index redundant with a longer one",
        params: {},
    }
}

/// Whether every query `short` can serve, `long` can serve: both valid btrees on the same
/// table with the same predicate, `short`'s key items a leading prefix of `long`'s (equal
/// keys only when `short` has strictly fewer `INCLUDE` columns), and `short`'s `INCLUDE`
/// columns present in `long`.
pub(crate) fn covered_by(short: &Index, long: &Index) -> bool {
    if short.oid == long.oid
        || short.table_oid != long.table_oid
        || !short.is_valid
        || !long.is_valid
        || short.access_method != "btree"
        || long.access_method != "btree"
        || short.predicate != long.predicate
    {
        return false;
    }
    let (Some(s), Some(l)) = (key_items(&short.definition), key_items(&long.definition)) else {
        return false;
    };
    if s.is_empty() || s.len() > l.len() || l[..s.len()] != s[..] {
        return false;
    }
    let long_columns: BTreeSet<&str> = long
        .key_columns
        .iter()
        .chain(&long.include_columns)
        .map(String::as_str)
        .collect();
    let includes_covered = short
        .include_columns
        .iter()
        .all(|c| long_columns.contains(c.as_str()));
    if s.len() == l.len() {
        // Same keys: redundant only with strictly fewer INCLUDE columns.
        includes_covered && short.include_columns.len() < long.include_columns.len()
    } else {
        includes_covered
    }
}

/// Each index IDX002 would drop, with every index that covers it (the duplicate copies
/// IDX001 drops left out on both sides): non-protected valid btrees whose keys lead a
/// longer index.
pub(crate) fn prefix_candidates(indexes: &[Index]) -> Vec<(&Index, Vec<&Index>)> {
    let copies: BTreeSet<u32> = duplicate_copies(indexes)
        .into_iter()
        .map(|(dup, _)| dup.oid)
        .collect();
    indexes
        .iter()
        .filter(|i| !is_protected(i) && !copies.contains(&i.oid))
        .filter_map(|short| {
            let covers: Vec<&Index> = indexes
                .iter()
                .filter(|l| !copies.contains(&l.oid) && covered_by(short, l))
                .collect();
            (!covers.is_empty()).then_some((short, covers))
        })
        .collect()
}

impl SnapshotRule for RedundantPrefixIndex {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let snap = ctx.snapshot;
        let plan = super::drop_plan(ctx);
        let mut drafts = Vec::new();
        for (short, _) in prefix_candidates(&snap.indexes) {
            // The covering index the plan keeps (the smallest that stays): queries move
            // to it. When every covering index is dropped (unused), this one is not
            // redundant and the plan has no drop for it here.
            let long = match plan.verdict(short.oid, Self::META.id) {
                Verdict::Drop(Dropped {
                    reason: DropReason::Prefix { cover },
                    ..
                }) => snap.indexes.iter().find(|l| l.oid == *cover),
                Verdict::Keep(kept) => {
                    drafts.push(index_drops::kept_draft(
                        snap,
                        short,
                        kept,
                        "is a leading prefix of a longer index",
                    ));
                    continue;
                }
                _ => continue,
            };
            let Some(long) = long else { continue };
            drafts.push(
                Draft::new(
                    ObjectRef::in_schema(ObjectKind::Index, &snap.server.database, &short.schema, &short.name),
                    format!(
                        "`{}` on `{}` ({}) is a leading prefix of `{}` ({}): every query it serves, `{}` serves too",
                        short.name,
                        short.table,
                        short.key_columns.join(", "),
                        long.name,
                        long.key_columns.join(", "),
                        long.name
                    ),
                )
                .evidence("covered_by", long.name.clone())
                .evidence("kept_indexes", vec![long.qualified_name()])
                .evidence("size_bytes", short.size_bytes)
                .evidence("covering_size_bytes", long.size_bytes)
                .evidence("idx_scan", short.idx_scan)
                .evidence("covering_idx_scan", long.idx_scan)
                .evidence("definition", short.definition.clone())
                .evidence("covering_definition", long.definition.clone())
                .recommend(format!(
                    "Drop `{}` ({}) and let queries use `{}`; keep its definition to recreate it if a lookup by its columns alone gets slower",
                    short.name,
                    units::bytes(short.size_bytes),
                    long.name
                ))
                .fix(
                    format!("DROP INDEX CONCURRENTLY {};", short.qualified_name()),
                    "none",
                    &format!("idx_scan of `{}` and the latency of queries filtering on {}", long.name, short.key_columns.join(", ")),
                ),
            );
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet, case_findings};

    #[test]
    fn fires_on_a_prefix_of_a_longer_index() {
        assert_fires("IDX002", "public.sale_order_partner_idx");
        assert_fires("IDX002", "public.purchase_line_product_idx");
        assert_fires("IDX002", "public.purchase_line_order_incl_idx");
    }

    #[test]
    fn quiet_on_unique_partial_and_reordered_look_alikes() {
        assert_quiet("IDX002");
    }

    #[test]
    fn not_redundant_with_an_index_that_is_dropped() {
        // Both covering indexes are unused and dropped by IDX003: the short ones stay.
        let f = case_findings("indexing", "drop_conflicts", "IDX002");
        let names: Vec<&str> = f.iter().map(|f| f.object.name.as_str()).collect();
        assert_eq!(names, ["conflict_pick_partner_idx"], "{f:#?}");
        assert_eq!(
            f[0].evidence["kept_indexes"],
            serde_json::json!(["public.conflict_pick_partner_date_idx"])
        );
    }
}
