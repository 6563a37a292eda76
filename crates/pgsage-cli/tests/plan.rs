//! `pgsage plan` end to end: files, standard input and malformed input; live EXPLAIN on
//! real servers (a read analysed, a write refused, a write run and rolled back, a side
//! effect stopped by READ ONLY, the timeout).

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::{pgsage, stderr, stdout};
use pgsage_testkit::scenario::repo_root;
use pgsage_testkit::{require_server, test_majors, TestServer};

fn corpus(rel: &str) -> String {
    repo_root()
        .join("testdata/plans")
        .join(rel)
        .display()
        .to_string()
}

/// Runs `pgsage` with `input` on standard input.
fn pgsage_stdin(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pgsage"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("PGHOST")
        .env_remove("PGDATABASE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pgsage");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

#[test]
fn a_file_is_analyzed_with_the_findings_ranked_and_the_tree() {
    let o = pgsage(&["plan", "--tree", &corpus("pg18/row_misestimate.json")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("EXP001") && out.contains("EXP002"), "{out}");
    assert!(
        out.contains("[EXP001 EXP002] Seq Scan on public.stock_m"),
        "{out}"
    );
    // The fix, unwrapped: JSON.
    let o = pgsage(&[
        "plan",
        "--format",
        "json",
        &corpus("pg18/row_misestimate.json"),
    ]);
    assert!(
        stdout(&o).contains(
            "CREATE INDEX CONCURRENTLY ON public.stock_move (location_id, location_dest_id);"
        ),
        "{}",
        stdout(&o)
    );
    for line in out.lines() {
        assert!(
            line.chars().count() <= 100,
            "wider than 100 columns: {line}"
        );
    }
    let o = pgsage(&["plan", "--format", "json", &corpus("pg18/sort_spill.txt")]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let reports: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(reports[0]["findings"][0]["rule"], "EXP003");
    assert_eq!(reports[0]["target"]["source"], "plan");
    let o = pgsage(&[
        "plan",
        "--format",
        "markdown",
        &corpus("pg18/healthy_join.json"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("No findings"), "{}", stdout(&o));
}

#[test]
fn fail_on_and_min_severity_set_the_exit_code_and_the_output() {
    let file = corpus("pg18/fk_trigger_delete.txt");
    let o = pgsage(&["plan", "--fail-on", "warning", &file]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = pgsage(&["plan", "--fail-on", "critical", &file]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = pgsage(&[
        "plan",
        "--min-severity",
        "critical",
        "--fail-on",
        "warning",
        &file,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stdout(&o).contains("EXP010"));
}

#[test]
fn standard_input_with_several_plans_gives_one_section_each() {
    let mut input = std::fs::read(corpus("pg13/sort_spill.txt")).expect("read");
    input.extend(std::fs::read(corpus("pg13/hash_batches.txt")).expect("read"));
    let o = pgsage_stdin(&["plan", "-"], &input);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("Plan 1 of 2") && out.contains("Plan 2 of 2"),
        "{out}"
    );
    // A JSON plan pasted from psql, decorations included.
    let json = std::fs::read_to_string(corpus("pg18/seq_scan_filter.json")).expect("read");
    let pasted =
        format!("erp=# EXPLAIN (ANALYZE, FORMAT JSON) …;\n QUERY PLAN\n---\n{json}(1 row)\n");
    let o = pgsage_stdin(&["plan", "-", "--format", "json"], pasted.as_bytes());
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("EXP002"));
}

#[test]
fn malformed_input_exits_2_with_a_clear_message() {
    for (input, expected) in [
        (
            &b"[{\"Plan\": {\"Node Type\": \"Seq Scan\""[..],
            "invalid EXPLAIN JSON",
        ),
        (b"", "no EXPLAIN output found"),
        (b"hello, this is not a plan\n", "EXPLAIN text, line 1"),
        (b"[{\"Plan\": {\"Node Type\": 42}}]", "EXPLAIN JSON"),
        (b"\xff\xfe binary", "not UTF-8"),
    ] {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("bad.json");
        std::fs::write(&path, input).expect("write");
        let o = pgsage(&["plan", &path.display().to_string()]);
        assert_eq!(o.status.code(), Some(2), "{:?}: {}", input, stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains(expected),
            "{:?}: {err}",
            String::from_utf8_lossy(input)
        );
        assert!(err.contains("bad.json"), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    let o = pgsage(&["plan", "/nonexistent/plan.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("/nonexistent/plan.json"),
        "{}",
        stderr(&o)
    );
    let o = pgsage(&["plan"]);
    assert_eq!(o.status.code(), Some(2), "no input is a usage error");
    let o = pgsage(&["plan", "--query", "SELECT 1; DELETE FROM t"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("one statement at a time"),
        "{}",
        stderr(&o)
    );
}

/// `--platform` names the log_line_prefix of the auto_explain log: the corpus's RDS log
/// (written by a real server) gives its plans as aws-rds, none as Azure's.
#[test]
fn the_platform_names_the_log_line_prefix_of_the_plans_log() {
    let log = repo_root()
        .join("testdata/logs/pg17/rds.log")
        .display()
        .to_string();
    let text = std::fs::read_to_string(&log).expect("captured log");
    let logged = text.matches("plan:").count();
    assert!(logged > 0, "rds.log has no auto_explain entry");
    let o = pgsage(&[
        "plan",
        "--log",
        &log,
        "--platform",
        "aws-rds",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let reports: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(reports.as_array().map(Vec::len), Some(logged));
    let o = pgsage(&["plan", "--log", &log, "--platform", "azure-flexible-server"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no auto_explain plan"),
        "{}",
        stderr(&o)
    );
}

/// A Cloud Logging export of a server log (the corpus's default log, written by a real
/// server, converted by the test kit into the entries `gcloud logging read` prints) is
/// recognised by content: its auto_explain plans are analysed without `--log`, as many
/// as the plain log gives.
#[test]
fn auto_explain_plans_in_a_cloud_logging_export() {
    use pgsage_testkit::cloud_logging::{export_file, ExportOptions, Split};
    let log = repo_root().join("testdata/logs/pg17/default.log");
    let logged = std::fs::read_to_string(&log)
        .expect("captured log")
        .matches("plan:")
        .count();
    let dir = tempfile::tempdir().expect("tempdir");
    let json = dir.path().join("cloudsql.json");
    let opts = ExportOptions {
        split: Split::PerLine,
        untimed: false,
        ndjson: false,
    };
    export_file(&log, &json, opts).expect("export");
    let o = pgsage(&["plan", &json.to_string_lossy(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let reports: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
    assert_eq!(reports.as_array().map(Vec::len), Some(logged));
}

// --- live ---

/// Every auto_explain plan of a captured server log (stderr, csvlog, jsonlog) is analysed
/// with `--log`; a plain-text log is recognised without it.
#[test]
fn auto_explain_plans_in_server_logs() {
    for file in ["default.log", "default.csv", "default.json"] {
        let path = repo_root().join("testdata/logs/pg17").join(file);
        let text = std::fs::read_to_string(&path).expect("captured log");
        // Counted independently of the reader: the entries auto_explain wrote.
        let logged = text.matches("plan:").count();
        assert!(logged > 0, "{file} has no auto_explain entry");
        let p = path.to_string_lossy().into_owned();
        let o = pgsage(&["plan", "--log", &p, "--format", "json"]);
        assert_eq!(o.status.code(), Some(0), "{file}: {}", stderr(&o));
        let reports: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("json");
        assert_eq!(
            reports.as_array().map(Vec::len),
            Some(logged),
            "{file}: {}",
            stderr(&o)
        );
    }
    // A plain-text log is recognised without --log.
    let log = repo_root().join("testdata/logs/pg17/default.log");
    let o = pgsage(&["plan", &log.to_string_lossy(), "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("auto_explain plan(s)"),
        "{}",
        stderr(&o)
    );
    // A log without auto_explain entries (the captured log's one-line statement
    // entries only) is a clear error.
    let text = std::fs::read_to_string(&log).expect("captured log");
    let statements: String = text
        .lines()
        .filter(|l| l.contains("  statement: "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(!statements.is_empty());
    let dir = tempfile::tempdir().expect("tempdir");
    let plain = dir.path().join("statements.log");
    std::fs::write(&plain, statements).expect("write");
    let o = pgsage(&["plan", "--log", &plain.to_string_lossy()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("no auto_explain plan"),
        "{}",
        stderr(&o)
    );
}

fn live_servers() -> Vec<TestServer> {
    [13, 18]
        .into_iter()
        .filter(|m| test_majors().contains(m))
        .filter_map(require_server)
        .collect()
}

fn plant(server: &TestServer) -> String {
    server.create_database("shop").expect("db");
    server
        .execute(
            "shop",
            "CREATE TABLE item (id int PRIMARY KEY, price int, note text);
             INSERT INTO item SELECT g, g % 1000, repeat('x', 50) FROM generate_series(1, 50000) g;
             CREATE FUNCTION purge() RETURNS bigint LANGUAGE sql AS
               $$ WITH d AS (DELETE FROM item WHERE id = 7 RETURNING 1) SELECT count(*) FROM d $$;",
        )
        .expect("plant");
    server
        .execute("shop", "VACUUM ANALYZE item")
        .expect("vacuum");
    server.dsn("shop")
}

fn rows(server: &TestServer, sql: &str) -> i64 {
    let mut client = server.client("shop").expect("client");
    client.query_one(sql, &[]).expect("query").get(0)
}

#[test]
fn live_explain_guards_reads_and_writes() {
    for server in live_servers() {
        let dsn = plant(&server);
        let major = server.major();
        // A read, analysed: the seq scan filtering 99.9 % of 50,000 rows is found.
        let o = pgsage(&[
            "plan",
            "--width",
            "250",
            "--dsn",
            &dsn,
            "--tree",
            "--query",
            "SELECT id, note FROM item WHERE price = 990",
        ]);
        assert_eq!(o.status.code(), Some(0), "pg{major}: {}", stderr(&o));
        let out = stdout(&o);
        assert!(
            out.contains(&format!("PostgreSQL {major}")),
            "pg{major}: {out}"
        );
        assert!(
            out.contains("EXP002")
                && out.contains("CREATE INDEX CONCURRENTLY ON public.item (price);"),
            "pg{major}: {out}"
        );

        // A write without --analyze-writes: refused, nothing runs.
        let delete = "DELETE FROM item WHERE id <= 10";
        let o = pgsage(&["plan", "--dsn", &dsn, "--query", delete]);
        assert_eq!(o.status.code(), Some(2), "pg{major}: {}", stdout(&o));
        assert!(
            stderr(&o).contains("--analyze-writes"),
            "pg{major}: {}",
            stderr(&o)
        );
        assert_eq!(
            rows(&server, "SELECT count(*) FROM item WHERE id <= 10"),
            10
        );

        // With the flag: it runs (the plan shows the rows deleted) and is rolled back.
        let o = pgsage(&[
            "plan",
            "--dsn",
            &dsn,
            "--tree",
            "--analyze-writes",
            "--query",
            delete,
        ]);
        assert_eq!(o.status.code(), Some(0), "pg{major}: {}", stderr(&o));
        assert!(
            stdout(&o).contains("ModifyTable"),
            "pg{major}: {}",
            stdout(&o)
        );
        assert_eq!(
            rows(&server, "SELECT count(*) FROM item WHERE id <= 10"),
            10
        );
        // A data-modifying CTE is a write too.
        let o = pgsage(&[
            "plan",
            "--dsn",
            &dsn,
            "--query",
            "WITH d AS (DELETE FROM item WHERE id = 3 RETURNING *) SELECT count(*) FROM d",
        ]);
        assert_eq!(o.status.code(), Some(2), "pg{major}");

        // A function with a side effect looks like a read: READ ONLY stops it.
        let o = pgsage(&["plan", "--dsn", &dsn, "--query", "SELECT purge()"]);
        assert_eq!(o.status.code(), Some(2), "pg{major}: {}", stdout(&o));
        assert!(
            stderr(&o).contains("READ ONLY"),
            "pg{major}: {}",
            stderr(&o)
        );
        assert_eq!(rows(&server, "SELECT count(*) FROM item WHERE id = 7"), 1);

        // --no-analyze only plans: a write is fine and nothing runs.
        let o = pgsage(&["plan", "--dsn", &dsn, "--no-analyze", "--query", delete]);
        assert_eq!(o.status.code(), Some(0), "pg{major}: {}", stderr(&o));
        assert!(
            stdout(&o).contains("estimates only"),
            "pg{major}: {}",
            stdout(&o)
        );
        assert_eq!(
            rows(&server, "SELECT count(*) FROM item WHERE id <= 10"),
            10
        );

        // Longer than --timeout: a clear error, exit 2.
        let o = pgsage(&[
            "plan",
            "--dsn",
            &dsn,
            "--timeout",
            "500ms",
            "--query",
            "SELECT pg_sleep(5)",
        ]);
        assert_eq!(o.status.code(), Some(2), "pg{major}: {}", stdout(&o));
        assert!(stderr(&o).contains("timeout"), "pg{major}: {}", stderr(&o));
    }
}
