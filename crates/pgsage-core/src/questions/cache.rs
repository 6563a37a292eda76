//! Cache advice: reads run at a high rate, fast, returning few rows, of small tables that
//! are rarely written — the same answer computed again and again, which an application
//! cache (Redis, the ERP's own cache: Odoo's `ormcache`) serves without a round trip.
//! A hot read that is slow because an index is missing is not a cache candidate: the
//! index advisor's recommendation (IDX009) names it instead.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Cache, CacheCandidate, CachedTable, Facts, LeftToIndex};
use crate::advise::candidates::catalog::Catalog;
use crate::advise::candidates::parse::{parse, Relation};
use crate::knowledge::counters::{table_delta, Basis};
use crate::snapshot::{Snapshot, Table};
use crate::workload::fingerprint::{Fingerprint, StatementKind};
use crate::workload::{QueryStats, Workload};

/// WRK002's parameters (rules/workload.toml).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheThresholds {
    /// Executions per second over the capture.
    pub min_calls_per_s: f64,
    /// A cached answer is cheap to keep: at most this mean time, ms (slower reads want
    /// their plan looked at first).
    pub max_mean_ms: f64,
    /// Rows per execution (pg_stat_statements only).
    pub max_rows_per_call: f64,
    /// Every table read is at most this size (table and TOAST), MB.
    pub max_table_mb: f64,
    /// Reads per row written in the tables read: below, a cache is invalidated too often.
    pub min_reads_per_write: f64,
}

/// The cache candidates, or why the question cannot be answered (it needs the tables'
/// sizes and write rates: a snapshot).
pub fn cache_candidates(
    w: &Workload,
    facts: &Facts<'_>,
    t: &CacheThresholds,
) -> Result<Cache, String> {
    let snap = facts.snapshot.ok_or_else(|| {
        "needs the tables' sizes and write rates: a snapshot of the server beside the workload"
            .to_owned()
    })?;
    let seconds = w
        .source
        .window_seconds
        .filter(|s| *s > 0.0)
        .ok_or_else(|| "the capture's length is unknown: no rate of executions".to_owned())?;
    let basis_seconds = Basis::of(snap).seconds();
    let catalog = Catalog::new(snap);
    let database = snap.server.database.as_str();
    let hot: Vec<&QueryStats> = w
        .queries
        .iter()
        .filter(|q| q.kind == StatementKind::Read)
        .filter(|q| !crate::sql::is_foreign_key_check(&q.query))
        .filter(|q| q.single_database().is_none_or(|d| d == database))
        .filter(|q| q.calls as f64 / seconds >= t.min_calls_per_s)
        .collect();
    if hot.is_empty() {
        return Ok(Cache {
            candidates: Vec::new(),
            left_to_index: Vec::new(),
        });
    }
    let indexes = advised_indexes(w, snap);
    let mut cache = Cache {
        candidates: Vec::new(),
        left_to_index: Vec::new(),
    };
    for q in hot {
        let calls_per_s = q.calls as f64 / seconds;
        if let Some(index) = indexes.get(&q.fingerprint) {
            cache.left_to_index.push(LeftToIndex {
                fingerprint: q.fingerprint.to_string(),
                query: q.query.clone(),
                calls_per_s,
                index: index.clone(),
            });
            continue;
        }
        let rows_per_call = q.rows.map(|r| r as f64 / q.calls.max(1) as f64);
        if q.mean_ms > t.max_mean_ms || rows_per_call.is_some_and(|r| r > t.max_rows_per_call) {
            continue;
        }
        let Some(tables) = tables_read(q, &catalog) else {
            continue;
        };
        let tables: Vec<CachedTable> = tables
            .into_iter()
            .map(|tb| cached_table(snap, tb, basis_seconds))
            .collect();
        if tables
            .iter()
            .any(|tb| tb.size_bytes as f64 > t.max_table_mb * 1024.0 * 1024.0)
        {
            continue;
        }
        let writes: f64 = tables.iter().map(|tb| tb.writes_per_s).sum();
        let reads_per_write = (writes > 0.0).then(|| calls_per_s / writes);
        if reads_per_write.is_some_and(|r| r < t.min_reads_per_write) {
            continue;
        }
        cache.candidates.push(CacheCandidate {
            fingerprint: q.fingerprint.to_string(),
            query: q.query.clone(),
            calls: q.calls,
            calls_per_s,
            mean_ms: q.mean_ms,
            rows_per_call,
            tables,
            reads_per_write,
        });
    }
    cache.candidates.sort_by_key(|c| std::cmp::Reverse(c.calls));
    Ok(cache)
}

/// The statement's tables, each found in the snapshot; None when it reads none, or one
/// the snapshot does not have (another database's, a view, a function's result).
fn tables_read<'a>(q: &QueryStats, catalog: &Catalog<'a>) -> Option<Vec<&'a Table>> {
    let parsed = [
        q.example.as_deref(),
        q.server_text.as_deref(),
        Some(q.query.as_str()),
    ]
    .into_iter()
    .flatten()
    .find_map(|text| parse(text).ok())?;
    let mut tables: Vec<&Table> = Vec::new();
    for scope in &parsed.scopes {
        for r in &scope.relations {
            match r {
                Relation::Named { schema, name, .. } if !parsed.ctes.contains(name) => {
                    let t = catalog.table_in_path(schema.as_deref(), name, None)?;
                    if !tables.iter().any(|o| o.oid == t.oid) {
                        tables.push(t);
                    }
                }
                Relation::Named { .. } => {}
                Relation::Opaque { .. } => return None,
            }
        }
    }
    (!tables.is_empty()).then_some(tables)
}

fn cached_table(snap: &Snapshot, t: &Table, basis_seconds: f64) -> CachedTable {
    let written = table_delta(snap, t, |t| t.n_tup_ins + t.n_tup_upd + t.n_tup_del);
    CachedTable {
        name: crate::sql::qualified(&t.schema, &t.name),
        size_bytes: t.heap_bytes + t.toast_bytes,
        live_rows: t.n_live_tup,
        writes_per_s: if basis_seconds > 0.0 {
            written as f64 / basis_seconds
        } else {
            0.0
        },
    }
}

/// The index IDX009's advisor recommends for each statement it helps (unvalidated, with
/// its default options on the snapshot's database).
fn advised_indexes(w: &Workload, snap: &Snapshot) -> BTreeMap<Fingerprint, String> {
    let opts = crate::advise::AdvisorOptions {
        database: Some(snap.server.database.clone()),
        ..crate::advise::AdvisorOptions::default()
    };
    let advice = crate::advise::advise(w, snap, &opts, crate::advise::render::UNVALIDATED);
    let mut out = BTreeMap::new();
    for r in &advice.recommendations {
        for q in &r.queries {
            out.entry(q.fingerprint)
                .or_insert_with(|| r.create_statement.clone());
        }
    }
    out
}
