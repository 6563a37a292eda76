use crate::report::{ObjectKind, ObjectRef, Severity};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::{Index, Snapshot, Table};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// Tables without a primary key: ordinary tables with at least `min_table_rows` rows,
    /// and partitioned tables (reported once, on the parent: partitions inherit the
    /// parent's primary key, so a partition is never reported on its own). Temporary
    /// tables and materialized views are left out. When a unique index on `NOT NULL`
    /// columns already exists, the finding is info and the fix promotes it.
    ///
    /// ## Why it matters
    /// Logical replication (and what is built on it: major-version upgrades by
    /// replication, change data capture such as Debezium) cannot replicate `UPDATE` and
    /// `DELETE` on a published table without a primary key or a `REPLICA IDENTITY`: they
    /// fail on the publisher. Without a key, duplicate rows creep in, ORMs cannot address single rows,
    /// and tools such as `pg_repack` refuse the table.
    ///
    /// ## How to fix
    /// Promote an existing unique index on `NOT NULL` columns:
    /// `ALTER TABLE … ADD CONSTRAINT … PRIMARY KEY USING INDEX …` (brief lock, no
    /// rewrite). Otherwise add a key: `ALTER TABLE … ADD PRIMARY KEY (id)` on a unique,
    /// non-null column (it builds the index under an ACCESS EXCLUSIVE lock; build it first
    /// with `CREATE UNIQUE INDEX CONCURRENTLY` and promote it), or add an identity column
    /// (`ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY`, which rewrites
    /// the table).
    ///
    /// A partitioned table is different: PostgreSQL refuses `CREATE INDEX CONCURRENTLY`
    /// and `ADD PRIMARY KEY USING INDEX` on it, and its key must include the partition
    /// key's columns (`id` becomes `(id, created)`). The fix builds the key on each leaf
    /// partition with `CREATE UNIQUE INDEX CONCURRENTLY` and promotes it there, then
    /// `ALTER TABLE parent ADD PRIMARY KEY (id, created)` attaches those instead of
    /// building an index (a brief ACCESS EXCLUSIVE lock). Above 20 partitions it is the
    /// single `ALTER TABLE … ADD PRIMARY KEY`, which builds every partition's index under
    /// that lock, with the online route said in a comment. Without an `id` column one is
    /// added (an identity column on 17+, `bigserial` before: an identity column cannot be
    /// added to a table with partitions there), rewriting every partition. When the
    /// partition key is an expression, the parent cannot have a primary key: each
    /// partition gets its own, which is what logical replication uses, and once they all
    /// have one the parent is no longer reported.
    ///
    /// ## Thresholds
    /// - `min_table_rows` (default 100): ignore smaller ordinary tables (empty staging or
    ///   configuration tables).
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/ddl-constraints.html#DDL-CONSTRAINTS-PRIMARY-KEYS>
    /// - <https://www.postgresql.org/docs/current/logical-replication-publication.html>
    /// - <https://www.postgresql.org/docs/current/sql-altertable.html#SQL-ALTERTABLE-DESC-ADD-TABLE-CONSTRAINT-USING-INDEX>
    pub struct TableWithoutPrimaryKey {
        id: "SCH003",
        name: "table-without-primary-key",
        pack: "schema",
        title: "Table without a primary key",
        params: {
            min_table_rows: f64 = ("rows", "Ignore ordinary tables with fewer rows than this"),
        },
    }
}

/// A unique, plain, non-partial btree index whose columns are all `NOT NULL`: a primary
/// key in all but name.
fn promotable_index<'a>(snap: &'a Snapshot, t: &Table) -> Option<&'a Index> {
    snap.indexes
        .iter()
        .filter(|i| {
            i.table_oid == t.oid
                && i.is_valid
                && i.is_unique
                && i.access_method == "btree"
                && i.predicate.is_none()
                && i.include_columns.is_empty()
                && !i.key_attnums.contains(&0)
                && i.key_attnums.iter().all(|a| {
                    snap.columns
                        .iter()
                        .any(|c| c.table_oid == t.oid && c.attnum == *a && c.not_null)
                })
        })
        .min_by_key(|i| (i.key_attnums.len(), i.size_bytes))
}

/// The fix and recommendation for an ordinary table: promote the unique index, or build
/// `id`'s concurrently and promote it, or add an identity column.
fn ordinary_table_key(t: &Table, promotable: Option<&Index>, has_id: bool) -> (String, String) {
    let name = t.qualified_name();
    match promotable {
        Some(i) => {
            let pkey = crate::sql::quote_ident(&format!("{}_pkey", t.name));
            let fix = match &i.constraint_name {
                // An index behind a UNIQUE constraint cannot be promoted: build a
                // twin concurrently, promote it, drop the unique constraint.
                Some(c) => format!(
                    "CREATE UNIQUE INDEX CONCURRENTLY {pkey} ON {name} ({});\nALTER TABLE {name} ADD CONSTRAINT {pkey} PRIMARY KEY USING INDEX {pkey};\nALTER TABLE {name} DROP CONSTRAINT {};",
                    i.key_columns.iter().map(|c| crate::sql::quote_ident(c)).collect::<Vec<_>>().join(", "),
                    crate::sql::quote_ident(c)
                ),
                None => format!(
                    "ALTER TABLE {name} ADD CONSTRAINT {pkey} PRIMARY KEY USING INDEX {};",
                    crate::sql::quote_ident(&i.name)
                ),
            };
            (
                fix,
                format!(
                    "Make the unique key `{}` ({}) the primary key",
                    i.name,
                    i.key_columns.join(", ")
                ),
            )
        }
        None if has_id => (
            format!(
                "-- fails if id has NULLs or duplicates\nCREATE UNIQUE INDEX CONCURRENTLY {idx} ON {name} (id);\nALTER TABLE {name} ADD CONSTRAINT {idx} PRIMARY KEY USING INDEX {idx};",
                idx = crate::sql::quote_ident(&format!("{}_pkey", t.name))
            ),
            "Make the `id` column the primary key (build its unique index concurrently, then promote it)".to_owned(),
        ),
        None => (
            format!(
                "-- rewrites the table under an ACCESS EXCLUSIVE lock\nALTER TABLE {name} ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY;"
            ),
            "Add a primary key: a natural unique key of the rows, or a bigint identity column".to_owned(),
        ),
    }
}

impl SnapshotRule for TableWithoutPrimaryKey {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min_rows = p.min_table_rows;
        let snap = ctx.snapshot;
        let mut drafts = Vec::new();
        for t in snap.tables.iter().filter(|t| {
            !t.has_primary_key
                && !t.is_partition
                && t.persistence != "t"
                && matches!(t.kind.as_str(), "r" | "p")
        }) {
            let rows = t.reltuples.max(t.n_live_tup as f64).max(0.0);
            if (t.kind == "r" && rows < min_rows)
                || (t.kind == "p" && super::partitioned_key::keyed_per_partition(snap, t))
            {
                continue;
            }
            let promotable = promotable_index(snap, t);
            let has_id = snap
                .columns
                .iter()
                .any(|c| c.table_oid == t.oid && c.name == "id");
            let (fix, recommendation) = if t.kind == "p" {
                let advice = super::partitioned_key::advise(snap, t, promotable, has_id);
                (advice.fix, advice.recommendation)
            } else {
                let (fix, recommendation) = ordinary_table_key(t, promotable, has_id);
                (Some(fix), recommendation)
            };
            let mut draft = Draft::new(
                ObjectRef::in_schema(ObjectKind::Table, &snap.server.database, &t.schema, &t.name),
                format!(
                    "`{}`{} has no primary key{}: logical replication cannot replicate its updates and deletes{}",
                    t.name,
                    if t.kind == "p" {
                        match &t.partition_key {
                            Some(k) => format!(" (partitioned by {k})"),
                            None => " (partitioned)".to_owned(),
                        }
                    } else { format!(" ({} rows)", units::count(rows)) },
                    match promotable {
                        Some(i) => format!(" (unique index `{}` on NOT NULL columns could be one)", i.name),
                        None => String::new(),
                    },
                    if promotable.is_some() {
                        ""
                    } else {
                        ", and nothing prevents duplicate rows or lets a single row be addressed"
                    }
                ),
            )
            .evidence("table_rows", rows.round())
            .evidence("table_bytes", t.heap_bytes)
            .evidence("kind", t.kind.clone())
            .evidence("promotable_unique_index", promotable.map(|i| i.name.clone()).unwrap_or_default())
            .recommend(recommendation);
            if let Some(fix) = fix {
                draft = draft.fix(
                    fix,
                    "none",
                    "replication errors; the new constraint in pg_constraint",
                );
            }
            if promotable.is_some() {
                draft = draft.severity(Severity::Info);
            }
            drafts.push(draft);
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_a_table_without_key() {
        assert_fires("SCH003", "public.stock_move_history");
    }

    /// PostgreSQL refuses CREATE INDEX CONCURRENTLY and ADD PRIMARY KEY USING INDEX on a
    /// partitioned table, and a key without the partition key's columns: the parent's fix
    /// uses neither, and its key includes the partition key (the statements are run on
    /// real servers by `crates/pgsage/tests/schema_fixes.rs`).
    #[test]
    fn a_partitioned_tables_fix_is_one_postgresql_accepts() {
        let findings = assert_fires("SCH003", "public.mail_message");
        let partitioned: Vec<_> = findings
            .iter()
            .filter(|f| f.evidence["kind"] == "p")
            .collect();
        assert!(partitioned.len() >= 3, "{findings:#?}");
        for f in partitioned {
            let parent = format!("public.{}", f.object.name);
            let sql = f.fix.as_ref().map(|x| x.sql.as_str()).unwrap_or_default();
            for line in sql.lines().filter(|l| !l.starts_with("--")) {
                let concurrently_on_parent =
                    line.contains("CONCURRENTLY") && line.contains(&format!(" ON {parent} "));
                let promoted_on_parent = line.contains(&format!("ALTER TABLE {parent} "))
                    && line.contains("USING INDEX");
                assert!(!concurrently_on_parent && !promoted_on_parent, "{sql}");
            }
        }
        let mail = findings
            .iter()
            .find(|f| f.object.name == "mail_message")
            .and_then(|f| f.fix.as_ref())
            .map(|x| x.sql.clone())
            .unwrap_or_default();
        assert!(
            mail.contains("ALTER TABLE public.mail_message ADD PRIMARY KEY (id, created);")
                && mail.contains("ON public.mail_message_2026_1 (id, created);"),
            "{mail}"
        );
    }

    #[test]
    fn quiet_on_keyed_small_and_partition_tables() {
        assert_quiet("SCH003");
    }
}
