//! One executed statement as a server log reports it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How the statement reached the server (and so how its text looks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleKind {
    /// Simple query protocol: `duration: … ms  statement: SELECT … 42`.
    Simple,
    /// Extended protocol execute: `duration: … ms  execute <unnamed>: SELECT … $1`
    /// (parameters, when logged, are in [`Sample::parameters`]).
    Execute,
    /// Extended protocol parse or bind step, timed separately from the execution.
    ParseOrBind,
    /// A plan logged by auto_explain (the statement text is the query it explains).
    AutoExplain,
}

/// One timed statement from a log (or from any other source that times single
/// executions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// When it was logged (the log line's timestamp), if the prefix has one.
    pub at: Option<DateTime<Utc>>,
    /// Duration in milliseconds.
    pub duration_ms: f64,
    /// The statement text as logged (constants or `$n` placeholders in place).
    pub query: String,
    /// Values of `$n` placeholders from a `DETAIL: parameters: $1 = '…'` line, in order,
    /// as logged: SQL literals (`'5'`, `'it''s'`) or `NULL`.
    pub parameters: Vec<String>,
    /// Database (`%d`), if the prefix has it.
    pub database: Option<String>,
    /// User (`%u`), if the prefix has it.
    pub user: Option<String>,
    /// Application name (`%a`), if the prefix has it.
    pub application: Option<String>,
    /// Client host (`%h`/`%r`), if the prefix has it.
    pub client: Option<String>,
    /// Backend process id (`%p`).
    pub pid: Option<i32>,
    /// Session id (`%c`), to follow a session's transactions.
    pub session: Option<String>,
    /// How it reached the server.
    pub kind: SampleKind,
    /// The auto_explain plan text or JSON, when the sample comes from auto_explain.
    pub plan: Option<String>,
}
