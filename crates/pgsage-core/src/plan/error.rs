//! [`PlanError`]: why EXPLAIN output could not be read.

/// Why a piece of EXPLAIN output could not be turned into a [`Plan`](super::Plan).
///
/// Every parser entry point returns this; no input makes them panic.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// Nothing but whitespace or psql decorations.
    #[error("no EXPLAIN output found: the input is empty")]
    Empty,

    /// The input looked like JSON but is not valid JSON.
    #[error("invalid EXPLAIN JSON at line {line}, column {column}: {message}")]
    Json {
        /// 1-based line in the input (after psql decorations were removed).
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde_json's description.
        message: String,
    },

    /// Valid JSON whose shape is not that of `EXPLAIN (FORMAT JSON)`: a missing `Plan`
    /// or `Node Type`, or a value of the wrong type.
    #[error("EXPLAIN JSON, {at}: {problem}")]
    Shape {
        /// Where: `plan 1`, `plan 1, node 0.1, "Actual Rows"`, …
        at: String,
        /// What is wrong.
        problem: String,
    },

    /// The plan (or the JSON holding it) is nested deeper than the parsers accept.
    #[error("the plan is nested more than {limit} levels deep{}; pgsage refuses deeper plans", .line.map(|l| format!(" (at line {l})")).unwrap_or_default())]
    TooDeep {
        /// The limit that was exceeded (JSON nesting levels for JSON input, plan tree
        /// levels for text input).
        limit: usize,
        /// The line where it was exceeded, when known.
        line: Option<usize>,
    },

    /// Text that is not EXPLAIN output, or EXPLAIN text that cannot be read.
    #[error("EXPLAIN text, line {line}: {problem}")]
    Text {
        /// 1-based line in the input.
        line: usize,
        /// What is wrong.
        problem: String,
    },
}

impl PlanError {
    pub(crate) fn shape(at: impl Into<String>, problem: impl Into<String>) -> Self {
        PlanError::Shape {
            at: at.into(),
            problem: problem.into(),
        }
    }

    pub(crate) fn text(line: usize, problem: impl Into<String>) -> Self {
        PlanError::Text {
            line,
            problem: problem.into(),
        }
    }
}
