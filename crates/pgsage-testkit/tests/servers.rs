//! Starts real servers for every supported major (skipped when binaries are missing,
//! except under CI where missing binaries fail the run).

use std::io::Read;
use std::net::TcpStream;
use std::time::Duration;

use pgsage_testkit::{
    available_majors, bin_dir, require_server, require_server_with, wait_until, ServerOptions,
    SilentServer, TestServer, TestkitError,
};
use postgres::{Client, NoTls};
use postgres_native_tls::MakeTlsConnector;

/// Everything a plain server must offer, for one major.
fn check_server(major: u32) {
    let Some(server) = require_server(major) else {
        return;
    };
    assert_eq!(server.major(), major);
    assert_eq!(server.host(), "127.0.0.1");
    assert_eq!(server.superuser(), "postgres");
    assert!(server
        .dsn("app")
        .contains(&format!("port={}", server.port())));
    assert!(server.ca_cert_path().is_none());

    server.create_database("app").expect("create database");
    let version = server
        .query_scalar_i64("app", "SELECT current_setting('server_version_num')::int")
        .expect("server_version_num");
    assert_eq!(
        version / 10_000,
        i64::from(major),
        "server_version_num {version}"
    );

    // pg_stat_statements is preloaded and installed in the new database.
    server
        .execute(
            "app",
            "CREATE TABLE t (id int primary key, v text); INSERT INTO t VALUES (1, 'a')",
        )
        .expect("setup");
    let statements = server
        .query_scalar_i64("app", "SELECT count(*) FROM pg_stat_statements")
        .expect("pg_stat_statements");
    assert!(statements > 0, "pg_stat_statements is empty");
    let io_timing = server
        .query_scalar_i64(
            "app",
            "SELECT (current_setting('track_io_timing') = 'on')::int",
        )
        .expect("track_io_timing");
    assert_eq!(io_timing, 1);

    // The URL form works as well.
    let mut by_url = Client::connect(&server.url("app"), NoTls).expect("connect by url");
    let one: i32 = by_url.query_one("SELECT 1", &[]).expect("select").get(0);
    assert_eq!(one, 1);

    // A pg_monitor role logs in with its scram password, and only with it.
    server
        .create_role("monitor", "s3cret pass'word", &["pg_monitor"])
        .expect("create role");
    let mut monitor = Client::connect(&server.dsn_as("monitor", "s3cret pass'word", "app"), NoTls)
        .expect("monitor connects with its password");
    let seen: i64 = monitor
        .query_one("SELECT count(*) FROM pg_stat_statements", &[])
        .expect("monitor reads pg_stat_statements")
        .get(0);
    assert!(seen > 0);
    let method = server
        .query_scalar_i64(
            "postgres",
            "SELECT (rolpassword LIKE 'SCRAM-SHA-256$%')::int FROM pg_authid WHERE rolname = 'monitor'",
        )
        .expect("password hash");
    assert_eq!(method, 1, "password must be stored as scram-sha-256");
    assert!(Client::connect(&server.dsn_as("monitor", "wrong", "app"), NoTls).is_err());

    // Statistics: flush from the working session, then poll from another.
    let mut worker = server.client("app").expect("client");
    worker
        .batch_execute("INSERT INTO t SELECT g, 'x' FROM generate_series(2, 4) g")
        .expect("insert");
    server.flush_stats(&mut worker).expect("flush");
    server
        .wait_for(
            "app",
            "SELECT coalesce((SELECT n_tup_ins >= 4 FROM pg_stat_user_tables WHERE relname = 't'), false)",
            Duration::from_secs(20),
        )
        .expect("stats visible");
    let timeout = server.wait_for("app", "SELECT false", Duration::from_millis(50));
    assert!(
        matches!(timeout, Err(TestkitError::Timeout { .. })),
        "{timeout:?}"
    );
    drop(worker);

    // Dropping stops the server and removes its directory.
    let port = server.port();
    let dir = server.socket_dir().to_path_buf();
    drop(monitor);
    drop(by_url);
    drop(server);
    assert!(!dir.exists(), "{} still exists", dir.display());
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "server still listening"
    );
}

/// A TLS server of one major: sslmode=require works, and the certificate verifies
/// for "localhost" but not for "127.0.0.1".
fn check_tls(major: u32) {
    let Some(server) = require_server_with(ServerOptions::new(major).tls(true)) else {
        return;
    };
    let ca_path = server.ca_cert_path().expect("tls server has a certificate");
    let pem = std::fs::read(ca_path).expect("read cert");

    let accept_any = native_tls::TlsConnector::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .expect("connector");
    let dsn = format!("{} sslmode=require", server.dsn("postgres"));
    let mut client =
        Client::connect(&dsn, MakeTlsConnector::new(accept_any)).expect("sslmode=require connects");
    let ssl: bool = client
        .query_one(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            &[],
        )
        .expect("pg_stat_ssl")
        .get(0);
    assert!(ssl, "connection is not encrypted");

    // Plain connections are still accepted.
    server
        .execute("postgres", "SELECT 1")
        .expect("plain connection");

    let verifying = || {
        let root = native_tls::Certificate::from_pem(&pem).expect("parse cert");
        MakeTlsConnector::new(
            native_tls::TlsConnector::builder()
                .add_root_certificate(root)
                .build()
                .expect("connector"),
        )
    };
    let localhost = format!(
        "host=localhost port={} user=postgres dbname=postgres sslmode=require",
        server.port()
    );
    Client::connect(&localhost, verifying()).expect("certificate verifies for localhost");
    let by_ip = format!("{} sslmode=require", server.dsn("postgres"));
    assert!(
        Client::connect(&by_ip, verifying()).is_err(),
        "certificate must not verify for 127.0.0.1"
    );
}

macro_rules! per_major {
    ($($name:ident => $major:expr),* $(,)?) => {
        mod plain {
            $(#[test] fn $name() { super::check_server($major) })*
        }
        mod tls {
            $(#[test] fn $name() { super::check_tls($major) })*
        }
    };
}

per_major! {
    pg13 => 13,
    pg14 => 14,
    pg15 => 15,
    pg16 => 16,
    pg17 => 17,
    pg18 => 18,
}

#[test]
fn parallel_servers_get_distinct_ports() {
    let Some(major) = available_majors().last().copied() else {
        eprintln!("SKIP: no PostgreSQL binaries");
        return;
    };
    let servers: Vec<TestServer> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|_| s.spawn(move || TestServer::start(ServerOptions::new(major)).expect("start")))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let mut ports: Vec<u16> = servers.iter().map(TestServer::port).collect();
    ports.sort_unstable();
    ports.dedup();
    assert_eq!(ports.len(), servers.len());
    for server in &servers {
        assert_eq!(
            server
                .query_scalar_i64("postgres", "SELECT 42")
                .expect("query"),
            42
        );
    }
}

#[test]
fn extra_conf_and_restart() {
    let Some(major) = available_majors().first().copied() else {
        eprintln!("SKIP: no PostgreSQL binaries");
        return;
    };
    let mut server =
        TestServer::start(ServerOptions::new(major).conf("work_mem = '123kB'")).expect("start");
    let work_mem = server
        .query_scalar_i64(
            "postgres",
            "SELECT setting::bigint FROM pg_settings WHERE name = 'work_mem'",
        )
        .expect("work_mem");
    assert_eq!(work_mem, 123);
    let port = server.port();
    server
        .execute("postgres", "ALTER SYSTEM SET shared_buffers = '48MB'")
        .expect("alter system");
    server.restart().expect("restart");
    assert_eq!(server.port(), port);
    let buffers = server
        .query_scalar_i64(
            "postgres",
            "SELECT pg_size_bytes(current_setting('shared_buffers'))",
        )
        .expect("shared_buffers");
    assert_eq!(buffers, 48 * 1024 * 1024);
}

#[test]
fn client_can_hold_a_transaction_from_another_thread() {
    let Some(major) = available_majors().first().copied() else {
        eprintln!("SKIP: no PostgreSQL binaries");
        return;
    };
    let server = TestServer::start(ServerOptions::new(major)).expect("start");
    let mut holder = server.client("postgres").expect("client");
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        holder
            .batch_execute("BEGIN; SELECT txid_current();")
            .expect("begin");
        let _ = rx.recv();
        holder.batch_execute("ROLLBACK").expect("rollback");
    });
    let sql = "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'";
    assert!(wait_until(Duration::from_secs(10), || {
        server.query_scalar_i64("postgres", sql).unwrap_or(0) == 1
    }));
    tx.send(()).expect("send");
    thread.join().expect("join");
}

#[test]
fn missing_binaries_are_reported() {
    assert!(bin_dir(99).is_none());
    match TestServer::start(ServerOptions::new(99)) {
        Err(err @ TestkitError::BinariesNotFound { .. }) => {
            assert!(
                err.to_string().contains("scripts/fetch-postgres.sh 99"),
                "{err}"
            );
        }
        other => panic!("expected BinariesNotFound, got {other:?}"),
    }
}

#[test]
fn silent_server_accepts_and_never_answers() {
    let silent = SilentServer::start().expect("silent server");
    let mut stream = TcpStream::connect(("127.0.0.1", silent.port())).expect("connect");
    assert!(wait_until(Duration::from_secs(5), || silent.accepted() == 1));
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let mut buf = [0u8; 16];
    let err = stream
        .read(&mut buf)
        .expect_err("the silent server must not send anything");
    assert!(
        matches!(
            err.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ),
        "{err:?}"
    );
    let port = silent.port();
    drop(silent);
    // The held connection is closed once the server is dropped.
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    assert_eq!(stream.read(&mut buf).expect("eof"), 0);
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err());
}

const WATCHDOG_CHILD_ENV: &str = "PGSAGE_TESTKIT_WATCHDOG_CHILD";

/// A process that exits without dropping its server (as on abort or SIGKILL) must not
/// leak it: the watchdog stops the server and removes its directory.
#[test]
fn watchdog_cleans_up_after_a_process_that_exits_without_drop() {
    if let Some(report) = std::env::var_os(WATCHDOG_CHILD_ENV) {
        // Child mode: start a server, report where it is, and leak it.
        let major = available_majors().first().copied().expect("binaries");
        let server = TestServer::start(ServerOptions::new(major)).expect("start");
        let line = format!("{} {}", server.port(), server.socket_dir().display());
        std::fs::write(report, line).expect("report");
        std::mem::forget(server);
        std::process::exit(0);
    }
    if available_majors().is_empty() {
        eprintln!("SKIP: no PostgreSQL binaries");
        return;
    }
    let report = tempfile::NamedTempFile::new().expect("report file");
    let status = std::process::Command::new(std::env::current_exe().expect("current exe"))
        .args([
            "watchdog_cleans_up_after_a_process_that_exits_without_drop",
            "--exact",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(WATCHDOG_CHILD_ENV, report.path())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run child");
    assert!(status.success());
    let text = std::fs::read_to_string(report.path()).expect("read report");
    let (port, dir) = text.split_once(' ').expect("port and dir");
    let port: u16 = port.parse().expect("port");
    let dir = std::path::PathBuf::from(dir);
    assert!(
        wait_until(Duration::from_secs(15), || {
            TcpStream::connect(("127.0.0.1", port)).is_err() && !dir.exists()
        }),
        "leaked server on port {port} ({}) was not cleaned up",
        dir.display()
    );
}
