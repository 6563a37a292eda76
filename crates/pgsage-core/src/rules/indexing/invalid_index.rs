use crate::report::{ObjectKind, ObjectRef};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::{Index, Snapshot};
use crate::units;

use super::common::table_by_oid;

declare_rule! {
    /// ## What it detects
    /// Indexes marked invalid (`pg_index.indisvalid = false`): left behind by a failed or
    /// cancelled `CREATE INDEX CONCURRENTLY` (e.g. a unique index over duplicate keys), by
    /// a failed `REINDEX CONCURRENTLY` (names ending in `_ccnew` or `_ccold`), or an index
    /// of a partitioned table created with `ON ONLY` whose partitions' indexes are not all
    /// attached yet. An index being built right now is invalid too: those whose build is
    /// visible in `pg_stat_activity` are not reported.
    ///
    /// ## Why it matters
    /// The planner never uses an invalid index, yet it is usually still updated on every
    /// write and takes space: all cost, no benefit. An invalid unique index may also
    /// still reject inserts while not being a usable constraint. A missing index the
    /// application expects means slow queries.
    ///
    /// ## How to fix
    /// Drop it with `DROP INDEX CONCURRENTLY` and build it again with
    /// `CREATE INDEX CONCURRENTLY` (or `REINDEX INDEX CONCURRENTLY`, PostgreSQL 12+). For
    /// a unique index, remove the duplicate keys first or the build fails again. A
    /// `_ccnew`/`_ccold` leftover of `REINDEX CONCURRENTLY` only needs the drop: the
    /// original index is still there. For an index of a partitioned table, create the
    /// missing indexes on the partitions and attach them with
    /// `ALTER INDEX … ATTACH PARTITION …`; the parent becomes valid once all are attached.
    ///
    /// ## Thresholds
    /// None.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY>
    /// - <https://www.postgresql.org/docs/current/sql-reindex.html#SQL-REINDEX-CONCURRENTLY>
    /// - <https://www.postgresql.org/docs/current/ddl-partitioning.html#DDL-PARTITIONING-DECLARATIVE-MAINTENANCE>
    pub struct InvalidIndex {
        id: "IDX004",
        name: "invalid-index",
        pack: "indexing",
        title: "Invalid index",
        params: {},
    }
}

/// What left the index invalid, which decides the fix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    /// A failed `CREATE INDEX CONCURRENTLY`.
    FailedBuild,
    /// A leftover of a failed `REINDEX CONCURRENTLY`.
    ReindexLeftover,
    /// An index of a partitioned table not attached on every partition.
    PartitionedIncomplete,
}

fn cause(snap: &Snapshot, i: &Index) -> Cause {
    let partitioned = table_by_oid(snap, i.table_oid).is_some_and(|t| t.kind == "p");
    let trimmed = i.name.trim_end_matches(|c: char| c.is_ascii_digit());
    if partitioned {
        Cause::PartitionedIncomplete
    } else if trimmed.ends_with("_ccnew") || trimmed.ends_with("_ccold") {
        Cause::ReindexLeftover
    } else {
        Cause::FailedBuild
    }
}

/// Whether a visible session is building or reindexing this index now.
fn being_built(snap: &Snapshot, i: &Index) -> bool {
    snap.activity.iter().any(|b| {
        b.state.as_deref() == Some("active")
            && b.query.as_deref().is_some_and(|q| {
                let q = q.to_ascii_lowercase();
                (q.contains("create") || q.contains("reindex"))
                    && q.contains("index")
                    && (q.contains(&i.name.to_ascii_lowercase())
                        || q.contains(&i.table.to_ascii_lowercase()))
            })
    })
}

/// The `CREATE INDEX` statement rebuilding `i` without blocking writes.
fn concurrent_definition(definition: &str) -> String {
    for prefix in ["CREATE UNIQUE INDEX ", "CREATE INDEX "] {
        if let Some(rest) = definition.strip_prefix(prefix) {
            return format!("{prefix}CONCURRENTLY {rest}");
        }
    }
    definition.to_owned()
}

impl SnapshotRule for InvalidIndex {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let snap = ctx.snapshot;
        let mut drafts = Vec::new();
        for i in snap
            .indexes
            .iter()
            .filter(|i| !i.is_valid && !being_built(snap, i))
        {
            let cause = cause(snap, i);
            let name = i.qualified_name();
            let (what, recommendation, fix) = match cause {
                Cause::FailedBuild => (
                    "a failed or cancelled CREATE INDEX CONCURRENTLY",
                    if i.is_unique {
                        format!("Remove the duplicate keys of `{}` first (the unique build fails on them), then drop and rebuild the index", i.table)
                    } else {
                        "Drop the invalid index and build it again concurrently".to_owned()
                    },
                    format!("DROP INDEX CONCURRENTLY {name};\n{};", concurrent_definition(&i.definition)),
                ),
                Cause::ReindexLeftover => (
                    "a leftover of a failed REINDEX CONCURRENTLY",
                    "Drop the leftover; the original index is still in place".to_owned(),
                    format!("DROP INDEX CONCURRENTLY {name};"),
                ),
                Cause::PartitionedIncomplete => (
                    "an index of a partitioned table not yet attached on every partition",
                    "Create the matching index on each partition that lacks one (CONCURRENTLY) and attach it; the parent index becomes valid when all partitions have one".to_owned(),
                    format!(
                        "-- for each partition without a matching index:\nCREATE INDEX CONCURRENTLY <partition_index> ON <partition> (…);\nALTER INDEX {name} ATTACH PARTITION <partition_index>;"
                    ),
                ),
            };
            drafts.push(
                Draft::new(
                    ObjectRef::in_schema(ObjectKind::Index, &snap.server.database, &i.schema, &i.name),
                    if cause == Cause::PartitionedIncomplete {
                        format!(
                            "`{}` on `{}` is invalid ({what}): queries on the partitions lacking it get no index",
                            i.name, i.table
                        )
                    } else {
                        format!(
                            "`{}` on `{}` is invalid ({what}): the planner never uses it, yet it may still be updated on every write ({})",
                            i.name,
                            i.table,
                            units::bytes(i.size_bytes)
                        )
                    },
                )
                .evidence("is_valid", false)
                .evidence("is_unique", i.is_unique)
                .evidence("size_bytes", i.size_bytes)
                .evidence("definition", i.definition.clone())
                .recommend(recommendation)
                .fix(fix, "none", "pg_index.indisvalid of the rebuilt index"),
            );
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use super::concurrent_definition;
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_a_failed_concurrent_build() {
        let f = assert_fires("IDX004", "public.partner_contact_vat_key");
        let vat = f
            .iter()
            .find(|f| f.object.name == "partner_contact_vat_key")
            .expect("present");
        assert!(vat
            .fix
            .as_ref()
            .expect("present")
            .sql
            .contains("CREATE UNIQUE INDEX CONCURRENTLY"));
    }

    #[test]
    fn fires_on_a_partitioned_index_waiting_for_its_partitions() {
        let f = assert_fires("IDX004", "public.partner_log_date_idx");
        let log = f
            .iter()
            .find(|f| f.object.name == "partner_log_date_idx")
            .expect("present");
        assert!(log
            .fix
            .as_ref()
            .expect("present")
            .sql
            .contains("ATTACH PARTITION"));
    }

    #[test]
    fn quiet_on_valid_indexes() {
        assert_quiet("IDX004");
    }

    #[test]
    fn rebuild_is_concurrent() {
        assert_eq!(
            concurrent_definition("CREATE UNIQUE INDEX k ON public.t USING btree (a)"),
            "CREATE UNIQUE INDEX CONCURRENTLY k ON public.t USING btree (a)"
        );
        assert_eq!(
            concurrent_definition("CREATE INDEX k ON public.t USING btree (a)"),
            "CREATE INDEX CONCURRENTLY k ON public.t USING btree (a)"
        );
    }
}
