//! Errors of the log readers. Bad content is never an error (it is counted in
//! [`super::LogStats`]); only inputs that cannot be opened or read at all are.

use std::path::PathBuf;

/// Why a log could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// A log file could not be opened.
    #[error("opening log file {}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// An input failed before its first byte could be read.
    #[error("reading {name}: {source}")]
    Read {
        /// The path, or `-` for standard input.
        name: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// Another thread asked the read to stop.
    #[error("reading logs: cancelled")]
    Cancelled,
    /// The parser threads could not be started.
    #[error("starting log parser threads: {0}")]
    ThreadPool(String),
}

impl From<LogError> for crate::Error {
    /// The library's error for a log that could not be read: I/O, with the file named;
    /// a cancelled read is [`crate::Error::Cancelled`].
    fn from(e: LogError) -> Self {
        match e {
            LogError::Open { path, source } => crate::Error::Io {
                context: format!("opening log file {}", path.display()),
                source,
            },
            LogError::Read { name, source } => crate::Error::Io {
                context: format!("reading {name}"),
                source,
            },
            LogError::Cancelled => crate::Error::Cancelled {
                what: "reading logs".into(),
            },
            other => crate::Error::Io {
                context: "reading logs".into(),
                source: std::io::Error::other(other.to_string()),
            },
        }
    }
}
