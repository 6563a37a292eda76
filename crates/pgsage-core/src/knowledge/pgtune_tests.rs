//! The hardware formulas against PGTune. Expected values are PGTune's outputs
//! (https://pgtune.leopard.in.ua, source le0pard/pgtune `configurationSlice.js`) for the
//! same inputs, OS Linux, where pgsage follows it; deviations are asserted separately and
//! documented in docs/tuning.md.
#![allow(clippy::unwrap_used)]

use super::memory::*;
use super::parallel::*;
use super::planner::*;
use super::storage::*;
use super::wal::*;
use super::{Profile, GB, KB, MB};
use crate::snapshot::StorageKind;

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
