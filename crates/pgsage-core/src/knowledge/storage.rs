//! Planner and I/O settings from the storage kind.
//!
//! References: <https://www.postgresql.org/docs/current/runtime-config-query.html#GUC-RANDOM-PAGE-COST>,
//! <https://www.postgresql.org/docs/current/runtime-config-resource.html#GUC-EFFECTIVE-IO-CONCURRENCY>.

use crate::snapshot::StorageKind;

/// `random_page_cost`: 4 (PostgreSQL's default) on spinning disks, 1.1 on flash and
/// network storage, where a random read costs about as much as a sequential one.
pub fn random_page_cost(storage: StorageKind) -> f64 {
    if storage == StorageKind::Hdd {
        4.0
    } else {
        1.1
    }
}

/// `effective_io_concurrency` (and `maintenance_io_concurrency`): 2 on spinning disks,
/// 200 on local SSD/NVMe, 64 on SAN and cloud block storage, whose IOPS are provisioned
/// and throttled (PGTune gives 300 there).
pub fn effective_io_concurrency(storage: StorageKind) -> i64 {
    match storage {
        StorageKind::Hdd => 2,
        StorageKind::Ssd | StorageKind::Nvme => 200,
        StorageKind::San => 64,
    }
}
