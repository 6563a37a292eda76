//! The advisor's session on the audited server: connected like the collector
//! ([`crate::connect::connect`]: `default_transaction_read_only = on`, timeouts), every
//! round trip bounded on the client side too, and HypoPG detection.
//!
//! Statements run in autocommit, so each is its own implicit transaction — READ ONLY by
//! the session default — and the locks EXPLAIN takes (`AccessShareLock` on the tables
//! it plans) are released at once instead of being held for the whole run, where they
//! would queue behind and then block any `ALTER TABLE` or `VACUUM FULL`. HypoPG's
//! hypothetical indexes and prepared statements live in the backend's memory, not in a
//! transaction, so they survive from one statement to the next (and also survive a
//! `ROLLBACK`: they are removed explicitly, see [`super::hypo`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio_postgres::{Row, SimpleQueryMessage};

use crate::connect::{connect, Session};
use crate::sql::quote_ident;
use crate::{ConnectOptions, Error, Result};

/// Extra time, beyond `statement_timeout`, before a round trip is declared hung: the
/// server cancels a statement itself after `statement_timeout` and answers at once; no
/// answer at all after this margin means the server or the network hangs.
const HANG_MARGIN: Duration = Duration::from_secs(2);

/// The round-trip bound when `statement_timeout` is 0 (no server-side limit).
const UNLIMITED_STATEMENT_BOUND: Duration = Duration::from_secs(300);

/// Why one statement gave no result.
#[derive(Debug)]
pub(super) enum Failure {
    /// The server refused or cancelled this statement (an error with a SQLSTATE): the
    /// statement is counted and skipped, the session goes on.
    Statement {
        /// The server's message with its SQLSTATE.
        message: String,
        /// The same as an error, for callers that cannot go on without the statement.
        error: Box<Error>,
    },
    /// The connection is unusable (broken, or no answer in time): the run stops.
    Fatal(Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Fatal(e)
    }
}

/// What the server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ServerFacts {
    /// `server_version`, e.g. `15.18`.
    pub version: String,
    /// `server_version_num`, e.g. `150018`.
    pub version_num: i32,
    /// The connected database.
    pub database: String,
}

/// HypoPG in the connected database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Hypopg {
    /// Installed (`pg_extension`): its schema and version.
    Installed {
        /// The schema its functions live in.
        schema: String,
        /// `extversion`.
        version: String,
    },
    /// Not installed, but the server has it (`pg_available_extensions`).
    Available {
        /// `default_version`.
        version: String,
    },
    /// Neither.
    Missing,
}

/// A connected, read-only session with bounded round trips.
pub(super) struct AdvisorSession {
    session: Session,
    /// The server's version and the database.
    pub facts: ServerFacts,
    limit: Duration,
}

impl AdvisorSession {
    /// Connects with `connect` (its timeouts; `statement_timeout` replaced by the
    /// advisor's) and reads the server facts.
    pub async fn open(
        connect_options: &ConnectOptions,
        statement_timeout: Duration,
    ) -> Result<Self> {
        let mut options = connect_options.clone();
        options.statement_timeout = statement_timeout;
        let session = connect(&options).await?;
        let limit = if statement_timeout.is_zero() {
            UNLIMITED_STATEMENT_BOUND
        } else {
            statement_timeout + HANG_MARGIN
        };
        let mut me = AdvisorSession {
            session,
            facts: ServerFacts {
                version: String::new(),
                version_num: 0,
                database: String::new(),
            },
            limit,
        };
        let row = me
            .query_one(
                "server facts",
                "SELECT current_setting('server_version'), \
                 current_setting('server_version_num')::int, current_database()",
                &[],
            )
            .await
            .map_err(fatal)?;
        me.facts = ServerFacts {
            version: row.get(0),
            version_num: row.get(1),
            database: row.get(2),
        };
        Ok(me)
    }

    /// Where the session is connected, for errors.
    pub fn target(&self) -> String {
        self.session.target.to_string()
    }

    /// Whether HypoPG is installed in the database, or at least available on the server.
    pub async fn hypopg(&self) -> Result<Hypopg> {
        let installed = self
            .query(
                "HypoPG in pg_extension",
                "SELECT n.nspname::text, e.extversion::text FROM pg_extension e \
                 JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'hypopg'",
                &[],
            )
            .await
            .map_err(fatal)?;
        if let Some(row) = installed.first() {
            return Ok(Hypopg::Installed {
                schema: row.get(0),
                version: row.get(1),
            });
        }
        let available = self
            .query(
                "HypoPG in pg_available_extensions",
                "SELECT coalesce(default_version, '')::text FROM pg_available_extensions \
                 WHERE name = 'hypopg'",
                &[],
            )
            .await
            .map_err(fatal)?;
        Ok(match available.first() {
            Some(row) => Hypopg::Available {
                version: row.get(0),
            },
            None => Hypopg::Missing,
        })
    }

    /// Whether the session's transactions are read-only (`transaction_read_only` of an
    /// implicit transaction).
    pub async fn read_only(&self) -> Result<bool> {
        let row = self
            .query_one(
                "transaction_read_only",
                "SELECT current_setting('transaction_read_only') = 'on'",
                &[],
            )
            .await
            .map_err(fatal)?;
        Ok(row.get(0))
    }

    /// The server process serving this statement (`pg_backend_pid()`).
    pub async fn backend_pid(&self) -> Result<i32> {
        let row = self
            .query_one("pg_backend_pid", "SELECT pg_backend_pid()", &[])
            .await
            .map_err(fatal)?;
        Ok(row.get(0))
    }

    /// Runs `sql` (extended protocol: one statement) bounded by the hang limit.
    pub async fn query(
        &self,
        what: &str,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Vec<Row>, Failure> {
        let work = self.session.client.query(sql, params);
        match tokio::time::timeout(self.limit, work).await {
            Err(_) => Err(Failure::Fatal(self.hung())),
            Ok(result) => result.map_err(|e| classify(what, e)),
        }
    }

    async fn query_one(
        &self,
        what: &str,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<Row, Failure> {
        let rows = self.query(what, sql, params).await?;
        rows.into_iter().next().ok_or_else(|| Failure::Statement {
            message: format!("{what}: no row"),
            error: Box::new(Error::io(
                what,
                std::io::Error::new(std::io::ErrorKind::InvalidData, "no row"),
            )),
        })
    }

    /// Runs `sql` with the simple protocol (needed for `$n` left unbound in EXPLAIN
    /// GENERIC_PLAN and PREPARE bodies) and returns the text of every row's first
    /// column. The caller makes sure `sql` holds the statements it means (see
    /// [`super::explain`]).
    pub async fn simple(&self, what: &str, sql: &str) -> Result<Vec<String>, Failure> {
        let work = self.session.client.simple_query(sql);
        let messages = match tokio::time::timeout(self.limit, work).await {
            Err(_) => return Err(Failure::Fatal(self.hung())),
            Ok(result) => result.map_err(|e| classify(what, e))?,
        };
        Ok(messages
            .iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
                _ => None,
            })
            .collect())
    }

    /// `Error::Timeout` for a round trip that got no answer.
    fn hung(&self) -> Error {
        Error::Timeout {
            action: "waiting for an answer from".into(),
            target: self.target(),
            seconds: self.limit.as_secs(),
        }
    }

    /// Closes the connection politely.
    pub async fn close(self) {
        // A failed polite close changes nothing: the server ends the backend (and with
        // it every hypothetical index and prepared statement) when the socket closes.
        let _ = self.session.close().await;
    }
}

/// A server error is about the statement; anything else about the connection.
fn classify(what: &str, e: tokio_postgres::Error) -> Failure {
    match e.as_db_error() {
        Some(db) => {
            let mut message = format!("{} (SQLSTATE {})", db.message(), db.code().code());
            if let Some(detail) = db.detail() {
                message.push_str(&format!("; {detail}"));
            }
            // Every statement error aborts only its own implicit transaction, except a
            // FATAL one, which ends the session.
            if db.severity() == "FATAL" || db.severity() == "PANIC" {
                return Failure::Fatal(Error::query(what, e));
            }
            Failure::Statement {
                message,
                error: Box::new(Error::query(what, e)),
            }
        }
        None => Failure::Fatal(Error::query(what, e)),
    }
}

/// A failure where any failure is fatal (setup queries).
pub(super) fn fatal(f: Failure) -> Error {
    match f {
        Failure::Fatal(e) => e,
        Failure::Statement { error, .. } => *error,
    }
}

/// [`pgsage_core::Error::Cancelled`], the library's answer to a cancelled run.
pub(super) fn cancelled() -> Error {
    Error::cancelled("validating index advice")
}

/// Whether `cancel` asks to stop.
pub(super) fn is_cancelled(cancel: Option<&AtomicBool>) -> bool {
    cancel.is_some_and(|c| c.load(Ordering::Relaxed))
}

/// `schema.function` for a HypoPG function, wherever the extension was installed.
pub(super) fn hypopg_function(schema: &str, function: &str) -> String {
    format!("{}.{function}", quote_ident(schema))
}
