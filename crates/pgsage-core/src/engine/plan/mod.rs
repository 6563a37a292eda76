//! Plans judged by the `plans` pack: [`analyze`] runs its rules over one plan and
//! returns the same [`Report`] as `pgsage audit`, findings ranked by the share of the
//! plan's time of the node they point at; [`render_plan_reports`] and [`render_tree`]
//! show the reports, [`nodes_frame`] the nodes as a table.

use std::cmp::Ordering;

use globset::Glob;

mod frame;
mod render;
mod tree;

pub use frame::{nodes_frame, PlanNodeRow};
pub use render::{render_plan_reports, PlanSection};
pub use tree::render_tree;

use crate::config::RuleConfig;
use crate::plan::{parse_plans, Plan, PlanError};
use crate::report::Draft;
use crate::report::{
    Counters, Finding, Report, SkippedRule, Summary, SuppressedFinding, Target,
    REPORT_SCHEMA_VERSION,
};
use crate::rules::plans::{PlanContext, PlanRule, PLAN_RULES};
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
    let mut findings = Vec::new();
    let mut skipped = Vec::new();
    let mut suppressed = Vec::new();
    let suppressions: Vec<_> = config
        .suppressions
        .iter()
        .filter_map(|s| Some((s, Glob::new(&s.object).ok()?.compile_matcher())))
        .collect();
    for rule in PLAN_RULES {
        let id = rule.meta().id;
        if !config.is_enabled(id) {
            continue;
        }
        let Some(settings) = config.rules.get(id) else {
            skipped.push(SkippedRule {
                rule: id.to_owned(),
                reason: "not configured".to_owned(),
            });
            continue;
        };
        let ctx = PlanContext {
            plan,
            profile: &profile,
            params: &settings.params,
        };
        match rule.check_plan(&ctx) {
            Err(skip) => skipped.push(SkippedRule {
                rule: id.to_owned(),
                reason: skip.0,
            }),
            Ok(drafts) => {
                for draft in drafts {
                    let finding = finish(*rule, config, draft);
                    let name = finding.object.display_name();
                    match suppressions
                        .iter()
                        .find(|(s, m)| s.rule == id && m.is_match(&name))
                    {
                        Some((s, _)) => suppressed.push(SuppressedFinding {
                            rule: id.to_owned(),
                            object: name,
                            reason: s.reason.clone(),
                        }),
                        None => findings.push(finding),
                    }
                }
            }
        }
    }
    findings.sort_by(|a, b| {
        time_share(b)
            .partial_cmp(&time_share(a))
            .unwrap_or(Ordering::Equal)
            .then_with(|| b.severity.cmp(&a.severity))
            .then_with(|| a.rule.cmp(&b.rule))
            .then_with(|| a.object.cmp(&b.object))
    });
    Report {
        schema_version: REPORT_SCHEMA_VERSION,
        tool: ToolInfo::current(),
        target: Target {
            server_version: String::new(),
            server_version_num: 0,
            database: String::new(),
            collected_at: chrono::Utc::now(),
            source: PLAN_SOURCE.to_owned(),
        },
        summary: Summary::of(&findings),
        host: HostFacts::default(),
        counters: Counters {
            basis: PLAN_SOURCE.to_owned(),
            window_seconds: plan.execution_time_ms.unwrap_or(0.0) / 1000.0,
        },
        gaps: Vec::new(),
        skipped,
        suppressed,
        findings,
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

fn finish(rule: &dyn PlanRule, config: &RuleConfig, draft: Draft) -> Finding {
    let meta = rule.meta();
    let settings = config.rules.get(meta.id);
    Finding {
        rule: meta.id.to_owned(),
        pack: meta.pack.to_owned(),
        severity: settings
            .and_then(|s| s.severity_override)
            .or(draft.severity)
            .or(settings.map(|s| s.severity))
            .unwrap_or(crate::report::Severity::Warning),
        title: meta.title.to_owned(),
        object: draft.object,
        message: draft.message,
        evidence: draft.evidence,
        recommendation: draft.recommendation,
        fix: draft.fix,
        confidence: draft.confidence,
        confidence_reason: draft.confidence_reason,
    }
}
