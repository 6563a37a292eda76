//! Helpers shared by the indexing rules: index definitions split into key items,
//! counters over the basis, and which indexes support a foreign key.

use crate::rules::{Basis, RuleContext};
use crate::snapshot::{ForeignKey, Index, Snapshot, Table};

/// The key items of an index definition as `pg_get_indexdef` prints them, one per key
/// column, each with its collation, operator class and ordering
/// (`lower(name) COLLATE "C" text_pattern_ops DESC`): the parenthesised list after
/// `USING <method>`. `None` when the text does not have that shape.
pub(crate) fn key_items(definition: &str) -> Option<Vec<String>> {
    let after_using = &definition[definition.find(" USING ")? + " USING ".len()..];
    let open = after_using.find('(')?;
    let list = &after_using[open..];
    let close = matching_paren(list)?;
    Some(split_top_level(&list[1..close]))
}

/// The byte offset of the parenthesis closing the one `text` starts with, skipping
/// quoted identifiers and string literals.
fn matching_paren(text: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits on commas outside parentheses, quotes and literals; trims each part.
fn split_top_level(text: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth = depth.saturating_sub(1),
            (None, ',') if depth == 0 => {
                parts.push(text[start..i].trim().to_owned());
                start = i + 1;
            }
            _ => {}
        }
    }
    let last = text[start..].trim();
    if !last.is_empty() {
        parts.push(last.to_owned());
    }
    parts
}

/// Seconds covered by the counters since the database's statistics reset or the server
/// start, whichever is later (whatever the basis).
pub(crate) fn since_reset_seconds(snap: &Snapshot) -> f64 {
    let start = snap.server.started_at;
    let reset = snap
        .current_database()
        .and_then(|d| d.stats_reset)
        .map_or(start, |r| r.max(start));
    snap.age_seconds(reset)
}

/// A table counter over the basis: the delta since the baseline when sampled (a table
/// missing from the baseline counts from zero), else the total since the reset.
pub(crate) fn table_delta(ctx: &RuleContext<'_>, t: &Table, counter: fn(&Table) -> i64) -> i64 {
    crate::knowledge::counters::table_delta(ctx.snapshot, t, counter)
}

/// An index counter over the basis, as [`table_delta`].
pub(crate) fn index_delta(ctx: &RuleContext<'_>, i: &Index, counter: fn(&Index) -> i64) -> i64 {
    let now = counter(i);
    match (ctx.basis(), &ctx.snapshot.baseline) {
        (Basis::Interval { .. }, Some(b)) => {
            let before = b.indexes.iter().find(|o| o.oid == i.oid).map_or(0, counter);
            (now - before).max(0)
        }
        _ => now,
    }
}

/// Rows written to a table (inserted + updated + deleted) over the basis.
pub(crate) fn table_writes(ctx: &RuleContext<'_>, t: &Table) -> i64 {
    table_delta(ctx, t, |t| t.n_tup_ins + t.n_tup_upd + t.n_tup_del)
}

/// The table an index or foreign key belongs to.
pub(crate) fn table_by_oid(snap: &Snapshot, oid: u32) -> Option<&Table> {
    snap.tables.iter().find(|t| t.oid == oid)
}

/// A table by schema and name.
pub(crate) fn table_by_name<'a>(snap: &'a Snapshot, schema: &str, name: &str) -> Option<&'a Table> {
    snap.tables
        .iter()
        .find(|t| t.schema == schema && t.name == name)
}

/// The estimated number of rows of a table (`reltuples`, or the live-row estimate when
/// the table was never analysed).
pub(crate) fn table_rows(t: &Table) -> f64 {
    t.reltuples.max(t.n_live_tup as f64).max(0.0)
}

/// Whether a partial index predicate only excludes NULLs of the given columns
/// (`(a IS NOT NULL)`, `((a IS NOT NULL) AND (b IS NOT NULL))`): such an index still
/// serves every lookup a foreign key check makes.
fn predicate_only_not_null(predicate: &str, columns: &[String]) -> bool {
    predicate
        .split(" AND ")
        .map(|p| p.trim_matches(|c: char| c == '(' || c == ')' || c.is_whitespace()))
        .all(|p| {
            p.strip_suffix(" IS NOT NULL")
                .is_some_and(|col| columns.iter().any(|c| crate::sql::quote_ident(c) == col))
        })
}

/// Whether a valid index can serve a foreign key's lookups: its leading key columns are
/// exactly the foreign key's columns, in any order (btree), or the single column (hash),
/// with no predicate other than `IS NOT NULL` on those columns.
pub(crate) fn index_covers_fk(i: &Index, fk: &ForeignKey) -> bool {
    if !i.is_valid || i.table_oid != fk.table_oid {
        return false;
    }
    let n = fk.attnums.len();
    let method_ok = match i.access_method.as_str() {
        "btree" => i.key_attnums.len() >= n,
        "hash" => n == 1 && i.key_attnums.len() == 1,
        _ => false,
    };
    if !method_ok || n == 0 {
        return false;
    }
    let mut lead: Vec<i16> = i.key_attnums[..n].to_vec();
    let mut want = fk.attnums.clone();
    lead.sort_unstable();
    want.sort_unstable();
    if lead != want || lead.contains(&0) {
        return false;
    }
    i.predicate
        .as_deref()
        .is_none_or(|p| predicate_only_not_null(p, &fk.columns))
}

/// Whether an index backs a constraint or enforces uniqueness: never to be dropped as
/// unused or redundant.
pub(crate) fn is_protected(i: &Index) -> bool {
    i.is_unique || i.is_primary || i.is_exclusion || i.constraint_name.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_items_keep_collations_opclasses_and_ordering() {
        let def = r#"CREATE INDEX "a(b" ON public.t USING btree (lower((name)::text) COLLATE "C" text_pattern_ops, "Odd, col" DESC NULLS LAST, partner_id) INCLUDE (x) WHERE (state = 'a,b)')"#;
        assert_eq!(
            key_items(def).expect("present"),
            vec![
                r#"lower((name)::text) COLLATE "C" text_pattern_ops"#.to_owned(),
                r#""Odd, col" DESC NULLS LAST"#.to_owned(),
                "partner_id".to_owned()
            ]
        );
        assert_eq!(
            key_items("CREATE UNIQUE INDEX k ON ONLY s.p USING btree (id)").expect("present"),
            vec!["id"]
        );
        assert_eq!(key_items("nonsense"), None);
    }

    #[test]
    fn not_null_predicates_still_serve_foreign_keys() {
        let cols = vec!["partner_id".to_owned()];
        assert!(predicate_only_not_null("(partner_id IS NOT NULL)", &cols));
        assert!(!predicate_only_not_null("(state = 'draft'::text)", &cols));
        assert!(!predicate_only_not_null("(other IS NOT NULL)", &cols));
    }
}
