//! A byte-level SQL lexer following PostgreSQL's lexical rules (scan.l), for the hot path:
//! no allocation, borrowed slices, whitespace and comments skipped, every constant and
//! `$n` parameter reported as one [`Tok::Literal`].
//!
//! It never fails: unterminated strings, quoted identifiers and comments run to the end of
//! the input, and any byte it does not know is an operator of its own. Bytes ≥ 0x80 are
//! identifier characters (as in PostgreSQL), so invalid UTF-8 lexes too.

/// One token, borrowing from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok<'a> {
    /// An unquoted identifier or keyword, as written (case-folded when hashed).
    Word(&'a [u8]),
    /// A double-quoted identifier's content, as written (doubled quotes kept).
    Quoted(&'a [u8]),
    /// A constant (string of any kind, boolean, `NULL` outside `IS [NOT] NULL`) or a `$n`
    /// parameter.
    Literal,
    /// A numeric constant, as written: a constant, except where it is a column position
    /// (`ORDER BY 2`, see [`super::ordinal`]).
    Number(&'a [u8]),
    /// An operator: a run of `+-*/<>=~!@#%^&|`?` per PostgreSQL's rules, or `::`.
    Op(&'a [u8]),
    /// `( ) [ ] , ; . :`.
    Punct(u8),
}

/// The tokens of a statement with their byte ranges in it.
pub(crate) fn spanned(s: &[u8]) -> impl Iterator<Item = (std::ops::Range<usize>, Tok<'_>)> {
    let mut lexer = Lexer::new(s);
    std::iter::from_fn(move || {
        lexer.skip_blank();
        let start = lexer.i;
        let tok = lexer.next()?;
        Some((start..lexer.i, tok))
    })
}

/// Iterator over the tokens of a statement.
pub(crate) struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
}

const OP_CHARS: &[u8] = b"+-*/<>=~!@#%^&|`?";

fn is_op_char(b: u8) -> bool {
    OP_CHARS.contains(&b)
}

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b >= 0x80
}

fn is_ident_cont(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b >= 0x80
}

impl<'a> Lexer<'a> {
    /// A lexer over `s`.
    pub(crate) fn new(s: &'a [u8]) -> Self {
        Lexer { s, i: 0 }
    }

    fn peek(&self, k: usize) -> u8 {
        self.s.get(self.i + k).copied().unwrap_or(0)
    }

    /// Skips whitespace and comments (`--` to end of line, nested `/* */`).
    fn skip_blank(&mut self) {
        let s = self.s;
        while self.i < s.len() {
            let b = s[self.i];
            if b.is_ascii_whitespace() {
                self.i += 1;
            } else if b == b'-' && self.peek(1) == b'-' {
                self.i = match memchr::memchr(b'\n', &s[self.i..]) {
                    Some(n) => self.i + n + 1,
                    None => s.len(),
                };
            } else if b == b'/' && self.peek(1) == b'*' {
                self.skip_block_comment();
            } else {
                break;
            }
        }
    }

    fn skip_block_comment(&mut self) {
        let s = self.s;
        let mut depth = 0usize;
        while self.i < s.len() {
            if s[self.i] == b'/' && self.peek(1) == b'*' {
                depth += 1;
                self.i += 2;
            } else if s[self.i] == b'*' && self.peek(1) == b'/' {
                depth -= 1;
                self.i += 2;
                if depth == 0 {
                    return;
                }
            } else {
                self.i += 1;
            }
        }
    }

    /// A `'…'` string starting at the quote; `backslash` for `E'…'` escapes. Adjacent
    /// strings separated by a newline are one constant in SQL; the normalizer merges them.
    fn string(&mut self, backslash: bool) {
        let s = self.s;
        self.i += 1;
        while self.i < s.len() {
            match memchr::memchr2(b'\'', b'\\', &s[self.i..]) {
                None => {
                    self.i = s.len();
                    return;
                }
                Some(n) => {
                    self.i += n;
                    if s[self.i] == b'\\' {
                        self.i += if backslash { 2 } else { 1 };
                    } else if self.peek(1) == b'\'' {
                        self.i += 2;
                    } else {
                        self.i += 1;
                        return;
                    }
                }
            }
        }
        self.i = self.i.min(s.len());
    }

    /// A `$tag$…$tag$` string if one starts here (at `$`): returns whether it did.
    fn dollar_quote(&mut self) -> bool {
        let s = self.s;
        let start = self.i;
        let mut j = start + 1;
        if j < s.len() && is_ident_start(s[j]) {
            j += 1;
            while j < s.len() && is_ident_cont(s[j]) && s[j] != b'$' {
                j += 1;
            }
        }
        if j >= s.len() || s[j] != b'$' {
            return false;
        }
        let tag = &s[start..=j];
        let mut k = j + 1;
        loop {
            match memchr::memchr(b'$', &s[k.min(s.len())..]) {
                None => {
                    self.i = s.len();
                    return true;
                }
                Some(n) => {
                    let at = k + n;
                    if s[at..].starts_with(tag) {
                        self.i = at + tag.len();
                        return true;
                    }
                    k = at + 1;
                }
            }
        }
    }

    /// A number: digits, `.`, exponent, `0x`/`0o`/`0b` prefixes and `_` separators (16+).
    fn number(&mut self) {
        let s = self.s;
        if s[self.i] == b'0' && matches!(self.peek(1) | 0x20, b'x' | b'o' | b'b') {
            self.i += 2;
            while self.i < s.len() && (s[self.i].is_ascii_hexdigit() || s[self.i] == b'_') {
                self.i += 1;
            }
            return;
        }
        while self.i < s.len() && (s[self.i].is_ascii_digit() || s[self.i] == b'_') {
            self.i += 1;
        }
        if self.i < s.len() && s[self.i] == b'.' && self.peek(1) != b'.' {
            self.i += 1;
            while self.i < s.len() && (s[self.i].is_ascii_digit() || s[self.i] == b'_') {
                self.i += 1;
            }
        }
        if self.i < s.len() && (s[self.i] | 0x20) == b'e' {
            let sign = matches!(self.peek(1), b'+' | b'-');
            let d = self.peek(if sign { 2 } else { 1 });
            if d.is_ascii_digit() {
                self.i += if sign { 2 } else { 1 };
                while self.i < s.len() && s[self.i].is_ascii_digit() {
                    self.i += 1;
                }
            }
        }
    }

    /// An operator run, cut like PostgreSQL does: at an embedded comment start, and a
    /// trailing `+`/`-` is dropped unless the run holds one of `~!@#%^&|`?`.
    fn operator(&mut self) -> &'a [u8] {
        let s = self.s;
        let start = self.i;
        let mut end = start;
        while end < s.len() && is_op_char(s[end]) {
            if end > start
                && ((s[end] == b'-' && s.get(end + 1) == Some(&b'-'))
                    || (s[end] == b'/' && s.get(end + 1) == Some(&b'*')))
            {
                break;
            }
            end += 1;
        }
        if end - start > 1 && !s[start..end].iter().any(|b| b"~!@#%^&|`?".contains(b)) {
            while end - start > 1 && matches!(s[end - 1], b'+' | b'-') {
                end -= 1;
            }
        }
        self.i = end;
        &s[start..end]
    }
}

impl<'a> Iterator for Lexer<'a> {
    type Item = Tok<'a>;

    fn next(&mut self) -> Option<Tok<'a>> {
        self.skip_blank();
        let s = self.s;
        let b = *s.get(self.i)?;
        let tok = match b {
            b'\'' => {
                self.string(false);
                Tok::Literal
            }
            b'"' => {
                let start = self.i + 1;
                let mut j = start;
                loop {
                    match memchr::memchr(b'"', &s[j.min(s.len())..]) {
                        None => {
                            j = s.len();
                            self.i = s.len();
                            break;
                        }
                        Some(n) if s.get(j + n + 1) == Some(&b'"') => j += n + 2,
                        Some(n) => {
                            j += n;
                            self.i = j + 1;
                            break;
                        }
                    }
                }
                Tok::Quoted(&s[start..j.min(s.len())])
            }
            b'0'..=b'9' => {
                let start = self.i;
                self.number();
                Tok::Number(&s[start..self.i])
            }
            b'.' if self.peek(1).is_ascii_digit() => {
                let start = self.i;
                self.number();
                Tok::Number(&s[start..self.i])
            }
            b'$' if self.peek(1).is_ascii_digit() => {
                self.i += 1;
                while self.i < s.len() && s[self.i].is_ascii_digit() {
                    self.i += 1;
                }
                Tok::Literal
            }
            b'$' if self.dollar_quote() => Tok::Literal,
            b':' if self.peek(1) == b':' => {
                self.i += 2;
                Tok::Op(b"::")
            }
            b'(' | b')' | b'[' | b']' | b',' | b';' | b'.' | b':' => {
                self.i += 1;
                Tok::Punct(b)
            }
            _ if is_ident_start(b) => {
                let next = self.peek(1);
                if next == b'\'' && matches!(b | 0x20, b'e' | b'b' | b'x' | b'n') {
                    self.i += 1;
                    self.string((b | 0x20) == b'e');
                    return Some(Tok::Literal);
                }
                if (b | 0x20) == b'u' && next == b'&' && self.peek(2) == b'\'' {
                    self.i += 2;
                    self.string(false);
                    return Some(Tok::Literal);
                }
                let start = self.i;
                self.i += 1;
                while self.i < s.len() && is_ident_cont(s[self.i]) {
                    self.i += 1;
                }
                let w = &s[start..self.i];
                if w.eq_ignore_ascii_case(b"true") || w.eq_ignore_ascii_case(b"false") {
                    Tok::Literal
                } else {
                    Tok::Word(w)
                }
            }
            _ if is_op_char(b) => Tok::Op(self.operator()),
            _ => {
                // Anything else (a stray backslash, a control byte): one byte, as an operator.
                self.i += 1;
                Tok::Op(&s[self.i - 1..self.i])
            }
        };
        Some(tok)
    }
}

#[cfg(test)]
mod tests {
    use super::{Lexer, Tok};

    fn toks(s: &str) -> Vec<Tok<'_>> {
        Lexer::new(s.as_bytes()).collect()
    }

    #[test]
    fn literals_of_every_kind_are_one_token() {
        for lit in [
            "42",
            "4.2e-3",
            ".5",
            "0x1F",
            "1_000",
            "'it''s'",
            r"E'a\'b'",
            "$$x'y$$",
            "$fn$ body $ $fn$",
            "$12",
            "B'101'",
            "X'1f'",
            "U&'d\\0061t'",
            "TRUE",
            "false",
        ] {
            let t = toks(lit);
            assert!(
                t == [Tok::Literal] || t == [Tok::Number(lit.as_bytes())],
                "{lit}: {t:?}"
            );
        }
    }

    #[test]
    fn comments_and_whitespace_are_skipped() {
        assert_eq!(
            toks("a /* x /* nested */ y */ -- z\n b"),
            vec![Tok::Word(b"a"), Tok::Word(b"b")]
        );
    }

    #[test]
    fn operators_follow_postgres_rules() {
        assert_eq!(
            toks("a=-5"),
            vec![
                Tok::Word(b"a"),
                Tok::Op(b"="),
                Tok::Op(b"-"),
                Tok::Number(b"5")
            ]
        );
        assert_eq!(
            toks("a @> b::int"),
            vec![
                Tok::Word(b"a"),
                Tok::Op(b"@>"),
                Tok::Word(b"b"),
                Tok::Op(b"::"),
                Tok::Word(b"int")
            ]
        );
    }

    #[test]
    fn unterminated_input_does_not_panic() {
        for s in [
            "'abc",
            "\"abc",
            "/* abc",
            "$tag$ abc",
            "E'\\",
            "$",
            "1e",
            "0x",
            "\u{0}",
        ] {
            let _ = toks(s);
        }
        let bytes = [0xff, 0xfe, b'\'', 0x80];
        assert_eq!(Lexer::new(&bytes).count(), 2);
    }
}
