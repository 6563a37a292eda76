//! Hardware-only formulas: what PGTune (le0pard/pgtune) computes from RAM, CPUs, storage
//! and the workload profile, with the deviations documented in `docs/tuning.md`.
//! Pure functions, tested against PGTune's outputs.

use super::Profile;
use crate::snapshot::StorageKind;

const KB: u64 = 1024;
const MB: u64 = 1024 * KB;
const GB: u64 = 1024 * MB;

/// `shared_buffers`: a quarter of RAM (every profile pgsage knows).
pub fn shared_buffers(ram: u64) -> u64 {
    ram / KB / 4 * KB
}

/// `effective_cache_size`: three quarters of RAM.
pub fn effective_cache_size(ram: u64) -> u64 {
    ram / KB * 3 / 4 * KB
}

/// `maintenance_work_mem`: RAM/16 (RAM/8 for `dw`), capped at 2GB.
pub fn maintenance_work_mem(ram: u64, profile: Profile) -> u64 {
    let divisor = if profile == Profile::Dw { 8 } else { 16 };
    (ram / KB / divisor * KB).min(2 * GB)
}

/// `wal_buffers`: 3% of `shared_buffers`, at most 16MB (rounded up to 16MB above 14MB),
/// at least 32kB.
pub fn wal_buffers(shared_buffers: u64) -> u64 {
    let sb_kb = shared_buffers / KB;
    let mut kb = 3 * sb_kb / 100;
    let max = 16 * MB / KB;
    if kb > max {
        kb = max;
    }
    if kb > 14 * MB / KB && kb < max {
        kb = max;
    }
    kb.max(32) * KB
}

/// `(min_wal_size, max_wal_size)` per profile.
pub fn wal_sizes(profile: Profile) -> (u64, u64) {
    match profile {
        Profile::Web | Profile::Mixed => (GB, 4 * GB),
        Profile::Oltp => (2 * GB, 8 * GB),
        Profile::Dw => (4 * GB, 16 * GB),
    }
}

/// `default_statistics_target`: 500 for `dw`, else 100.
pub fn default_statistics_target(profile: Profile) -> i64 {
    if profile == Profile::Dw {
        500
    } else {
        100
    }
}

/// `random_page_cost`: 4 on spinning disks, 1.1 on flash and network storage.
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

/// The parallel settings from the CPU count, `None` below 4 CPUs (PGTune leaves the
/// defaults there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parallel {
    /// `max_worker_processes`: the CPUs, at least the default 8 (room for logical
    /// replication and extension workers).
    pub max_worker_processes: i64,
    /// `max_parallel_workers`: the CPUs.
    pub max_parallel_workers: i64,
    /// `max_parallel_workers_per_gather`: half the CPUs, at most 4 (except `dw`).
    pub max_parallel_workers_per_gather: i64,
    /// `max_parallel_maintenance_workers`: half the CPUs, at most 4.
    pub max_parallel_maintenance_workers: i64,
}

/// See [`Parallel`].
pub fn parallel(cpus: i64, profile: Profile) -> Option<Parallel> {
    if cpus < 4 {
        return None;
    }
    let half = (cpus + 1) / 2;
    Some(Parallel {
        max_worker_processes: cpus.max(8),
        max_parallel_workers: cpus,
        max_parallel_workers_per_gather: if profile == Profile::Dw {
            half
        } else {
            half.min(4)
        },
        max_parallel_maintenance_workers: half.min(4),
    })
}

/// Default `max_connections` per profile, when neither the server nor the user says.
pub fn default_connections(profile: Profile) -> i64 {
    match profile {
        Profile::Web => 200,
        Profile::Oltp => 300,
        Profile::Dw => 40,
        Profile::Mixed => 100,
    }
}

/// `work_mem`: `(RAM − shared_buffers) / ((max_connections + parallel workers) × 3)`,
/// halved for `mixed` and `dw`, floored at 4MB, in whole kB.
pub fn work_mem(
    ram: u64,
    shared_buffers: u64,
    connections: i64,
    workers: i64,
    profile: Profile,
) -> u64 {
    let available_kb = (ram.saturating_sub(shared_buffers) / KB) as f64;
    let per = available_kb / (((connections + workers).max(1) * 3) as f64);
    let kb = match profile {
        Profile::Web | Profile::Oltp => per,
        Profile::Mixed | Profile::Dw => per / 2.0,
    }
    .floor() as u64;
    kb.max(4 * MB / KB) * KB
}

/// `huge_pages = try` pays off from 8GB of shared buffers (PostgreSQL's default is
/// already `try`; `on` would refuse to start without reserved pages).
pub fn wants_huge_pages(shared_buffers: u64) -> bool {
    shared_buffers >= 8 * GB
}

#[cfg(test)]
mod tests {
    //! Expected values are PGTune's outputs (https://pgtune.leopard.in.ua, source
    //! le0pard/pgtune `configurationSlice.js`) for the same inputs, OS Linux, where
    //! pgsage follows it; deviations are asserted separately and documented in
    //! docs/tuning.md.
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// PGTune, DB version 14, web, 4 GB, 2 CPUs, SSD (a published output):
    /// shared_buffers 1GB, effective_cache_size 3GB, maintenance_work_mem 256MB,
    /// wal_buffers 16MB, min/max_wal_size 1GB/4GB, random_page_cost 1.1,
    /// effective_io_concurrency 200, default_statistics_target 100.
    #[test]
    fn web_4gb_2cpu_ssd() {
        let ram = 4 * GB;
        let sb = shared_buffers(ram);
        assert_eq!(sb, GB);
        assert_eq!(effective_cache_size(ram), 3 * GB);
        assert_eq!(maintenance_work_mem(ram, Profile::Web), 256 * MB);
        assert_eq!(wal_buffers(sb), 16 * MB);
        assert_eq!(wal_sizes(Profile::Web), (GB, 4 * GB));
        assert_eq!(random_page_cost(StorageKind::Ssd), 1.1);
        assert_eq!(effective_io_concurrency(StorageKind::Ssd), 200);
        assert_eq!(default_statistics_target(Profile::Web), 100);
        // Below 4 CPUs PGTune's current version leaves the parallel settings alone.
        assert_eq!(parallel(2, Profile::Web), None);
    }

    /// PGTune, web, 16 GB, 4 CPUs, SSD, 200 connections: work_mem 20560kB,
    /// max_worker_processes 4 (pgsage: 8), max_parallel_workers 4, per gather 2,
    /// maintenance workers 2, huge_pages (PGTune: try from 2GB of shared buffers).
    #[test]
    fn web_16gb_4cpu_ssd() {
        let ram = 16 * GB;
        let sb = shared_buffers(ram);
        assert_eq!(sb, 4 * GB);
        assert_eq!(effective_cache_size(ram), 12 * GB);
        assert_eq!(maintenance_work_mem(ram, Profile::Web), GB);
        assert_eq!(wal_buffers(sb), 16 * MB);
        let p = parallel(4, Profile::Web).unwrap();
        assert_eq!(
            (
                p.max_parallel_workers,
                p.max_parallel_workers_per_gather,
                p.max_parallel_maintenance_workers
            ),
            (4, 2, 2)
        );
        assert_eq!(
            p.max_worker_processes, 8,
            "deviation: never below the default 8"
        );
        assert_eq!(work_mem(ram, sb, 200, 4, Profile::Web), 20560 * KB);
        assert!(!wants_huge_pages(sb));
    }

    /// PGTune, OLTP, 64 GB, 16 CPUs, NVMe, 300 connections: shared_buffers 16GB,
    /// effective_cache_size 48GB, work_mem 53092kB, min/max_wal_size 2GB/8GB,
    /// workers 16/16, per gather 4, maintenance workers 4, random_page_cost 1.1.
    /// maintenance_work_mem: PGTune's current version gives 4GB (8GB cap, then
    /// autovacuum_work_mem 2GB); pgsage keeps the older 2GB cap.
    #[test]
    fn oltp_64gb_16cpu_nvme() {
        let ram = 64 * GB;
        let sb = shared_buffers(ram);
        assert_eq!(sb, 16 * GB);
        assert_eq!(effective_cache_size(ram), 48 * GB);
        assert_eq!(maintenance_work_mem(ram, Profile::Oltp), 2 * GB);
        assert_eq!(wal_sizes(Profile::Oltp), (2 * GB, 8 * GB));
        let p = parallel(16, Profile::Oltp).unwrap();
        assert_eq!(
            p,
            Parallel {
                max_worker_processes: 16,
                max_parallel_workers: 16,
                max_parallel_workers_per_gather: 4,
                max_parallel_maintenance_workers: 4
            }
        );
        assert_eq!(work_mem(ram, sb, 300, 16, Profile::Oltp), 53092 * KB);
        assert_eq!(random_page_cost(StorageKind::Nvme), 1.1);
        assert!(wants_huge_pages(sb));
    }

    /// PGTune, DW, 32 GB, 8 CPUs, HDD, 40 connections: shared_buffers 8GB,
    /// effective_cache_size 24GB, maintenance_work_mem 4GB → 2GB cap (see above),
    /// work_mem 87381kB, min/max_wal_size 4GB/16GB, default_statistics_target 500,
    /// random_page_cost 4, effective_io_concurrency 2, per gather 4 (no cap for dw).
    #[test]
    fn dw_32gb_8cpu_hdd() {
        let ram = 32 * GB;
        let sb = shared_buffers(ram);
        assert_eq!(sb, 8 * GB);
        assert_eq!(effective_cache_size(ram), 24 * GB);
        assert_eq!(maintenance_work_mem(ram, Profile::Dw), 2 * GB);
        assert_eq!(work_mem(ram, sb, 40, 8, Profile::Dw), 87381 * KB);
        assert_eq!(wal_sizes(Profile::Dw), (4 * GB, 16 * GB));
        assert_eq!(default_statistics_target(Profile::Dw), 500);
        assert_eq!(random_page_cost(StorageKind::Hdd), 4.0);
        assert_eq!(effective_io_concurrency(StorageKind::Hdd), 2);
        assert_eq!(
            parallel(8, Profile::Dw)
                .unwrap()
                .max_parallel_workers_per_gather,
            4
        );
        assert_eq!(
            parallel(16, Profile::Dw)
                .unwrap()
                .max_parallel_workers_per_gather,
            8
        );
        assert!(wants_huge_pages(sb));
    }

    #[test]
    fn small_machines_hit_the_floors() {
        let ram = 512 * MB;
        let sb = shared_buffers(ram);
        assert_eq!(sb, 128 * MB);
        // 3% of 128MB = 3932kB.
        assert_eq!(wal_buffers(sb), 3932 * KB);
        assert_eq!(wal_buffers(MB), 32 * KB);
        assert_eq!(work_mem(ram, sb, 100, 8, Profile::Mixed), 4 * MB);
    }
}
