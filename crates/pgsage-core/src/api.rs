//! Entry points for front ends other than the CLI (the Python package), so that they stay
//! thin: configuration lookup, host facts from user input, filtered audits; plans,
//! workloads and index advice as typed tables, and log ingestion that can be cancelled.
//! (A collection that can be cancelled is in the `pgsage` crate's `api`, which re-exports
//! this module.)

use std::path::Path;
use std::sync::atomic::AtomicBool;

use crate::config::{RuleConfig, UserConfig};
use crate::report::{Report, ReportFilter, Severity};
use crate::snapshot::{Fact, HostFacts, StorageKind};
use crate::{Error, Result, Snapshot, Source};

/// The configuration the CLI's `--config` gives: the shipped packs overridden by `path`;
/// without a path, by `./pgsage.toml` when that file exists.
pub fn load_config(path: Option<&Path>) -> Result<RuleConfig> {
    match path {
        Some(p) => RuleConfig::load(p),
        None if Path::new("pgsage.toml").is_file() => RuleConfig::load("pgsage.toml"),
        None => RuleConfig::shipped(),
    }
}

/// The shipped packs overridden by a user configuration given as JSON with the shape of
/// `pgsage.toml` (`{"rules": {"VAC001": {"params": {...}}}, "host": {...}, ...}`);
/// `origin` names it in errors.
pub fn config_from_json(json: &str, origin: &str) -> Result<RuleConfig> {
    let user: UserConfig = serde_json::from_str(json).map_err(|e| Error::Config {
        origin: Some(origin.to_owned()),
        problem: e.to_string(),
    })?;
    let mut config = RuleConfig::shipped()?;
    config.apply(user, origin)?;
    Ok(config)
}

/// Host facts given by the user (`source` is recorded with each, e.g. `flag`), checked
/// like the CLI's `--ram`, `--cpus` and `--storage`.
pub fn host_facts(
    ram: Option<&str>,
    cpus: Option<f64>,
    storage: Option<&str>,
    source: &str,
) -> Result<HostFacts> {
    let invalid = |what: &str, problem: String| Error::InvalidValue {
        what: what.to_owned(),
        problem,
    };
    let ram_bytes = ram
        .map(|r| crate::host::parse_size(r).map_err(|p| invalid("ram", p)))
        .transpose()?;
    if let Some(c) = cpus {
        if c.is_nan() || c <= 0.0 {
            return Err(invalid("cpus", format!("{c} is not greater than 0")));
        }
    }
    let storage = storage
        .map(|s| {
            s.parse::<StorageKind>()
                .map_err(|p| invalid("storage", p.to_string()))
        })
        .transpose()?;
    Ok(HostFacts {
        ram_bytes: ram_bytes.map(|v| Fact::new(v, source)),
        cpus: cpus.map(|v| Fact::new(v, source)),
        storage: storage.map(|v| Fact::new(v, source)),
    })
}

/// Parses a severity name (`info`, `warning`, `critical`).
pub fn parse_severity(text: &str) -> Result<Severity> {
    Ok(text.parse()?)
}

/// An error naming the known packs when one of `packs` is not among them.
pub fn check_packs(config: &RuleConfig, packs: &[String]) -> Result<()> {
    for p in packs {
        if !config.packs.iter().any(|k| &k.name == p) {
            let known: Vec<_> = config.packs.iter().map(|k| k.name.as_str()).collect();
            return Err(Error::InvalidValue {
                what: "packs".into(),
                problem: format!("unknown pack `{p}` (known: {})", known.join(", ")),
            });
        }
    }
    Ok(())
}

/// Audits like `pgsage audit --pack … --min-severity …`: unknown packs are errors, and
/// the report keeps only the findings of `packs` (all when empty) at or above
/// `min_severity`.
pub fn audit_filtered(
    snapshot: &Snapshot,
    config: &RuleConfig,
    source: Source,
    packs: &[String],
    min_severity: Option<Severity>,
) -> Result<Report> {
    check_packs(config, packs)?;
    let mut report = crate::audit_from(snapshot, config, source);
    report.filter(&ReportFilter {
        packs: packs.to_vec(),
        min_severity,
    });
    Ok(report)
}

// -- Plans, workloads and index advice, for the Python package ---------------------------
//
// Typed table rows (for `pgsage::frames`, so the data frames' dtypes come from Rust types),
// a workload's `queries` findings as a `Report`, and log ingestion that can be cancelled.

/// One node of a plan as a table row (see [`plan_nodes_frame`]): what EXPLAIN said about
/// it and what [`Plan::profile`](crate::plan::Plan::profile) computed from its place in
/// the tree.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct PlanNodeRow {
    /// Path in the tree: `0` is the root, `0.1` its second child.
    pub path: String,
    /// Depth, 0 for the root.
    pub depth: u64,
    /// The parent's path (`None` for the root).
    pub parent: Option<String>,
    /// `Node Type`: `Seq Scan`, `Hash Join`, …
    pub node_type: String,
    /// The node as `pgsage plan --tree` labels it (`Seq Scan on stock_move`).
    pub label: String,
    /// `Outer`, `Inner`, `InitPlan`, `SubPlan`, …
    pub parent_relationship: Option<String>,
    /// `InitPlan 1 (returns $0)`, `SubPlan 2`, `CTE orders`.
    pub subplan_name: Option<String>,
    /// The scanned or modified table.
    pub relation: Option<String>,
    /// Its schema (VERBOSE).
    pub schema: Option<String>,
    /// The alias in the query.
    pub alias: Option<String>,
    /// The index of an index, index-only or bitmap index scan.
    pub index_name: Option<String>,
    /// `Inner`, `Left`, `Semi`, `Anti`, …
    pub join_type: Option<String>,
    /// Estimated cost to the first row.
    pub startup_cost: Option<f64>,
    /// Estimated cost to the last row.
    pub total_cost: Option<f64>,
    /// Estimated rows per loop (`Plan Rows`).
    pub rows_estimated: Option<f64>,
    /// Actual rows per loop (ANALYZE).
    pub rows_actual: Option<f64>,
    /// Times the node ran (0: never executed).
    pub loops: Option<f64>,
    /// How far the estimate was off, ≥ 1 (`max / min` of planned and actual rows).
    pub rows_misestimate: Option<f64>,
    /// Whether the planner expected fewer rows than came.
    pub rows_underestimated: Option<bool>,
    /// Time in the node and everything it ran, ms (wall clock).
    pub inclusive_ms: Option<f64>,
    /// Time in the node itself, ms.
    pub exclusive_ms: Option<f64>,
    /// `exclusive_ms` over the plan's total, 0–1.
    pub time_share: Option<f64>,
    /// `Rows Removed by Filter`, per loop.
    pub rows_removed_by_filter: Option<f64>,
    /// Shared blocks the node itself found in shared_buffers (BUFFERS).
    pub shared_hit_blocks: Option<u64>,
    /// Shared blocks the node itself read.
    pub shared_read_blocks: Option<u64>,
    /// Temporary file blocks the node itself wrote (spills).
    pub temp_written_blocks: Option<u64>,
    /// `Filter`.
    pub filter: Option<String>,
    /// `Index Cond`.
    pub index_cond: Option<String>,
    /// Whether ANALYZE ran and the node never did.
    pub never_executed: bool,
    /// The rules with a finding at this node (from the report given).
    pub rules: Vec<String>,
}

/// A plan's nodes in pre-order as a table, one [`PlanNodeRow`] each; `report` (the plan's
/// [`crate::engine::plan::analyze`] report) marks the nodes rules found something at.
pub fn plan_nodes_frame(
    plan: &crate::plan::Plan,
    report: Option<&Report>,
) -> Result<crate::frames::Frame> {
    let profile = plan.profile();
    let mut rows = Vec::with_capacity(profile.nodes.len());
    for np in &profile.nodes {
        let node = np.node;
        let path = np.path.to_string();
        let estimate = node.rows_estimate();
        let rules = report
            .map(|r| {
                let mut ids: Vec<String> = Vec::new();
                for f in &r.findings {
                    let at = f.evidence.get("node_path").and_then(|p| p.as_str());
                    if at == Some(path.as_str()) && !ids.contains(&f.rule) {
                        ids.push(f.rule.clone());
                    }
                }
                ids
            })
            .unwrap_or_default();
        rows.push(PlanNodeRow {
            depth: np.path.depth() as u64,
            parent: np.parent.map(|p| profile.nodes[p].path.to_string()),
            node_type: node.node_type.clone(),
            label: crate::rules::plans::node_label(node),
            parent_relationship: node
                .parent_relationship
                .as_ref()
                .map(|r| r.as_str().to_owned()),
            subplan_name: node.subplan_name.clone(),
            relation: node.relation_name.clone(),
            schema: node.schema.clone(),
            alias: node.alias.clone(),
            index_name: node.index_name.clone(),
            join_type: node.join_type.clone(),
            startup_cost: node.startup_cost,
            total_cost: node.total_cost,
            rows_estimated: node.plan_rows,
            rows_actual: node.actual_rows,
            loops: node.actual_loops,
            rows_misestimate: estimate.map(|e| e.factor),
            rows_underestimated: estimate.map(|e| e.underestimated),
            inclusive_ms: np.inclusive_ms,
            exclusive_ms: np.exclusive_ms,
            time_share: np.share,
            rows_removed_by_filter: node.rows_removed_by_filter,
            shared_hit_blocks: np.exclusive_buffers.map(|b| b.shared_hit),
            shared_read_blocks: np.exclusive_buffers.map(|b| b.shared_read),
            temp_written_blocks: np.exclusive_buffers.map(|b| b.temp_written),
            filter: node.filter.clone(),
            index_cond: node.index_cond.clone(),
            never_executed: node.never_executed(),
            rules,
            path,
        });
    }
    typed_frame("plan_nodes", &rows)
}

/// One fingerprint of a workload as a table row (see [`workload_queries_frame`]).
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
pub fn workload_queries_frame(
    workload: &crate::workload::Workload,
) -> Result<crate::frames::Frame> {
    let text = |v: serde_json::Result<serde_json::Value>| match v {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(e) => e.to_string(),
    };
    let names = |shares: &[crate::workload::Share]| shares.iter().map(|s| s.name.clone()).collect();
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

/// One recommended index as a table row (see [`recommendations_frame`]).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct RecommendationRow {
    /// Schema of the table.
    pub schema: String,
    /// The table.
    pub table: String,
    /// Key columns, in order.
    pub columns: Vec<String>,
    /// Covering columns (`INCLUDE`).
    pub include: Vec<String>,
    /// Partial index predicate.
    pub predicate: Option<String>,
    /// The `CREATE INDEX CONCURRENTLY` statement.
    pub create_statement: String,
    /// Estimated size, bytes.
    pub estimated_size_bytes: i64,
    /// `hypopg` or `estimate`.
    pub size_source: String,
    /// Estimated execution time saved over the capture, ms.
    pub benefit_ms: f64,
    /// Whether the benefit was measured with HypoPG.
    pub validated: bool,
    /// How many of the workload's queries it helps.
    pub queries: u64,
    /// Their fingerprints.
    pub fingerprints: Vec<String>,
    /// Existing indexes it makes redundant.
    pub redundant_indexes: Vec<String>,
    /// Index entries to write per hour on the table.
    pub index_writes_per_hour: Option<f64>,
    /// The write-cost sentence.
    pub write_overhead: Option<String>,
}

/// The advisor's recommendations as a table, one [`RecommendationRow`] each, most
/// valuable first.
pub fn recommendations_frame(advice: &crate::advise::IndexAdvice) -> Result<crate::frames::Frame> {
    let rows: Vec<RecommendationRow> = advice
        .recommendations
        .iter()
        .map(|r| RecommendationRow {
            schema: r.schema.clone(),
            table: r.table.clone(),
            columns: r.columns.clone(),
            include: r.include.clone(),
            predicate: r.predicate.clone(),
            create_statement: r.create_statement.clone(),
            estimated_size_bytes: r.estimated_size_bytes,
            size_source: r.size_source.clone(),
            benefit_ms: r.benefit_ms,
            validated: r.validated,
            queries: r.queries.len() as u64,
            fingerprints: r
                .queries
                .iter()
                .map(|q| q.fingerprint.to_string())
                .collect(),
            redundant_indexes: r.redundant_indexes.clone(),
            index_writes_per_hour: r.write_overhead.as_ref().map(|w| w.index_writes_per_hour),
            write_overhead: r.write_overhead.as_ref().map(|w| w.note.clone()),
        })
        .collect();
    typed_frame("recommendations", &rows)
}

/// [`crate::frames::frame`], with the columns of `T::default()` when there are no rows
/// (an empty table still has its columns and their kinds).
fn typed_frame<T>(name: &str, rows: &[T]) -> Result<crate::frames::Frame>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Default,
{
    if rows.is_empty() {
        let mut frame = crate::frames::frame(name, &[T::default()])?;
        frame.rows.clear();
        return Ok(frame);
    }
    crate::frames::frame(name, rows)
}

/// The `queries` pack's findings on a workload as a [`Report`] (the shape of
/// `pgsage audit --format json`): `target.source` is `workload`, `counters` the
/// workload's source and window; findings below `min_severity` are dropped.
pub fn workload_report(
    workload: &crate::workload::Workload,
    config: &RuleConfig,
    min_severity: Option<Severity>,
) -> Report {
    use crate::report::{Counters, Summary, Target, REPORT_SCHEMA_VERSION};
    use crate::workload::SourceKind;
    let (findings, skipped, suppressed) = crate::engine::workload::check(workload, config);
    let source = &workload.source;
    let database = match workload.profile.databases.as_slice() {
        [one] if one.name != "?" => one.name.clone(),
        _ => String::new(),
    };
    let mut report = Report {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: crate::snapshot::ToolInfo::current(),
        target: Target {
            server_version: source.server_version.clone().unwrap_or_default(),
            server_version_num: 0,
            database,
            collected_at: source.ended_at.unwrap_or_else(chrono::Utc::now),
            source: "workload".to_owned(),
        },
        summary: Summary::of(&findings),
        host: HostFacts::default(),
        counters: Counters {
            basis: match source.kind {
                SourceKind::Log => "log".to_owned(),
                SourceKind::PgStatStatements => source
                    .basis
                    .clone()
                    .unwrap_or_else(|| "pg_stat_statements".to_owned()),
            },
            window_seconds: source.window_seconds.unwrap_or(0.0),
        },
        gaps: Vec::new(),
        skipped,
        suppressed,
        findings,
    };
    report.filter(&ReportFilter {
        packs: Vec::new(),
        min_severity,
    });
    report
}

/// The workload of a snapshot's `pg_stat_statements`; an [`Error::InvalidValue`] for
/// `workload` when the snapshot has none (the reason says why).
pub fn workload_from_snapshot(snapshot: &Snapshot) -> Result<crate::workload::Workload> {
    crate::workload::from_snapshot(snapshot).map_err(|e| Error::InvalidValue {
        what: "workload".into(),
        problem: e.0,
    })
}

/// The workload of server logs ([`crate::workload::from_logs`], as `pgsage workload
/// LOG…` reads them, with `bucket_seconds` time windows) and the log reader's statistics.
///
/// Gives up when `cancel` becomes true, with an [`Error::Cancelled`]: the
/// reader stops at its next chunk (the chunks already in flight are still parsed). Logs
/// that cannot be opened are
/// [`Error::Io`]; logs in which not one statement with a duration was found are an
/// [`Error::InvalidValue`] saying what the reader saw (wrong `log_line_prefix`,
/// `log_min_duration_statement` off, not a server log).
pub fn workload_from_logs_cancellable<P: AsRef<Path>>(
    paths: &[P],
    opts: &crate::workload::log::LogOptions,
    bucket_seconds: i64,
    cancel: &AtomicBool,
) -> Result<(crate::workload::Workload, crate::workload::log::LogStats)> {
    use crate::workload::AggregateOptions;

    if paths.is_empty() {
        return Err(Error::InvalidValue {
            what: "logs".into(),
            problem: "no log file given".into(),
        });
    }
    let aggregate = AggregateOptions {
        bucket_seconds: bucket_seconds.max(1),
    };
    let (workload, stats) =
        crate::workload::from_logs(paths, opts, aggregate, Some(cancel), |_, _| {})?;
    if stats.samples == 0 {
        return Err(Error::InvalidValue {
            what: "logs".into(),
            problem: format!(
                "no statement with a duration in {} ({} lines, {} did not parse{}): is \
                 log_min_duration_statement (or log_duration with log_statement) on, and \
                 is log_line_prefix the server's?",
                workload.source.files.join(", "),
                stats.lines,
                stats.unparsed_lines,
                stats
                    .input_errors
                    .first()
                    .map(|e| format!("; {e}"))
                    .unwrap_or_default()
            ),
        });
    }
    Ok((workload, stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_config_overrides_like_toml() {
        let config = config_from_json(
            r#"{"rules": {"VAC001": {"severity": "critical", "params": {"min_dead_tuples": 7}}},
                "packs": {"disabled": ["memory"]}}"#,
            "<dict>",
        )
        .expect("valid");
        assert_eq!(
            config.rules["VAC001"].severity_override,
            Some(Severity::Critical)
        );
        assert!(!config.is_enabled("MEM001"));
        let err = config_from_json(r#"{"rules": {"NOPE1": {}}}"#, "<dict>")
            .expect_err("unknown rule")
            .to_string();
        assert!(
            err.contains("unknown rule `NOPE1`") && err.contains("<dict>"),
            "{err}"
        );
    }

    #[test]
    fn host_facts_are_checked() {
        let h = host_facts(Some("2GiB"), Some(2.0), Some("ssd"), "python").expect("valid");
        assert_eq!(
            h.ram_bytes.map(|f| (f.value, f.source)),
            Some((2 << 30, "python".into()))
        );
        assert!(host_facts(Some("lots"), None, None, "x").is_err());
        assert!(host_facts(None, Some(0.0), None, "x").is_err());
        assert!(host_facts(None, None, Some("floppy"), "x").is_err());
    }

    #[test]
    fn empty_tables_keep_their_columns_and_kinds() {
        let demo = Snapshot::load(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/snapshots/demo.json"),
        )
        .expect("demo snapshot");
        let mut empty = workload_from_snapshot(&demo).expect("demo workload");
        assert!(workload_queries_frame(&empty).expect("frame").rows.len() > 1);
        empty.queries.clear();
        let frame = workload_queries_frame(&empty).expect("frame");
        assert!(frame.rows.is_empty());
        let kind = |n: &str| {
            frame
                .columns
                .iter()
                .find(|c| c.name == n)
                .map(|c| (c.kind, c.nullable))
        };
        use crate::frames::ColumnKind;
        assert_eq!(kind("calls"), Some((ColumnKind::Int, false)));
        assert_eq!(kind("p95_ms"), Some((ColumnKind::Float, true)));
        assert_eq!(kind("databases"), Some((ColumnKind::TextList, false)));
    }

    #[test]
    fn logs_that_cannot_be_read_or_hold_no_statement_are_errors() {
        let dir = std::env::temp_dir().join(format!("pgsage-api-logs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let junk = dir.join("junk.log");
        std::fs::write(&junk, "not a server log\nat all\n").expect("write");
        let never = AtomicBool::new(false);
        let opts = crate::workload::log::LogOptions::default();
        let err = workload_from_logs_cancellable(&[&junk], &opts, 3600, &never)
            .expect_err("junk")
            .to_string();
        assert!(
            err.contains("no statement with a duration") && err.contains("2 lines"),
            "{err}"
        );
        let missing = dir.join("missing.log");
        match workload_from_logs_cancellable(&[&missing], &opts, 3600, &never) {
            Err(Error::Io { context, .. }) => assert!(context.contains("missing.log")),
            other => panic!("expected an I/O error, got {other:?}"),
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}
