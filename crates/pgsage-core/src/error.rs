//! The core's one error type. The `pgsage` crate's error wraps it and adds the errors
//! of talking to a server.

use std::path::PathBuf;

/// Everything that can go wrong in pure code (files, configuration, values, cancellation).
/// Findings are never errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
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

    /// Another thread asked the work to stop (a notebook's Ctrl-C).
    #[error("{what}: cancelled")]
    Cancelled {
        /// What was stopped: `collecting`, `reading logs`, `validating index advice`, …
        what: String,
    },
}

/// A word that names none of a fixed set of choices: `--storage floppy`, a profile, a
/// severity, a format. `FromStr` of every such type in pgsage returns it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{value}` (expected {expected})")]
pub struct ParseValueError {
    /// What the word should name: `storage kind`, `profile`, `severity`, `log format`, …
    pub what: &'static str,
    /// The word given (as compared: lower-cased where the parse ignores case).
    pub value: String,
    /// The accepted words: `hdd, ssd, nvme or san`.
    pub expected: &'static str,
}

impl ParseValueError {
    /// `value` is not one of `expected`.
    pub fn new(what: &'static str, value: impl Into<String>, expected: &'static str) -> Self {
        ParseValueError {
            what,
            value: value.into(),
            expected,
        }
    }
}

/// An [`Error::InvalidValue`] for the option the word was given for (`what`: the kind
/// of value, `severity`); the message is the parse error's.
impl From<ParseValueError> for Error {
    fn from(e: ParseValueError) -> Self {
        Error::InvalidValue {
            what: e.what.to_owned(),
            problem: e.to_string(),
        }
    }
}

impl Error {
    /// Shorthand for a configuration error.
    pub(crate) fn config(origin: Option<&str>, problem: impl Into<String>) -> Self {
        Error::Config {
            origin: origin.map(str::to_owned),
            problem: problem.into(),
        }
    }
}

/// The core's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
