//! A fix's SQL text as pieces: its comment lines and its statements, each statement with
//! its own text (through its `;`), the comment written after it on the same line, and its
//! significant tokens for [`super::impact`] to classify. sqlparser's PostgreSQL tokenizer
//! does the lexing (strings, quoted names, dollar quotes, comments), so a `;` or `--` inside
//! a literal never splits a statement.

use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::tokenizer::{Location, Token, Tokenizer, Whitespace};

/// A significant token of a statement (no whitespace, no comments).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A name or key word: `upper` is the unquoted word in upper case (empty for a
    /// quoted name), `value` as PostgreSQL reads it (folded to lower case unless quoted).
    Word { upper: String, value: String },
    /// A string literal's value.
    Str(String),
    /// A number.
    Num(String),
    /// Any other token, as written (`(`, `,`, `=`, `.`, `<`, …).
    Punct(String),
}

impl Tok {
    /// The unquoted key word, upper case.
    pub(crate) fn kw(&self) -> Option<&str> {
        match self {
            Tok::Word { upper, .. } if !upper.is_empty() => Some(upper),
            _ => None,
        }
    }

    pub(crate) fn is(&self, keyword: &str) -> bool {
        self.kw() == Some(keyword)
    }

    pub(crate) fn is_punct(&self, p: &str) -> bool {
        matches!(self, Tok::Punct(x) if x == p)
    }
}

/// One statement of a fix, as written.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawStatement {
    /// The statement's text, through its `;` (one is added when the text ends without).
    pub(crate) sql: String,
    /// The comment after it on the same line (`-- if paused`), without `--`.
    pub(crate) note: Option<String>,
    /// Its significant tokens.
    pub(crate) tokens: Vec<Tok>,
}

/// A piece of a fix's SQL text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawPiece {
    /// A comment on its own line, without `--` and surrounding blanks.
    Comment(String),
    /// A statement.
    Statement(RawStatement),
}

/// Splits `sql` into comments and statements; `None` when sqlparser cannot tokenize it
/// (an unterminated string or quoted name).
pub(crate) fn split(sql: &str) -> Option<Vec<RawPiece>> {
    let dialect = PostgreSqlDialect {};
    let tokens = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .ok()?;
    let offsets = LineOffsets::new(sql);
    let mut pieces = Vec::new();
    // The statement being read: where it starts, its tokens.
    let mut current: Option<(usize, Vec<Tok>)> = None;
    // The line of the last `;`, for a comment written after it.
    let mut last_end_line: Option<u64> = None;
    let mut end_of_last = 0usize;
    for t in &tokens {
        let start = offsets.byte(t.span.start);
        let end = offsets.byte(t.span.end);
        match &t.token {
            Token::EOF => {}
            Token::Whitespace(Whitespace::Space | Whitespace::Tab | Whitespace::Newline) => {}
            Token::Whitespace(Whitespace::SingleLineComment { comment, .. }) => {
                if current.is_some() {
                    continue; // a comment inside a statement stays in its text
                }
                let text = comment.trim().to_owned();
                match pieces.last_mut() {
                    Some(RawPiece::Statement(s))
                        if last_end_line == Some(t.span.start.line) && s.note.is_none() =>
                    {
                        s.note = Some(text);
                    }
                    _ => pieces.push(RawPiece::Comment(text)),
                }
            }
            Token::Whitespace(Whitespace::MultiLineComment(comment)) => {
                if current.is_none() {
                    for line in comment.lines().map(str::trim).filter(|l| !l.is_empty()) {
                        pieces.push(RawPiece::Comment(line.to_owned()));
                    }
                }
            }
            Token::SemiColon => {
                let (begin, toks) = current.take().unwrap_or((start, Vec::new()));
                if !toks.is_empty() {
                    pieces.push(RawPiece::Statement(RawStatement {
                        sql: sql[begin..end].trim().to_owned(),
                        note: None,
                        tokens: toks,
                    }));
                    last_end_line = Some(t.span.end.line);
                }
                end_of_last = end;
            }
            other => {
                let tok = significant(other);
                match &mut current {
                    Some((_, toks)) => toks.push(tok),
                    None => current = Some((start, vec![tok])),
                }
            }
        }
    }
    if let Some((begin, toks)) = current {
        let text = sql[begin.max(end_of_last)..].trim();
        pieces.push(RawPiece::Statement(RawStatement {
            sql: format!("{text};"),
            note: None,
            tokens: toks,
        }));
    }
    Some(pieces)
}

fn significant(token: &Token) -> Tok {
    match token {
        Token::Word(w) => match w.quote_style {
            Some(_) => Tok::Word {
                upper: String::new(),
                value: w.value.clone(),
            },
            None => Tok::Word {
                upper: w.value.to_ascii_uppercase(),
                value: w.value.to_lowercase(),
            },
        },
        Token::SingleQuotedString(s)
        | Token::EscapedStringLiteral(s)
        | Token::NationalStringLiteral(s) => Tok::Str(s.clone()),
        Token::DollarQuotedString(s) => Tok::Str(s.value.clone()),
        Token::Number(n, _) => Tok::Num(n.clone()),
        other => Tok::Punct(other.to_string()),
    }
}

/// Byte offsets of sqlparser's locations (1-based lines, 1-based columns counted in
/// characters).
struct LineOffsets<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineOffsets<'a> {
    fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineOffsets { text, starts }
    }

    fn byte(&self, at: Location) -> usize {
        let line = usize::try_from(at.line.saturating_sub(1)).unwrap_or(usize::MAX);
        let Some(&start) = self.starts.get(line) else {
            return self.text.len();
        };
        let column = usize::try_from(at.column.saturating_sub(1)).unwrap_or(usize::MAX);
        self.text[start..]
            .char_indices()
            .nth(column)
            .map_or(self.text.len(), |(i, _)| start + i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statements(sql: &str) -> Vec<(String, Option<String>)> {
        split(sql)
            .expect("tokenizes")
            .into_iter()
            .filter_map(|p| match p {
                RawPiece::Statement(s) => Some((s.sql, s.note)),
                RawPiece::Comment(_) => None,
            })
            .collect()
    }

    #[test]
    fn splits_on_semicolons_outside_literals_and_keeps_notes() {
        let sql = "-- first:\nSELECT ';--' AS x;  -- a note\nALTER SYSTEM SET work_mem = 'a;b';\n-- then restart PostgreSQL\nROLLBACK PREPARED 'it''s';  -- or: COMMIT PREPARED 'it''s';";
        assert_eq!(
            statements(sql),
            vec![
                ("SELECT ';--' AS x;".to_owned(), Some("a note".to_owned())),
                ("ALTER SYSTEM SET work_mem = 'a;b';".to_owned(), None),
                (
                    "ROLLBACK PREPARED 'it''s';".to_owned(),
                    Some("or: COMMIT PREPARED 'it''s';".to_owned())
                ),
            ]
        );
        let comments: Vec<_> = split(sql)
            .expect("tokenizes")
            .into_iter()
            .filter_map(|p| match p {
                RawPiece::Comment(c) => Some(c),
                RawPiece::Statement(_) => None,
            })
            .collect();
        assert_eq!(comments, vec!["first:", "then restart PostgreSQL"]);
    }

    #[test]
    fn a_statement_over_several_lines_and_one_without_semicolon() {
        let sql = "SELECT pid FROM pg_stat_activity\nWHERE state = 'idle' ORDER BY 1;\nVACUUM (ANALYZE) \"Odd\".t";
        assert_eq!(
            statements(sql),
            vec![
                (
                    "SELECT pid FROM pg_stat_activity\nWHERE state = 'idle' ORDER BY 1;".to_owned(),
                    None
                ),
                ("VACUUM (ANALYZE) \"Odd\".t;".to_owned(), None),
            ]
        );
    }

    #[test]
    fn non_ascii_text_keeps_byte_offsets_right() {
        let sql = "-- für\nCREATE INDEX CONCURRENTLY ON t (…);\nSELECT 'é';";
        assert_eq!(
            statements(sql),
            vec![
                ("CREATE INDEX CONCURRENTLY ON t (…);".to_owned(), None),
                ("SELECT 'é';".to_owned(), None),
            ]
        );
    }

    #[test]
    fn an_unterminated_string_is_not_split() {
        assert_eq!(split("SELECT 'oops;"), None);
    }
}
