//! Every rule as a live scenario on real PostgreSQL servers (13–18): plant the problem and
//! assert the finding; plant the healthy twin and assert the rule ran and stayed quiet.
//!
//! With `PGSAGE_UPDATE_FIXTURES=1` the snapshots collected on PostgreSQL
//! `FIXTURE_MAJOR` are saved as the rules' fixtures (`scripts/capture-fixtures.sh`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pgsage::snapshot::{Fact, HostFacts};
use pgsage::{audit, CollectOptions, ConnectOptions, RuleConfig, Snapshot};
use pgsage_testkit::scenario::{fixture_path, Case, Scenario};
use pgsage_testkit::{require_server_with, ServerOptions, TestServer};

/// The version fixtures are captured from.
const FIXTURE_MAJOR: u32 = 15;

fn host_facts(case: &Case) -> HostFacts {
    let mut facts = HostFacts::default();
    if let Some(ram) = case.host.get("ram").and_then(|v| v.as_str()) {
        let bytes = pgsage::host::parse_size(ram).expect("scenario host.ram");
        facts.ram_bytes = Some(Fact::new(bytes, "flag"));
    }
    if let Some(cpus) = case.host.get("cpus") {
        let n = cpus.as_float().or(cpus.as_integer().map(|i| i as f64));
        facts.cpus = n.map(|n| Fact::new(n, "flag"));
    }
    if let Some(s) = case.host.get("storage").and_then(|v| v.as_str()) {
        facts.storage = Some(Fact::new(s.parse().expect("scenario host.storage"), "flag"));
    }
    facts
}

/// Plants a case in its own database and collects a snapshot of it.
fn plant_and_collect(server: &TestServer, db: &str, case: &Case) -> Snapshot {
    server.create_database(db).expect("create database");
    for sql in &case.setup {
        server
            .execute(db, sql)
            .unwrap_or_else(|e| panic!("setup `{sql}` failed: {e}"));
    }
    if let Some(pred) = &case.wait_for {
        server
            .wait_for(db, pred, Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("waiting for `{pred}`: {e}"));
    }
    let held: Vec<_> = (0..case.hold_connections)
        .map(|_| server.client(db).expect("hold a connection"))
        .collect();
    let open: Vec<_> = case
        .open_transactions
        .iter()
        .map(|sql| {
            let mut c = server.client(db).expect("connection");
            c.batch_execute(&format!("BEGIN; {sql}"))
                .unwrap_or_else(|e| panic!("open transaction `{sql}`: {e}"));
            c
        })
        .collect();
    let background: Vec<_> = case
        .background
        .iter()
        .map(|sql| {
            let mut c = server.client(db).expect("connection");
            let sql = sql.clone();
            // Ends with an error when terminated after collection; that is expected.
            std::thread::spawn(move || {
                let _ = c.batch_execute(&sql);
            })
        })
        .collect();
    if let Some(pred) = &case.wait_for_background {
        server
            .wait_for(db, pred, Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("waiting for `{pred}`: {e}"));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let workload = (!case.during_interval.is_empty()).then(|| {
        let mut c = server.client(db).expect("connection");
        let statements = case.during_interval.clone();
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for sql in &statements {
                    let _ = c.batch_execute(sql);
                }
            }
        })
    });
    let options = CollectOptions {
        host_facts: host_facts(case),
        interval: case.interval_seconds.map(Duration::from_secs_f64),
        // Facts come from the scenario only, never from the machine running the test.
        probe_local_host: false,
        ..CollectOptions::default()
    };
    let snapshot = pgsage::collect_snapshot_with(&ConnectOptions::new(server.dsn(db)), &options)
        .unwrap_or_else(|e| panic!("collecting from PostgreSQL {}: {e}", server.major()));
    stop.store(true, Ordering::Relaxed);
    if let Some(w) = workload {
        let _ = w.join();
    }
    if !background.is_empty() {
        server
            .execute(
                db,
                &format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = '{db}' AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                ),
            )
            .expect("terminate background sessions");
        for b in background {
            let _ = b.join();
        }
    }
    drop(open);
    drop(held);
    snapshot
}

fn run_scenario(major: u32, scenario: &Scenario) {
    if scenario.min_major.is_some_and(|m| major < m) {
        return;
    }
    let mut opts = ServerOptions::new(major);
    for line in &scenario.server_conf {
        opts = opts.conf(line);
    }
    let Some(server) = require_server_with(opts) else {
        return;
    };
    let mut config = RuleConfig::shipped().expect("shipped packs");
    config
        .apply_toml(&scenario.config, "scenario")
        .expect("scenario config");
    let rule = scenario.rule.as_str();
    let ctx = format!("{rule} on PostgreSQL {major}");

    for case_name in ["fires", "quiet"] {
        let case = scenario.case(case_name).expect("case");
        let db = format!("{}_{case_name}", rule.to_ascii_lowercase());
        let snapshot = plant_and_collect(&server, &db, case);
        if major == FIXTURE_MAJOR && std::env::var_os("PGSAGE_UPDATE_FIXTURES").is_some() {
            let path = fixture_path(rule, case_name);
            std::fs::create_dir_all(path.parent().expect("fixture dir")).expect("mkdir");
            snapshot.save(&path).expect("save fixture");
        }
        let report = audit(&snapshot, &config);
        if let Some(skip) = report.skipped.iter().find(|s| s.rule == rule) {
            panic!("{ctx}: skipped on the {case_name} case: {}", skip.reason);
        }
        let flagged: Vec<String> = report
            .findings
            .iter()
            .filter(|f| f.rule == rule)
            .map(|f| f.object.display_name())
            .collect();
        if case_name == "fires" {
            for expected in &case.expect {
                assert!(
                    flagged.contains(expected),
                    "{ctx}: missing finding on `{expected}`; flagged: {flagged:?}"
                );
            }
            for f in &flagged {
                assert!(
                    case.expect.contains(f),
                    "{ctx}: noisy finding on `{f}` (expected only {:?})",
                    case.expect
                );
            }
        } else {
            assert!(
                flagged.is_empty(),
                "{ctx}: noisy on the healthy twin: {flagged:?}"
            );
        }
    }
}

fn run_all(major: u32) {
    let scenarios = Scenario::all().expect("scenario files");
    for r in pgsage::rules::RULES {
        assert!(
            scenarios.iter().any(|s| s.rule == r.meta().id),
            "rule {} has no scenario in testdata/scenarios",
            r.meta().id
        );
    }
    for s in &scenarios {
        run_scenario(major, s);
    }
}

#[test]
fn scenarios_pg13() {
    run_all(13);
}

#[test]
fn scenarios_pg14() {
    run_all(14);
}

#[test]
fn scenarios_pg15() {
    run_all(15);
}

#[test]
fn scenarios_pg16() {
    run_all(16);
}

#[test]
fn scenarios_pg17() {
    run_all(17);
}

#[test]
fn scenarios_pg18() {
    run_all(18);
}
