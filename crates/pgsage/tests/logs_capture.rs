//! Captures the server log corpus, `testdata/logs/pg<major>/`, from real PostgreSQL
//! 13–18 servers. Run by `scripts/capture-logs.sh`; without `PGSAGE_CAPTURE_LOGS=1`
//! these tests do nothing.
//!
//! Each logging configuration (a `log_line_prefix`, csvlog/jsonlog, log_statement +
//! log_duration, verbose errors) gets its own server running the same small workload.
//! Every workload statement carries a marker comment (`/*w:simple_select*/`), and
//! `manifest.json` records, per configuration, the settings, the files and how many
//! samples of each kind each marker must give — derived from what was run, so
//! `tests/logs.rs` can assert exact counts.

// A test's failure is a panic; unwrap says so without ceremony.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use pgsage_testkit::{require_server_with, wait_until, ServerOptions, TestServer};
use serde_json::{json, Value};
use tokio_postgres::types::Type;

const CAPTURE_ENV: &str = "PGSAGE_CAPTURE_LOGS";

/// How statements and durations are logged.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// `log_min_duration_statement = 0`: one `duration: … statement: …` line each.
    MinDuration,
    /// `log_statement = 'all'` + `log_duration = on`: two lines each.
    StatementDuration,
}

struct Config {
    name: &'static str,
    prefix: String,
    mode: Mode,
    /// Also csvlog (and jsonlog on 15+).
    structured: bool,
    extra: &'static [&'static str],
}

fn configs(major: u32) -> Vec<Config> {
    // Every escape the version knows, with padding and %q; %Q is 14+, %P 16+.
    let mut all = String::from("%m|%t|%n|%p|%l|%s|%v|%x|%e|%i|%b|%c|%r|%h|%a|%-10u|%10d|");
    if major >= 14 {
        all.push_str("%Q|");
    }
    if major >= 16 {
        all.push_str("%P|");
    }
    all.push_str("%%|%q%u@%d ");
    vec![
        Config {
            name: "default",
            prefix: "%m [%p] ".into(),
            mode: Mode::MinDuration,
            structured: true,
            extra: &[],
        },
        Config {
            name: "debian",
            prefix: "%m [%p] %q%u@%d ".into(),
            mode: Mode::MinDuration,
            structured: false,
            extra: &[],
        },
        Config {
            name: "pgbadger",
            prefix: "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ".into(),
            mode: Mode::MinDuration,
            structured: false,
            extra: &[],
        },
        Config {
            name: "azure",
            prefix: "%t-%c-".into(),
            mode: Mode::MinDuration,
            structured: false,
            extra: &[],
        },
        Config {
            name: "rds",
            prefix: "%t:%r:%u@%d:[%p]:".into(),
            mode: Mode::MinDuration,
            structured: false,
            extra: &[],
        },
        Config {
            name: "escapes",
            prefix: all,
            mode: Mode::MinDuration,
            structured: false,
            extra: &["log_error_verbosity = verbose"],
        },
        Config {
            name: "statement_duration",
            prefix: "%m [%p] %q%u@%d ".into(),
            mode: Mode::StatementDuration,
            structured: true,
            extra: &[],
        },
    ]
}

/// One workload step: a marker, how many times it runs, and how.
#[derive(Clone, Copy, PartialEq)]
enum How {
    Simple,
    /// `client.query` with parameters: a named prepared statement, then bind/execute.
    Extended,
    /// `query_typed`: the unnamed statement.
    Unnamed,
    /// auto_explain, text or JSON.
    Explain,
    /// Fails with division by zero (22012).
    Error,
}

struct Step {
    marker: &'static str,
    runs: usize,
    how: How,
}

const STEPS: &[Step] = &[
    Step {
        marker: "simple_select",
        runs: 3,
        how: How::Simple,
    },
    Step {
        marker: "multi_line",
        runs: 2,
        how: How::Simple,
    },
    Step {
        marker: "multi_stmt",
        runs: 1,
        how: How::Simple,
    },
    Step {
        marker: "ext_select",
        runs: 3,
        how: How::Extended,
    },
    Step {
        marker: "ext_null",
        runs: 1,
        how: How::Extended,
    },
    Step {
        marker: "ext_unnamed",
        runs: 2,
        how: How::Unnamed,
    },
    Step {
        marker: "error",
        runs: 1,
        how: How::Error,
    },
    Step {
        marker: "temp_sort",
        runs: 1,
        how: How::Simple,
    },
    Step {
        marker: "explain_text",
        runs: 1,
        how: How::Explain,
    },
    Step {
        marker: "explain_json",
        runs: 1,
        how: How::Explain,
    },
    Step {
        marker: "app_select",
        runs: 2,
        how: How::Simple,
    },
];

const SETUP: &str = "
CREATE TABLE wl_item (id int PRIMARY KEY, name text NOT NULL, qty int NOT NULL);
INSERT INTO wl_item SELECT g, 'item ' || g, g % 50 FROM generate_series(1, 500) g;
ANALYZE wl_item;
";

fn run_workload(server: &TestServer) {
    let mut c = server.client("app").unwrap();
    c.batch_execute(SETUP).unwrap();
    for i in 1..=3 {
        c.batch_execute(&format!(
            "SELECT /*w:simple_select*/ name FROM wl_item WHERE id = {i}"
        ))
        .unwrap();
    }
    for i in 1..=2 {
        c.batch_execute(&format!(
            "SELECT /*w:multi_line*/ id,\n       name\n  FROM wl_item\n WHERE qty > {i}\n\tORDER BY id\n LIMIT 2"
        ))
        .unwrap();
    }
    c.batch_execute("SELECT /*w:multi_stmt*/ 1; SELECT 2")
        .unwrap();
    for i in 1..=3i32 {
        c.query(
            "SELECT /*w:ext_select*/ name FROM wl_item WHERE id = $1 AND name <> $2",
            &[&i, &"it's"],
        )
        .unwrap();
    }
    c.query(
        "SELECT /*w:ext_null*/ count(*) FROM wl_item WHERE qty = $1",
        &[&None::<i32>],
    )
    .unwrap();
    for i in 1..=2i32 {
        c.query_typed(
            "SELECT /*w:ext_unnamed*/ qty FROM wl_item WHERE id = $1",
            &[(&i, Type::INT4)],
        )
        .unwrap();
    }
    assert!(c.batch_execute("SELECT /*w:error*/ 1/0").is_err());
    c.batch_execute(
        "SET work_mem = '64kB';
         SELECT /*w:temp_sort*/ count(*) FROM (SELECT g FROM generate_series(1, 20000) g ORDER BY md5(g::text)) s;
         RESET work_mem",
    )
    .unwrap();
    c.batch_execute("LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0")
        .unwrap();
    c.batch_execute("SET auto_explain.log_format = 'text'")
        .unwrap();
    c.batch_execute("SELECT /*w:explain_text*/ count(*) FROM wl_item WHERE qty < 7")
        .unwrap();
    c.batch_execute("SET auto_explain.log_format = 'json'")
        .unwrap();
    c.batch_execute("SELECT /*w:explain_json*/ max(id) FROM wl_item WHERE qty = 3")
        .unwrap();
    c.batch_execute("SET auto_explain.log_min_duration = -1")
        .unwrap();
    c.batch_execute("CHECKPOINT").unwrap();
    {
        let mut app = server.client("app").unwrap();
        app.batch_execute("SET application_name = 'wl_app'")
            .unwrap();
        for i in 1..=2 {
            app.batch_execute(&format!(
                "SELECT /*w:app_select*/ {i} + qty FROM wl_item WHERE id = {i}"
            ))
            .unwrap();
        }
    }
    c.batch_execute("SELECT /*w:end*/ 1").unwrap();
}

/// Samples each marker must give: (marker, kind, count).
fn expected(mode: Mode) -> Vec<Value> {
    let mut out = Vec::new();
    let mut push = |marker: &str, kind: &str, count: usize| {
        out.push(json!({ "marker": marker, "kind": kind, "count": count }));
    };
    for s in STEPS {
        match (s.how, mode) {
            (How::Simple, _) => push(s.marker, "simple", s.runs),
            (How::Extended | How::Unnamed, Mode::MinDuration) => {
                push(s.marker, "execute", s.runs);
                // Each run parses (a new statement) and binds.
                push(s.marker, "parse_or_bind", 2 * s.runs);
            }
            (How::Extended | How::Unnamed, Mode::StatementDuration) => {
                push(s.marker, "execute", s.runs);
            }
            (How::Explain, _) => {
                push(s.marker, "simple", s.runs);
                push(s.marker, "auto_explain", s.runs);
            }
            (How::Error, _) => {}
        }
    }
    out
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn capture_config(major: u32, cfg: &Config, dir: &Path) -> Value {
    let mut dest = String::from("stderr");
    if cfg.structured {
        dest.push_str(",csvlog");
        if major >= 15 {
            dest.push_str(",jsonlog");
        }
    }
    let mut settings = vec![
        "logging_collector = on".to_string(),
        "log_directory = 'pglog'".to_string(),
        format!("log_filename = '{}.log'", cfg.name),
        "log_rotation_age = 0".to_string(),
        "log_rotation_size = 0".to_string(),
        format!("log_destination = '{dest}'"),
        format!("log_line_prefix = '{}'", cfg.prefix),
        "log_checkpoints = on".to_string(),
        "log_connections = on".to_string(),
        "log_disconnections = on".to_string(),
        "log_temp_files = 0".to_string(),
        "log_timezone = 'UTC'".to_string(),
        "lc_messages = 'C'".to_string(),
        "autovacuum = off".to_string(),
        "jit = off".to_string(),
    ];
    match cfg.mode {
        Mode::MinDuration => settings.push("log_min_duration_statement = 0".into()),
        Mode::StatementDuration => {
            settings.push("log_statement = 'all'".into());
            settings.push("log_duration = on".into());
        }
    }
    settings.extend(cfg.extra.iter().map(|s| s.to_string()));
    let mut opts = ServerOptions::new(major);
    for s in &settings {
        opts = opts.conf(s);
    }
    let server = require_server_with(opts).unwrap();
    server.create_database_without_extensions("app").unwrap();
    run_workload(&server);
    let logdir = server.data_dir().join("pglog");
    let mut files = serde_json::Map::new();
    let mut kinds = vec![("stderr", "log")];
    if cfg.structured {
        kinds.push(("csv", "csv"));
        if major >= 15 {
            kinds.push(("json", "json"));
        }
    }
    for (format, ext) in kinds {
        let src = logdir.join(format!("{}.{ext}", cfg.name));
        let ok = wait_until(Duration::from_secs(15), || {
            std::fs::read_to_string(&src).is_ok_and(|t| t.contains("w:end"))
        });
        assert!(
            ok,
            "pg{major} {}: {} never showed the workload's end",
            cfg.name,
            src.display()
        );
        let name = format!("{}.{ext}", cfg.name);
        // The server writes its logs 0600; the corpus is plain repository data.
        std::fs::write(dir.join(&name), std::fs::read(&src).unwrap()).unwrap();
        files.insert(format.to_string(), Value::String(name));
    }
    let mode = match cfg.mode {
        Mode::MinDuration => "min_duration",
        Mode::StatementDuration => "statement_duration",
    };
    json!({
        "name": cfg.name,
        "prefix": cfg.prefix,
        "mode": mode,
        "settings": settings,
        "files": files,
        "expect": expected(cfg.mode),
        "errors": { "marker": "error", "sqlstate": "22012", "count": 1 },
        "temp_file_marker": "temp_sort",
    })
}

fn capture(major: u32) {
    if std::env::var(CAPTURE_ENV).as_deref() != Ok("1") {
        eprintln!("SKIP: set {CAPTURE_ENV}=1 (scripts/capture-logs.sh) to capture logs");
        return;
    }
    let dir = repo_root().join(format!("testdata/logs/pg{major}"));
    std::fs::create_dir_all(&dir).unwrap();
    let configs: Vec<Value> = configs(major)
        .iter()
        .map(|c| capture_config(major, c, &dir))
        .collect();
    let version = {
        let server = require_server_with(ServerOptions::new(major)).unwrap();
        let mut c = server.client("postgres").unwrap();
        let row = c.query_one("SHOW server_version", &[]).unwrap();
        row.get::<_, String>(0)
    };
    let manifest = json!({
        "major": major,
        "server_version": version,
        "generated_by": "scripts/capture-logs.sh (crates/pgsage/tests/logs_capture.rs)",
        "configs": configs,
    });
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_string_pretty(&manifest).unwrap() + "\n",
    )
    .unwrap();
}

macro_rules! per_major {
    ($($name:ident => $major:expr),* $(,)?) => {
        $(#[test] fn $name() { capture($major); })*
    };
}

per_major! {
    capture_pg13 => 13, capture_pg14 => 14, capture_pg15 => 15,
    capture_pg16 => 16, capture_pg17 => 17, capture_pg18 => 18,
}
