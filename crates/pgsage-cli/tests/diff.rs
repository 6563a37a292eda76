//! `pgsage diff` and `pgsage audit --baseline` end to end: exit codes, the baseline block,
//! and, on a real server, a baseline taken before a planted problem.

// A test's failure is a panic; unwrap says so without ceremony.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{demo, pgsage, stderr, stdout};
use pgsage_testkit::scenario::fixture_path;
use pgsage_testkit::{require_server, test_majors};
use serde_json::Value;

fn path(p: &Path) -> String {
    p.display().to_string()
}

fn fixture(scenario: &str, case: &str) -> String {
    path(&fixture_path(scenario, case))
}

/// Writes the JSON report of `audit args…` to `out`.
fn report_to(out: &Path, args: &[&str]) {
    let mut all = vec!["audit", "--format", "json", "-o"];
    let out_s = path(out);
    all.push(&out_s);
    all.extend_from_slice(args);
    let o = pgsage(&all);
    assert!(matches!(o.status.code(), Some(0 | 1)), "{}", stderr(&o));
}

#[test]
fn a_baseline_equal_to_the_report_passes_fail_on_and_a_new_problem_fails_it() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.json");
    report_to(&base, &["--snapshot", &demo()]);
    let base_s = path(&base);

    // Without a baseline the demo's warnings fail the run; against itself nothing is new.
    let o = pgsage(&["audit", "--snapshot", &demo(), "--fail-on", "warning"]);
    assert_eq!(o.status.code(), Some(1));
    let o = pgsage(&[
        "audit",
        "--snapshot",
        &demo(),
        "--fail-on",
        "warning",
        "--baseline",
        &base_s,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).starts_with("0 new since the baseline"),
        "{}",
        stdout(&o)
    );

    // A healthy baseline, then the planted problems: the new ones fail the run and are named.
    let healthy = dir.path().join("healthy.json");
    report_to(&healthy, &["--snapshot", &fixture("vacuum", "healthy")]);
    let healthy_s = path(&healthy);
    let problems = fixture("vacuum", "problems");
    let o = pgsage(&[
        "audit",
        "--snapshot",
        &problems,
        "--fail-on",
        "warning",
        "--baseline",
        &healthy_s,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("new: [critical] VAC001 `public.stock_move_line`"),
        "{}",
        stdout(&o)
    );

    let o = pgsage(&[
        "audit",
        "--snapshot",
        &problems,
        "--format",
        "json",
        "--baseline",
        &healthy_s,
    ]);
    let report: Value = serde_json::from_slice(&o.stdout).unwrap();
    let block = &report["baseline"];
    assert_eq!(block["path"], healthy_s.as_str());
    let indices = block["new_finding_indices"].as_array().unwrap();
    assert_eq!(block["new"].as_u64(), Some(indices.len() as u64));
    assert!(!indices.is_empty());
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(
        block["new"].as_u64().unwrap() + block["persisting"].as_u64().unwrap(),
        findings.len() as u64
    );
    for (i, key) in indices
        .iter()
        .zip(block["new_findings"].as_array().unwrap())
    {
        let f = &findings[i.as_u64().unwrap() as usize];
        assert_eq!(f["rule"], key["rule"]);
        assert_eq!(f["object"]["name"], key["name"]);
    }
}

#[test]
fn diff_fails_on_new_findings_only_and_refuses_another_cluster() {
    let healthy = fixture("vacuum", "healthy");
    let problems = fixture("vacuum", "problems");
    let o = pgsage(&["diff", &healthy, &problems, "--fail-on", "critical"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).contains("6 new, 0 resolved"), "{}", stdout(&o));
    // Back the other way the problems are resolved: nothing new fails it.
    let o = pgsage(&["diff", &problems, &healthy, "--fail-on", "info"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    let o = pgsage(&["diff", &problems, &problems, "--format", "yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("[possible values: text, markdown, json, html]"),
        "{}",
        stderr(&o)
    );
    let o = pgsage(&["diff", &problems, &problems, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let d: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(d["kind"], "snapshots");
    assert_eq!(d["findings"]["new"].as_array().unwrap().len(), 0);
    let o = pgsage(&["diff", &healthy, &problems, "--format", "html"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("<!DOCTYPE html>"));
    assert!(stdout(&o).contains("<code>scenario.public.stock_move_line</code>"));

    // The same captured snapshot with another cluster_name: refused, then allowed.
    let dir = tempfile::tempdir().unwrap();
    let mut other: Value =
        serde_json::from_str(&std::fs::read_to_string(&problems).unwrap()).unwrap();
    other["server"]["cluster_name"] = "erp-reporting".into();
    let mut named: Value = other.clone();
    named["server"]["cluster_name"] = "erp-main".into();
    let (a, b) = (dir.path().join("a.json"), dir.path().join("b.json"));
    std::fs::write(&a, named.to_string()).unwrap();
    std::fs::write(&b, other.to_string()).unwrap();
    let o = pgsage(&["diff", &path(&a), &path(&b)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not of the same server"),
        "{}",
        stderr(&o)
    );
    let o = pgsage(&[
        "diff",
        &path(&a),
        &path(&b),
        "--allow-different-servers",
        "--format",
        "markdown",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("## Warnings"), "{}", stdout(&o));
}

#[test]
fn a_live_baseline_alerts_only_on_the_problem_planted_after_it() {
    let Some(&major) = test_majors().iter().max() else {
        return;
    };
    let Some(server) = require_server(major) else {
        return;
    };
    server.create_database("erp").unwrap();
    // A problem already there: a table without a primary key (SCH003), known to the baseline.
    server
        .execute(
            "erp",
            "CREATE TABLE account_move_log (id int, note text);
             INSERT INTO account_move_log SELECT g, 'x' FROM generate_series(1, 5000) g;
             ANALYZE account_move_log;",
        )
        .unwrap();
    let dsn = server.dsn("erp");
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.json");
    report_to(&base, &["--dsn", &dsn, "--no-local-facts"]);
    let base_s = path(&base);
    let o = pgsage(&[
        "audit",
        "--dsn",
        &dsn,
        "--no-local-facts",
        "--fail-on",
        "warning",
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "the old problem fails a run without a baseline"
    );
    let o = pgsage(&[
        "audit",
        "--dsn",
        &dsn,
        "--no-local-facts",
        "--fail-on",
        "warning",
        "--baseline",
        &base_s,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}\n{}", stdout(&o), stderr(&o));

    // The planted problem: an unindexed foreign key searched 300 times (IDX009).
    server
        .execute(
            "erp",
            "CREATE TABLE stock_lot (id serial PRIMARY KEY, name text NOT NULL);
             INSERT INTO stock_lot (name) SELECT 'LOT' || g FROM generate_series(1, 2000) g;
             CREATE TABLE stock_move_lot (id serial PRIMARY KEY, lot_id int NOT NULL REFERENCES stock_lot, qty numeric NOT NULL);
             INSERT INTO stock_move_lot (lot_id, qty) SELECT 1 + g % 2000, g % 17 FROM generate_series(1, 120000) g;
             ANALYZE stock_lot, stock_move_lot;
             DO $$ BEGIN FOR i IN 1..300 LOOP EXECUTE format('SELECT sum(qty) FROM stock_move_lot WHERE lot_id = %s', i); END LOOP; END $$;",
        )
        .unwrap();
    server
        .wait_for(
            "erp",
            "SELECT coalesce((SELECT seq_scan >= 300 FROM pg_stat_user_tables WHERE relname = 'stock_move_lot'), false)",
            std::time::Duration::from_secs(30),
        )
        .unwrap();
    let o = pgsage(&[
        "audit",
        "--dsn",
        &dsn,
        "--no-local-facts",
        "--fail-on",
        "warning",
        "--baseline",
        &base_s,
    ]);
    assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
    let text = stdout(&o);
    assert!(
        text.contains("new: [warning] IDX009 `public.stock_move_lot`"),
        "{text}"
    );
    assert!(
        !text.contains("new: [warning] SCH003"),
        "the old problem is not new: {text}"
    );
}
