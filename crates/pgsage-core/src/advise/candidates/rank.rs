//! Drafts → ranked candidates: the existing-index checks, the gates (table size,
//! selectivity, already-fast statements, workload share) with a precise reason for each
//! rejection, the size and write-overhead estimates, and the ranking.

use std::collections::HashMap;

use super::analyze::UpdateUse;
use super::build::{Draft, Helped};
use super::catalog::Catalog;
use super::estimate::{eq_selectivity, index_size_bytes, range_selectivity, write_overhead};
use super::existing::{redundant, served_by, Shape};
use super::{Candidate, Partitioning};
use crate::advise::model::Rejected;
use crate::advise::options::AdvisorOptions;
use crate::snapshot::Table;

/// Ranked candidates and the rejected ones.
pub(crate) struct Ranked {
    /// Most promising first.
    pub candidates: Vec<Candidate>,
    /// With the reason.
    pub rejected: Vec<Rejected>,
}

/// How `table` is partitioned (see [`Partitioning`]).
fn partitioning(catalog: &Catalog<'_>, table: &Table) -> Partitioning {
    if table.kind != "p" {
        return Partitioning::None;
    }
    let mut parts: Vec<&Table> = catalog
        .snapshot
        .tables
        .iter()
        .filter(|t| t.parent_oid == Some(table.oid))
        .collect();
    if parts.is_empty() || parts.iter().any(|t| t.kind == "p") {
        return Partitioning::Nested;
    }
    parts.sort_by(|a, b| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)));
    Partitioning::Partitions(
        parts
            .into_iter()
            .map(|t| (t.schema.clone(), t.name.clone()))
            .collect(),
    )
}

fn candidate(catalog: &Catalog<'_>, d: &Draft, table: &Table, helped: &[Helped]) -> Candidate {
    Candidate {
        partitioning: partitioning(catalog, table),
        table_oid: table.oid,
        schema: table.schema.clone(),
        table: table.name.clone(),
        columns: d
            .keys
            .iter()
            .map(|k| {
                if k.desc {
                    format!("{} DESC", k.name)
                } else {
                    k.name.clone()
                }
            })
            .collect(),
        include: d.include.clone(),
        predicate: d.predicate.clone(),
        queries: helped.iter().map(|h| h.fingerprint).collect(),
        weight_ms: helped.iter().map(|h| h.weight_ms).sum(),
        estimated_size_bytes: 0,
        redundant_indexes: Vec::new(),
        write_overhead: None,
    }
}

/// Applies the checks and gates to the drafts and ranks the survivors: by weight, then
/// non-partial first (a partial index serves only the logged constant, see
/// `build::partial_variant`), then smaller size.
pub(crate) fn rank(
    drafts: Vec<Draft>,
    catalog: &Catalog<'_>,
    workload_ms: f64,
    updates: &HashMap<u32, Vec<UpdateUse>>,
    opts: &AdvisorOptions,
) -> Ranked {
    let mut candidates = Vec::new();
    let mut rejected = Vec::new();
    for d in drafts {
        let Some(table) = catalog.table_by_oid(d.table_oid) else {
            continue;
        };
        let mut reject = |helped: &[Helped], reason: String| {
            rejected.push(Rejected {
                create_statement: candidate(catalog, &d, table, helped).create_statement(),
                reason,
            });
        };
        let rows = catalog.rows(table);
        if rows < opts.min_table_rows {
            reject(
                &d.helped,
                format!(
                    "table {} has about {} rows (fewer than min_table_rows = {:.0}): a sequential scan of it is cheap",
                    table.qualified_name(),
                    crate::units::count(rows),
                    opts.min_table_rows
                ),
            );
            continue;
        }
        let sel = |c: &str| eq_selectivity(catalog.column(table.oid, c), rows);
        let lookup_rows = rows
            * d.keys[..d.n_eq.min(d.keys.len())]
                .iter()
                .map(|k| sel(&k.name))
                .product::<f64>()
            * if !d.ordered && d.keys.len() > d.n_eq {
                range_selectivity(false)
            } else {
                1.0
            };
        let shape = Shape {
            keys: &d.keys,
            n_eq: d.n_eq,
            ordered: d.ordered,
            predicate: d.predicate.as_deref(),
        };
        let indexes = catalog.indexes(table.oid);
        if let Some(s) = served_by(
            indexes,
            &shape,
            rows,
            &sel,
            lookup_rows,
            opts.served_max_rows,
        ) {
            reject(&d.helped, s.why);
            continue;
        }
        let max_sel = opts.max_selectivity_pct / 100.0;
        let (selective, unselective): (Vec<Helped>, Vec<Helped>) = d
            .helped
            .iter()
            .cloned()
            .partition(|h| h.order_limit || h.selectivity <= max_sel);
        if selective.is_empty() {
            let worst = unselective
                .iter()
                .map(|h| h.selectivity)
                .fold(f64::INFINITY, f64::min);
            reject(
                &d.helped,
                format!(
                    "not selective: a lookup returns about {} of the table's rows (more than max_selectivity_pct = {}%); a sequential or bitmap scan is as good",
                    crate::units::percent(worst * 100.0),
                    opts.max_selectivity_pct
                ),
            );
            continue;
        }
        let (slow, fast): (Vec<Helped>, Vec<Helped>) = selective
            .into_iter()
            .partition(|h| h.calls > 0 && h.weight_ms / h.calls as f64 >= opts.min_mean_ms);
        if slow.is_empty() {
            let mean = fast.iter().map(|h| h.weight_ms).sum::<f64>()
                / fast.iter().map(|h| h.calls).sum::<u64>().max(1) as f64;
            reject(
                &d.helped,
                format!(
                    "its statements already run fast (mean {}, below min_mean_ms = {} ms)",
                    crate::units::millis(mean),
                    opts.min_mean_ms
                ),
            );
            continue;
        }
        let weight: f64 = slow.iter().map(|h| h.weight_ms).sum();
        let share = if workload_ms > 0.0 {
            100.0 * weight / workload_ms
        } else {
            0.0
        };
        if share < opts.min_workload_share_pct {
            reject(
                &slow,
                format!(
                    "its statements take {} of the workload's execution time (less than min_workload_share_pct = {}%)",
                    crate::units::percent(share),
                    opts.min_workload_share_pct
                ),
            );
            continue;
        }
        let mut c = candidate(catalog, &d, table, &slow);
        let index_rows = (rows * d.rows_share).max(1.0);
        let columns: Vec<_> = d
            .keys
            .iter()
            .map(|k| k.name.as_str())
            .chain(d.include.iter().map(String::as_str))
            .map(|n| catalog.column(table.oid, n))
            .collect();
        c.estimated_size_bytes = index_size_bytes(index_rows, &columns);
        c.redundant_indexes = redundant(indexes, &d.keys, &d.include);
        let hot_share = updates.get(&table.oid).and_then(|ups| {
            let total: u64 = ups.iter().map(|u| u.calls).sum();
            let touching: u64 = ups
                .iter()
                .filter(|u| {
                    u.columns
                        .iter()
                        .any(|col| d.keys.iter().any(|k| k.name == *col) || d.include.contains(col))
                })
                .map(|u| u.calls)
                .sum();
            (total > 0 && touching > 0).then(|| touching as f64 / total as f64)
        });
        c.write_overhead = write_overhead(catalog.snapshot, table, indexes.len(), hot_share);
        candidates.push(c);
    }
    candidates.sort_by(|a, b| {
        b.weight_ms
            .total_cmp(&a.weight_ms)
            .then(a.predicate.is_some().cmp(&b.predicate.is_some()))
            .then(a.estimated_size_bytes.cmp(&b.estimated_size_bytes))
            .then_with(|| a.create_statement().cmp(&b.create_statement()))
    });
    Ranked {
        candidates,
        rejected,
    }
}
