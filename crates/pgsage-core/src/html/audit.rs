//! The audit's page: the server and the statistics window at the top, then the ranked
//! actions (expected effect, the whole fix with its cost and a copy button, the provider's
//! commands on a managed platform), then each action's findings with their evidence
//! collapsible, the charts drawn from the snapshot, what could not be judged, and the
//! host facts used.

use maud::{html, Markup};

use super::layout::{capped, capped_with, code_block};
// As many as the text report's "What to do first".
use crate::report::actions::Action;
use crate::report::render::TOP_ACTIONS;
use crate::report::{Finding, Report};
use crate::snapshot::Snapshot;

/// Findings shown per action before "show all".
const FINDINGS_SHOWN: usize = 20;
/// Objects named in an action before "show all".
const OBJECTS_SHOWN: usize = 12;

/// The page's sections.
pub fn body(report: &Report, snapshot: Option<&Snapshot>) -> Markup {
    let parts = crate::report::render::summary_parts(report);
    let t = &report.target;
    html! {
        header {
            h1 { "pgsage audit of " code { (t.database) } }
            p class="muted" {
                "PostgreSQL " (t.server_version) " · " (t.source) ", collected "
                (t.collected_at.format("%Y-%m-%d %H:%M UTC"))
            }
            div class="facts" {
                span { strong { "Host: " } (parts.host) }
                @if let Some(p) = &parts.platform { span { strong { "Platform: " } (p) } }
                @if let Some(d) = &parts.databases { span { strong { "Databases: " } (prose(d)) } }
                span { strong { "Statistics: " } (parts.statistics) }
            }
            @if let Some(b) = &parts.banner { div class="banner" role="note" { (b) } }
            div class="counts" {
                span class="badge critical" data-count="critical" { (report.summary.critical) " critical" }
                span class="badge warning" data-count="warning" { (report.summary.warning) " warning" }
                span class="badge info" data-count="info" { (report.summary.info) " info" }
                span class="muted" { (parts.counts) }
            }
        }
        @if !report.actions.is_empty() {
            section id="first" {
                h2 { "What to do first" }
                ol class="first" {
                    @for a in report.actions.iter().take(TOP_ACTIONS) {
                        li {
                            (severity_badge(a.severity)) " "
                            a href={ "#action-" (a.id) } { (prose(&a.title)) }
                            div class="muted" { (prose(&a.impact)) }
                        }
                    }
                }
                @if report.actions.len() > TOP_ACTIONS {
                    p class="muted" {
                        "… and " (crate::units::counted(report.actions.len() - TOP_ACTIONS, "more action", "more actions")) " below."
                    }
                }
            }
        }
        section id="actions" {
            h2 { "Every action, first thing first" }
            @if report.actions.is_empty() {
                p { "Nothing to do: no finding." }
            }
            @for a in &report.actions {
                (action(report, a))
            }
        }
        (super::tenants::section(report))
        (super::workload_questions::section(report.workload_questions.as_ref()))
        @if let Some(snap) = snapshot {
            (super::charts::for_snapshot(snap, report))
        }
        (unjudged(report))
        footer {
            "Made by pgsage " (report.tool.version) ". Every value from the server is shown as text."
        }
    }
}

/// Text whose `backticked` parts (identifiers, as every renderer writes them) are code.
pub(crate) fn prose(text: &str) -> Markup {
    html! {
        @for (i, part) in text.split('`').enumerate() {
            @if i % 2 == 1 { code { (part) } } @else { (part) }
        }
    }
}

pub(crate) fn severity_badge(severity: crate::report::Severity) -> Markup {
    let name = severity.to_string();
    html! { span class={ "badge " (name) } { (name) } }
}

pub(crate) fn action(report: &Report, a: &Action) -> Markup {
    let findings: Vec<(usize, &Finding)> = a
        .findings
        .iter()
        .filter_map(|&i| report.findings.get(i).map(|f| (i, f)))
        .collect();
    html! {
        article class="action" id={ "action-" (a.id) } data-action=(a.id) data-rank=(a.rank) {
            header {
                span class="rank" { (a.rank) "." }
                (severity_badge(a.severity))
                h3 { (prose(&a.title)) }
                span class="muted" { (a.class) " · " (crate::units::counted(a.findings.len(), "finding", "findings")) }
            }
            p class="effect" { strong { "Effect: " } (prose(&a.impact)) }
            p class="muted" { (prose(&a.why)) }
            @if a.objects.len() > 1 {
                details {
                    summary { (crate::units::counted(a.objects.len(), "object", "objects")) }
                    (capped(&format!("objects-{}", a.id), &a.objects, OBJECTS_SHOWN, |o| html! {
                        div { code { (report.target.object_name(o)) } }
                    }))
                }
            }
            @if let Some(fix) = &a.fix {
                p class="cost" { strong { "Fix: " } (fix.cost_line()) }
                (code_block(&format!("fix-{}", a.id), &fix.sql))
                @if let Some(p) = &fix.platform {
                    (super::platform::commands(p, &format!("commands-{}", a.id)))
                }
            }
            details class="findings" {
                summary { "Findings and evidence" }
                (capped_with(
                    &format!("findings-{}", a.id),
                    &findings,
                    FINDINGS_SHOWN,
                    &|(i, f)| finding(*i, f, &report.target.object_name(&f.object)),
                    &|(i, f)| compact_finding(*i, f, &report.target.object_name(&f.object)),
                ))
            }
        }
    }
}

pub(crate) fn finding(index: usize, f: &Finding, name: &str) -> Markup {
    html! {
        div class="finding" id={ "finding-" (index) } data-finding=(index) data-rule=(f.rule) {
            div {
                (severity_badge(f.severity)) " "
                strong { (f.rule) } " " (f.title) " — " code { (name) }
            }
            p { (prose(&f.message)) }
            @if !f.recommendation.is_empty() {
                p { strong { "Recommendation: " } (prose(&f.recommendation)) }
            }
            @if let Some(reason) = &f.confidence_reason {
                p class="muted" {
                    "Confidence "
                    (match f.confidence { crate::report::Confidence::High => "high", crate::report::Confidence::Low => "low" })
                    ": " (reason)
                }
            }
            @if !f.evidence.is_empty() {
                details {
                    summary { "Evidence" }
                    table {
                        @for (k, v) in &f.evidence {
                            tr { th { (k) } td { (evidence_value(v)) } }
                        }
                    }
                }
            }
        }
    }
}

/// A finding in one paragraph (the tail of a long list): severity, rule, object,
/// message and its evidence on one line; the action above says the recommendation.
fn compact_finding(index: usize, f: &Finding, name: &str) -> Markup {
    let evidence: Vec<String> = f
        .evidence
        .iter()
        .map(|(k, v)| format!("{k}={}", evidence_value(v)))
        .collect();
    html! {
        p class="finding" id={ "finding-" (index) } data-finding=(index) data-rule=(f.rule) {
            (severity_badge(f.severity)) " " strong { (f.rule) } " " code { (name) } ": "
            (prose(&f.message))
            @if !evidence.is_empty() { br; small class="muted" { (evidence.join(", ")) } }
        }
    }
}

fn evidence_value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What could not be judged (skipped rules, the collector's gaps) and the host facts used.
fn unjudged(report: &Report) -> Markup {
    html! {
        section id="unjudged" {
            h2 { "What could not be judged" }
            @if report.skipped.is_empty() && report.gaps.is_empty() {
                p { "Every rule ran and the collector saw everything it reads." }
            }
            @if !report.skipped.is_empty() {
                details {
                    summary { (crate::units::counted(report.skipped.len(), "rule did not run", "rules did not run")) }
                    table {
                        tr { th { "rule" } th { "why" } }
                        @for s in &report.skipped {
                            tr data-skipped=(s.rule) { td { (s.rule) } td { (s.reason) } }
                        }
                    }
                }
            }
            @if !report.gaps.is_empty() {
                details {
                    summary { (crate::units::counted(report.gaps.len(), "thing the collector could not see", "things the collector could not see")) }
                    table {
                        tr { th { "what" } th { "why" } }
                        @for g in &report.gaps {
                            tr { td { (g.what) } td { (g.why) } }
                        }
                    }
                }
            }
        }
        section id="host" {
            h2 { "Host facts used" }
            p { (crate::report::host_facts_line(&report.host)) }
        }
    }
}
