//! Connecting to real PostgreSQL servers: DSN forms, authentication failures, TLS
//! modes, timeouts, the environment, `.pgpass`, and the read-only session.

use std::future::Future;
use std::path::Path;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use pgsage::connect::{self, ConnectOptions, ConnectParams, Session, SslMode};
use pgsage::Error;
use pgsage_testkit::{
    require_server, require_server_with, ServerOptions, SilentServer, TestServer,
};

const MAJOR: u32 = 15;

/// One plain and one TLS server shared by all tests of this file (the testkit's
/// watchdog stops them when the test process exits).
fn plain() -> Option<&'static TestServer> {
    static SERVER: OnceLock<Option<TestServer>> = OnceLock::new();
    SERVER.get_or_init(|| require_server(MAJOR)).as_ref()
}

fn tls_server() -> Option<&'static TestServer> {
    static SERVER: OnceLock<Option<TestServer>> = OnceLock::new();
    SERVER
        .get_or_init(|| require_server_with(ServerOptions::new(MAJOR).tls(true)))
        .as_ref()
}

fn run<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
        .block_on(f)
}

/// Resolves with an empty environment so the tests never depend on the machine's `PG*`
/// variables or `~/.pgpass`.
fn params(options: &ConnectOptions) -> ConnectParams {
    connect::resolve_with_env(options, |_| None).expect("resolving options")
}

/// Connects; the session lives as long as the runtime of the calling `run`.
async fn try_connect(dsn: &str) -> Result<Session, Error> {
    let options = ConnectOptions::new(dsn);
    connect::connect_with(&params(&options)).await
}

async fn connect_ok(dsn: &str) -> Session {
    try_connect(dsn)
        .await
        .unwrap_or_else(|e| panic!("connecting with {dsn:?}: {e}"))
}

/// Connects and returns the error, for failures (no session outlives the runtime).
fn connect_err(dsn: &str) -> Error {
    match run(try_connect(dsn)) {
        Ok(session) => panic!("connecting with {dsn:?} should fail, got {session:?}"),
        Err(e) => e,
    }
}

async fn scalar(session: &Session, sql: &str) -> String {
    let row = session
        .client
        .query_one(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
    row.get::<_, String>(0)
}

fn create_role(server: &TestServer, name: &str, password: &str) {
    server
        .create_role(name, password, &["pg_monitor"])
        .unwrap_or_else(|e| panic!("creating role {name}: {e}"));
}

fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("local addr").port()
}

fn ca(server: &TestServer) -> &Path {
    server
        .ca_cert_path()
        .expect("TLS server has a CA certificate")
}

#[test]
fn url_and_key_value_connect() {
    let Some(server) = plain() else { return };
    create_role(server, "sage_forms", "pw with spaces & 'quotes'");
    for dsn in [
        server.url_as("sage_forms", "pw with spaces & 'quotes'", "postgres"),
        server.dsn_as("sage_forms", "pw with spaces & 'quotes'", "postgres"),
    ] {
        run(async {
            let session = connect_ok(&dsn).await;
            assert_eq!(session.target.user, "sage_forms");
            assert_eq!(session.target.port, server.port());
            assert_eq!(session.target.database, "postgres");
            assert!(!session.tls);
            assert_eq!(
                scalar(&session, "SELECT current_user::text").await,
                "sage_forms"
            );
            session.close().await.expect("close");
        });
    }
}

#[test]
fn wrong_password_is_28p01_without_the_password() {
    let Some(server) = plain() else { return };
    create_role(server, "sage_wrongpw", "the-right-one");
    let secret = "Wr0ngSecret-4711";
    for dsn in [
        server.dsn_as("sage_wrongpw", secret, "postgres"),
        server.url_as("sage_wrongpw", secret, "postgres"),
    ] {
        let err = connect_err(&dsn);
        assert!(matches!(err, Error::Connect { .. }), "{err:?}");
        assert_eq!(err.sqlstate(), Some("28P01"));
        let shown = err.to_string();
        assert!(shown.contains("password authentication failed"), "{shown}");
        assert!(
            shown.contains("the password came from the connection string"),
            "{shown}"
        );
        for text in [
            shown,
            format!("{err:?}"),
            format!("{:?}", ConnectOptions::new(&dsn)),
        ] {
            assert!(!text.contains(secret), "password leaked: {text}");
        }
    }
}

#[test]
fn unknown_database_is_3d000() {
    let Some(server) = plain() else { return };
    let err = connect_err(&server.dsn("no_such_db"));
    assert_eq!(err.sqlstate(), Some("3D000"));
    assert!(err.to_string().contains("no_such_db"), "{err}");
}

#[test]
fn connection_refused_on_a_closed_port() {
    let dsn = format!(
        "host=127.0.0.1 port={} user=u dbname=d sslmode=disable",
        closed_port()
    );
    let err = connect_err(&dsn);
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert_eq!(err.sqlstate(), None);
    assert!(err.to_string().contains("refused"), "{err}");
}

#[test]
fn silent_server_times_out_within_connect_timeout() {
    let silent = SilentServer::start().expect("silent server");
    // From the options…
    let options = ConnectOptions {
        connect_timeout: Duration::from_secs(2),
        ..ConnectOptions::new(silent.dsn("postgres"))
    };
    let started = Instant::now();
    let err = run(connect::connect_with(&params(&options))).expect_err("must time out");
    let elapsed = started.elapsed();
    assert!(matches!(err, Error::Timeout { seconds: 2, .. }), "{err:?}");
    assert!(
        elapsed >= Duration::from_millis(1900) && elapsed < Duration::from_secs(4),
        "{elapsed:?}"
    );
    assert!(err.to_string().contains("no answer within 2 s"), "{err}");
    assert!(silent.accepted() >= 1);

    // …and from the DSN, with TLS negotiation (`prefer`) as the step that hangs.
    let dsn = format!(
        "postgres://postgres@127.0.0.1:{}/postgres?connect_timeout=1&sslmode=prefer",
        silent.port()
    );
    let started = Instant::now();
    let err = connect_err(&dsn);
    assert!(matches!(err, Error::Timeout { seconds: 1, .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn tls_require_and_prefer_encrypt() {
    let Some(server) = tls_server() else { return };
    for mode in ["require", "prefer", "allow"] {
        run(async {
            let session = connect_ok(&format!("{} sslmode={mode}", server.dsn("postgres"))).await;
            assert!(session.tls, "sslmode={mode} should use TLS");
            let ssl = scalar(
                &session,
                "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
            )
            .await;
            assert_eq!(ssl, "true");
        });
    }
}

#[test]
fn tls_verify_full_checks_the_host_name() {
    let Some(server) = tls_server() else { return };
    let ca = ca(server).display().to_string();
    let dsn = |host: &str, mode: &str| {
        format!(
            "host={host} port={} user=postgres dbname=postgres sslmode={mode} sslrootcert='{ca}'",
            server.port()
        )
    };

    // The certificate names `localhost`…
    assert!(run(async {
        connect_ok(&dsn("localhost", "verify-full")).await.tls
    }));

    // …not 127.0.0.1.
    let err = connect_err(&dsn("127.0.0.1", "verify-full"));
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(shown.contains("mismatch"), "{shown}");
    assert!(shown.contains("verify-full"), "{shown}");

    // verify-ca checks the chain only.
    assert!(run(async {
        connect_ok(&dsn("127.0.0.1", "verify-ca")).await.tls
    }));

    // require with a root certificate verifies the chain, as libpq does: fine here.
    assert!(run(async {
        connect_ok(&dsn("127.0.0.1", "require")).await.tls
    }));
}

#[test]
fn tls_verification_without_the_right_root_fails() {
    let Some(server) = tls_server() else { return };
    // The system roots do not trust the test server's self-signed certificate.
    let err = connect_err(&format!("{} sslmode=verify-ca", server.dsn("postgres")));
    let shown = err.to_string();
    assert!(shown.contains("certificate verify failed"), "{shown}");
    assert!(shown.contains("sslrootcert"), "{shown}");

    // A bad root file is a TLS setup error, before any network traffic.
    let err = connect_err(&format!(
        "{} sslmode=verify-full sslrootcert=/nonexistent/ca.pem",
        server.dsn("postgres")
    ));
    assert!(matches!(err, Error::Tls(_)), "{err:?}");
}

#[test]
fn tls_with_scram_channel_binding() {
    let Some(server) = tls_server() else { return };
    create_role(server, "sage_tls", "tls-secret");
    let dsn = format!(
        "{} sslmode=require channel_binding=require",
        server.dsn_as("sage_tls", "tls-secret", "postgres")
    );
    run(async {
        let session = connect_ok(&dsn).await;
        assert!(session.tls);
        assert_eq!(
            scalar(&session, "SELECT current_user::text").await,
            "sage_tls"
        );
    });
}

#[test]
fn require_against_a_server_without_tls_fails_and_prefer_falls_back() {
    let Some(server) = plain() else { return };
    let err = connect_err(&format!("{} sslmode=require", server.dsn("postgres")));
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    let shown = err.to_string();
    assert!(shown.contains("does not support TLS"), "{shown}");
    assert!(shown.contains("sslmode=require"), "{shown}");

    let dsn = format!("{} sslmode=prefer", server.dsn("postgres"));
    assert!(!run(async { connect_ok(&dsn).await.tls }));
}

#[test]
fn session_is_read_only_with_timeouts_set() {
    let Some(server) = plain() else { return };
    run(async {
        // Even the superuser cannot write through a pgsage session.
        let session = connect_ok(&server.dsn("postgres")).await;
        let err = session
            .client
            .batch_execute("CREATE TABLE pgsage_must_not_exist (id int)")
            .await
            .expect_err("writes must fail");
        assert_eq!(err.code().map(|c| c.code()), Some("25006"), "{err:?}");
        assert_eq!(
            scalar(&session, "SHOW default_transaction_read_only").await,
            "on"
        );
        assert_eq!(scalar(&session, "SHOW statement_timeout").await, "30s");
        assert_eq!(scalar(&session, "SHOW lock_timeout").await, "1s");
        assert_eq!(
            scalar(&session, "SHOW idle_in_transaction_session_timeout").await,
            "5min"
        );
        assert_eq!(
            scalar(&session, "SHOW client_min_messages").await,
            "warning"
        );
    });
}

#[test]
fn application_name_shows_in_pg_stat_activity() {
    let Some(server) = plain() else { return };
    let sql = "SELECT application_name::text FROM pg_stat_activity WHERE pid = pg_backend_pid()";
    run(async {
        let session = connect_ok(&server.dsn("postgres")).await;
        assert_eq!(scalar(&session, sql).await, "pgsage");
        let custom = format!("{} application_name='my tool'", server.dsn("postgres"));
        let session = connect_ok(&custom).await;
        assert_eq!(scalar(&session, sql).await, "my tool");
    });
}

#[test]
fn environment_fills_the_gaps() {
    let Some(server) = plain() else { return };
    create_role(server, "sage_env", "env-secret");
    let port = server.port().to_string();
    let env = |name: &str| -> Option<String> {
        match name {
            "PGHOST" => Some("127.0.0.1".into()),
            "PGPORT" => Some(port.clone()),
            "PGUSER" => Some("sage_env".into()),
            "PGPASSWORD" => Some("env-secret".into()),
            "PGDATABASE" => Some("postgres".into()),
            "PGSSLMODE" => Some("disable".into()),
            "PGAPPNAME" => Some("from-env".into()),
            _ => None,
        }
    };
    let params = connect::resolve_with_env(&ConnectOptions::default(), env).expect("resolve");
    assert_eq!(params.sslmode, SslMode::Disable);
    run(async {
        let session = connect::connect_with(&params)
            .await
            .expect("connect from the environment");
        assert_eq!(
            scalar(&session, "SELECT current_user::text").await,
            "sage_env"
        );
        assert_eq!(scalar(&session, "SHOW application_name").await, "from-env");
    });

    // The DSN wins over the environment: its (wrong) password is the one used.
    let options = ConnectOptions::new("password=not-the-env-one");
    let params = connect::resolve_with_env(&options, env).expect("resolve");
    let err = run(connect::connect_with(&params)).expect_err("DSN password wins");
    assert_eq!(err.sqlstate(), Some("28P01"));
    assert!(!err.to_string().contains("not-the-env-one"), "{err}");
}

#[cfg(unix)]
#[test]
fn pgpass_supplies_the_password() {
    use std::os::unix::fs::PermissionsExt;
    let Some(server) = plain() else { return };
    create_role(server, "sage_pgpass", "pass:file\\secret");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("pgpass");
    std::fs::write(
        &file,
        format!(
            "# comment\n127.0.0.1:{}:*:sage_pgpass:pass\\:file\\\\secret\n",
            server.port()
        ),
    )
    .expect("write pgpass");
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    let file_str = file.display().to_string();
    let env = |name: &str| (name == "PGPASSFILE").then(|| file_str.clone());
    let options = ConnectOptions::new(format!(
        "host=127.0.0.1 port={} user=sage_pgpass dbname=postgres sslmode=disable",
        server.port()
    ));
    let params = connect::resolve_with_env(&options, env).expect("resolve");
    run(async {
        let session = connect::connect_with(&params)
            .await
            .expect("connect with .pgpass");
        assert_eq!(
            scalar(&session, "SELECT current_user::text").await,
            "sage_pgpass"
        );
    });

    // Readable by others: ignored with a note, and then the server wants a password.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let params = connect::resolve_with_env(&options, env).expect("resolve");
    assert!(
        params
            .notes
            .iter()
            .any(|n| n.contains("group or world access")),
        "{:?}",
        params.notes
    );
    let err = run(connect::connect_with(&params)).expect_err("no password");
    assert!(err.to_string().contains("none was given"), "{err}");
}

#[test]
fn unix_socket_connection() {
    let Some(server) = plain() else { return };
    let dsn = format!(
        "host='{}' port={} user=postgres dbname=postgres sslmode=require",
        server.socket_dir().display(),
        server.port()
    );
    let params = params(&ConnectOptions::new(dsn));
    // sslmode is ignored on Unix sockets, as in libpq, with a note.
    assert_eq!(params.sslmode, SslMode::Disable);
    assert_eq!(params.notes.len(), 1);
    run(async {
        let session = connect::connect_with(&params)
            .await
            .expect("connect over the socket");
        assert!(!session.tls);
        let row = session
            .client
            .query_one("SELECT inet_server_addr()::text", &[])
            .await
            .expect("query");
        assert_eq!(
            row.get::<_, Option<String>>(0),
            None,
            "a socket has no address"
        );
    });
}

#[test]
fn connect_with_the_process_environment() {
    // `connect` reads the real environment, but a complete DSN leaves it nothing to fill.
    let Some(server) = plain() else { return };
    let dsn = server.dsn("postgres");
    run(async {
        let session = connect::connect(&ConnectOptions::new(dsn))
            .await
            .expect("connect");
        assert_eq!(session.target.host, "127.0.0.1");
        session.close().await.expect("close");
    });
}
