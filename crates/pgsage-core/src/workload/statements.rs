//! The workload of a snapshot's `pg_stat_statements`: entries fingerprinted and merged
//! (the same query run by several users, in several databases, or with different IN-list
//! lengths is one fingerprint), with deltas over the sampled window when the snapshot has
//! a baseline (`--interval`), else totals since the statistics reset.

use std::collections::BTreeMap;

use super::aggregate::{build_profile, sort_queries};
use super::fingerprint::{analyze, shown_text, Fingerprint};
use super::model::{Share, SourceKind, Totals, Workload, WorkloadSource, WORKLOAD_SCHEMA_VERSION};
use super::profile::{Mix, Window};
use super::QueryStats;
use crate::snapshot::{Snapshot, Statement, Statements};

/// Bytes per block (pg_stat_statements counts 8 KiB blocks).
const BLOCK_BYTES: i64 = 8192;

fn same_entry(a: &Statement, b: &Statement) -> bool {
    a.queryid == b.queryid
        && a.user == b.user
        && a.database == b.database
        && a.toplevel == b.toplevel
}

/// An entry's counters over the window: the entry minus its baseline (or itself).
fn delta(s: &Statement, before: Option<&Statement>) -> Statement {
    let Some(b) = before else {
        return s.clone();
    };
    let mut d = s.clone();
    d.calls -= b.calls;
    d.plans -= b.plans;
    d.total_plan_time_ms -= b.total_plan_time_ms;
    d.total_exec_time_ms -= b.total_exec_time_ms;
    d.rows -= b.rows;
    d.shared_blks_hit -= b.shared_blks_hit;
    d.shared_blks_read -= b.shared_blks_read;
    d.temp_blks_read -= b.temp_blks_read;
    d.temp_blks_written -= b.temp_blks_written;
    d.mean_exec_time_ms = if d.calls > 0 {
        d.total_exec_time_ms / d.calls as f64
    } else {
        0.0
    };
    d
}

/// Why a snapshot has no workload: pg_stat_statements is missing or unreadable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NoWorkload(pub String);

/// An [`Error::InvalidValue`](crate::Error::InvalidValue) for `workload`, saying why.
impl From<NoWorkload> for crate::Error {
    fn from(e: NoWorkload) -> Self {
        crate::Error::InvalidValue {
            what: "workload".into(),
            problem: e.0,
        }
    }
}

/// The workload of a snapshot's pg_stat_statements (interval deltas when it has a
/// baseline).
pub fn from_snapshot(snap: &Snapshot) -> Result<Workload, NoWorkload> {
    let Some(st) = &snap.statements else {
        return Err(NoWorkload(match snap.gap("pg_stat_statements") {
            Some(g) => format!("pg_stat_statements unavailable: {}", g.why),
            None => "pg_stat_statements is not installed".to_owned(),
        }));
    };
    let baseline = snap.baseline.as_ref().and_then(|b| b.statements.as_ref());
    if snap.baseline.is_some() && baseline.is_none() {
        return Err(NoWorkload(
            "the baseline sample has no pg_stat_statements".to_owned(),
        ));
    }
    let window = snap.window_seconds();
    let reset = st.stats_reset.unwrap_or(snap.server.started_at);
    let (started_at, seconds, basis) = match (&snap.baseline, window) {
        (Some(b), Some(w)) => (b.collected_at, w, "interval"),
        _ => (reset, snap.age_seconds(reset), "since_reset"),
    };
    let mut w = from_statements(st, baseline);
    w.source.server_version = Some(snap.server.version.clone());
    w.source.basis = Some(basis.to_owned());
    w.source.started_at = Some(started_at);
    w.source.ended_at = Some(snap.collected_at);
    w.source.window_seconds = Some(seconds);
    w.source.track_planning = snap
        .setting("pg_stat_statements.track_planning")
        .and_then(|s| s.as_bool());
    let calls = w.profile.mix.read_calls + w.profile.mix.write_calls + w.profile.mix.other_calls;
    if seconds > 0.0 {
        w.profile.statements_per_second = Some(calls as f64 / seconds);
        w.profile.transactions_per_second = Some(w.profile.mix.transactions as f64 / seconds);
    }
    for win in &mut w.profile.windows {
        win.start = Some(started_at);
        win.seconds = Some(seconds);
        win.statements_per_second = (seconds > 0.0).then(|| win.calls as f64 / seconds);
    }
    if let Some(p) = &mut w.profile.peak {
        p.start = Some(started_at);
        p.seconds = Some(seconds);
        p.statements_per_second = (seconds > 0.0).then(|| p.calls as f64 / seconds);
    }
    Ok(w)
}

#[derive(Default)]
struct Acc {
    entries: Vec<Statement>,
}

/// The workload of `pg_stat_statements` entries, as deltas against `baseline` when given.
pub fn from_statements(st: &Statements, baseline: Option<&Statements>) -> Workload {
    let mut groups: BTreeMap<u64, Acc> = BTreeMap::new();
    let mut hidden_calls = 0u64;
    let mut hidden_ms = 0.0;
    let mut seen_calls = 0i64;
    let mut seen_ms = 0.0;
    for s in &st.top {
        let before = baseline.and_then(|b| b.top.iter().find(|p| same_entry(p, s)));
        let d = delta(s, before);
        if d.calls <= 0 {
            continue;
        }
        seen_calls += d.calls;
        seen_ms += d.total_exec_time_ms;
        let Some(text) = &d.query else {
            // Another role's entry read without pg_read_all_stats.
            if d.toplevel != Some(false) {
                hidden_calls += d.calls as u64;
                hidden_ms += d.total_exec_time_ms;
            }
            continue;
        };
        let fp = analyze(text).fingerprint.0;
        groups.entry(fp).or_default().entries.push(d);
    }
    // Entries beyond the collected top ones: the totals cover every entry.
    let total_calls = st.totals.calls - baseline.map_or(0, |b| b.totals.calls);
    let total_ms =
        st.totals.total_exec_time_ms - baseline.map_or(0.0, |b| b.totals.total_exec_time_ms);
    let rest_calls = (total_calls - seen_calls).max(0) as u64;
    let rest_ms = (total_ms - seen_ms).max(0.0);

    let mut mix = Mix::default();
    let mut queries: Vec<QueryStats> = groups
        .into_iter()
        .map(|(fp, acc)| merge_entries(Fingerprint(fp), acc.entries))
        .collect();
    for q in &queries {
        if q.toplevel != Some(false) {
            let a = analyze(q.server_text.as_deref().unwrap_or(&q.query));
            mix.add(q.kind, q.calls, q.total_ms, q.bulk, a.ends_transaction);
        }
    }
    sort_queries(&mut queries);
    let top_calls: u64 = queries
        .iter()
        .filter(|q| q.toplevel != Some(false))
        .map(|q| q.calls)
        .sum();
    let top_ms: f64 = queries
        .iter()
        .filter(|q| q.toplevel != Some(false))
        .map(|q| q.total_ms)
        .sum();
    let totals = Totals {
        calls: top_calls + hidden_calls + rest_calls,
        total_ms: top_ms + hidden_ms + rest_ms,
        fingerprints: queries.len(),
        unattributed_calls: hidden_calls + rest_calls,
        unattributed_ms: hidden_ms + rest_ms,
        skipped_samples: 0,
    };
    let windows = vec![Window::new(None, None, mix.clone())];
    let profile = build_profile(&queries, mix, windows, None, None);
    Workload {
        schema_version: WORKLOAD_SCHEMA_VERSION,
        source: WorkloadSource {
            kind: SourceKind::PgStatStatements,
            files: Vec::new(),
            server_version: None,
            basis: None,
            started_at: None,
            ended_at: None,
            window_seconds: None,
            track_planning: None,
        },
        totals,
        profile,
        queries,
        incidents: Vec::new(),
    }
}

fn shares_by(entries: &[Statement], key: fn(&Statement) -> Option<&str>) -> Vec<Share> {
    let mut by: BTreeMap<String, (u64, f64)> = BTreeMap::new();
    for e in entries {
        let x = by.entry(key(e).unwrap_or("?").to_owned()).or_default();
        x.0 += e.calls as u64;
        x.1 += e.total_exec_time_ms;
    }
    let mut v: Vec<Share> = by
        .into_iter()
        .map(|(name, (calls, total_ms))| Share {
            name,
            calls,
            total_ms,
        })
        .collect();
    v.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms).then(a.name.cmp(&b.name)));
    v
}

/// One fingerprint from its entries (already deltas, calls > 0, texts present).
fn merge_entries(fp: Fingerprint, mut entries: Vec<Statement>) -> QueryStats {
    entries.sort_by(|a, b| b.total_exec_time_ms.total_cmp(&a.total_exec_time_ms));
    let text = entries
        .first()
        .and_then(|e| e.query.clone())
        .unwrap_or_default();
    let a = analyze(&text);
    let calls: i64 = entries.iter().map(|e| e.calls).sum();
    let total_ms: f64 = entries.iter().map(|e| e.total_exec_time_ms).sum();
    let sum = |f: fn(&Statement) -> i64| entries.iter().map(f).sum::<i64>();
    let plans = sum(|e| e.plans);
    let plan_ms: f64 = entries.iter().map(|e| e.total_plan_time_ms).sum();
    let mut queryids: Vec<i64> = entries.iter().map(|e| e.queryid).collect();
    queryids.sort_unstable();
    queryids.dedup();
    let toplevel = if entries.iter().any(|e| e.toplevel != Some(false)) {
        entries
            .iter()
            .find_map(|e| e.toplevel.filter(|t| *t))
            .or(None)
    } else {
        Some(false)
    };
    QueryStats {
        fingerprint: fp,
        query: shown_text(&text),
        kind: a.kind,
        calls: calls as u64,
        total_ms,
        mean_ms: if calls > 0 {
            total_ms / calls as f64
        } else {
            0.0
        },
        min_ms: entries
            .iter()
            .map(|e| e.min_exec_time_ms)
            .fold(f64::INFINITY, f64::min),
        max_ms: entries
            .iter()
            .map(|e| e.max_exec_time_ms)
            .fold(0.0, f64::max),
        p50_ms: None,
        p95_ms: None,
        p99_ms: None,
        rows: Some(sum(|e| e.rows)),
        toplevel,
        plan_ms: (plans > 0 || plan_ms > 0.0).then_some(plan_ms),
        plans: Some(plans),
        shared_blks_hit: Some(sum(|e| e.shared_blks_hit)),
        shared_blks_read: Some(sum(|e| e.shared_blks_read)),
        temp_bytes: Some(sum(|e| e.temp_blks_written).saturating_mul(BLOCK_BYTES)),
        bulk: a.bulk,
        queryids,
        server_text: Some(text),
        example: None,
        databases: shares_by(&entries, |e| e.database.as_deref()),
        users: shares_by(&entries, |e| e.user.as_deref()),
        applications: Vec::new(),
        buckets: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::from_statements;
    use crate::snapshot::{Statement, StatementTotals, Statements};
    use crate::workload::fingerprint::fingerprint;

    fn stmt(queryid: i64, query: Option<&str>, toplevel: bool, calls: i64, ms: f64) -> Statement {
        serde_json::from_value(serde_json::json!({
            "queryid": queryid, "user": "odoo", "database": "erp", "toplevel": toplevel,
            "query": query, "calls": calls, "plans": 0, "total_plan_time_ms": 0.0,
            "total_exec_time_ms": ms, "mean_exec_time_ms": ms / calls as f64,
            "min_exec_time_ms": 0.1, "max_exec_time_ms": 9.0, "stddev_exec_time_ms": 0.0,
            "rows": calls, "shared_blks_hit": 10 * calls, "shared_blks_read": calls,
            "shared_blks_dirtied": 0, "shared_blks_written": 0, "local_blks_read": 0,
            "local_blks_written": 0, "temp_blks_read": 0, "temp_blks_written": 2 * calls,
            "shared_blk_read_time_ms": 0.0, "shared_blk_write_time_ms": 0.0, "wal_bytes": 0,
            "jit_time_ms": null
        }))
        .expect("statement")
    }

    fn statements(top: Vec<Statement>, calls: i64, ms: f64) -> Statements {
        Statements {
            extension_version: "1.10".into(),
            stats_reset: None,
            dealloc: None,
            totals: StatementTotals {
                entries: top.len() as i64 + 1,
                calls,
                total_exec_time_ms: ms,
                ..StatementTotals::default()
            },
            top,
            usage: Vec::new(),
        }
    }

    #[test]
    fn entries_merge_per_fingerprint_as_interval_deltas() {
        let now = statements(
            vec![
                // Two IN-list lengths: two queryids, one fingerprint.
                stmt(
                    1,
                    Some("SELECT * FROM t WHERE id IN ($1, $2)"),
                    true,
                    300,
                    600.0,
                ),
                stmt(
                    2,
                    Some("SELECT * FROM t WHERE id IN ($1, $2, $3)"),
                    true,
                    50,
                    100.0,
                ),
                // Another role's entry, text hidden.
                stmt(0, None, true, 40, 80.0),
                // Nested in a function: listed, not added to the totals again.
                stmt(3, Some("SELECT 1 FROM u WHERE a = $1"), false, 1000, 10.0),
            ],
            // One more entry beyond the top ones: 10 calls, 5 ms.
            1400,
            795.0,
        );
        let before = statements(
            vec![
                stmt(
                    1,
                    Some("SELECT * FROM t WHERE id IN ($1, $2)"),
                    true,
                    100,
                    200.0,
                ),
                stmt(3, Some("SELECT 1 FROM u WHERE a = $1"), false, 400, 4.0),
            ],
            500,
            204.0,
        );
        let w = from_statements(&now, Some(&before));
        let q = w
            .query(fingerprint("select * from t where id in (7)"))
            .expect("merged");
        assert_eq!(q.calls, 250);
        assert_eq!(q.queryids, vec![1, 2]);
        assert!((q.total_ms - 500.0).abs() < 1e-9);
        assert_eq!(q.rows, Some(250));
        assert_eq!(q.temp_bytes, Some(500 * 8192));
        assert_eq!(q.p95_ms, None);
        let nested = w
            .query(fingerprint("SELECT 1 FROM u WHERE a = 5"))
            .expect("nested");
        assert_eq!((nested.calls, nested.toplevel), (600, Some(false)));
        // Totals: 250 attributed top-level + 40 hidden + 10 beyond the top.
        assert_eq!(w.totals.calls, 300);
        assert_eq!(w.totals.unattributed_calls, 50);
        assert!(
            (w.totals.total_ms - 585.0).abs() < 1e-6,
            "{}",
            w.totals.total_ms
        );
        assert_eq!(w.profile.mix.read_calls, 250);
    }
}
