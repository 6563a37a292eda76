use std::collections::BTreeMap;

use crate::report::{ObjectKind, ObjectRef};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::Index;

use super::common::key_items;

declare_rule! {
    /// ## What it detects
    /// Two or more valid indexes on the same table with the same access method, the same
    /// key columns or expressions in the same order, the same operator classes, collations
    /// and ordering (`DESC`, `NULLS FIRST`), the same `INCLUDE` columns and the same
    /// predicate: one of them can answer every query the others can.
    ///
    /// ## Why it matters
    /// Every copy is written on each insert and on each non-HOT update, takes disk and
    /// cache space, is vacuumed and is backed up, for no read benefit. Duplicates are
    /// common after ORM migrations add an index that a unique constraint already created.
    ///
    /// ## How to fix
    /// Keep the index that backs a constraint (primary key, unique or exclusion), else a
    /// unique one, else the most used; drop the others with `DROP INDEX CONCURRENTLY`
    /// (no lock on writes). If both back constraints, drop the redundant constraint
    /// instead.
    ///
    /// ## Thresholds
    /// None: the match is exact. Invalid indexes are left to their own rule.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/sql-dropindex.html>
    /// - <https://www.postgresql.org/docs/current/indexes-unique.html>
    pub struct DuplicateIndex {
        id: "IDX001",
        name: "duplicate-index",
        pack: "indexing",
        title: "Duplicate index",
        params: {},
    }
}

/// What makes two indexes interchangeable for reads. The key items of the definition
/// carry what the model has no field for: collations and `DESC`/`NULLS FIRST` ordering.
type Signature<'a> = (
    u32,
    &'a str,
    &'a [i16],
    &'a [String],
    &'a [String],
    &'a [String],
    Option<&'a str>,
    Option<Vec<String>>,
);

fn signature(i: &Index) -> Signature<'_> {
    (
        i.table_oid,
        &i.access_method,
        &i.key_attnums,
        &i.key_columns,
        &i.opclasses,
        &i.include_columns,
        i.predicate.as_deref(),
        key_items(&i.definition),
    )
}

/// Each redundant copy among the valid indexes, with the index of its group to keep.
pub(crate) fn duplicate_copies(indexes: &[Index]) -> Vec<(&Index, &Index)> {
    let mut groups: BTreeMap<Signature<'_>, Vec<&Index>> = BTreeMap::new();
    for i in indexes.iter().filter(|i| i.is_valid) {
        groups.entry(signature(i)).or_default().push(i);
    }
    let mut copies = Vec::new();
    for group in groups.values().filter(|g| g.len() > 1) {
        let Some(keep) = group
            .iter()
            .copied()
            .max_by(|a, b| keep_rank(a).cmp(&keep_rank(b)))
        else {
            continue;
        };
        copies.extend(
            group
                .iter()
                .filter(|i| i.oid != keep.oid)
                .map(|d| (*d, keep)),
        );
    }
    copies
}

/// Which index of a duplicate group to keep: constraint-backed first, then unique, then
/// the most scanned, then the oldest (lowest oid: usually the original, the copy came later).
fn keep_rank(i: &Index) -> (bool, bool, bool, i64, std::cmp::Reverse<u32>) {
    (
        i.is_primary,
        i.constraint_name.is_some(),
        i.is_unique,
        i.idx_scan,
        std::cmp::Reverse(i.oid),
    )
}

impl SnapshotRule for DuplicateIndex {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let snap = ctx.snapshot;
        let mut drafts = Vec::new();
        for (dup, keep) in duplicate_copies(&snap.indexes) {
            let fix = match &dup.constraint_name {
                Some(c) => format!(
                    "ALTER TABLE {} DROP CONSTRAINT {};",
                    crate::sql::qualified(&dup.schema, &dup.table),
                    crate::sql::quote_ident(c)
                ),
                None => format!("DROP INDEX CONCURRENTLY {};", dup.qualified_name()),
            };
            let draft = Draft::new(
                    ObjectRef::in_schema(ObjectKind::Index, &snap.server.database, &dup.schema, &dup.name),
                    format!(
                        "`{}` on `{}` duplicates `{}`: same columns ({}), method, operator classes, collations, ordering and predicate",
                        dup.name,
                        dup.table,
                        keep.name,
                        dup.key_columns.join(", ")
                    ),
                )
                .evidence("duplicate_of", keep.name.clone())
                .evidence("size_bytes", dup.size_bytes)
                .evidence("idx_scan", dup.idx_scan)
                .evidence("kept_idx_scan", keep.idx_scan)
                .evidence("definition", dup.definition.clone())
                .recommend(format!(
                    "Drop `{}`; `{}` serves the same queries{}",
                    dup.name,
                    keep.name,
                    if dup.constraint_name.is_some() {
                        " (it backs a constraint, so drop the redundant constraint)"
                    } else {
                        ""
                    }
                ))
                .fix(fix, "none", "scans on the kept index and query latency on the table");
            drafts.push(draft);
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_a_copy_of_an_index() {
        let findings = assert_fires("IDX001", "public.sale_order_partner_dup");
        assert_fires("IDX001", "public.sale_order_name_idx");
        assert_eq!(findings.len(), 2, "only the copies, never the kept indexes");
    }

    #[test]
    fn quiet_on_similar_but_different_indexes() {
        assert_quiet("IDX001");
    }
}
