//! Workloads judged by the `queries` pack: the report of `pgsage workload`
//! ([`WorkloadReport`]: the workload's top queries and profile, and the pack's findings
//! on it), the findings alone as an audit [`Report`] ([`findings_report`]), and their
//! renderings.

mod incidents;
mod render;
mod tables;

pub(crate) use render::{cut, order_name, top_queries, Overview, QueryFigures};
pub use render::{render, RenderOptions, SortBy};

use serde::{Deserialize, Serialize};

use crate::config::RuleConfig;
use crate::engine::{run_rules, Outcome};
use crate::questions::{Facts, WorkloadAnswers};
use crate::report::{
    Counters, Finding, Report, ReportFilter, Severity, SkippedRule, Summary, SuppressedFinding,
    Target, REPORT_SCHEMA_VERSION,
};
use crate::rules::{rules_for, Rule, Skip, Target as RuleTarget, WorkloadContext};
use crate::snapshot::{Fact, HostFacts, Platform, ToolInfo};
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
    /// The workload questions: what runs at the peak, what could move to a replica or a
    /// cache, batch work at the peak, headroom (`crate::questions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<WorkloadAnswers>,
}

impl WorkloadReport {
    /// Runs the enabled `queries` and `workload` rules over the workload, with the host
    /// facts of the configuration only.
    pub fn new(workload: Workload, config: &RuleConfig, log: Option<serde_json::Value>) -> Self {
        let facts = crate::engine::question_facts(None, &config.host, config.odoo.as_ref());
        Self::with_facts(workload, config, log, &facts)
    }

    /// [`WorkloadReport::new`] with a snapshot and host facts beside the workload (the
    /// standbys, tables and cores the workload questions use).
    pub fn with_facts(
        workload: Workload,
        config: &RuleConfig,
        log: Option<serde_json::Value>,
        facts: &Facts<'_>,
    ) -> Self {
        let (findings, skipped, suppressed) = check_with(&workload, config, facts);
        let answers = Some(crate::questions::answer(
            &workload,
            facts,
            &crate::engine::question_thresholds(config),
        ));
        WorkloadReport {
            schema_version: WORKLOAD_REPORT_SCHEMA_VERSION,
            tool: ToolInfo::current(),
            summary: Summary::of(&findings),
            skipped,
            suppressed,
            findings,
            log,
            workload,
            answers,
        }
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The findings as a [`Report`] with their actions, as [`findings_report`] gives them
    /// (without a platform: the fixes were adapted to it when the rules ran).
    pub fn findings_as_report(&self) -> Report {
        as_report(
            &self.workload,
            None,
            self.findings.clone(),
            self.skipped.clone(),
            self.suppressed.clone(),
        )
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
    let facts = crate::engine::question_facts(None, &config.host, config.odoo.as_ref());
    findings_report_with(workload, config, min_severity, &facts)
}

/// [`findings_report`] with a snapshot and host facts beside the workload (as
/// `pgsage workload --snapshot` judges it).
pub fn findings_report_with(
    workload: &Workload,
    config: &RuleConfig,
    min_severity: Option<Severity>,
    facts: &Facts<'_>,
) -> Report {
    let (findings, skipped, suppressed) = check_with(workload, config, facts);
    let mut report = as_report(
        workload,
        config.host.platform.clone(),
        findings,
        skipped,
        suppressed,
    );
    report.filter(&ReportFilter {
        packs: Vec::new(),
        min_severity,
    });
    report
}

/// Findings on `workload` as a [`Report`] with its actions (see [`findings_report`]).
fn as_report(
    workload: &Workload,
    platform: Option<Fact<Platform>>,
    findings: Vec<Finding>,
    skipped: Vec<SkippedRule>,
    suppressed: Vec<SuppressedFinding>,
) -> Report {
    let source = &workload.source;
    let database = match workload.profile.databases.as_slice() {
        [one] if one.name != "?" => one.name.clone(),
        _ => String::new(),
    };
    Report {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: ToolInfo::current(),
        target: Target {
            server_version: source.server_version.clone().unwrap_or_default(),
            server_version_num: 0,
            database,
            collected_at: source.ended_at.unwrap_or_else(chrono::Utc::now),
            source: "workload".to_owned(),
            platform,
            databases: Vec::new(),
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
            ..Counters::default()
        },
        gaps: Vec::new(),
        skipped,
        suppressed,
        actions: crate::report::actions::build(&findings),
        findings,
        tenants: None,
        workload_questions: None,
    }
}

/// The `queries` pack's findings on a workload, the rules skipped, and the suppressed
/// findings (the same severities, parameters and suppressions as `pgsage audit`).
pub fn check(
    w: &Workload,
    config: &RuleConfig,
) -> (Vec<Finding>, Vec<SkippedRule>, Vec<SuppressedFinding>) {
    check_with(
        w,
        config,
        &crate::engine::question_facts(None, &config.host, config.odoo.as_ref()),
    )
}

/// [`check`] with a snapshot and host facts beside the workload.
pub fn check_with(
    w: &Workload,
    config: &RuleConfig,
    facts: &Facts<'_>,
) -> (Vec<Finding>, Vec<SkippedRule>, Vec<SuppressedFinding>) {
    let workload_rules: Vec<Rule> = rules_for(RuleTarget::Workload).collect();
    let Outcome {
        mut findings,
        skipped,
        suppressed,
    } = run_rules(&workload_rules, config, None, |rule, params| match rule {
        Rule::Workload(r) => r.check(&WorkloadContext {
            workload: w,
            facts,
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
    crate::engine::fix_cost::annotate(&mut findings, None);
    // A workload has no server to detect the platform from: the one named, if any.
    if let Some(p) = &config.host.platform {
        crate::engine::platform_fix::adapt(&mut findings, p.value, None);
    }
    (findings, skipped, suppressed)
}
