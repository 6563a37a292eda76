//! The library's one error type.

use std::path::PathBuf;

/// Everything that can go wrong in the library. Findings are never errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A connection string or connection option could not be understood.
    #[error("invalid connection options: {0}")]
    InvalidConnectOptions(String),

    /// The server could not be reached, refused the login, or failed the TLS handshake.
    /// [`Error::sqlstate`] gives the server's code (`28P01` wrong password, `3D000`
    /// unknown database, …).
    #[error("connecting to {target}: {problem}")]
    Connect {
        /// `user@host:port/database`, never the password.
        target: String,
        /// What went wrong, with the driver's causes and a hint (never the password).
        problem: String,
        /// The driver's error. Not exposed as `source()`: `problem` already says
        /// everything it says, and printing both would repeat it.
        driver: tokio_postgres::Error,
    },

    /// The server did not answer in time.
    #[error("{action} {target}: no answer within {seconds} s")]
    Timeout {
        /// What was waiting: `connecting to`, or `waiting for an answer from` once
        /// connected.
        action: String,
        /// `host:port/database`.
        target: String,
        /// The timeout that expired.
        seconds: u64,
    },

    /// TLS could not be set up (bad root certificate file, etc.).
    #[error("setting up TLS: {0}")]
    Tls(String),

    /// A query the collector cannot do without failed.
    #[error("querying {what}: {source}")]
    Query {
        /// What was being collected.
        what: String,
        /// The driver's error.
        #[source]
        source: tokio_postgres::Error,
    },

    /// A snapshot file could not be read or written.
    #[error("snapshot file {path}: {problem}")]
    SnapshotFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },

    /// A rule pack or user configuration is invalid.
    #[error("configuration{}: {problem}", .origin.as_ref().map(|o| format!(" ({o})")).unwrap_or_default())]
    Config {
        /// The file or pack it came from, if any.
        origin: Option<String>,
        /// What is wrong.
        problem: String,
    },

    /// A value given by the user (a size, a duration) is invalid.
    #[error("invalid value for {what}: {problem}")]
    InvalidValue {
        /// The option.
        what: String,
        /// Why.
        problem: String,
    },

    /// An I/O error outside snapshot files (e.g. writing a report).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// The SQLSTATE code, when the error came from the server.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            Error::Connect { driver: source, .. } | Error::Query { source, .. } => {
                source.code().map(|c| c.code())
            }
            _ => None,
        }
    }

    /// Shorthand for a configuration error.
    pub(crate) fn config(origin: Option<&str>, problem: impl Into<String>) -> Self {
        Error::Config {
            origin: origin.map(str::to_owned),
            problem: problem.into(),
        }
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
