//! `pgsage workload` end to end: from a snapshot's pg_stat_statements (a captured fixture)
//! and from a server log of the corpus (both made by real servers).

mod common;

use common::{pgsage, stderr, stdout};
use pgsage_testkit::scenario::repo_root;

fn path(rel: &str) -> String {
    repo_root().join(rel).display().to_string()
}

#[test]
fn reports_the_planted_lookup_loop_from_a_snapshot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("pgsage.toml");
    std::fs::write(&config, "[rules.QRY002.params]\nmin_calls = 5000\n").expect("config");
    let out = pgsage(&[
        "workload",
        "--snapshot",
        &path("testdata/fixtures/queries/lookup-loop.json"),
        "--config",
        &config.display().to_string(),
        "--top",
        "3",
        "--by",
        "calls",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("pg_stat_statements (since_reset)"), "{text}");
    assert!(text.contains("Top 3 queries by calls"), "{text}");
    assert!(
        text.contains("SELECT name FROM res_partner WHERE id = $1"),
        "{text}"
    );
    assert!(text.contains("QRY002"), "{text}");
}

#[test]
fn saves_a_loadable_workload_from_a_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let saved = dir.path().join("workload.json");
    let out = pgsage(&[
        "workload",
        &path("testdata/logs/pg17/default.log"),
        "--format",
        "json",
        "-o",
        &saved.display().to_string(),
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json report");
    assert_eq!(report["log"]["unparsed_lines"], 0);
    assert!(report["skipped"]
        .as_array()
        .is_some_and(|s| s.iter().any(|r| r["rule"] == "QRY003")));
    let w = pgsage::workload::Workload::load(&saved).expect("load workload.json");
    assert_eq!(w.source.kind, pgsage::workload::SourceKind::Log);
    assert!(w
        .queries
        .iter()
        .all(|q| q.fingerprint.to_string().len() == 16));
    assert!(w
        .queries
        .iter()
        .any(|q| q.p95_ms.is_some() && !q.databases.is_empty()));
}

#[test]
fn bad_arguments_are_usage_errors() {
    let out = pgsage(&["workload"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no workload"), "{}", stderr(&out));
    let out = pgsage(&["workload", "--snapshot", "x.json", "--by", "size"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--by"), "{}", stderr(&out));
    let out = pgsage(&["workload", "/nonexistent/pg.log"]);
    assert_eq!(out.status.code(), Some(2));
}

/// `--platform` reads a log with the platform's log_line_prefix: the corpus's RDS log
/// (written by a real server with RDS's prefix) is read as aws-rds, and read as Azure's
/// it is an error naming the prefix tried and the flags that name the right one.
#[test]
fn the_platform_names_the_log_line_prefix() {
    let log = path("testdata/logs/pg17/rds.log");
    let out = pgsage(&[
        "workload",
        &log,
        "--platform",
        "aws-rds",
        "--format",
        "json",
        "--quiet",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json report");
    assert_eq!(report["log"]["inputs"][0]["prefix"], "%t:%r:%u@%d:[%p]:");
    assert_eq!(report["log"]["unparsed_lines"], 0);

    let out = pgsage(&[
        "workload",
        &log,
        "--platform",
        "azure-flexible-server",
        "--quiet",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("no statement with a duration")
            && err.contains("'%t-%c-'")
            && err.contains("--platform"),
        "{err}"
    );

    let out = pgsage(&["workload", &log, "--platform", "heroku"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("azure-flexible-server"),
        "{}",
        stderr(&out)
    );
}

/// A Cloud Logging export (the corpus's default log, written by a real server, converted
/// by the test kit into `gcloud logging read` entries) reads as the plain log does.
#[test]
fn a_cloud_logging_export_reads_as_the_log() {
    use pgsage_testkit::cloud_logging::{export_file, ExportOptions, Split};
    let log = path("testdata/logs/pg17/default.log");
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("cloudsql.json");
    let opts = ExportOptions {
        split: Split::PerRecord,
        untimed: false,
        ndjson: true,
    };
    export_file(log.as_ref(), &json, opts).expect("export");
    let report = |file: &str| -> serde_json::Value {
        let out = pgsage(&["workload", file, "--format", "json", "--quiet"]);
        assert!(out.status.success(), "{}", stderr(&out));
        serde_json::from_str(&stdout(&out)).expect("json report")
    };
    let plain = report(&log);
    let cloud = report(&json.to_string_lossy());
    assert_eq!(cloud["log"]["inputs"][0]["format"], "cloud_logging");
    assert_eq!(cloud["log"]["unparsed_lines"], 0);
    assert_eq!(cloud["log"]["samples"], plain["log"]["samples"]);
    assert!(plain["log"]["samples"].as_u64().is_some_and(|n| n > 0));
}

/// The workload questions from the workload-window logs (captured from a real server by
/// scripts/capture-workload-windows.sh), in 10-second windows: the cron import is named
/// in the interactive peak of one log, and not in the other, where it ran in a quiet
/// window of its own; with `--cpus`, the headroom says how many cores the peak keeps busy.
#[test]
fn the_workload_questions_name_the_import_in_the_peak_and_only_there() {
    let dir = repo_root().join("testdata/logs/workload-windows");
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("manifest.json")).expect("manifest"),
    )
    .expect("manifest json");
    let prefix = manifest["log_line_prefix"].as_str().expect("prefix");
    let import =
        pgsage::workload::fingerprint::fingerprint(manifest["import"].as_str().expect("import"))
            .to_string();
    let answers = |file: &str| -> serde_json::Value {
        let out = pgsage(&[
            "workload",
            &dir.join(file).display().to_string(),
            "--log-line-prefix",
            prefix,
            "--bucket",
            "10s",
            "--cpus",
            "2",
            "--format",
            "json",
            "-q",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("json");
        report["answers"].clone()
    };
    let jobs = |a: &serde_json::Value| -> Vec<String> {
        a["overlaps"]["answered"]["jobs"]
            .as_array()
            .unwrap_or_else(|| panic!("overlaps not answered: {a:#}"))
            .iter()
            .map(|j| j["fingerprint"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let plant = answers("batch-at-peak.log.gz");
    assert_eq!(jobs(&plant), vec![import.clone()], "{plant:#}");
    let capacity = &plant["capacity"]["answered"];
    assert_eq!(capacity["cpus"], 2.0, "{capacity:#}");
    assert!(
        capacity["busy_sessions"].as_f64().is_some_and(|b| b > 0.0),
        "{capacity:#}"
    );
    let twin = answers("batch-at-night.log.gz");
    assert!(jobs(&twin).is_empty(), "{twin:#}");
}
