//! Connecting to a server the way libpq users expect.
//!
//! - [`ConnectOptions`]: a DSN (URL or key=value, see [`dsn`]) plus timeouts.
//! - [`resolve`] / [`resolve_with_env`]: fill what the DSN leaves unset from a service
//!   file (`service=…`, [`service`]), the libpq environment (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`, `PGSSLMODE`,
//!   `PGSSLROOTCERT`, `PGAPPNAME`, `PGCONNECT_TIMEOUT`, `PGPASSFILE`, …), `~/.pgpass`
//!   ([`pgpass`]) and the defaults, giving [`ConnectParams`].
//! - [`connect`] / [`connect_with`]: open a [`Session`] with TLS per `sslmode` ([`tls`]),
//!   everything bounded by `connect_timeout`, then make the session read-only and gentle
//!   (`default_transaction_read_only`, `statement_timeout`, `lock_timeout`,
//!   `idle_in_transaction_session_timeout`, `application_name`) in one round trip.
//!
//! The password never appears in [`Target`], in `Debug` output or in error messages.
//! See `docs/connecting.md` for the user-facing description.

pub mod dsn;
pub mod env;
pub mod pgpass;
pub mod service;
pub mod tls;

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::task::JoinHandle;

pub use dsn::{ChannelBinding, Dsn, Password};
pub use env::{resolve, resolve_with_env};
pub use tls::{RootCert, SslMode};

use crate::{Error, Result};

/// How to reach the server and how gently to behave once there.
#[derive(Clone)]
pub struct ConnectOptions {
    /// A libpq connection string, `postgres://…` or `host=… dbname=…`. Missing parts come
    /// from the environment and libpq defaults.
    pub dsn: Option<String>,
    /// Give up connecting (TCP, TLS, authentication, session setup) after this long,
    /// unless the DSN or `PGCONNECT_TIMEOUT` says otherwise. Zero means no limit.
    pub connect_timeout: Duration,
    /// `statement_timeout` for every query the collector runs.
    pub statement_timeout: Duration,
    /// `lock_timeout` for every query the collector runs.
    pub lock_timeout: Duration,
    /// `idle_in_transaction_session_timeout`: a generous backstop so a stuck client never
    /// holds a snapshot open for long.
    pub idle_in_transaction_timeout: Duration,
    /// `application_name` unless the DSN or `PGAPPNAME` sets one.
    pub application_name: String,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            dsn: None,
            connect_timeout: Duration::from_secs(10),
            statement_timeout: Duration::from_secs(30),
            lock_timeout: Duration::from_secs(1),
            idle_in_transaction_timeout: Duration::from_secs(300),
            application_name: "pgsage".into(),
        }
    }
}

impl ConnectOptions {
    /// Options for a DSN, everything else default.
    pub fn new(dsn: impl Into<String>) -> Self {
        ConnectOptions {
            dsn: Some(dsn.into()),
            ..Default::default()
        }
    }
}

impl fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("dsn", &self.dsn.as_deref().map(dsn::redact))
            .field("connect_timeout", &self.connect_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("lock_timeout", &self.lock_timeout)
            .field(
                "idle_in_transaction_timeout",
                &self.idle_in_transaction_timeout,
            )
            .field("application_name", &self.application_name)
            .finish()
    }
}

/// Where a connection went, for reports and errors (never the password).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Host, IP address or Unix socket directory.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Database.
    pub database: String,
    /// Role.
    pub user: String,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            // An IPv6 address: bracket it so the port stays readable.
            write!(
                f,
                "{}@[{}]:{}/{}",
                self.user, self.host, self.port, self.database
            )
        } else {
            write!(
                f,
                "{}@{}:{}/{}",
                self.user, self.host, self.port, self.database
            )
        }
    }
}

/// Where the password came from, to make authentication failures actionable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordSource {
    /// The connection string.
    ConnectionString,
    /// `PGPASSWORD`.
    Environment,
    /// A password file (`~/.pgpass` or `PGPASSFILE`).
    PassFile(PathBuf),
    /// A connection service file (`service=…`, [`service`]).
    ServiceFile(PathBuf),
}

/// Everything needed to connect, resolved from [`ConnectOptions`], the environment and
/// the defaults by [`resolve`]. `Debug` masks the password.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ConnectParams {
    /// Host, port, database and user.
    pub target: Target,
    /// Connect to this address instead of resolving `target.host` (libpq `hostaddr`).
    pub hostaddr: Option<IpAddr>,
    /// The password, if any was found.
    pub password: Option<Password>,
    /// Where [`Self::password`] came from.
    pub password_source: Option<PasswordSource>,
    /// TLS mode (already `disable` for Unix sockets).
    pub sslmode: SslMode,
    /// Trusted roots for certificate verification.
    pub sslrootcert: Option<RootCert>,
    /// SCRAM channel binding.
    pub channel_binding: ChannelBinding,
    /// Server command-line options sent at startup (libpq `options`).
    pub options: Option<String>,
    /// `application_name`.
    pub application_name: String,
    /// Bound on the whole connect; `None` waits forever.
    pub connect_timeout: Option<Duration>,
    /// `statement_timeout` set on the session.
    pub statement_timeout: Duration,
    /// `lock_timeout` set on the session.
    pub lock_timeout: Duration,
    /// `idle_in_transaction_session_timeout` set on the session.
    pub idle_in_transaction_timeout: Duration,
    /// Things the user may want to know (an ignored `.pgpass`, an ignored `sslmode`).
    pub notes: Vec<String>,
    /// The TLS connector, shared by every clone of these parameters.
    pub(crate) tls_cache: tls::TlsCache,
}

/// A connected, read-only session. Dropping it closes the connection.
///
/// The session runs with `default_transaction_read_only = on`, so writes fail with
/// SQLSTATE `25006`. That is a guard against mistakes, not a privilege boundary: use a
/// role without write privileges (e.g. one with `pg_monitor`) for that.
pub struct Session {
    /// The driver's client.
    pub client: tokio_postgres::Client,
    /// Where it is connected.
    pub target: Target,
    /// Whether the connection is encrypted.
    pub tls: bool,
    /// Notes gathered while connecting (see [`ConnectParams::notes`]).
    pub notes: Vec<String>,
    connection: JoinHandle<Result<(), tokio_postgres::Error>>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("target", &self.target)
            .field("tls", &self.tls)
            .field("notes", &self.notes)
            .field("closed", &self.client.is_closed())
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Closes the connection politely (a `Terminate` message) and waits for it to end.
    pub async fn close(self) -> Result<()> {
        let Session {
            client,
            connection,
            target,
            ..
        } = self;
        drop(client);
        match connection.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(source)) => Err(Error::query(
                format!("closing the connection to {target}"),
                source,
            )),
            // The task panicked or was cancelled (runtime shutting down): nothing to do.
            Err(_) => Ok(()),
        }
    }
}

/// Resolves `options` against the process environment and connects.
pub async fn connect(options: &ConnectOptions) -> Result<Session> {
    connect_with(&resolve(options)?).await
}

/// Connects with already resolved parameters (see [`resolve_with_env`]).
///
/// Must run inside a tokio runtime (the connection is driven by a spawned task).
pub async fn connect_with(params: &ConnectParams) -> Result<Session> {
    let attempt = connect_unbounded(params);
    match params.connect_timeout {
        Some(limit) => tokio::time::timeout(limit, attempt)
            .await
            .unwrap_or_else(|_| {
                Err(Error::Timeout {
                    action: "connecting to".into(),
                    target: params.target.to_string(),
                    seconds: limit.as_secs(),
                })
            }),
        None => attempt.await,
    }
}

async fn connect_unbounded(params: &ConnectParams) -> Result<Session> {
    let (driver_mode, verify) = tls::plan(params.sslmode, params.sslrootcert.as_ref());
    let tls = params
        .tls_cache
        .connector(verify, params.sslrootcert.as_ref())?;
    let config = driver_config(params, driver_mode);
    let (client, connection) = config
        .connect(tls.clone())
        .await
        .map_err(|e| connect_error(params, e))?;
    let connection = tokio::spawn(connection);
    client
        .batch_execute(&setup_sql(params))
        .await
        .map_err(|source| Error::query("setting up the session (read-only, timeouts)", source))?;
    Ok(Session {
        client,
        target: params.target.clone(),
        tls: tls.used(),
        notes: params.notes.clone(),
        connection,
    })
}

fn driver_config(
    params: &ConnectParams,
    mode: tokio_postgres::config::SslMode,
) -> tokio_postgres::Config {
    let mut config = tokio_postgres::Config::new();
    config
        .host(&params.target.host)
        .port(params.target.port)
        .user(&params.target.user)
        .dbname(&params.target.database)
        // Sent at startup too, so even log_connections and a failed login show it.
        .application_name(&params.application_name)
        .ssl_mode(mode)
        .channel_binding(match params.channel_binding {
            ChannelBinding::Disable => tokio_postgres::config::ChannelBinding::Disable,
            ChannelBinding::Prefer => tokio_postgres::config::ChannelBinding::Prefer,
            ChannelBinding::Require => tokio_postgres::config::ChannelBinding::Require,
        });
    if let Some(addr) = params.hostaddr {
        config.hostaddr(addr);
    }
    if let Some(password) = &params.password {
        config.password(password.expose());
    }
    if let Some(options) = &params.options {
        config.options(options);
    }
    config
}

/// The statements run right after connecting, as one simple-protocol round trip.
fn setup_sql(params: &ConnectParams) -> String {
    format!(
        "SET application_name = {};\n\
         SET statement_timeout = {};\n\
         SET lock_timeout = {};\n\
         SET idle_in_transaction_session_timeout = {};\n\
         SET default_transaction_read_only = on;\n\
         SET client_min_messages = warning;",
        quote_literal(&params.application_name),
        millis(params.statement_timeout),
        millis(params.lock_timeout),
        millis(params.idle_in_transaction_timeout),
    )
}

/// A duration as the integer milliseconds PostgreSQL's timeout settings take, capped at
/// their maximum (`INT_MAX`).
fn millis(d: Duration) -> u128 {
    d.as_millis().min(i32::MAX as u128)
}

/// An `E'…'` literal, correct whatever `standard_conforming_strings` says.
fn quote_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 3);
    out.push_str("E'");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\0' => {}
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// Turns a driver error from connecting into [`Error::Connect`] with a message that
/// says what happened and what to check. The password is masked in the text.
fn connect_error(params: &ConnectParams, driver: tokio_postgres::Error) -> Error {
    let mut problem = match driver.as_db_error() {
        Some(db) => {
            let mut s = format!("{} (SQLSTATE {})", db.message(), db.code().code());
            if let Some(detail) = db.detail() {
                s.push_str(&format!("; {detail}"));
            }
            if let Some(hint) = db.hint() {
                s.push_str(&format!("; hint: {hint}"));
            }
            s
        }
        None => {
            let chain = error_chain(&driver);
            match verify_failure_reason(&chain) {
                // OpenSSL's text repeats itself and names source files; keep the reason.
                Some(reason) => {
                    format!("TLS handshake failed: certificate verify failed ({reason})")
                }
                None => chain,
            }
        }
    };
    let code = driver.code().map(|c| c.code());
    let hint = if code == Some("28P01") {
        params.password_source.as_ref().map(|source| match source {
            PasswordSource::ConnectionString => {
                "the password came from the connection string".to_owned()
            }
            PasswordSource::Environment => "the password came from PGPASSWORD".to_owned(),
            PasswordSource::PassFile(path) | PasswordSource::ServiceFile(path) => {
                format!("the password came from {}", path.display())
            }
        })
    } else if problem.contains("server does not support TLS") {
        Some(format!(
            "sslmode={} demands TLS: enable ssl on the server, or use sslmode=prefer",
            params.sslmode
        ))
    } else if problem.contains("mismatch") && params.sslmode == SslMode::VerifyFull {
        Some(format!(
            "sslmode=verify-full: the server certificate does not name `{}`; connect with the \
             name the certificate was issued for, or use sslmode=verify-ca",
            params.target.host
        ))
    } else if problem.contains("certificate verify failed") {
        Some(match &params.sslrootcert {
            Some(RootCert::File(path)) => format!(
                "the server certificate is not signed by a certificate in sslrootcert {}",
                path.display()
            ),
            _ => "the server certificate is not trusted by the system roots; set sslrootcert to \
                  the server's CA certificate"
                .to_owned(),
        })
    } else if problem.contains("password missing") {
        Some(
            "the server asks for a password and none was given (password in the connection \
             string, PGPASSWORD or ~/.pgpass)"
                .to_owned(),
        )
    } else {
        None
    };
    if let Some(hint) = hint {
        problem.push_str("; ");
        problem.push_str(&hint);
    }
    // Belt and braces: neither the server nor the driver echo passwords, but should
    // one ever appear, mask it. Very short ones would garble the text instead.
    if let Some(password) = params.password.as_ref().map(Password::expose) {
        if password.chars().count() >= 4 {
            problem = problem.replace(password, "***");
        }
    }
    Error::Connect {
        target: params.target.to_string(),
        problem,
        driver: crate::DriverError::new(driver),
    }
}

/// The reason OpenSSL gives for a failed certificate verification, e.g.
/// `IP address mismatch` in `…certificate verify failed:…: (IP address mismatch)`.
fn verify_failure_reason(text: &str) -> Option<&str> {
    let after = &text[text.find("certificate verify failed")?..];
    let open = after.find(" (")? + 2;
    let close = open + after[open..].find(')')?;
    Some(&after[open..close])
}

/// `error: cause: cause…`, the way a cause chain is usually printed, without causes
/// that only repeat what is already said.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        source = cause.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_of_options_masks_the_password() {
        for dsn in [
            "postgres://bob:hunter2@h/db",
            "host=h password=hunter2",
            "host=h password='hunter2 with spaces' user=x",
            "postgres://h/db?password=hunter2",
            "password=hunter2 unknown_key=1",
            "password='hunter2",
        ] {
            let shown = format!("{:?}", ConnectOptions::new(dsn));
            assert!(!shown.contains("hunter2"), "{shown}");
        }
        let shown = format!(
            "{:?}",
            ConnectOptions::new("host=h password=hunter2 user=bob")
        );
        assert!(shown.contains("host=h password=*** user=bob"), "{shown}");
    }

    #[test]
    fn debug_of_params_masks_the_password() {
        let options = ConnectOptions::new("host=h user=u password=hunter2");
        let params = env::resolve_inner(&options, &|_| None, false).expect("resolve");
        let shown = format!("{params:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!params.target.to_string().contains("hunter2"));
    }

    #[test]
    fn openssl_verify_reason() {
        let text = "error performing TLS handshake: error:0A000086:SSL routines:\
                    tls_post_process_server_certificate:certificate verify failed:\
                    ../ssl/statem/statem_clnt.c:1889: (IP address mismatch): error:0A000086";
        assert_eq!(verify_failure_reason(text), Some("IP address mismatch"));
        assert_eq!(verify_failure_reason("connection refused"), None);
    }

    #[test]
    fn target_display_brackets_ipv6() {
        let t = Target {
            host: "::1".into(),
            port: 5432,
            database: "d".into(),
            user: "u".into(),
        };
        assert_eq!(t.to_string(), "u@[::1]:5432/d");
    }

    #[test]
    fn setup_sql_is_read_only_and_quoted() {
        let options = ConnectOptions {
            application_name: r"it's \ me".into(),
            statement_timeout: Duration::from_secs(30),
            ..ConnectOptions::new("host=h user=u")
        };
        let params = env::resolve_inner(&options, &|_| None, false).expect("resolve");
        let sql = setup_sql(&params);
        assert!(
            sql.contains(r"SET application_name = E'it\'s \\ me';"),
            "{sql}"
        );
        assert!(sql.contains("SET statement_timeout = 30000;"), "{sql}");
        assert!(sql.contains("SET lock_timeout = 1000;"), "{sql}");
        assert!(
            sql.contains("SET idle_in_transaction_session_timeout = 300000;"),
            "{sql}"
        );
        assert!(
            sql.contains("SET default_transaction_read_only = on;"),
            "{sql}"
        );
        assert!(sql.contains("SET client_min_messages = warning;"), "{sql}");
        assert_eq!(millis(Duration::from_secs(10_000_000)), i32::MAX as u128);
    }

    /// A failed connection's error never shows the password (here: nothing listens).
    #[test]
    fn connection_error_does_not_leak_the_password() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            listener.local_addr().expect("addr").port()
        };
        let options = ConnectOptions {
            connect_timeout: Duration::from_secs(5),
            ..ConnectOptions::new(format!(
                "host=127.0.0.1 port={port} user=bob password=hunter2 sslmode=disable"
            ))
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let params = env::resolve_inner(&options, &|_| None, false).expect("resolve");
        let err = rt
            .block_on(connect_with(&params))
            .expect_err("nothing listens");
        assert!(matches!(err, Error::Connect { .. }), "{err:?}");
        for text in [err.to_string(), format!("{err:?}"), format!("{options:?}")] {
            assert!(!text.contains("hunter2"), "{text}");
        }
        assert!(err.to_string().contains("refused"), "{err}");
    }
}
