//! Normalized text for display, from sqlparser's PostgreSQL tokenizer.
//!
//! This runs once per *distinct* fingerprint (not per statement), so it may allocate. Its
//! tokens go through the same [`Normalizer`] as the byte lexer's, so the text it renders
//! fingerprints exactly like the statements it stands for (tested on a corpus). When
//! sqlparser's tokenizer rejects a statement (PostgreSQL syntax it does not know), the byte
//! lexer renders it instead.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

use super::lexer::{spanned, Lexer, Tok};
use super::normalizer::{is_keyword, Normalizer};
use super::ordinal::Ordinals;

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
            Token::Number(num, _) => n.push(Tok::Number(num.as_bytes())),
            Token::SingleQuotedString(_)
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

/// The statement as written with its constants replaced by `$n` placeholders, as
/// pg_stat_statements replaces them: numbered after the highest `$n` already in the text,
/// a unary minus taken into its number (`-5` is one constant), a column position
/// (`ORDER BY 2`) left alone. Everything else (case, spacing, comments, casts) is the
/// statement's own, and a pg_stat_statements text (constants already `$n`) comes back
/// unchanged.
pub(crate) fn with_placeholders(sql: &str) -> String {
    let bytes = sql.as_bytes();
    let tokens: Vec<(std::ops::Range<usize>, Tok<'_>)> = spanned(bytes).collect();
    let param = |r: &std::ops::Range<usize>| -> Option<u32> {
        let t = &sql[r.clone()];
        t.strip_prefix('$').and_then(|n| n.parse().ok())
    };
    let mut next = tokens
        .iter()
        .filter_map(|(r, t)| matches!(t, Tok::Literal).then(|| param(r)).flatten())
        .max()
        .unwrap_or(0);
    let mut ordinals = Ordinals::default();
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0;
    for (i, (range, tok)) in tokens.iter().enumerate() {
        let ordinal = ordinals.push(tok);
        let constant = match tok {
            Tok::Number(_) => !ordinal,
            Tok::Literal => param(range).is_none(),
            _ => false,
        };
        if !constant {
            continue;
        }
        // A minus that is not binary belongs to its number (PostgreSQL's grammar folds it).
        let mut start = range.start;
        if i >= 1 && matches!(tokens[i - 1].1, Tok::Op(b"-")) && matches!(tok, Tok::Number(_)) {
            let unary = match i.checked_sub(2).map(|j| &tokens[j].1) {
                None => true,
                Some(Tok::Word(w)) => is_keyword(w),
                Some(Tok::Punct(p)) => !matches!(p, b')' | b']'),
                Some(Tok::Op(_)) => true,
                Some(_) => false,
            };
            if unary {
                start = tokens[i - 1].0.start;
            }
        }
        next += 1;
        out.push_str(&sql[copied..start]);
        out.push_str(&format!("${next}"));
        copied = range.end;
    }
    out.push_str(&sql[copied..]);
    out.trim().trim_end_matches(';').trim_end().to_owned()
}
