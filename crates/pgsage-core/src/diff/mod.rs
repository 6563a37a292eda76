//! `pgsage diff`: what changed on one server between two snapshots, or between two
//! reports ([`SnapshotDiff`]).
//!
//! Two snapshots give everything: settings changed ([`settings`]), findings and actions
//! new, resolved and persisting ([`findings`]: both snapshots audited with the same
//! [`RuleConfig`]), statements that regressed ([`statements`]), tables and indexes grown,
//! dead rows and bloat that moved, per database ([`objects`]), and the counters reset in
//! between ([`resets`]), which every comparison of counters respects instead of showing
//! negative rates. Two reports give the findings and actions only. The same matching of
//! findings serves `pgsage audit --baseline` ([`baseline`]).
//!
//! The renderings are in [`render`]; JSON is the serde form of [`SnapshotDiff`]
//! (`docs/diff.md`).

pub mod activity;
pub mod baseline;
pub mod findings;
mod identity;
pub mod objects;
pub mod render;
pub mod resets;
pub mod settings;
pub mod statements;

#[cfg(test)]
mod tests;

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::RuleConfig;
use crate::report::Report;
use crate::snapshot::Snapshot;

pub use findings::{ActionsDiff, FindingKey, FindingsDiff};
pub use objects::{DatabaseChanges, GrowthThresholds};
pub use resets::CounterReset;
pub use settings::ChangedSetting;
pub use statements::{RegressionThresholds, StatementRegression};

/// Why two inputs cannot be compared.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiffError {
    /// The two snapshots are of different servers (by what they hold: host, port,
    /// `cluster_name`, the connected database's oid).
    #[error(
        "the snapshots are not of the same server: {}; compare snapshots of one server (or allow it explicitly)",
        .differences.join("; ")
    )]
    DifferentServers {
        /// Each fact that differs, old → new.
        differences: Vec<String>,
    },
    /// A file could not be read as a snapshot or a report.
    #[error(transparent)]
    Input(#[from] crate::Error),
}

/// What counts as a change worth showing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiffOptions {
    /// When a statement has regressed.
    pub regression: RegressionThresholds,
    /// When a table or index has grown, and dead rows or bloat moved.
    pub growth: GrowthThresholds,
    /// Compare snapshots even when they look like two different servers (the same server
    /// reached under two host names); the difference is then a warning.
    pub allow_different_servers: bool,
}

/// What was compared: two snapshots, or two reports (findings and actions only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DiffKind {
    /// Two snapshots: every section.
    Snapshots,
    /// Two reports (or a report and a snapshot): findings and actions only.
    Reports,
}

/// One side of the comparison.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Side {
    /// When it was collected.
    pub collected_at: DateTime<Utc>,
    /// `server_version`.
    pub server_version: String,
    /// The connected database.
    pub database: String,
    /// Every database whose sections it holds (snapshots only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub databases: Vec<String>,
}

/// What changed between two snapshots (or reports) of one server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SnapshotDiff {
    /// `snapshots` or `reports`.
    pub kind: DiffKind,
    /// The older input.
    pub old: Side,
    /// The newer input.
    pub new: Side,
    /// Seconds from the old collection to the new one.
    pub elapsed_seconds: f64,
    /// What the reader must know before trusting the comparison: the inputs given in
    /// reverse order, different host names, another connected database, an upgrade.
    pub warnings: Vec<String>,
    /// Counters reset in between (a restart, `pg_stat_reset()`,
    /// `pg_stat_statements_reset()`): their deltas are not shown.
    pub resets: Vec<CounterReset>,
    /// Settings whose value changed, appeared, disappeared, or wait for a restart.
    pub settings: Vec<ChangedSetting>,
    /// Findings new, resolved and persisting.
    pub findings: FindingsDiff,
    /// Actions new, resolved and persisting (by their stable id).
    pub actions: ActionsDiff,
    /// Statements whose mean execution time rose past the thresholds.
    pub statements: Vec<StatementRegression>,
    /// Per database: tables and indexes grown, dead rows and bloat that moved.
    pub databases: Vec<DatabaseChanges>,
    /// What the server did in between: WAL, checkpoints, per-database transactions
    /// (snapshots only; figures behind a reset are absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<activity::ServerActivity>,
}

impl SnapshotDiff {
    /// Whether nothing changed worth showing.
    pub fn is_empty(&self) -> bool {
        self.resets.is_empty()
            && self.settings.is_empty()
            && self.findings.new.is_empty()
            && self.findings.resolved.is_empty()
            && self.actions.new.is_empty()
            && self.actions.resolved.is_empty()
            && self.statements.is_empty()
            && self.databases.iter().all(DatabaseChanges::is_empty)
    }

    /// The diff as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// A file given to `pgsage diff`: a snapshot or a report.
#[derive(Debug, Clone)]
pub enum Input {
    /// A snapshot file.
    Snapshot(Box<Snapshot>),
    /// A report (`pgsage audit --format json`).
    Report(Box<Report>),
}

impl Input {
    /// Reads `path` as a snapshot (it has `snapshot_version`) or a report (it has
    /// `schema_version` and `findings`).
    pub fn load(path: &Path) -> crate::Result<Input> {
        let file_error = |problem: String| crate::Error::SnapshotFile {
            path: path.to_owned(),
            problem,
        };
        let text = std::fs::read_to_string(path).map_err(|e| file_error(e.to_string()))?;
        // Only the fields that tell the kind of file are read here.
        #[derive(Deserialize)]
        struct Probe {
            snapshot_version: Option<serde::de::IgnoredAny>,
            schema_version: Option<serde::de::IgnoredAny>,
            findings: Option<serde::de::IgnoredAny>,
        }
        let probe: Probe =
            serde_json::from_str(&text).map_err(|e| file_error(format!("not JSON: {e}")))?;
        if probe.snapshot_version.is_some() {
            // The snapshot reader's checks (version, truncation) and its errors.
            return Snapshot::load(path).map(|s| Input::Snapshot(Box::new(s)));
        }
        if probe.schema_version.is_some() && probe.findings.is_some() {
            return serde_json::from_str(&text)
                .map(|r| Input::Report(Box::new(r)))
                .map_err(|e| file_error(format!("not a pgsage report: {e}")));
        }
        Err(file_error(
            "neither a pgsage snapshot (snapshot_version) nor a report (schema_version and findings)".into(),
        ))
    }
}

/// Compares two inputs: every section for two snapshots; findings and actions for two
/// reports, or a report and a snapshot (the snapshot audited with `config`).
pub fn inputs(
    old: &Input,
    new: &Input,
    config: &RuleConfig,
    options: &DiffOptions,
) -> Result<SnapshotDiff, DiffError> {
    match (old, new) {
        (Input::Snapshot(o), Input::Snapshot(n)) => snapshots(o, n, config, options),
        _ => {
            let as_report = |i: &Input| match i {
                Input::Snapshot(s) => crate::audit(s, config),
                Input::Report(r) => (**r).clone(),
            };
            Ok(reports(&as_report(old), &as_report(new)))
        }
    }
}

/// Compares two snapshots of one server, both audited with `config`. Refuses snapshots
/// of different servers unless `options.allow_different_servers`.
pub fn snapshots(
    old: &Snapshot,
    new: &Snapshot,
    config: &RuleConfig,
    options: &DiffOptions,
) -> Result<SnapshotDiff, DiffError> {
    let mut warnings = identity::check(old, new, options.allow_different_servers)?;
    let resets = resets::between(old, new);
    let (old_report, new_report) =
        rayon::join(|| crate::audit(old, config), || crate::audit(new, config));
    let mut findings = findings::compare(&old_report, &new_report);
    findings::mark_resolved_after_reset(&mut findings, &resets);
    warnings.extend(only_in_one(old, new, &mut findings));
    let elapsed_seconds = (new.collected_at - old.collected_at).num_milliseconds() as f64 / 1000.0;
    if elapsed_seconds < 0.0 {
        warnings.push(format!(
            "the old snapshot was collected after the new one ({} later): the inputs may be in reverse order",
            crate::units::duration(-elapsed_seconds)
        ));
    }
    Ok(SnapshotDiff {
        kind: DiffKind::Snapshots,
        old: side_of(old),
        new: side_of(new),
        elapsed_seconds,
        warnings,
        settings: settings::changed(old, new),
        findings,
        actions: findings::compare_actions(&old_report, &new_report),
        statements: statements::regressions(old, new, &resets, &options.regression),
        databases: objects::changes(old, new, config, &resets, &options.growth),
        activity: Some(activity::between(old, new, &resets)),
        resets,
    })
}

/// Compares two reports: findings and actions only.
pub fn reports(old: &Report, new: &Report) -> SnapshotDiff {
    let mut warnings = Vec::new();
    if old.target.database != new.target.database {
        warnings.push(format!(
            "the reports are of different databases (`{}` and `{}`): findings are matched by rule and object, so a database's own findings show as new or resolved",
            old.target.database, new.target.database
        ));
    }
    let elapsed_seconds =
        (new.target.collected_at - old.target.collected_at).num_milliseconds() as f64 / 1000.0;
    if elapsed_seconds < 0.0 {
        warnings.push(
            "the old report was made after the new one: the inputs may be in reverse order".into(),
        );
    }
    let side = |r: &Report| Side {
        collected_at: r.target.collected_at,
        server_version: r.target.server_version.clone(),
        database: r.target.database.clone(),
        databases: Vec::new(),
    };
    SnapshotDiff {
        kind: DiffKind::Reports,
        old: side(old),
        new: side(new),
        elapsed_seconds,
        warnings,
        resets: Vec::new(),
        settings: Vec::new(),
        findings: findings::compare(old, new),
        actions: findings::compare_actions(old, new),
        statements: Vec::new(),
        databases: Vec::new(),
        activity: None,
    }
}

/// The warning about databases whose sections only one snapshot holds, after leaving
/// their findings out of the new and resolved ones.
fn only_in_one(old: &Snapshot, new: &Snapshot, findings: &mut FindingsDiff) -> Option<String> {
    let old_names: Vec<&str> = old.database_names().collect();
    let common: Vec<String> = new
        .database_names()
        .filter(|n| old_names.contains(n))
        .map(str::to_owned)
        .collect();
    let left_out = findings::only_common_databases(findings, &common);
    let seen_once: Vec<String> = new
        .database_names()
        .chain(old.database_names())
        .filter(|n| !common.iter().any(|c| c == n))
        .map(|n| format!("`{n}`"))
        .collect();
    (!seen_once.is_empty()).then(|| {
        format!(
            "only one snapshot holds the tables of {} (one collected with --all-databases or --databases, the other not?): their objects are not compared, and {} about them are neither new nor resolved and are left out",
            seen_once.join(", "),
            crate::units::counted(left_out, "finding", "findings")
        )
    })
}

fn side_of(s: &Snapshot) -> Side {
    Side {
        collected_at: s.collected_at,
        server_version: s.server.version.clone(),
        database: s.server.database.clone(),
        databases: s.database_names().map(str::to_owned).collect(),
    }
}
