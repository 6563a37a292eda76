//! The indexable conjuncts of a condition: a column compared with a constant, a
//! parameter or another column (`=`, `IN`, `= ANY`, `IS NULL`, `<`…, `BETWEEN`,
//! `LIKE 'prefix%'`), the types that describe them ([`Predicate`], [`RawColumn`],
//! [`Comparison`], [`Operand`]), and the helpers that tell a column from a constant and
//! fold identifiers.

use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, Ident, InTarget,
    UnaryOperator, Value,
};

/// A column reference as written: `alias.column` or `column`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct RawColumn {
    /// The qualifier just before the column name (alias or table name), if any.
    pub qualifier: Option<String>,
    /// The column name (lower-cased unless quoted).
    pub name: String,
}

/// The other side of a comparison with a column.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    /// A constant: a literal (its SQL text, for partial indexes) or a parameter, a
    /// function of constants (`now() - interval '1 day'`)… (None: not a literal).
    Constant(Option<String>),
    /// Another column (a join, or a PL/pgSQL variable that resolves to no column).
    Column(RawColumn),
}

/// How a conjunct compares a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Comparison {
    /// `=`, `IN (…)`, `= ANY(…)`, `IS NULL`.
    Equality,
    /// `IS NULL` (an equality an index serves; a partial index predicate).
    IsNull,
    /// `<`, `<=`, `>`, `>=`: one side bounded.
    RangeOneSided,
    /// `BETWEEN`: both sides bounded.
    RangeTwoSided,
    /// `LIKE 'prefix%'`: a range only in the C collation (or with a pattern opclass).
    LikePrefix,
}

/// An indexable conjunct: a column compared with something.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Predicate {
    /// The column.
    pub column: RawColumn,
    /// How.
    pub comparison: Comparison,
    /// With what.
    pub other: Operand,
    /// Values matched: the length of an `IN (…)` list or OR of equalities (1 for a
    /// collapsed `IN ($1 /*, ... */)`, whose length is unknown).
    pub values: usize,
}

/// An identifier as PostgreSQL folds it: unquoted → lower case.
pub(crate) fn fold(ident: &Ident) -> String {
    match ident.quote_style {
        Some(_) => ident.value.clone(),
        None => ident.value.to_lowercase(),
    }
}

/// Aggregate functions whose presence means the rows returned are not the rows read.
const AGGREGATES: &[&str] = &[
    "count",
    "sum",
    "avg",
    "min",
    "max",
    "array_agg",
    "string_agg",
    "bool_and",
    "bool_or",
    "every",
    "json_agg",
    "jsonb_agg",
    "json_object_agg",
    "jsonb_object_agg",
    "stddev",
    "variance",
    "bit_and",
    "bit_or",
];

/// The indexable predicates of one conjunct. An OR gives nothing unless every branch is
/// an equality on the same column (`a = 1 OR a = 2` is `a IN (1, 2)`): an OR of different
/// columns needs one index per branch (a BitmapOr), which a single composite candidate
/// cannot serve, and guessing per-branch indexes from one statement is noise.
pub(crate) fn classify(e: &Expr) -> Vec<Predicate> {
    let one = |column: RawColumn, comparison, other| {
        vec![Predicate {
            column,
            comparison,
            other,
            values: 1,
        }]
    };
    match e {
        Expr::BinaryOp { left, op, right } => {
            let comparison = match op {
                BinaryOperator::Eq => Comparison::Equality,
                BinaryOperator::Lt
                | BinaryOperator::LtEq
                | BinaryOperator::Gt
                | BinaryOperator::GtEq => Comparison::RangeOneSided,
                BinaryOperator::Or => return or_of_equalities(e),
                BinaryOperator::PGCustomBinaryOperator(parts)
                    if parts.last().is_some_and(|p| p == "=") =>
                {
                    // `OPERATOR(pg_catalog.=)`, as in the foreign key checks' texts.
                    Comparison::Equality
                }
                _ => return Vec::new(),
            };
            match (column_of(left), column_of(right)) {
                (Some(l), Some(r)) if comparison == Comparison::Equality => {
                    // Both directions: each side can be the inner side of a nested loop.
                    let mut v = one(l.clone(), comparison, Operand::Column(r.clone()));
                    v.extend(one(r, comparison, Operand::Column(l)));
                    v
                }
                (Some(l), Some(r)) => one(l, comparison, Operand::Column(r)),
                (Some(l), None) => match constant(right) {
                    Some(lit) => one(l, comparison, Operand::Constant(lit)),
                    None => Vec::new(),
                },
                (None, Some(r)) => match constant(left) {
                    Some(lit) => one(r, comparison, Operand::Constant(lit)),
                    None => Vec::new(),
                },
                (None, None) => Vec::new(),
            }
        }
        Expr::AnyOp {
            left,
            compare_op: BinaryOperator::Eq,
            right,
            ..
        } => match (column_of(left), constant(right)) {
            (Some(c), Some(_)) => one(c, Comparison::Equality, Operand::Constant(None)),
            _ => Vec::new(),
        },
        Expr::In {
            expr,
            target: InTarget::List(list),
            negated: false,
            ..
        } => match column_of(expr) {
            Some(c) if list.iter().all(|x| constant(x).is_some()) => {
                let lit = match list.as_slice() {
                    [single] => constant(single).flatten(),
                    _ => None,
                };
                let mut p = one(c, Comparison::Equality, Operand::Constant(lit));
                p.iter_mut().for_each(|p| p.values = list.len().max(1));
                p
            }
            _ => Vec::new(),
        },
        Expr::IsNull(inner) => match column_of(inner) {
            Some(c) => one(
                c,
                Comparison::IsNull,
                Operand::Constant(Some("NULL".into())),
            ),
            None => Vec::new(),
        },
        Expr::Between {
            expr,
            negated: false,
            low,
            high,
        } => match column_of(expr) {
            Some(c) if constant(low).is_some() && constant(high).is_some() => {
                one(c, Comparison::RangeTwoSided, Operand::Constant(None))
            }
            _ => Vec::new(),
        },
        Expr::Like {
            negated: false,
            any: false,
            expr,
            pattern,
            ..
        } => match (column_of(expr), pattern.as_ref()) {
            (Some(c), Expr::Value(v)) => match &v.value {
                // Only a literal prefix: `$1` may start with `%`.
                Value::SingleQuotedString(p)
                    if !p.is_empty() && !p.starts_with('%') && !p.starts_with('_') =>
                {
                    one(c, Comparison::LikePrefix, Operand::Constant(None))
                }
                _ => Vec::new(),
            },
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}

fn or_of_equalities(e: &Expr) -> Vec<Predicate> {
    let mut branches = Vec::new();
    let mut pending = vec![e];
    while let Some(x) = pending.pop() {
        match x {
            Expr::Nested(inner) => pending.push(inner),
            Expr::BinaryOp {
                left,
                op: BinaryOperator::Or,
                right,
            } => {
                pending.push(left);
                pending.push(right);
            }
            other => branches.push(other),
        }
    }
    let mut column: Option<RawColumn> = None;
    let values = branches.len();
    for b in branches {
        let p = classify(b);
        match p.as_slice() {
            [p] if p.comparison == Comparison::Equality
                && matches!(p.other, Operand::Constant(_))
                && column.as_ref().is_none_or(|c| *c == p.column) =>
            {
                column = Some(p.column.clone());
            }
            _ => return Vec::new(),
        }
    }
    column
        .map(|c| Predicate {
            column: c,
            comparison: Comparison::Equality,
            other: Operand::Constant(None),
            values,
        })
        .into_iter()
        .collect()
}

/// The column an operand is: a plain (possibly qualified) reference, through parentheses.
/// A cast or function of a column is not the column: an index on the column does not
/// serve `lower(name) = $1` or `date_order::date = $1`.
pub(crate) fn column_of(e: &Expr) -> Option<RawColumn> {
    match e {
        Expr::Identifier(i) => Some(RawColumn {
            qualifier: None,
            name: fold(i),
        }),
        Expr::CompoundIdentifier(parts) if parts.len() >= 2 => Some(RawColumn {
            qualifier: Some(fold(&parts[parts.len() - 2])),
            name: fold(&parts[parts.len() - 1]),
        }),
        Expr::Nested(inner) => column_of(inner),
        _ => None,
    }
}

/// Whether an operand is a constant for one execution (Some), with its literal SQL text
/// when it is one literal (Some(Some)). Parameters, casts of constants, arithmetic and
/// functions of constants (`now() - interval '1 day'`) are constants.
pub(crate) fn constant(e: &Expr) -> Option<Option<String>> {
    match e {
        Expr::Value(v) => Some(match &v.value {
            Value::Placeholder(_) => None,
            Value::Null => None,
            Value::Number(n, _) => Some(n.to_string()),
            Value::Boolean(b) => Some(b.to_string()),
            Value::SingleQuotedString(s) => Some(crate::sql::quote_literal(s)),
            _ => None,
        }),
        Expr::TypedString(_) | Expr::Interval(_) => Some(None),
        Expr::Nested(inner) => constant(inner),
        Expr::Cast { expr, .. } => constant(expr),
        Expr::UnaryOp {
            op: UnaryOperator::Minus | UnaryOperator::Plus,
            expr,
        } => constant(expr).map(|_| None),
        Expr::BinaryOp { left, right, .. } => {
            (constant(left).is_some() && constant(right).is_some()).then_some(None)
        }
        Expr::Array(a) => a.elem.iter().all(|x| constant(x).is_some()).then_some(None),
        Expr::Function(f) => {
            let args_constant = match &f.args {
                FunctionArguments::None => true,
                FunctionArguments::List(l) => l.args.iter().all(|a| match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => constant(x).is_some(),
                    _ => false,
                }),
                FunctionArguments::Subquery(_) => false,
            };
            let name = f.name.to_string().to_lowercase();
            // Volatile functions are evaluated per row: no index condition.
            let volatile = matches!(name.as_str(), "random" | "nextval" | "clock_timestamp");
            (args_constant && !volatile && f.over.is_none()).then_some(None)
        }
        _ => None,
    }
}

pub(crate) fn has_aggregate(e: &Expr) -> bool {
    match e {
        Expr::Function(f) => {
            let name = f
                .name
                .0
                .last()
                .and_then(|p| p.as_ident())
                .map(fold)
                .unwrap_or_default();
            f.over.is_some()
                || AGGREGATES.contains(&name.as_str())
                || match &f.args {
                    FunctionArguments::List(l) => l.args.iter().any(|a| {
                        matches!(a, FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) if has_aggregate(x))
                    }),
                    _ => false,
                }
        }
        Expr::Nested(x) | Expr::Cast { expr: x, .. } | Expr::UnaryOp { expr: x, .. } => {
            has_aggregate(x)
        }
        Expr::BinaryOp { left, right, .. } => has_aggregate(left) || has_aggregate(right),
        Expr::Case {
            conditions,
            else_result,
            ..
        } => {
            conditions.iter().any(|w| has_aggregate(&w.result))
                || else_result.as_deref().is_some_and(has_aggregate)
        }
        _ => false,
    }
}
