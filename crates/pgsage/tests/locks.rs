//! Lock incidents on real servers: two ERP sessions — Odoo's cron worker (application
//! `odoo-1001`, which takes its job from `ir_cron` first) and an order-entry worker
//! (`odoo-1002`) — deadlock on `stock_quant` and `account_move_line`, fail to serialize
//! (REPEATABLE READ and SERIALIZABLE), wait past `deadlock_timeout` and hit
//! `lock_timeout`; the healthy twin runs the same statements one transaction after the
//! other.
//!
//! - `capture_pg<major>` (with `PGSAGE_CAPTURE_LOCK_LOGS=1`, run by
//!   `scripts/capture-lock-logs.sh`) writes the logs (stderr with `%e`, csvlog, jsonlog
//!   on 15+) and `manifest.json` — what was planted, derived from what ran — under
//!   `testdata/logs/locks/pg<major>/`; pgsage-core's tests read them.
//! - `live_*` plant the same on PostgreSQL 13 and 18 and assert the incidents and the
//!   `locks` pack's findings (CI never skips).

// A test's failure is a panic; unwrap says so without ceremony.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use pgsage::workload::log::LogOptions;
use pgsage::workload::{from_logs, AggregateOptions, IncidentKind, Workload};
use pgsage_testkit::{require_server_with, test_majors, wait_until, ServerOptions, TestServer};
use postgres::Client;
use serde_json::{json, Value};

const CAPTURE_ENV: &str = "PGSAGE_CAPTURE_LOCK_LOGS";
/// `%e` gives the SQLSTATE on stderr; `%a` the application (Odoo's `odoo-<pid>`).
const PREFIX: &str = "%m [%p] %e %q%u@%d/%a ";
const DB: &str = "erp";
const CRON_APP: &str = "odoo-1001";
const WEB_APP: &str = "odoo-1002";
const END_MARKER: &str = "locks:end";

/// What one capture plants, per table: the manifest's `planted`, and what the live
/// test expects.
#[derive(Default)]
struct Planted {
    deadlocks: BTreeMap<&'static str, u64>,
    serialization_failures: BTreeMap<&'static str, u64>,
    lock_timeouts: BTreeMap<&'static str, u64>,
    /// `still waiting` lines: the surviving side of each deadlock, each planted wait,
    /// each lock timeout (lock_timeout > deadlock_timeout).
    lock_waits: BTreeMap<&'static str, u64>,
    /// Waits that ended with the lock (`acquired … after`).
    acquired: BTreeMap<&'static str, u64>,
}

impl Planted {
    fn json(&self) -> Value {
        json!({
            "deadlock": self.deadlocks,
            "serialization_failure": self.serialization_failures,
            "lock_timeout": self.lock_timeouts,
            "lock_wait": self.lock_waits,
            "lock_wait_acquired": self.acquired,
        })
    }
}

fn settings(major: u32, name: &str) -> Vec<String> {
    let mut dest = String::from("stderr,csvlog");
    if major >= 15 {
        dest.push_str(",jsonlog");
    }
    vec![
        "logging_collector = on".into(),
        "log_directory = 'pglog'".into(),
        format!("log_filename = '{name}.log'"),
        "log_rotation_age = 0".into(),
        "log_rotation_size = 0".into(),
        format!("log_destination = '{dest}'"),
        format!("log_line_prefix = '{PREFIX}'"),
        "log_min_duration_statement = 0".into(),
        "log_lock_waits = on".into(),
        "deadlock_timeout = '100ms'".into(),
        "log_timezone = 'UTC'".into(),
        "lc_messages = 'C'".into(),
        "autovacuum = off".into(),
        "jit = off".into(),
    ]
}

const SETUP: &str = "
CREATE TABLE ir_cron (id int PRIMARY KEY, cron_name text NOT NULL, active bool NOT NULL,
                      nextcall timestamp NOT NULL, priority int NOT NULL);
INSERT INTO ir_cron VALUES (1, 'Procurement: run scheduler', true, now() - interval '1 minute', 5);
CREATE TABLE stock_quant (id int PRIMARY KEY, product_id int NOT NULL, location_id int NOT NULL,
                          quantity numeric NOT NULL, reserved_quantity numeric NOT NULL);
INSERT INTO stock_quant SELECT g, g, 8, 100, 0 FROM generate_series(1, 20) g;
CREATE TABLE account_move (id int PRIMARY KEY, name text NOT NULL, state text NOT NULL);
INSERT INTO account_move SELECT g, 'INV/' || g, 'draft' FROM generate_series(1, 10) g;
CREATE TABLE account_move_line (id serial PRIMARY KEY,
                                move_id int NOT NULL REFERENCES account_move(id),
                                balance numeric NOT NULL);
CREATE INDEX ON account_move_line (move_id);
INSERT INTO account_move_line (move_id, balance) SELECT 1 + g % 10, 0 FROM generate_series(1, 40) g;
ANALYZE;
";

/// The cron worker's job pick, as Odoo's `ir.cron` does it.
const CRON_PICK: &str = "SELECT id, cron_name FROM ir_cron WHERE active AND nextcall <= now() \
     AND id = 1 FOR NO KEY UPDATE SKIP LOCKED";

fn session(server: &TestServer, app: &str) -> Client {
    let mut c = server.client(DB).unwrap();
    c.batch_execute(&format!(
        "SET application_name = '{app}'; SET statement_timeout = '30s'"
    ))
    .unwrap();
    c
}

fn update(table: &str, id: i32) -> String {
    match table {
        "stock_quant" => {
            format!(
                "UPDATE stock_quant SET reserved_quantity = reserved_quantity + 1 WHERE id = {id}"
            )
        }
        _ => format!("UPDATE account_move_line SET balance = balance + 1 WHERE id = {id}"),
    }
}

/// Waits until `n` sessions wait for a lock, then past `deadlock_timeout` (so the wait
/// is logged).
fn wait_for_waiters(server: &TestServer, n: i64) {
    let ok = wait_until(Duration::from_secs(20), || {
        server
            .query_scalar_i64(
                DB,
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'",
            )
            .is_ok_and(|c| c >= n)
    });
    assert!(ok, "no session ever waited for a lock");
    std::thread::sleep(Duration::from_millis(300));
}

/// Order entry holds row 1 and then wants row 2; the cron job holds row 2 and wants
/// row 1: the cron job, whose check runs last, is the victim.
fn deadlock(server: &TestServer, table: &'static str, conflicts: bool, p: &mut Planted) {
    let mut web = session(server, WEB_APP);
    let mut cron = session(server, CRON_APP);
    if !conflicts {
        web.batch_execute(&format!(
            "BEGIN; {}; {}; COMMIT",
            update(table, 1),
            update(table, 2)
        ))
        .unwrap();
        cron.batch_execute(&format!(
            "BEGIN; {CRON_PICK}; {}; {}; COMMIT",
            update(table, 2),
            update(table, 1)
        ))
        .unwrap();
        return;
    }
    web.batch_execute(&format!("BEGIN; {}", update(table, 1)))
        .unwrap();
    cron.batch_execute(&format!("BEGIN; {CRON_PICK}; {}", update(table, 2)))
        .unwrap();
    let second = update(table, 2);
    let waiter = std::thread::spawn(move || {
        web.batch_execute(&second).unwrap();
        web.batch_execute("COMMIT").unwrap();
    });
    wait_for_waiters(server, 1);
    let err = cron.batch_execute(&update(table, 1)).unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("40P01"), "{err}");
    cron.batch_execute("ROLLBACK").unwrap();
    waiter.join().unwrap();
    *p.deadlocks.entry(table).or_default() += 1;
    *p.lock_waits.entry(table).or_default() += 1;
    *p.acquired.entry(table).or_default() += 1;
}

/// REPEATABLE READ: the cron job read the quant, order entry changed it, the cron
/// job's update fails.
fn repeatable_read(server: &TestServer, conflicts: bool, p: &mut Planted) {
    let mut web = session(server, WEB_APP);
    let mut cron = session(server, CRON_APP);
    let web_update = "UPDATE stock_quant SET quantity = quantity - 1 WHERE id = 3";
    let cron_update = "UPDATE stock_quant SET quantity = quantity + 5 WHERE id = 3";
    if !conflicts {
        web.batch_execute(web_update).unwrap();
    }
    cron.batch_execute(&format!(
        "BEGIN ISOLATION LEVEL REPEATABLE READ; {CRON_PICK}; SELECT quantity FROM stock_quant WHERE id = 3"
    ))
    .unwrap();
    if !conflicts {
        cron.batch_execute(&format!("{cron_update}; COMMIT"))
            .unwrap();
        return;
    }
    web.batch_execute(web_update).unwrap();
    let err = cron.batch_execute(cron_update).unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("40001"), "{err}");
    cron.batch_execute("ROLLBACK").unwrap();
    *p.serialization_failures.entry("stock_quant").or_default() += 1;
}

/// SERIALIZABLE write skew on an invoice's lines: both read the balance, both add a
/// line; the second to commit fails.
fn serializable(server: &TestServer, conflicts: bool, p: &mut Planted) {
    let mut web = session(server, WEB_APP);
    let mut cron = session(server, CRON_APP);
    let read = "SELECT sum(balance) FROM account_move_line WHERE move_id = 1";
    let begin = "BEGIN ISOLATION LEVEL SERIALIZABLE";
    let web_insert = "INSERT INTO account_move_line (move_id, balance) VALUES (1, 10)";
    let cron_insert = "INSERT INTO account_move_line (move_id, balance) VALUES (1, -10)";
    if !conflicts {
        web.batch_execute(&format!("{begin}; {read}; {web_insert}; COMMIT"))
            .unwrap();
        cron.batch_execute(&format!(
            "{begin}; {CRON_PICK}; {read}; {cron_insert}; COMMIT"
        ))
        .unwrap();
        return;
    }
    web.batch_execute(&format!("{begin}; {read}")).unwrap();
    cron.batch_execute(&format!("{begin}; {CRON_PICK}; {read}"))
        .unwrap();
    web.batch_execute(&format!("{web_insert}; COMMIT")).unwrap();
    // The cron job's insert closes the cycle: it fails there (the log names the table)
    // or, on some versions, at its COMMIT (the log names none).
    let (err, table) = match cron.batch_execute(cron_insert) {
        Err(e) => (e, "account_move_line"),
        Ok(()) => (
            cron.batch_execute("COMMIT")
                .expect_err("the write skew was not detected"),
            "",
        ),
    };
    assert_eq!(err.code().map(|c| c.code()), Some("40001"), "{err}");
    let _ = cron.batch_execute("ROLLBACK");
    *p.serialization_failures.entry(table).or_default() += 1;
}

/// The cron job waits for a quant order entry holds, then gets it.
fn lock_wait(server: &TestServer, conflicts: bool, p: &mut Planted) {
    let mut web = session(server, WEB_APP);
    let mut cron = session(server, CRON_APP);
    let stmt = update("stock_quant", 4);
    if !conflicts {
        web.batch_execute(&format!("BEGIN; {stmt}; COMMIT"))
            .unwrap();
        cron.batch_execute(&format!("BEGIN; {CRON_PICK}; {stmt}; COMMIT"))
            .unwrap();
        return;
    }
    web.batch_execute(&format!("BEGIN; {stmt}")).unwrap();
    cron.batch_execute(&format!("BEGIN; {CRON_PICK}")).unwrap();
    let waiter = std::thread::spawn(move || {
        cron.batch_execute(&stmt).unwrap();
        cron.batch_execute("COMMIT").unwrap();
    });
    wait_for_waiters(server, 1);
    web.batch_execute("COMMIT").unwrap();
    waiter.join().unwrap();
    *p.lock_waits.entry("stock_quant").or_default() += 1;
    *p.acquired.entry("stock_quant").or_default() += 1;
}

/// The cron job posts an invoice and keeps it locked; order entry, with a
/// `lock_timeout`, gives up.
fn lock_timeout(server: &TestServer, conflicts: bool, p: &mut Planted) {
    let mut web = session(server, WEB_APP);
    let mut cron = session(server, CRON_APP);
    let post = "UPDATE account_move SET state = 'posted' WHERE id = 2";
    let cancel = "UPDATE account_move SET state = 'cancel' WHERE id = 2";
    web.batch_execute("SET lock_timeout = '400ms'").unwrap();
    if !conflicts {
        cron.batch_execute(&format!("BEGIN; {CRON_PICK}; {post}; COMMIT"))
            .unwrap();
        web.batch_execute(cancel).unwrap();
        return;
    }
    cron.batch_execute(&format!("BEGIN; {CRON_PICK}; {post}"))
        .unwrap();
    let err = web.batch_execute(cancel).unwrap_err();
    assert_eq!(err.code().map(|c| c.code()), Some("55P03"), "{err}");
    cron.batch_execute("COMMIT").unwrap();
    *p.lock_timeouts.entry("account_move").or_default() += 1;
    *p.lock_waits.entry("account_move").or_default() += 1;
}

/// Order entry adds a line to an invoice the cron job has locked `FOR UPDATE`: the
/// line's foreign key check (`SELECT 1 FROM ONLY "public"."account_move" x … FOR KEY
/// SHARE OF x`) waits, and the log's CONTEXT names `account_move`, not the table the
/// statement inserts into.
fn foreign_key_wait(server: &TestServer, conflicts: bool, p: &mut Planted) {
    let mut web = session(server, WEB_APP);
    let mut cron = session(server, CRON_APP);
    let lock = "SELECT id FROM account_move WHERE id = 3 FOR UPDATE";
    let insert = "INSERT INTO account_move_line (move_id, balance) VALUES (3, 1)";
    if !conflicts {
        cron.batch_execute(&format!("BEGIN; {CRON_PICK}; {lock}; COMMIT"))
            .unwrap();
        web.batch_execute(insert).unwrap();
        return;
    }
    cron.batch_execute(&format!("BEGIN; {CRON_PICK}; {lock}"))
        .unwrap();
    let waiter = std::thread::spawn(move || {
        web.batch_execute(insert).unwrap();
    });
    wait_for_waiters(server, 1);
    cron.batch_execute("COMMIT").unwrap();
    waiter.join().unwrap();
    *p.lock_waits.entry("account_move").or_default() += 1;
    *p.acquired.entry("account_move").or_default() += 1;
}

/// Plants everything (or its healthy twin) on `server`; returns what was planted.
fn plant(server: &TestServer, conflicts: bool) -> Planted {
    server.create_database_without_extensions(DB).unwrap();
    server.execute(DB, SETUP).unwrap();
    let mut p = Planted::default();
    for _ in 0..3 {
        deadlock(server, "stock_quant", conflicts, &mut p);
    }
    deadlock(server, "account_move_line", conflicts, &mut p);
    for _ in 0..2 {
        repeatable_read(server, conflicts, &mut p);
        serializable(server, conflicts, &mut p);
        lock_wait(server, conflicts, &mut p);
        lock_timeout(server, conflicts, &mut p);
        foreign_key_wait(server, conflicts, &mut p);
    }
    server
        .execute(DB, &format!("SELECT /*{END_MARKER}*/ 1"))
        .unwrap();
    p
}

fn start(major: u32, name: &str) -> Option<TestServer> {
    let mut opts = ServerOptions::new(major);
    for s in settings(major, name) {
        opts = opts.conf(&s);
    }
    require_server_with(opts)
}

/// The server's log files of `name`, once they show the end marker: (format, path).
fn log_files(server: &TestServer, name: &str) -> Vec<(&'static str, PathBuf)> {
    let dir = server.data_dir().join("pglog");
    let mut kinds = vec![("stderr", "log"), ("csv", "csv")];
    if server.major() >= 15 {
        kinds.push(("json", "json"));
    }
    kinds
        .into_iter()
        .map(|(format, ext)| {
            let path = dir.join(format!("{name}.{ext}"));
            let ok = wait_until(Duration::from_secs(15), || {
                std::fs::read_to_string(&path).is_ok_and(|t| t.contains(END_MARKER))
            });
            assert!(ok, "{} never showed the end marker", path.display());
            (format, path)
        })
        .collect()
}

fn read_workload(path: &Path) -> Workload {
    let opts = LogOptions {
        prefix: Some(PREFIX.into()),
        ..LogOptions::default()
    };
    let cancel = AtomicBool::new(false);
    let (w, _) = from_logs(
        &[path],
        &opts,
        AggregateOptions::default(),
        Some(&cancel),
        |_, _| {},
    )
    .unwrap();
    w
}

/// Incidents of `kind` per table, as the workload has them.
fn counted(w: &Workload, kind: IncidentKind) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for g in w.incidents.iter().filter(|g| g.kind == kind) {
        *out.entry(g.relation.clone().unwrap_or_default())
            .or_default() += g.count;
    }
    out
}

fn as_strings(m: &BTreeMap<&'static str, u64>) -> BTreeMap<String, u64> {
    m.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect()
}

fn locks_findings(w: &Workload) -> Vec<pgsage::Finding> {
    let config = pgsage::RuleConfig::shipped().unwrap();
    let (findings, _, _) = pgsage::engine::workload::check(w, &config);
    findings
        .into_iter()
        .filter(|f| f.rule.starts_with("LCK"))
        .collect()
}

fn live(major: u32) {
    let Some(server) = start(major, "conflicts") else {
        return;
    };
    let planted = plant(&server, true);
    for (format, path) in log_files(&server, "conflicts") {
        let w = read_workload(&path);
        let what = format!("pg{major} {format}");
        assert_eq!(
            counted(&w, IncidentKind::Deadlock),
            as_strings(&planted.deadlocks),
            "{what}"
        );
        assert_eq!(
            counted(&w, IncidentKind::SerializationFailure),
            as_strings(&planted.serialization_failures),
            "{what}"
        );
        assert_eq!(
            counted(&w, IncidentKind::LockTimeout),
            as_strings(&planted.lock_timeouts),
            "{what}"
        );
        assert_eq!(
            counted(&w, IncidentKind::LockWait),
            as_strings(&planted.lock_waits),
            "{what}"
        );
        // The stock_quant deadlocks: the cron job (victim) against order entry.
        let g = w
            .incidents
            .iter()
            .find(|g| {
                g.kind == IncidentKind::Deadlock && g.relation.as_deref() == Some("stock_quant")
            })
            .unwrap();
        let ops = g.operations.as_ref().expect("ERP operations");
        assert!(ops.cron_and_interactive(), "{what}: {ops:?}");
        assert_eq!(ops.cron_applications, vec![CRON_APP.to_owned()], "{what}");
        let findings = locks_findings(&w);
        for rule in ["LCK001", "LCK002", "LCK003"] {
            assert!(
                findings.iter().any(|f| f.rule == rule),
                "{what}: {rule} did not fire: {findings:#?}"
            );
        }
        let deadlock = findings
            .iter()
            .find(|f| f.rule == "LCK002" && f.object.name == "stock_quant")
            .unwrap();
        assert!(
            deadlock.message.contains("cron") && deadlock.message.contains("inferred"),
            "{what}: {}",
            deadlock.message
        );
    }
    drop(server);
    let Some(twin) = start(major, "healthy") else {
        return;
    };
    let none = plant(&twin, false);
    assert!(none.deadlocks.is_empty());
    for (format, path) in log_files(&twin, "healthy") {
        let w = read_workload(&path);
        assert!(
            w.incidents.is_empty(),
            "pg{major} {format}: {:?}",
            w.incidents
        );
        assert!(
            w.totals.calls > 0,
            "pg{major} {format}: the twin ran its workload"
        );
        let findings = locks_findings(&w);
        assert!(findings.is_empty(), "pg{major} {format}: {findings:#?}");
    }
}

/// The live majors: 13 and 18 (the oldest and newest), as far as PGSAGE_TEST_MAJORS
/// allows.
fn live_majors() -> Vec<u32> {
    test_majors()
        .into_iter()
        .filter(|m| [13, 18].contains(m))
        .collect()
}

#[test]
fn live_conflicts_are_found_and_the_healthy_twin_is_quiet() {
    for major in live_majors() {
        live(major);
    }
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn capture(major: u32) {
    if std::env::var(CAPTURE_ENV).as_deref() != Ok("1") {
        eprintln!("SKIP: set {CAPTURE_ENV}=1 (scripts/capture-lock-logs.sh) to capture logs");
        return;
    }
    let dir = repo_root().join(format!("testdata/logs/locks/pg{major}"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut captures = serde_json::Map::new();
    let mut version = String::new();
    for (name, conflicts) in [("conflicts", true), ("healthy", false)] {
        let server = start(major, name).unwrap();
        let planted = plant(&server, conflicts);
        let mut c = server.client("postgres").unwrap();
        version = c
            .query_one("SHOW server_version", &[])
            .unwrap()
            .get::<_, String>(0);
        let mut files = serde_json::Map::new();
        for (format, path) in log_files(&server, name) {
            let file = path.file_name().unwrap().to_string_lossy().to_string();
            // The server writes its logs 0600; the corpus is plain repository data.
            std::fs::write(dir.join(&file), std::fs::read(&path).unwrap()).unwrap();
            files.insert(format.to_owned(), Value::String(file));
        }
        captures.insert(
            name.to_owned(),
            json!({ "files": files, "planted": planted.json() }),
        );
    }
    let manifest = json!({
        "major": major,
        "server_version": version,
        "generated_by": "scripts/capture-lock-logs.sh (crates/pgsage/tests/locks.rs)",
        "prefix": PREFIX,
        "settings": settings(major, "<capture>"),
        "cron_application": CRON_APP,
        "interactive_application": WEB_APP,
        "captures": captures,
    });
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_string_pretty(&manifest).unwrap() + "\n",
    )
    .unwrap();
}

#[test]
fn capture_pg13() {
    capture(13);
}

#[test]
fn capture_pg14() {
    capture(14);
}

#[test]
fn capture_pg15() {
    capture(15);
}

#[test]
fn capture_pg16() {
    capture(16);
}

#[test]
fn capture_pg17() {
    capture(17);
}

#[test]
fn capture_pg18() {
    capture(18);
}
