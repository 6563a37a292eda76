use crate::report::{ObjectKind, ObjectRef};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::{Snapshot, Table};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// Tables that store files in `bytea` columns: their TOAST data is at least
    /// `min_toast_bytes` and at least `min_toast_share_pct` of the table's total size
    /// (heap, TOAST and indexes), and they have a `bytea` column. The typical case is an
    /// ERP attachment table kept in the database (Odoo's `ir_attachment.db_datas`).
    /// Tables whose TOAST holds text or JSON documents are not flagged.
    ///
    /// ## Why it matters
    /// Files in the database make it large for no query benefit: every base backup, every
    /// `pg_dump` and restore, every new replica copies them; they inflate WAL and I/O when
    /// written, crowd the buffer cache when read, and make upgrades and restores slower
    /// — often by an order of magnitude, since attachments outgrow the business data.
    ///
    /// ## How to fix
    /// Keep files in object storage or on a file store and only their reference in the
    /// table. For Odoo, set the system parameter `ir_attachment.location` to `file` and
    /// move existing attachments out (`env['ir.attachment'].force_storage()` from an Odoo
    /// shell), then `VACUUM FULL` or `pg_repack` the table in a maintenance window to give
    /// the space back. Other applications: store the files in S3-compatible storage and
    /// keep the key in a text column. Watch the table's TOAST size afterwards.
    ///
    /// ## Thresholds
    /// - `min_toast_bytes` (default 1073741824, 1 GB): ignore tables with less TOAST data.
    /// - `min_toast_share_pct` (default 50): share of the table's total size that TOAST
    ///   must reach, in %.
    ///
    /// Needs the column list of the snapshot (`columns`); skipped when it was not collected.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/storage-toast.html>
    /// - <https://www.postgresql.org/docs/current/datatype-binary.html>
    /// - <https://wiki.postgresql.org/wiki/BinaryFilesInDB>
    pub struct BinaryDataInTables {
        id: "STO001",
        name: "binary-data-in-tables",
        pack: "storage",
        title: "Files stored in the database",
        params: {
            min_toast_bytes: f64 = ("bytes", "Ignore tables with less TOAST data than this"),
            min_toast_share_pct: f64 = ("%", "Share of the table's total size held in TOAST that warns"),
        },
    }
}

/// Total size: heap, TOAST and indexes.
pub(crate) fn total_bytes(t: &Table) -> i64 {
    t.heap_bytes + t.toast_bytes + t.indexes_bytes
}

/// The `bytea` columns of `t`.
fn bytea_columns<'a>(snap: &'a Snapshot, t: &Table) -> Vec<&'a str> {
    snap.columns
        .iter()
        .filter(|c| c.table_oid == t.oid && c.data_type == "bytea")
        .map(|c| c.name.as_str())
        .collect()
}

/// Whether the TOAST part of `t` is large enough to flag.
fn toast_heavy(t: &Table, min_bytes: f64, min_share_pct: f64) -> bool {
    let total = total_bytes(t) as f64;
    let toast = t.toast_bytes as f64;
    total > 0.0 && toast >= min_bytes && 100.0 * toast / total >= min_share_pct
}

impl SnapshotRule for BinaryDataInTables {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min_bytes = p.min_toast_bytes;
        let min_share = p.min_toast_share_pct;
        let snap = ctx.snapshot;
        if snap.columns.is_empty() && !snap.tables.is_empty() {
            return Err(Skip::because(
                "the snapshot has no column list (collected by an older pgsage): bytea columns cannot be recognised",
            ));
        }
        let mut drafts = Vec::new();
        for t in snap.tables.iter().filter(|t| t.kind != "p") {
            if !toast_heavy(t, min_bytes, min_share) {
                continue;
            }
            let cols = bytea_columns(snap, t);
            if cols.is_empty() {
                continue;
            }
            let total = total_bytes(t);
            let share = 100.0 * t.toast_bytes as f64 / total as f64;
            let odoo = t.name == "ir_attachment";
            let recommendation = if odoo {
                "Move attachments to the filestore: set the system parameter ir_attachment.location = 'file', run env['ir.attachment'].force_storage() from an Odoo shell, then VACUUM FULL (or pg_repack) the table in a maintenance window to return the space"
            } else {
                "Store the files in object storage (S3-compatible) or on a file store and keep only their key in the table; then VACUUM FULL (or pg_repack) it in a maintenance window to return the space"
            };
            drafts.push(
                Draft::new(
                    ObjectRef::in_schema(ObjectKind::Table, &snap.server.database, &t.schema, &t.name),
                    format!(
                        "`{}` holds {} of out-of-line (TOAST) data, {} of its {}, in bytea column{} {}: files stored in the database",
                        t.name,
                        units::bytes(t.toast_bytes),
                        units::percent(share),
                        units::bytes(total),
                        if cols.len() == 1 { "" } else { "s" },
                        cols.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
                    ),
                )
                .evidence("toast_bytes", t.toast_bytes)
                .evidence("heap_bytes", t.heap_bytes)
                .evidence("indexes_bytes", t.indexes_bytes)
                .evidence("total_bytes", total)
                .evidence("toast_share_pct", (share * 10.0).round() / 10.0)
                .evidence("bytea_columns", cols.join(","))
                .evidence("n_live_tup", t.n_live_tup)
                .recommend(recommendation),
            );
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_attachments_in_bytea() {
        let f = assert_fires("STO001", "public.ir_attachment");
        assert!(f.iter().all(|f| f.object.name == "ir_attachment"));
    }

    #[test]
    fn quiet_on_small_rows_and_text_documents() {
        assert_quiet("STO001");
    }
}
