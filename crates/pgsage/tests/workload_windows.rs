//! The workload questions on server logs from a real server, in time windows: order entry
//! with reports and a cron import in its busiest window (WRK001 and WRK003 fire) against
//! the same reports and import in a quiet window of their own (both quiet).
//!
//! The windows are 10 s long (`--bucket 10s`) so a run takes about a minute: each phase
//! starts just after a 10 s boundary and ends before the next. With
//! `PGSAGE_CAPTURE_WORKLOAD_WINDOWS=1` (scripts/capture-workload-windows.sh) the two logs
//! are written to `testdata/logs/workload-windows/` for the rules' fixture tests.

// A test's failure is a panic; unwrap says so without ceremony.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pgsage::engine::workload::check_with;
use pgsage::questions::Facts;
use pgsage::workload::log::LogOptions;
use pgsage_testkit::{require_server_with, ServerOptions, TestServer};

const CAPTURE_ENV: &str = "PGSAGE_CAPTURE_WORKLOAD_WINDOWS";
const BUCKET_SECONDS: u64 = 10;
const PREFIX: &str = "%m [%p] user=%u,db=%d,app=%a ";
/// Scaled down so a test report of a few hundred ms counts as long (as the scenarios do;
/// the interactive statements take under a millisecond).
const CONFIG: &str = "[rules.WRK001.params]\nmin_mean_ms = 100\n";

/// The sales report Odoo's reporting runs (a long read).
const REPORT: &str = "SELECT partner_id, sum(amount), count(DISTINCT md5(note)) FROM sale_order_line GROUP BY partner_id";
/// The import a scheduled action runs (a slow write).
const IMPORT: &str = "INSERT INTO stock_move_import (product_id, qty, note) SELECT g % 500, g % 7, md5(g::text) FROM generate_series(1, 60000) g";

/// What runs in one window.
#[derive(Clone, Copy)]
struct Phase {
    /// Order entry: this many partner lookups and updates (`odoo-web`).
    orders: usize,
    /// Reports and imports beside it (`odoo-report`, `odoo-cron`).
    reports_and_imports: bool,
}

const QUIET: Phase = Phase {
    orders: 150,
    reports_and_imports: false,
};
const PEAK: Phase = Phase {
    orders: 1000,
    reports_and_imports: false,
};
const PEAK_WITH_BATCH: Phase = Phase {
    orders: 1000,
    reports_and_imports: true,
};
const NIGHT_WITH_BATCH: Phase = Phase {
    orders: 150,
    reports_and_imports: true,
};

fn server(major: u32) -> Option<TestServer> {
    let mut opts = ServerOptions::new(major);
    for s in [
        "logging_collector = on",
        "log_directory = 'pglog'",
        "log_filename = 'postgresql.log'",
        "log_rotation_age = 0",
        "log_rotation_size = 0",
        "log_min_duration_statement = 0",
        "log_timezone = 'UTC'",
        "lc_messages = 'C'",
        "autovacuum = off",
        "jit = off",
    ] {
        opts = opts.conf(s);
    }
    opts = opts.conf(&format!("log_line_prefix = '{PREFIX}'"));
    require_server_with(opts)
}

fn setup(server: &TestServer) {
    server.create_database_without_extensions("erp").unwrap();
    server
        .execute(
            "erp",
            "CREATE TABLE res_partner (id int PRIMARY KEY, name text NOT NULL, hits int NOT NULL DEFAULT 0);
             INSERT INTO res_partner (id, name) SELECT g, 'partner ' || g FROM generate_series(1, 2000) g;
             CREATE TABLE sale_order_line (id serial PRIMARY KEY, partner_id int NOT NULL, amount numeric NOT NULL, note text NOT NULL);
             INSERT INTO sale_order_line (partner_id, amount, note) SELECT g % 2000, g % 97, md5(g::text) FROM generate_series(1, 150000) g;
             CREATE TABLE stock_move_import (id serial PRIMARY KEY, product_id int NOT NULL, qty int NOT NULL, note text NOT NULL);
             ANALYZE",
        )
        .unwrap();
}

fn client(server: &TestServer, app: &str) -> postgres::Client {
    let dsn = format!("{} application_name={app}", server.dsn("erp"));
    postgres::Client::connect(&dsn, postgres::NoTls).unwrap()
}

/// Sleeps until just after the next window boundary.
fn next_window() {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    let into = now.as_millis() as u64 % (BUCKET_SECONDS * 1000);
    std::thread::sleep(Duration::from_millis(BUCKET_SECONDS * 1000 - into + 300));
}

fn run_phase(server: &TestServer, phase: Phase) {
    next_window();
    let started = std::time::Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| {
            let mut c = client(server, "odoo-web");
            for i in 0..phase.orders {
                let id = (i % 2000 + 1) as i32;
                // The simple protocol: one log line per statement, with its constants.
                c.batch_execute(&format!("SELECT name FROM res_partner WHERE id = {id}"))
                    .unwrap();
                c.batch_execute(&format!(
                    "UPDATE res_partner SET hits = hits + 1 WHERE id = {id}"
                ))
                .unwrap();
            }
        });
        if phase.reports_and_imports {
            s.spawn(|| {
                let mut c = client(server, "odoo-report");
                for _ in 0..2 {
                    c.batch_execute(REPORT).unwrap();
                }
            });
            s.spawn(|| {
                let mut c = client(server, "odoo-cron");
                for _ in 0..3 {
                    c.batch_execute(IMPORT).unwrap();
                }
            });
        }
    });
    assert!(
        started.elapsed() < Duration::from_secs(BUCKET_SECONDS - 1),
        "a phase must fit its window: took {:?}",
        started.elapsed()
    );
}

/// Runs the phases and returns the log lines they wrote.
fn capture(server: &TestServer, phases: &[Phase]) -> String {
    let log = server.data_dir().join("pglog/postgresql.log");
    let from = std::fs::metadata(&log).unwrap().len();
    for p in phases {
        run_phase(server, *p);
    }
    // The logging collector writes asynchronously: wait for the last phase's statements.
    std::thread::sleep(Duration::from_millis(500));
    let mut f = std::fs::File::open(&log).unwrap();
    f.seek(SeekFrom::Start(from)).unwrap();
    let mut text = String::new();
    f.read_to_string(&mut text).unwrap();
    text
}

fn findings(path: &Path, rule: &str) -> Vec<pgsage::report::Finding> {
    let opts = LogOptions::default().overridden(Some(PREFIX.to_owned()), None);
    let (w, _) = pgsage::workload::from_log_files(
        &[path],
        &opts,
        BUCKET_SECONDS as i64,
        &AtomicBool::new(false),
    )
    .unwrap();
    let mut config = pgsage::RuleConfig::shipped().unwrap();
    config.apply_toml(CONFIG, "workload_windows").unwrap();
    let (found, skipped, _) = check_with(&w, &config, &Facts::default());
    assert!(
        !skipped.iter().any(|s| s.rule == rule),
        "{rule} skipped: {skipped:#?}"
    );
    found.into_iter().filter(|f| f.rule == rule).collect()
}

/// Logs are stored compressed (the reader takes them as they are).
fn write_gz(path: &Path, text: &str) {
    use std::io::Write;
    let f = std::fs::File::create(path).unwrap();
    let mut gz = flate2::write::GzEncoder::new(f, flate2::Compression::best());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap();
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn reports_and_cron_at_the_peak_against_their_own_window() {
    // One major (the newest selected): a run takes about a minute.
    let Some(major) = pgsage_testkit::test_majors().into_iter().max() else {
        return;
    };
    let Some(server) = server(major) else {
        return;
    };
    setup(&server);
    let plant = capture(&server, &[QUIET, PEAK_WITH_BATCH, QUIET]);
    let twin = capture(&server, &[NIGHT_WITH_BATCH, PEAK, QUIET]);

    let dir = tempfile::tempdir().unwrap();
    let capture_to = std::env::var_os(CAPTURE_ENV).map(|_| {
        let d = repo_root().join("testdata/logs/workload-windows");
        std::fs::create_dir_all(&d).unwrap();
        d
    });
    let out = capture_to.as_deref().unwrap_or(dir.path());
    let plant_path = out.join("batch-at-peak.log.gz");
    let twin_path = out.join("batch-at-night.log.gz");
    write_gz(&plant_path, &plant);
    write_gz(&twin_path, &twin);
    if capture_to.is_some() {
        let manifest = serde_json::json!({
            "server_version": major,
            "log_line_prefix": PREFIX,
            "bucket_seconds": BUCKET_SECONDS,
            "config": CONFIG,
            "report": REPORT,
            "import": IMPORT,
            "cases": {
                "batch-at-peak.log.gz": { "expect": ["WRK001", "WRK003"] },
                "batch-at-night.log.gz": { "expect": [] },
            },
        });
        std::fs::write(
            out.join("manifest.json"),
            serde_json::to_string_pretty(&manifest).unwrap() + "\n",
        )
        .unwrap();
    }

    let report = pgsage::workload::fingerprint::fingerprint(REPORT).to_string();
    let import = pgsage::workload::fingerprint::fingerprint(IMPORT).to_string();
    let wrk001 = findings(&plant_path, "WRK001");
    assert!(
        wrk001.iter().any(|f| f.object.name == report),
        "WRK001 missed the report: {wrk001:#?}"
    );
    let wrk003 = findings(&plant_path, "WRK003");
    assert!(
        wrk003
            .iter()
            .any(|f| f.object.name == import && f.message.contains("odoo-cron")),
        "WRK003 missed the import: {wrk003:#?}"
    );
    for rule in ["WRK001", "WRK003"] {
        let noisy = findings(&twin_path, rule);
        assert!(noisy.is_empty(), "{rule} is noisy on the twin: {noisy:#?}");
    }
}
