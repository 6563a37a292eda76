//! Estimated bloat that moved: VAC009's table and IDX008's index estimates with their
//! configured gates, compared where both snapshots could judge the relation.

use super::{cap, same_index, same_table, BloatChange, DatabaseChanges, GrowthThresholds};
use crate::config::RuleConfig;
use crate::rules::indexing::index_bloat::estimate_index;
use crate::rules::vacuum::bloat_estimate::{block_size, Bloat};
use crate::rules::vacuum::table_bloat::estimate_table;
use crate::snapshot::Snapshot;

/// The bloat rules' gates on which relations they judge: VAC009's for tables, IDX008's
/// for indexes, as configured.
pub(super) struct Gates {
    table: Option<(f64, f64)>,
    index: Option<(f64, f64)>,
}

impl Gates {
    pub(super) fn of(config: &RuleConfig) -> Option<Gates> {
        let read = |id: &str| {
            let params = &config.rules.get(id)?.params;
            let g: crate::rules::vacuum::bloat_estimate::Gates =
                crate::rules::params::parse(params).ok()?;
            Some((g.min_pages, g.max_modified_pct))
        };
        let gates = Gates {
            table: read("VAC009"),
            index: read("IDX008"),
        };
        (gates.table.is_some() || gates.index.is_some()).then_some(gates)
    }
}

pub(super) fn bloat(
    old: &Snapshot,
    new: &Snapshot,
    gates: &Gates,
    t: &GrowthThresholds,
    c: &mut DatabaseChanges,
) {
    let wasted = |s: &Snapshot, b: &Bloat| (b.wasted_pages() * block_size(s), b.wasted_pct());
    let mut list = Vec::new();
    if let Some((min_pages, max_mod)) = gates.table {
        for nt in &new.tables {
            let Some(ot) = old.tables.iter().find(|x| same_table(x, nt)) else {
                continue;
            };
            let (Ok(oe), Ok(ne)) = (
                estimate_table(old, ot, min_pages, max_mod),
                estimate_table(new, nt, min_pages, max_mod),
            ) else {
                continue;
            };
            list.push((
                "table",
                nt.qualified_name(),
                wasted(old, &oe.bloat),
                wasted(new, &ne.bloat),
            ));
        }
    }
    if let Some((min_pages, max_mod)) = gates.index {
        for ni in &new.indexes {
            let Some(oi) = old.indexes.iter().find(|x| same_index(x, ni)) else {
                continue;
            };
            let (Ok(oe), Ok(ne)) = (
                estimate_index(old, oi, min_pages, max_mod),
                estimate_index(new, ni, min_pages, max_mod),
            ) else {
                continue;
            };
            list.push((
                "index",
                ni.qualified_name(),
                wasted(old, &oe.bloat),
                wasted(new, &ne.bloat),
            ));
        }
    }
    let mut moved: Vec<BloatChange> = list
        .into_iter()
        .filter(|(_, _, (ob, op), (nb, np))| {
            (nb - ob).abs() >= t.min_bloat_change_bytes && (np - op).abs() >= t.min_bloat_pct_change
        })
        .map(|(kind, name, (ob, op), (nb, np))| BloatChange {
            kind: kind.to_owned(),
            name,
            old_wasted_bytes: ob.round(),
            new_wasted_bytes: nb.round(),
            old_pct: op,
            new_pct: np,
        })
        .collect();
    moved.sort_by(|a, b| {
        (b.new_wasted_bytes - b.old_wasted_bytes)
            .abs()
            .total_cmp(&(a.new_wasted_bytes - a.old_wasted_bytes).abs())
    });
    c.omitted += cap(&mut moved, t.max_per_list);
    c.bloat = moved;
}
