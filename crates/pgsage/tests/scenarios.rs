//! Every rule as a live scenario on real PostgreSQL servers (13–18): plant the problem and
//! assert the finding; plant the healthy twin and assert the rule ran and stayed quiet.
//!
//! With `PGSAGE_UPDATE_FIXTURES=1` the snapshots collected on PostgreSQL
//! `FIXTURE_MAJOR` are saved as the rules' fixtures (`scripts/capture-fixtures.sh`).

use std::time::Duration;

use pgsage::snapshot::{Fact, HostFacts};
use pgsage::{audit, CollectOptions, ConnectOptions, RuleConfig, Snapshot};
use pgsage_testkit::scenario::{self, fixture_path, Case, Scenario, FIXTURE_MAJOR};
use pgsage_testkit::{require_server_with, ServerOptions, TestServer};

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
    scenario::prepare(server, db, case).unwrap_or_else(|e| panic!("setup: {e}"));
    if let Some(role) = &case.collect_as {
        let grants: Vec<&str> = role.grants.iter().map(String::as_str).collect();
        server
            .create_role(&role.name, &role.password, &grants)
            .expect("create role");
    }
    let planted = scenario::hold(server, db, case).unwrap_or_else(|e| panic!("hold: {e}"));
    // The case's server, or its standby (`collect_from = "standby"`).
    let target = planted.collect_target(case);
    let dsn = match &case.collect_as {
        Some(role) => target.dsn_as(&role.name, &role.password, db),
        None => target.dsn(db),
    };
    let options = CollectOptions {
        host_facts: host_facts(case),
        interval: case.interval_seconds.map(Duration::from_secs_f64),
        // Facts come from the scenario only, never from the machine running the test.
        probe_local_host: false,
        ..CollectOptions::default()
    };
    let snapshot = pgsage::collect_snapshot_with(&ConnectOptions::new(dsn), &options)
        .unwrap_or_else(|e| panic!("collecting from PostgreSQL {}: {e}", server.major()));
    drop(planted);
    snapshot
}

fn run_case(major: u32, scenario: &Scenario, case: &Case, config: &RuleConfig) {
    if case.min_major.is_some_and(|m| major < m) {
        return;
    }
    let mut opts = ServerOptions::new(major);
    for line in scenario.server_conf.iter().chain(&case.server_conf) {
        opts = opts.conf(line);
    }
    let Some(server) = require_server_with(opts) else {
        return;
    };
    let ctx = format!(
        "scenario {}/{} on PostgreSQL {major}",
        scenario.name, case.name
    );
    let snapshot = plant_and_collect(&server, "scenario", case);
    if major == FIXTURE_MAJOR && std::env::var_os("PGSAGE_UPDATE_FIXTURES").is_some() {
        let path = fixture_path(&scenario.name, &case.name);
        std::fs::create_dir_all(path.parent().expect("fixture dir")).expect("mkdir");
        snapshot.save(&path).expect("save fixture");
    }
    let report = audit(&snapshot, config);
    for rule in &scenario.rules {
        let skipped = report.skipped.iter().find(|s| &s.rule == rule);
        match (skipped, case.skips.contains(rule)) {
            (Some(s), false) => panic!("{ctx}: {rule} was skipped: {}", s.reason),
            (None, true) => panic!("{ctx}: {rule} should have been skipped"),
            _ => {}
        }
    }
    let mut found: Vec<(String, String)> = report
        .findings
        .iter()
        .filter(|f| scenario.rules.contains(&f.rule))
        .map(|f| (f.rule.clone(), f.object.display_name()))
        .collect();
    found.sort();
    found.dedup();
    let mut expected: Vec<(String, String)> = case
        .expect
        .iter()
        .map(|e| (e.rule.clone(), e.object.clone()))
        .collect();
    expected.sort();
    let missing: Vec<_> = expected.iter().filter(|e| !found.contains(e)).collect();
    let noisy: Vec<_> = found.iter().filter(|f| !expected.contains(f)).collect();
    assert!(
        missing.is_empty() && noisy.is_empty(),
        "{ctx}:\n  missing: {missing:?}\n  noisy: {noisy:?}\n  findings: {:#?}",
        report
            .findings
            .iter()
            .filter(|f| scenario.rules.contains(&f.rule))
            .map(|f| format!("{} {}: {}", f.rule, f.object.display_name(), f.message))
            .collect::<Vec<_>>()
    );
}

/// `PGSAGE_SCENARIOS=vacuum,indexing` limits the run to some scenarios (while writing rules).
fn selected(scenario: &Scenario) -> bool {
    match std::env::var("PGSAGE_SCENARIOS") {
        Ok(list) if !list.trim().is_empty() => list.split(',').any(|n| n.trim() == scenario.name),
        _ => true,
    }
}

fn run_all(major: u32) {
    if !pgsage_testkit::test_majors().contains(&major) {
        return;
    }
    let scenarios = Scenario::all().expect("scenario files");
    for r in pgsage::rules::RULES.iter().filter(|r| {
        // Judged on logs only: their cases are log captures (workload_windows.rs).
        r.in_audit() && !pgsage::rules::workload::JUDGED_ON_LOGS_ONLY.contains(&r.meta().id)
    }) {
        let id = r.meta().id;
        assert!(
            scenarios.iter().any(|s| s
                .cases
                .iter()
                .any(|c| c.expect.iter().any(|e| e.rule == id)))
                && scenarios
                    .iter()
                    .any(|s| s.quiet_cases_for(id).next().is_some()),
            "rule {id} needs a scenario case where it fires and one where it is checked and quiet"
        );
    }
    for s in scenarios.iter().filter(|s| selected(s)) {
        let mut config = RuleConfig::shipped().expect("shipped packs");
        config
            .apply_toml(&s.config, &format!("scenario {}", s.name))
            .expect("scenario config");
        for case in &s.cases {
            run_case(major, s, case, &config);
        }
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
