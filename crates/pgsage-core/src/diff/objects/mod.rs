//! Per database: tables and indexes added, dropped and grown, dead rows and estimated
//! bloat that moved.
//!
//! Every database both snapshots hold sections for is compared
//! ([`Snapshot::all_database_sections`], so a snapshot of `--all-databases` is compared
//! database by database). Objects are matched by schema and name. Sizes are compared as
//! they are; dead rows are a statistic, reset with the table's counters, so a table whose
//! counters were reset is left out of them ([`super::resets`]). Bloat is VAC009's and
//! IDX008's estimate with their configured gates, compared only where both snapshots
//! could judge the relation.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

mod bloat;

use bloat::{bloat, Gates};

use super::resets::{table_reset, CounterReset};
use crate::config::RuleConfig;
use crate::rules::vacuum::dead_tuple_ratio::dead_pct;
use crate::snapshot::{DatabaseSections, Index, Snapshot, Table};

/// When a size, dead rows or bloat moved enough to show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GrowthThresholds {
    /// A table or index grown by at least this many bytes…
    pub min_growth_bytes: i64,
    /// …and by at least this share of its old size, in %, is shown.
    pub min_growth_pct: f64,
    /// A growth of this many bytes is shown whatever its share.
    pub large_growth_bytes: i64,
    /// Dead rows that moved by at least this many rows…
    pub min_dead_rows_change: i64,
    /// …and by at least this many points of the table's rows, in %, are shown.
    pub min_dead_pct_change: f64,
    /// Estimated bloat that moved by at least this many bytes…
    pub min_bloat_change_bytes: f64,
    /// …and by at least this many points of the relation, in %, is shown.
    pub min_bloat_pct_change: f64,
    /// At most this many entries per list and database (the largest changes); the rest
    /// are counted.
    pub max_per_list: usize,
}

impl Default for GrowthThresholds {
    fn default() -> Self {
        GrowthThresholds {
            min_growth_bytes: 1 << 20,
            min_growth_pct: 10.0,
            large_growth_bytes: 1 << 30,
            min_dead_rows_change: 1_000,
            min_dead_pct_change: 5.0,
            min_bloat_change_bytes: (1 << 20) as f64,
            min_bloat_pct_change: 10.0,
            max_per_list: 20,
        }
    }
}

/// A table or index whose size changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SizeChange {
    /// `schema.name`.
    pub name: String,
    /// Size before, bytes (a table's heap and TOAST, without its indexes).
    pub old_bytes: i64,
    /// Size after, bytes.
    pub new_bytes: i64,
    /// Estimated rows before (`reltuples`, or the live rows counted), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_rows: Option<i64>,
    /// Estimated rows after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_rows: Option<i64>,
}

/// A table whose dead rows moved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadRowsChange {
    /// `schema.name`.
    pub name: String,
    /// Dead rows before.
    pub old_dead: i64,
    /// Dead rows after.
    pub new_dead: i64,
    /// Dead share of the rows before, %.
    pub old_pct: f64,
    /// Dead share after, %.
    pub new_pct: f64,
}

/// A table or index whose estimated bloat moved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BloatChange {
    /// `table` or `index`.
    pub kind: String,
    /// `schema.name`.
    pub name: String,
    /// Estimated wasted bytes before.
    pub old_wasted_bytes: f64,
    /// Estimated wasted bytes after.
    pub new_wasted_bytes: f64,
    /// Estimated wasted share before, %.
    pub old_pct: f64,
    /// Estimated wasted share after, %.
    pub new_pct: f64,
}

/// What changed in one database.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DatabaseChanges {
    /// The database.
    pub database: String,
    /// Its size before (`pg_database_size`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub old_size_bytes: Option<i64>,
    /// Its size after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_size_bytes: Option<i64>,
    /// Tables in the new snapshot only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables_added: Vec<String>,
    /// Tables in the old snapshot only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables_dropped: Vec<String>,
    /// Indexes in the new snapshot only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes_added: Vec<String>,
    /// Indexes in the old snapshot only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes_dropped: Vec<String>,
    /// Tables grown past the thresholds, most first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables_grown: Vec<SizeChange>,
    /// Indexes grown past the thresholds, most first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes_grown: Vec<SizeChange>,
    /// Tables whose dead rows moved past the thresholds, most first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dead_rows: Vec<DeadRowsChange>,
    /// Tables and indexes whose estimated bloat moved past the thresholds, most first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bloat: Vec<BloatChange>,
    /// Entries beyond `max_per_list`, left out of the lists above.
    #[serde(default)]
    pub omitted: usize,
}

impl DatabaseChanges {
    /// Whether nothing changed in it.
    pub fn is_empty(&self) -> bool {
        self.tables_added.is_empty()
            && self.tables_dropped.is_empty()
            && self.indexes_added.is_empty()
            && self.indexes_dropped.is_empty()
            && self.tables_grown.is_empty()
            && self.indexes_grown.is_empty()
            && self.dead_rows.is_empty()
            && self.bloat.is_empty()
    }
}

/// The changes of every database both snapshots hold sections for, in the new
/// snapshot's order; databases without a change are left out.
pub fn changes(
    old: &Snapshot,
    new: &Snapshot,
    config: &RuleConfig,
    resets: &[CounterReset],
    t: &GrowthThresholds,
) -> Vec<DatabaseChanges> {
    let old_sections = old.all_database_sections();
    let gates = Gates::of(config);
    new.all_database_sections()
        .iter()
        .filter_map(|n| {
            let o = old_sections.iter().find(|o| o.name == n.name)?;
            let old_view = view(old, o);
            let new_view = view(new, n);
            let mut c = DatabaseChanges {
                database: n.name.clone(),
                old_size_bytes: size_of(old, &n.name),
                new_size_bytes: size_of(new, &n.name),
                ..DatabaseChanges::default()
            };
            added_and_dropped(o, n, &mut c);
            grown(o, n, t, &mut c);
            dead_rows(o, n, resets, t, &mut c);
            if let Some(g) = &gates {
                bloat(&old_view, &new_view, g, t, &mut c);
            }
            (!c.is_empty()).then_some(c)
        })
        .collect()
}

/// The snapshot as the rules see database `sections` (the estimates read the columns'
/// statistics and the settings through it).
fn view<'a>(snapshot: &'a Snapshot, sections: &DatabaseSections) -> Cow<'a, Snapshot> {
    if sections.name == snapshot.server.database {
        Cow::Borrowed(snapshot)
    } else {
        Cow::Owned(snapshot.view_of(sections))
    }
}

fn size_of(s: &Snapshot, database: &str) -> Option<i64> {
    s.databases
        .iter()
        .find(|d| d.name == database)
        .and_then(|d| d.size_bytes)
}

fn table_bytes(t: &Table) -> i64 {
    t.heap_bytes.max(0) + t.toast_bytes.max(0)
}

fn rows(t: &Table) -> Option<i64> {
    if t.reltuples >= 0.0 {
        Some(t.reltuples.round() as i64)
    } else {
        Some(t.n_live_tup).filter(|n| *n > 0)
    }
}

fn same_table(a: &Table, b: &Table) -> bool {
    a.schema == b.schema && a.name == b.name
}

fn same_index(a: &Index, b: &Index) -> bool {
    a.schema == b.schema && a.name == b.name
}

fn added_and_dropped(o: &DatabaseSections, n: &DatabaseSections, c: &mut DatabaseChanges) {
    c.tables_added = n
        .tables
        .iter()
        .filter(|x| !o.tables.iter().any(|y| same_table(x, y)))
        .map(Table::qualified_name)
        .collect();
    c.tables_dropped = o
        .tables
        .iter()
        .filter(|x| !n.tables.iter().any(|y| same_table(x, y)))
        .map(Table::qualified_name)
        .collect();
    c.indexes_added = n
        .indexes
        .iter()
        .filter(|x| !o.indexes.iter().any(|y| same_index(x, y)))
        .map(Index::qualified_name)
        .collect();
    c.indexes_dropped = o
        .indexes
        .iter()
        .filter(|x| !n.indexes.iter().any(|y| same_index(x, y)))
        .map(Index::qualified_name)
        .collect();
}

fn grew(old: i64, new: i64, t: &GrowthThresholds) -> bool {
    let growth = new - old;
    growth >= t.large_growth_bytes
        || (growth >= t.min_growth_bytes
            && (old <= 0 || 100.0 * growth as f64 / old as f64 >= t.min_growth_pct))
}

fn grown(
    o: &DatabaseSections,
    n: &DatabaseSections,
    t: &GrowthThresholds,
    c: &mut DatabaseChanges,
) {
    let mut tables: Vec<SizeChange> = n
        .tables
        .iter()
        .filter_map(|nt| {
            let ot = o.tables.iter().find(|x| same_table(x, nt))?;
            grew(table_bytes(ot), table_bytes(nt), t).then(|| SizeChange {
                name: nt.qualified_name(),
                old_bytes: table_bytes(ot),
                new_bytes: table_bytes(nt),
                old_rows: rows(ot),
                new_rows: rows(nt),
            })
        })
        .collect();
    let mut indexes: Vec<SizeChange> = n
        .indexes
        .iter()
        .filter_map(|ni| {
            let oi = o.indexes.iter().find(|x| same_index(x, ni))?;
            grew(oi.size_bytes, ni.size_bytes, t).then(|| SizeChange {
                name: ni.qualified_name(),
                old_bytes: oi.size_bytes,
                new_bytes: ni.size_bytes,
                old_rows: None,
                new_rows: None,
            })
        })
        .collect();
    for list in [&mut tables, &mut indexes] {
        list.sort_by_key(|s| std::cmp::Reverse(s.new_bytes - s.old_bytes));
    }
    c.omitted += cap(&mut tables, t.max_per_list) + cap(&mut indexes, t.max_per_list);
    c.tables_grown = tables;
    c.indexes_grown = indexes;
}

fn cap<T>(list: &mut Vec<T>, max: usize) -> usize {
    let over = list.len().saturating_sub(max);
    list.truncate(max);
    over
}

fn dead_rows(
    o: &DatabaseSections,
    n: &DatabaseSections,
    resets: &[CounterReset],
    t: &GrowthThresholds,
    c: &mut DatabaseChanges,
) {
    let mut list: Vec<DeadRowsChange> = n
        .tables
        .iter()
        .filter(|nt| !table_reset(resets, &n.name, &nt.qualified_name()))
        .filter_map(|nt| {
            let ot = o
                .tables
                .iter()
                .find(|x| same_table(x, nt) && x.oid == nt.oid)?;
            let (old_pct, new_pct) = (dead_pct(ot), dead_pct(nt));
            let moved = (nt.n_dead_tup - ot.n_dead_tup).abs() >= t.min_dead_rows_change
                && (new_pct - old_pct).abs() >= t.min_dead_pct_change;
            moved.then(|| DeadRowsChange {
                name: nt.qualified_name(),
                old_dead: ot.n_dead_tup,
                new_dead: nt.n_dead_tup,
                old_pct,
                new_pct,
            })
        })
        .collect();
    list.sort_by_key(|d| std::cmp::Reverse((d.new_dead - d.old_dead).abs()));
    c.omitted += cap(&mut list, t.max_per_list);
    c.dead_rows = list;
}
