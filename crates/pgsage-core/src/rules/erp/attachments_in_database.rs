use crate::report::{ObjectKind, ObjectRef, Severity};
use crate::rules::erp::common::{facts, odoo};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// Odoo attachments (PDFs, images, imported files: `ir_attachment`) whose content is
    /// stored in the database (`db_datas`) instead of Odoo's filestore, when they add up
    /// to at least `min_bytes`: how many, how much (as stored), their share of the
    /// database, how much was added over the last 30 days, and whether new ones still go
    /// there (the system parameter `ir_attachment.location = db`).
    ///
    /// ## Why it matters
    /// Files in the database are in every backup, every base backup of a new replica,
    /// every restore and every `pg_dump`; each new file is WAL the replicas must replay
    /// (a burst of uploads shows up as replica lag); they live in `ir_attachment`'s TOAST
    /// table, whose size no vacuum gives back. In the filestore (or object storage) they
    /// are plain files, backed up incrementally and served without touching PostgreSQL.
    ///
    /// ## How to fix
    /// In Odoo: Settings → Technical → System Parameters, set `ir_attachment.location` to
    /// `file` (or delete it: `file` is the default), then move the existing files from an
    /// Odoo shell: `env['ir.attachment'].force_storage(); env.cr.commit()`. For object
    /// storage (S3, Azure Blob), OCA's `fs_attachment` module does the same. In
    /// PostgreSQL, the moved files leave dead space in the TOAST table: `VACUUM` makes it
    /// reusable, and only `VACUUM FULL` (an exclusive lock: a maintenance window) or
    /// `pg_repack` (online) gives it back to the disk and shrinks the backups. The
    /// finding carries no SQL fix for `--script`: the statements come after Odoo's steps.
    ///
    /// ## Thresholds
    /// - `min_bytes` (default 1 GiB): stored bytes of attachments in the database below
    ///   which nothing is reported.
    ///
    /// ## References
    /// - <https://www.odoo.com/documentation/17.0/administration/on_premise/deploy.html>
    /// - <https://github.com/OCA/storage/tree/16.0/fs_attachment>
    /// - <https://www.postgresql.org/docs/current/storage-toast.html>
    pub struct AttachmentsInDatabase {
        id: "ERP001",
        name: "attachments-in-database",
        pack: "erp",
        title: "Odoo attachments stored in the database",
        params: {
            min_bytes: f64 = ("bytes", "Attachments stored in the database below this size are not reported"),
        },
    }
}

impl SnapshotRule for AttachmentsInDatabase {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let o = odoo(ctx)?;
        let f = facts(ctx, &o)?;
        let Some(a) = &f.attachments else {
            return Err(Skip::because(format!(
                "the attachment table of {} was not read (see the snapshot's gaps: `odoo tables`)",
                ctx.snapshot.server.database
            )));
        };
        if (a.in_database_bytes as f64) < p.min_bytes {
            return Ok(Vec::new());
        }
        let snap = ctx.snapshot;
        let database_bytes = snap
            .databases
            .iter()
            .find(|d| d.name == snap.server.database)
            .and_then(|d| d.size_bytes)
            .filter(|b| *b > 0);
        let location = f.parameters.get("ir_attachment.location");
        let still_db = location.is_some_and(|l| l == "db");
        let (schema, table) = a.table.split_once('.').unwrap_or(("public", &a.table));
        let share = database_bytes.map(|b| a.in_database_bytes as f64 / b as f64);
        let mut message = format!(
            "{} keeps {} ({}) inside PostgreSQL instead of its filestore{}",
            o.label(),
            units::counted(a.in_database, "attachment", "attachments"),
            units::bytes(a.in_database_bytes),
            share.map_or(String::new(), |s| format!(
                ", {} of the database and of every full backup",
                units::share(s)
            )),
        );
        if a.recent_in_database > 0 {
            message.push_str(&format!(
                "; {} ({}) were added in the last {} days",
                units::count(a.recent_in_database),
                units::bytes(a.recent_in_database_bytes),
                a.recent_days
            ));
        }
        message.push_str(if still_db {
            ", and `ir_attachment.location = db` sends every new file there: every backup, restore and new replica carries them, and every upload is WAL the replicas replay"
        } else {
            ": every backup, restore and new replica carries them (new files already go to the filestore)"
        });
        let erp_side = if still_db {
            "In Odoo, set the system parameter `ir_attachment.location` to `file` (Settings → Technical → System Parameters), then move the existing files from an Odoo shell: `env['ir.attachment'].force_storage(); env.cr.commit()` (OCA `fs_attachment` for object storage)"
        } else {
            "Move the remaining files out from an Odoo shell: `env['ir.attachment'].force_storage(); env.cr.commit()` (OCA `fs_attachment` for object storage)"
        };
        let name = crate::sql::qualified(schema, table);
        let mut d = Draft::new(
            ObjectRef::in_schema(ObjectKind::Table, &snap.server.database, schema, table),
            message,
        )
        .severity(Severity::Warning)
        .evidence("attachments_in_database", a.in_database)
        .evidence("attachments_in_database_bytes", a.in_database_bytes)
        .evidence("attachments_in_filestore", a.in_filestore)
        .evidence("recent_days", a.recent_days)
        .evidence("recent_attachments_in_database", a.recent_in_database)
        .evidence("recent_attachments_in_database_bytes", a.recent_in_database_bytes)
        .evidence(
            "ir_attachment_location",
            location.map_or("(not set: file)", String::as_str),
        )
        // No SQL fix in the script: nothing in PostgreSQL helps before Odoo has moved the
        // files, so the statements come after the Odoo steps, in the recommendation.
        .recommend(format!(
            "{erp_side}; then, in PostgreSQL, `VACUUM (ANALYZE) {name};` so the space is reused, and give it back to the disk (and the backups) with `VACUUM FULL {name};` in a maintenance window (an ACCESS EXCLUSIVE lock) or pg_repack online"
        ));

        if let Some(b) = database_bytes {
            d = d.evidence("database_bytes", b);
        }
        if let Some(t) = snap
            .tables
            .iter()
            .find(|t| t.schema == schema && t.name == table)
        {
            d = d.evidence("toast_bytes", t.toast_bytes);
        }
        Ok(vec![d])
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_files_stored_in_the_database() {
        assert_fires("ERP001", "public.ir_attachment");
    }

    #[test]
    fn quiet_when_files_are_in_the_filestore() {
        assert_quiet("ERP001");
    }
}
