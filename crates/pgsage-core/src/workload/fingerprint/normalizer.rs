//! Turns a token stream into a 64-bit fingerprint and, on request, the normalized text.
//!
//! The same code hashes and renders, so the text it renders always fingerprints like the
//! statement it came from. Rules, in PostgreSQL's own terms (pg_stat_statements replaces
//! constants only; this matches its texts):
//! - every constant and `$n` parameter is one placeholder; a unary minus before a constant
//!   belongs to it (`id = -5` ≡ `id = $1`); adjacent string constants are one;
//! - `TRUE`/`FALSE` are constants (pg_stat_statements replaces them too); `NULL` is a
//!   constant except in `IS [NOT] NULL` and `NOT NULL`;
//! - lists collapse: in `IN (…)`, `ARRAY[…]` and `VALUES (…), (…)`, an element shaped like
//!   the list's first element is dropped, so any number of constants (or rows of
//!   constants) is one entry — rendered `IN ($1 /*, ... */)` like PostgreSQL 18 does;
//! - unquoted identifiers and keywords are case-insensitive, `"quoted"` ones are not (and
//!   `"t"` is `t`); whitespace, comments and trailing semicolons are ignored; `!=` is `<>`.

use super::lexer::Tok;
use super::ordinal::Ordinals;

const K: u64 = 0x517c_c1b7_2722_0a95;

/// FxHash's step: fast, good enough once finished with [`finish`].
#[inline]
fn mix(h: u64, v: u64) -> u64 {
    (h.rotate_left(5) ^ v).wrapping_mul(K)
}

/// Murmur3's finalizer, so the low bits depend on every input bit.
fn finish(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

const T_WORD: u64 = 1;
const T_LITERAL: u64 = 2;
const T_OP: u64 = 3;
const T_PUNCT: u64 = 4;
const T_ELEM: u64 = 5;

/// Hashes bytes 8 at a time, ASCII letters folded to lower case when `fold`.
#[inline]
fn hash_bytes(mut h: u64, bytes: &[u8], fold: bool) -> u64 {
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut arr = [0u8; 8];
        arr.copy_from_slice(c);
        let mut v = u64::from_le_bytes(arr);
        if fold {
            v = fold_ascii(v);
        }
        h = mix(h, v);
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        let mut arr = [0u8; 8];
        arr[..rest.len()].copy_from_slice(rest);
        let mut v = u64::from_le_bytes(arr);
        if fold {
            v = fold_ascii(v);
        }
        h = mix(h, v);
    }
    mix(h, bytes.len() as u64)
}

/// Lower-cases the ASCII capitals among 8 packed bytes (SWAR).
#[inline]
fn fold_ascii(v: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // Bytes ≥ 'A' and ≤ 'Z' (and < 0x80) get 0x20 added.
    let ascii = !v & HIGH;
    let ge_a = (v | HIGH).wrapping_sub(ONES * 0x41) & HIGH;
    let le_z = (ONES * (0x5a | 0x80)).wrapping_sub(v & !HIGH) & HIGH;
    let upper = ascii & ge_a & le_z;
    v | (upper >> 2)
}

/// What kind of token was last emitted (for the unary-minus and spacing decisions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    /// Start of input or of a list element.
    None,
    /// An identifier, literal, `)` or `]`: what follows `-` is binary.
    Operand,
    /// A keyword that starts an expression (`SELECT`, `WHERE`, `AND`, `THEN`, …).
    Keyword,
    /// An operator, `(`, `,`, `[`.
    Other,
}

/// A list being collapsed.
#[derive(Debug, Clone, Copy)]
struct Frame {
    kind: ListKind,
    /// Bracket depth inside the current element.
    depth: u32,
    /// Hash of the element being read.
    elem: u64,
    /// Whether the element has tokens.
    elem_nonempty: bool,
    /// Hash of the first element.
    first: Option<u64>,
    /// Output length before the current element's separator (for dropping it).
    elem_start: usize,
    /// Placeholder counter before the current element.
    elem_params: u32,
    /// Whether an element was dropped.
    collapsed: bool,
    /// VALUES: a tuple just closed; a `,` continues the list, anything else ends it.
    tuple_done: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListKind {
    In,
    Array,
    Values,
}

const MAX_FRAMES: usize = 8;

/// What may open a list on the next token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    None,
    In,
    Array,
    Values,
}

/// The normalizer's state: the running hash, the list frames, and the rendered text.
pub(crate) struct Normalizer<'o> {
    main: u64,
    frames: [Frame; MAX_FRAMES],
    nframes: usize,
    out: Option<&'o mut String>,
    params: u32,
    last: Last,
    last_literal: bool,
    /// A unary minus held back until we see whether a constant follows.
    minus: bool,
    /// A semicolon held back (trailing ones are dropped).
    semicolon: bool,
    /// `IS` or `IS NOT` just seen: a following `NULL` is not a constant.
    after_is: bool,
    opener: Pending,
    /// The previous word was a non-keyword identifier (a function name before `(`).
    last_ident: bool,
    /// A multi-row VALUES list was collapsed.
    multi_row: bool,
    /// The last emitted token is the operator `-`.
    last_minus: bool,
    /// Which numbers are column positions (`ORDER BY 2`), not constants.
    ordinals: Ordinals,
}

const EMPTY_FRAME: Frame = Frame {
    kind: ListKind::In,
    depth: 0,
    elem: 0,
    elem_nonempty: false,
    first: None,
    elem_start: 0,
    elem_params: 0,
    collapsed: false,
    tuple_done: false,
};

impl<'o> Normalizer<'o> {
    /// A normalizer that renders into `out` when given.
    pub(crate) fn new(out: Option<&'o mut String>) -> Self {
        Normalizer {
            main: 0xcbf2_9ce4_8422_2325,
            frames: [EMPTY_FRAME; MAX_FRAMES],
            nframes: 0,
            out,
            params: 0,
            last: Last::None,
            last_literal: false,
            minus: false,
            semicolon: false,
            after_is: false,
            opener: Pending::None,
            last_ident: false,
            multi_row: false,
            last_minus: false,
            ordinals: Ordinals::default(),
        }
    }

    /// The fingerprint of everything pushed so far, closing open lists, and whether a
    /// multi-row `VALUES` list was collapsed (a bulk insert).
    pub(crate) fn finish(mut self) -> (u64, bool) {
        if self.minus {
            self.minus = false;
            self.emit_op(b"-");
        }
        while self.nframes > 0 {
            self.close_frame();
        }
        (finish(self.main), self.multi_row)
    }

    fn sink(&mut self) -> &mut u64 {
        if self.nframes == 0 {
            &mut self.main
        } else {
            &mut self.frames[self.nframes - 1].elem
        }
    }

    fn hash_tok(&mut self, tag: u64, bytes: &[u8], fold: bool) {
        self.last_minus = tag == T_OP && bytes == b"-";
        if let Some(f) = self.nframes.checked_sub(1).map(|i| &mut self.frames[i]) {
            f.elem_nonempty = true;
        }
        let h = self.sink();
        *h = hash_bytes(mix(*h, tag), bytes, fold);
    }

    fn out_len(&self) -> usize {
        self.out.as_ref().map_or(0, |o| o.len())
    }

    /// Writes `text`, with a space before it unless the previous output or `text`
    /// forbids one.
    fn write(&mut self, text: &str, space_before: bool) {
        if let Some(out) = self.out.as_deref_mut() {
            let glue = out
                .as_bytes()
                .last()
                .is_none_or(|b| matches!(b, b'(' | b'[' | b'.' | b' '))
                || out.ends_with("::");
            // Two operator characters side by side would lex as another operator (or
            // start a comment): keep them apart whatever the spacing rule says.
            let merge = |b: u8| b"+-*/<>=~!@#%^&|`?:".contains(&b);
            let last = out.as_bytes().last().copied();
            let merges = last.is_some_and(merge)
                && text.as_bytes().first().is_some_and(|&b| merge(b))
                && !(text == "::" && last != Some(b':'));
            if (space_before && !glue) || merges {
                out.push(' ');
            }
            out.push_str(text);
        }
    }

    fn emit_op(&mut self, op: &[u8]) {
        let op: &[u8] = if op == b"!=" { b"<>" } else { op };
        self.hash_tok(T_OP, op, false);
        if self.out.is_some() {
            let text = String::from_utf8_lossy(op);
            self.write(&text, op != b"::");
        }
        self.last = Last::Other;
        self.last_literal = false;
        self.last_ident = false;
    }

    fn emit_literal(&mut self) {
        if self.last_literal {
            // 'a' 'b' on two lines is one string constant.
            return;
        }
        self.hash_tok(T_LITERAL, b"", false);
        self.params += 1;
        if self.out.is_some() {
            let text = format!("${}", self.params);
            self.write(&text, true);
        }
        self.last = Last::Operand;
        self.last_literal = true;
        self.last_ident = false;
    }

    fn emit_punct(&mut self, p: u8) {
        self.hash_tok(T_PUNCT, &[p], false);
        if self.out.is_some() {
            let space = match p {
                b')' | b']' | b',' | b'.' | b';' | b':' => false,
                b'(' => !self.last_ident,
                b'[' => !matches!(self.last, Last::Operand),
                _ => true,
            };
            let mut buf = [0u8; 4];
            let text = char::from(p).encode_utf8(&mut buf);
            self.write(text, space);
        }
        self.last = if matches!(p, b')' | b']') {
            Last::Operand
        } else {
            Last::Other
        };
        self.last_literal = false;
        self.last_ident = false;
    }

    fn emit_word(&mut self, w: &[u8], quoted: bool) {
        self.hash_tok(T_WORD, w, !quoted);
        let keyword = !quoted && is_expr_keyword(w);
        if self.out.is_some() {
            let text = if quoted {
                format!("\"{}\"", String::from_utf8_lossy(w))
            } else if is_keyword(w) {
                String::from_utf8_lossy(w).to_ascii_uppercase()
            } else {
                String::from_utf8_lossy(w).to_ascii_lowercase()
            };
            self.write(&text, true);
        }
        self.last = if keyword {
            Last::Keyword
        } else {
            Last::Operand
        };
        self.last_literal = false;
        self.last_ident = self.out.is_some() && (quoted || !is_keyword(w));
    }

    /// Opens a list frame; false when too deeply nested (the list is then not collapsed).
    fn open_frame(&mut self, kind: ListKind) -> bool {
        if self.nframes == MAX_FRAMES {
            return false;
        }
        let start = self.out_len();
        self.frames[self.nframes] = Frame {
            kind,
            elem: 0,
            elem_start: start,
            elem_params: self.params,
            ..EMPTY_FRAME
        };
        self.nframes += 1;
        self.last = Last::None;
        true
    }

    /// A bracket opened without a frame of its own counts in the enclosing list's depth.
    fn nested_in_parent(&mut self) {
        if let Some(i) = self.nframes.checked_sub(1) {
            self.frames[i].depth += 1;
        }
    }

    /// A list separator: rendered, but hashed by [`Self::end_element`], not here.
    fn separator(&mut self) {
        self.end_element();
        self.write(",", false);
        self.last = Last::Other;
        self.last_literal = false;
        self.last_ident = false;
    }

    /// Ends the current element: the first is kept, later ones shaped like it are dropped.
    fn end_element(&mut self) {
        let i = self.nframes - 1;
        let f = self.frames[i];
        if !f.elem_nonempty {
            return;
        }
        let h = finish(f.elem);
        let parent = if i == 0 {
            &mut self.main
        } else {
            &mut self.frames[i - 1].elem
        };
        match f.first {
            None => {
                *parent = mix(mix(*parent, T_ELEM), h);
                self.frames[i].first = Some(h);
            }
            Some(first) if first == h => {
                if let Some(out) = self.out.as_deref_mut() {
                    out.truncate(f.elem_start);
                }
                self.params = f.elem_params;
                self.frames[i].collapsed = true;
            }
            Some(_) => {
                *parent = mix(mix(mix(*parent, T_PUNCT), T_ELEM), h);
            }
        }
        let start = self.out_len();
        let params = self.params;
        let f = &mut self.frames[i];
        f.elem = 0;
        f.elem_nonempty = false;
        f.elem_start = start;
        f.elem_params = params;
    }

    fn close_frame(&mut self) {
        self.end_element();
        let f = self.frames[self.nframes - 1];
        self.nframes -= 1;
        if f.collapsed {
            self.multi_row |= f.kind == ListKind::Values;
            self.write("/*, ... */", true);
        }
    }

    /// Feeds one token.
    pub(crate) fn push(&mut self, tok: Tok<'_>) {
        // A column position (`ORDER BY 2`) is part of the query, as a word is.
        let tok = match tok {
            Tok::Number(n) if self.ordinals.push(&tok) => Tok::Word(n),
            Tok::Number(_) => {
                self.ordinals.push(&tok);
                Tok::Literal
            }
            other => {
                self.ordinals.push(&other);
                other
            }
        };
        if self.semicolon && tok == Tok::Punct(b';') {
            // Empty statements do not count.
            return;
        }
        if self.semicolon {
            self.semicolon = false;
            self.emit_punct(b';');
        }
        // A pending list opener only opens on its bracket.
        let opener = std::mem::replace(&mut self.opener, Pending::None);
        if self.minus {
            self.minus = false;
            // A unary minus folds into its constant, unless it follows another minus
            // (`- -5`): the rendered `- $1` would fold again and change the fingerprint.
            let constant = match tok {
                Tok::Literal => true,
                Tok::Word(w) => w.eq_ignore_ascii_case(b"null"),
                _ => false,
            };
            if constant && !self.last_minus {
                self.after_is = false;
                self.emit_literal();
                return;
            }
            self.emit_op(b"-");
        }
        // VALUES: after a tuple, only `,` continues the list.
        if let Some(i) = self.nframes.checked_sub(1) {
            let f = self.frames[i];
            if f.kind == ListKind::Values && f.tuple_done {
                self.frames[i].tuple_done = false;
                if tok == Tok::Punct(b',') {
                    self.separator();
                    return;
                }
                self.close_frame();
            }
        }
        match tok {
            Tok::Word(w) => {
                let is_null = w.eq_ignore_ascii_case(b"null");
                if is_null && !self.after_is {
                    self.after_is = false;
                    self.emit_literal();
                    return;
                }
                // `IS NULL`, `IS NOT NULL`, `NOT NULL` (constraints, postfix test).
                self.after_is = w.eq_ignore_ascii_case(b"is") || w.eq_ignore_ascii_case(b"not");
                self.emit_word(w, false);
                self.opener = if w.eq_ignore_ascii_case(b"in") {
                    Pending::In
                } else if w.eq_ignore_ascii_case(b"array") {
                    Pending::Array
                } else if w.eq_ignore_ascii_case(b"values") {
                    Pending::Values
                } else {
                    Pending::None
                };
            }
            Tok::Quoted(w) => {
                self.after_is = false;
                self.emit_word(w, true);
            }
            Tok::Literal | Tok::Number(_) => {
                self.after_is = false;
                self.emit_literal();
            }
            Tok::Op(op) => {
                self.after_is = false;
                if op == b"-" && !matches!(self.last, Last::Operand) {
                    self.minus = true;
                    return;
                }
                self.emit_op(op);
            }
            Tok::Punct(p) => {
                self.after_is = false;
                self.punct(p, opener);
            }
        }
    }

    fn punct(&mut self, p: u8, opener: Pending) {
        if p == b';' {
            // A statement ends: its lists too. Held back: trailing semicolons do not count.
            while self.nframes > 0 {
                self.close_frame();
            }
            self.semicolon = true;
            return;
        }
        let top = self.nframes.checked_sub(1);
        match (p, top) {
            (b'(', _) if opener == Pending::Values => {
                let opened = self.open_frame(ListKind::Values);
                self.emit_punct(b'(');
                if opened {
                    self.frames[self.nframes - 1].depth = 1;
                } else {
                    self.nested_in_parent();
                }
            }
            (b'(', _) if opener == Pending::In => {
                self.emit_punct(b'(');
                if !self.open_frame(ListKind::In) {
                    self.nested_in_parent();
                }
            }
            (b'[', _) if opener == Pending::Array => {
                self.emit_punct(b'[');
                if !self.open_frame(ListKind::Array) {
                    self.nested_in_parent();
                }
            }
            (b'(' | b'[', Some(i)) => {
                self.frames[i].depth += 1;
                self.emit_punct(p);
            }
            (b')' | b']', Some(i)) => {
                let f = self.frames[i];
                if f.depth == 0 && f.kind != ListKind::Values {
                    self.close_frame();
                    self.emit_punct(p);
                } else {
                    self.frames[i].depth = f.depth.saturating_sub(1);
                    self.emit_punct(p);
                    if f.kind == ListKind::Values && f.depth == 1 {
                        self.frames[i].tuple_done = true;
                    }
                }
            }
            (b',', Some(i))
                if self.frames[i].depth == 0 && self.frames[i].kind != ListKind::Values =>
            {
                self.separator();
            }
            _ => self.emit_punct(p),
        }
    }
}

/// Keywords after which a `-` is unary (they end an operand position).
fn is_expr_keyword(w: &[u8]) -> bool {
    let mut buf = [0u8; 9];
    let Some(w) = lower(w, &mut buf) else {
        return false;
    };
    matches!(
        w,
        b"select"
            | b"where"
            | b"and"
            | b"or"
            | b"not"
            | b"then"
            | b"else"
            | b"when"
            | b"between"
            | b"like"
            | b"ilike"
            | b"is"
            | b"limit"
            | b"offset"
            | b"by"
            | b"on"
            | b"having"
            | b"case"
            | b"return"
            | b"returning"
            | b"set"
            | b"distinct"
            | b"all"
            | b"any"
            | b"some"
            | b"in"
            | b"values"
            | b"fetch"
            | b"first"
            | b"next"
            | b"to"
            | b"from"
    )
}

/// `w` in ASCII lower case in `buf`, when it fits (keywords are short).
fn lower<'b>(w: &[u8], buf: &'b mut [u8; 9]) -> Option<&'b [u8]> {
    if w.len() > buf.len() {
        return None;
    }
    let out = &mut buf[..w.len()];
    for (o, b) in out.iter_mut().zip(w) {
        *o = b.to_ascii_lowercase();
    }
    Some(out)
}

/// Keywords rendered in upper case in normalized text (display only: hashing folds case).
pub(crate) fn is_keyword(w: &[u8]) -> bool {
    const KW: &[&[u8]] = &[
        b"select",
        b"from",
        b"where",
        b"and",
        b"or",
        b"not",
        b"in",
        b"is",
        b"null",
        b"as",
        b"on",
        b"join",
        b"left",
        b"right",
        b"inner",
        b"outer",
        b"full",
        b"cross",
        b"group",
        b"order",
        b"by",
        b"having",
        b"limit",
        b"offset",
        b"insert",
        b"into",
        b"values",
        b"update",
        b"set",
        b"delete",
        b"returning",
        b"with",
        b"union",
        b"except",
        b"intersect",
        b"all",
        b"distinct",
        b"case",
        b"when",
        b"then",
        b"else",
        b"end",
        b"between",
        b"like",
        b"ilike",
        b"exists",
        b"any",
        b"some",
        b"asc",
        b"desc",
        b"nulls",
        b"first",
        b"last",
        b"for",
        b"share",
        b"nowait",
        b"skip",
        b"locked",
        b"conflict",
        b"do",
        b"nothing",
        b"begin",
        b"commit",
        b"rollback",
        b"create",
        b"alter",
        b"drop",
        b"table",
        b"index",
        b"array",
        b"interval",
        b"date",
        b"timestamp",
        b"cast",
        b"using",
        b"lateral",
        b"over",
        b"partition",
        b"window",
        b"fetch",
        b"next",
        b"rows",
        b"only",
        b"copy",
        b"to",
        b"merge",
        b"matched",
        b"truncate",
        b"explain",
        b"analyze",
        b"vacuum",
        b"show",
        b"recursive",
        b"filter",
        b"within",
        b"natural",
        b"default",
        b"savepoint",
        b"release",
        b"lock",
        b"escape",
        b"similar",
        b"collate",
    ];
    w.len() <= 9 && KW.iter().any(|k| k.eq_ignore_ascii_case(w))
}

#[cfg(test)]
mod tests {
    use super::fold_ascii;

    #[test]
    fn swar_fold_matches_ascii_lowercase() {
        for b in 0u8..=255 {
            let v = u64::from_le_bytes([b, b'A', b'z', b'@', b'[', b'Z', 0x80 | b'A', b'`']);
            let folded = fold_ascii(v).to_le_bytes();
            let expected = [b, b'A', b'z', b'@', b'[', b'Z', 0x80 | b'A', b'`'].map(|x| {
                if x.is_ascii_uppercase() {
                    x + 32
                } else {
                    x
                }
            });
            assert_eq!(folded, expected, "byte {b:#x}");
        }
    }
}
