//! A workload's fingerprints as a table ([`queries_frame`]), for front ends that show
//! them as a data frame.

use super::{Share, Workload};
use crate::frames::{typed_frame, Frame};
use crate::Result;

/// One fingerprint of a workload as a table row (see [`queries_frame`]).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct QueryRow {
    /// The fingerprint (16 hex digits).
    pub fingerprint: String,
    /// Normalized text (`$n` for constants).
    pub query: String,
    /// `read`, `write`, `ddl`, …
    pub kind: String,
    /// Executions.
    pub calls: u64,
    /// Execution time, ms.
    pub total_ms: f64,
    /// Share of the capture's execution time, %.
    pub share_pct: f64,
    /// Mean execution time, ms.
    pub mean_ms: f64,
    /// Shortest execution, ms.
    pub min_ms: f64,
    /// Longest execution, ms.
    pub max_ms: f64,
    /// Median, ms (logs only).
    pub p50_ms: Option<f64>,
    /// 95th percentile, ms (logs only).
    pub p95_ms: Option<f64>,
    /// 99th percentile, ms (logs only).
    pub p99_ms: Option<f64>,
    /// Rows returned or affected (pg_stat_statements only).
    pub rows: Option<i64>,
    /// Planning time, ms.
    pub plan_ms: Option<f64>,
    /// Times planned.
    pub plans: Option<i64>,
    /// Shared blocks found in the buffer cache.
    pub shared_blks_hit: Option<i64>,
    /// Shared blocks read.
    pub shared_blks_read: Option<i64>,
    /// Temporary file bytes written.
    pub temp_bytes: Option<i64>,
    /// Whether it ran at top level.
    pub toplevel: Option<bool>,
    /// Whether it is a bulk load.
    pub bulk: bool,
    /// Databases it ran in.
    pub databases: Vec<String>,
    /// Users that ran it.
    pub users: Vec<String>,
    /// Applications that ran it.
    pub applications: Vec<String>,
    /// One logged statement with its constants.
    pub example: Option<String>,
}

/// A workload's fingerprints as a table, one [`QueryRow`] each, by total time.
pub fn queries_frame(workload: &Workload) -> Result<Frame> {
    let text = |v: serde_json::Result<serde_json::Value>| match v {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(e) => e.to_string(),
    };
    let names = |shares: &[Share]| shares.iter().map(|s| s.name.clone()).collect();
    let rows: Vec<QueryRow> = workload
        .queries
        .iter()
        .map(|q| QueryRow {
            fingerprint: q.fingerprint.to_string(),
            query: q.query.clone(),
            kind: text(serde_json::to_value(q.kind)),
            calls: q.calls,
            total_ms: q.total_ms,
            share_pct: q.share_pct(&workload.totals),
            mean_ms: q.mean_ms,
            min_ms: q.min_ms,
            max_ms: q.max_ms,
            p50_ms: q.p50_ms,
            p95_ms: q.p95_ms,
            p99_ms: q.p99_ms,
            rows: q.rows,
            plan_ms: q.plan_ms,
            plans: q.plans,
            shared_blks_hit: q.shared_blks_hit,
            shared_blks_read: q.shared_blks_read,
            temp_bytes: q.temp_bytes,
            toplevel: q.toplevel,
            bulk: q.bulk,
            databases: names(&q.databases),
            users: names(&q.users),
            applications: names(&q.applications),
            example: q.example.clone(),
        })
        .collect();
    typed_frame("queries", &rows)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::frames::ColumnKind;
    use crate::Snapshot;

    #[test]
    fn empty_tables_keep_their_columns_and_kinds() {
        let demo = Snapshot::load(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/snapshots/demo.json"),
        )
        .expect("demo snapshot");
        let mut empty = crate::workload::from_snapshot(&demo).expect("demo workload");
        assert!(queries_frame(&empty).expect("frame").rows.len() > 1);
        empty.queries.clear();
        let frame = queries_frame(&empty).expect("frame");
        assert!(frame.rows.is_empty());
        let kind = |n: &str| {
            frame
                .columns
                .iter()
                .find(|c| c.name == n)
                .map(|c| (c.kind, c.nullable))
        };
        assert_eq!(kind("calls"), Some((ColumnKind::Int, false)));
        assert_eq!(kind("p95_ms"), Some((ColumnKind::Float, true)));
        assert_eq!(kind("databases"), Some((ColumnKind::TextList, false)));
    }
}
