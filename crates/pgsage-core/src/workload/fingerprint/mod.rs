//! Statement fingerprints: the same query with different constants, spacing, case or
//! comments gets the same 64-bit [`Fingerprint`], and a log statement gets the fingerprint
//! of pg_stat_statements' normalized text of the same query (`$n` in place of constants),
//! so the two captures can be compared.
//!
//! Two tokenizers, one normalizer:
//! - the hot path ([`fingerprint`], [`analyze`]) is a byte lexer written for PostgreSQL's
//!   lexical rules: no allocation, no per-token `String`, `memchr` for strings and
//!   comments. It runs once per logged statement (millions per second per core);
//! - the display text ([`normalize`]) comes from sqlparser's PostgreSQL tokenizer, once
//!   per *distinct* fingerprint. Both feed the same normalizer, and the tests check on a
//!   corpus that the sqlparser-rendered text fingerprints like the original.
//!
//! What is normalized is documented on the normalizer: constants (numbers, strings of
//! every kind including `E''` and dollar quotes, `TRUE`/`FALSE`, `NULL` outside
//! `IS [NOT] NULL`) and `$n` become placeholders, `IN (…)`, `ARRAY[…]` and `VALUES` lists
//! collapse to their first element, whitespace, comments, case and trailing semicolons
//! are ignored. See `docs/workload.md`.

mod class;
mod display;
pub(crate) mod lexer;
mod normalizer;
mod ordinal;

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

pub use class::StatementKind;

/// A statement's 64-bit fingerprint, shown and serialized as 16 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fingerprint(pub u64);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// Text that is not a [`Fingerprint`] (16 hex digits at most).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid fingerprint `{text}`: {source}")]
pub struct FingerprintError {
    /// The text.
    pub text: String,
    /// Why it is not a hexadecimal u64.
    pub source: std::num::ParseIntError,
}

impl std::str::FromStr for Fingerprint {
    type Err = FingerprintError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        u64::from_str_radix(s, 16)
            .map(Fingerprint)
            .map_err(|source| FingerprintError {
                text: s.to_owned(),
                source,
            })
    }
}

impl Serialize for Fingerprint {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Fingerprint {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = std::borrow::Cow::<str>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// What one pass over a statement tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Analysis {
    /// The fingerprint.
    pub fingerprint: Fingerprint,
    /// Read, write, DDL, transaction control, …
    pub kind: StatementKind,
    /// A bulk load: `COPY … FROM` or an `INSERT` with a multi-row `VALUES` list.
    pub bulk: bool,
    /// `COMMIT`, `END`, `ROLLBACK` (a transaction ends; `ROLLBACK TO` does not count).
    pub ends_transaction: bool,
}

/// The fingerprint of a statement.
pub fn fingerprint(sql: &str) -> Fingerprint {
    fingerprint_bytes(sql.as_bytes())
}

/// The fingerprint of a statement given as bytes (invalid UTF-8 is fine).
pub fn fingerprint_bytes(sql: &[u8]) -> Fingerprint {
    let mut n = normalizer::Normalizer::new(None);
    for t in lexer::Lexer::new(sql) {
        n.push(t);
    }
    Fingerprint(n.finish().0)
}

/// The fingerprint and the kind of a statement, in one pass.
pub fn analyze(sql: &str) -> Analysis {
    analyze_bytes(sql.as_bytes())
}

/// [`analyze`] over bytes.
pub fn analyze_bytes(sql: &[u8]) -> Analysis {
    let mut n = normalizer::Normalizer::new(None);
    let mut c = class::Classifier::default();
    for t in lexer::Lexer::new(sql) {
        c.push(t);
        n.push(t);
    }
    let (hash, multi_row) = n.finish();
    let (kind, copy_in, ends_transaction) = c.finish();
    Analysis {
        fingerprint: Fingerprint(hash),
        kind,
        bulk: copy_in || (multi_row && kind == StatementKind::Write),
        ends_transaction,
    }
}

/// The normalized text of a statement: keywords in upper case, single spaces,
/// `$1, $2, …` for constants, collapsed lists shown as `IN ($1 /*, ... */)`. Its
/// fingerprint is the statement's.
pub fn normalize(sql: &str) -> String {
    match display::normalize_sqlparser(sql) {
        Some((text, hash)) if hash == fingerprint(sql).0 => text,
        // sqlparser could not tokenize it, or split an operator differently from
        // PostgreSQL: the byte lexer's rendering is always consistent.
        _ => display::normalize_lexer(sql.as_bytes()),
    }
}

/// The text shown for a statement (`pgsage workload`, query findings): the statement as
/// pg_stat_statements or the server log has it, with its constants replaced by `$n`
/// placeholders as pg_stat_statements does, and nothing else changed: never re-printed
/// (identifiers keep their case, `ORDER BY 2` stays). Its fingerprint is the statement's.
pub fn shown_text(sql: &str) -> String {
    display::with_placeholders(sql)
}

#[cfg(test)]
mod tests;
