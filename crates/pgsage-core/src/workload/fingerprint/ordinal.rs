//! Column positions in `ORDER BY` and `GROUP BY` (`ORDER BY 2 DESC`, `GROUP BY 1, 2`).
//!
//! PostgreSQL resolves a bare number there to a column of the select list during parse
//! analysis, so it is not a constant: pg_stat_statements keeps it as written (`ORDER BY
//! 2`, never `ORDER BY $1`), and `ORDER BY 2` and `ORDER BY 3` are different queries with
//! different query ids. The fingerprint and the text shown follow the same rule.

use super::lexer::Tok;

/// Follows the clauses of a token stream and tells which numbers are column positions: a
/// number that starts an item of an `ORDER BY` or `GROUP BY` list.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Ordinals {
    /// Bracket depth.
    depth: u32,
    /// The depth of the `ORDER BY`/`GROUP BY` list being read, if any.
    clause: Option<u32>,
    /// The last token was `ORDER` or `GROUP`.
    after_order_group: bool,
    /// The next token starts an item of the list.
    item_start: bool,
}

/// Words that end an `ORDER BY`/`GROUP BY` list at its own depth.
const CLAUSE_ENDS: &[&[u8]] = &[
    b"limit",
    b"offset",
    b"fetch",
    b"for",
    b"having",
    b"window",
    b"union",
    b"except",
    b"intersect",
    b"returning",
];

impl Ordinals {
    /// Feeds the next token; true when it is a number that is a column position.
    pub(crate) fn push(&mut self, tok: &Tok<'_>) -> bool {
        let item_start = std::mem::take(&mut self.item_start);
        let after_order_group = std::mem::take(&mut self.after_order_group);
        match tok {
            Tok::Number(_) => return item_start && self.clause.is_some(),
            Tok::Word(w) => {
                if w.eq_ignore_ascii_case(b"by") && after_order_group {
                    self.clause = Some(self.depth);
                    self.item_start = true;
                } else if self.clause == Some(self.depth)
                    && CLAUSE_ENDS.iter().any(|k| w.eq_ignore_ascii_case(k))
                {
                    self.clause = None;
                }
                self.after_order_group =
                    w.eq_ignore_ascii_case(b"order") || w.eq_ignore_ascii_case(b"group");
            }
            Tok::Punct(b'(' | b'[') => self.depth += 1,
            Tok::Punct(b')' | b']') => {
                if self.clause == Some(self.depth) {
                    self.clause = None;
                }
                self.depth = self.depth.saturating_sub(1);
                if self.clause.is_some_and(|d| d > self.depth) {
                    self.clause = None;
                }
            }
            Tok::Punct(b',') => self.item_start = self.clause == Some(self.depth),
            Tok::Punct(b';') => *self = Ordinals::default(),
            _ => {}
        }
        false
    }
}
