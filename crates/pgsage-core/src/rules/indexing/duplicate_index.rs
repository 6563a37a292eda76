use std::collections::BTreeMap;

use crate::report::{ObjectKind, ObjectRef};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::Index;

use super::common::key_items;
use super::index_drops;
use crate::rules::drop_plan::Verdict;

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
    /// **With the other drops.** The audit decides every index drop once (the index-drop
    /// plan shared by IDX001, IDX002, IDX003 and IDX007), so that findings never
    /// contradict each other:
    /// - a copy that is also unused (IDX003) or rarely used (IDX007) is dropped by this
    ///   finding only;
    /// - when the kept copy is itself a leading prefix of a longer index (IDX002), the
    ///   recommendation names the longer index as the one serving the queries; when the
    ///   kept copy is dropped as unused, it says so (both copies go);
    /// - when a foreign key or the workload needs the index, one copy always stays (IDX003
    ///   then reports the kept copy as info, with why it stays).
    ///
    /// The index that serves the queries afterwards is in the evidence (`kept_indexes`).
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
        let plan = super::drop_plan(ctx);
        let mut drafts = Vec::new();
        for (dup, keep) in duplicate_copies(&snap.indexes) {
            match plan.verdict(dup.oid, Self::META.id) {
                Verdict::Drop(_) => {}
                Verdict::Keep(kept) => {
                    drafts.push(index_drops::kept_draft(
                        snap,
                        dup,
                        kept,
                        &format!("duplicates `{}`", keep.name),
                    ));
                    continue;
                }
                Verdict::OtherRule(_) | Verdict::NoDrop => continue,
            }
            // What serves the queries once the plan is applied: the kept copy, or the
            // longer index it is a prefix of when IDX002 drops it too; nothing when it is
            // dropped as unused.
            let survivor = plan
                .survivor(keep.oid)
                .and_then(|oid| snap.indexes.iter().find(|i| i.oid == oid));
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
                .evidence(
                    "kept_indexes",
                    survivor.map(|s| s.qualified_name()).into_iter().collect::<Vec<_>>(),
                )
                .recommend(format!(
                    "Drop `{}`; {}{}",
                    dup.name,
                    match survivor {
                        Some(s) if s.oid == keep.oid => format!("`{}` serves the same queries", keep.name),
                        Some(s) => format!(
                            "`{}` is the same index, and `{}` serves their queries (IDX002 drops `{}` as its leading prefix)",
                            keep.name, s.name, keep.name
                        ),
                        None => format!(
                            "`{}` is the same index, and is dropped too (unused or rarely used: see its own finding)",
                            keep.name
                        ),
                    },
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
    use crate::rules::testing::{assert_fires, assert_quiet, case_findings};

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

    #[test]
    fn names_what_serves_the_queries_once_the_plan_is_applied() {
        // `sale_order_partner_dup` duplicates `sale_order_partner_idx`, which IDX002 drops
        // as a prefix of `sale_order_partner_date_idx`: that one serves the queries.
        let f = case_findings("indexing", "problems", "IDX001");
        let dup = f
            .iter()
            .find(|f| f.object.name == "sale_order_partner_dup")
            .expect("finding");
        assert_eq!(
            dup.evidence["kept_indexes"],
            serde_json::json!(["public.sale_order_partner_date_idx"])
        );
        assert!(
            dup.recommendation.contains("sale_order_partner_date_idx"),
            "{dup:#?}"
        );
        // A copy IDX003 finds unused too is dropped once, here.
        let f = case_findings("indexing", "drop_conflicts", "IDX001");
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(
            f[0].evidence["kept_indexes"],
            serde_json::json!(["public.conflict_tax_order_idx"])
        );
    }
}
