//! The fleet's findings as one table, one row per finding, for DuckDB, polars or Spark
//! to query across servers and runs: [`FindingRow`], written as NDJSON here and as
//! Parquet by [`super::parquet`].

use std::collections::BTreeMap;
use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::run::{FleetRun, Outcome};
use crate::report::{Evidence, ObjectKind, Severity};

/// One finding of one server, with what is needed to query it without the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FindingRow {
    /// When the fleet run started (the same on every row of a run).
    pub run_at: DateTime<Utc>,
    /// The inventory name of the server.
    pub server: String,
    /// When the server's snapshot was taken.
    pub collected_at: DateTime<Utc>,
    /// The database the object is in; none for server-wide objects (settings, WAL).
    pub database: Option<String>,
    /// The server's inventory tags.
    pub tags: BTreeMap<String, String>,
    /// `VAC001`.
    pub rule: String,
    /// The rule's pack.
    pub pack: String,
    /// `info`, `warning` or `critical`.
    pub severity: Severity,
    /// The rule's title.
    pub title: String,
    /// `table`, `index`, `setting`, …
    pub object_kind: ObjectKind,
    /// The object's schema, when it has one.
    pub object_schema: Option<String>,
    /// The object's name.
    pub object_name: String,
    /// What was found.
    pub message: String,
    /// The numbers behind the finding (the report's evidence, as a JSON object).
    pub evidence: Evidence,
    /// The kind of action of the server's report the finding belongs to.
    pub action_id: Option<String>,
}

impl FindingRow {
    /// Every finding of every audited server, in the inventory's and the reports' order.
    pub fn all(run: &FleetRun) -> Vec<FindingRow> {
        let mut rows = Vec::new();
        for server in &run.servers {
            let Outcome::Audited(audited) = &server.outcome else {
                continue;
            };
            let report = &audited.report;
            let mut action_of: Vec<Option<&str>> = vec![None; report.findings.len()];
            for action in &report.actions {
                for &i in &action.findings {
                    if let Some(slot) = action_of.get_mut(i) {
                        *slot = Some(&action.id);
                    }
                }
            }
            for (f, action) in report.findings.iter().zip(action_of) {
                rows.push(FindingRow {
                    run_at: run.run_at,
                    server: server.name.clone(),
                    collected_at: report.target.collected_at,
                    database: f.object.database.clone(),
                    tags: server.tags.clone(),
                    rule: f.rule.clone(),
                    pack: f.pack.clone(),
                    severity: f.severity,
                    title: f.title.clone(),
                    object_kind: f.object.kind,
                    object_schema: f.object.schema.clone(),
                    object_name: f.object.name.clone(),
                    message: f.message.clone(),
                    evidence: f.evidence.clone(),
                    action_id: action.map(str::to_owned),
                });
            }
        }
        rows
    }
}

/// `table`, `index`, …: the object kind as the JSON report spells it.
pub(crate) fn kind_name(kind: ObjectKind) -> String {
    serde_json::to_value(kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Writes the rows as newline-delimited JSON, one object per line.
pub fn write_ndjson(rows: &[FindingRow], out: &mut dyn Write) -> std::io::Result<()> {
    for row in rows {
        serde_json::to_writer(&mut *out, row).map_err(std::io::Error::other)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}
