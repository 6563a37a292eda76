//! A candidate against the table's existing indexes: already served by one (left prefix,
//! a unique index on its equality columns, or an index that already narrows a lookup to
//! few rows), or making a narrower one redundant.

use sqlparser::ast::{BinaryOperator, Expr, OrderBySort, Statement};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

use crate::snapshot::Index;

/// A key column of a candidate.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Key {
    /// Column name.
    pub name: String,
    /// Descending (for an ORDER BY with mixed directions).
    pub desc: bool,
}

/// The shape of a candidate, as the checks here need it.
pub(crate) struct Shape<'a> {
    /// Key columns.
    pub keys: &'a [Key],
    /// How many leading keys are equality columns (their order is free).
    pub n_eq: usize,
    /// The keys after the equality columns are ORDER BY columns (their directions
    /// matter, up to a backward scan).
    pub ordered: bool,
    /// Partial index predicate.
    pub predicate: Option<&'a str>,
}

/// Why a candidate is not needed.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Served {
    /// The existing index, schema-qualified.
    pub index: String,
    /// Why it serves the candidate's statements.
    pub why: String,
}

/// Below this narrowing factor, the candidate's extra columns over an existing index on
/// some of its equality columns are not worth a new index: the existing index fetches at
/// most this many times the rows the candidate would, filtered on the heap.
const MIN_NARROWING: f64 = 4.0;

/// An ORDER BY … LIMIT whose equality columns match at least this share of the rows is
/// served by an existing index that gives the order: scanning it in order meets a
/// matching row every few entries and stops at the LIMIT. (Without MCV lists the share
/// is the average one; a rare value of a skewed column is the live validation's call.)
const ORDERED_SCAN_MIN_MATCH: f64 = 0.1;

/// Whether an existing index can serve a statement at all: a valid, ready, live B-tree.
fn usable(ix: &Index) -> bool {
    ix.is_valid && ix.is_ready && ix.is_live && ix.access_method == "btree"
}

/// A pattern opclass (`text_pattern_ops`) serves equality and `LIKE 'x%'`, but not the
/// ordinary `<`/ORDER BY of the default opclass.
fn pattern_opclass(ix: &Index, pos: usize) -> bool {
    ix.opclasses
        .get(pos)
        .is_some_and(|o| o.ends_with("_pattern_ops"))
}

/// The DESC flag of each key column, read from the index definition.
pub(crate) fn descending(ix: &Index) -> Vec<bool> {
    // `pg_get_indexdef` writes `DESC` in capitals; most indexes have none: no parse.
    if !ix.definition.contains(" DESC") {
        return vec![false; ix.key_columns.len()];
    }
    let parsed = Parser::parse_sql(&PostgreSqlDialect {}, &ix.definition);
    if let Ok(stmts) = parsed {
        if let Some(Statement::CreateIndex(ci)) = stmts.first() {
            return ci
                .columns
                .iter()
                .map(|c| matches!(c.column.options.sort, Some(OrderBySort::Desc)))
                .collect();
        }
    }
    vec![false; ix.key_columns.len()]
}

/// Whether the index predicate is the candidate's (`state = 'draft'::text` is
/// `state = 'draft'`): both parsed, casts and parentheses ignored.
fn same_predicate(index_predicate: Option<&str>, candidate: Option<&str>) -> bool {
    match (index_predicate, candidate) {
        (None, None) => true,
        (Some(a), Some(b)) => {
            let parse = |s: &str| {
                Parser::new(&PostgreSqlDialect {})
                    .try_with_sql(s)
                    .and_then(|mut p| p.parse_expr())
                    .ok()
            };
            match (parse(a), parse(b)) {
                (Some(x), Some(y)) => strip(&x) == strip(&y),
                _ => false,
            }
        }
        _ => false,
    }
}

/// An expression's text without casts and parentheses.
fn strip(e: &Expr) -> String {
    match e {
        Expr::Cast { expr, .. } | Expr::Nested(expr) => strip(expr),
        Expr::BinaryOp { left, op, right } => {
            let op = match op {
                BinaryOperator::And => "AND".to_owned(),
                o => o.to_string(),
            };
            format!("{} {op} {}", strip(left), strip(right))
        }
        Expr::IsNull(x) => format!("{} IS NULL", strip(x)),
        Expr::IsNotNull(x) => format!("{} IS NOT NULL", strip(x)),
        other => other.to_string().to_lowercase(),
    }
}

/// Whether the existing index serves the candidate's statements: the candidate's
/// equality columns (in any order) lead the index, followed by its range or ORDER BY
/// columns in order (ORDER BY directions equal or all reversed: a backward scan).
fn serves_as_prefix(ix: &Index, shape: &Shape<'_>) -> bool {
    let keys = &ix.key_columns;
    if keys.len() < shape.keys.len() {
        return false;
    }
    let (eq, rest) = shape.keys.split_at(shape.n_eq.min(shape.keys.len()));
    let mut lead: Vec<&str> = keys[..eq.len()].iter().map(String::as_str).collect();
    let mut want: Vec<&str> = eq.iter().map(|k| k.name.as_str()).collect();
    lead.sort_unstable();
    want.sort_unstable();
    if lead != want {
        return false;
    }
    let desc = descending(ix);
    let mut flips = Vec::new();
    for (i, k) in rest.iter().enumerate() {
        let pos = eq.len() + i;
        if keys[pos] != k.name || pattern_opclass(ix, pos) {
            return false;
        }
        flips.push(desc.get(pos).copied().unwrap_or(false) != k.desc);
    }
    // Range columns: any direction. ORDER BY: all the same way or all reversed.
    !shape.ordered || flips.iter().all(|f| *f) || flips.iter().all(|f| !*f)
}

/// Whether the index's leading keys give the candidate's ORDER BY columns (the keys after
/// its equality columns), in the same or the reverse direction.
fn gives_order(ix: &Index, shape: &Shape<'_>) -> bool {
    let tail = &shape.keys[shape.n_eq.min(shape.keys.len())..];
    if !shape.ordered || tail.is_empty() || ix.key_columns.len() < tail.len() {
        return false;
    }
    let desc = descending(ix);
    let mut flips = Vec::new();
    for (pos, k) in tail.iter().enumerate() {
        if ix.key_columns[pos] != k.name || pattern_opclass(ix, pos) {
            return false;
        }
        flips.push(desc.get(pos).copied().unwrap_or(false) != k.desc);
    }
    flips.iter().all(|f| *f) || flips.iter().all(|f| !*f)
}

/// The existing index that makes the candidate unnecessary, if any. `eq_selectivity`
/// gives a column's equality selectivity; `candidate_rows` is the rows a lookup with the
/// candidate would fetch; `served_max_rows` the option of that name.
pub(crate) fn served_by(
    indexes: &[&Index],
    shape: &Shape<'_>,
    table_rows: f64,
    eq_selectivity: &dyn Fn(&str) -> f64,
    candidate_rows: f64,
    served_max_rows: f64,
) -> Option<Served> {
    let eq: Vec<&str> = shape.keys[..shape.n_eq.min(shape.keys.len())]
        .iter()
        .map(|k| k.name.as_str())
        .collect();
    let mut narrowing: Option<Served> = None;
    for ix in indexes.iter().filter(|i| usable(i)) {
        let name = ix.qualified_name();
        if !same_predicate(ix.predicate.as_deref(), shape.predicate) {
            // A partial index without the candidate's predicate serves only some rows;
            // a non-partial one serves a partial candidate's statements too.
            if !(ix.predicate.is_none() && shape.predicate.is_some()) {
                continue;
            }
        }
        if serves_as_prefix(ix, shape) {
            return Some(Served {
                why: format!("served by index {name} (its leading columns are this one's)"),
                index: name,
            });
        }
        if ix.is_unique
            && ix.predicate.is_none()
            && !ix.key_columns.is_empty()
            && ix.key_columns.iter().all(|k| eq.contains(&k.as_str()))
        {
            return Some(Served {
                why: format!(
                    "served by unique index {name}: the equality columns find at most one row"
                ),
                index: name,
            });
        }
        let match_share = candidate_rows / table_rows.max(1.0);
        if shape.n_eq > 0
            && ix.predicate.is_none()
            && match_share >= ORDERED_SCAN_MIN_MATCH
            && gives_order(ix, shape)
        {
            return Some(Served {
                why: format!(
                    "served by index {name}: it gives the ORDER BY, and about {} of the rows match the equality columns, so a scan in order stops at the LIMIT soon",
                    crate::units::share(match_share.min(1.0))
                ),
                index: name,
            });
        }
        // The existing index's leading columns among the candidate's equality columns.
        let lead: Vec<&str> = ix
            .key_columns
            .iter()
            .take_while(|k| eq.contains(&k.as_str()))
            .map(String::as_str)
            .collect();
        if lead.is_empty() || narrowing.is_some() {
            continue;
        }
        let rows = table_rows * lead.iter().map(|c| eq_selectivity(c)).product::<f64>();
        let few = rows <= served_max_rows;
        // ORDER BY … LIMIT: stopping early matters unless the existing lookup is short.
        let little_gain = !shape.ordered && rows < MIN_NARROWING * candidate_rows.max(1.0);
        if few || little_gain {
            narrowing = Some(Served {
                why: if few {
                    format!(
                        "served by index {name}: ({}) already narrows a lookup to about {} rows",
                        lead.join(", "),
                        crate::units::count(rows.max(1.0))
                    )
                } else {
                    format!(
                        "served by index {name}: ({}) finds about {} rows, the extra columns would cut that less than {MIN_NARROWING:.0}×",
                        lead.join(", "),
                        crate::units::count(rows.max(1.0))
                    )
                },
                index: name,
            });
        }
    }
    narrowing
}

/// Existing indexes the candidate makes redundant: non-unique, backing no constraint,
/// not partial, plain B-tree indexes with the default ordering operators whose keys are
/// a strict left prefix of the candidate's and whose INCLUDE columns it has.
pub(crate) fn redundant(indexes: &[&Index], keys: &[Key], include: &[String]) -> Vec<String> {
    indexes
        .iter()
        .filter(|ix| {
            usable(ix)
                && !ix.is_unique
                && !ix.is_primary
                && !ix.is_exclusion
                && ix.constraint_name.is_none()
                && ix.predicate.is_none()
                && !ix.key_columns.is_empty()
                && ix.key_columns.len() < keys.len()
                && ix.key_attnums.iter().all(|a| *a != 0)
                && (0..ix.key_columns.len()).all(|p| !pattern_opclass(ix, p))
                && ix.key_columns.iter().zip(keys).all(|(a, b)| *a == b.name)
                && ix
                    .include_columns
                    .iter()
                    .all(|c| keys.iter().any(|k| k.name == *c) || include.contains(c))
        })
        .map(|ix| ix.qualified_name())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Snapshot;
    use pgsage_testkit::scenario::fixture_path;

    fn redundant_fixture() -> Snapshot {
        Snapshot::load(fixture_path("indexing", "redundant")).unwrap_or_else(|e| {
            panic!("{e} (capture the fixtures with scripts/capture-fixtures.sh)")
        })
    }

    fn key(n: &str) -> Key {
        Key {
            name: n.to_owned(),
            desc: false,
        }
    }

    fn served(
        s: &Snapshot,
        keys: &[Key],
        n_eq: usize,
        ordered: bool,
        pred: Option<&str>,
    ) -> Option<Served> {
        let indexes: Vec<&Index> = s
            .indexes
            .iter()
            .filter(|i| i.table == "purchase_line")
            .collect();
        let shape = Shape {
            keys,
            n_eq,
            ordered,
            predicate: pred,
        };
        // Lookups on the fixture's (empty) table: the narrowing rule stays out of the way.
        served_by(&indexes, &shape, 1e6, &|_| 0.5, 1.0, 0.0)
    }

    #[test]
    fn left_prefix_with_free_equality_order() {
        let s = redundant_fixture();
        // (product_id, date_planned) serves product_id = $1 AND date_planned > $2 …
        let by = served(
            &s,
            &[key("product_id"), key("date_planned")],
            1,
            false,
            None,
        );
        assert_eq!(
            by.expect("served").index,
            "public.purchase_line_product_date_idx"
        );
        // … and date_planned = $1 AND product_id = $2 (equality columns in any order).
        let by = served(
            &s,
            &[key("date_planned"), key("product_id")],
            2,
            false,
            None,
        );
        assert!(by.is_some());
        // Not date_planned = $1 AND product_id > $2: the range column must follow.
        let by = served(
            &s,
            &[key("date_planned"), key("product_id")],
            1,
            false,
            None,
        );
        assert!(by.is_none(), "{by:?}");
    }

    #[test]
    fn pattern_opclass_and_partial_indexes_do_not_serve() {
        let s = redundant_fixture();
        // name text_pattern_ops does not give ORDER BY name; (name, date_planned) does.
        let by = served(&s, &[key("name")], 0, true, None);
        assert_eq!(
            by.expect("served").index,
            "public.purchase_line_name_date_idx"
        );
        // A partial index serves the same predicate (casts and parentheses ignored).
        assert!(same_predicate(
            Some("(state = 'draft'::text)"),
            Some("state = 'draft'")
        ));
        assert!(!same_predicate(
            Some("state = 'draft'::text"),
            Some("state = 'done'")
        ));
        assert!(!same_predicate(Some("state = 'draft'::text"), None));
        // A unique index on the equality columns finds one row.
        let by = served(&s, &[key("code"), key("qty")], 2, false, None);
        assert!(by.expect("served").why.contains("unique"), "");
    }

    #[test]
    fn order_by_directions_must_match_up_to_a_backward_scan() {
        let s = redundant_fixture();
        let desc = |n: &str| Key {
            name: n.to_owned(),
            desc: true,
        };
        // (partner_id, date_planned) read backward: ORDER BY partner_id DESC, date_planned DESC.
        assert!(served(
            &s,
            &[desc("partner_id"), desc("date_planned")],
            0,
            true,
            None
        )
        .is_some());
        // Mixed directions need their own index.
        assert!(served(
            &s,
            &[key("partner_id"), desc("date_planned")],
            0,
            true,
            None
        )
        .is_none());
    }

    #[test]
    fn narrower_plain_indexes_become_redundant() {
        let s = redundant_fixture();
        let indexes: Vec<&Index> = s
            .indexes
            .iter()
            .filter(|i| i.table == "purchase_line")
            .collect();
        let r = redundant(&indexes, &[key("state"), key("qty")], &[]);
        assert_eq!(r, vec!["public.purchase_line_state_idx"]);
        // Unique (code), partial (product_id WHERE …) and INCLUDE columns the candidate
        // lacks are kept.
        assert!(redundant(&indexes, &[key("code"), key("qty")], &[]).is_empty());
        let r = redundant(&indexes, &[key("product_id"), key("qty")], &[]);
        assert_eq!(r, vec!["public.purchase_line_product_idx"]);
        assert!(redundant(&indexes, &[key("vendor_id"), key("qty")], &[]).is_empty());
        assert_eq!(
            redundant(
                &indexes,
                &[key("vendor_id"), key("qty")],
                &["price".to_owned()]
            ),
            vec!["public.purchase_line_vendor_incl_idx"]
        );
    }

    #[test]
    fn a_short_existing_lookup_serves_a_longer_candidate() {
        let s = redundant_fixture();
        let indexes: Vec<&Index> = s
            .indexes
            .iter()
            .filter(|i| i.table == "purchase_line")
            .collect();
        let keys = [key("vendor_id"), key("qty")];
        let shape = Shape {
            keys: &keys,
            n_eq: 2,
            ordered: false,
            predicate: None,
        };
        // vendor_id finds 20 of 100 000 rows: (vendor_id, qty) is noise.
        let by = served_by(&indexes, &shape, 100_000.0, &|_| 0.0002, 1.0, 100.0);
        assert!(by.expect("served").why.contains("narrows"));
        // vendor_id finds 10 000 rows and qty cuts that to 10: worth it.
        let sel = |c: &str| if c == "vendor_id" { 0.1 } else { 0.001 };
        let by = served_by(&indexes, &shape, 100_000.0, &sel, 10.0, 100.0);
        assert!(by.is_none(), "{by:?}");
    }
}
