//! Lock incidents read from the logs captured on real servers
//! (`testdata/logs/locks/pg<major>/`, made by `scripts/capture-lock-logs.sh`): every
//! format gives the planted incidents per kind and table, attributed to the statement,
//! the application and the other process; the healthy twin gives none; old
//! `workload.json` files still load; the report shows them.

// A test's failure is a panic; unwrap says so without ceremony.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use pgsage_core::engine::workload::{render, RenderOptions, WorkloadReport};
use pgsage_core::report::render::Format;
use pgsage_core::workload::incidents::Operation;
use pgsage_core::workload::log::LogOptions;
use pgsage_core::workload::{from_logs, AggregateOptions, IncidentKind, Workload};
use pgsage_core::RuleConfig;
use serde_json::Value;

fn dir(major: u32) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("../../testdata/logs/locks/pg{major}"))
}

fn manifest(major: u32) -> Value {
    let text = std::fs::read_to_string(dir(major).join("manifest.json"))
        .unwrap_or_else(|e| panic!("pg{major}: {e} (scripts/capture-lock-logs.sh)"));
    serde_json::from_str(&text).unwrap()
}

/// Every capture's files: (what, workload).
fn workloads(major: u32, capture: &str) -> Vec<(String, Workload)> {
    let m = manifest(major);
    let prefix = m["prefix"].as_str().unwrap().to_owned();
    m["captures"][capture]["files"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(format, file)| {
            let opts = LogOptions {
                prefix: Some(prefix.clone()),
                ..LogOptions::default()
            };
            let path = dir(major).join(file.as_str().unwrap());
            let (w, _) =
                from_logs(&[path], &opts, AggregateOptions::default(), None, |_, _| {}).unwrap();
            (format!("pg{major} {capture} {format}"), w)
        })
        .collect()
}

fn counted(w: &Workload, kind: IncidentKind) -> Value {
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for g in w.incidents.iter().filter(|g| g.kind == kind) {
        *out.entry(g.relation.clone().unwrap_or_default())
            .or_default() += g.count;
    }
    serde_json::to_value(out).unwrap()
}

fn acquired(w: &Workload) -> Value {
    let mut out: BTreeMap<String, u64> = BTreeMap::new();
    for g in w.incidents.iter().filter(|g| g.acquired > 0) {
        *out.entry(g.relation.clone().unwrap_or_default())
            .or_default() += g.acquired;
    }
    serde_json::to_value(out).unwrap()
}

#[test]
fn every_format_gives_the_planted_incidents_per_table() {
    for major in 13..=18 {
        let planted = manifest(major)["captures"]["conflicts"]["planted"].clone();
        for (what, w) in workloads(major, "conflicts") {
            for (key, kind) in [
                ("deadlock", IncidentKind::Deadlock),
                ("serialization_failure", IncidentKind::SerializationFailure),
                ("lock_timeout", IncidentKind::LockTimeout),
                ("lock_wait", IncidentKind::LockWait),
            ] {
                assert_eq!(counted(&w, kind), planted[key], "{what}: {key}");
            }
            assert_eq!(acquired(&w), planted["lock_wait_acquired"], "{what}");
        }
    }
}

#[test]
fn incidents_are_attributed_to_statement_application_and_other_side() {
    for major in 13..=18 {
        let m = manifest(major);
        let cron = m["cron_application"].as_str().unwrap();
        let web = m["interactive_application"].as_str().unwrap();
        for (what, w) in workloads(major, "conflicts") {
            let deadlock = w
                .incidents
                .iter()
                .find(|g| {
                    g.kind == IncidentKind::Deadlock && g.relation.as_deref() == Some("stock_quant")
                })
                .unwrap_or_else(|| panic!("{what}: {:#?}", w.incidents));
            // The victim is the cron job (its deadlock check ran last), its statement is
            // one of the workload's fingerprints, and the DETAIL names order entry's.
            let fp = deadlock.fingerprint.unwrap();
            assert!(w.query(fp).is_some(), "{what}: {fp} is not in the workload");
            assert_eq!(deadlock.applications[0].name, cron, "{what}");
            assert_eq!(deadlock.databases[0].name, "erp", "{what}");
            assert_eq!(deadlock.locks[0].name, "ShareLock on transaction", "{what}");
            let other = &deadlock.others[0];
            assert!(
                other
                    .query
                    .as_deref()
                    .unwrap()
                    .starts_with("UPDATE stock_quant"),
                "{what}: {other:?}"
            );
            assert_eq!(other.application.as_deref(), Some(web), "{what}");
            let ops = deadlock.operations.as_ref().unwrap();
            assert_eq!(ops.erp.as_deref(), Some("odoo"), "{what}");
            assert_eq!(ops.logged_by.get(&Operation::Cron), Some(&deadlock.count));
            assert_eq!(
                ops.other_side.get(&Operation::Interactive),
                Some(&deadlock.count)
            );
            // Lock waits: order entry waited for the cron job's rows, and got them.
            let wait = w
                .incidents
                .iter()
                .find(|g| {
                    g.kind == IncidentKind::LockWait
                        && g.relation.as_deref() == Some("stock_quant")
                        && g.applications.iter().any(|a| a.name == web)
                })
                .unwrap_or_else(|| panic!("{what}: {:#?}", w.incidents));
            assert!(
                wait.acquired > 0 && wait.max_wait_ms >= 100.0,
                "{what}: {wait:?}"
            );
            // The acquired waits are whole: at least the 300 ms the test held the rows.
            assert!(wait.total_wait_ms >= 300.0 * wait.acquired as f64, "{what}");
            assert_eq!(wait.others[0].application.as_deref(), Some(cron), "{what}");
        }
    }
}

#[test]
fn the_healthy_twin_has_no_incident() {
    for major in 13..=18 {
        for (what, w) in workloads(major, "healthy") {
            assert!(w.incidents.is_empty(), "{what}: {:#?}", w.incidents);
            assert!(w.totals.calls > 50, "{what}: the twin ran the workload");
        }
    }
}

#[test]
fn workload_files_round_trip_and_old_ones_still_load() {
    let (_, w) = workloads(18, "conflicts").remove(0);
    let json = w.to_json();
    let back: Workload = serde_json::from_str(&json).unwrap();
    assert_eq!(back, w);
    // A workload.json written before incidents existed: no key at all.
    let mut old: Value = serde_json::from_str(&json).unwrap();
    old.as_object_mut().unwrap().remove("incidents");
    let loaded: Workload = serde_json::from_value(old).unwrap();
    assert!(loaded.incidents.is_empty());
    let (_, healthy) = workloads(18, "healthy").remove(0);
    assert!(!healthy.to_json().contains("\"incidents\""));
}

#[test]
fn the_workload_report_shows_the_incidents() {
    let (_, w) = workloads(18, "conflicts")
        .into_iter()
        .find(|(what, _)| what.ends_with("stderr"))
        .unwrap();
    let report = WorkloadReport::new(w, &RuleConfig::shipped().unwrap(), None);
    let opts = RenderOptions {
        width: Some(160),
        ..RenderOptions::default()
    };
    let mut text = Vec::new();
    render(&report, Format::Table, &opts, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    let start = text.find("== Lock incidents").unwrap();
    let end = text.find("== Findings").unwrap();
    insta::assert_snapshot!("lock_incidents_text", &text[start..end]);
    let findings: String = report
        .findings
        .iter()
        .filter(|f| f.rule.starts_with("LCK"))
        .map(|f| {
            format!(
                "[{}] {} {}: {}\n  {}\n  → {}\n",
                f.severity,
                f.rule,
                f.object.display_name(),
                f.title,
                f.message,
                f.recommendation
            )
        })
        .collect();
    insta::assert_snapshot!("lock_findings", findings);
    let mut md = Vec::new();
    render(&report, Format::Markdown, &opts, &mut md).unwrap();
    let md = String::from_utf8(md).unwrap();
    assert!(md.contains("## Lock incidents (4 deadlocks"), "{md}");
    let mut json = Vec::new();
    render(&report, Format::Json, &opts, &mut json).unwrap();
    let v: Value = serde_json::from_slice(&json).unwrap();
    assert!(v["workload"]["incidents"]
        .as_array()
        .is_some_and(|a| !a.is_empty()));
}

/// Production logs often hold errors and lock waits but no statement durations: the
/// incidents are still read (the capture with its `duration:` entries removed), and
/// without the cron job's `ir_cron` statements nothing is said about cron work.
#[test]
fn a_log_without_statements_still_gives_its_incidents() {
    let m = manifest(18);
    let text = std::fs::read_to_string(dir(18).join("conflicts.log")).unwrap();
    let mut kept = String::new();
    let mut skipping = false;
    for line in text.lines() {
        if line.starts_with('\t') {
            if !skipping {
                kept.push_str(line);
                kept.push('\n');
            }
            continue;
        }
        skipping = line.contains(" LOG:  duration: ");
        if !skipping {
            kept.push_str(line);
            kept.push('\n');
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("errors-only.log");
    std::fs::write(&path, kept).unwrap();
    let opts = LogOptions {
        prefix: Some(m["prefix"].as_str().unwrap().to_owned()),
        ..LogOptions::default()
    };
    let cancel = std::sync::atomic::AtomicBool::new(false);
    let (w, stats) = pgsage_core::workload::from_log_files(&[&path], &opts, 3600, &cancel).unwrap();
    assert_eq!(stats.samples, 0);
    let planted = &m["captures"]["conflicts"]["planted"];
    assert_eq!(counted(&w, IncidentKind::Deadlock), planted["deadlock"]);
    assert_eq!(counted(&w, IncidentKind::LockWait), planted["lock_wait"]);
    assert!(w.incidents.iter().all(|g| g
        .operations
        .as_ref()
        .is_none_or(|o| o.cron_applications.is_empty())));
}
