//! Parsed scopes → per table occurrence, the columns a statement uses: relations resolved
//! against the snapshot's tables (aliases, schema-qualified or via `public`/the only table
//! of that name, CTE names are not tables), columns against the snapshot's columns
//! (unqualified ones belong to the one table in scope that has them; ambiguous ones are
//! skipped; none in scope → the enclosing query's, for correlated subqueries).

use std::collections::BTreeSet;

use super::catalog::Catalog;
use super::parse::{Parsed, Relation, ScopeKind};
use super::predicates::{Comparison, Operand, RawColumn};

/// An equality column of a table occurrence.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Equality {
    /// Column name.
    pub column: String,
    /// The literal it is compared with (`'draft'`, `NULL` for IS NULL), when the text has
    /// one (a logged example; normalized texts have `$n`).
    pub literal: Option<String>,
    /// `IS NULL`.
    pub is_null: bool,
    /// Compared with another relation's column (a join: served on the inner side of a
    /// nested loop, one lookup per outer row).
    pub join: bool,
    /// Values matched (an `IN` list's length; 1 for `=`).
    pub values: usize,
}

/// A range column of a table occurrence.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Range {
    /// Column name.
    pub column: String,
    /// Bounded on both sides (`BETWEEN`, or `>` and `<` together).
    pub two_sided: bool,
}

/// What one statement does with one occurrence of a table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TableUse {
    /// The table's oid.
    pub table_oid: u32,
    /// SELECT (any read), or the target of an UPDATE/DELETE.
    pub kind: ScopeKind,
    /// Equality columns (constants and joins).
    pub equalities: Vec<Equality>,
    /// Range columns.
    pub ranges: Vec<Range>,
    /// ORDER BY columns of this table with direction (true: DESC), when the whole ORDER BY
    /// is on this table's plain columns.
    pub order_by: Vec<(String, bool)>,
    /// The block has a LIMIT.
    pub limit: bool,
    /// GROUP BY columns of this table.
    pub group_by: Vec<String>,
    /// Columns read.
    pub reads: BTreeSet<String>,
    /// Every column is read (`*`).
    pub reads_all: bool,
    /// UPDATE target: the columns set.
    pub updated: Vec<String>,
}

impl TableUse {
    /// Whether anything here an index could serve.
    pub fn indexable(&self) -> bool {
        !self.equalities.is_empty()
            || !self.ranges.is_empty()
            || (self.limit && !self.order_by.is_empty())
    }
}

/// A statement resolved against the catalog.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Resolved {
    /// One entry per occurrence of a known table.
    pub uses: Vec<TableUse>,
    /// Named relations not found in the snapshot (not counting CTEs).
    pub unknown: usize,
    /// A single block on a single table, without aggregates, GROUP BY or LIMIT: its
    /// `rows / calls` are the rows its predicate matches.
    pub simple_single_table: bool,
}

/// Where a column reference points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// A known table's column: (scope, relation index).
    Base(usize, usize),
    /// A subquery's, function's or unknown table's column, or ambiguous.
    Opaque,
    /// Nothing in scope has it: a PL/pgSQL variable or function parameter (a constant
    /// for one execution).
    Unresolved,
}

/// Resolves a parsed statement; unqualified tables in `search_path` first, when known.
/// `like_prefix_ok`: `LIKE 'prefix%'` is a range (the database's collation is C).
pub(crate) fn resolve(
    parsed: &Parsed,
    catalog: &Catalog<'_>,
    search_path: Option<&[String]>,
    like_prefix_ok: bool,
) -> Resolved {
    // Per scope, per relation: the table oid when known.
    let oids: Vec<Vec<Option<u32>>> = parsed
        .scopes
        .iter()
        .map(|s| {
            s.relations
                .iter()
                .map(|r| match r {
                    Relation::Named { schema, name, .. } => {
                        if schema.is_none() && parsed.ctes.contains(name) {
                            return None;
                        }
                        catalog
                            .table_in_path(schema.as_deref(), name, search_path)
                            .map(|t| t.oid)
                    }
                    Relation::Opaque { .. } => None,
                })
                .collect()
        })
        .collect();
    let mut unknown = 0;
    let mut uses: Vec<Vec<Option<TableUse>>> = Vec::new();
    for (si, s) in parsed.scopes.iter().enumerate() {
        let mut row = Vec::new();
        for (ri, r) in s.relations.iter().enumerate() {
            let oid = oids[si][ri];
            if let (Relation::Named { schema, name, .. }, None) = (r, oid) {
                if schema.is_some() || !parsed.ctes.contains(name) {
                    unknown += 1;
                }
            }
            let kind = match s.kind {
                ScopeKind::Select => ScopeKind::Select,
                k if ri == 0 => k,
                _ => ScopeKind::Select,
            };
            row.push(oid.map(|table_oid| TableUse {
                table_oid,
                kind,
                equalities: Vec::new(),
                ranges: Vec::new(),
                order_by: Vec::new(),
                limit: s.limit,
                group_by: Vec::new(),
                reads: BTreeSet::new(),
                reads_all: false,
                updated: if kind == ScopeKind::Update {
                    s.updated.clone()
                } else {
                    Vec::new()
                },
            }));
        }
        uses.push(row);
    }

    let r = Resolver {
        parsed,
        catalog,
        oids: &oids,
    };
    for (si, s) in parsed.scopes.iter().enumerate() {
        for p in &s.predicates {
            let Target::Base(ts, tr) = r.target(&p.column, si) else {
                continue;
            };
            let other = match &p.other {
                Operand::Constant(lit) => Other::Constant(lit.clone()),
                Operand::Column(c) => match r.target(c, si) {
                    Target::Base(os, or) if (os, or) == (ts, tr) => continue,
                    Target::Base(..) | Target::Opaque => Other::Join,
                    Target::Unresolved => Other::Constant(None),
                },
            };
            let Some(u) = uses[ts][tr].as_mut() else {
                continue;
            };
            let column = p.column.name.clone();
            match (p.comparison, other) {
                (Comparison::Equality | Comparison::IsNull, other) => {
                    let is_null = p.comparison == Comparison::IsNull;
                    let (literal, join) = match other {
                        Other::Constant(l) => (l, false),
                        Other::Join => (None, true),
                    };
                    match u.equalities.iter_mut().find(|e| e.column == column) {
                        // A constant equality beats a join equality on the same column.
                        Some(e) => {
                            if e.join && !join {
                                *e = Equality {
                                    column,
                                    literal,
                                    is_null,
                                    join,
                                    values: p.values,
                                };
                            }
                        }
                        None => u.equalities.push(Equality {
                            column,
                            literal,
                            is_null,
                            join,
                            values: p.values,
                        }),
                    }
                }
                (Comparison::LikePrefix, _) if !like_prefix_ok => {}
                (_, Other::Join) => {}
                (c, Other::Constant(_)) => {
                    // `LIKE 'abc%'` is `>= 'abc' AND < 'abd'`.
                    let two = matches!(c, Comparison::RangeTwoSided | Comparison::LikePrefix);
                    match u.ranges.iter_mut().find(|x| x.column == column) {
                        // `> $1 AND < $2` on one column: bounded on both sides.
                        Some(x) => x.two_sided = true,
                        None => u.ranges.push(Range {
                            column,
                            two_sided: two,
                        }),
                    }
                }
            }
        }
        // ORDER BY: usable when it is wholly on one occurrence's plain columns.
        if s.order_by_complete && !s.order_by.is_empty() {
            let targets: Vec<Target> = s.order_by.iter().map(|(c, _)| r.target(c, si)).collect();
            if let Some(Target::Base(ts, tr)) = targets.first().copied() {
                if targets.iter().all(|t| *t == Target::Base(ts, tr)) && ts == si {
                    if let Some(u) = uses[ts][tr].as_mut() {
                        u.order_by = s
                            .order_by
                            .iter()
                            .map(|(c, d)| (c.name.clone(), *d))
                            .collect();
                    }
                }
            }
        }
        for c in &s.group_by {
            if let Target::Base(ts, tr) = r.target(c, si) {
                if let Some(u) = uses[ts][tr].as_mut() {
                    u.group_by.push(c.name.clone());
                }
            }
        }
        for c in s.reads.iter().chain(s.group_by.iter()) {
            if let Target::Base(ts, tr) = r.target(c, si) {
                if let Some(u) = uses[ts][tr].as_mut() {
                    u.reads.insert(c.name.clone());
                }
            }
        }
        for q in &s.reads_all {
            for (ri, rel) in s.relations.iter().enumerate() {
                let matches = match q {
                    None => true,
                    Some(q) => relation_answers_to(rel, q),
                };
                if let (true, Some(u)) = (matches, uses[si][ri].as_mut()) {
                    u.reads_all = true;
                }
            }
        }
    }
    let known: Vec<TableUse> = uses.into_iter().flatten().flatten().collect();
    let simple_single_table = parsed.scopes.len() == 1
        && parsed.scopes[0].relations.len() == 1
        && known.len() == 1
        && !parsed.scopes[0].aggregates
        && parsed.scopes[0].group_by.is_empty()
        && !parsed.scopes[0].limit;
    Resolved {
        uses: known,
        unknown,
        simple_single_table,
    }
}

enum Other {
    Constant(Option<String>),
    Join,
}

fn relation_answers_to(r: &Relation, qualifier: &str) -> bool {
    match r {
        Relation::Named { alias: Some(a), .. } | Relation::Opaque { alias: Some(a) } => {
            a == qualifier
        }
        Relation::Named {
            alias: None, name, ..
        } => name == qualifier,
        Relation::Opaque { alias: None } => false,
    }
}

struct Resolver<'p, 'c, 'a> {
    parsed: &'p Parsed,
    catalog: &'c Catalog<'a>,
    oids: &'p [Vec<Option<u32>>],
}

impl Resolver<'_, '_, '_> {
    fn target(&self, c: &RawColumn, scope: usize) -> Target {
        let mut si = Some(scope);
        while let Some(s) = si {
            let sc = &self.parsed.scopes[s];
            match &c.qualifier {
                Some(q) => {
                    if let Some(ri) = sc.relations.iter().position(|r| relation_answers_to(r, q)) {
                        return match self.oids[s][ri] {
                            Some(oid) if self.has_column(oid, &c.name) => Target::Base(s, ri),
                            _ => Target::Opaque,
                        };
                    }
                }
                None => {
                    let having: Vec<usize> = (0..sc.relations.len())
                        .filter(|ri| {
                            self.oids[s][*ri].is_some_and(|oid| self.has_column(oid, &c.name))
                        })
                        .collect();
                    match having.as_slice() {
                        [ri] => return Target::Base(s, *ri),
                        [] => {
                            // A subquery or unknown relation here may have the column.
                            if self.oids[s].iter().any(Option::is_none) {
                                return Target::Opaque;
                            }
                        }
                        _ => return Target::Opaque,
                    }
                }
            }
            si = sc.parent;
        }
        Target::Unresolved
    }

    fn has_column(&self, oid: u32, name: &str) -> bool {
        self.catalog.column(oid, name).is_some()
    }
}
