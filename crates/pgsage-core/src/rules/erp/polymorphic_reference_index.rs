use crate::knowledge::odoo::{MODEL_COLUMNS, RECORD_ID_COLUMN};
use crate::report::{ObjectKind, ObjectRef, Severity};
use crate::rules::erp::common::odoo;
use crate::rules::indexing::{index_advice, table_delta};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::{Snapshot, Table};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// An Odoo table with a polymorphic reference — a model name (`res_model` or
    /// `model`) and a record id (`res_id`), as the chatter (`mail_message`), followers,
    /// attachments and activities have — without an index that starts with the pair,
    /// when the workload shows the cost: the index advisor (IDX009) recommends an index
    /// led by the pair for the workload's statements; or, when it has no statements to
    /// advise on (no pg_stat_statements), the table is at least `min_table_bytes` and is
    /// scanned whole at least `min_seq_scans` times.
    ///
    /// ## Why it matters
    /// Odoo reads these tables by (model, id) for every form it opens: the messages, the
    /// followers and the attachment count of the record. Without the index each of those
    /// reads scans the whole table — on a three-year-old database, millions of rows per
    /// form. Odoo creates the index itself, so its absence means it was lost (a failed
    /// migration or restore, a manual drop).
    ///
    /// ## How to fix
    /// `CREATE INDEX CONCURRENTLY` on (model column, `res_id`): the advisor's statement
    /// when it has one (same index, so one action), else pgsage's. Odoo side: nothing to
    /// change; if a later module upgrade (`-u`) recreates the index under Odoo's own name,
    /// drop the duplicate.
    ///
    /// ## Thresholds
    /// - `min_table_bytes` (default 100 MiB) and `min_seq_scans` (default 100): without
    ///   statements to advise on, smaller or rarely scanned tables are not reported.
    ///
    /// ## References
    /// - <https://github.com/odoo/odoo/blob/17.0/addons/mail/models/mail_message.py>
    /// - <https://www.postgresql.org/docs/current/sql-createindex.html#SQL-CREATEINDEX-CONCURRENTLY>
    pub struct PolymorphicReferenceIndex {
        id: "ERP003",
        name: "polymorphic-reference-index",
        pack: "erp",
        title: "Odoo polymorphic reference without its index",
        params: {
            min_table_bytes: f64 = ("bytes", "Without statements to advise on: smaller tables are not reported"),
            min_seq_scans: f64 = ("scans", "Without statements to advise on: tables scanned fewer times are not reported"),
        },
    }
}

/// What Odoo reads the table for, for the message.
fn purpose(table: &str) -> &'static str {
    match table {
        "mail_message" => "the chatter shown under every record",
        "mail_followers" => "the followers of every record, checked on every message posted",
        "ir_attachment" => "the attachments of every record (the paperclip on each form)",
        "mail_activity" => "the activities of every record",
        "mail_notification" => "the notifications of every message",
        _ => "the rows of any record of any model",
    }
}

/// The model column of a polymorphic reference in `t`, if it has one with `res_id`.
fn model_column<'s>(snap: &'s Snapshot, t: &Table) -> Option<&'s str> {
    let has = |name: &str| {
        snap.columns
            .iter()
            .any(|c| c.table_oid == t.oid && c.name == name)
    };
    if !has(RECORD_ID_COLUMN) {
        return None;
    }
    MODEL_COLUMNS
        .iter()
        .copied()
        .find(|m| has(m))
        .and_then(|m| {
            snap.columns
                .iter()
                .find(|c| c.table_oid == t.oid && c.name == m)
                .map(|c| c.name.as_str())
        })
}

/// Whether `columns` starts with the pair, in either order.
fn led_by_pair(columns: &[String], model: &str) -> bool {
    matches!(columns, [a, b, ..]
        if (a == model && b == RECORD_ID_COLUMN) || (a == RECORD_ID_COLUMN && b == model))
}

impl SnapshotRule for PolymorphicReferenceIndex {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let o = odoo(ctx)?;
        let snap = ctx.snapshot;
        let advice = index_advice(ctx);
        let mut drafts = Vec::new();
        for t in snap
            .tables
            .iter()
            .filter(|t| t.schema == o.recognition.schema && t.kind == "r")
        {
            let Some(model) = model_column(snap, t) else {
                continue;
            };
            let indexed = snap.indexes.iter().any(|i| {
                i.table_oid == t.oid
                    && i.is_valid
                    && i.predicate.is_none()
                    && led_by_pair(&i.key_columns, model)
            });
            if indexed {
                continue;
            }
            let name = t.qualified_name();
            let rows = t.reltuples.max(t.n_live_tup as f64).max(0.0);
            let seq_scans = table_delta(ctx, t, |t| t.seq_scan);
            let (create, why) = match &advice {
                // IDX009 has the workload's statements: follow its verdict on the table.
                Some(advised) => {
                    let Some(a) = advised.iter().find(|a| {
                        a.schema == t.schema && a.table == t.name && led_by_pair(&a.columns, model)
                    }) else {
                        continue;
                    };
                    (
                        a.create_statement.clone(),
                        "the index advisor (IDX009) finds the workload's statements searching by them".to_owned(),
                    )
                }
                None => {
                    if (t.heap_bytes as f64) < p.min_table_bytes
                        || (seq_scans as f64) < p.min_seq_scans
                    {
                        continue;
                    }
                    (
                        format!(
                            "CREATE INDEX CONCURRENTLY {} ON {name} ({}, {RECORD_ID_COLUMN});",
                            crate::sql::quote_ident(&format!(
                                "{}_{model}_{RECORD_ID_COLUMN}_idx",
                                t.name
                            )),
                            crate::sql::quote_ident(model),
                        ),
                        format!(
                            "the table was scanned whole {} times ({})",
                            units::count(seq_scans),
                            ctx.basis().label()
                        ),
                    )
                }
            };
            let message = format!(
                "{} reads `{}` by (`{model}`, `{RECORD_ID_COLUMN}`) — {} — and no index starts with these columns: each of those reads scans about {} rows ({}); {why}. Odoo creates this index itself: it was lost (a failed migration or restore, a manual drop)",
                o.label(),
                t.name,
                purpose(&t.name),
                units::count(rows),
                units::bytes(t.heap_bytes),
            );
            drafts.push(
                Draft::new(
                    ObjectRef::in_schema(ObjectKind::Table, &snap.server.database, &t.schema, &t.name),
                    message,
                )
                .severity(Severity::Warning)
                .evidence("model_column", model)
                .evidence("table_rows", rows.round())
                .evidence("table_bytes", t.heap_bytes)
                .evidence("seq_scan", seq_scans)
                .evidence("basis", ctx.basis().label())
                .recommend(format!(
                    "Create the index with `{create}` (CONCURRENTLY: Odoo keeps writing while it builds); nothing changes on Odoo's side — if a later module upgrade recreates it under Odoo's own name, drop the duplicate"
                ))
                .fix(
                    create,
                    "none",
                    "the table's seq_scan and idx_scan in pg_stat_user_tables, and the chatter's statements in pg_stat_statements",
                ),
            );
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use super::led_by_pair;
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn either_order_of_the_pair_serves() {
        let cols = |c: &[&str]| c.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(led_by_pair(&cols(&["model", "res_id"]), "model"));
        assert!(led_by_pair(&cols(&["res_id", "model", "id"]), "model"));
        assert!(!led_by_pair(&cols(&["res_id"]), "model"));
        assert!(!led_by_pair(&cols(&["id", "model", "res_id"]), "model"));
    }

    #[test]
    fn fires_on_the_lost_chatter_index() {
        assert_fires("ERP003", "public.mail_message");
    }

    #[test]
    fn quiet_when_the_chatter_is_indexed() {
        assert_quiet("ERP003");
    }
}
