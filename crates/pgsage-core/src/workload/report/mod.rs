//! The report of `pgsage workload`: the workload's top queries and profile, and the
//! `queries` pack's findings on it.

mod render;

pub use render::{render, RenderOptions, SortBy};

use serde::{Deserialize, Serialize};

use super::Workload;
use crate::config::RuleConfig;
use crate::engine::{run_rules, Outcome};
use crate::report::{Finding, SkippedRule, Summary, SuppressedFinding};
use crate::rules::{rules_for, Rule, Skip, Target, WorkloadContext};
use crate::snapshot::ToolInfo;

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
    pub fn worst(&self) -> Option<crate::Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }
}

/// The `queries` pack's findings on a workload, the rules skipped, and the suppressed
/// findings (the same severities, parameters and suppressions as `pgsage audit`).
pub fn check(
    w: &Workload,
    config: &RuleConfig,
) -> (Vec<Finding>, Vec<SkippedRule>, Vec<SuppressedFinding>) {
    let workload_rules: Vec<Rule> = rules_for(Target::Workload).collect();
    let Outcome {
        mut findings,
        skipped,
        suppressed,
    } = run_rules(&workload_rules, config, None, |rule, params| match rule {
        Rule::Workload(r) => r.check(&WorkloadContext {
            workload: w,
            params,
        }),
        Rule::Snapshot(_) | Rule::Plan(_) => Err(Skip::because("not a workload rule")),
    });
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.object.cmp(&b.object))
    });
    (findings, skipped, suppressed)
}
