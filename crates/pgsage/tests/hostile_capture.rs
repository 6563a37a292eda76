//! Captures `testdata/snapshots/hostile.json`: a snapshot of a real PostgreSQL server whose
//! names and texts carry HTML and script (a table, its columns, indexes and sequence, a
//! role, application names, query texts), for the browser test that the HTML page shows
//! them as text (`crates/pgsage-cli/tests/html_browser.rs`). Run by
//! `scripts/capture-hostile.sh`; without `PGSAGE_CAPTURE_HOSTILE=1` this test does nothing.

use std::sync::mpsc;
use std::time::Duration;

use pgsage::{CollectOptions, ConnectOptions};
use pgsage_testkit::scenario::{repo_root, FIXTURE_MAJOR};
use pgsage_testkit::{require_server_with, ServerOptions, TestServer};

const CAPTURE_ENV: &str = "PGSAGE_CAPTURE_HOSTILE";

/// A script element, an attribute breaking out into an image whose error handler runs
/// script, and an entity with both quotes: what a page that forgot to escape would run or
/// garble.
const SCRIPT: &str = "<script>alert(1)</script>";
const IMAGE: &str = "\"><img src=x onerror=alert(1)>";
const ENTITY: &str = "&amp; 'single' \"double\"";

const DB: &str = "app";
const ROLE_PASSWORD: &str = "hostile-pw";

/// `s` as an SQL identifier.
fn ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// `s` as an SQL string literal.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// A connection as the hostile role, under `application`.
fn connect_as_role(server: &TestServer, application: &str) -> postgres::Client {
    postgres::Config::new()
        .host(server.host())
        .port(server.port())
        .user(SCRIPT)
        .password(ROLE_PASSWORD)
        .dbname(DB)
        .application_name(application)
        .connect(postgres::NoTls)
        .expect("connect as the hostile role")
}

#[test]
fn capture_hostile_snapshot() {
    if std::env::var_os(CAPTURE_ENV).is_none() {
        return;
    }
    let server = require_server_with(ServerOptions::new(FIXTURE_MAJOR)).expect("server");
    server.create_database(DB).expect("database");
    let table = ident(SCRIPT);
    let key = ident(IMAGE);
    let note = ident(ENTITY);
    let setup = [
        format!(
            "CREATE ROLE {} LOGIN PASSWORD {}",
            ident(SCRIPT),
            literal(ROLE_PASSWORD)
        ),
        // Autovacuum off for the table (a finding naming it), a serial key near its
        // maximum (a finding naming the column and its sequence), dead rows.
        format!(
            "CREATE TABLE {table} ({key} serial PRIMARY KEY, {note} text NOT NULL) \
             WITH (autovacuum_enabled = false)"
        ),
        format!("INSERT INTO {table} ({note}) SELECT 'row ' || g FROM generate_series(1, 20000) g"),
        format!("DELETE FROM {table} WHERE {key} % 2 = 0"),
        format!(
            "SELECT setval(pg_get_serial_sequence({}, {}), 2000000000)",
            literal(&table),
            literal(IMAGE)
        ),
        // Two indexes on the same column: a duplicate, both named.
        format!(
            "CREATE INDEX {} ON {table} ({note})",
            ident(&format!("{ENTITY} idx"))
        ),
        format!(
            "CREATE INDEX {} ON {table} ({note})",
            ident(&format!("{IMAGE} idx"))
        ),
        format!("GRANT SELECT ON {table} TO {}", ident(SCRIPT)),
        "ANALYZE".into(),
    ];
    for sql in &setup {
        server
            .execute(DB, sql)
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    // Statements in pg_stat_statements with the names in their text.
    let mut role = connect_as_role(&server, ENTITY);
    for _ in 0..5 {
        role.batch_execute(&format!(
            "SELECT count(*) AS {} FROM {table} WHERE {note} <> {}",
            ident(IMAGE),
            literal(ENTITY)
        ))
        .expect("statement");
    }

    // A long query under one application name, a transaction left idle under another:
    // sessions whose role, application and query text the report names.
    let mut running = connect_as_role(&server, IMAGE);
    let sleeper = std::thread::spawn(move || {
        // Ends in an error when cancelled after the collection.
        running
            .batch_execute(&format!("SELECT pg_sleep(120) /* {SCRIPT} {ENTITY} */"))
            .ok();
    });
    let mut idle = connect_as_role(&server, SCRIPT);
    let (release, released) = mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        idle.batch_execute(&format!("BEGIN; SELECT count(*) FROM {table}; -- {IMAGE}"))
            .expect("open transaction");
        released.recv().ok();
        idle.batch_execute("ROLLBACK").ok();
    });
    // Both older than a few seconds, so a threshold lowered to a second reports them.
    server
        .wait_for(
            DB,
            &format!(
                "SELECT count(*) = 2 FROM pg_stat_activity WHERE usename = {} \
                 AND ((state = 'active' AND now() - query_start > interval '3 s') \
                   OR (state = 'idle in transaction' AND now() - state_change > interval '3 s'))",
                literal(SCRIPT)
            ),
            Duration::from_secs(30),
        )
        .expect("the sessions are in place");

    let options = CollectOptions {
        include_query_text: true,
        probe_local_host: false,
        ..CollectOptions::default()
    };
    let snapshot = pgsage::collect_snapshot_with(&ConnectOptions::new(server.dsn(DB)), &options)
        .expect("collect");
    server
        .execute(
            DB,
            &format!(
                "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE usename = {} AND state = 'active'",
                literal(SCRIPT)
            ),
        )
        .expect("cancel the long query");
    release.send(()).ok();
    sleeper.join().expect("sleeper");
    holder.join().expect("holder");

    let path = repo_root().join("testdata/snapshots/hostile.json");
    snapshot.save(&path).expect("save");
    eprintln!("wrote {}", path.display());
}
