//! The testkit's error type.

use std::path::PathBuf;

/// Everything that can go wrong while starting or talking to a test server.
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    /// No usable binaries (initdb, pg_ctl, postgres and pg_stat_statements) for a major.
    #[error(
        "PostgreSQL {major} binaries not found (looked in: {searched}); \
         run `scripts/fetch-postgres.sh {major}` or set PGSAGE_PG_CACHE"
    )]
    BinariesNotFound {
        /// The requested major version.
        major: u32,
        /// The directories that were searched, comma separated.
        searched: String,
    },

    /// A file system operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// An external program (initdb, pg_ctl, useradd) exited unsuccessfully.
    #[error("`{command}` failed ({status}):\n{output}")]
    CommandFailed {
        /// The command line.
        command: String,
        /// Its exit status.
        status: String,
        /// Its combined stdout and stderr.
        output: String,
    },

    /// The server did not come up.
    #[error(
        "PostgreSQL {major} failed to start after {attempts} attempt(s): {reason}\n\
         --- tail of {log} ---\n{log_tail}"
    )]
    StartFailed {
        /// The major version.
        major: u32,
        /// How many ports were tried.
        attempts: u32,
        /// The last failure.
        reason: String,
        /// Path of the server log.
        log: PathBuf,
        /// The last lines of the server log.
        log_tail: String,
    },

    /// A captured file could not be converted (a server log into a Cloud Logging export).
    #[error("converting {what}: {problem}")]
    Convert {
        /// What was being converted.
        what: String,
        /// Why it could not be.
        problem: String,
    },

    /// A query or connection failed.
    #[error("{context}: {message}")]
    Postgres {
        /// What was being done (usually the SQL).
        context: String,
        /// The driver error with its chain of causes (the server's message, if any).
        message: String,
        /// The driver error.
        #[source]
        source: postgres::Error,
    },

    /// Generating the self-signed TLS certificate failed.
    #[error("generating the TLS certificate: {0}")]
    Certificate(#[from] rcgen::Error),

    /// Setting up the unprivileged OS user that runs servers when tests run as root.
    #[error("preparing the unprivileged user `{user}`: {message}")]
    User {
        /// The user name (`pgsage-test`).
        user: String,
        /// What failed.
        message: String,
    },

    /// A query returned something other than what the helper expects.
    #[error("unexpected result from `{sql}`: {message}")]
    Unexpected {
        /// The SQL that was run.
        sql: String,
        /// What was wrong.
        message: String,
    },

    /// A scenario file could not be read or parsed.
    #[error("scenario: {0}")]
    Scenario(String),

    /// A condition polled by [`crate::TestServer::wait_for`] did not become true in time.
    #[error("timed out after {timeout:?} waiting for `{sql}` to return true")]
    Timeout {
        /// The predicate query.
        sql: String,
        /// How long it was polled.
        timeout: std::time::Duration,
    },
}

impl TestkitError {
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        TestkitError::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn pg(context: impl Into<String>, source: postgres::Error) -> Self {
        use std::error::Error as _;
        let mut message = source.to_string();
        let mut cause = source.source();
        while let Some(c) = cause {
            message.push_str(": ");
            message.push_str(&c.to_string());
            cause = c.source();
        }
        TestkitError::Postgres {
            context: context.into(),
            message,
            source,
        }
    }
}
