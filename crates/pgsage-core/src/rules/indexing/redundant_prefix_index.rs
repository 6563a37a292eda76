use std::collections::BTreeSet;

use crate::report::{ObjectKind, ObjectRef};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::Index;
use crate::units;

use super::common::{is_protected, key_items};
use super::duplicate_index::duplicate_copies;

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

impl SnapshotRule for RedundantPrefixIndex {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let snap = ctx.snapshot;
        let copies: BTreeSet<u32> = duplicate_copies(&snap.indexes)
            .into_iter()
            .map(|(dup, _)| dup.oid)
            .collect();
        let mut drafts = Vec::new();
        for short in snap
            .indexes
            .iter()
            .filter(|i| !is_protected(i) && !copies.contains(&i.oid))
        {
            // The smallest covering index: the one queries would move to.
            let Some(long) = snap
                .indexes
                .iter()
                .filter(|l| !copies.contains(&l.oid) && covered_by(short, l))
                .min_by_key(|l| (l.key_columns.len(), l.size_bytes, l.oid))
            else {
                continue;
            };
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
    use crate::rules::testing::{assert_fires, assert_quiet};

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
}
