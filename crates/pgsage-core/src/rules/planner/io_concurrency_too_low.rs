use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::StorageKind;

use super::{storage_kind, storage_label};

declare_rule! {
    /// ## What it detects
    /// `effective_io_concurrency` below `min_flash_value` (0 or 1, the default before
    /// PostgreSQL 18) on SSD, NVMe or SAN/cloud block storage (the host fact `storage`).
    ///
    /// ## Why it matters
    /// `effective_io_concurrency` is how many reads PostgreSQL issues ahead (prefetch) for
    /// bitmap heap scans and, from PostgreSQL 17, for streaming reads (sequential scans,
    /// `ANALYZE`); 0 disables prefetching and 1 issues one read at a time. Flash and
    /// networked storage serve many requests in parallel and only reach their throughput
    /// with a deep queue, so a low value leaves most of the device idle while queries
    /// wait. `maintenance_io_concurrency` plays the same role for `VACUUM`, index builds and
    /// recovery prefetching.
    ///
    /// ## How to fix
    /// Set it to the recommended configuration's value (the one `pgsage tune` gives: 200
    /// on SSD/NVMe, a moderate 64 on SAN and cloud block storage, whose IOPS are
    /// provisioned and throttled), then
    /// `SELECT pg_reload_conf();` — no restart. Raise `maintenance_io_concurrency` in the same
    /// way when it is below the recommendation. On managed services set them in the server
    /// parameters of the portal. Watch read latency and the storage's IOPS limit afterwards.
    ///
    /// ## Thresholds
    /// - `min_flash_value` (default 2): a value below this on SSD/NVMe/SAN storage warns.
    ///
    /// Needs the storage kind (`--storage`, `[host] storage`); skipped without it. Spinning
    /// disks (`hdd`) are not judged.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/runtime-config-resource.html#GUC-EFFECTIVE-IO-CONCURRENCY>
    /// - <https://www.postgresql.org/docs/current/runtime-config-resource.html#GUC-MAINTENANCE-IO-CONCURRENCY>
    pub struct IoConcurrencyTooLow {
        id: "PLN002",
        name: "io-concurrency-too-low",
        pack: "planner",
        title: "effective_io_concurrency too low for flash storage",
        params: {
            min_flash_value: f64 = ("requests", "effective_io_concurrency below this warns on SSD/NVMe/SAN storage"),
        },
    }
}

/// The value to recommend for `kind`, or `None` when the kind is not judged.
impl SnapshotRule for IoConcurrencyTooLow {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min = p.min_flash_value;
        let (kind, source) = storage_kind(ctx)?;
        let setting = ctx.setting("effective_io_concurrency")?;
        let value = setting
            .as_f64()
            .ok_or_else(|| Skip::because("effective_io_concurrency is not a number"))?;
        if kind == StorageKind::Hdd || value >= min {
            return Ok(vec![]);
        }
        // The recommended configuration's value for the storage (`pgsage tune`'s).
        let Some(target) = ctx.sized_value("effective_io_concurrency") else {
            return Ok(vec![]);
        };
        let maintenance = ctx.snapshot.setting("maintenance_io_concurrency");
        let maintenance_value = maintenance.and_then(|s| s.as_f64());
        let mut changes = vec![("effective_io_concurrency", target.clone())];
        if let Some(m) = ctx.sized_value("maintenance_io_concurrency") {
            changes.push(("maintenance_io_concurrency", m));
        }
        let mut draft =
            Draft::new(
                ObjectRef::setting("effective_io_concurrency"),
                format!(
                "`effective_io_concurrency` is {value} on {} storage: {} for bitmap heap scans{}",
                storage_label(kind),
                if value == 0.0 { "no prefetching" } else { "one read in flight at a time" },
                if ctx.snapshot.server.major() >= 17 {
                    " and streaming reads"
                } else {
                    ""
                }
            ),
            )
            .evidence("effective_io_concurrency", value)
            .evidence("storage", storage_label(kind))
            .evidence("storage_source", source)
            .evidence("recommended_effective_io_concurrency", target.clone());
        if let Some(m) = maintenance_value {
            draft = draft.evidence("maintenance_io_concurrency", m);
        }
        Ok(vec![draft
            .recommend(format!(
                "Raise effective_io_concurrency (and maintenance_io_concurrency, used by VACUUM, index builds and recovery prefetch) to {target} for {} storage; a reload suffices",
                storage_label(kind)
            ))
            .with_fix(ctx.settings_fix(
                &changes,
                "",
                "read latency of bitmap heap scans and the storage's IOPS limit (cloud disks throttle)",
            ))])
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_one_read_at_a_time_on_ssd() {
        assert_fires("PLN002", "effective_io_concurrency");
    }

    #[test]
    fn quiet_when_tuned_or_on_hdd() {
        assert_quiet("PLN002");
    }
}
