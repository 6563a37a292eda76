use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::StorageKind;

use super::{storage_kind, storage_label};

declare_rule! {
    /// ## What it detects
    /// `random_page_cost` left at the spinning-disk value (4, the default) or above
    /// `max_flash_cost` on a server whose data sits on SSD, NVMe or SAN/cloud block
    /// storage (the host fact `storage`).
    ///
    /// ## Why it matters
    /// `random_page_cost` tells the planner how much more a random page read costs than a
    /// sequential one. 4 models a disk head seeking; on flash a random read costs about
    /// as much as a sequential one. With 4 the planner overprices index scans and picks
    /// sequential scans and hash joins over index and nested-loop plans that would be
    /// faster — typical on ERP queries that fetch a few order lines or stock moves by
    /// foreign key.
    ///
    /// ## How to fix
    /// Set it to the recommended configuration's value (1.1 on flash, the value
    /// `pgsage tune` gives) and reload (no restart). On managed services set it in the server parameters of the portal. Then
    /// watch plans of the heaviest statements (`EXPLAIN`) and their mean time in
    /// `pg_stat_statements`. Per-tablespace overrides (`ALTER TABLESPACE … SET
    /// (random_page_cost = …)`) are not collected and not judged.
    ///
    /// ## Thresholds
    /// - `max_flash_cost` (default 2): a value above this on SSD/NVMe/SAN storage warns.
    ///
    /// Needs the storage kind (`--storage`, `[host] storage`); skipped without it. Values
    /// on spinning disks (`hdd`) are not judged.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/runtime-config-query.html#GUC-RANDOM-PAGE-COST>
    /// - <https://wiki.postgresql.org/wiki/Tuning_Your_PostgreSQL_Server>
    pub struct RandomPageCostTooHigh {
        id: "PLN001",
        name: "random-page-cost-too-high",
        pack: "planner",
        title: "random_page_cost set for spinning disks on flash storage",
        params: {
            max_flash_cost: f64 = ("cost units", "Highest random_page_cost accepted on SSD/NVMe/SAN storage"),
        },
    }
}

/// Whether `cost` is too high for `kind`.
fn too_high(kind: StorageKind, cost: f64, max_flash: f64) -> bool {
    kind != StorageKind::Hdd && cost > max_flash
}

impl SnapshotRule for RandomPageCostTooHigh {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let max_flash = p.max_flash_cost;
        let (kind, source) = storage_kind(ctx)?;
        let setting = ctx.setting("random_page_cost")?;
        let cost = setting
            .as_f64()
            .ok_or_else(|| Skip::because("random_page_cost is not a number"))?;
        if !too_high(kind, cost, max_flash) {
            return Ok(vec![]);
        }
        // The recommended configuration's value for the storage (`pgsage tune`'s).
        let Some(recommended) = ctx.sized_value("random_page_cost") else {
            return Ok(vec![]);
        };
        let seq = ctx
            .snapshot
            .setting("seq_page_cost")
            .and_then(|s| s.as_f64())
            .unwrap_or(1.0);
        Ok(vec![Draft::new(
            ObjectRef::setting("random_page_cost"),
            format!(
                "`random_page_cost` is {cost} (source: {}) on {} storage, where a random read costs about as much as a sequential one; the planner overprices index scans",
                setting.source,
                storage_label(kind)
            ),
        )
        .evidence("random_page_cost", cost)
        .evidence("seq_page_cost", seq)
        .evidence("storage", storage_label(kind))
        .evidence("storage_source", source)
        .evidence("recommended_random_page_cost", recommended.clone())
        .recommend(format!(
            "Set random_page_cost to {recommended} for {} storage (no restart needed)",
            storage_label(kind)
        ))
        .with_fix(ctx.settings_fix(
            &[("random_page_cost", recommended.clone())],
            "",
            "plans of the heaviest statements (EXPLAIN) and their mean_exec_time in pg_stat_statements",
        ))])
    }
}

#[cfg(test)]
mod tests {
    use super::too_high;
    use crate::rules::testing::{assert_fires, assert_quiet};
    use crate::snapshot::StorageKind;

    #[test]
    fn fires_on_the_default_on_ssd() {
        let f = assert_fires("PLN001", "random_page_cost");
        assert_eq!(f[0].evidence["random_page_cost"], 4.0);
    }

    #[test]
    fn quiet_when_tuned_or_on_hdd() {
        assert_quiet("PLN001");
    }

    #[test]
    fn hdd_is_not_judged() {
        assert!(!too_high(StorageKind::Hdd, 4.0, 2.0));
        assert!(too_high(StorageKind::San, 4.0, 2.0));
        assert!(!too_high(StorageKind::Nvme, 1.1, 2.0));
    }
}
