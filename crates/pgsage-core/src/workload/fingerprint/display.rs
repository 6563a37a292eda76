//! Normalized text for display, from sqlparser's PostgreSQL tokenizer.
//!
//! This runs once per *distinct* fingerprint (not per statement), so it may allocate. Its
//! tokens go through the same [`Normalizer`] as the byte lexer's, so the text it renders
//! fingerprints exactly like the statements it stands for (tested on a corpus). When
//! sqlparser's tokenizer rejects a statement (PostgreSQL syntax it does not know), the byte
//! lexer renders it instead.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

use super::lexer::{Lexer, Tok};
use super::normalizer::Normalizer;

/// The normalized text of `sql` rendered from sqlparser's tokens, and its fingerprint;
/// `None` when sqlparser cannot tokenize it.
pub(crate) fn normalize_sqlparser(sql: &str) -> Option<(String, u64)> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql).tokenize().ok()?;
    let mut out = String::with_capacity(sql.len());
    let mut n = Normalizer::new(Some(&mut out));
    let mut scratch = String::new();
    for t in &tokens {
        match t {
            Token::EOF | Token::Whitespace(_) => {}
            Token::Word(w) if w.quote_style == Some('"') => n.push(Tok::Quoted(w.value.as_bytes())),
            Token::Word(w) if w.quote_style.is_some() => n.push(Tok::Literal),
            Token::Word(w)
                if w.value.eq_ignore_ascii_case("true")
                    || w.value.eq_ignore_ascii_case("false") =>
            {
                n.push(Tok::Literal)
            }
            Token::Word(w) => n.push(Tok::Word(w.value.as_bytes())),
            Token::Number(..)
            | Token::SingleQuotedString(_)
            | Token::DoubleQuotedString(_)
            | Token::DollarQuotedString(_)
            | Token::SingleQuotedByteStringLiteral(_)
            | Token::DoubleQuotedByteStringLiteral(_)
            | Token::NationalStringLiteral(_)
            | Token::EscapedStringLiteral(_)
            | Token::UnicodeStringLiteral(_)
            | Token::HexStringLiteral(_)
            | Token::Placeholder(_) => n.push(Tok::Literal),
            Token::Comma => n.push(Tok::Punct(b',')),
            Token::LParen => n.push(Tok::Punct(b'(')),
            Token::RParen => n.push(Tok::Punct(b')')),
            Token::LBracket => n.push(Tok::Punct(b'[')),
            Token::RBracket => n.push(Tok::Punct(b']')),
            Token::SemiColon => n.push(Tok::Punct(b';')),
            Token::Period => n.push(Tok::Punct(b'.')),
            Token::Colon => n.push(Tok::Punct(b':')),
            Token::DoubleColon => n.push(Tok::Op(b"::")),
            other => {
                scratch.clear();
                scratch.push_str(&other.to_string());
                n.push(Tok::Op(scratch.as_bytes()));
            }
        }
    }
    let (hash, _) = n.finish();
    Some((out, hash))
}

/// The normalized text of `sql` rendered from the byte lexer's tokens.
pub(crate) fn normalize_lexer(sql: &[u8]) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut n = Normalizer::new(Some(&mut out));
    for t in Lexer::new(sql) {
        n.push(t);
    }
    n.finish();
    out
}
