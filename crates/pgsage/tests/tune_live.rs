//! `pgsage tune` on a real server: a workload whose sorts spill to temp files, collected
//! and tuned; the work_mem advice rises above the current value, from the measured
//! spills, and stays within the memory budget.

// A test's failure is a panic; unwrap says so without ceremony.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use pgsage::snapshot::{Fact, HostFacts, StorageKind};
use pgsage::tune::{recommend, Basis, Profile, TuneOptions};
use pgsage::{CollectOptions, ConnectOptions};
use pgsage_testkit::{require_server, test_majors};

const GIB: u64 = 1 << 30;
const MIB: u64 = 1 << 20;

#[test]
fn work_mem_advice_follows_temp_spills() {
    // The newest version available is enough: the collector is tested on every one.
    let Some(&major) = test_majors().iter().max() else {
        return;
    };
    let Some(server) = require_server(major) else {
        return;
    };
    server.create_database("spill").unwrap();
    server
        .execute(
            "spill",
            "CREATE TABLE items AS SELECT g AS id, md5(g::text) || md5((g * 7)::text) AS payload
             FROM generate_series(1, 200000) g;
             ANALYZE items;",
        )
        .unwrap();
    let mut client = server.client("spill").unwrap();
    // 200k rows of 64-character text sorted with 1MB of work_mem: a ~15MB spill each.
    for _ in 0..5 {
        client
            .batch_execute(
                "SET work_mem = '1MB'; SELECT payload FROM items ORDER BY payload OFFSET 199999;
                 RESET work_mem;",
            )
            .unwrap();
    }
    server.flush_stats(&mut client).unwrap();
    drop(client);
    server
        .wait_for(
            "spill",
            "SELECT temp_files >= 5 FROM pg_stat_database WHERE datname = 'spill'",
            Duration::from_secs(20),
        )
        .unwrap();

    let snapshot = pgsage::collect_snapshot_with(
        &ConnectOptions::new(server.dsn("spill")),
        &CollectOptions {
            probe_local_host: false,
            ..CollectOptions::default()
        },
    )
    .unwrap();
    let current = snapshot.setting("work_mem").unwrap().as_bytes().unwrap() as u64;

    let ram = 4 * GIB;
    let options = TuneOptions {
        host: HostFacts {
            ram_bytes: Some(Fact::new(ram, "flag")),
            cpus: Some(Fact::new(2.0, "flag")),
            storage: Some(Fact::new(StorageKind::Ssd, "flag")),
            platform: None,
            tier: None,
        },
        connections: Some(100),
        ..TuneOptions::new(Profile::Oltp)
    };
    let report = recommend(&snapshot, &options);
    let wm = report
        .settings
        .iter()
        .find(|a| a.name == "work_mem")
        .unwrap();
    let value = pgsage::host::parse_size(&wm.recommended).unwrap();
    assert_eq!(wm.basis, Basis::Workload, "{wm:#?}");
    assert!(wm.change && value > current, "{wm:#?}");
    // Above the hardware formula (3GB / ((100 + 2) × 3) ≈ 10MB): the spills need more.
    let formula = pgsage::knowledge::memory::work_mem(ram, ram / 4, 100, 2, Profile::Oltp);
    assert!(value > formula, "{wm:#?}");
    // Bounded: the budget ((RAM − shared_buffers) / ((busy + workers) × 3)) and sane.
    assert!(value <= 256 * MIB, "{wm:#?}");
    assert!(
        wm.evidence.iter().any(|e| e.contains("temp files")),
        "{wm:#?}"
    );
    assert!(report.script().contains("ALTER SYSTEM SET work_mem = "));
}
