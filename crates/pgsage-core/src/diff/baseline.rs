//! `pgsage audit --baseline old-report.json`: which findings of a report are new since an
//! earlier report, so that `--fail-on` in CI and scheduled runs alerts on what is new.
//!
//! Findings are matched as [`super::findings`] matches them (rule and object). The
//! report's JSON gains a `baseline` block ([`BaselineComparison`], documented in
//! `docs/report-format.md`); the report itself is unchanged, so the block is additive.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::findings::{match_findings, FindingKey};
use crate::report::{Report, Severity};

/// A report compared with its baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineComparison {
    /// The baseline report's file, as given.
    pub path: String,
    /// When the baseline's snapshot was taken.
    pub collected_at: DateTime<Utc>,
    /// Findings not in the baseline.
    pub new: usize,
    /// Findings also in the baseline.
    pub persisting: usize,
    /// Findings of the baseline no longer found.
    pub resolved: usize,
    /// The rule and object of each new finding.
    pub new_findings: Vec<FindingKey>,
    /// Their indices into the report's `findings`.
    pub new_finding_indices: Vec<usize>,
}

impl BaselineComparison {
    /// Compares `report` with `baseline` (read from `path`).
    pub fn of(report: &Report, baseline: &Report, path: &str) -> BaselineComparison {
        let (matched, resolved) = match_findings(baseline, report);
        let new_finding_indices: Vec<usize> = matched
            .iter()
            .enumerate()
            .filter(|(_, m)| m.is_none())
            .map(|(i, _)| i)
            .collect();
        BaselineComparison {
            path: path.to_owned(),
            collected_at: baseline.target.collected_at,
            new: new_finding_indices.len(),
            persisting: matched.len() - new_finding_indices.len(),
            resolved: resolved.len(),
            new_findings: new_finding_indices
                .iter()
                .map(|&i| FindingKey::of(&report.findings[i], report))
                .collect(),
            new_finding_indices,
        }
    }

    /// The severities of the new findings, for `--fail-on`.
    pub fn new_severities<'a>(&'a self, report: &'a Report) -> impl Iterator<Item = Severity> + 'a {
        self.new_finding_indices
            .iter()
            .filter_map(|&i| report.findings.get(i).map(|f| f.severity))
    }

    /// `3 new since the baseline (old.json, collected 2026-01-01 00:00 UTC); 12 persisting, 2 resolved`
    /// then one line per new finding (`new: [warning] IDX009 `public.t`: …`), for the
    /// front end to indent or list.
    pub fn lines(&self, report: &Report) -> Vec<String> {
        let mut lines = vec![format!(
            "{} new since the baseline ({}, collected {}); {} persisting, {} resolved",
            self.new,
            self.path,
            self.collected_at.format("%Y-%m-%d %H:%M UTC"),
            self.persisting,
            self.resolved
        )];
        lines.extend(self.new_finding_indices.iter().filter_map(|&i| {
            let f = report.findings.get(i)?;
            // Another database's object is named with its database (an --all-databases
            // report holds the same table name in many).
            let object = match &f.object.database {
                Some(d) if *d != report.target.database && f.object.schema.is_some() => {
                    format!("{d}.{}", f.object.display_name())
                }
                _ => f.object.display_name(),
            };
            Some(format!(
                "new: [{}] {} `{object}`: {}",
                f.severity, f.rule, f.message
            ))
        }));
        lines
    }
}

/// The report's JSON with the `baseline` block after its own fields.
pub fn report_json(report: &Report, comparison: &BaselineComparison) -> String {
    #[derive(Serialize)]
    struct WithBaseline<'a> {
        #[serde(flatten)]
        report: &'a Report,
        baseline: &'a BaselineComparison,
    }
    serde_json::to_string_pretty(&WithBaseline {
        report,
        baseline: comparison,
    })
    .unwrap_or_default()
}

/// Reads a report written by `pgsage audit --format json` (a `baseline` block in it is
/// ignored).
pub fn load_report(path: &Path) -> crate::Result<Report> {
    let text = std::fs::read_to_string(path).map_err(|e| crate::Error::Io {
        context: format!("reading the baseline report {}", path.display()),
        source: e,
    })?;
    serde_json::from_str(&text).map_err(|e| crate::Error::InvalidValue {
        what: "baseline".into(),
        problem: format!(
            "{} is not a pgsage report (pgsage audit --format json): {e}",
            path.display()
        ),
    })
}
