//! Live EXPLAIN: runs `EXPLAIN (ANALYZE, BUFFERS, VERBOSE, SETTINGS, WAL, FORMAT JSON)`
//! for one statement on a server, safely.
//!
//! - The statement is classified first ([`classify`]) with sqlparser: `INSERT`,
//!   `UPDATE`, `DELETE`, `MERGE`, `SELECT … INTO`, `CREATE TABLE … AS`, a data-modifying
//!   CTE (`WITH d AS (DELETE …) SELECT …`) and row locks (`SELECT … FOR UPDATE/SHARE`)
//!   are writes. Several statements are refused outright (and the statement is sent
//!   with the extended protocol, which refuses them too).
//! - With ANALYZE the statement really runs, always inside a transaction that is rolled
//!   back, with `SET LOCAL statement_timeout`:
//!   - a read runs in `BEGIN READ ONLY`. That, not the classification, is the real guard:
//!     a function with side effects (`SELECT purge_old_rows()`), `nextval()`, or anything
//!     sqlparser cannot read, fails there with SQLSTATE 25006 instead of writing;
//!   - a write is refused unless [`LiveOptions::analyze_writes`]; then it runs in
//!     `BEGIN READ WRITE` (overriding the session's `default_transaction_read_only`), and
//!     is rolled back whatever happens. It still takes its locks and fires its triggers
//!     while it runs, and sequences it advances stay advanced (they are not
//!     transactional); effects outside the database (dblink, `COPY … TO PROGRAM`,
//!     notifications are discarded) are not undone.
//! - Without ANALYZE ([`LiveOptions::analyze`] false) the statement is only planned
//!   (`EXPLAIN (VERBOSE, SETTINGS, FORMAT JSON)`), which needs no guard.

use std::time::Duration;

use sqlparser::ast::{SetExpr, Statement};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;
use sqlparser::tokenizer::{Token, Tokenizer};

use super::{parse_plan, Plan, PlanError};
use crate::connect::{connect, ConnectOptions};

/// What a statement does, as far as its text says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatementKind {
    /// Reads only (a plain query).
    Read,
    /// Writes or locks rows; the reason says why (`DELETE`, `SELECT … FOR UPDATE`, …).
    Write(String),
    /// sqlparser could not read it; it runs as a read, in a READ ONLY transaction.
    Unknown(String),
}

/// How to explain a live statement.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    /// Run the statement (EXPLAIN ANALYZE) rather than only plan it.
    pub analyze: bool,
    /// Allow ANALYZE of a statement that writes (run in a transaction rolled back).
    pub analyze_writes: bool,
    /// `statement_timeout` for the EXPLAIN.
    pub timeout: Duration,
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            analyze: true,
            analyze_writes: false,
            timeout: Duration::from_secs(60),
        }
    }
}

/// What a live EXPLAIN gave.
#[derive(Debug, Clone)]
pub struct LiveExplain {
    /// The EXPLAIN output (JSON).
    pub output: String,
    /// It, parsed.
    pub plan: Plan,
    /// `server_version`, e.g. `18.1`.
    pub server_version: String,
    /// `server_version_num`, e.g. `180001`.
    pub server_version_num: i32,
    /// The database.
    pub database: String,
    /// What the statement was classified as.
    pub kind: StatementKind,
    /// The EXPLAIN command that ran, without the statement (`EXPLAIN (ANALYZE, …)`).
    pub explain: String,
}

impl LiveExplain {
    /// Names this server as the target of `report` (an analysis of this plan).
    pub fn label(&self, report: &mut crate::Report) {
        report.target.server_version = self.server_version.clone();
        report.target.server_version_num = self.server_version_num;
        report.target.database = self.database.clone();
        report.target.source = "live".into();
    }
}

/// Why a live EXPLAIN did not give a plan.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LiveError {
    /// Connecting failed.
    #[error(transparent)]
    Connect(#[from] crate::Error),
    /// No statement.
    #[error("no statement to explain: the query is empty")]
    Empty,
    /// More than one statement.
    #[error("one statement at a time: the query holds {0} statements")]
    MultipleStatements(usize),
    /// A statement that writes, with ANALYZE, without permission to run writes.
    #[error(
        "refusing to EXPLAIN ANALYZE a statement that writes ({reason}): ANALYZE runs it, \
         and running writes (in a transaction that is rolled back) was not allowed"
    )]
    WriteRefused {
        /// Why it is a write.
        reason: String,
    },
    /// The statement ran longer than the timeout.
    #[error("the statement did not finish within the {} timeout (statement_timeout)", pgsage_core::units::duration(*.seconds))]
    Timeout {
        /// The timeout.
        seconds: f64,
    },
    /// The server refused the statement or the EXPLAIN.
    #[error("the server refused the statement: {message} (SQLSTATE {sqlstate})")]
    Server {
        /// The server's message (and detail/hint).
        message: String,
        /// Its SQLSTATE.
        sqlstate: String,
    },
    /// The connection broke.
    #[error("talking to the server: {0}")]
    Driver(#[source] crate::DriverError),
    /// EXPLAIN's output could not be read (a bug or a newer server).
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// The async runtime could not start.
    #[error("starting the async runtime: {0}")]
    Runtime(String),
}

/// Classifies `sql` (one statement; a trailing `;` is fine). See the module doc for
/// what counts as a write.
pub fn classify(sql: &str) -> Result<StatementKind, LiveError> {
    let statements = count_statements(sql);
    match statements {
        0 => return Err(LiveError::Empty),
        1 => {}
        n => return Err(LiveError::MultipleStatements(n)),
    }
    let parsed = match Parser::parse_sql(&PostgreSqlDialect {}, sql) {
        Ok(p) => p,
        Err(e) => return Ok(StatementKind::Unknown(e.to_string())),
    };
    let Some(statement) = parsed.first() else {
        return Err(LiveError::Empty);
    };
    Ok(match statement {
        Statement::Query(q) => query_kind(q),
        Statement::Insert(_) => StatementKind::Write("INSERT".into()),
        Statement::Update { .. } => StatementKind::Write("UPDATE".into()),
        Statement::Delete(_) => StatementKind::Write("DELETE".into()),
        Statement::Merge { .. } => StatementKind::Write("MERGE".into()),
        Statement::CreateTable(_) => StatementKind::Write("CREATE TABLE … AS".into()),
        Statement::CreateView { .. } => StatementKind::Write("CREATE MATERIALIZED VIEW".into()),
        other => {
            let text = other.to_string();
            let word = text
                .split_whitespace()
                .next()
                .unwrap_or("")
                .to_ascii_uppercase();
            StatementKind::Write(format!("a {word} statement"))
        }
    })
}

/// Statements in `sql`, by the `;` tokens between non-empty parts (strings, comments and
/// dollar quotes are the tokenizer's business). Untokenizable text counts as one.
fn count_statements(sql: &str) -> usize {
    let Ok(tokens) = Tokenizer::new(&PostgreSqlDialect {}, sql).tokenize() else {
        return usize::from(!sql.trim().is_empty());
    };
    let mut count = 0;
    let mut in_statement = false;
    for t in tokens {
        match t {
            Token::SemiColon => in_statement = false,
            Token::Whitespace(_) | Token::EOF => {}
            _ => {
                if !in_statement {
                    count += 1;
                    in_statement = true;
                }
            }
        }
    }
    count
}

fn query_kind(q: &sqlparser::ast::Query) -> StatementKind {
    if !q.locks.is_empty() {
        return StatementKind::Write("SELECT … FOR UPDATE/SHARE locks rows".into());
    }
    if let Some(with) = &q.with {
        for cte in &with.cte_tables {
            if let StatementKind::Write(why) = query_kind(&cte.query) {
                return StatementKind::Write(format!("the CTE `{}`: {why}", cte.alias.name));
            }
        }
    }
    let mut pending = vec![q.body.as_ref()];
    while let Some(body) = pending.pop() {
        match body {
            SetExpr::Insert(_) => return StatementKind::Write("INSERT".into()),
            SetExpr::Update(_) => return StatementKind::Write("UPDATE".into()),
            SetExpr::Delete(_) => return StatementKind::Write("DELETE".into()),
            SetExpr::Merge(_) => return StatementKind::Write("MERGE".into()),
            SetExpr::Select(s) if s.into.is_some() => {
                return StatementKind::Write("SELECT … INTO creates a table".into())
            }
            SetExpr::Query(inner) => {
                if let w @ StatementKind::Write(_) = query_kind(inner) {
                    return w;
                }
            }
            SetExpr::SetOperation { left, right, .. } => {
                pending.push(left);
                pending.push(right);
            }
            _ => {}
        }
    }
    StatementKind::Read
}

/// The EXPLAIN options for a server version.
fn explain_command(analyze: bool, version_num: i32) -> String {
    let mut options = Vec::new();
    if analyze {
        options.extend(["ANALYZE", "BUFFERS"]);
    }
    options.push("VERBOSE");
    if version_num >= 120000 {
        options.push("SETTINGS");
    }
    if analyze && version_num >= 130000 {
        options.push("WAL");
    }
    options.push("FORMAT JSON");
    format!("EXPLAIN ({})", options.join(", "))
}

/// Connects with `connect_options` and explains `sql` (see the module doc), blocking.
pub fn explain_live(
    connect_options: &ConnectOptions,
    sql: &str,
    options: &LiveOptions,
) -> Result<LiveExplain, LiveError> {
    let runtime =
        crate::collect::blocking_runtime().map_err(|e| LiveError::Runtime(e.to_string()))?;
    runtime.block_on(explain_live_async(connect_options, sql, options))
}

/// [`explain_live`] inside a tokio runtime.
pub async fn explain_live_async(
    connect_options: &ConnectOptions,
    sql: &str,
    options: &LiveOptions,
) -> Result<LiveExplain, LiveError> {
    let sql = sql.trim().trim_end_matches(';').trim_end();
    let kind = classify(sql)?;
    if options.analyze && !options.analyze_writes {
        if let StatementKind::Write(reason) = &kind {
            return Err(LiveError::WriteRefused {
                reason: reason.clone(),
            });
        }
    }
    let session = connect(connect_options).await?;
    let client = &session.client;
    let row = client
        .query_one(
            "SELECT current_setting('server_version'), current_setting('server_version_num')::int, current_database()",
            &[],
        )
        .await
        .map_err(server_error)?;
    let (server_version, server_version_num, database): (String, i32, String) =
        (row.get(0), row.get(1), row.get(2));
    let explain = explain_command(options.analyze, server_version_num);
    let begin = match (&kind, options.analyze) {
        (StatementKind::Write(_), true) => "BEGIN READ WRITE",
        _ => "BEGIN READ ONLY",
    };
    let timeout_ms = options.timeout.as_millis().clamp(1, i32::MAX as u128);
    client
        .batch_execute(&format!(
            "{begin}; SET LOCAL statement_timeout = {timeout_ms}"
        ))
        .await
        .map_err(server_error)?;
    // The extended protocol: one statement only, whatever the text holds.
    let result = client.query(&format!("{explain} {sql}"), &[]).await;
    // Always roll back, whatever happened; a failed ROLLBACK on a broken connection
    // changes nothing (the server rolls back when the connection ends).
    let _ = client.batch_execute("ROLLBACK").await;
    let _ = session.close().await;
    let rows = result.map_err(|e| match e.code().map(|c| c.code()) {
        Some("57014") => LiveError::Timeout {
            seconds: options.timeout.as_secs_f64(),
        },
        Some("25006") => LiveError::WriteRefused {
            reason: format!(
                "the server refused a write in the READ ONLY transaction: {}",
                e.as_db_error().map(|d| d.message()).unwrap_or("read-only")
            ),
        },
        _ => server_error(e),
    })?;
    // FORMAT JSON comes as a `json` value, the other formats as text.
    let output: String = rows
        .iter()
        .map(|r| {
            r.try_get::<_, serde_json::Value>(0)
                .map(|v| serde_json::to_string_pretty(&v).unwrap_or_default())
                .or_else(|_| r.try_get::<_, String>(0))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| LiveError::Driver(crate::DriverError::new(e)))?
        .join("\n");
    let plan = parse_plan(&output)?;
    Ok(LiveExplain {
        output,
        plan,
        server_version,
        server_version_num,
        database,
        kind,
        explain,
    })
}

fn server_error(e: tokio_postgres::Error) -> LiveError {
    match e.as_db_error() {
        Some(db) => {
            let mut message = db.message().to_owned();
            if let Some(detail) = db.detail() {
                message.push_str(&format!("; {detail}"));
            }
            if let Some(hint) = db.hint() {
                message.push_str(&format!("; hint: {hint}"));
            }
            LiveError::Server {
                message,
                sqlstate: db.code().code().to_owned(),
            }
        }
        None => LiveError::Driver(crate::DriverError::new(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(sql: &str) -> StatementKind {
        classify(sql).expect("one statement")
    }

    #[test]
    fn reads_and_writes_are_told_apart() {
        for sql in [
            "SELECT 1",
            "select * from t where id = 1;",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "SELECT a FROM t UNION ALL SELECT b FROM u",
            "VALUES (1), (2)",
            "SELECT ';' AS semicolon, $$ ; $$",
        ] {
            assert_eq!(kind(sql), StatementKind::Read, "{sql}");
        }
        for sql in [
            "DELETE FROM t WHERE id = 1",
            "insert into t values (1)",
            "UPDATE t SET a = 1",
            "WITH d AS (DELETE FROM t RETURNING *) SELECT count(*) FROM d",
            "SELECT * FROM t FOR UPDATE",
            "SELECT * FROM t FOR SHARE SKIP LOCKED",
            "SELECT * INTO t2 FROM t",
            "CREATE TABLE t2 AS SELECT * FROM t",
            "MERGE INTO t USING u ON t.id = u.id WHEN MATCHED THEN DELETE",
        ] {
            assert!(
                matches!(kind(sql), StatementKind::Write(_)),
                "{sql}: {:?}",
                kind(sql)
            );
        }
        // PostgreSQL syntax sqlparser does not know runs as a read (READ ONLY guards it).
        assert!(matches!(
            kind("SELECT 1 FROM t TABLESAMPLE bernoulli (1) REPEATABLE (7) WINDOW w AS ()"),
            StatementKind::Read | StatementKind::Unknown(_)
        ));
    }

    #[test]
    fn several_statements_and_empty_input_are_refused() {
        assert!(matches!(
            classify("SELECT 1; DELETE FROM t"),
            Err(LiveError::MultipleStatements(2))
        ));
        assert!(matches!(
            classify("SELECT 1; COMMIT; SELECT 2;"),
            Err(LiveError::MultipleStatements(3))
        ));
        assert!(matches!(classify("  ; "), Err(LiveError::Empty)));
        assert!(matches!(classify("-- nothing"), Err(LiveError::Empty)));
    }

    #[test]
    fn explain_options_follow_the_version() {
        assert_eq!(
            explain_command(true, 180001),
            "EXPLAIN (ANALYZE, BUFFERS, VERBOSE, SETTINGS, WAL, FORMAT JSON)"
        );
        assert_eq!(
            explain_command(false, 130000),
            "EXPLAIN (VERBOSE, SETTINGS, FORMAT JSON)"
        );
        assert_eq!(
            explain_command(true, 120000),
            "EXPLAIN (ANALYZE, BUFFERS, VERBOSE, SETTINGS, FORMAT JSON)"
        );
    }
}
