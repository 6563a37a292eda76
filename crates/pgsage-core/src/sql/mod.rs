//! Small helpers for SQL text: writing what users are shown (fixes, identifiers),
//! reading conditions, and [`impact`]: what applying a fix's statements costs (locks,
//! rewrites, when they can run).

pub mod impact;
mod split;

/// Quotes an identifier when PostgreSQL would need it quoted.
pub fn quote_ident(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '$')
        && !is_reserved(name);
    if plain {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// `ALTER SYSTEM SET name = 'value';`: the one way a setting change is written, in the
/// audit's fixes and in `pgsage tune --script`.
pub fn alter_system(name: &str, value: &str) -> String {
    format!(
        "ALTER SYSTEM SET {} = {};",
        quote_ident(name),
        quote_literal(value)
    )
}

/// `schema.name`, each part quoted when needed.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", quote_ident(schema), quote_ident(name))
}

/// The terms of a condition's top-level `AND` (parentheses looked through), as sqlparser
/// parsed it: the index advisor's predicates and the plan rules' filter columns.
pub(crate) fn conjuncts(expr: &sqlparser::ast::Expr) -> Vec<&sqlparser::ast::Expr> {
    use sqlparser::ast::{BinaryOperator, Expr};
    let mut out = Vec::new();
    let mut pending = vec![expr];
    while let Some(e) = pending.pop() {
        match e {
            Expr::Nested(inner) => pending.push(inner),
            Expr::BinaryOp {
                left,
                op: BinaryOperator::And,
                right,
            } => {
                pending.push(right);
                pending.push(left);
            }
            other => out.push(other),
        }
    }
    out
}

/// Whether a statement is one of the foreign key checks PostgreSQL runs for a write on
/// the referenced table (`SELECT 1 FROM ONLY "s"."t" x WHERE $1 OPERATOR(pg_catalog.=)
/// "col" FOR KEY SHARE OF x`, from `ri_triggers.c`): the server's own work, seen in
/// pg_stat_statements with `track = all`, not a statement of the application.
pub(crate) fn is_foreign_key_check(query: &str) -> bool {
    let q = query
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    q.contains(" from only ")
        && q.contains("operator(pg_catalog.")
        && q.contains(" for key share of ")
}

/// Quotes a string literal.
pub fn quote_literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

// The reserved key words most likely to be used as names; quoting an unreserved
// word is harmless, so the list need not be complete to be correct.
fn is_reserved(name: &str) -> bool {
    matches!(
        name,
        "all"
            | "analyse"
            | "analyze"
            | "and"
            | "any"
            | "array"
            | "as"
            | "asc"
            | "both"
            | "case"
            | "cast"
            | "check"
            | "collate"
            | "column"
            | "constraint"
            | "create"
            | "default"
            | "desc"
            | "distinct"
            | "do"
            | "else"
            | "end"
            | "except"
            | "false"
            | "for"
            | "foreign"
            | "from"
            | "grant"
            | "group"
            | "having"
            | "in"
            | "into"
            | "limit"
            | "not"
            | "null"
            | "offset"
            | "on"
            | "only"
            | "or"
            | "order"
            | "primary"
            | "references"
            | "select"
            | "table"
            | "then"
            | "to"
            | "true"
            | "union"
            | "unique"
            | "user"
            | "using"
            | "when"
            | "where"
            | "with"
            | "window"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(quote_ident("stock_move"), "stock_move");
        assert_eq!(quote_ident("StockMove"), "\"StockMove\"");
        assert_eq!(quote_ident("order"), "\"order\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
        assert_eq!(qualified("public", "user"), "public.\"user\"");
        assert_eq!(quote_literal("it's"), "'it''s'");
    }
}

/// Whether running `earlier` makes `later` pointless: the same statement, or maintenance
/// of the same table that `earlier` already does (`VACUUM (ANALYZE) t` covers `VACUUM t`,
/// `VACUUM (ANALYZE, VERBOSE) t` and `ANALYZE t`). Whitespace and case do not matter.
pub fn covers(earlier: &str, later: &str) -> bool {
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .trim_end_matches(';')
            .to_owned()
    };
    let (a, b) = (norm(earlier), norm(later));
    if a == b {
        return true;
    }
    match (maintenance(&a), maintenance(&b)) {
        (Some(x), Some(y)) => {
            x.table == y.table
                && !x.full
                && !y.full
                && x.vacuum >= y.vacuum
                && x.analyze >= y.analyze
        }
        _ => false,
    }
}

/// What a `VACUUM …` or `ANALYZE …` statement of one table does.
struct Maintenance {
    table: String,
    vacuum: bool,
    analyze: bool,
    full: bool,
}

fn maintenance(statement: &str) -> Option<Maintenance> {
    let upper = statement.to_uppercase();
    let (vacuum, rest) = if let Some(rest) = upper.strip_prefix("VACUUM") {
        (true, rest)
    } else if let Some(rest) = upper.strip_prefix("ANALYZE") {
        (false, rest)
    } else {
        return None;
    };
    let rest = rest.trim();
    let (options, target) = match rest.strip_prefix('(') {
        Some(inner) => {
            let end = inner.find(')')?;
            (&inner[..end], inner[end + 1..].trim())
        }
        None => ("", rest),
    };
    // One table, no column list: anything else is not compared.
    if target.is_empty() || target.contains(' ') || target.contains(',') || target.contains('(') {
        return None;
    }
    let has = |o: &str| {
        options
            .split(',')
            .any(|x| x.trim().split(' ').next() == Some(o))
    };
    // Keep the table's original spelling (quoted identifiers are case-sensitive).
    let table = statement[statement.len() - target.len()..].to_owned();
    Some(Maintenance {
        table,
        vacuum,
        analyze: !vacuum || has("ANALYZE"),
        full: has("FULL"),
    })
}

#[cfg(test)]
mod covers_tests {
    use super::covers;

    #[test]
    fn a_vacuum_analyze_covers_lesser_maintenance_of_the_same_table_only() {
        assert!(covers(
            "VACUUM (ANALYZE) public.t;",
            "VACUUM (ANALYZE, VERBOSE) public.t;"
        ));
        assert!(covers("VACUUM (ANALYZE) public.t;", "ANALYZE public.t;"));
        assert!(covers("VACUUM (ANALYZE) public.t;", "VACUUM public.t;"));
        assert!(covers("ANALYZE  public.t;", "analyze public.t"));
        assert!(!covers("VACUUM public.t;", "ANALYZE public.t;"));
        assert!(!covers("ANALYZE public.t;", "VACUUM (ANALYZE) public.t;"));
        assert!(!covers("VACUUM (ANALYZE) public.t;", "ANALYZE public.u;"));
        assert!(!covers(
            "VACUUM (ANALYZE) public.t;",
            "VACUUM (FULL) public.t;"
        ));
        assert!(!covers("ANALYZE public.t (a);", "ANALYZE public.t;"));
    }
}
