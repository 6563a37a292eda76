//! Plans judged by the `plans` pack: [`analyze`] runs its rules over one plan and
//! returns the same [`Report`] as `pgsage audit`, findings ranked by the share of the
//! plan's time of the node they point at; [`render_plan_reports`] and [`render_tree`]
//! show the reports, [`nodes_frame`] the nodes as a table.

use std::cmp::Ordering;

mod frame;
mod render;
mod tree;

pub use frame::{nodes_frame, PlanNodeRow};
pub(crate) use render::{heading, no_findings};
pub use render::{render_plan_reports, PlanSection};
pub use tree::render_tree;
pub(crate) use tree::{rows_over_loops, MISESTIMATE_SHOWN};

use crate::config::RuleConfig;
use crate::engine::{run_rules, Outcome};
use crate::plan::{parse_plans, Plan, PlanError};
use crate::report::{Counters, Finding, Report, Summary, Target, REPORT_SCHEMA_VERSION};
use crate::rules::{rules_for, PlanContext, Rule, Skip, Target as RuleTarget};
use crate::snapshot::{HostFacts, ToolInfo};

/// `Report::target.source` of a plan report.
pub const PLAN_SOURCE: &str = "plan";

/// Runs the enabled `plans` rules over `plan`.
///
/// The report's findings are sorted by the `time_share` in their evidence (the share of
/// the plan's time of the node, or of the query-level part, the finding is about),
/// largest first, then by severity and rule. Rules that need what the plan lacks (actual
/// figures without ANALYZE, buffers without BUFFERS) are listed in `skipped` with the
/// reason. The target says `source: "plan"`; server and database are unknown (empty)
/// unless the caller fills them in.
pub fn analyze(plan: &Plan, config: &RuleConfig) -> Report {
    let profile = plan.profile();
    let plan_rules: Vec<Rule> = rules_for(RuleTarget::Plan).collect();
    let Outcome {
        mut findings,
        skipped,
        suppressed,
    } = run_rules(&plan_rules, config, None, |rule, params| match rule {
        Rule::Plan(r) => r.check(&PlanContext {
            plan,
            profile: &profile,
            params,
        }),
        Rule::Snapshot(_) | Rule::Workload(_) => Err(Skip::because("not a plan rule")),
    });
    findings.sort_by(|a, b| {
        time_share(b)
            .partial_cmp(&time_share(a))
            .unwrap_or(Ordering::Equal)
            .then_with(|| b.severity.cmp(&a.severity))
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.object.cmp(&b.object))
    });
    crate::engine::fix_cost::annotate(&mut findings, None);
    // A plan has no server to detect the platform from: the one named, if any.
    let platform = config.host.platform.clone();
    if let Some(p) = &platform {
        crate::engine::platform_fix::adapt(&mut findings, p.value, None);
    }
    Report {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: ToolInfo::current(),
        target: Target {
            server_version: String::new(),
            server_version_num: 0,
            database: String::new(),
            collected_at: chrono::Utc::now(),
            source: PLAN_SOURCE.to_owned(),
            platform,
            databases: Vec::new(),
        },
        summary: Summary::of(&findings),
        host: HostFacts::default(),
        counters: Counters {
            basis: PLAN_SOURCE.to_owned(),
            window_seconds: plan.execution_time_ms.unwrap_or(0.0) / 1000.0,
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

/// Parses EXPLAIN output (JSON or text, one plan or several, see
/// [`parse_plans`]) and analyzes every plan: one report per plan.
pub fn analyze_text(input: &str, config: &RuleConfig) -> Result<Vec<Report>, PlanError> {
    Ok(parse_plans(input)?
        .iter()
        .map(|plan| analyze(plan, config))
        .collect())
}

/// The share of the plan's time a finding is about (its `time_share` evidence).
pub fn time_share(finding: &Finding) -> f64 {
    finding
        .evidence
        .get("time_share")
        .and_then(serde_json::Value::as_f64)
        .unwrap_or(0.0)
}
