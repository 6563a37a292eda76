//! The table a statement writes or locks, from its tokens: what a lock conflict is
//! attributed to when the log names no relation (a serialization failure, a wait on a
//! transaction id).

use crate::workload::fingerprint::lexer::{Lexer, Tok};

/// The first table the statement updates, inserts into or deletes from (`UPDATE t`,
/// `INSERT INTO t`, `DELETE FROM t`, also inside a `WITH`; `ALTER TABLE t`, `LOCK t`,
/// `TRUNCATE t`); for a `SELECT` (`… FOR UPDATE`), its first `FROM` table. Unqualified, as written (quoted names unquoted).
/// `None` for `COMMIT` and statements without a table.
pub(crate) fn target_table(sql: &str) -> Option<String> {
    let toks: Vec<Tok<'_>> = Lexer::new(sql.as_bytes()).take(4096).collect();
    let is = |t: Option<&Tok<'_>>, kw: &str| matches!(t, Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw.as_bytes()));
    let mut first_from = None;
    for i in 0..toks.len() {
        let prev = i.checked_sub(1).and_then(|p| toks.get(p));
        let name_at = if is(toks.get(i), "UPDATE") && !is(prev, "FOR") && !is(prev, "KEY") {
            Some(i + 1)
        } else if (is(toks.get(i), "INSERT") && is(toks.get(i + 1), "INTO"))
            || (is(toks.get(i), "DELETE") && is(toks.get(i + 1), "FROM"))
            || (i == 0 && is(toks.get(i), "ALTER") && is(toks.get(i + 1), "TABLE"))
            || (i == 0 && is(toks.get(i), "LOCK") && is(toks.get(i + 1), "TABLE"))
            || (i == 0 && is(toks.get(i), "TRUNCATE") && is(toks.get(i + 1), "TABLE"))
        {
            let mut at = i + 2;
            if is(toks.get(at), "IF") && is(toks.get(at + 1), "EXISTS") {
                at += 2;
            }
            Some(at)
        } else if i == 0 && (is(toks.get(i), "LOCK") || is(toks.get(i), "TRUNCATE")) {
            Some(i + 1)
        } else {
            if first_from.is_none() && is(toks.get(i), "FROM") {
                first_from = name(&toks, i + 1);
            }
            None
        };
        if let Some(at) = name_at {
            if let Some(n) = name(&toks, at) {
                return Some(n);
            }
        }
    }
    first_from
}

/// The (possibly qualified) name starting at `at`, `ONLY` skipped: its last part.
fn name(toks: &[Tok<'_>], mut at: usize) -> Option<String> {
    if matches!(toks.get(at), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(b"ONLY")) {
        at += 1;
    }
    let mut last = None;
    loop {
        let part = match toks.get(at)? {
            Tok::Word(w) => String::from_utf8_lossy(w).to_lowercase(),
            Tok::Quoted(q) => String::from_utf8_lossy(q).replace("\"\"", "\""),
            _ => return last,
        };
        last = Some(part);
        if toks.get(at + 1) == Some(&Tok::Punct(b'.')) {
            at += 2;
        } else {
            return last;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::target_table;

    #[test]
    fn finds_the_written_or_locked_table() {
        let t = |s: &str| target_table(s);
        assert_eq!(
            t("UPDATE stock_quant SET quantity = quantity - 1 WHERE id = 5").as_deref(),
            Some("stock_quant")
        );
        assert_eq!(
            t("INSERT INTO \"public\".\"account_move_line\" (a) VALUES (1)").as_deref(),
            Some("account_move_line")
        );
        assert_eq!(
            t("DELETE FROM ONLY public.bus_bus WHERE id < 9").as_deref(),
            Some("bus_bus")
        );
        assert_eq!(
            t("SELECT * FROM ir_cron WHERE id = 1 FOR NO KEY UPDATE SKIP LOCKED").as_deref(),
            Some("ir_cron")
        );
        assert_eq!(
            t("WITH x AS (SELECT id FROM a) UPDATE b SET v = 1 FROM x").as_deref(),
            Some("b")
        );
        assert_eq!(
            t("ALTER TABLE IF EXISTS ONLY account_move ADD COLUMN x int").as_deref(),
            Some("account_move")
        );
        assert_eq!(
            t("LOCK TABLE stock_quant IN SHARE MODE").as_deref(),
            Some("stock_quant")
        );
        assert_eq!(t("COMMIT"), None);
    }
}
