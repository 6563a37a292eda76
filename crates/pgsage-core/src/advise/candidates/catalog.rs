//! Lookups in the snapshot's catalog: tables by name, columns with their pg_stats, indexes
//! of a table, row counts.

use std::collections::HashMap;

use crate::snapshot::{Column, Index, Snapshot, Table};

/// The snapshot's catalog, indexed for name resolution.
pub(crate) struct Catalog<'a> {
    /// The snapshot.
    pub snapshot: &'a Snapshot,
    by_qualified: HashMap<(&'a str, &'a str), &'a Table>,
    by_name: HashMap<&'a str, Vec<&'a Table>>,
    by_oid: HashMap<u32, &'a Table>,
    columns: HashMap<u32, Vec<&'a Column>>,
    indexes: HashMap<u32, Vec<&'a Index>>,
}

impl<'a> Catalog<'a> {
    /// Indexes the snapshot's tables, columns and indexes.
    pub fn new(snapshot: &'a Snapshot) -> Catalog<'a> {
        let mut by_qualified = HashMap::new();
        let mut by_name: HashMap<&str, Vec<&Table>> = HashMap::new();
        let by_oid = snapshot.tables.iter().map(|t| (t.oid, t)).collect();
        for t in &snapshot.tables {
            by_qualified.insert((t.schema.as_str(), t.name.as_str()), t);
            by_name.entry(t.name.as_str()).or_default().push(t);
        }
        let mut columns: HashMap<u32, Vec<&Column>> = HashMap::new();
        for c in snapshot.columns.iter().filter(|c| !c.of_index) {
            columns.entry(c.table_oid).or_default().push(c);
        }
        let mut indexes: HashMap<u32, Vec<&Index>> = HashMap::new();
        for i in &snapshot.indexes {
            indexes.entry(i.table_oid).or_default().push(i);
        }
        Catalog {
            snapshot,
            by_qualified,
            by_name,
            by_oid,
            columns,
            indexes,
        }
    }

    /// A table by (optional) schema and name: schema-qualified exactly; otherwise in the
    /// schemas of `search_path` (when known, in order, as the server did), then in
    /// `public`, else the only table of that name in any schema (a search_path we do not
    /// know could pick another; an ambiguous name is not guessed).
    pub fn table_in_path(
        &self,
        schema: Option<&str>,
        name: &str,
        search_path: Option<&[String]>,
    ) -> Option<&'a Table> {
        if schema.is_none() {
            if let Some(found) = search_path
                .unwrap_or_default()
                .iter()
                .find_map(|s| self.by_qualified.get(&(s.as_str(), name)))
            {
                return Some(*found);
            }
        }
        match schema {
            Some(s) => self.by_qualified.get(&(s, name)).copied(),
            None => self
                .by_qualified
                .get(&("public", name))
                .copied()
                .or_else(|| match self.by_name.get(name).map(Vec::as_slice) {
                    Some([only]) => Some(*only),
                    _ => None,
                }),
        }
    }

    /// A table by oid.
    pub fn table_by_oid(&self, oid: u32) -> Option<&'a Table> {
        self.by_oid.get(&oid).copied()
    }

    /// A column of a table.
    pub fn column(&self, table_oid: u32, name: &str) -> Option<&'a Column> {
        self.columns
            .get(&table_oid)?
            .iter()
            .find(|c| c.name == name)
            .copied()
    }

    /// The table's indexes.
    pub fn indexes(&self, table_oid: u32) -> &[&'a Index] {
        self.indexes.get(&table_oid).map_or(&[], Vec::as_slice)
    }

    /// Estimated rows: the larger of `reltuples` (-1 or 0 when never analysed) and
    /// `n_live_tup`; a partitioned table's are its partitions' sum.
    pub fn rows(&self, table: &Table) -> f64 {
        if table.kind == "p" {
            return self
                .snapshot
                .tables
                .iter()
                .filter(|t| t.parent_oid == Some(table.oid))
                .map(|t| self.rows(t))
                .sum();
        }
        table.reltuples.max(table.n_live_tup as f64).max(0.0)
    }
}
