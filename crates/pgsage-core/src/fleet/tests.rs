use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{TimeZone, Utc};

use super::*;
use crate::{Report, Snapshot};

fn demo() -> (Snapshot, Report) {
    let p =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/snapshots/demo.json");
    let snap = Snapshot::load(&p).expect("demo");
    let report = crate::audit(&snap, &crate::RuleConfig::shipped().expect("packs"));
    (snap, report)
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Two audited servers (the demo snapshot, one of them with only its critical findings
/// kept), one refused connection and one timeout.
pub(crate) fn fleet() -> FleetRun {
    let (snap, report) = demo();
    let mut critical_only = report.clone();
    critical_only.filter(&crate::report::ReportFilter {
        packs: Vec::new(),
        min_severity: Some(crate::Severity::Critical),
    });
    let audited = |report: Report| {
        Outcome::Audited(Box::new(Audited {
            snapshot: snap.clone(),
            report,
        }))
    };
    FleetRun {
        run_at: Utc
            .with_ymd_and_hms(2026, 12, 7, 3, 0, 0)
            .single()
            .expect("time"),
        servers: vec![
            ServerRun {
                name: "erp-1".into(),
                tags: tags(&[("env", "prod"), ("customer", "acme")]),
                target: "host=db1 user=pgsage".into(),
                elapsed: Duration::from_millis(1234),
                outcome: audited(report),
            },
            ServerRun {
                name: "erp-2".into(),
                tags: tags(&[("env", "prod")]),
                target: "host=db2 user=pgsage".into(),
                elapsed: Duration::from_millis(987),
                outcome: audited(critical_only),
            },
            ServerRun {
                name: "gone".into(),
                tags: tags(&[("env", "test")]),
                target: "host=db3 user=pgsage".into(),
                elapsed: Duration::from_millis(3),
                outcome: Outcome::Failed {
                    status: ServerStatus::Error,
                    message: "connecting to pgsage@db3:5432/postgres: connection refused".into(),
                },
            },
            ServerRun {
                name: "slow".into(),
                tags: BTreeMap::new(),
                target: "host=db4 user=pgsage".into(),
                elapsed: Duration::from_secs(30),
                outcome: Outcome::Failed {
                    status: ServerStatus::Timeout,
                    message: "no answer within 30 s (connecting and collecting)".into(),
                },
            },
        ],
    }
}

fn findings_of(run: &FleetRun, i: usize) -> usize {
    run.servers[i].report().map_or(0, |r| r.findings.len())
}

#[test]
fn the_summary_counts_each_server_and_the_fleet() {
    let run = fleet();
    let s = FleetSummary::of(&run);
    let statuses: Vec<ServerStatus> = s.servers.iter().map(|x| x.status).collect();
    use ServerStatus::*;
    assert_eq!(statuses, vec![Ok, Ok, Error, Timeout]);
    let r1 = run.servers[0].report().expect("audited");
    assert_eq!(s.servers[0].counts, r1.summary);
    assert!(
        r1.summary.critical > 0 && r1.summary.warning > 0,
        "the demo has both"
    );
    assert_eq!(s.servers[1].counts.warning, 0);
    assert_eq!(s.servers[0].actions.len(), r1.actions.len());
    assert_eq!(s.servers[0].databases.first(), Some(&r1.target.database));
    assert!(s.servers[2]
        .error
        .as_deref()
        .is_some_and(|e| e.contains("refused")));
    assert_eq!(s.servers[2].counts, crate::report::Summary::default());
    assert_eq!(
        (
            s.totals.servers,
            s.totals.ok,
            s.totals.error,
            s.totals.timeout
        ),
        (4, 2, 1, 1)
    );
    assert_eq!(
        s.totals.critical,
        r1.summary.critical + s.servers[1].counts.critical
    );
    // A critical action of erp-1 is one of erp-2's too, and named with both servers.
    let shared = s
        .actions
        .iter()
        .find(|a| a.severity == crate::Severity::Critical)
        .expect("a critical action");
    assert_eq!(shared.servers, vec!["erp-1".to_owned(), "erp-2".to_owned()]);
    let prod = s
        .by_tag
        .iter()
        .find(|t| t.tag == "env" && t.value == "prod")
        .expect("env=prod");
    assert_eq!((prod.totals.servers, prod.totals.ok), (2, 2));
    let test = s
        .by_tag
        .iter()
        .find(|t| t.value == "test")
        .expect("env=test");
    assert_eq!((test.totals.servers, test.totals.error), (1, 1));
    // The JSON reads back.
    let back: FleetSummary = serde_json::from_str(&s.to_json()).expect("summary json");
    assert_eq!(back, s);
}

#[test]
fn one_row_per_finding_with_its_server_tags_and_action() {
    let run = fleet();
    let rows = FindingRow::all(&run);
    assert_eq!(rows.len(), findings_of(&run, 0) + findings_of(&run, 1));
    let report = run.servers[0].report().expect("audited");
    for action in &report.actions {
        for &i in &action.findings {
            assert_eq!(rows[i].action_id.as_deref(), Some(action.id.as_str()));
            assert_eq!(rows[i].rule, report.findings[i].rule);
        }
    }
    assert!(
        rows.iter().all(|r| r.action_id.is_some()),
        "every finding has an action"
    );
    assert_eq!(rows[0].server, "erp-1");
    assert_eq!(
        rows[0].tags.get("customer").map(String::as_str),
        Some("acme")
    );
    assert_eq!(rows.last().map(|r| r.server.as_str()), Some("erp-2"));

    let mut ndjson = Vec::new();
    write_ndjson(&rows, &mut ndjson).expect("ndjson");
    let text = String::from_utf8(ndjson).expect("utf-8");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("one object per line"))
        .collect();
    assert_eq!(lines.len(), rows.len());
    assert_eq!(lines[0]["server"], "erp-1");
    assert_eq!(lines[0]["tags"]["env"], "prod");
    assert!(lines[0]["evidence"].is_object());
}

/// The rows written as Parquet into a temporary file, opened for reading.
fn parquet_file(rows: &[FindingRow]) -> std::fs::File {
    let mut file = tempfile::tempfile().expect("temporary file");
    write_parquet(rows, &mut file).expect("parquet");
    file
}

#[test]
fn the_parquet_file_holds_every_row_and_the_tags_as_a_map() {
    use ::parquet::file::reader::{FileReader, SerializedFileReader};
    use ::parquet::record::Field;

    let run = fleet();
    let rows = FindingRow::all(&run);
    let reader = SerializedFileReader::new(parquet_file(&rows)).expect("a parquet file");
    assert_eq!(
        reader.metadata().file_metadata().num_rows(),
        rows.len() as i64
    );
    let mut seen = 0;
    for (row, expected) in reader.get_row_iter(None).expect("rows").zip(&rows) {
        let row = row.expect("row");
        let fields: BTreeMap<&str, &Field> = row
            .get_column_iter()
            .map(|(n, f)| (n.as_str(), f))
            .collect();
        assert_eq!(fields["server"], &Field::Str(expected.server.clone()));
        assert_eq!(fields["rule"], &Field::Str(expected.rule.clone()));
        assert_eq!(
            fields["severity"],
            &Field::Str(expected.severity.as_str().to_owned())
        );
        match fields["tags"] {
            Field::MapInternal(map) => assert_eq!(map.entries().len(), expected.tags.len()),
            other => panic!("tags is not a map: {other:?}"),
        }
        seen += 1;
    }
    assert_eq!(seen, rows.len());

    // No findings: still a valid file, with the schema.
    let reader = SerializedFileReader::new(parquet_file(&[])).expect("a parquet file");
    assert_eq!(reader.metadata().file_metadata().num_rows(), 0);
}

#[test]
fn the_directory_is_reused_and_a_failed_server_keeps_no_stale_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = fleet();
    // An earlier run audited `gone`: its files must not survive this run's failure.
    let gone = dir.path().join("gone");
    std::fs::create_dir_all(&gone).expect("dir");
    std::fs::write(gone.join("report.json"), "old").expect("old report");
    std::fs::write(dir.path().join("summary.json"), "old").expect("old summary");
    let written = write_dir(dir.path(), &run).expect("written");
    assert!(!gone.join("report.json").exists());
    for file in [
        "summary.json",
        "findings.parquet",
        "findings.ndjson",
        "erp-1/snapshot.json",
        "erp-1/report.json",
        "erp-2/report.json",
    ] {
        assert!(dir.path().join(file).is_file(), "{file}");
    }
    let summary: FleetSummary = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("summary.json")).expect("read"),
    )
    .expect("summary");
    assert_eq!(summary, written.summary);
    let report: Report = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("erp-1/report.json")).expect("read"),
    )
    .expect("report");
    assert_eq!(report.findings.len(), findings_of(&run, 0));
    Snapshot::load(dir.path().join("erp-1/snapshot.json")).expect("snapshot");
    // No temporary file is left behind.
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("list")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn the_text_summary_names_every_server_and_never_reads_a_failure_as_healthy() {
    let summary = FleetSummary::of(&fleet());
    let mut out = Vec::new();
    render_summary(&summary, FleetFormat::Table, Some(120), &mut out).expect("table");
    let text = String::from_utf8(out).expect("utf-8");
    insta::assert_snapshot!("fleet_summary_table", text);
    let mut out = Vec::new();
    render_summary(&summary, FleetFormat::Markdown, None, &mut out).expect("markdown");
    let md = String::from_utf8(out).expect("utf-8");
    insta::assert_snapshot!("fleet_summary_markdown", md);
}
