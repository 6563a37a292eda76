//! The diff on snapshots captured from real servers (`testdata/`): a snapshot against
//! itself, a healthy case against its planted twin, and captured snapshots with one
//! planted change each (a setting, a statement's counters, a table's size) made in code,
//! so each test shows that exactly the planted change is reported.

// A test's failure is a panic; unwrap says so without ceremony.
#![allow(clippy::unwrap_used)]

use chrono::Duration;
use pgsage_testkit::scenario::{captured_snapshots, fixture_path};

use super::resets::ResetScope;
use super::statements::Basis;
use super::*;
use crate::snapshot::Snapshot;

fn demo() -> Snapshot {
    let path = captured_snapshots()
        .into_iter()
        .find(|p| p.ends_with("demo.json"))
        .unwrap();
    Snapshot::load(path).unwrap()
}

fn fixture(scenario: &str, case: &str) -> Snapshot {
    Snapshot::load(fixture_path(scenario, case)).unwrap()
}

/// `s` collected a day later, its counters untouched.
fn later(s: &Snapshot) -> Snapshot {
    let mut n = s.clone();
    n.collected_at += Duration::days(1);
    n
}

fn diff(old: &Snapshot, new: &Snapshot) -> SnapshotDiff {
    snapshots(
        old,
        new,
        &RuleConfig::shipped().unwrap(),
        &DiffOptions::default(),
    )
    .unwrap()
}

#[test]
fn a_snapshot_against_a_later_copy_of_itself_shows_no_change() {
    let old = demo();
    // Ten minutes later rather than a day: a day of untouched counters is a day without
    // temporary files, which rightly resolves a finding judged on their rate (MEM003).
    let mut new = old.clone();
    new.collected_at += Duration::minutes(10);
    let d = diff(&old, &new);
    assert!(d.is_empty(), "{}", d.to_json());
    assert!(
        !d.findings.persisting.is_empty(),
        "the demo has findings, all persisting"
    );
    assert_eq!(
        d.actions.persisting.len(),
        crate::audit(&old, &RuleConfig::shipped().unwrap())
            .actions
            .len()
    );
    let mut text = Vec::new();
    render::render(&d, render::Format::Text, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("Nothing changed"), "{text}");
}

#[test]
fn planted_problems_are_new_and_resolved_the_other_way() {
    let healthy = fixture("vacuum", "healthy");
    let problems = fixture("vacuum", "problems");
    let config = RuleConfig::shipped().unwrap();
    let (before, after) = (
        crate::audit(&healthy, &config),
        crate::audit(&problems, &config),
    );
    let d = diff(&healthy, &problems);
    assert!(!d.findings.new.is_empty());
    for c in &d.findings.new {
        let in_before = before
            .findings
            .iter()
            .any(|f| FindingKey::of(f, &before) == c.key);
        assert!(!in_before, "{} was already there", c.key);
    }
    assert_eq!(
        d.findings.new.len() + d.findings.persisting.len(),
        after.findings.len()
    );
    let back = diff(&problems, &healthy);
    let mut new: Vec<_> = d.findings.new.iter().map(|c| c.key.clone()).collect();
    let mut resolved: Vec<_> = back
        .findings
        .resolved
        .iter()
        .map(|c| c.key.clone())
        .collect();
    new.sort();
    resolved.sort();
    assert_eq!(new, resolved);
    // The fixtures were captured on servers started apart: said, not hidden.
    assert!(d.resets.iter().any(|r| r.scope == ResetScope::Server));
}

#[test]
fn a_changed_setting_and_one_pending_restart_are_reported_alone() {
    let old = demo();
    let mut new = later(&old);
    for s in &mut new.settings {
        match s.name.as_str() {
            "work_mem" => s.setting = (s.as_f64().unwrap() * 4.0).to_string(),
            "shared_buffers" => s.pending_restart = true,
            _ => {}
        }
    }
    let d = diff(&old, &new);
    let names: Vec<&str> = d.settings.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["shared_buffers", "work_mem"]);
    let work_mem = &d.settings[1];
    assert_ne!(work_mem.old, work_mem.new);
    assert!(!work_mem.pending_restart);
    let shared = &d.settings[0];
    assert_eq!(
        shared.old, shared.new,
        "the running value stays until the restart"
    );
    assert!(shared.pending_restart);
    let md = {
        let mut out = Vec::new();
        render::render(&d, render::Format::Markdown, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    };
    assert!(md.contains("pending restart"), "{md}");
}

#[test]
fn a_slower_statement_regresses_and_a_steady_one_does_not() {
    let old = demo();
    let mut new = later(&old);
    let top = &mut new.statements.as_mut().unwrap().top;
    let (slow, steady) = (top[0].queryid, top[1].queryid);
    for (i, s) in top.iter_mut().take(2).enumerate() {
        let mean = s.total_exec_time_ms / s.calls as f64;
        let factor = if i == 0 { 3.0 } else { 1.0 };
        s.calls += 100;
        s.total_exec_time_ms += 100.0 * (mean * factor + if i == 0 { 5.0 } else { 0.0 });
    }
    new.statements.as_mut().unwrap().totals.calls += 200;
    let d = diff(&old, &new);
    let regressed: Vec<i64> = d.statements.iter().map(|s| s.queryid).collect();
    assert_eq!(regressed, [slow], "{}", d.to_json());
    assert_ne!(slow, steady);
    let r = &d.statements[0];
    assert_eq!((r.basis, r.new_calls), (Basis::Interval, 100));
    assert!(r.ratio >= 3.0, "{}", r.ratio);
}

#[test]
fn a_statements_reset_is_said_and_compared_by_means_never_negative() {
    let old = demo();
    let mut new = later(&old);
    let st = new.statements.as_mut().unwrap();
    st.stats_reset = Some(new.collected_at - Duration::hours(1));
    st.totals.calls = 50;
    let first = &mut st.top[0];
    let mean = first.total_exec_time_ms / first.calls as f64;
    first.calls = 20;
    first.total_exec_time_ms = 20.0 * (mean * 4.0 + 5.0);
    let d = diff(&old, &new);
    assert!(d.resets.iter().any(|r| r.scope == ResetScope::Statements));
    assert_eq!(d.statements.len(), 1, "{}", d.to_json());
    let r = &d.statements[0];
    assert_eq!((r.basis, r.new_calls), (Basis::SinceReset, 20));
    assert!(d
        .statements
        .iter()
        .all(|s| s.new_calls > 0 && s.extra_time_ms > 0.0));
}

#[test]
fn a_grown_table_and_its_dead_rows_are_reported_untouched_ones_are_not() {
    let old = demo();
    let mut new = later(&old);
    let grown = old
        .tables
        .iter()
        .max_by_key(|t| t.heap_bytes)
        .unwrap()
        .qualified_name();
    let t = new
        .tables
        .iter_mut()
        .find(|t| t.qualified_name() == grown)
        .unwrap();
    t.heap_bytes += 64 << 20;
    // Half as many dead rows as live ones: past both thresholds (rows and share).
    let dead = t.n_live_tup / 2 + 1_000;
    t.n_tup_upd += dead;
    t.n_dead_tup += dead;
    let d = diff(&old, &new);
    assert_eq!(d.databases.len(), 1, "{}", d.to_json());
    let db = &d.databases[0];
    assert_eq!(db.database, old.server.database);
    let grown_names: Vec<&str> = db.tables_grown.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(grown_names, [grown.as_str()]);
    let dead: Vec<&str> = db.dead_rows.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(dead, [grown.as_str()]);
    assert!(db.indexes_grown.is_empty() && db.tables_added.is_empty());
}

#[test]
fn a_table_whose_counters_fell_is_a_reset_and_its_dead_rows_are_not_compared() {
    let old = demo();
    let mut new = later(&old);
    let name = old
        .tables
        .iter()
        .find(|t| t.n_tup_ins > 0)
        .unwrap()
        .qualified_name();
    let t = new
        .tables
        .iter_mut()
        .find(|t| t.qualified_name() == name)
        .unwrap();
    t.n_tup_ins = 0;
    t.n_tup_upd = 0;
    t.n_dead_tup = 0;
    let d = diff(&old, &new);
    let table_resets: Vec<_> = d
        .resets
        .iter()
        .filter(|r| r.scope == ResetScope::Table)
        .collect();
    assert_eq!(table_resets.len(), 1);
    assert_eq!(table_resets[0].object.as_deref(), Some(name.as_str()));
    assert!(d
        .databases
        .iter()
        .all(|db| db.dead_rows.iter().all(|r| r.name != name)));
}

#[test]
fn other_databases_are_compared_database_by_database() {
    let old_base = demo();
    let tenant = fixture("vacuum", "problems");
    let mut sections = tenant.connected_sections();
    sections.name = "tenant_b".into();
    let mut old = old_base.clone();
    old.other_databases.push(sections.clone());
    let mut new = later(&old);
    let grown = new.other_databases[0].tables[0].qualified_name();
    new.other_databases[0].tables[0].heap_bytes += 32 << 20;
    let d = diff(&old, &new);
    let dbs: Vec<&str> = d.databases.iter().map(|d| d.database.as_str()).collect();
    assert_eq!(dbs, ["tenant_b"], "{}", d.to_json());
    assert_eq!(d.databases[0].tables_grown[0].name, grown);
}

#[test]
fn snapshots_of_different_clusters_are_refused_unless_allowed() {
    let old = demo();
    let mut a = old.clone();
    a.server.cluster_name = Some("erp-main".into());
    let mut b = later(&a);
    b.server.cluster_name = Some("erp-reporting".into());
    let config = RuleConfig::shipped().unwrap();
    let err = snapshots(&a, &b, &config, &DiffOptions::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("cluster_name `erp-main` → `erp-reporting`"),
        "{err}"
    );
    let allowed = DiffOptions {
        allow_different_servers: true,
        ..DiffOptions::default()
    };
    let d = snapshots(&a, &b, &config, &allowed).unwrap();
    assert!(d.warnings.iter().any(|w| w.contains("different servers")));
}

#[test]
fn a_baseline_counts_only_new_findings() {
    let config = RuleConfig::shipped().unwrap();
    let healthy = crate::audit(&fixture("vacuum", "healthy"), &config);
    let problems = crate::audit(&fixture("vacuum", "problems"), &config);
    let same = baseline::BaselineComparison::of(&problems, &problems, "same.json");
    assert_eq!(
        (same.new, same.resolved, same.persisting),
        (0, 0, problems.findings.len())
    );
    assert_eq!(same.new_severities(&problems).count(), 0);
    let against_healthy = baseline::BaselineComparison::of(&problems, &healthy, "healthy.json");
    assert_eq!(
        against_healthy.new,
        diff(
            &fixture("vacuum", "healthy"),
            &fixture("vacuum", "problems")
        )
        .findings
        .new
        .len()
    );
    assert!(against_healthy.new > 0);
    let json: serde_json::Value =
        serde_json::from_str(&baseline::report_json(&problems, &against_healthy)).unwrap();
    assert_eq!(json["baseline"]["new"], against_healthy.new);
    assert_eq!(
        json["findings"].as_array().unwrap().len(),
        problems.findings.len()
    );
    // The report with its block still reads as a report.
    let back: crate::Report = serde_json::from_value(json).unwrap();
    assert_eq!(back.findings.len(), problems.findings.len());
}

#[test]
fn two_reports_compare_findings_and_actions_only() {
    let dir = tempfile::tempdir().unwrap();
    let config = RuleConfig::shipped().unwrap();
    let old_path = dir.path().join("old.json");
    let new_path = dir.path().join("new.json");
    std::fs::write(
        &old_path,
        crate::audit(&fixture("indexing", "missing_index_healthy"), &config).to_json(),
    )
    .unwrap();
    std::fs::write(
        &new_path,
        crate::audit(&fixture("indexing", "missing_index"), &config).to_json(),
    )
    .unwrap();
    let (old, new) = (
        Input::load(&old_path).unwrap(),
        Input::load(&new_path).unwrap(),
    );
    let d = inputs(&old, &new, &config, &DiffOptions::default()).unwrap();
    assert_eq!(d.kind, DiffKind::Reports);
    assert!(
        d.findings.new.iter().any(|c| c.key.rule.starts_with("IDX")),
        "{}",
        d.to_json()
    );
    assert!(d.settings.is_empty() && d.statements.is_empty() && d.databases.is_empty());
    // A snapshot is also an input.
    let snap_path = dir.path().join("snap.json");
    fixture("indexing", "missing_index")
        .save(&snap_path)
        .unwrap();
    assert!(matches!(
        Input::load(&snap_path).unwrap(),
        Input::Snapshot(_)
    ));
}

#[test]
fn activity_in_between_is_the_counters_difference_and_a_reset_database_shows_none() {
    let old = demo();
    let mut new = later(&old);
    let erp = new.server.database.clone();
    let other = new
        .databases
        .iter()
        .find(|d| d.name != erp && d.allow_connections && !d.is_template)
        .unwrap()
        .name
        .clone();
    for d in &mut new.databases {
        if d.name == erp {
            d.xact_commit += 86_400;
            d.tup_inserted += 1_000;
            d.temp_bytes += 64 << 20;
        } else if d.name == other {
            d.xact_commit = 0;
            d.stats_reset = Some(new.collected_at - Duration::hours(2));
        }
    }
    new.wal_lsn_bytes = old.wal_lsn_bytes.map(|b| b + (1 << 30));
    let d = diff(&old, &new);
    let a = d.activity.as_ref().unwrap();
    assert_eq!(a.wal_bytes, old.wal_lsn_bytes.map(|_| 1 << 30));
    let busy = a.databases.iter().find(|x| x.database == erp).unwrap();
    assert_eq!(
        (busy.commits, busy.rows_written, busy.temp_bytes),
        (Some(86_400), Some(1_000), Some(64 << 20))
    );
    let reset = a.databases.iter().find(|x| x.database == other).unwrap();
    assert!(reset.reset && reset.commits.is_none());
    let mut text = Vec::new();
    render::render(&d, render::Format::Text, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    // A day's 86,400 transactions read as one a second.
    assert!(text.contains("86,400 transactions (1/s)"), "{text}");
    assert!(
        text.contains("its statistics were reset in between: not compared"),
        "{text}"
    );
}

#[test]
fn the_text_and_markdown_of_a_planted_diff_read_as_reviewed() {
    let d = diff(
        &fixture("vacuum", "healthy"),
        &fixture("vacuum", "problems"),
    );
    for (format, name) in [
        (render::Format::Text, "text"),
        (render::Format::Markdown, "markdown"),
    ] {
        let mut out = Vec::new();
        render::render(&d, format, &mut out).unwrap();
        insta::assert_snapshot!(
            format!("healthy_to_problems_{name}"),
            String::from_utf8(out).unwrap()
        );
    }
}

#[test]
fn the_collectors_session_and_client_settings_are_not_server_changes() {
    let old = demo();
    let mut new = later(&old);
    for s in &mut new.settings {
        match s.name.as_str() {
            // Another --timeout: the collector's session value moves, the server's does not.
            "lock_timeout" => s.setting = "5000".into(),
            "client_encoding" => s.setting = "LATIN1".into(),
            // The server's own value under the session's SET did change.
            "statement_timeout" => s.reset_val = Some("60000".into()),
            _ => {}
        }
    }
    let d = diff(&old, &new);
    let changes: Vec<(&str, Option<&str>, Option<&str>)> = d
        .settings
        .iter()
        .map(|s| (s.name.as_str(), s.old.as_deref(), s.new.as_deref()))
        .collect();
    assert_eq!(changes, [("statement_timeout", Some("0"), Some("1min"))]);
}

#[test]
fn a_database_only_the_new_snapshot_holds_brings_no_new_findings_but_a_warning() {
    let old = demo();
    let mut new = later(&old);
    let mut sections = fixture("vacuum", "problems").connected_sections();
    sections.name = "tenant_b".into();
    new.other_databases.push(sections);
    let d = diff(&old, &new);
    assert!(
        d.findings
            .new
            .iter()
            .all(|c| c.key.database.as_deref() != Some("tenant_b")),
        "{}",
        d.to_json()
    );
    assert!(
        d.warnings.iter().any(|w| w.contains("`tenant_b`")),
        "{:?}",
        d.warnings
    );
    assert!(d.databases.iter().all(|c| c.database != "tenant_b"));
}

#[test]
fn a_statement_whose_queryid_changed_is_matched_by_its_text() {
    let old = demo();
    let mut new = later(&old);
    let top = &mut new.statements.as_mut().unwrap().top;
    let s = top.iter_mut().find(|s| s.query.is_some()).unwrap();
    let mean = s.total_exec_time_ms / s.calls as f64;
    s.queryid = s.queryid.wrapping_add(1);
    s.calls += 50;
    s.total_exec_time_ms += 50.0 * (mean * 2.0 + 2.0);
    let (queryid, query) = (s.queryid, s.query.clone());
    let d = diff(&old, &new);
    assert_eq!(d.statements.len(), 1, "{}", d.to_json());
    let r = &d.statements[0];
    assert_eq!((r.queryid, &r.query), (queryid, &query));
    assert_eq!(r.matched_by, super::statements::MatchedBy::Text);
}
