//! The library's one error type: the core's errors ([`pgsage_core::Error`]), plus those of
//! talking to a server. The driver's error stays inside ([`DriverError`] is opaque), so
//! the driver is not part of the public API; [`Error::sqlstate`] gives what callers need
//! from it.

use std::fmt;

use pgsage_core::workload::log::LogError;

/// Everything that can go wrong in the library. Findings are never errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error of the pure core: a snapshot file, the configuration, a value given by the
    /// user, I/O outside the network, or a cancelled run
    /// ([`pgsage_core::Error::Cancelled`]).
    #[error(transparent)]
    Core(#[from] pgsage_core::Error),

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
        driver: DriverError,
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
        source: DriverError,
    },
}

impl Error {
    /// The SQLSTATE code, when the error came from the server.
    pub fn sqlstate(&self) -> Option<&str> {
        match self {
            Error::Connect { driver: source, .. } | Error::Query { source, .. } => {
                source.sqlstate()
            }
            _ => None,
        }
    }

    /// [`Error::Query`] for a driver error while querying `what`.
    pub(crate) fn query(what: impl Into<String>, source: tokio_postgres::Error) -> Self {
        Error::Query {
            what: what.into(),
            source: DriverError(source),
        }
    }

    /// [`pgsage_core::Error::Cancelled`]: another thread asked `what` to stop.
    pub(crate) fn cancelled(what: impl Into<String>) -> Self {
        Error::Core(pgsage_core::Error::Cancelled { what: what.into() })
    }

    /// [`pgsage_core::Error::InvalidValue`].
    pub(crate) fn invalid_value(what: impl Into<String>, problem: impl Into<String>) -> Self {
        Error::Core(pgsage_core::Error::InvalidValue {
            what: what.into(),
            problem: problem.into(),
        })
    }

    /// [`pgsage_core::Error::Io`].
    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Core(pgsage_core::Error::Io {
            context: context.into(),
            source,
        })
    }
}

impl From<LogError> for Error {
    fn from(e: LogError) -> Self {
        Error::Core(e.into())
    }
}

/// An [`pgsage_core::Error::InvalidValue`].
impl From<pgsage_core::ParseValueError> for Error {
    fn from(e: pgsage_core::ParseValueError) -> Self {
        Error::Core(e.into())
    }
}

/// An [`pgsage_core::Error::InvalidValue`] for `workload`.
impl From<pgsage_core::workload::NoWorkload> for Error {
    fn from(e: pgsage_core::workload::NoWorkload) -> Self {
        Error::Core(e.into())
    }
}

/// An error of the PostgreSQL driver, kept opaque so that the driver is not part of the
/// library's API. It prints like the driver's error and has the same causes.
pub struct DriverError(tokio_postgres::Error);

impl DriverError {
    /// Wraps the driver's error.
    pub(crate) fn new(e: tokio_postgres::Error) -> Self {
        DriverError(e)
    }

    /// The SQLSTATE code, when the server sent one.
    pub fn sqlstate(&self) -> Option<&str> {
        self.0.code().map(|c| c.code())
    }
}

impl fmt::Debug for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for DriverError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for DriverError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
