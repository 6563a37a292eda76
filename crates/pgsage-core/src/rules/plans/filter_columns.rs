//! The columns of a scan's `Filter` that an index could serve, read with sqlparser: the
//! columns compared with constants in the top-level `AND` of the condition, equality
//! columns first (`=`, `IN`, `= ANY`, `IS NULL`), then range columns (`<`, `>`,
//! `BETWEEN`), as a B-tree index wants them.

use sqlparser::ast::{BinaryOperator, Expr, InTarget, UnaryOperator};
use sqlparser::dialect::PostgreSqlDialect;
use sqlparser::parser::Parser;

/// How a column is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    Equality,
    Range,
}

/// The indexable columns of an EXPLAIN `Filter` text, equality columns first; empty when
/// the condition cannot be parsed or compares no column with a constant. Column names
/// lose their table qualifier (`l.price_unit` → `price_unit`) and keep their quotes.
///
/// ```
/// use pgsage_core::rules::plans::filter_columns;
/// assert_eq!(
///     filter_columns("((date > '2024-01-01'::date) AND (state = ANY ('{a,b}'::text[])))"),
///     vec!["state", "date"]
/// );
/// ```
pub fn filter_columns(filter: &str) -> Vec<String> {
    let Ok(mut parser) = Parser::new(&PostgreSqlDialect {}).try_with_sql(filter) else {
        return Vec::new();
    };
    let Ok(expr) = parser.parse_expr() else {
        return Vec::new();
    };
    let mut found: Vec<(String, Use)> = Vec::new();
    for conjunct in crate::sql::conjuncts(&expr) {
        if let Some((column, usage)) = indexable(conjunct) {
            match found.iter_mut().find(|(c, _)| *c == column) {
                Some(entry) if usage == Use::Equality => entry.1 = Use::Equality,
                Some(_) => {}
                None => found.push((column, usage)),
            }
        }
    }
    let (mut eq, range): (Vec<_>, Vec<_>) =
        found.into_iter().partition(|(_, u)| *u == Use::Equality);
    eq.extend(range);
    eq.into_iter().map(|(c, _)| c).collect()
}

fn indexable(expr: &Expr) -> Option<(String, Use)> {
    match expr {
        Expr::BinaryOp { left, op, right } => {
            let usage = match op {
                BinaryOperator::Eq => Use::Equality,
                BinaryOperator::Lt
                | BinaryOperator::LtEq
                | BinaryOperator::Gt
                | BinaryOperator::GtEq => Use::Range,
                _ => return None,
            };
            if is_constant(right) {
                Some((column(left)?, usage))
            } else if is_constant(left) {
                Some((column(right)?, usage))
            } else {
                None
            }
        }
        Expr::AnyOp {
            left,
            compare_op: BinaryOperator::Eq,
            right,
            ..
        } if is_constant(right) => Some((column(left)?, Use::Equality)),
        Expr::In {
            expr,
            target: InTarget::List(list),
            negated: false,
            ..
        } if list.iter().all(is_constant) => Some((column(expr)?, Use::Equality)),
        Expr::IsNull(inner) => Some((column(inner)?, Use::Equality)),
        Expr::Between {
            expr,
            negated: false,
            low,
            high,
        } if is_constant(low) && is_constant(high) => Some((column(expr)?, Use::Range)),
        _ => None,
    }
}

/// The column an operand is, through parentheses and casts (`(name)::text`).
fn column(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Identifier(ident) => Some(ident.to_string()),
        Expr::CompoundIdentifier(parts) => parts.last().map(ToString::to_string),
        Expr::Nested(inner) => column(inner),
        Expr::Cast { expr, .. } => column(expr),
        _ => None,
    }
}

/// Whether an operand is a constant: literals, parameters and casts of them.
fn is_constant(expr: &Expr) -> bool {
    match expr {
        Expr::Value(_) | Expr::TypedString { .. } => true,
        Expr::Nested(inner) => is_constant(inner),
        Expr::Cast { expr, .. } => is_constant(expr),
        Expr::UnaryOp {
            op: UnaryOperator::Minus | UnaryOperator::Plus,
            expr,
        } => is_constant(expr),
        Expr::Array(array) => array.elem.iter().all(is_constant),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_from_real_filters() {
        for (filter, expected) in [
            ("(price_unit > '990'::numeric)", vec!["price_unit"]),
            (
                "((location_id = 5) AND (location_dest_id = 6))",
                vec!["location_id", "location_dest_id"],
            ),
            (
                "((m.location_id = 5) AND (m.location_dest_id = 6))",
                vec!["location_id", "location_dest_id"],
            ),
            (
                "((product_uom_qty > '2'::numeric))",
                vec!["product_uom_qty"],
            ),
            ("((name)::text = 'x'::text)", vec!["name"]),
            ("(id BETWEEN 1 AND 5)", vec!["id"]),
            ("(a IS NULL)", vec!["a"]),
            ("(a = b)", vec![]),
            ("(lower(name) = 'x'::text)", vec![]),
            ("((a > 1) OR (b = 2))", vec![]),
            ("(amount_total > (InitPlan 1).col1)", vec![]),
            ("not sql at all ((", vec![]),
        ] {
            assert_eq!(filter_columns(filter), expected, "{filter}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!("{}a = 1{}", "(".repeat(5000), ")".repeat(5000));
        assert!(filter_columns(&deep).is_empty());
    }
}
