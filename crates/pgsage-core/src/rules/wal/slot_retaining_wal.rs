use crate::report::{ObjectKind, ObjectRef, Severity};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::ReplicationSlot;
use crate::sql::quote_literal;
use crate::units;

declare_rule! {
    /// ## What it detects
    /// Replication slots no client is attached to (`active = false`) that keep at least
    /// `min_retained_mb` of WAL on disk (current WAL position − `restart_lsn`), or whose
    /// WAL is already partly removed (`wal_status` `unreserved` or `lost`).
    ///
    /// ## Why it matters
    /// A slot keeps every WAL segment its consumer has not confirmed, whatever
    /// `max_wal_size` says: a standby or CDC tool (Debezium, a logical subscriber) that
    /// went away lets `pg_wal` grow until the disk is full and the server stops. A logical
    /// slot also holds back the catalog xmin, so vacuum cannot clean system catalogs.
    ///
    /// ## How to fix
    /// If the consumer is gone for good, drop the slot:
    /// `SELECT pg_drop_replication_slot('…');`. If it should come back, repair it now and
    /// cap the damage with `max_slot_wal_keep_size` (13+), which invalidates a slot rather
    /// than fill the disk. A `lost` slot is useless: drop it and re-create the standby or
    /// subscription.
    ///
    /// ## Thresholds
    /// - `min_retained_mb` (default 1024): inactive slots retaining less WAL are ignored, in MB.
    /// - `critical_retained_mb` (default 10240): retained WAL that is critical, in MB.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/warm-standby.html#STREAMING-REPLICATION-SLOTS>
    /// - <https://www.postgresql.org/docs/current/view-pg-replication-slots.html>
    /// - <https://www.postgresql.org/docs/current/runtime-config-replication.html#GUC-MAX-SLOT-WAL-KEEP-SIZE>
    pub struct SlotRetainingWal {
        id: "WAL006",
        name: "slot-retaining-wal",
        pack: "wal",
        title: "Inactive replication slot retaining WAL",
        params: {
            min_retained_mb: f64 = ("MB", "Inactive slots retaining less WAL are ignored"),
            critical_retained_mb: f64 = ("MB", "Retained WAL that is critical"),
        },
    }
}

fn is_stale(slot: &ReplicationSlot, min_bytes: f64) -> bool {
    let damaged = matches!(slot.wal_status.as_deref(), Some("unreserved" | "lost"));
    !slot.active
        && !slot.temporary
        && (damaged
            || slot
                .retained_wal_bytes
                .is_some_and(|b| b as f64 >= min_bytes))
}

impl SnapshotRule for SlotRetainingWal {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min = p.min_retained_mb * 1024.0 * 1024.0;
        let critical = p.critical_retained_mb * 1024.0 * 1024.0;
        let snap = ctx.snapshot;
        if let Some(g) = snap.gap("pg_replication_slots") {
            return Err(Skip::because(format!(
                "replication slots not visible: {}",
                g.why
            )));
        }
        let keep = snap
            .setting("max_slot_wal_keep_size")
            .and_then(|s| s.as_bytes());
        let mut drafts = Vec::new();
        for slot in snap.replication_slots.iter().filter(|s| is_stale(s, min)) {
            let retained = slot.retained_wal_bytes.unwrap_or(0) as f64;
            let status = slot.wal_status.clone().unwrap_or_else(|| "unknown".into());
            let lost = status == "lost";
            let severe = retained >= critical || matches!(status.as_str(), "unreserved" | "lost");
            let kind = if slot.slot_type == "logical" {
                format!(
                    "logical slot{}",
                    slot.database
                        .as_deref()
                        .map_or(String::new(), |d| format!(" of database `{d}`"))
                )
            } else {
                "physical slot".to_owned()
            };
            let message = if lost {
                format!("Inactive {kind} `{}` has lost the WAL its consumer needs (`wal_status` = lost): it can no longer be used", slot.slot_name)
            } else {
                format!(
                    "Inactive {kind} `{}` retains {} of WAL (`wal_status` = {status}){}: `pg_wal` grows until the consumer returns or the disk is full",
                    slot.slot_name,
                    units::bytes(retained),
                    if keep.is_none() { " and `max_slot_wal_keep_size` is unlimited" } else { "" }
                )
            };
            let drop = format!(
                "SELECT pg_drop_replication_slot({});",
                quote_literal(&slot.slot_name)
            );
            let watch = "the size of pg_wal and retained WAL per slot in pg_replication_slots";
            let fix = if keep.is_none() {
                ctx.settings_fix(
                    &[("max_slot_wal_keep_size", "50GB".into())],
                    &format!("{drop}\n-- and as a safety net (13+), below the free space of the pg_wal volume:"),
                    watch,
                )
            } else {
                crate::report::Fix {
                    sql: drop,
                    requires: Some("none".into()),
                    watch: Some(watch.into()),
                    settings: Vec::new(),
                    ..Default::default()
                }
            };
            let mut draft = Draft::new(ObjectRef::named(ObjectKind::Server, &slot.slot_name), message)
                .evidence("slot_type", slot.slot_type.clone())
                .evidence("active", slot.active)
                .evidence("retained_wal_bytes", retained)
                .evidence("wal_status", status)
                .evidence("max_slot_wal_keep_size_bytes", keep.map_or(serde_json::Value::from("unlimited"), serde_json::Value::from))
                .recommend(if lost {
                    "Drop the slot and re-create the standby or subscription that used it".to_owned()
                } else {
                    "If its consumer (standby, subscriber, CDC tool) is gone, drop the slot; otherwise bring the consumer back now, and set max_slot_wal_keep_size so a stuck slot cannot fill the disk".to_owned()
                })
                .with_fix(fix);
            if let Some(age) = slot.catalog_xmin_age.or(slot.xmin_age) {
                draft = draft.evidence("xmin_age", age);
            }
            if severe {
                draft = draft.severity(Severity::Critical);
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
    fn fires_on_a_stale_slot() {
        assert_fires("WAL006", "stale_slot");
    }

    #[test]
    fn quiet_without_stale_slots() {
        assert_quiet("WAL006");
    }
}
