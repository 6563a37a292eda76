//! Noisy tenants on a real cluster: four tenant databases, each with its own sessions
//! running its own workload while pgsage samples an interval. One tenant runs reports
//! (whole-table scans and sorts beyond `work_mem`), its twins look rows up by key; then a
//! cluster whose four tenants all run the same reports. TEN001 names the noisy one, over
//! the sampled window, and no tenant rule fires on the balanced cluster.

// A test's failure is a panic; unwrap says so without ceremony.
#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use pgsage::knowledge::counters::Basis;
use pgsage::knowledge::tenants::{figure, Tenants};
use pgsage::{audit, CollectOptions, ConnectOptions, DatabaseSelection, RuleConfig, Snapshot};
use pgsage_testkit::{require_server_with, test_majors, ServerOptions, TestServer};

const TENANTS: [&str; 4] = ["acme", "beta", "gamma", "delta"];

/// Reports: a sort of the whole table beyond work_mem (temporary files) and whole-table
/// scans.
const REPORT: &str = "SELECT count(*) FROM (SELECT note FROM t ORDER BY note OFFSET 1) s;
SELECT count(*) FROM t WHERE md5(note) LIKE '%a1%'";

/// Interactive use: one row by key.
const LOOKUP: &str = "SELECT note FROM t WHERE id = 4242";

/// The scenario's thresholds scaled to a few seconds of load.
const CONFIG: &str = "
[audit]
min_stats_age_hours = 0
[rules.TEN001.params]
min_total_time_ms = 300
min_total_temp_bytes = 1048576
min_total_rows_read = 100000
";

fn cluster(major: u32) -> Option<TestServer> {
    let server = require_server_with(ServerOptions::new(major).conf("work_mem = '64kB'"))?;
    // pgsage connects to `postgres`, which is no tenant.
    server
        .execute("postgres", "CREATE EXTENSION pg_stat_statements")
        .unwrap();
    for db in TENANTS {
        server.create_database(db).unwrap();
        server
            .execute(
                db,
                // The setup's own memory: its statistics must not look like the tenant's
                // temporary files.
                "SET work_mem = '64MB';
                 CREATE TABLE t AS SELECT g AS id, md5(g::text) AS note FROM generate_series(1, 30000) g;
                 ALTER TABLE t ADD PRIMARY KEY (id);
                 ANALYZE t;",
            )
            .unwrap();
        // Before 15 the setup's counters reach the views asynchronously: wait for them,
        // so that they fall before the interval's first sample.
        server
            .wait_for(
                db,
                "SELECT n_tup_ins = 30000 FROM pg_stat_user_tables WHERE relname = 't'",
                Duration::from_secs(30),
            )
            .unwrap();
    }
    Some(server)
}

/// Each tenant's sessions run its statement in a loop (interactive ones with a pause, as
/// people click) until the returned flag is set.
fn run_workload(
    server: &TestServer,
    load: &[(&str, &'static str, bool)],
) -> (Arc<AtomicBool>, Vec<JoinHandle<()>>) {
    let stop = Arc::new(AtomicBool::new(false));
    let handles = load
        .iter()
        .map(|&(db, sql, paced)| {
            let mut client = server.client(db).unwrap();
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    client.batch_execute(sql).unwrap();
                    if paced {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
            })
        })
        .collect();
    (stop, handles)
}

/// Collects over a 3-second interval while the workload runs.
fn collect_under(server: &TestServer, load: &[(&str, &'static str, bool)]) -> Snapshot {
    // Statements of the setup do not count.
    server
        .execute("postgres", "SELECT pg_stat_statements_reset()")
        .unwrap();
    let (stop, handles) = run_workload(server, load);
    // As `pgsage audit --all-databases`: every database's tables are judged too, and the
    // cluster-wide tenant findings still come once.
    let options = CollectOptions {
        interval: Some(Duration::from_secs(3)),
        databases: DatabaseSelection::All,
        probe_local_host: false,
        ..CollectOptions::default()
    };
    let snapshot =
        pgsage::collect_snapshot_with(&ConnectOptions::new(server.dsn("postgres")), &options)
            .unwrap();
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().unwrap();
    }
    snapshot
}

fn tenant_findings(snapshot: &Snapshot) -> Vec<(String, String)> {
    let mut config = RuleConfig::shipped().unwrap();
    config.apply_toml(CONFIG, "test").unwrap();
    let report = audit(snapshot, &config);
    assert!(
        !report.skipped.iter().any(|s| s.rule.starts_with("TEN")),
        "{:?}",
        report.skipped
    );
    report
        .findings
        .iter()
        .filter(|f| f.rule.starts_with("TEN"))
        .map(|f| (f.rule.clone(), f.object.name.clone()))
        .collect()
}

#[test]
fn the_noisy_tenant_is_named_over_the_window() {
    for major in test_majors() {
        let Some(server) = cluster(major) else {
            continue;
        };
        let snapshot = collect_under(
            &server,
            &[
                ("acme", REPORT, false),
                ("beta", LOOKUP, true),
                ("gamma", LOOKUP, true),
                ("delta", LOOKUP, true),
            ],
        );
        assert_eq!(snapshot.other_databases.len(), 4, "PostgreSQL {major}");
        let tenants = Tenants::of(&snapshot);
        let names: Vec<&str> = tenants.databases.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names.len(), 4, "PostgreSQL {major}: {names:?}");
        assert!(
            matches!(tenants.statements_basis, Some(Basis::Interval { .. })),
            "PostgreSQL {major}: {:?} {:?}",
            tenants.statements_basis,
            tenants.statements_fallback
        );
        let acme = tenants.get("acme").unwrap();
        // Every tenant ran: the twins' lookups are counted, over all entries.
        for twin in ["beta", "gamma", "delta"] {
            let t = tenants.get(twin).unwrap();
            assert!(t.calls.unwrap() > 10, "PostgreSQL {major}: {t:?}");
            assert_eq!(t.temp_bytes, 0, "PostgreSQL {major}: {t:?}");
        }
        assert!(acme.temp_bytes > 0, "PostgreSQL {major}: {acme:?}");
        let share = tenants.share(acme, figure::time).unwrap();
        assert!(share > 50.0, "PostgreSQL {major}: acme {share}% {acme:?}");

        assert_eq!(
            tenant_findings(&snapshot),
            vec![("TEN001".to_owned(), "acme".to_owned())],
            "PostgreSQL {major}"
        );
    }
}

#[test]
fn balanced_tenants_raise_nothing() {
    for major in test_majors() {
        let Some(server) = cluster(major) else {
            continue;
        };
        let load: Vec<(&str, &'static str, bool)> =
            TENANTS.iter().map(|&db| (db, REPORT, false)).collect();
        let snapshot = collect_under(&server, &load);
        let tenants = Tenants::of(&snapshot);
        // The load was there, shared: every tenant ran reports and spilled.
        for t in &tenants.databases {
            assert!(t.temp_bytes > 0, "PostgreSQL {major}: {t:?}");
            assert!(
                t.statement_time_ms.unwrap() > 0.0,
                "PostgreSQL {major}: {t:?}"
            );
        }
        assert_eq!(tenant_findings(&snapshot), vec![], "PostgreSQL {major}");
    }
}
