//! Workloads judged by the `queries` pack: the report of `pgsage workload`
//! ([`WorkloadReport`]: the workload's top queries and profile, and the pack's findings
//! on it), the findings alone as an audit [`Report`] ([`findings_report`]), and their
//! renderings.

mod render;

pub use render::{render, RenderOptions, SortBy};

use globset::Glob;
use serde::{Deserialize, Serialize};

use crate::config::RuleConfig;
use crate::report::{
    Counters, Draft, Finding, Report, ReportFilter, Severity, SkippedRule, Summary,
    SuppressedFinding, Target, REPORT_SCHEMA_VERSION,
};
use crate::rules::queries::{Params, WORKLOAD_RULES};
use crate::snapshot::{HostFacts, ToolInfo};
use crate::workload::{SourceKind, Workload};

/// The workload report format version.
pub const WORKLOAD_REPORT_SCHEMA_VERSION: u32 = 1;

/// A workload and what the `queries` pack found in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadReport {
    /// [`WORKLOAD_REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The pgsage build.
    pub tool: ToolInfo,
    /// Findings per severity.
    pub summary: Summary,
    /// Rules that did not run, and why.
    pub skipped: Vec<SkippedRule>,
    /// Findings hidden by suppressions.
    pub suppressed: Vec<SuppressedFinding>,
    /// The findings, worst first.
    pub findings: Vec<Finding>,
    /// What the log reader saw (log captures): lines, unparsed lines, messages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<serde_json::Value>,
    /// The workload.
    pub workload: Workload,
}

impl WorkloadReport {
    /// Runs the enabled `queries` rules over the workload.
    pub fn new(workload: Workload, config: &RuleConfig, log: Option<serde_json::Value>) -> Self {
        let (findings, skipped, suppressed) = check(&workload, config);
        WorkloadReport {
            schema_version: WORKLOAD_REPORT_SCHEMA_VERSION,
            tool: ToolInfo::current(),
            summary: Summary::of(&findings),
            skipped,
            suppressed,
            findings,
            log,
            workload,
        }
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The worst severity among the findings.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// The `queries` pack's findings on a workload as a [`Report`] (the shape of
/// `pgsage audit --format json`): `target.source` is `workload`, `counters` the
/// workload's source and window; findings below `min_severity` are dropped.
pub fn findings_report(
    workload: &Workload,
    config: &RuleConfig,
    min_severity: Option<Severity>,
) -> Report {
    let (findings, skipped, suppressed) = check(workload, config);
    let source = &workload.source;
    let database = match workload.profile.databases.as_slice() {
        [one] if one.name != "?" => one.name.clone(),
        _ => String::new(),
    };
    let mut report = Report {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: ToolInfo::current(),
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

/// The `queries` pack's findings on a workload, the rules skipped, and the suppressed
/// findings (the same severities, parameters and suppressions as `pgsage audit`).
pub fn check(
    w: &Workload,
    config: &RuleConfig,
) -> (Vec<Finding>, Vec<SkippedRule>, Vec<SuppressedFinding>) {
    let mut findings = Vec::new();
    let mut skipped = Vec::new();
    let mut suppressed = Vec::new();
    let suppressions: Vec<_> = config
        .suppressions
        .iter()
        .filter_map(|s| Some((s, Glob::new(&s.object).ok()?.compile_matcher())))
        .collect();
    for rule in WORKLOAD_RULES {
        let meta = rule.meta();
        if !config.is_enabled(meta.id) {
            continue;
        }
        let Some(settings) = config.rules.get(meta.id) else {
            skipped.push(SkippedRule {
                rule: meta.id.to_owned(),
                reason: "not configured".to_owned(),
            });
            continue;
        };
        match rule.check_workload(w, &Params(&settings.params)) {
            Err(skip) => skipped.push(SkippedRule {
                rule: meta.id.to_owned(),
                reason: skip.0,
            }),
            Ok(drafts) => {
                for d in drafts {
                    let f = finish(meta, settings, d);
                    let name = f.object.display_name();
                    match suppressions.iter().find(|(s, m)| {
                        s.rule == meta.id && (m.is_match(&name) || m.is_match(&f.object.name))
                    }) {
                        Some((s, _)) => suppressed.push(SuppressedFinding {
                            rule: meta.id.to_owned(),
                            object: name,
                            reason: s.reason.clone(),
                        }),
                        None => findings.push(f),
                    }
                }
            }
        }
    }
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.object.cmp(&b.object))
    });
    (findings, skipped, suppressed)
}

fn finish(
    meta: &crate::rules::RuleMeta,
    settings: &crate::config::RuleSettings,
    d: Draft,
) -> Finding {
    Finding {
        rule: meta.id.to_owned(),
        pack: meta.pack.to_owned(),
        severity: settings
            .severity_override
            .or(d.severity)
            .unwrap_or(settings.severity),
        title: meta.title.to_owned(),
        object: d.object,
        message: d.message,
        evidence: d.evidence,
        recommendation: d.recommendation,
        fix: d.fix,
        confidence: d.confidence,
        confidence_reason: d.confidence_reason,
    }
}
