use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, Rule, RuleContext, RuleMeta, Skip};
use crate::snapshot::StorageKind;

use super::{apply_sql, requires, storage_kind, storage_label, MANAGED_NOTE};

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
    /// `ALTER SYSTEM SET effective_io_concurrency = 200;` (SSD/NVMe) or a moderate
    /// `recommended_san` (networked/managed storage, whose IOPS are provisioned), then
    /// `SELECT pg_reload_conf();` — no restart. Raise `maintenance_io_concurrency` in the same
    /// way when it is below the recommendation. On managed services set them in the server
    /// parameters of the portal. Watch read latency and the storage's IOPS limit afterwards.
    ///
    /// ## Thresholds
    /// - `min_flash_value` (default 2): a value below this on SSD/NVMe/SAN storage warns.
    /// - `recommended_flash` (default 200): the value recommended for local SSD/NVMe.
    /// - `recommended_san` (default 64): the value recommended for SAN/cloud block storage.
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
        params: [
            ("min_flash_value", "effective_io_concurrency below this warns on SSD/NVMe/SAN storage"),
            ("recommended_flash", "Value recommended on local SSD/NVMe"),
            ("recommended_san", "Value recommended on SAN/cloud block storage"),
        ],
    }
}

/// The value to recommend for `kind`, or `None` when the kind is not judged.
fn recommendation(kind: StorageKind, flash: f64, san: f64) -> Option<f64> {
    match kind {
        StorageKind::Hdd => None,
        StorageKind::Ssd | StorageKind::Nvme => Some(flash),
        StorageKind::San => Some(san),
    }
}

impl Rule for IoConcurrencyTooLow {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let min = ctx.number("min_flash_value")?;
        let flash = ctx.number("recommended_flash")?;
        let san = ctx.number("recommended_san")?;
        let (kind, source) = storage_kind(ctx)?;
        let setting = ctx.setting("effective_io_concurrency")?;
        let value = setting
            .as_f64()
            .ok_or_else(|| Skip::because("effective_io_concurrency is not a number"))?;
        let Some(target) = recommendation(kind, flash, san) else {
            return Ok(vec![]);
        };
        if value >= min {
            return Ok(vec![]);
        }
        let maintenance = ctx.snapshot.setting("maintenance_io_concurrency");
        let maintenance_value = maintenance.and_then(|s| s.as_f64());
        let req = requires(Some(setting));
        let mut sql = format!("ALTER SYSTEM SET effective_io_concurrency = {target};\n");
        if maintenance_value.is_some_and(|m| m < target) {
            sql.push_str(&format!(
                "ALTER SYSTEM SET maintenance_io_concurrency = {target};\n"
            ));
        }
        sql.push_str(apply_sql(req));
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
            .evidence("recommended_effective_io_concurrency", target);
        if let Some(m) = maintenance_value {
            draft = draft.evidence("maintenance_io_concurrency", m);
        }
        Ok(vec![draft
            .recommend(format!(
                "Raise effective_io_concurrency (and maintenance_io_concurrency, used by VACUUM, index builds and recovery prefetch) to {target} for {} storage; a reload suffices; {MANAGED_NOTE}",
                storage_label(kind)
            ))
            .fix(
                sql,
                req,
                "read latency of bitmap heap scans and the storage's IOPS limit (cloud disks throttle)",
            )])
    }
}

#[cfg(test)]
mod tests {
    use super::recommendation;
    use crate::rules::testing::{assert_fires, assert_quiet};
    use crate::snapshot::StorageKind;

    #[test]
    fn fires_on_one_read_at_a_time_on_ssd() {
        assert_fires("PLN002", "effective_io_concurrency");
    }

    #[test]
    fn quiet_when_tuned_or_on_hdd() {
        assert_quiet("PLN002");
    }

    #[test]
    fn san_gets_a_moderate_value() {
        assert_eq!(recommendation(StorageKind::San, 200.0, 64.0), Some(64.0));
        assert_eq!(recommendation(StorageKind::Hdd, 200.0, 64.0), None);
    }
}
