use crate::report::{ObjectKind, ObjectRef, Severity};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::{ForeignKey, Table};
use crate::units;

use super::common::{index_covers_fk, table_by_name, table_by_oid, table_delta, table_rows};

declare_rule! {
    /// ## What it detects
    /// Foreign keys whose referencing columns have no index: no valid index whose leading
    /// key columns are exactly the foreign key's columns (in any order; a hash index for a
    /// single column; a partial index only if its predicate just excludes NULLs). Tables
    /// with fewer than `min_table_rows` rows are ignored. Findings are ranked by what makes
    /// the missing index hurt: deletes and updates on the referenced table (each one looks
    /// up the referencing rows) and the referencing table's size.
    ///
    /// ## Why it matters
    /// Each `DELETE` of a referenced row, and each update of its key, makes PostgreSQL look
    /// for referencing rows (to reject, cascade or set null): without an index, that is a
    /// sequential scan of the whole referencing table per row, under a lock. A nightly
    /// purge of 10 000 orders then reads the order lines table 10 000 times. Joins from
    /// the parent to its children suffer the same way.
    ///
    /// ## How to fix
    /// Create the index without blocking writes: `CREATE INDEX CONCURRENTLY ON child
    /// (fk_columns)`. Watch the referencing table's `seq_scan` and the duration of deletes
    /// on the referenced table.
    ///
    /// The audit never proposes to drop the index a foreign key had: IDX001, IDX002,
    /// IDX003 and IDX007 share one index-drop plan, which keeps one index per foreign key
    /// (reported as info by the rule that would have dropped it, with the reason). So
    /// applying the audit's fixes never creates this finding.
    ///
    /// When the application's statements filter on the key's columns and IDX009
    /// (`missing-index`) recommends an index that leads with them, the key is left to
    /// IDX009: that index serves the foreign key checks too, and one fix is one finding.
    ///
    /// ## Thresholds
    /// - `min_table_rows` (default 10000): ignore referencing tables with fewer rows.
    /// - `warning_parent_writes` (default 1): deletes + updates on the referenced table
    ///   over the basis from which the finding is a warning; below, it is info (the index
    ///   is needed as soon as rows are deleted).
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-FK>
    /// - <https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY>
    pub struct UnindexedForeignKey {
        id: "IDX005",
        name: "unindexed-foreign-key",
        pack: "indexing",
        title: "Foreign key without an index",
        params: {
            min_table_rows: f64 = ("rows", "Ignore referencing tables with fewer rows than this"),
            warning_parent_writes: f64 = ("rows", "Deletes + updates on the referenced table (over the basis) from which it warns"),
        },
    }
}

/// Whether a foreign key lacks a supporting index on its table.
pub(crate) fn unindexed(snap: &crate::snapshot::Snapshot, fk: &ForeignKey) -> bool {
    !snap.indexes.iter().any(|i| index_covers_fk(i, fk))
}

fn index_name(fk: &ForeignKey) -> String {
    let mut name = format!("{}_{}_idx", fk.table, fk.columns.join("_"));
    if name.len() > 63 {
        let mut end = 63;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name.truncate(end);
    }
    name
}

/// Whether an index on `keys` serves a foreign key on `fk_columns`: its first keys are
/// the key's columns, in any order (the check looks them all up by equality).
fn leads_with(keys: &[String], fk_columns: &[String]) -> bool {
    keys.len() >= fk_columns.len()
        && fk_columns
            .iter()
            .all(|c| keys[..fk_columns.len()].contains(c))
}

impl SnapshotRule for UnindexedForeignKey {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min_rows = p.min_table_rows;
        let warn_writes = p.warning_parent_writes;
        let snap = ctx.snapshot;
        let basis = ctx.basis();
        // Keys an index IDX009 recommends would serve are its finding, not ours.
        let advised = super::missing_index::advised_indexes(ctx);
        let mut ranked: Vec<(i64, i64, Draft)> = Vec::new();
        for fk in snap.foreign_keys.iter().filter(|fk| unindexed(snap, fk)) {
            if advised.iter().any(|a| {
                a.schema == fk.schema && a.table == fk.table && leads_with(&a.columns, &fk.columns)
            }) {
                continue;
            }
            let Some(child) = table_by_oid(snap, fk.table_oid) else {
                continue;
            };
            // A partitioned table's foreign key is checked on each partition, where its
            // clone is reported with the partition's own indexes.
            if child.kind == "p" {
                continue;
            }
            let rows = table_rows(child);
            if rows < min_rows {
                continue;
            }
            let parent = table_by_name(snap, &fk.ref_schema, &fk.ref_table);
            let deletes = parent.map_or(0, |p| table_delta(ctx, p, |t: &Table| t.n_tup_del));
            let updates = parent.map_or(0, |p| table_delta(ctx, p, |t: &Table| t.n_tup_upd));
            let cols: Vec<String> = fk
                .columns
                .iter()
                .map(|c| crate::sql::quote_ident(c))
                .collect();
            let sql = format!(
                "CREATE INDEX CONCURRENTLY {} ON {} ({});",
                crate::sql::quote_ident(&index_name(fk)),
                crate::sql::qualified(&fk.schema, &fk.table),
                cols.join(", ")
            );
            let parent_writes = deletes + updates;
            let draft = Draft::new(
                ObjectRef::in_schema(ObjectKind::Constraint, &snap.server.database, &fk.schema, &fk.name),
                format!(
                    "Foreign key `{}` on `{}` ({}) → `{}` has no index on the referencing columns: each delete or key update on `{}` scans `{}` (~{} rows, {}); `{}` had {} deletes and {} updates ({})",
                    fk.name,
                    fk.table,
                    fk.columns.join(", "),
                    fk.ref_table,
                    fk.ref_table,
                    fk.table,
                    units::count(rows),
                    units::bytes(child.heap_bytes),
                    fk.ref_table,
                    units::count(deletes),
                    units::count(updates),
                    basis.label().replace('_', " ")
                ),
            )
            .severity(if parent_writes as f64 >= warn_writes { Severity::Warning } else { Severity::Info })
            .evidence("table", child.qualified_name())
            .evidence("columns", fk.columns.join(", "))
            .evidence("referenced_table", crate::sql::qualified(&fk.ref_schema, &fk.ref_table))
            .evidence("referencing_rows", rows.round())
            .evidence("referencing_bytes", child.heap_bytes)
            .evidence("referenced_deletes", deletes)
            .evidence("referenced_updates", updates)
            .evidence("referencing_seq_scan", table_delta(ctx, child, |t: &Table| t.seq_scan))
            .evidence("basis", basis.label())
            .evidence("window_s", basis.seconds().round())
            .recommend(format!(
                "Index `{}` ({}) so that deletes on `{}` and joins from it use the index",
                fk.table,
                fk.columns.join(", "),
                fk.ref_table
            ))
            .fix(sql, "none", &format!("seq_scan on `{}` and the duration of deletes on `{}`", fk.table, fk.ref_table));
            ranked.push((parent_writes, child.heap_bytes, draft));
        }
        ranked.sort_by_key(|r| std::cmp::Reverse((r.0, r.1)));
        Ok(ranked.into_iter().map(|(_, _, d)| d).collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn an_index_leading_with_the_key_columns_serves_it() {
        let v = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(super::leads_with(&v(&["lot_id"]), &v(&["lot_id"])));
        assert!(super::leads_with(&v(&["b", "a", "c"]), &v(&["a", "b"])));
        assert!(!super::leads_with(&v(&["c", "a", "b"]), &v(&["a", "b"])));
        assert!(!super::leads_with(&v(&["a"]), &v(&["a", "b"])));
    }

    #[test]
    fn fires_on_a_foreign_key_without_index() {
        let f = assert_fires("IDX005", "public.sale_order_line_order_id_fkey");
        assert!(f[0]
            .fix
            .as_ref()
            .expect("present")
            .sql
            .starts_with("CREATE INDEX CONCURRENTLY"));
    }

    #[test]
    fn quiet_on_indexed_and_small_foreign_keys() {
        assert_quiet("IDX005");
    }
}
