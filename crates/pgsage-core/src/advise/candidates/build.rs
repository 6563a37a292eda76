//! Candidate assembly: per (statement, table occurrence) the index a B-tree wants —
//! equality columns first (most selective first), then ONE range column or the ORDER BY
//! columns — with a covering and a partial variant where they apply; then identical
//! candidates merged across statements, and narrower ones folded into wider ones.

use std::collections::BTreeMap;

use super::catalog::Catalog;
use super::estimate::{eq_selectivity, is_null_selectivity, range_selectivity};
use super::existing::Key;
use super::resolve::{Equality, TableUse};
use crate::advise::options::AdvisorOptions;
use crate::snapshot::Table;
use crate::workload::fingerprint::Fingerprint;

use super::parse::ScopeKind;

/// A partial index's predicate column must have at most this many distinct values: a
/// constant on such a column (`state = 'draft'`) splits the table into a few large parts,
/// and an index over only the part the statement reads is much smaller. On a column with
/// many values the constant of one logged example says nothing about the others.
const PARTIAL_MAX_DISTINCT: f64 = 10.0;

/// Index-only scans pay off when most of the table is all-visible; below this share a
/// covering (INCLUDE) variant still visits the heap for most rows and is not offered.
const MIN_ALL_VISIBLE_FOR_COVERING: f64 = 0.5;

/// A statement, as a draft counts it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Helped {
    /// Its fingerprint.
    pub fingerprint: Fingerprint,
    /// Its execution time in the workload (this database's share), ms.
    pub weight_ms: f64,
    /// Its executions.
    pub calls: u64,
    /// Estimated share of the table a lookup with this draft returns.
    pub selectivity: f64,
    /// ORDER BY … LIMIT served in order: the scan stops early, whatever the selectivity.
    pub order_limit: bool,
}

/// A candidate before the existing-index checks, the gates and the estimates.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Draft {
    /// The table.
    pub table_oid: u32,
    /// Key columns.
    pub keys: Vec<Key>,
    /// Leading keys that are equality columns.
    pub n_eq: usize,
    /// The keys after the equality columns are ORDER BY columns.
    pub ordered: bool,
    /// INCLUDE columns.
    pub include: Vec<String>,
    /// Partial index predicate.
    pub predicate: Option<String>,
    /// Share of the table's rows the index holds (1 unless partial).
    pub rows_share: f64,
    /// The statements it serves.
    pub helped: Vec<Helped>,
}

impl Draft {
    /// The statements' total time, ms.
    pub fn weight_ms(&self) -> f64 {
        self.helped.iter().map(|h| h.weight_ms).sum()
    }
}

/// A statement's numbers, for the drafts of its table uses.
pub(crate) struct StatementInfo {
    /// Fingerprint.
    pub fingerprint: Fingerprint,
    /// Execution time in this database, ms.
    pub weight_ms: f64,
    /// Executions in this database.
    pub calls: u64,
    /// `rows / calls / table rows`, when the statement is a single-table block without
    /// aggregates, GROUP BY or LIMIT: the observed share of the table it matches.
    pub observed_selectivity: Option<f64>,
}

fn equality_selectivity(catalog: &Catalog<'_>, table: &Table, rows: f64, e: &Equality) -> f64 {
    let col = catalog.column(table.oid, &e.column);
    if e.is_null {
        is_null_selectivity(col)
    } else {
        // An IN list matches each of its values.
        (eq_selectivity(col, rows) * e.values.max(1) as f64).min(1.0)
    }
}

/// The drafts of one table use of one statement.
pub(crate) fn drafts_for_use(
    u: &TableUse,
    stmt: &StatementInfo,
    catalog: &Catalog<'_>,
    opts: &AdvisorOptions,
) -> Vec<Draft> {
    let Some(table) = catalog.table_by_oid(u.table_oid) else {
        return Vec::new();
    };
    let rows = catalog.rows(table);
    let sel = |e: &Equality| equality_selectivity(catalog, table, rows, e);
    let mut constants: Vec<&Equality> = u.equalities.iter().filter(|e| !e.join).collect();
    constants.sort_by(|a, b| sel(a).total_cmp(&sel(b)).then(a.column.cmp(&b.column)));
    let joins: Vec<&Equality> = u.equalities.iter().filter(|e| e.join).collect();

    // The driving side uses the constants; the inner side of a nested loop also the join
    // columns (one lookup per outer row). When the constants alone already pick few rows
    // (within max_selectivity_pct), this table drives the join and a join-column index
    // would be a second guess for the same statement: only the constants' one is offered.
    let constants_selective = !constants.is_empty()
        && constants.iter().map(|e| sel(e)).product::<f64>() * 100.0 <= opts.max_selectivity_pct;
    let mut eq_sets = vec![constants.clone()];
    if !joins.is_empty() && !constants_selective {
        let mut with_joins = constants.clone();
        with_joins.extend(joins.iter().copied());
        with_joins.sort_by(|a, b| sel(a).total_cmp(&sel(b)).then(a.column.cmp(&b.column)));
        eq_sets.push(with_joins);
    }

    let include = covering_columns(u, table, opts);
    let mut out = Vec::new();
    for eq in eq_sets {
        let eq_sel: f64 = eq.iter().map(|e| sel(e)).product();
        let eq_keys: Vec<Key> = eq
            .iter()
            .map(|e| Key {
                name: e.column.clone(),
                desc: false,
            })
            .collect();
        let mut tails: Vec<(Vec<Key>, bool, f64)> = Vec::new();
        // ORDER BY … LIMIT: the index returns rows in order and the scan stops early.
        if u.limit && !u.order_by.is_empty() {
            let mut order: Vec<Key> = u
                .order_by
                .iter()
                .filter(|(c, _)| !eq.iter().any(|e| e.column == *c))
                .map(|(c, d)| Key {
                    name: c.clone(),
                    desc: *d,
                })
                .collect();
            // A backward scan gives the reverse order: store the first column ascending.
            if order.first().is_some_and(|k| k.desc) {
                order.iter_mut().for_each(|k| k.desc = !k.desc);
            }
            tails.push((order, true, eq_sel));
        }
        // One range column: after it, further columns are not searched, only filtered.
        let range = u
            .ranges
            .iter()
            .filter(|r| !eq.iter().any(|e| e.column == r.column))
            .min_by_key(|r| !r.two_sided);
        if let Some(r) = range {
            tails.push((
                vec![Key {
                    name: r.column.clone(),
                    desc: false,
                }],
                false,
                eq_sel * range_selectivity(r.two_sided),
            ));
        }
        if tails.is_empty() && !eq.is_empty() {
            tails.push((Vec::new(), false, eq_sel));
        }
        for (tail, ordered, estimated) in tails {
            let mut keys = eq_keys.clone();
            keys.extend(tail.iter().cloned());
            let mut n_eq = eq_keys.len();
            let mut ordered = ordered;
            let order_tail = ordered;
            if keys.len() > opts.max_key_columns {
                keys.truncate(opts.max_key_columns);
                if n_eq >= keys.len() {
                    n_eq = keys.len();
                    ordered = false;
                }
            }
            if keys.is_empty() {
                continue;
            }
            // Every predicate of the use is in the keys: what the statement matched is
            // what a lookup returns.
            let complete =
                keys.len() == u.equalities.len() + u.ranges.len().min(1) && u.ranges.len() <= 1;
            let selectivity = match (stmt.observed_selectivity, complete) {
                (Some(o), true) => o,
                _ => estimated,
            };
            let helped = Helped {
                fingerprint: stmt.fingerprint,
                weight_ms: stmt.weight_ms,
                calls: stmt.calls,
                selectivity,
                // Truncated ORDER BY columns no longer give the order.
                order_limit: order_tail && n_eq + tail.len() == keys.len(),
            };
            let include: Vec<String> = include
                .iter()
                .filter(|c| !keys.iter().any(|k| k.name == **c))
                .cloned()
                .collect();
            let draft = Draft {
                table_oid: u.table_oid,
                keys,
                n_eq,
                ordered,
                include: Vec::new(),
                predicate: None,
                rows_share: 1.0,
                helped: vec![helped],
            };
            if let Some(p) = partial_variant(&draft, &eq, catalog, table, rows) {
                out.push(p);
            }
            // The covering variant is a candidate of its own next to the plain index:
            // for a lookup of a few rows it saves a few heap visits for a larger index
            // (and breaks HOT updates of its INCLUDE columns), so it must win on its own
            // merits — ranked after the plain one at equal weight, chosen by a live
            // validation only when its benefit per byte beats it.
            if !include.is_empty() && include.len() <= opts.max_include_columns {
                out.push(Draft {
                    include,
                    ..draft.clone()
                });
            }
            out.push(draft);
        }
    }
    out
}

/// The columns a statement reads beyond the keys, when few enough to INCLUDE for an
/// index-only scan: reads only (an UPDATE/DELETE visits the heap anyway), no `*`, and a
/// mostly all-visible table.
fn covering_columns(u: &TableUse, table: &Table, opts: &AdvisorOptions) -> Vec<String> {
    let visible = if table.relpages > 0 {
        table.relallvisible as f64 / table.relpages as f64
    } else {
        0.0
    };
    if u.kind != ScopeKind::Select
        || u.reads_all
        || opts.max_include_columns == 0
        || visible < MIN_ALL_VISIBLE_FOR_COVERING
    {
        return Vec::new();
    }
    let keyed: Vec<&str> = u
        .equalities
        .iter()
        .map(|e| e.column.as_str())
        .chain(u.ranges.iter().map(|r| r.column.as_str()))
        .chain(u.order_by.iter().map(|(c, _)| c.as_str()))
        .collect();
    let others: Vec<String> = u
        .reads
        .iter()
        .filter(|c| !keyed.contains(&c.as_str()))
        .cloned()
        .collect();
    // Too many: a covering index would be a copy of the table.
    if others.len() > opts.max_include_columns {
        return Vec::new();
    }
    others
}

/// A partial variant: an equality with a literal on a low-cardinality column becomes the
/// predicate, the other keys stay. Literals only come from logged examples
/// (pg_stat_statements replaces every constant with `$n`), and one example's constant is
/// not proof that every execution uses it — so the full candidate is kept next to it and
/// ranks first on equal weight (see `rank`); a live validation with the examples decides.
fn partial_variant(
    draft: &Draft,
    eq: &[&Equality],
    catalog: &Catalog<'_>,
    table: &Table,
    rows: f64,
) -> Option<Draft> {
    let e = eq.iter().find(|e| {
        let col = catalog.column(table.oid, &e.column);
        match (&e.literal, e.is_null) {
            // `IS NULL` on a NOT NULL column matches nothing: no index for it.
            (Some(_), true) => col
                .filter(|c| !c.not_null)
                .and_then(|c| c.null_frac)
                .is_some_and(|f| f < 0.5),
            (Some(_), false) => {
                super::estimate::n_distinct(col, rows).is_some_and(|d| d <= PARTIAL_MAX_DISTINCT)
            }
            (None, _) => false,
        }
    })?;
    let literal = e.literal.as_ref()?;
    let pos = draft.keys.iter().position(|k| k.name == e.column)?;
    if pos >= draft.n_eq {
        return None;
    }
    let mut keys = draft.keys.clone();
    keys.remove(pos);
    if keys.is_empty() {
        return None;
    }
    let column = crate::sql::quote_ident(&e.column);
    let predicate = if e.is_null {
        format!("{column} IS NULL")
    } else {
        format!("{column} = {literal}")
    };
    Some(Draft {
        keys,
        n_eq: draft.n_eq - 1,
        predicate: Some(predicate),
        rows_share: equality_selectivity(catalog, table, rows, e),
        ..draft.clone()
    })
}

/// Merges identical drafts (same table, keys and predicate): the union of their
/// statements (a statement counted once) and of their INCLUDE columns — none when the
/// union exceeds `max_include_columns` (the plain index still serves them all).
pub(crate) fn merge_identical(drafts: Vec<Draft>, max_include: usize) -> Vec<Draft> {
    // Plain and covering variants stay apart (see `drafts_for_use`).
    type Id = (u32, Vec<Key>, Option<String>, bool);
    let mut by: BTreeMap<Id, Draft> = BTreeMap::new();
    for d in drafts {
        let id = (
            d.table_oid,
            d.keys.clone(),
            d.predicate.clone(),
            !d.include.is_empty(),
        );
        match by.get_mut(&id) {
            None => {
                by.insert(id, d);
            }
            Some(m) => absorb(m, d, max_include),
        }
    }
    without_emptied_covering(by.into_values().collect())
}

/// Covering variants whose merged INCLUDE list grew past `max_include_columns` lost it:
/// their plain twin (same keys and predicate, a superset of their statements) stays.
fn without_emptied_covering(drafts: Vec<Draft>) -> Vec<Draft> {
    let mut seen: Vec<(u32, Vec<Key>, Option<String>)> = Vec::new();
    let mut out = Vec::with_capacity(drafts.len());
    // Plain drafts first, so that an emptied covering one meets its twin.
    let (plain, covering): (Vec<Draft>, Vec<Draft>) =
        drafts.into_iter().partition(|d| d.include.is_empty());
    for d in plain.into_iter().chain(covering) {
        let id = (d.table_oid, d.keys.clone(), d.predicate.clone());
        if d.include.is_empty() {
            if seen.contains(&id) {
                continue;
            }
            seen.push(id);
        }
        out.push(d);
    }
    out
}

fn absorb(into: &mut Draft, from: Draft, max_include: usize) {
    for h in from.helped {
        if !into.helped.iter().any(|x| x.fingerprint == h.fingerprint) {
            into.helped.push(h);
        }
    }
    let wanted = !into.include.is_empty() || !from.include.is_empty();
    for c in from.include {
        if !into.include.contains(&c) {
            into.include.push(c);
        }
    }
    if wanted && into.include.len() > max_include {
        into.include.clear();
    }
    into.ordered |= from.ordered;
}

/// Folds a draft into a wider one on the same table whose keys it leads (same predicate):
/// the wider index serves the narrower one's statements through its left prefix. The
/// wider one is preferred only when its own statements weigh at least as much as the
/// narrower one's — otherwise both stay, and the narrower (cheaper, heavier) one ranks
/// first: one extra column for a minor statement is not worth widening the main index.
pub(crate) fn fold_prefixes(mut drafts: Vec<Draft>, max_include: usize) -> Vec<Draft> {
    let own: Vec<f64> = drafts.iter().map(Draft::weight_ms).collect();
    let mut gone = vec![false; drafts.len()];
    // Narrowest first, so that a chain (a) ⊂ (a, b) ⊂ (a, b, c) folds step by step.
    let mut order: Vec<usize> = (0..drafts.len()).collect();
    order.sort_by_key(|i| drafts[*i].keys.len());
    for &a in &order {
        let best = (0..drafts.len())
            .filter(|&b| {
                b != a
                    && !gone[b]
                    && drafts[b].table_oid == drafts[a].table_oid
                    && drafts[b].predicate == drafts[a].predicate
                    && drafts[b].include.is_empty() == drafts[a].include.is_empty()
                    && drafts[b].keys.len() > drafts[a].keys.len()
                    && drafts[b].keys.starts_with(&drafts[a].keys)
                    && own[b] >= own[a]
            })
            .max_by(|x, y| own[*x].total_cmp(&own[*y]));
        if let Some(b) = best {
            let from = drafts[a].clone();
            absorb(&mut drafts[b], from, max_include);
            gone[a] = true;
        }
    }
    let mut i = 0;
    drafts.retain(|_| {
        i += 1;
        !gone[i - 1]
    });
    without_emptied_covering(drafts)
}
