//! Statement text → what each query block (scope) does with which columns, before names
//! are resolved against the catalog: the relations of its FROM/JOIN (with aliases), the
//! indexable conjuncts of its WHERE and JOIN … ON, its ORDER BY/GROUP BY/LIMIT, and the
//! columns it reads.
//!
//! sqlparser (PostgreSQL dialect) parses the text; the AST is walked by hand (the crate's
//! `visitor` feature is off). Subqueries (FROM, EXISTS, IN, scalar), CTEs, UNION branches,
//! UPDATE/DELETE … WHERE and INSERT … SELECT each give a scope; a subquery's scope points
//! to its parent so correlated references (`l.order_id = o.id` inside EXISTS) resolve.

use sqlparser::ast::{
    Expr, FromTable, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, InTarget,
    LimitClause, ObjectName, OrderByKind, Query, Select, SelectItem, SetExpr, Statement,
    TableFactor, TableWithJoins, UpdateTableFromKind,
};
use sqlparser::dialect::PostgreSqlDialect;

use super::predicates::{classify, column_of, fold, has_aggregate, Predicate, RawColumn};
use crate::sql::conjuncts;
use sqlparser::parser::Parser;

/// A relation of a scope's FROM list.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Relation {
    /// A table (or view, CTE…) by name: `schema.name alias`.
    Named {
        /// Schema, when qualified.
        schema: Option<String>,
        /// Name.
        name: String,
        /// Alias.
        alias: Option<String>,
    },
    /// A subquery, function or VALUES list: its columns are not a table's.
    Opaque {
        /// Its alias.
        alias: Option<String>,
    },
}

/// What kind of block a scope is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScopeKind {
    /// A SELECT block.
    Select,
    /// The target of an UPDATE (the first relation) and its FROM list.
    Update,
    /// The target of a DELETE (the first relation) and its USING list.
    Delete,
}

/// One query block.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scope {
    /// The enclosing block, for correlated references.
    pub parent: Option<usize>,
    /// What it is.
    pub kind: ScopeKind,
    /// Its FROM/JOIN relations.
    pub relations: Vec<Relation>,
    /// Indexable conjuncts of WHERE and JOIN … ON.
    pub predicates: Vec<Predicate>,
    /// ORDER BY's leading plain columns with their direction (true: DESC).
    pub order_by: Vec<(RawColumn, bool)>,
    /// Whether every ORDER BY item is a plain column (else an index cannot provide the
    /// whole order).
    pub order_by_complete: bool,
    /// GROUP BY's plain columns.
    pub group_by: Vec<RawColumn>,
    /// LIMIT or FETCH FIRST.
    pub limit: bool,
    /// An aggregate or window function in the select list.
    pub aggregates: bool,
    /// Columns referenced anywhere in the block.
    pub reads: Vec<RawColumn>,
    /// Columns referenced by its WHERE and JOIN … ON conditions (indexable or not): what
    /// the block filters or joins on.
    pub filters: Vec<RawColumn>,
    /// `*` (None) or `alias.*` (Some): every column of those relations is read.
    pub reads_all: Vec<Option<String>>,
    /// UPDATE: the columns SET.
    pub updated: Vec<String>,
}

impl Scope {
    fn new(parent: Option<usize>, kind: ScopeKind) -> Scope {
        Scope {
            parent,
            kind,
            relations: Vec::new(),
            predicates: Vec::new(),
            order_by: Vec::new(),
            order_by_complete: true,
            group_by: Vec::new(),
            limit: false,
            aggregates: false,
            reads: Vec::new(),
            filters: Vec::new(),
            reads_all: Vec::new(),
            updated: Vec::new(),
        }
    }
}

/// A parsed statement's scopes.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Parsed {
    /// Every query block, outermost first.
    pub scopes: Vec<Scope>,
    /// Names of the statement's CTEs (not tables).
    pub ctes: Vec<String>,
}

/// Whether statement `sql` filters or joins on table `table` (unqualified name, as
/// PostgreSQL folds it): a WHERE or JOIN … ON condition of a block that reads it names one
/// of its columns (qualified by its name or alias, or unqualified in a block that reads
/// it), in that block or a correlated subquery. A statement without such a condition
/// (`UPDATE t SET state = $1`), a utility statement, a `DO` block or a text the parser
/// cannot read gives `false`: it is no sign that an index is missing.
pub(crate) fn filters_table(sql: &str, table: &str) -> bool {
    let Ok(parsed) = parse(sql) else {
        return false;
    };
    let table = table.to_lowercase();
    // The names the table goes by, per scope that reads it.
    let mut names: Vec<String> = Vec::new();
    let mut scopes_reading: Vec<usize> = Vec::new();
    for (i, scope) in parsed.scopes.iter().enumerate() {
        for r in &scope.relations {
            if let Relation::Named { name, alias, .. } = r {
                if name.to_lowercase() == table && !parsed.ctes.contains(name) {
                    names.push(alias.clone().unwrap_or_else(|| name.clone()).to_lowercase());
                    scopes_reading.push(i);
                }
            }
        }
    }
    parsed.scopes.iter().enumerate().any(|(i, scope)| {
        scope.filters.iter().any(|c| match &c.qualifier {
            Some(q) => names.contains(&q.to_lowercase()),
            None => scopes_reading.contains(&i),
        })
    })
}

/// Parses one statement text (several `;`-separated statements are all read). Err: the
/// parser's message.
pub(crate) fn parse(sql: &str) -> Result<Parsed, String> {
    let statements = match Parser::parse_sql(&PostgreSqlDialect {}, sql) {
        Ok(s) => s,
        Err(e) => {
            // sqlparser knows `FOR UPDATE`/`FOR SHARE` but not the key-level row locks
            // (Odoo's `FOR NO KEY UPDATE`, the foreign key checks' `FOR KEY SHARE`);
            // they do not change which rows are searched.
            let relaxed = relax_row_locks(sql);
            if relaxed == sql {
                return Err(e.to_string());
            }
            Parser::parse_sql(&PostgreSqlDialect {}, &relaxed).map_err(|e| e.to_string())?
        }
    };
    let mut w = Walker::default();
    for s in &statements {
        w.statement(s, None);
    }
    Ok(Parsed {
        scopes: w.scopes,
        ctes: w.ctes,
    })
}

/// The text with `FOR NO KEY UPDATE` → `FOR UPDATE` and `FOR KEY SHARE` → `FOR SHARE`
/// (ASCII case-insensitive, single spaces as pg_stat_statements and ORMs write them).
fn relax_row_locks(sql: &str) -> String {
    let mut out = sql.to_owned();
    for (from, to) in [
        ("for no key update", "FOR UPDATE"),
        ("for key share", "FOR SHARE"),
    ] {
        while let Some(pos) = out.to_ascii_lowercase().find(from) {
            out.replace_range(pos..pos + from.len(), to);
        }
    }
    out
}

fn name_parts(name: &ObjectName) -> Vec<String> {
    name.0
        .iter()
        .filter_map(|p| p.as_ident().map(fold))
        .collect()
}

#[derive(Default)]
struct Walker {
    scopes: Vec<Scope>,
    ctes: Vec<String>,
}

impl Walker {
    fn push(&mut self, scope: Scope) -> usize {
        self.scopes.push(scope);
        self.scopes.len() - 1
    }

    fn statement(&mut self, s: &Statement, parent: Option<usize>) {
        match s {
            Statement::Query(q) => self.query(q, parent),
            Statement::Insert(ins) => {
                // INSERT … SELECT reads; the target table is written, not searched.
                if let Some(src) = &ins.source {
                    self.query(src, parent);
                }
            }
            Statement::Update(u) => {
                let id = self.push(Scope::new(parent, ScopeKind::Update));
                self.table_with_joins(&u.table, id);
                if let Some(from) = &u.from {
                    let (UpdateTableFromKind::BeforeSet(list)
                    | UpdateTableFromKind::AfterSet(list)) = from;
                    for t in list {
                        self.table_with_joins(t, id);
                    }
                }
                for a in &u.assignments {
                    use sqlparser::ast::AssignmentTarget;
                    let targets: Vec<&ObjectName> = match &a.target {
                        AssignmentTarget::ColumnName(n) => vec![n],
                        AssignmentTarget::Tuple(ns) => ns.iter().collect(),
                    };
                    for n in targets {
                        if let Some(last) = name_parts(n).pop() {
                            self.scopes[id].updated.push(last);
                        }
                    }
                    self.expr(&a.value, id);
                }
                if let Some(w) = &u.selection {
                    self.condition(w, id);
                }
                if let Some(r) = &u.returning {
                    self.select_items(r, id);
                }
            }
            Statement::Delete(d) => {
                let id = self.push(Scope::new(parent, ScopeKind::Delete));
                let (FromTable::WithFromKeyword(list) | FromTable::WithoutKeyword(list)) = &d.from;
                for t in list {
                    self.table_with_joins(t, id);
                }
                for t in d.using.iter().flatten() {
                    self.table_with_joins(t, id);
                }
                if let Some(w) = &d.selection {
                    self.condition(w, id);
                }
                if let Some(r) = &d.returning {
                    self.select_items(r, id);
                }
            }
            // DDL, utility, transaction control…: nothing an index serves.
            _ => {}
        }
    }

    fn query(&mut self, q: &Query, parent: Option<usize>) {
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                self.ctes.push(fold(&cte.alias.name));
                self.query(&cte.query, parent);
            }
        }
        let limit = match &q.limit_clause {
            Some(LimitClause::LimitOffset { limit, .. }) => limit.is_some(),
            Some(LimitClause::OffsetCommaLimit { .. }) => true,
            None => false,
        } || q.fetch.is_some();
        let order: Vec<&sqlparser::ast::OrderByExpr> = match q.order_by.as_ref().map(|o| &o.kind) {
            Some(OrderByKind::Expressions(list)) => list.iter().collect(),
            _ => Vec::new(),
        };
        match q.body.as_ref() {
            SetExpr::Select(sel) => {
                let id = self.select(sel, parent);
                let scope_order = &mut Vec::new();
                let mut complete = true;
                for o in &order {
                    let desc = matches!(o.options.sort, Some(sqlparser::ast::OrderBySort::Desc));
                    // A NULLS order other than the direction's default (NULLS LAST for
                    // ASC, FIRST for DESC) needs an index built with it; candidates do
                    // not carry one, so such an ORDER BY is left to the sort.
                    let default_nulls = o.options.nulls_first.is_none_or(|f| f == desc);
                    let using =
                        matches!(o.options.sort, Some(sqlparser::ast::OrderBySort::Using(_)));
                    match (complete && default_nulls && !using, column_of(&o.expr)) {
                        (true, Some(c)) => scope_order.push((c, desc)),
                        _ => complete = false,
                    }
                    self.expr(&o.expr, id);
                }
                let s = &mut self.scopes[id];
                s.order_by = std::mem::take(scope_order);
                s.order_by_complete = complete;
                s.limit = limit;
            }
            other => {
                self.set_expr(other, parent);
            }
        }
    }

    fn set_expr(&mut self, body: &SetExpr, parent: Option<usize>) {
        match body {
            SetExpr::Select(sel) => {
                self.select(sel, parent);
            }
            SetExpr::Query(q) => self.query(q, parent),
            SetExpr::SetOperation { left, right, .. } => {
                self.set_expr(left, parent);
                self.set_expr(right, parent);
            }
            SetExpr::Insert(s) | SetExpr::Update(s) | SetExpr::Delete(s) => {
                self.statement(s, parent)
            }
            // VALUES, TABLE, MERGE: nothing searched by column.
            _ => {}
        }
    }

    fn select(&mut self, sel: &Select, parent: Option<usize>) -> usize {
        let id = self.push(Scope::new(parent, ScopeKind::Select));
        for t in &sel.from {
            self.table_with_joins(t, id);
        }
        self.select_items(&sel.projection, id);
        if let Some(w) = &sel.selection {
            self.condition(w, id);
        }
        if let GroupByExpr::Expressions(list, _) = &sel.group_by {
            for e in list {
                if let Some(c) = column_of(e) {
                    self.scopes[id].group_by.push(c);
                }
                self.expr(e, id);
            }
        }
        if let Some(h) = &sel.having {
            self.expr(h, id);
        }
        id
    }

    fn select_items(&mut self, items: &[SelectItem], id: usize) {
        for item in items {
            match item {
                SelectItem::UnnamedExpr(e)
                | SelectItem::ExprWithAlias { expr: e, .. }
                | SelectItem::ExprWithAliases { expr: e, .. } => {
                    if has_aggregate(e) {
                        self.scopes[id].aggregates = true;
                    }
                    self.expr(e, id);
                }
                SelectItem::QualifiedWildcard(kind, _) => {
                    let q = match kind {
                        sqlparser::ast::SelectItemQualifiedWildcardKind::ObjectName(n) => {
                            name_parts(n).pop()
                        }
                        sqlparser::ast::SelectItemQualifiedWildcardKind::Expr(_) => None,
                    };
                    self.scopes[id].reads_all.push(q);
                }
                SelectItem::Wildcard(_) => self.scopes[id].reads_all.push(None),
            }
        }
    }

    fn table_with_joins(&mut self, t: &TableWithJoins, id: usize) {
        self.table_factor(&t.relation, id);
        for j in &t.joins {
            self.table_factor(&j.relation, id);
            use sqlparser::ast::{JoinConstraint, JoinOperator as J};
            let constraint = match &j.join_operator {
                J::Join(c)
                | J::Inner(c)
                | J::Left(c)
                | J::LeftOuter(c)
                | J::Right(c)
                | J::RightOuter(c)
                | J::FullOuter(c)
                | J::CrossJoin(c)
                | J::Semi(c)
                | J::LeftSemi(c)
                | J::RightSemi(c)
                | J::Anti(c)
                | J::LeftAnti(c)
                | J::RightAnti(c)
                | J::StraightJoin(c) => Some(c),
                J::AsOf { constraint, .. } => Some(constraint),
                _ => None,
            };
            if let Some(JoinConstraint::On(e)) = constraint {
                self.condition(e, id);
            }
        }
    }

    fn table_factor(&mut self, f: &TableFactor, id: usize) {
        match f {
            TableFactor::Table {
                name, alias, args, ..
            } => {
                let mut parts = name_parts(name);
                let alias = alias.as_ref().map(|a| fold(&a.name));
                if args.is_some() || parts.is_empty() {
                    // A set-returning function written like a table.
                    self.scopes[id].relations.push(Relation::Opaque { alias });
                    return;
                }
                let name = parts.pop().unwrap_or_default();
                let schema = parts.pop();
                self.scopes[id].relations.push(Relation::Named {
                    schema,
                    name,
                    alias,
                });
            }
            TableFactor::Derived {
                subquery, alias, ..
            } => {
                self.query(subquery, Some(id));
                self.scopes[id].relations.push(Relation::Opaque {
                    alias: alias.as_ref().map(|a| fold(&a.name)),
                });
            }
            TableFactor::NestedJoin {
                table_with_joins, ..
            } => self.table_with_joins(table_with_joins, id),
            TableFactor::Function { alias, args, .. } => {
                for a in args {
                    self.function_arg(a, id);
                }
                self.scopes[id].relations.push(Relation::Opaque {
                    alias: alias.as_ref().map(|a| fold(&a.name)),
                });
            }
            TableFactor::TableFunction { alias, .. } | TableFactor::UNNEST { alias, .. } => {
                self.scopes[id].relations.push(Relation::Opaque {
                    alias: alias.as_ref().map(|a| fold(&a.name)),
                });
            }
            _ => self.scopes[id]
                .relations
                .push(Relation::Opaque { alias: None }),
        }
    }

    /// A WHERE or ON condition: its top-level AND terms are classified; everything is
    /// walked for column reads and subqueries.
    fn condition(&mut self, e: &Expr, id: usize) {
        for c in conjuncts(e) {
            self.scopes[id].predicates.extend(classify(c));
        }
        let before = self.scopes[id].reads.len();
        self.expr(e, id);
        let read = self.scopes[id].reads[before..].to_vec();
        self.scopes[id].filters.extend(read);
    }

    /// Records the columns an expression reads and walks its subqueries.
    fn expr(&mut self, e: &Expr, id: usize) {
        match e {
            Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
                if let Some(c) = column_of(e) {
                    self.scopes[id].reads.push(c);
                }
            }
            Expr::Exists { subquery, .. } | Expr::Subquery(subquery) => {
                self.query(subquery, Some(id))
            }
            Expr::In { expr, target, .. } => {
                self.expr(expr, id);
                match target {
                    InTarget::List(list) => list.iter().for_each(|x| self.expr(x, id)),
                    InTarget::Subquery(q) => self.query(q, Some(id)),
                    InTarget::Unnest(x) => self.expr(x, id),
                    InTarget::Table { .. } => {}
                }
            }
            Expr::BinaryOp { left, right, .. }
            | Expr::AnyOp { left, right, .. }
            | Expr::AllOp { left, right, .. }
            | Expr::IsDistinctFrom(left, right)
            | Expr::IsNotDistinctFrom(left, right) => {
                self.expr(left, id);
                self.expr(right, id);
            }
            Expr::Like { expr, pattern, .. }
            | Expr::ILike { expr, pattern, .. }
            | Expr::SimilarTo { expr, pattern, .. }
            | Expr::RLike { expr, pattern, .. } => {
                self.expr(expr, id);
                self.expr(pattern, id);
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                self.expr(expr, id);
                self.expr(low, id);
                self.expr(high, id);
            }
            Expr::IsNull(x)
            | Expr::IsNotNull(x)
            | Expr::IsTrue(x)
            | Expr::IsFalse(x)
            | Expr::IsNotTrue(x)
            | Expr::IsNotFalse(x)
            | Expr::IsUnknown(x)
            | Expr::IsNotUnknown(x)
            | Expr::Nested(x)
            | Expr::UnaryOp { expr: x, .. }
            | Expr::Cast { expr: x, .. }
            | Expr::Collate { expr: x, .. }
            | Expr::Extract { expr: x, .. }
            | Expr::Ceil { expr: x, .. }
            | Expr::Floor { expr: x, .. } => self.expr(x, id),
            Expr::AtTimeZone {
                timestamp,
                time_zone,
            } => {
                self.expr(timestamp, id);
                self.expr(time_zone, id);
            }
            Expr::Substring { expr, .. }
            | Expr::Trim { expr, .. }
            | Expr::Position { expr, .. } => self.expr(expr, id),
            Expr::Function(f) => {
                if let FunctionArguments::List(list) = &f.args {
                    for a in &list.args {
                        self.function_arg(a, id);
                    }
                }
                if let FunctionArguments::Subquery(q) = &f.args {
                    self.query(q, Some(id));
                }
                if let Some(filter) = &f.filter {
                    self.expr(filter, id);
                }
            }
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                if let Some(o) = operand {
                    self.expr(o, id);
                }
                for w in conditions {
                    self.expr(&w.condition, id);
                    self.expr(&w.result, id);
                }
                if let Some(e) = else_result {
                    self.expr(e, id);
                }
            }
            Expr::Tuple(list) => list.iter().for_each(|x| self.expr(x, id)),
            Expr::Array(a) => a.elem.iter().for_each(|x| self.expr(x, id)),
            // Constants and the rest (rare in ERP workloads): no column reads recorded,
            // which only makes a covering candidate less likely to be offered.
            _ => {}
        }
    }

    fn function_arg(&mut self, a: &FunctionArg, id: usize) {
        let e = match a {
            FunctionArg::Unnamed(e) => e,
            FunctionArg::Named { arg, .. } | FunctionArg::ExprNamed { arg, .. } => arg,
        };
        match e {
            FunctionArgExpr::Expr(x) => self.expr(x, id),
            FunctionArgExpr::QualifiedWildcard(n) => {
                self.scopes[id].reads_all.push(name_parts(n).pop())
            }
            FunctionArgExpr::Wildcard => {}
            _ => {}
        }
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
