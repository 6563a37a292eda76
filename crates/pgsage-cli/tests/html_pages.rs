//! The HTML pages of `pgsage plan` and `pgsage workload`, written to a file: for a plan
//! and a log of the corpus and the demo snapshot's pg_stat_statements (all made by real
//! servers), and for a log a real server writes during the test, spread over several
//! time windows. Each page is checked against the same command's JSON, and one page of
//! each is kept as a reviewed insta snapshot.

mod common;

use std::path::Path;

use common::{demo, pgsage, stderr, stdout};
use pgsage_testkit::scenario::repo_root;
use pgsage_testkit::{require_server_with, test_majors, ServerOptions};

fn data(rel: &str) -> String {
    repo_root().join("testdata").join(rel).display().to_string()
}

/// Runs `pgsage` and returns its JSON output.
fn json(args: &[&str]) -> serde_json::Value {
    let o = pgsage(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    serde_json::from_str(&stdout(&o)).expect("JSON output")
}

/// Runs `pgsage`, which writes a page to `file`, and returns the page.
fn page(args: &[&str], file: &Path) -> String {
    let o = pgsage(args);
    assert!(o.status.success(), "{args:?}: {}", stderr(&o));
    assert!(
        stdout(&o).is_empty(),
        "the page went to the file, not to standard output"
    );
    let page = std::fs::read_to_string(file).expect("the page");
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    page
}

/// A page for a snapshot: the layout's style and script (reviewed with the layout) and
/// the version left out, one element per line so that a change reads as a diff.
fn normalised(page: &str) -> String {
    use pgsage::html::layout::{SCRIPT, STYLE};
    page.replace(STYLE, "[layout style]")
        .replace(SCRIPT, "[layout script]")
        .replace(env!("CARGO_PKG_VERSION"), "[version]")
        .replace("><", ">\n<")
}

#[test]
fn a_plan_page_marks_each_finding_on_its_node() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("plan.html");
    let input = data("plans/pg18/row_misestimate.json");
    let html = page(
        &[
            "plan",
            &input,
            "--format",
            "html",
            "-o",
            &file.display().to_string(),
        ],
        &file,
    );
    let reports = json(&["plan", &input, "--format", "json"]);
    let findings = reports[0]["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    for (i, f) in findings.iter().enumerate() {
        let path = f["evidence"]["node_path"].as_str().expect("a node finding");
        let row_at = html
            .find(&format!("<tr data-path=\"{path}\""))
            .expect("the node's row");
        let row = &html[row_at..row_at + html[row_at..].find("</tr>").expect("row end")];
        assert!(
            row.contains(&format!("data-finding=\"{i}\"")),
            "{}: {row}",
            f["rule"]
        );
        assert!(html.contains(&format!("id=\"finding-{i}\"")));
    }
    for a in reports[0]["actions"].as_array().expect("actions") {
        let id = a["id"].as_str().expect("action id");
        assert!(html.contains(&format!("id=\"action-{id}\"")), "{id}");
    }
    insta::assert_snapshot!("plan_page_row_misestimate", normalised(&html));
}

#[test]
fn a_workload_page_of_a_log_and_the_workload_saved_beside_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("workload.html");
    let saved = dir.path().join("workload.json");
    let log = data("logs/pg17/default.log");
    let html = page(
        &[
            "workload",
            &log,
            "--format",
            "html",
            "--report-out",
            &file.display().to_string(),
            "-o",
            &saved.display().to_string(),
            "--quiet",
        ],
        &file,
    );
    // -o still saves the workload itself.
    let w = pgsage::workload::Workload::load(&saved).expect("workload.json");
    let report = json(&["workload", &log, "--format", "json", "--quiet"]);
    assert_eq!(
        report["workload"]["queries"].as_array().map(Vec::len),
        Some(w.queries.len())
    );
    for q in w.queries.iter().take(20) {
        assert!(
            html.contains(&format!("<tr data-fingerprint=\"{}\"", q.fingerprint)),
            "{}",
            q.fingerprint
        );
    }
    insta::assert_snapshot!("workload_page_pg17_default_log", normalised(&html));
}

#[test]
fn a_workload_page_shows_every_finding_with_its_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("workload.html");
    let d = demo();
    let html = page(
        &[
            "workload",
            "--snapshot",
            &d,
            "--format",
            "html",
            "--report-out",
            &file.display().to_string(),
        ],
        &file,
    );
    let report = json(&["workload", "--snapshot", &d, "--format", "json"]);
    let findings = report["findings"].as_array().expect("findings");
    assert!(!findings.is_empty(), "the demo workload has findings");
    for (i, f) in findings.iter().enumerate() {
        assert!(
            html.contains(&format!(
                "data-finding=\"{i}\" data-rule=\"{}\"",
                f["rule"].as_str().unwrap_or_default()
            )),
            "{}",
            f["rule"]
        );
        if let Some(sql) = f["fix"]["sql"].as_str() {
            let first = sql.lines().next().unwrap_or_default();
            let escaped = first
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;");
            assert!(html.contains(&escaped), "{}: {first}", f["rule"]);
        }
    }
}

/// A real server logs every statement while a few run over some three seconds; read with
/// one-second windows, the page draws one column per window of the workload.
#[test]
fn the_time_profile_has_a_column_per_window() {
    let Some(major) = test_majors().into_iter().max() else {
        return;
    };
    let Some(server) = require_server_with(
        ServerOptions::new(major)
            .conf("log_min_duration_statement = 0")
            .conf("log_line_prefix = '%m [%p] '"),
    ) else {
        return;
    };
    for _ in 0..4 {
        server
            .execute("postgres", "SELECT pg_sleep(0.8)")
            .expect("statement");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("postgres.log");
    std::fs::copy(server.log_path(), &log).expect("copy the log");
    let log = log.display().to_string();
    let file = dir.path().join("workload.html");
    let html = page(
        &[
            "workload",
            &log,
            "--bucket",
            "1s",
            "--format",
            "html",
            "--report-out",
            &file.display().to_string(),
            "--quiet",
        ],
        &file,
    );
    let report = json(&[
        "workload", &log, "--bucket", "1s", "--format", "json", "--quiet",
    ]);
    let windows = report["workload"]["profile"]["windows"]
        .as_array()
        .expect("windows")
        .len();
    assert!(
        windows >= 2,
        "the statements span several seconds: {windows}"
    );
    assert!(html.contains("id=\"chart-time-profile\""), "{html}");
    for i in 0..windows {
        assert!(
            html.contains(&format!("<g data-window=\"{i}\"")),
            "window {i}"
        );
    }
    assert!(!html.contains(&format!("<g data-window=\"{windows}\"")));
}

/// The auto_explain plans of a corpus log: one section per plan, every id once.
#[test]
fn a_plan_page_of_a_log_has_a_section_per_plan() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("plans.html");
    let log = data("logs/pg17/default.log");
    let html = page(
        &[
            "plan",
            "--log",
            &log,
            "--format",
            "html",
            "-o",
            &file.display().to_string(),
        ],
        &file,
    );
    let reports = json(&["plan", "--log", &log, "--format", "json"]);
    let n = reports.as_array().map_or(0, Vec::len);
    assert!(n >= 2, "the log has several plans: {n}");
    for i in 1..=n {
        assert!(
            html.contains(&format!("<section class=\"plan\" id=\"plan-{i}\"")),
            "plan {i}"
        );
    }
    let ids: Vec<&str> = html
        .match_indices(" id=\"")
        .map(|(at, m)| {
            let rest = &html[at + m.len()..];
            &rest[..rest.find('"').unwrap_or(0)]
        })
        .collect();
    let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "{ids:?}");
}
