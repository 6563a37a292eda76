//! What applying a fix's SQL costs, statement by statement, read from the SQL alone: the
//! strongest table lock a statement takes and what that lock blocks, how long it holds it
//! (briefly, for a scan, for a rewrite), whether it rewrites a table, when it can run
//! ([`Phase`]: online, after a reload, after a restart, in a maintenance window), whether
//! it destroys something (so scripts leave it commented out), whether it may run inside a
//! transaction block, and what it reads or writes (for a duration estimate).
//!
//! The lock modes follow PostgreSQL's documentation: the "Explicit Locking" chapter (the
//! table-level lock modes, what each conflicts with) and each command's reference page:
//! `ALTER TABLE` takes ACCESS EXCLUSIVE unless a subcommand is documented otherwise
//! (SHARE UPDATE EXCLUSIVE for `VALIDATE CONSTRAINT`, `SET STATISTICS`, `CLUSTER ON` and
//! the autovacuum and fillfactor storage parameters; SHARE ROW EXCLUSIVE for triggers and
//! foreign keys), `CREATE INDEX` takes SHARE and `CONCURRENTLY` SHARE UPDATE EXCLUSIVE,
//! `DROP INDEX` ACCESS EXCLUSIVE and `CONCURRENTLY` SHARE UPDATE EXCLUSIVE, `VACUUM` and
//! `ANALYZE` SHARE UPDATE EXCLUSIVE and `VACUUM FULL` ACCESS EXCLUSIVE. The live test
//! `crates/pgsage/tests/fix_script.rs` checks the modes of the statements that can run in a
//! transaction block against `pg_locks` on a real server.
//!
//! [`pieces`] splits a fix's text ([`super::split`]) and classifies each statement;
//! the engine sums a fix's statements into its [`crate::report::Fix`] fields, and the
//! audit's script renderer uses the pieces to comment out what must not run unattended.

use serde::{Deserialize, Serialize};

use super::split::{split, RawPiece, Tok};

/// A table-level lock mode, weakest first (the order of PostgreSQL's documentation; each
/// mode conflicts with at least the modes the weaker ones conflict with, as far as
/// reads and writes go).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum LockMode {
    /// `SELECT`.
    #[serde(rename = "ACCESS SHARE")]
    AccessShare,
    /// `SELECT FOR UPDATE`.
    #[serde(rename = "ROW SHARE")]
    RowShare,
    /// `INSERT`, `UPDATE`, `DELETE`.
    #[serde(rename = "ROW EXCLUSIVE")]
    RowExclusive,
    /// `VACUUM`, `ANALYZE`, `CREATE INDEX CONCURRENTLY`, some `ALTER TABLE` forms.
    #[serde(rename = "SHARE UPDATE EXCLUSIVE")]
    ShareUpdateExclusive,
    /// `CREATE INDEX`.
    #[serde(rename = "SHARE")]
    Share,
    /// Triggers, foreign keys, `ALTER SEQUENCE`.
    #[serde(rename = "SHARE ROW EXCLUSIVE")]
    ShareRowExclusive,
    /// `REFRESH MATERIALIZED VIEW CONCURRENTLY`.
    #[serde(rename = "EXCLUSIVE")]
    Exclusive,
    /// Most `ALTER TABLE` forms, `DROP`, `TRUNCATE`, `VACUUM FULL`, `CLUSTER`.
    #[serde(rename = "ACCESS EXCLUSIVE")]
    AccessExclusive,
}

impl LockMode {
    /// `SHARE UPDATE EXCLUSIVE`, as PostgreSQL names it.
    pub fn as_str(self) -> &'static str {
        match self {
            LockMode::AccessShare => "ACCESS SHARE",
            LockMode::RowShare => "ROW SHARE",
            LockMode::RowExclusive => "ROW EXCLUSIVE",
            LockMode::ShareUpdateExclusive => "SHARE UPDATE EXCLUSIVE",
            LockMode::Share => "SHARE",
            LockMode::ShareRowExclusive => "SHARE ROW EXCLUSIVE",
            LockMode::Exclusive => "EXCLUSIVE",
            LockMode::AccessExclusive => "ACCESS EXCLUSIVE",
        }
    }

    /// What waits while the lock is held (from the conflict table of "Explicit
    /// Locking"), for readers of a report.
    pub fn blocks(self) -> &'static str {
        match self {
            LockMode::AccessShare => "only ACCESS EXCLUSIVE locks (DROP, most ALTER TABLE)",
            LockMode::RowShare | LockMode::RowExclusive => {
                "schema changes and explicit table locks; reads and writes continue"
            }
            LockMode::ShareUpdateExclusive => {
                "schema changes, VACUUM, ANALYZE and index builds; reads and writes continue"
            }
            LockMode::Share | LockMode::ShareRowExclusive => {
                "writes (INSERT, UPDATE, DELETE); reads continue"
            }
            LockMode::Exclusive => "writes and row locks; plain reads continue",
            LockMode::AccessExclusive => "every access, reads included",
        }
    }

    /// Whether the lock makes INSERT, UPDATE or DELETE wait.
    pub fn blocks_writes(self) -> bool {
        self > LockMode::ShareUpdateExclusive
    }
}

impl std::fmt::Display for LockMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// When a change can be applied, least disruptive first.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Now: no restart, no lock that blocks reads or writes for long.
    #[default]
    Online,
    /// Takes effect on `SELECT pg_reload_conf()`.
    Reload,
    /// Takes effect when PostgreSQL restarts.
    Restart,
    /// Takes a lock that blocks reads or writes while it scans or rewrites a table, or
    /// any ACCESS EXCLUSIVE lock (it queues behind running transactions and every reader
    /// queues behind it): schedule a window.
    Maintenance,
}

impl Phase {
    /// `online`, `reload`, `restart`, `maintenance`.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Online => "online",
            Phase::Reload => "reload",
            Phase::Restart => "restart",
            Phase::Maintenance => "maintenance",
        }
    }

    /// The phase a fix's `requires` names (`reload`, `restart`), if any.
    pub fn from_requires(requires: &str) -> Option<Phase> {
        match requires {
            "reload" => Some(Phase::Reload),
            "restart" => Some(Phase::Restart),
            _ => None,
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How long a statement holds its lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Held {
    /// A catalog change: milliseconds once granted (it still queues behind running
    /// transactions, and later requests queue behind it).
    Brief,
    /// While it reads the whole table (a validation, an index build, a vacuum).
    Scan,
    /// While it writes a new copy of the table and its indexes.
    Rewrite,
}

/// The lock a statement takes on a relation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    /// The mode.
    pub mode: LockMode,
    /// The relation as the statement names it (`public.t`).
    pub relation: String,
    /// The statement names an index (`DROP INDEX`, `REINDEX INDEX`): the lock is on the
    /// index's table.
    pub via_index: bool,
}

/// What a statement reads or writes, for a duration estimate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// Reads the table (an index build, a validation).
    Table(String),
    /// Reads or writes the table and all its indexes (a vacuum, a rewrite).
    TableAndIndexes(String),
    /// Builds the index again: reads its table, writes the index.
    Index(String),
    /// Every table of the connected database (a database-wide `VACUUM`).
    Database,
}

/// The kind of statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `CREATE INDEX`.
    CreateIndex,
    /// `DROP INDEX`.
    DropIndex,
    /// `REINDEX`.
    Reindex,
    /// `ALTER TABLE`.
    AlterTable,
    /// `ALTER INDEX`.
    AlterIndex,
    /// `ALTER SEQUENCE`.
    AlterSequence,
    /// `VACUUM`.
    Vacuum,
    /// `ANALYZE`.
    Analyze,
    /// `CLUSTER`.
    Cluster,
    /// `REFRESH MATERIALIZED VIEW`.
    RefreshView,
    /// `ALTER SYSTEM SET name = value` (`value` is `None` for `RESET`).
    AlterSystem {
        /// The parameter (`ALL` for `RESET ALL`).
        setting: String,
        /// The value as written, unquoted.
        value: Option<String>,
    },
    /// `SELECT pg_reload_conf()`.
    ReloadConf,
    /// `ALTER ROLE` / `ALTER USER` / `ALTER DATABASE`: takes effect in new sessions.
    RoleOrDatabase,
    /// `CREATE EXTENSION`, `ALTER EXTENSION`.
    Extension,
    /// `pg_terminate_backend`, `pg_cancel_backend`.
    EndSession,
    /// `pg_drop_replication_slot`.
    DropSlot,
    /// `COMMIT PREPARED`, `ROLLBACK PREPARED`.
    PreparedTransaction,
    /// `SET`, `SET LOCAL`, `RESET`: only the session that runs it.
    SessionSetting,
    /// A query that changes nothing (`SELECT`, `SHOW`).
    Query,
    /// Another `DROP`.
    Drop,
    /// `INSERT`, `UPDATE`, `DELETE`, `TRUNCATE`.
    DataChange,
    /// `GRANT`, `REVOKE`.
    Privileges,
    /// `CHECKPOINT`.
    Checkpoint,
    /// Anything else: pgsage does not know its lock.
    Unknown,
}

/// What one statement costs.
#[derive(Debug, Clone, PartialEq)]
pub struct Impact {
    /// What kind of statement it is.
    pub kind: Kind,
    /// The strongest lock it takes on a table or index, if any.
    pub lock: Option<Lock>,
    /// How long it holds that lock.
    pub held: Held,
    /// Whether it writes a new copy of a table (and rebuilds its indexes).
    pub rewrites_table: bool,
    /// Why running it destroys something, when it does.
    pub destructive: Option<String>,
    /// Whether it may run inside a transaction block.
    pub in_transaction: bool,
    /// Why a script must not run it as written, though it destroys nothing (a template
    /// with placeholders, a query to look at, a session-only `SET`, a statement whose
    /// note makes it conditional, an unknown statement).
    pub skip: Option<String>,
    /// What it reads or writes.
    pub work: Vec<Work>,
}

impl Impact {
    fn new(kind: Kind) -> Self {
        Impact {
            kind,
            lock: None,
            held: Held::Brief,
            rewrites_table: false,
            destructive: None,
            in_transaction: true,
            skip: None,
            work: Vec::new(),
        }
    }

    fn lock(mut self, mode: LockMode, relation: &str, held: Held) -> Self {
        self.lock = Some(Lock {
            mode,
            relation: relation.to_owned(),
            via_index: false,
        });
        self.held = held;
        self
    }

    fn on_index(mut self) -> Self {
        if let Some(l) = &mut self.lock {
            l.via_index = true;
        }
        self
    }

    fn no_transaction(mut self) -> Self {
        self.in_transaction = false;
        self
    }

    fn destroys(mut self, why: impl Into<String>) -> Self {
        self.destructive = Some(why.into());
        self
    }

    fn skip(mut self, why: impl Into<String>) -> Self {
        self.skip = Some(why.into());
        self
    }

    fn work(mut self, w: Work) -> Self {
        self.work.push(w);
        self
    }

    /// When it can run: a setting needs a reload (the engine raises it to a restart for
    /// the settings that need one); a rewrite, any ACCESS EXCLUSIVE lock, or a lock that
    /// blocks writes while it scans a table needs a maintenance window; the rest is
    /// online.
    pub fn phase(&self) -> Phase {
        if matches!(self.kind, Kind::AlterSystem { .. } | Kind::ReloadConf) {
            return Phase::Reload;
        }
        let blocking = self.lock.as_ref().is_some_and(|l| {
            l.mode == LockMode::AccessExclusive
                || (l.mode.blocks_writes() && self.held >= Held::Scan)
        });
        if self.rewrites_table || blocking {
            Phase::Maintenance
        } else {
            Phase::Online
        }
    }

    /// Whether a script runs it as written.
    pub fn runs_in_script(&self) -> bool {
        self.destructive.is_none() && self.skip.is_none()
    }
}

/// One statement of a fix, classified.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// The statement as written, through its `;`.
    pub sql: String,
    /// The comment written after it on the same line, without `--`.
    pub note: Option<String>,
    /// What it costs.
    pub impact: Impact,
}

/// A piece of a fix's SQL text.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    /// A comment on its own line, without `--`.
    Comment(String),
    /// A statement.
    Statement(Statement),
}

/// A fix's SQL text as comments and classified statements. Text sqlparser cannot
/// tokenize becomes one statement of [`Kind::Unknown`] that scripts do not run.
pub fn pieces(sql: &str) -> Vec<Piece> {
    let Some(raw) = split(sql) else {
        let mut impact = Impact::new(Kind::Unknown);
        impact.skip = Some("pgsage could not read this SQL: review it by hand".to_owned());
        return vec![Piece::Statement(Statement {
            sql: sql.trim().to_owned(),
            note: None,
            impact,
        })];
    };
    // Tables this text gives a primary key: the key constraint it then drops on the same
    // table is the one the primary key replaces (SCH003 promotes a unique key), so
    // dropping it loses nothing.
    let mut keyed: Vec<String> = Vec::new();
    raw.into_iter()
        .map(|p| match p {
            RawPiece::Comment(c) => Piece::Comment(c),
            RawPiece::Statement(s) => {
                let mut impact = classify(&s.tokens);
                if impact.kind == Kind::AlterTable {
                    let table = impact.lock.as_ref().map(|l| l.relation.clone());
                    let adds_key = s
                        .tokens
                        .windows(2)
                        .any(|w| w[0].is("PRIMARY") && w[1].is("KEY"))
                        && s.tokens.iter().any(|t| t.is("ADD"));
                    match table {
                        Some(t) if adds_key => keyed.push(t),
                        Some(t)
                            if keyed.contains(&t)
                                && impact.destructive.as_deref().is_some_and(|d| {
                                    d.starts_with("drops constraint") && !d.contains("; ")
                                }) =>
                        {
                            impact.destructive = None;
                        }
                        _ => {}
                    }
                }
                if impact.skip.is_none() {
                    impact.skip = placeholder(&s.sql).or_else(|| conditional(s.note.as_deref()));
                }
                Piece::Statement(Statement {
                    sql: s.sql,
                    note: s.note,
                    impact,
                })
            }
        })
        .collect()
}

/// The classified statements of a fix's SQL text.
pub fn statements(sql: &str) -> Vec<Statement> {
    pieces(sql)
        .into_iter()
        .filter_map(|p| match p {
            Piece::Statement(s) => Some(s),
            Piece::Comment(_) => None,
        })
        .collect()
}

/// A template to fill in: `<partition>`, `<rare value>`, `(…)`.
fn placeholder(sql: &str) -> Option<String> {
    let mut in_string = false;
    let chars: Vec<char> = sql.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '\'' => in_string = !in_string,
            '…' if !in_string => {
                return Some("a template: fill in the `…` first".to_owned());
            }
            '<' if !in_string && chars.get(i + 1).is_some_and(|n| n.is_ascii_alphabetic()) => {
                let rest: String = chars[i + 1..].iter().collect();
                if let Some(end) = rest.find('>') {
                    let inner = &rest[..end];
                    if inner
                        .chars()
                        .all(|x| x.is_ascii_alphanumeric() || x == '_' || x == ' ')
                        && !inner.ends_with(' ')
                    {
                        return Some(format!("a template: replace <{inner}> first"));
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// A statement its author made conditional or one of two choices (`-- if paused`,
/// `-- or: COMMIT PREPARED …`): a person decides.
fn conditional(note: Option<&str>) -> Option<String> {
    let note = note?;
    let lower = note.to_ascii_lowercase();
    let alternative = ["or ", "or:", "or,"].iter().any(|p| lower.starts_with(p));
    (lower.starts_with("if ") || alternative)
        .then(|| format!("conditional ({note}): check before running it"))
}

/// Storage parameters whose change takes SHARE UPDATE EXCLUSIVE (PostgreSQL's
/// `reloptions.c` lock levels, as the `ALTER TABLE … SET` documentation lists them);
/// any other takes ACCESS EXCLUSIVE.
fn light_reloption(name: &str) -> bool {
    let name = name.strip_prefix("toast.").unwrap_or(name);
    name.starts_with("autovacuum_")
        || matches!(
            name,
            "fillfactor"
                | "toast_tuple_target"
                | "parallel_workers"
                | "log_autovacuum_min_duration"
                | "vacuum_index_cleanup"
                | "vacuum_truncate"
                | "vacuum_max_eager_freeze_failure_rate"
                | "n_distinct"
                | "n_distinct_inherited"
                | "deduplicate_items"
                | "fastupdate"
                | "gin_pending_list_limit"
                | "buffering"
                | "pages_per_range"
                | "autosummarize"
        )
}

/// Reads the statement's significant tokens.
struct Reader<'a> {
    toks: &'a [Tok],
    at: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<&'a Tok> {
        self.toks.get(self.at)
    }

    /// Consumes the key word if it is next.
    fn eat(&mut self, keyword: &str) -> bool {
        if self.peek().is_some_and(|t| t.is(keyword)) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// Consumes `IF EXISTS` / `IF NOT EXISTS`.
    fn eat_if_exists(&mut self) {
        if self.eat("IF") {
            self.eat("NOT");
            self.eat("EXISTS");
        }
    }

    /// Skips a parenthesised option list, returning its key words.
    fn options(&mut self) -> Vec<String> {
        let mut words = Vec::new();
        if !self.peek().is_some_and(|t| t.is_punct("(")) {
            return words;
        }
        let mut depth = 0;
        while let Some(t) = self.peek() {
            self.at += 1;
            if t.is_punct("(") {
                depth += 1;
            } else if t.is_punct(")") {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            } else if let Some(k) = t.kw() {
                words.push(k.to_owned());
            }
        }
        words
    }

    /// A possibly qualified name, as PostgreSQL reads it (`public.t`, `"Odd".t`).
    fn name(&mut self) -> Option<String> {
        // A template's placeholder: `<partition>`.
        if self.peek().is_some_and(|t| t.is_punct("<")) {
            let mut words = Vec::new();
            let mut at = self.at + 1;
            while let Some(Tok::Word { value, .. }) = self.toks.get(at) {
                words.push(value.as_str());
                at += 1;
            }
            if !words.is_empty() && self.toks.get(at).is_some_and(|t| t.is_punct(">")) {
                self.at = at + 1;
                return Some(format!("<{}>", words.join(" ")));
            }
        }
        let mut parts = Vec::new();
        while let Some(Tok::Word { value, .. }) = self.peek() {
            parts.push(super::quote_ident(value));
            self.at += 1;
            if self.peek().is_some_and(|t| t.is_punct(".")) {
                self.at += 1;
            } else {
                break;
            }
        }
        (!parts.is_empty()).then(|| parts.join("."))
    }

    /// The rest of the statement, split at top-level commas.
    fn items(&self) -> Vec<&'a [Tok]> {
        let rest = &self.toks[self.at.min(self.toks.len())..];
        let mut items = Vec::new();
        let mut depth = 0i32;
        let mut start = 0;
        for (i, t) in rest.iter().enumerate() {
            if t.is_punct("(") {
                depth += 1;
            } else if t.is_punct(")") {
                depth -= 1;
            } else if t.is_punct(",") && depth == 0 {
                items.push(&rest[start..i]);
                start = i + 1;
            }
        }
        items.push(&rest[start..]);
        items.retain(|i| !i.is_empty());
        items
    }

    fn contains(&self, keyword: &str) -> bool {
        self.toks[self.at.min(self.toks.len())..]
            .iter()
            .any(|t| t.is(keyword))
    }
}

/// Classifies one statement from its significant tokens.
fn classify(toks: &[Tok]) -> Impact {
    let mut r = Reader { toks, at: 0 };
    let Some(first) = r.peek().and_then(Tok::kw).map(str::to_owned) else {
        return unknown();
    };
    r.at += 1;
    match first.as_str() {
        "CREATE" => create(&mut r),
        "DROP" => drop(&mut r),
        "REINDEX" => reindex(&mut r),
        "ALTER" => alter(&mut r),
        "VACUUM" => vacuum(&mut r),
        "ANALYZE" | "ANALYSE" => {
            r.options();
            r.eat("VERBOSE");
            let table = r.name().unwrap_or_default();
            Impact::new(Kind::Analyze).lock(LockMode::ShareUpdateExclusive, &table, Held::Scan)
        }
        "CLUSTER" => {
            r.options();
            r.eat("VERBOSE");
            let table = r.name().unwrap_or_default();
            let mut i = Impact::new(Kind::Cluster)
                .lock(LockMode::AccessExclusive, &table, Held::Rewrite)
                .work(Work::TableAndIndexes(table));
            i.rewrites_table = true;
            i
        }
        "REFRESH" => {
            r.eat("MATERIALIZED");
            r.eat("VIEW");
            let concurrently = r.eat("CONCURRENTLY");
            let view = r.name().unwrap_or_default();
            let mode = if concurrently {
                LockMode::Exclusive
            } else {
                LockMode::AccessExclusive
            };
            Impact::new(Kind::RefreshView)
                .lock(mode, &view, Held::Rewrite)
                .work(Work::TableAndIndexes(view))
        }
        "SELECT" => select(toks),
        "SHOW" => Impact::new(Kind::Query).skip("a query to look at, not a change"),
        "WITH" if !["INSERT", "UPDATE", "DELETE"].iter().any(|k| r.contains(k)) => {
            Impact::new(Kind::Query).skip("a query to look at, not a change")
        }
        "SET" | "RESET" => Impact::new(Kind::SessionSetting).skip(
            "a session setting: it applies only to the session (or transaction) that runs it",
        ),
        "COMMIT" | "ROLLBACK" if r.eat("PREPARED") => {
            let gid = match r.peek() {
                Some(Tok::Str(g)) => format!("'{g}'"),
                _ => "the prepared transaction".to_owned(),
            };
            let why = if first == "ROLLBACK" {
                format!("discards the changes of prepared transaction {gid}")
            } else {
                format!("commits prepared transaction {gid}, which its coordinator may have rolled back")
            };
            Impact::new(Kind::PreparedTransaction)
                .destroys(why)
                .no_transaction()
        }
        "TRUNCATE" => {
            r.eat("TABLE");
            r.eat("ONLY");
            let table = r.name().unwrap_or_default();
            Impact::new(Kind::DataChange)
                .lock(LockMode::AccessExclusive, &table, Held::Brief)
                .destroys(format!("empties table {table}"))
        }
        "DELETE" | "UPDATE" | "INSERT" => {
            r.eat("FROM");
            r.eat("INTO");
            r.eat("ONLY");
            let table = r.name().unwrap_or_default();
            let i = Impact::new(Kind::DataChange).lock(LockMode::RowExclusive, &table, Held::Scan);
            match first.as_str() {
                "DELETE" => i.destroys(format!("deletes rows of {table}")),
                "UPDATE" => i.destroys(format!("changes rows of {table}")),
                _ => i,
            }
        }
        "GRANT" => Impact::new(Kind::Privileges),
        "REVOKE" => Impact::new(Kind::Privileges)
            .destroys("takes privileges away: what uses them stops working"),
        "CHECKPOINT" => Impact::new(Kind::Checkpoint).no_transaction(),
        _ => unknown(),
    }
}

fn unknown() -> Impact {
    Impact::new(Kind::Unknown)
        .skip("pgsage does not know what this statement locks: review it before running it")
}

fn create(r: &mut Reader) -> Impact {
    r.eat("UNIQUE");
    if r.eat("INDEX") {
        let concurrently = r.eat("CONCURRENTLY");
        r.eat_if_exists();
        if !r.peek().is_some_and(|t| t.is("ON")) {
            r.name();
        }
        r.eat("ON");
        r.eat("ONLY");
        let table = r.name().unwrap_or_default();
        let i = Impact::new(Kind::CreateIndex).work(Work::Table(table.clone()));
        return if concurrently {
            i.lock(LockMode::ShareUpdateExclusive, &table, Held::Scan)
                .no_transaction()
        } else {
            i.lock(LockMode::Share, &table, Held::Scan)
        };
    }
    if r.eat("EXTENSION") {
        return Impact::new(Kind::Extension);
    }
    unknown()
}

fn drop(r: &mut Reader) -> Impact {
    if r.eat("INDEX") {
        let concurrently = r.eat("CONCURRENTLY");
        r.eat_if_exists();
        let index = r.name().unwrap_or_default();
        let i = Impact::new(Kind::DropIndex).destroys(format!(
            "drops index {index}: recreating it takes a full build"
        ));
        return if concurrently {
            i.lock(LockMode::ShareUpdateExclusive, &index, Held::Brief)
                .on_index()
                .no_transaction()
        } else {
            i.lock(LockMode::AccessExclusive, &index, Held::Brief)
                .on_index()
        };
    }
    let what = r
        .peek()
        .and_then(Tok::kw)
        .unwrap_or("object")
        .to_ascii_lowercase();
    r.at += 1;
    r.eat_if_exists();
    let name = r.name().unwrap_or_default();
    Impact::new(Kind::Drop)
        .lock(LockMode::AccessExclusive, &name, Held::Brief)
        .destroys(format!("drops {what} {name}"))
}

fn reindex(r: &mut Reader) -> Impact {
    let mut concurrently = r.options().iter().any(|o| o == "CONCURRENTLY");
    let target = r.peek().and_then(Tok::kw).unwrap_or("INDEX").to_owned();
    r.at += 1;
    concurrently |= r.eat("CONCURRENTLY");
    let name = r.name().unwrap_or_default();
    let whole = matches!(target.as_str(), "SCHEMA" | "DATABASE" | "SYSTEM");
    let mut i = Impact::new(Kind::Reindex);
    i = match target.as_str() {
        "TABLE" => i.work(Work::TableAndIndexes(name.clone())),
        "INDEX" => i.work(Work::Index(name.clone())),
        _ => i.work(Work::Database),
    };
    let mode = if concurrently {
        LockMode::ShareUpdateExclusive
    } else {
        // SHARE on the table, ACCESS EXCLUSIVE on the index itself: queries that would
        // use the index wait too.
        LockMode::Share
    };
    i = i.lock(mode, &name, Held::Scan);
    if target == "INDEX" {
        i = i.on_index();
    }
    if concurrently || whole {
        i = i.no_transaction();
    }
    i
}

fn alter(r: &mut Reader) -> Impact {
    let Some(what) = r.peek().and_then(Tok::kw).map(str::to_owned) else {
        return unknown();
    };
    r.at += 1;
    match what.as_str() {
        "SYSTEM" => alter_system(r),
        "TABLE" => alter_table(r),
        "INDEX" => {
            r.eat_if_exists();
            let index = r.name().unwrap_or_default();
            let items = r.items();
            let light = items.iter().all(|item| {
                let first = item.first();
                let reloptions = first.is_some_and(|t| t.is("SET") || t.is("RESET"))
                    && item.get(1).is_some_and(|t| t.is_punct("("));
                (reloptions && option_names(item).iter().all(|o| light_reloption(o)))
                    || first.is_some_and(|t| t.is("RENAME"))
            });
            let attach = items
                .first()
                .is_some_and(|i| i.first().is_some_and(|t| t.is("ATTACH")));
            let mode = if light || attach {
                LockMode::ShareUpdateExclusive
            } else {
                LockMode::AccessExclusive
            };
            Impact::new(Kind::AlterIndex)
                .lock(mode, &index, Held::Brief)
                .on_index()
        }
        "SEQUENCE" => {
            r.eat_if_exists();
            // SHARE ROW EXCLUSIVE on the sequence: nextval() waits for it, briefly; no
            // table is locked.
            Impact::new(Kind::AlterSequence)
        }
        "ROLE" | "USER" | "DATABASE" => Impact::new(Kind::RoleOrDatabase),
        "EXTENSION" => Impact::new(Kind::Extension),
        _ => unknown(),
    }
}

fn alter_system(r: &mut Reader) -> Impact {
    let reset = r.eat("RESET");
    if !reset {
        r.eat("SET");
    }
    let setting = match r.peek() {
        Some(Tok::Word { value, .. }) => value.clone(),
        _ => String::new(),
    };
    r.at += 1;
    let mut value = None;
    if !reset {
        if r.peek().is_some_and(|t| t.is_punct("=") || t.is("TO")) {
            r.at += 1;
        }
        value = match r.peek() {
            Some(Tok::Str(s) | Tok::Num(s)) => Some(s.clone()),
            Some(Tok::Word { value, .. }) => Some(value.clone()),
            _ => None,
        };
    }
    let off = value.as_deref().is_some_and(|v| {
        matches!(
            v.to_ascii_lowercase().as_str(),
            "off" | "false" | "0" | "no"
        )
    });
    let mut i = Impact::new(Kind::AlterSystem {
        setting: setting.clone(),
        value,
    })
    .no_transaction();
    if reset && setting == "all" {
        i = i.destroys("resets every setting changed with ALTER SYSTEM");
    } else if off && matches!(setting.as_str(), "fsync" | "full_page_writes") {
        i = i.destroys(format!(
            "turns {setting} off: a crash can corrupt the database"
        ));
    }
    i
}

/// The storage parameter names of `SET (a = 1, b)` / `RESET (a, b)`.
fn option_names(item: &[Tok]) -> Vec<String> {
    let mut names = Vec::new();
    let mut expect_name = false;
    let mut prefix = String::new();
    for t in item {
        if t.is_punct("(") || t.is_punct(",") {
            expect_name = true;
            prefix.clear();
        } else if expect_name {
            if let Tok::Word { value, .. } = t {
                if prefix.is_empty() && value == "toast" {
                    prefix = "toast.".to_owned();
                    continue;
                }
                names.push(format!("{prefix}{value}"));
                expect_name = false;
            } else if !t.is_punct(".") {
                expect_name = false;
            }
        }
    }
    names
}

/// One `ALTER TABLE` subcommand: its lock, how long it holds it, whether it rewrites the
/// table, and what it destroys.
fn alter_table_action(item: &[Tok], table: &str) -> (LockMode, Held, bool, Option<String>) {
    use LockMode::*;
    let has = |k: &str| item.iter().any(|t| t.is(k));
    let first = item.first().and_then(Tok::kw).unwrap_or("");
    let second = item.get(1);
    match first {
        "SET" | "RESET" if second.is_some_and(|t| t.is_punct("(")) => {
            if option_names(item).iter().all(|o| light_reloption(o)) {
                (ShareUpdateExclusive, Held::Brief, false, None)
            } else {
                (AccessExclusive, Held::Brief, false, None)
            }
        }
        "SET"
            if second.is_some_and(|t| {
                t.is("LOGGED") || t.is("UNLOGGED") || t.is("TABLESPACE") || t.is("ACCESS")
            }) =>
        {
            (AccessExclusive, Held::Rewrite, true, None)
        }
        "SET" if second.is_some_and(|t| t.is("WITHOUT")) => {
            (ShareUpdateExclusive, Held::Brief, false, None)
        }
        "CLUSTER" => (ShareUpdateExclusive, Held::Brief, false, None),
        "VALIDATE" => (ShareUpdateExclusive, Held::Scan, false, None),
        "ENABLE" | "DISABLE" if has("TRIGGER") => (ShareRowExclusive, Held::Brief, false, None),
        "ALTER" => {
            if has("TYPE") {
                (AccessExclusive, Held::Rewrite, true, None)
            } else if has("STATISTICS") {
                (ShareUpdateExclusive, Held::Brief, false, None)
            } else if has("SET") && has("NOT") && has("NULL") {
                (AccessExclusive, Held::Scan, false, None)
            } else {
                (AccessExclusive, Held::Brief, false, None)
            }
        }
        "ADD" => {
            let not_valid = item.windows(2).any(|w| w[0].is("NOT") && w[1].is("VALID"));
            if adds_a_filled_column(item) {
                (AccessExclusive, Held::Rewrite, true, None)
            } else if has("USING") && has("INDEX") {
                // PRIMARY KEY USING INDEX also sets the columns NOT NULL, which scans the
                // table when they are nullable.
                (AccessExclusive, Held::Scan, false, None)
            } else if has("FOREIGN") || has("REFERENCES") {
                let held = if not_valid { Held::Brief } else { Held::Scan };
                (ShareRowExclusive, held, false, None)
            } else if has("CHECK") || has("UNIQUE") || has("PRIMARY") || has("EXCLUDE") {
                let held = if not_valid { Held::Brief } else { Held::Scan };
                (AccessExclusive, held, false, None)
            } else if adds_a_filled_column(item) {
                (AccessExclusive, Held::Rewrite, true, None)
            } else {
                (AccessExclusive, Held::Brief, false, None)
            }
        }
        "ATTACH" => (ShareUpdateExclusive, Held::Scan, false, None),
        "DETACH" if has("CONCURRENTLY") => (ShareUpdateExclusive, Held::Brief, false, None),
        "DROP" => {
            let (what, at) = match second.and_then(Tok::kw) {
                Some("CONSTRAINT") => ("constraint", 2),
                Some("COLUMN") => ("column", 2),
                _ => ("column", 1),
            };
            let mut at = at;
            if item.get(at).is_some_and(|t| t.is("IF")) {
                at += 2;
            }
            let name = match item.get(at) {
                Some(Tok::Word { value, .. }) => super::quote_ident(value),
                _ => String::new(),
            };
            let why = if what == "column" {
                format!("drops column {name} of {table}: its data is lost")
            } else {
                format!("drops constraint {name} of {table}")
            };
            (AccessExclusive, Held::Brief, false, Some(why))
        }
        // The documentation's rule: ACCESS EXCLUSIVE unless noted otherwise.
        _ => (AccessExclusive, Held::Brief, false, None),
    }
}

/// `ADD COLUMN` whose new rows each get a value computed at the change (an identity or
/// serial column, a stored generated column, a volatile default): PostgreSQL rewrites the
/// table to fill it. A constant default (11+) does not.
fn adds_a_filled_column(item: &[Tok]) -> bool {
    let is_column = !item.get(1).is_some_and(|t| {
        t.is("CONSTRAINT")
            || t.is("PRIMARY")
            || t.is("UNIQUE")
            || t.is("CHECK")
            || t.is("FOREIGN")
            || t.is("EXCLUDE")
    });
    let has = |k: &str| item.iter().any(|t| t.is(k));
    let volatile_default = item.windows(2).any(|w| {
        w[0].is("DEFAULT")
            && matches!(&w[1], Tok::Word { value, .. } if matches!(value.as_str(),
                "random" | "gen_random_uuid" | "uuid_generate_v4" | "clock_timestamp" | "nextval" | "timeofday"))
    });
    is_column
        && (has("IDENTITY")
            || has("SERIAL")
            || has("BIGSERIAL")
            || has("SMALLSERIAL")
            || has("STORED")
            || volatile_default)
}

fn alter_table(r: &mut Reader) -> Impact {
    r.eat_if_exists();
    r.eat("ONLY");
    let table = r.name().unwrap_or_default();
    if r.peek().is_some_and(|t| t.is_punct("*")) {
        r.at += 1;
    }
    let mut i = Impact::new(Kind::AlterTable);
    let mut strongest: Option<(LockMode, Held)> = None;
    let mut destroys = Vec::new();
    for item in r.items() {
        let (mode, held, rewrites, why) = alter_table_action(item, &table);
        strongest = Some(match strongest {
            Some((m, h)) => (m.max(mode), h.max(held)),
            None => (mode, held),
        });
        i.rewrites_table |= rewrites;
        destroys.extend(why);
    }
    let (mode, held) = strongest.unwrap_or((LockMode::AccessExclusive, Held::Brief));
    i = i.lock(mode, &table, held);
    if i.rewrites_table {
        i = i.work(Work::TableAndIndexes(table));
    } else if held == Held::Scan {
        i = i.work(Work::Table(table));
    }
    if !destroys.is_empty() {
        i = i.destroys(destroys.join("; "));
    }
    i
}

fn vacuum(r: &mut Reader) -> Impact {
    let mut options = r.options();
    while let Some(k) = r.peek().and_then(Tok::kw) {
        if matches!(k, "FULL" | "FREEZE" | "VERBOSE" | "ANALYZE" | "ANALYSE") {
            options.push(k.to_owned());
            r.at += 1;
        } else {
            break;
        }
    }
    let full = options.iter().any(|o| o == "FULL");
    let tables: Vec<String> = r
        .items()
        .iter()
        .filter_map(|item| Reader { toks: item, at: 0 }.name())
        .collect();
    let mut i = Impact::new(Kind::Vacuum).no_transaction();
    let (mode, held) = if full {
        i.rewrites_table = true;
        (LockMode::AccessExclusive, Held::Rewrite)
    } else {
        (LockMode::ShareUpdateExclusive, Held::Scan)
    };
    match tables.first() {
        Some(first) => {
            i = i.lock(mode, first, held);
            for t in tables {
                i = i.work(Work::TableAndIndexes(t));
            }
        }
        None => {
            // Every table of the database, one after the other.
            i = i
                .lock(mode, "each table in turn", held)
                .work(Work::Database);
        }
    }
    i
}

/// `SELECT` of an administration function, or a query to look at.
fn select(toks: &[Tok]) -> Impact {
    let called = |f: &str| {
        toks.windows(2)
            .any(|w| matches!(&w[0], Tok::Word { value, .. } if value == f) && w[1].is_punct("("))
    };
    let argument = |f: &str| {
        toks.windows(3).find_map(|w| match (&w[0], &w[2]) {
            (Tok::Word { value, .. }, Tok::Num(n) | Tok::Str(n))
                if value == f && w[1].is_punct("(") =>
            {
                Some(n.clone())
            }
            _ => None,
        })
    };
    if called("pg_terminate_backend") {
        let pid = argument("pg_terminate_backend").unwrap_or_default();
        return Impact::new(Kind::EndSession).destroys(format!(
            "ends session {pid}: its open transaction rolls back, and by the time this runs the pid may be another session's"
        ));
    }
    if called("pg_cancel_backend") {
        let pid = argument("pg_cancel_backend").unwrap_or_default();
        return Impact::new(Kind::EndSession).destroys(format!(
            "cancels the statement session {pid} runs; by the time this runs the pid may be another session's"
        ));
    }
    if called("pg_drop_replication_slot") {
        let slot = argument("pg_drop_replication_slot").unwrap_or_default();
        return Impact::new(Kind::DropSlot).destroys(format!(
            "drops replication slot '{slot}': its consumer must be rebuilt from a new copy"
        ));
    }
    if [
        "pg_stat_reset",
        "pg_stat_statements_reset",
        "pg_stat_reset_shared",
    ]
    .iter()
    .any(|f| called(f))
    {
        return Impact::new(Kind::Unknown)
            .destroys("resets statistics counters: the history the rules judge is lost");
    }
    if called("pg_reload_conf") {
        return Impact::new(Kind::ReloadConf);
    }
    let changes_state = toks.iter().any(|t| match t {
        Tok::Word { value, .. } => {
            value.starts_with("pg_wal_replay_")
                || value.starts_with("pg_create_")
                || value.starts_with("pg_switch_")
                || value.starts_with("pg_promote")
                || value == "setval"
                || value == "nextval"
        }
        _ => false,
    });
    if changes_state {
        return Impact::new(Kind::Unknown)
            .skip("changes server state: check the situation before running it");
    }
    Impact::new(Kind::Query).skip("a query to look at, not a change")
}

#[cfg(test)]
mod tests;
