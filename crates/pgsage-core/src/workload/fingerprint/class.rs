//! What a statement does, from its leading keyword (and a few words after it), during
//! the fingerprint pass.

use serde::{Deserialize, Serialize};

use super::lexer::Tok;

/// The kind of a statement, for the read/write mix of a workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatementKind {
    /// `SELECT`, `VALUES`, `TABLE`, `WITH … SELECT`, `COPY … TO`.
    Read,
    /// `INSERT`, `UPDATE`, `DELETE`, `MERGE`, `COPY … FROM`, `TRUNCATE`, a `WITH` holding one.
    Write,
    /// `CREATE`, `ALTER`, `DROP`, `GRANT`, `VACUUM`, `ANALYZE`, `REINDEX`, …
    Ddl,
    /// `BEGIN`, `COMMIT`, `ROLLBACK`, `SAVEPOINT`, …
    Transaction,
    /// `SET`, `SHOW`, `RESET`, `DISCARD`, `LISTEN`, `DEALLOCATE`, cursors, `LOCK`, …
    Utility,
    /// `CALL`, `DO`, `EXECUTE`, `EXPLAIN` and anything unrecognized.
    Other,
}

impl StatementKind {
    /// `read`, `write`, …
    pub fn as_str(self) -> &'static str {
        match self {
            StatementKind::Read => "read",
            StatementKind::Write => "write",
            StatementKind::Ddl => "ddl",
            StatementKind::Transaction => "transaction",
            StatementKind::Utility => "utility",
            StatementKind::Other => "other",
        }
    }
}

/// Follows the first words of a statement.
#[derive(Debug, Default)]
pub(crate) struct Classifier {
    first: Option<StatementKind>,
    /// `WITH`: a data-modifying word anywhere makes it a write.
    with: bool,
    /// `COPY`: `FROM` or `TO` at depth 0 decides.
    copy: bool,
    copy_from: bool,
    depth: i32,
    ends: bool,
    words: u32,
    data_modifying: bool,
}

fn eq(w: &[u8], k: &str) -> bool {
    w.eq_ignore_ascii_case(k.as_bytes())
}

impl Classifier {
    pub(crate) fn push(&mut self, t: Tok<'_>) {
        match t {
            Tok::Punct(b'(') => self.depth += 1,
            Tok::Punct(b')') => self.depth -= 1,
            Tok::Word(w) => {
                self.words += 1;
                if self.first.is_none() {
                    self.first = Some(first_word(w));
                    self.with = eq(w, "with");
                    self.copy = eq(w, "copy");
                    self.ends =
                        eq(w, "commit") || eq(w, "end") || eq(w, "rollback") || eq(w, "abort");
                    return;
                }
                if self.with
                    && (eq(w, "insert") || eq(w, "update") || eq(w, "delete") || eq(w, "merge"))
                {
                    self.data_modifying = true;
                }
                if self.copy && self.depth == 0 && eq(w, "from") {
                    self.copy_from = true;
                }
                // ROLLBACK TO SAVEPOINT and ROLLBACK PREPARED do not end the transaction
                // in progress; COMMIT PREPARED ends another one.
                if self.ends && self.words == 2 && (eq(w, "to") || eq(w, "prepared")) {
                    self.ends = false;
                }
            }
            _ => {}
        }
    }

    /// The kind, whether it is `COPY … FROM`, and whether it ends a transaction.
    pub(crate) fn finish(self) -> (StatementKind, bool, bool) {
        let mut kind = self.first.unwrap_or(StatementKind::Other);
        if self.with && self.data_modifying {
            kind = StatementKind::Write;
        }
        if self.copy {
            kind = if self.copy_from {
                StatementKind::Write
            } else {
                StatementKind::Read
            };
        }
        (kind, self.copy && self.copy_from, self.ends)
    }
}

fn first_word(w: &[u8]) -> StatementKind {
    let lower = |k: &[&str]| k.iter().any(|k| eq(w, k));
    if lower(&["select", "values", "table", "with", "copy", "fetch"]) {
        StatementKind::Read
    } else if lower(&["insert", "update", "delete", "merge", "truncate"]) {
        StatementKind::Write
    } else if lower(&[
        "create", "alter", "drop", "grant", "revoke", "comment", "vacuum", "analyze", "reindex",
        "cluster", "refresh", "security", "import",
    ]) {
        StatementKind::Ddl
    } else if lower(&[
        "begin",
        "start",
        "commit",
        "end",
        "rollback",
        "savepoint",
        "release",
        "abort",
    ]) {
        StatementKind::Transaction
    } else if lower(&[
        "set",
        "show",
        "reset",
        "discard",
        "listen",
        "unlisten",
        "notify",
        "deallocate",
        "prepare",
        "declare",
        "close",
        "move",
        "lock",
        "checkpoint",
        "load",
    ]) {
        StatementKind::Utility
    } else {
        StatementKind::Other
    }
}
