//! Message severities (`LOG`, `ERROR`, …) and the secondary lines that belong to the
//! message before them (`DETAIL`, `STATEMENT`, …). English server messages only
//! (`lc_messages = 'C'` or `en_*`), like every log analyser.

use serde::Serialize;

/// The severity word that starts a log message, or the label of a secondary line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// `DEBUG1`…`DEBUG5` (printed as `DEBUG`).
    Debug,
    /// `LOG`.
    Log,
    /// `INFO`.
    Info,
    /// `NOTICE`.
    Notice,
    /// `WARNING`.
    Warning,
    /// `ERROR`.
    Error,
    /// `FATAL`.
    Fatal,
    /// `PANIC`.
    Panic,
    /// `DETAIL` (secondary).
    Detail,
    /// `HINT` (secondary).
    Hint,
    /// `QUERY` (secondary).
    Query,
    /// `CONTEXT` (secondary).
    Context,
    /// `LOCATION` (secondary).
    Location,
    /// `STATEMENT` (secondary).
    Statement,
    /// `BACKTRACE` (secondary).
    Backtrace,
}

impl Severity {
    /// Whether this line belongs to the message before it.
    pub fn is_secondary(self) -> bool {
        matches!(
            self,
            Severity::Detail
                | Severity::Hint
                | Severity::Query
                | Severity::Context
                | Severity::Location
                | Severity::Statement
                | Severity::Backtrace
        )
    }

    /// Parses a severity name as csvlog and jsonlog write it (`LOG`, `ERROR`, `DEBUG1`).
    pub fn from_name(name: &str) -> Option<Severity> {
        Some(match name {
            "LOG" => Severity::Log,
            "ERROR" => Severity::Error,
            "FATAL" => Severity::Fatal,
            "PANIC" => Severity::Panic,
            "WARNING" => Severity::Warning,
            "NOTICE" => Severity::Notice,
            "INFO" => Severity::Info,
            "DETAIL" => Severity::Detail,
            "HINT" => Severity::Hint,
            "QUERY" => Severity::Query,
            "CONTEXT" => Severity::Context,
            "LOCATION" => Severity::Location,
            "STATEMENT" => Severity::Statement,
            "BACKTRACE" => Severity::Backtrace,
            n if n.starts_with("DEBUG") => Severity::Debug,
            _ => return None,
        })
    }
}

const WORDS: &[(&str, Severity)] = &[
    ("LOG", Severity::Log),
    ("DETAIL", Severity::Detail),
    ("STATEMENT", Severity::Statement),
    ("ERROR", Severity::Error),
    ("CONTEXT", Severity::Context),
    ("HINT", Severity::Hint),
    ("WARNING", Severity::Warning),
    ("FATAL", Severity::Fatal),
    ("NOTICE", Severity::Notice),
    ("INFO", Severity::Info),
    ("QUERY", Severity::Query),
    ("LOCATION", Severity::Location),
    ("DEBUG", Severity::Debug),
    ("PANIC", Severity::Panic),
    ("BACKTRACE", Severity::Backtrace),
];

/// The severity at `pos` of `line` (`LOG:  `), and where the message after it starts
/// (after the SQLSTATE that `log_error_verbosity = verbose` adds: `LOG:  00000: `).
pub fn severity_at(line: &str, pos: usize) -> Option<(Severity, usize)> {
    let rest = line.as_bytes().get(pos..)?;
    let first = *rest.first()?;
    if !first.is_ascii_uppercase() {
        return None;
    }
    for (word, sev) in WORDS {
        let w = word.as_bytes();
        if rest.len() >= w.len() + 3
            && rest[0] == w[0]
            && &rest[..w.len()] == w
            && &rest[w.len()..w.len() + 3] == b":  "
        {
            let mut at = pos + w.len() + 3;
            let msg = &line.as_bytes()[at..];
            if msg.len() >= 7
                && msg[..5].iter().all(u8::is_ascii_alphanumeric)
                && &msg[5..7] == b": "
                && msg[..5].iter().any(u8::is_ascii_digit)
            {
                at += 7;
            }
            return Some((*sev, at));
        }
    }
    None
}
