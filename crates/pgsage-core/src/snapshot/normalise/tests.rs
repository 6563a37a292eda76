#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;

use super::*;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

/// The demo, the hostile names and every fixture.
fn stored_snapshots() -> Vec<PathBuf> {
    let mut files = vec![
        testdata().join("snapshots/demo.json"),
        testdata().join("snapshots/hostile.json"),
    ];
    let fixtures = testdata().join("fixtures");
    for scenario in std::fs::read_dir(fixtures).unwrap() {
        for case in std::fs::read_dir(scenario.unwrap().path()).unwrap() {
            let path = case.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Keeps the first element of every array, recursively.
fn truncate_arrays(v: &mut Value) {
    match v {
        Value::Array(items) => {
            items.truncate(1);
            items.iter_mut().for_each(truncate_arrays);
        }
        Value::Object(fields) => fields.values_mut().for_each(truncate_arrays),
        _ => {}
    }
}

/// Fills the empty arrays and null sections of `sample` from `other`.
fn fill_from(sample: &mut Value, other: &Value) {
    let (Value::Object(fields), Value::Object(others)) = (sample, other) else {
        return;
    };
    for (key, value) in fields.iter_mut() {
        let Some(theirs) = others.get(key) else {
            continue;
        };
        let empty = value.is_null() || value.as_array().is_some_and(Vec::is_empty);
        if empty && !theirs.is_null() && !theirs.as_array().is_some_and(Vec::is_empty) {
            *value = theirs.clone();
            truncate_arrays(value);
        } else if value.is_object() {
            fill_from(value, theirs);
        } else if let (Some(mine), Some(theirs)) = (
            value.as_array_mut().and_then(|a| a.first_mut()),
            theirs.as_array().and_then(|a| a.first()),
        ) {
            fill_from(mine, theirs);
        }
    }
}

/// JSON pointers of the object fields that are `null`.
fn null_fields(v: &Value, at: &str, out: &mut Vec<String>) {
    match v {
        Value::Object(fields) => {
            for (k, x) in fields {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                if x.is_null() {
                    out.push(p);
                } else {
                    null_fields(x, &p, out);
                }
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                null_fields(x, &format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn parses(v: &Value) -> bool {
    serde_json::from_value::<Snapshot>(v.clone()).is_ok()
}

/// A snapshot in which every timestamp field of the model holds a value: one element of
/// every section found in the stored snapshots, then every `null` that a timestamp (and
/// only a timestamp) fits is given one. A new timestamp field in any of these structs is
/// found without naming it here.
fn sample_with_every_timestamp() -> Value {
    let files = stored_snapshots();
    let read = |p: &Path| -> Value { serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap() };
    let mut sample = read(&files[0]);
    truncate_arrays(&mut sample);
    for f in &files[1..] {
        fill_from(&mut sample, &read(f));
    }
    // The baseline holds the same sections as the snapshot.
    let top = sample.clone();
    if let Some(baseline) = sample.get_mut("baseline") {
        fill_from(baseline, &top);
    }
    assert!(parses(&sample), "the sample is not a snapshot");

    let mut nulls = Vec::new();
    null_fields(&sample, "", &mut nulls);
    let mut filled = 0;
    for p in nulls {
        *sample.pointer_mut(&p).unwrap() = Value::from("2021-02-03T04:05:06.789012Z");
        let takes_time = parses(&sample);
        *sample.pointer_mut(&p).unwrap() = Value::from("not a timestamp");
        let takes_text = parses(&sample);
        *sample.pointer_mut(&p).unwrap() = if takes_time && !takes_text {
            filled += 1;
            Value::from("2021-02-03T04:05:06.789012Z")
        } else {
            Value::Null
        };
    }
    assert!(filled > 0, "no null timestamp to fill: the probe is broken");
    sample
}

/// Every string that is an RFC 3339 timestamp, by JSON pointer.
fn timestamps(v: &Value) -> BTreeMap<String, DateTime<Utc>> {
    fn walk(v: &Value, at: String, out: &mut BTreeMap<String, DateTime<Utc>>) {
        match v {
            Value::String(s) => {
                if let Ok(t) = DateTime::parse_from_rfc3339(s) {
                    out.insert(at, t.with_timezone(&Utc));
                }
            }
            Value::Array(items) => {
                for (i, x) in items.iter().enumerate() {
                    walk(x, format!("{at}/{i}"), out);
                }
            }
            Value::Object(fields) => {
                for (k, x) in fields {
                    walk(x, format!("{at}/{k}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    walk(v, String::new(), &mut out);
    out
}

/// `/tables/0/last_vacuum` → `/tables/*/last_vacuum`.
fn field_of(pointer: &str) -> String {
    pointer
        .split('/')
        .map(|c| if c.parse::<usize>().is_ok() { "*" } else { c })
        .collect::<Vec<_>>()
        .join("/")
}

fn blank_timestamps(v: &mut Value) {
    match v {
        Value::String(s) if DateTime::parse_from_rfc3339(s).is_ok() => *s = "<time>".into(),
        Value::Array(items) => items.iter_mut().for_each(blank_timestamps),
        Value::Object(fields) => fields.values_mut().for_each(blank_timestamps),
        _ => {}
    }
}

#[test]
fn shift_times_moves_every_timestamp_and_nothing_else() {
    let sample = sample_with_every_timestamp();
    let snap: Snapshot = serde_json::from_value(sample).unwrap();
    let before_json = serde_json::to_value(&snap).unwrap();
    let before = timestamps(&before_json);

    let fields: BTreeSet<String> = before.keys().map(|p| field_of(p)).collect();
    let tables = [
        "last_vacuum",
        "last_autovacuum",
        "last_analyze",
        "last_autoanalyze",
        "last_seq_scan",
        "last_idx_scan",
    ];
    let mut expected: BTreeSet<String> = [
        "/collected_at",
        "/server/started_at",
        "/databases/*/stats_reset",
        "/activity/*/backend_start",
        "/activity/*/xact_start",
        "/activity/*/query_start",
        "/activity/*/state_change",
        "/checkpointer/stats_reset",
        "/wal/stats_reset",
        "/archiver/last_archived_time",
        "/archiver/last_failed_time",
        "/archiver/stats_reset",
        "/prepared_xacts/*/prepared",
        "/indexes/*/last_idx_scan",
        "/statements/stats_reset",
        "/baseline/collected_at",
        "/baseline/databases/*/stats_reset",
        "/baseline/checkpointer/stats_reset",
        "/baseline/wal/stats_reset",
        "/baseline/indexes/*/last_idx_scan",
        "/baseline/statements/stats_reset",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    for t in tables {
        expected.insert(format!("/tables/*/{t}"));
        expected.insert(format!("/baseline/tables/*/{t}"));
    }
    assert_eq!(
        fields, expected,
        "the timestamp fields of the model changed"
    );

    // Odd on purpose: days, seconds and microseconds all move.
    let delta = TimeDelta::microseconds(-27_345_678_901_234);
    let mut shifted = snap.clone();
    shifted.shift_times(delta);
    let mut after_json = serde_json::to_value(&shifted).unwrap();
    let after = timestamps(&after_json);
    assert_eq!(before.len(), after.len());
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (p, t) in &before {
        assert_eq!(after[p] - *t, delta, "{p} did not move by the delta");
    }

    let mut before_json = before_json;
    blank_timestamps(&mut before_json);
    blank_timestamps(&mut after_json);
    assert_eq!(
        before_json, after_json,
        "shift_times changed something else"
    );

    shifted.shift_times(-delta);
    assert_eq!(shifted, snap);
}

#[test]
fn normalising_keeps_every_age_and_is_idempotent() {
    for path in stored_snapshots() {
        let snap = Snapshot::load(&path).unwrap();
        let mut n = snap.clone();
        n.normalise_for_storage();
        let name = path.display();
        assert_eq!(n.collected_at, normalised_collected_at(), "{name}");
        assert_eq!(n.uptime_seconds(), snap.uptime_seconds(), "{name}");
        assert_eq!(n.window_seconds(), snap.window_seconds(), "{name}");
        for (a, b) in snap.activity.iter().zip(&n.activity) {
            let age = |s: &Snapshot, t: Option<DateTime<Utc>>| t.map(|t| s.age_seconds(t));
            assert_eq!(age(&snap, a.xact_start), age(&n, b.xact_start), "{name}");
            assert_eq!(
                age(&snap, a.state_change),
                age(&n, b.state_change),
                "{name}"
            );
        }
        assert!(n.server.port.is_none() || n.server.port == Some(NORMALISED_PORT));
        let json = n.to_json_compact();
        assert!(!json.contains("/dev/shm/pgsage-pg"), "{name}");
        let mut again = n.clone();
        again.normalise_for_storage();
        assert_eq!(again.to_json_compact(), json, "{name}: not idempotent");
    }
}

#[test]
fn compact_files_load() {
    let mut snap = Snapshot::load(testdata().join("snapshots/demo.json")).unwrap();
    snap.normalise_for_storage();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.json");
    snap.save_compact(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.lines().count(), 1, "one line");
    assert!(text.len() < snap.to_json().len());
    assert_eq!(Snapshot::load(&path).unwrap(), snap);
}

#[test]
fn test_server_directories_get_a_fixed_name() {
    let cases = [
        (
            "/dev/shm/pgsage-pgH6mW9R/data/pg_hba.conf",
            "/tmp/pgsage-pgXXXXXX/data/pg_hba.conf",
        ),
        ("/tmp/pgsage-pgab12CD", "/tmp/pgsage-pgXXXXXX"),
        (
            "/dev/shm/pgsage-pgab12CD, /tmp",
            "/tmp/pgsage-pgXXXXXX, /tmp",
        ),
        ("/var/lib/postgresql/16/main", "/var/lib/postgresql/16/main"),
        ("/srv/pgsage-pg/data", "/srv/pgsage-pg/data"),
        ("pgsage-pgab12CD/x", "pgsage-pgab12CD/x"),
        (NORMALISED_SERVER_DIR, NORMALISED_SERVER_DIR),
    ];
    for (value, expected) in cases {
        assert_eq!(normalise_server_dirs(value), expected, "{value}");
    }
}

#[test]
fn stored_snapshots_are_normalised_and_compact() {
    let mut stale = Vec::new();
    for path in stored_snapshots() {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut snap = Snapshot::from_json(&text).unwrap();
        snap.normalise_for_storage();
        if text != snap.to_json_compact() + "\n" {
            stale.push(path.display().to_string());
        }
    }
    assert!(
        stale.is_empty(),
        "not stored normalised and compact (run `cargo run -p pgsage-core --example \
         normalise_snapshot -- FILE...`, see docs/testing.md): {stale:#?}"
    );
}
