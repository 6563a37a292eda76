//! `pgsage fleet` end to end: two real servers (one with a planted problem, reached with
//! a password from a password file; its healthy twin, reached through a connection
//! service file), a closed port and a server that accepts connections and never answers.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{stderr, stdout};
use pgsage_testkit::{require_server, SilentServer, TestServer};
use serde_json::Value;

const PASSWORD: &str = "fleet-S3cret-pw";

/// A port nothing listens on: bound, then released.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// The monitoring role on `server`, with its password in `passfile` (mode 0600).
fn monitor_role(server: &TestServer, passfile: &Path) {
    server
        .create_role("fleet_monitor", PASSWORD, &["pg_monitor"])
        .expect("role");
    let line = format!("127.0.0.1:{}:*:fleet_monitor:{PASSWORD}\n", server.port());
    std::fs::write(passfile, line).expect("passfile");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(passfile, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
}

/// The same table on both servers; on `erp-a` autovacuum is switched off for it.
fn plant(server: &TestServer, autovacuum_off: bool) {
    server.create_database("erp").expect("db");
    let mut sql = "CREATE TABLE stock_move (id bigint PRIMARY KEY, qty int);\n\
                   INSERT INTO stock_move SELECT g, g FROM generate_series(1, 1000) g;\n\
                   ANALYZE stock_move;\n"
        .to_owned();
    if autovacuum_off {
        sql.push_str("ALTER TABLE stock_move SET (autovacuum_enabled = off);\n");
    }
    server.execute("erp", &sql).expect("plant");
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `pgsage fleet`, with `PGSERVICEFILE` pointing at `services.conf` beside the
/// inventory.
fn run_fleet(inventory: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let services = inventory.with_file_name("services.conf");
    let mut args = vec![
        "fleet",
        "--inventory",
        inventory.to_str().expect("utf-8 path"),
        "-o",
        out.to_str().expect("utf-8 path"),
        "--timeout",
        "4s",
        "--jobs",
        "4",
    ];
    args.extend_from_slice(extra);
    std::process::Command::new(env!("CARGO_BIN_EXE_pgsage"))
        .args(&args)
        .env("NO_COLOR", "1")
        .env("PGSERVICEFILE", services)
        .env_remove("PGHOST")
        .env_remove("PGDATABASE")
        .env_remove("PGSERVICE")
        .env_remove("PGPASSWORD")
        .output()
        .expect("run pgsage")
}

#[test]
fn a_fleet_survives_a_dead_and_a_hung_server() {
    let Some(a) = require_server(17) else { return };
    let Some(b) = require_server(15) else { return };
    let dir = tempfile::tempdir().expect("tmp");
    let passfile = dir.path().join("pgpass");
    monitor_role(&a, &passfile);
    plant(&a, true);
    // A standby's way to its primary often holds the replication password; pg_monitor
    // reads it in pg_settings.
    a.execute(
        "postgres",
        &format!("ALTER SYSTEM SET primary_conninfo = 'host=primary user=replicator password={PASSWORD}'"),
    )
    .expect("primary_conninfo");
    a.execute("postgres", "SELECT pg_reload_conf()")
        .expect("reload");
    plant(&b, false);
    let silent = SilentServer::start().expect("silent server");
    let dead = closed_port();

    // erp-b is reached through a connection service file.
    std::fs::write(
        dir.path().join("services.conf"),
        format!(
            "# the estate\n[erp_b]\nhost=127.0.0.1\nport={}\nuser=postgres\ndbname=erp\nsslmode=disable\n",
            b.port()
        ),
    )
    .expect("service file");
    let inventory = dir.path().join("fleet.toml");
    std::fs::write(
        &inventory,
        format!(
            r#"
[[server]]
name = "erp-a"
dsn = "host=127.0.0.1 port={a_port} user=fleet_monitor dbname=erp sslmode=disable passfile={passfile}"
tags = {{ env = "prod", customer = "acme" }}
ram = "16GiB"
cpus = 4
storage = "ssd"

[[server]]
name = "erp-b"
dsn = "service=erp_b"
tags = {{ env = "prod", customer = "globex" }}

[[server]]
name = "dead"
dsn = "host=127.0.0.1 port={dead} user=postgres dbname=postgres sslmode=disable"
tags = {{ env = "test" }}

[[server]]
name = "hung"
dsn = "host=127.0.0.1 port={silent_port} user=postgres dbname=postgres sslmode=disable"
"#,
            a_port = a.port(),
            passfile = passfile.display(),
            silent_port = silent.port(),
        ),
    )
    .expect("inventory");
    let out = dir.path().join("out");
    let started = std::time::Instant::now();
    let o = run_fleet(&inventory, &out, &["--format", "json"]);
    let took = started.elapsed();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // The hung server cost its timeout, not the run: everything ran at once.
    assert!(took.as_secs() < 60, "took {took:?}");

    // The summary, printed and written, says what happened to each server.
    let printed: Value = serde_json::from_str(&stdout(&o)).expect("printed summary");
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(printed["servers"], summary["servers"]);
    let by_name: BTreeMap<&str, &Value> = summary["servers"]
        .as_array()
        .expect("servers")
        .iter()
        .map(|s| (s["name"].as_str().expect("name"), s))
        .collect();
    assert_eq!(by_name["erp-a"]["status"], "ok");
    assert_eq!(by_name["erp-b"]["status"], "ok");
    assert_eq!(by_name["dead"]["status"], "error");
    assert!(
        by_name["dead"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("refused")),
        "{}",
        by_name["dead"]
    );
    assert_eq!(by_name["hung"]["status"], "timeout", "{}", by_name["hung"]);
    assert!(silent.accepted() > 0, "the hung server was tried");
    assert_eq!(summary["totals"]["ok"], 2);
    let page = std::fs::read_to_string(out.join("summary.html")).expect("summary.html");
    for (name, status) in [("erp-a", "ok"), ("dead", "error"), ("hung", "timeout")] {
        assert!(
            page.contains(&format!("data-server=\"{name}\" data-status=\"{status}\"")),
            "{name} is not on the page as {status}"
        );
    }
    assert_eq!(by_name["erp-a"]["tags"]["customer"], "acme");

    // Each audited server has its snapshot and report; the planted problem is found on
    // erp-a and not on its healthy twin.
    let mut findings_in_reports = 0;
    let mut worst = Vec::new();
    for name in ["erp-a", "erp-b"] {
        let report = read_json(&out.join(name).join("report.json"));
        let snapshot = read_json(&out.join(name).join("snapshot.json"));
        assert_eq!(snapshot["server"]["database"], "erp", "{name}");
        let findings = report["findings"].as_array().expect("findings");
        findings_in_reports += findings.len();
        worst.extend(
            findings
                .iter()
                .map(|f| f["severity"].as_str().unwrap_or("").to_owned()),
        );
        let autovacuum_off = findings.iter().any(|f| {
            f["object"]["name"] == "stock_move"
                && f["message"].as_str().unwrap_or("").contains("autovacuum")
        });
        assert_eq!(autovacuum_off, name == "erp-a", "{name}: {findings:?}");
    }
    // Inventory host facts reached the audit.
    let a_report = read_json(&out.join("erp-a/report.json"));
    assert_eq!(a_report["host"]["ram_bytes"]["source"], "inventory");
    assert!(!out.join("dead/report.json").exists());

    // The findings table: one row per finding of the reports, in NDJSON and Parquet.
    let ndjson = std::fs::read_to_string(out.join("findings.ndjson")).expect("ndjson");
    let rows: Vec<Value> = ndjson
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON object per line"))
        .collect();
    assert_eq!(rows.len(), findings_in_reports);
    assert!(rows
        .iter()
        .all(|r| r["server"] == "erp-a" || r["server"] == "erp-b"));
    assert!(rows
        .iter()
        .any(|r| r["server"] == "erp-a" && r["tags"]["customer"] == "acme"));
    {
        use parquet::file::reader::{FileReader, SerializedFileReader};
        let file = std::fs::File::open(out.join("findings.parquet")).expect("parquet");
        let reader = SerializedFileReader::new(file).expect("a parquet file");
        assert_eq!(
            reader.metadata().file_metadata().num_rows(),
            rows.len() as i64
        );
    }

    // The password came from the password file and is in no output; the replication
    // password of primary_conninfo is masked, the setting itself kept.
    let a_snapshot = read_json(&out.join("erp-a/snapshot.json"));
    let conninfo = a_snapshot["settings"]
        .as_array()
        .expect("settings")
        .iter()
        .find(|s| s["name"] == "primary_conninfo")
        .expect("primary_conninfo collected");
    assert_eq!(
        conninfo["setting"], "host=primary user=replicator password=***",
        "{conninfo}"
    );
    if let Ok(keep) = std::env::var("PGSAGE_KEEP_FLEET_DIR") {
        copy_dir(&out, Path::new(&keep));
    }
    for entry in walk(&out) {
        let bytes = std::fs::read(&entry).expect("read");
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(PASSWORD),
            "{} holds the password",
            entry.display()
        );
    }
    assert!(!stdout(&o).contains(PASSWORD) && !stderr(&o).contains(PASSWORD));

    // --fail-on: 1 exactly when some finding of the fleet is at or above it. The
    // directory is reused.
    for (level, rank) in [("info", 0), ("warning", 1), ("critical", 2)] {
        let rank_of = |s: &str| match s {
            "info" => 0,
            "warning" => 1,
            _ => 2,
        };
        let expected = if worst.iter().any(|s| rank_of(s) >= rank) {
            1
        } else {
            0
        };
        let o = run_fleet(
            &inventory,
            &out,
            &["--fail-on", level, "--format", "markdown"],
        );
        assert_eq!(
            o.status.code(),
            Some(expected),
            "--fail-on {level}: {}",
            stderr(&o)
        );
        assert!(stdout(&o).contains("| `hung` |"), "{}", stdout(&o));
    }
    // The Python package's test reads this directory with another Parquet reader.
    if let Ok(keep) = std::env::var("PGSAGE_KEEP_FLEET_DIR") {
        copy_dir(&out, Path::new(&keep));
    }
}

#[test]
fn nothing_audited_exits_2_and_still_writes_the_summary() {
    let dir = tempfile::tempdir().expect("tmp");
    let inventory = dir.path().join("fleet.toml");
    std::fs::write(
        &inventory,
        format!(
            "[[server]]\nname = \"dead\"\ndsn = \"host=127.0.0.1 port={} user=x sslmode=disable\"\n",
            closed_port()
        ),
    )
    .expect("inventory");
    let out = dir.path().join("out");
    let o = run_fleet(&inventory, &out, &["--fail-on", "critical"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no server could be audited"),
        "{}",
        stderr(&o)
    );
    let summary = read_json(&out.join("summary.json"));
    assert_eq!(summary["servers"][0]["status"], "error");
    assert!(out.join("findings.parquet").is_file());
}

#[test]
fn an_inventory_with_a_password_is_refused_before_anything_runs() {
    let dir = tempfile::tempdir().expect("tmp");
    let inventory = dir.path().join("fleet.toml");
    std::fs::write(
        &inventory,
        "[[server]]\nname = \"a\"\ndsn = \"postgres://bob:hunter2@db/erp\"\n",
    )
    .expect("inventory");
    let out = dir.path().join("out");
    let o = run_fleet(&inventory, &out, &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("holds a password") && err.contains("PGPASSWORD"),
        "{err}"
    );
    assert!(!err.contains("hunter2"), "{err}");
    assert!(!out.exists(), "nothing is written");
}

#[test]
fn an_output_path_that_is_a_file_fails_before_any_server_is_tried() {
    let dir = tempfile::tempdir().expect("tmp");
    let silent = SilentServer::start().expect("silent server");
    let inventory = dir.path().join("fleet.toml");
    std::fs::write(
        &inventory,
        format!(
            "[[server]]\nname = \"hung\"\ndsn = \"host=127.0.0.1 port={} user=x sslmode=disable\"\n",
            silent.port()
        ),
    )
    .expect("inventory");
    let out = dir.path().join("a-file");
    std::fs::write(&out, "not a directory").expect("file");
    let o = run_fleet(&inventory, &out, &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("creating the output directory"),
        "{}",
        stderr(&o)
    );
    assert_eq!(silent.accepted(), 0, "no server was tried");
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("list") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

fn copy_dir(from: &Path, to: &Path) {
    for file in walk(from) {
        let relative = file.strip_prefix(from).expect("under");
        let target = to.join(relative);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::copy(&file, &target).expect("copy");
    }
}
