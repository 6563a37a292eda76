//! The `memory` pack: shared_buffers, work_mem, maintenance memory, huge pages.

mod cache_hit_ratio_low;
mod effective_cache_size_low;
mod huge_pages_off;
mod maintenance_work_mem_low;
mod memory_overcommit;
mod shared_buffers_size;
mod work_mem_temp_spills;

pub use cache_hit_ratio_low::CacheHitRatioLow;
pub use effective_cache_size_low::EffectiveCacheSizeLow;
pub use huge_pages_off::HugePagesOff;
pub use maintenance_work_mem_low::MaintenanceWorkMemLow;
pub use memory_overcommit::MemoryOvercommit;
pub use shared_buffers_size::SharedBuffersSize;
pub use work_mem_temp_spills::WorkMemTempSpills;

use crate::rules::{RuleContext, Skip};
use crate::snapshot::{DatabaseStats, Snapshot};

/// This pack's rules.
pub(crate) static RULES: &[super::Rule] = &[
    super::Rule::Snapshot(&SharedBuffersSize),
    super::Rule::Snapshot(&EffectiveCacheSizeLow),
    super::Rule::Snapshot(&WorkMemTempSpills),
    super::Rule::Snapshot(&MaintenanceWorkMemLow),
    super::Rule::Snapshot(&MemoryOvercommit),
    super::Rule::Snapshot(&HugePagesOff),
    super::Rule::Snapshot(&CacheHitRatioLow),
];

const MB: f64 = 1024.0 * 1024.0;
const GB: f64 = 1024.0 * 1024.0 * 1024.0;

/// A recommended size, rounded up to a value a DBA would type: a power of two in MB
/// below 1 GB (at least 1 MB), whole GB above.
pub(crate) fn round_up_size(bytes: f64) -> f64 {
    if bytes <= MB {
        MB
    } else if bytes < GB {
        let mb = (bytes / MB).ceil() as u64;
        mb.next_power_of_two() as f64 * MB
    } else {
        (bytes / GB).ceil() * GB
    }
}

/// A memory setting in bytes, or a skip naming it.
pub(crate) fn bytes_setting(ctx: &RuleContext<'_>, name: &str) -> Result<f64, Skip> {
    ctx.setting(name)?
        .as_bytes()
        .ok_or_else(|| Skip::because(format!("`{name}` is not a size")))
}

/// A counter of one database over the basis: the delta since the baseline when the
/// snapshot was sampled with an interval (a database missing from the baseline counts
/// from zero), else the total since its statistics reset.
pub(crate) fn db_counter(
    snap: &Snapshot,
    db: &DatabaseStats,
    counter: impl Fn(&DatabaseStats) -> i64,
) -> i64 {
    let now = counter(db);
    match &snap.baseline {
        Some(b) => {
            let before = b
                .databases
                .iter()
                .find(|d| d.oid == db.oid)
                .map_or(0, &counter);
            (now - before).max(0)
        }
        None => now,
    }
}

/// The memory autovacuum workers may each use: `autovacuum_work_mem`, or
/// `maintenance_work_mem` when it is -1.
pub(crate) fn autovacuum_mem(ctx: &RuleContext<'_>) -> Result<(f64, &'static str), Skip> {
    match ctx
        .snapshot
        .setting("autovacuum_work_mem")
        .and_then(|s| s.as_bytes())
    {
        Some(b) => Ok((b, "autovacuum_work_mem")),
        None => Ok((
            bytes_setting(ctx, "maintenance_work_mem")?,
            "maintenance_work_mem",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_round_up() {
        assert_eq!(round_up_size(3.2 * MB), 4.0 * MB);
        assert_eq!(round_up_size(100.0), MB);
        assert_eq!(round_up_size(600.0 * MB), 1024.0 * MB);
        assert_eq!(round_up_size(1.2 * GB), 2.0 * GB);
    }
}
