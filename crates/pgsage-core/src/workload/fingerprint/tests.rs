use super::display::normalize_sqlparser;
use super::{analyze, fingerprint, normalize, shown_text, StatementKind};

/// The statement corpus shared with the benchmark and the pglast comparison script.
pub(crate) fn corpus() -> Vec<&'static str> {
    include_str!("../../../../../testdata/workload/statements.sql")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with("--"))
        .collect()
}

fn same(a: &str, b: &str) {
    assert_eq!(fingerprint(a), fingerprint(b), "\n{a}\n{b}");
}

fn differ(a: &str, b: &str) {
    assert_ne!(fingerprint(a), fingerprint(b), "\n{a}\n{b}");
}

#[test]
fn constants_spacing_case_and_comments_do_not_matter() {
    same(
        "SELECT * FROM t WHERE id = 42",
        "select *  from T where id=7 -- x",
    );
    same(
        "SELECT * FROM t WHERE name = 'bob' /* c */ ;",
        "SELECT * FROM t WHERE name = E'al\\'ice'",
    );
    same("SELECT $$a'b$$", "SELECT 'x'");
    same(
        "SELECT * FROM t WHERE b = true",
        "SELECT * FROM t WHERE b = FALSE",
    );
    same(
        "SELECT * FROM \"t\" WHERE x = 1",
        "SELECT * FROM t WHERE x = 1",
    );
    differ(
        "SELECT * FROM \"T\" WHERE x = 1",
        "SELECT * FROM t WHERE x = 1",
    );
    differ("SELECT a FROM t", "SELECT b FROM t");
    differ(
        "SELECT * FROM t WHERE x IS NULL",
        "SELECT * FROM t WHERE x = 1",
    );
    same(
        "SELECT * FROM t WHERE x <> 1",
        "SELECT * FROM t WHERE x != 2",
    );
}

/// Texts pg_stat_statements stored on PostgreSQL 13 and 18 for the statements beside them
/// (captured with psql; the live tests check this on every version).
#[test]
fn log_statements_match_pg_stat_statements_texts() {
    for (logged, pgss) in [
        (
            "select * from t where b = true and id = -5",
            "select * from t where b = $1 and id = $2",
        ),
        (
            "select * from t where id in (1,2,3,4,5)",
            "select * from t where id in ($1,$2,$3)",
        ),
        (
            "select * from t where id in (1,2,3,4,5)",
            "select * from t where id in ($1 /*, ... */)",
        ),
        (
            "insert into t values (1, null, '2024-01-01', 'x'), (2, false, null, E'y\\'z')",
            "insert into t values ($1, $2, $3, $4), ($5, $6, $7, $8)",
        ),
        (
            "select * from t where d > date '2024-01-01' and d < now() - interval '1 day' limit 10",
            "select * from t where d > date $1 and d < now() - interval $2 limit $3",
        ),
        (
            "select * from t where s = $$ab'c$$ and id = 1.5e3 and s is null",
            "select * from t where s = $1 and id = $2 and s is null",
        ),
        (
            "select 'a' || 'b', array[1,2,3], x'1f'::int",
            "select $1 || $2, array[$3 /*, ... */], $4::int",
        ),
        (
            "SELECT  *  FROM t  -- comment\n WHERE id = 7;",
            "SELECT  *  FROM t  -- comment\n WHERE id = $1",
        ),
    ] {
        same(logged, pgss);
    }
}

#[test]
fn lists_collapse() {
    same(
        "SELECT 1 FROM t WHERE a IN (1)",
        "SELECT 1 FROM t WHERE a IN (1, 2, 3)",
    );
    same(
        "SELECT 1 FROM t WHERE a IN ($1, $2) AND b IN ('x')",
        "SELECT 1 FROM t WHERE a IN (5) AND b IN ('x', 'y', 'z')",
    );
    differ(
        "SELECT 1 FROM t WHERE a IN (1, b)",
        "SELECT 1 FROM t WHERE a IN (1)",
    );
    same(
        "INSERT INTO t (a, b) VALUES (1, 'x')",
        "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, NULL)",
    );
    differ(
        "INSERT INTO t (a, b) VALUES (1, 'x')",
        "INSERT INTO t (a, b) VALUES (1, 'x') RETURNING id",
    );
    same(
        "SELECT * FROM (VALUES (1, 'a'), (2, 'b')) v (n, s) WHERE n IN (SELECT x FROM y WHERE z IN (1, 2))",
        "SELECT * FROM (VALUES (7, 'q')) v (n, s) WHERE n IN (SELECT x FROM y WHERE z IN (3))",
    );
    same("SELECT ARRAY[1, 2, 3]", "SELECT array[4]");
    same(
        "SELECT * FROM t WHERE x = -1",
        "SELECT * FROM t WHERE x = 1",
    );
    differ("SELECT a - 1 FROM t", "SELECT a 1 FROM t");
}

#[test]
fn normalized_text_reads_like_postgres() {
    assert_eq!(
        normalize("select *  from T where id=7 and name in ('a','b') -- x"),
        "SELECT * FROM t WHERE id = $1 AND name IN ($2 /*, ... */)"
    );
    assert_eq!(
        normalize("insert into t(a,b) values (1,'x'),(2,'y');"),
        "INSERT INTO t(a, b) VALUES ($1, $2) /*, ... */"
    );
    assert_eq!(
        normalize("SELECT count(*) FROM \"Order\" o WHERE o.total > -5.5::numeric"),
        "SELECT count(*) FROM \"Order\" o WHERE o.total > $1::numeric"
    );
}

/// The display text comes from sqlparser's tokenizer and the fingerprint from the byte
/// lexer: on the corpus, sqlparser tokenizes every statement, its tokens give the same
/// fingerprint, and the text it renders fingerprints like the original.
#[test]
fn sqlparser_and_the_byte_lexer_agree_on_the_corpus() {
    let corpus = corpus();
    assert!(corpus.len() >= 40);
    for s in &corpus {
        let (text, hash) =
            normalize_sqlparser(s).unwrap_or_else(|| panic!("sqlparser rejects {s}"));
        assert_eq!(
            hash,
            fingerprint(s).0,
            "token streams differ on\n{s}\n{text}"
        );
        assert_eq!(fingerprint(&text), fingerprint(s), "\n{s}\n{text}");
    }
}

#[test]
fn the_corpus_statements_are_distinct() {
    let corpus = corpus();
    let mut seen = std::collections::BTreeMap::new();
    for s in &corpus {
        if let Some(other) = seen.insert(fingerprint(s), *s) {
            panic!("collision:\n{s}\n{other}");
        }
    }
}

/// A tiny deterministic generator (xorshift), for property tests without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A random constant; negative numbers only where a `-` is surely unary (after an
    /// operator, `(` or `,`: after a word it may be a binary minus).
    fn literal(&mut self, before: &str) -> String {
        let unary_ok = before.trim_end().ends_with(['=', '<', '>', '(', ',']);
        let n = if unary_ok { 8 } else { 7 };
        match self.next() % n {
            0 => format!("{}", self.next() % 100_000),
            1 => format!("{}.{}", self.next() % 1000, self.next() % 100),
            2 => format!("'{}'", "o''k".repeat((self.next() % 3) as usize)),
            3 => format!("E'\\'{}'", self.next() % 10),
            4 => format!("$${}$$", self.next() % 10),
            5 => format!("${}", 1 + self.next() % 9),
            6 => "TRUE".to_owned(),
            _ => format!("-{}", self.next() % 50),
        }
    }
}

/// Replaces every numeric or quoted constant of a corpus statement by random constants of
/// other kinds, changes spacing and case, and adds comments: the fingerprint stays.
#[test]
fn property_random_constants_spacing_and_comments_keep_the_fingerprint() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for s in corpus() {
        let want = fingerprint(s);
        for _ in 0..20 {
            let variant = mutate(s, &mut rng);
            assert_eq!(fingerprint(&variant), want, "\n{s}\n{variant}");
            assert_eq!(fingerprint(&normalize(&variant)), want, "\n{variant}");
        }
    }
}

/// Rewrites simple constants (plain numbers and '…' strings not preceded by a letter) and
/// whitespace.
fn mutate(s: &str, rng: &mut Rng) -> String {
    let b = s.as_bytes();
    let mut out = String::new();
    let mut i = 0;
    let mut in_ident = false;
    while i < b.len() {
        if b[i] == b'"' {
            in_ident = !in_ident;
        }
        if in_ident {
            out.push(b[i] as char);
            i += 1;
            continue;
        }
        if b"EXB".contains(&b[i].to_ascii_uppercase()) && b.get(i + 1) == Some(&b'\'') {
            // E'…' (backslash escapes), X'…', B'…': copied whole.
            let mut j = i + 2;
            while j < b.len() && b[j] != b'\'' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            out.push_str(&s[i..(j + 1).min(b.len())]);
            i = j + 1;
            continue;
        }
        if b[i] == b'$' && !b.get(i + 1).is_some_and(|c| c.is_ascii_digit()) {
            // A dollar quote: copied whole (its tag is case-sensitive).
            if let Some(t) = s[i + 1..].find('$') {
                let tag = &s[i..i + t + 2];
                if let Some(end) = s[i + tag.len()..].find(tag) {
                    let stop = i + tag.len() + end + tag.len();
                    out.push_str(&s[i..stop]);
                    i = stop;
                    continue;
                }
            }
        }
        let prev = if i == 0 { b' ' } else { b[i - 1] };
        let prev_word = prev.is_ascii_alphanumeric() || prev == b'_' || prev == b'$';
        if b[i] == b'\'' && !prev_word {
            let mut j = i + 1;
            while j < b.len() && !(b[j] == b'\'' && b.get(j + 1) != Some(&b'\'')) {
                j += if b[j] == b'\'' { 2 } else { 1 };
            }
            // Typed literals (`interval '1 day'`) must stay strings, and `?` operands too.
            let keep = s[..i].trim_end().ends_with(['l', 'e', 'p', 'y', '?', '>']);
            if keep || j >= b.len() {
                out.push_str(&s[i..(j + 1).min(b.len())]);
            } else {
                out.push_str(&rng.literal(&out));
            }
            i = j + 1;
        } else if b[i].is_ascii_digit() && !prev_word && prev != b'.' && prev != b'-' {
            let mut j = i;
            while j < b.len()
                && (b[j].is_ascii_alphanumeric()
                    || b[j] == b'.'
                    || b[j] == b'_'
                    || (matches!(b[j], b'-' | b'+') && matches!(b[j - 1], b'e' | b'E')))
            {
                j += 1;
            }
            let typed = s[..i].trim_end().ends_with('(') && s[j..].starts_with(')');
            if typed {
                out.push_str(&s[i..j]);
            } else {
                out.push_str(&rng.literal(&out));
            }
            i = j;
        } else if b[i] == b' ' {
            out.push_str(match rng.next() % 4 {
                0 => "  ",
                1 => "\n\t",
                2 => " /* note */ ",
                _ => " ",
            });
            i += 1;
        } else {
            let c = s[i..].chars().next().unwrap_or(' ');
            if matches!(rng.next() % 5, 0) {
                out.extend(c.to_uppercase());
            } else {
                out.push(c);
            }
            i += c.len_utf8();
        }
    }
    out
}

#[test]
fn statements_are_classified() {
    let kind = |s| analyze(s).kind;
    assert_eq!(kind("select 1"), StatementKind::Read);
    assert_eq!(
        kind("WITH x AS (SELECT 1) SELECT * FROM x"),
        StatementKind::Read
    );
    assert_eq!(
        kind("WITH x AS (DELETE FROM q RETURNING *) SELECT * FROM x"),
        StatementKind::Write
    );
    assert_eq!(kind("update t set a = 1"), StatementKind::Write);
    assert_eq!(kind("COPY t FROM STDIN"), StatementKind::Write);
    assert_eq!(
        kind("COPY (SELECT a FROM t) TO STDOUT"),
        StatementKind::Read
    );
    assert_eq!(kind("create index on t (a)"), StatementKind::Ddl);
    assert_eq!(kind("SET work_mem = '64MB'"), StatementKind::Utility);
    assert_eq!(kind("BEGIN"), StatementKind::Transaction);
    assert!(analyze("COMMIT").ends_transaction);
    assert!(!analyze("ROLLBACK TO SAVEPOINT a").ends_transaction);
    assert!(analyze("INSERT INTO t VALUES (1), (2)").bulk);
    assert!(!analyze("INSERT INTO t VALUES (1)").bulk);
    assert!(analyze("copy t from stdin").bulk);
    assert_eq!(kind("/* only a comment */"), StatementKind::Other);
}

#[test]
fn hostile_input_does_not_panic() {
    let mut rng = Rng(42);
    let alphabet = b"'\"$()[],;.:-+*/<>=!~E$0123456789 \n\tabcINVALUESARRAY\\\x00\xff";
    for len in [0usize, 1, 2, 3, 7, 64, 500] {
        for _ in 0..300 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| alphabet[(rng.next() % alphabet.len() as u64) as usize])
                .collect();
            let _ = super::analyze_bytes(&bytes);
            let text = String::from_utf8_lossy(&bytes);
            let n = normalize(&text);
            assert_eq!(fingerprint(&n), fingerprint(&text), "{text:?} → {n:?}");
        }
    }
    // Found by the fuzz target: colons must not run into `::` when rendered.
    for s in [
        "C\u{b}\0\0\0G:\n::::\n:",
        "a: ::b",
        "x:::int",
        "$1:: ::",
        "a + - -2319",
        "SELECT - - -1",
        "SELECT x\0- NULL",
    ] {
        assert_eq!(fingerprint(&normalize(s)), fingerprint(s), "{s:?}");
    }
    let deep = "(".repeat(10_000) + &"IN (".repeat(100) + &")".repeat(5_000);
    let _ = normalize(&deep);
}

/// The text shown is the statement as written with its constants replaced, never
/// re-printed: `m.date` stays `m.date` (not `m.DATE`), `ORDER BY 2` stays (a column
/// position, not a constant), and a pg_stat_statements text comes back unchanged.
#[test]
fn the_text_shown_is_the_statement_with_constants_replaced() {
    let sql = "SELECT m.date, sum(m.amount)\n  FROM account_move m\n WHERE m.date >= DATE '2026-01-01' AND m.state = 'posted' AND m.amount > -5\n GROUP BY 1 ORDER BY 2 DESC, m.date LIMIT 10;";
    let shown = shown_text(sql);
    assert_eq!(
        shown,
        "SELECT m.date, sum(m.amount)\n  FROM account_move m\n WHERE m.date >= DATE $1 AND m.state = $2 AND m.amount > $3\n GROUP BY 1 ORDER BY 2 DESC, m.date LIMIT $4"
    );
    assert_eq!(fingerprint(&shown), fingerprint(sql));
    let pgss = "select m.date from account_move m\n where m.id = $1 and m.x in ($2, $3) order by 1 limit $4";
    assert_eq!(shown_text(pgss), pgss);
    // Placeholders continue after the statement's own parameters.
    assert_eq!(
        shown_text("SELECT * FROM t WHERE a = $1 AND b = 'x'"),
        "SELECT * FROM t WHERE a = $1 AND b = $2"
    );
    // A binary minus stays; inside a function call, the ordinal rule does not apply.
    assert_eq!(
        shown_text("SELECT a - 1 FROM t ORDER BY lower(b), 1"),
        "SELECT a - $1 FROM t ORDER BY lower(b), 1"
    );
    assert_eq!(
        shown_text("SELECT * FROM (SELECT a FROM t ORDER BY 1) s WHERE a = 3"),
        "SELECT * FROM (SELECT a FROM t ORDER BY 1) s WHERE a = $1"
    );
}

/// `ORDER BY 2` and `ORDER BY 3` sort by different columns: different queries (as
/// pg_stat_statements' query ids say), while `LIMIT 10` and `LIMIT 20` are one.
#[test]
fn column_positions_are_not_constants() {
    let base = "SELECT a, b, c FROM t GROUP BY 1, 2, 3 ORDER BY";
    assert_ne!(
        fingerprint(&format!("{base} 2 LIMIT 10")),
        fingerprint(&format!("{base} 3 LIMIT 10"))
    );
    assert_eq!(
        fingerprint(&format!("{base} 2 LIMIT 10")),
        fingerprint(&format!("{base} 2 LIMIT 20"))
    );
    assert_eq!(
        normalize("select a from t order by 1 limit 5"),
        "SELECT a FROM t ORDER BY 1 LIMIT $1"
    );
}
