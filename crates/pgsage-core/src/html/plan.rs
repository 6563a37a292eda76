//! The page of `pgsage plan`: one section per plan with its heading, the plan tree with
//! each node's own (exclusive) time drawn as a bar, rows against the estimate, loops and
//! buffers, the findings marked on the nodes they are about, then what to do (the audit
//! page's actions and findings) and the rules that could not judge the plan.
//!
//! The times are [`Plan::profile`](crate::plan::Plan::profile)'s: nothing here computes
//! a time or a share.

use std::collections::BTreeMap;

use maud::{html, Markup, PreEscaped};

use super::audit::{action, severity_badge};
use crate::engine::plan::{heading, no_findings, rows_over_loops, PlanSection, MISESTIMATE_SHOWN};
use crate::plan::NodeProfile;
use crate::report::{Finding, Report};
use crate::rules::plans::node_label;
use crate::units;

/// The deepest indentation drawn, in levels; deeper nodes show their depth instead.
const MAX_INDENT: usize = 24;

/// The page's own style, after the layout's: the tree's rows and bars.
const PLAN_STYLE: &str = r#"
.pgsage .plan-tree td{padding:3px 8px}
.pgsage .plan-tree td.node{min-width:18em}
.pgsage .plan-tree tr.never td{color:var(--muted)}
.pgsage .plan-tree tr.flagged td.node{box-shadow:inset 3px 0 0 var(--warn)}
.pgsage .plan-tree .depth{color:var(--muted);font-size:.85em;margin-right:4px}
.pgsage .plan-tree .detail{color:var(--muted);font-size:.88em}
.pgsage .plan-tree details.detail{margin:2px 0}
.pgsage .plan-tree details.detail code{white-space:pre-wrap;word-break:break-word}
.pgsage .self{min-width:11em}
.pgsage .self .track{background:var(--line);height:8px;border-radius:4px;overflow:hidden;margin-top:3px}
.pgsage .self .fill{background:var(--bar);height:100%;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.pgsage .off{color:var(--warn);font-weight:600}
.pgsage ul.marks{list-style:none;margin:3px 0 0;padding:0}
.pgsage ul.marks li{margin:2px 0}
.pgsage ul.marks a{color:inherit}
.pgsage section.plan{margin-bottom:2.5em}
"#;

/// The sections of the plan page: the count of plans and their findings, then one
/// section per plan.
pub fn body(sections: &[PlanSection<'_>]) -> Markup {
    let mut critical = 0;
    let mut warning = 0;
    let mut info = 0;
    for s in sections {
        critical += s.report.summary.critical;
        warning += s.report.summary.warning;
        info += s.report.summary.info;
    }
    let version = sections
        .first()
        .map(|s| s.report.tool.version.clone())
        .unwrap_or_default();
    html! {
        style { (PreEscaped(PLAN_STYLE)) }
        header {
            h1 { "pgsage plan" }
            p class="muted" { (units::counted(sections.len(), "plan", "plans")) }
            div class="counts" {
                span class="badge critical" data-count="critical" { (critical) " critical" }
                span class="badge warning" data-count="warning" { (warning) " warning" }
                span class="badge info" data-count="info" { (info) " info" }
            }
        }
        @for (i, s) in sections.iter().enumerate() {
            (plan_section(s, i + 1, sections.len()))
        }
        footer {
            "Made by pgsage " (version) ". Every value from the plan is shown as text."
        }
    }
}

/// One plan. With several plans on the page, the ids inside the section start with
/// `plan-N-` so that every id stays unique (the copy and "show all" buttons find their
/// target by id).
fn plan_section(s: &PlanSection<'_>, n: usize, of: usize) -> Markup {
    let scope = if of > 1 {
        format!("plan-{n}-")
    } else {
        String::new()
    };
    let report = s.report;
    let plan = s.plan;
    let inner = html! {
        h2 { (heading(s, n, of)) }
        // One plan: the page's counts above are this plan's.
        @if of > 1 {
            div class="counts" {
                span class="badge critical" { (report.summary.critical) " critical" }
                span class="badge warning" { (report.summary.warning) " warning" }
                span class="badge info" { (report.summary.info) " info" }
            }
        }
        (query_facts(s))
        @if let Some(q) = &plan.query_text {
            details {
                summary { "Statement" }
                pre { code { (q) } }
            }
        }
        h3 { "Where the time went" }
        p class="muted" {
            @match plan.profile().total_ms {
                Some(total) => {
                    "Each bar is the node's own time (without the nodes under it) as a share of the plan's "
                    (units::millis(total)) "."
                }
                None => "The plan has no per-node times (EXPLAIN without ANALYZE, or TIMING off): no bars.",
            }
        }
        (query_marks(report, &scope))
        (tree(s, &scope))
        h3 { "What to do" }
        @if report.findings.is_empty() {
            p { (no_findings(report)) }
        }
        @for a in &report.actions {
            (action(report, a))
        }
        (unjudged(report))
    };
    let inner = if scope.is_empty() {
        inner
    } else {
        scoped(inner, &scope)
    };
    html! {
        section class="plan" id={ "plan-" (n) } data-plan=(n) { (inner) }
    }
}

/// `markup` with every `id` and `data-target` prefixed by `scope`. Safe on maud's
/// output: maud escapes `"` in every value it writes, so `id="` can only be one of our
/// attributes, never text from the plan.
fn scoped(markup: Markup, scope: &str) -> Markup {
    let text = markup
        .into_string()
        .replace(" id=\"", &format!(" id=\"{scope}"))
        .replace(" data-target=\"", &format!(" data-target=\"{scope}"));
    PreEscaped(text)
}

/// What the plan says beyond its nodes: triggers, JIT, the settings EXPLAIN recorded.
fn query_facts(s: &PlanSection<'_>) -> Markup {
    let plan = s.plan;
    let triggers = plan.trigger_time_ms().filter(|_| !plan.triggers.is_empty());
    let jit = plan.jit.as_ref().and_then(|j| j.total_ms);
    html! {
        @if triggers.is_some() || jit.is_some() || !plan.settings.is_empty() {
            div class="facts" {
                @if let Some(t) = triggers {
                    span { strong { "Triggers: " } (units::millis(t)) " in "
                        (units::counted(plan.triggers.len(), "trigger", "triggers")) }
                }
                @if let Some(j) = jit {
                    span { strong { "JIT: " } (units::millis(j)) }
                }
                @if !plan.settings.is_empty() {
                    span {
                        strong { "Settings: " }
                        @for (i, (k, v)) in plan.settings.iter().enumerate() {
                            @if i > 0 { ", " }
                            code { (k) " = " (v) }
                        }
                    }
                }
            }
        }
    }
}

/// The node path a finding is about (`None`: the query as a whole).
fn node_path(f: &Finding) -> Option<&str> {
    f.evidence.get("node_path").and_then(|p| p.as_str())
}

/// The findings about the query as a whole (planning, JIT, triggers), above the tree.
fn query_marks(report: &Report, scope: &str) -> Markup {
    let about_query: Vec<(usize, &Finding)> = report
        .findings
        .iter()
        .enumerate()
        .filter(|(_, f)| node_path(f).is_none())
        .collect();
    html! {
        @if !about_query.is_empty() {
            div class="query-marks" {
                strong { "About the whole statement:" }
                (marks(&about_query, scope))
            }
        }
    }
}

/// Findings as short lines (severity, rule, title) linking to their whole text below.
fn marks(findings: &[(usize, &Finding)], scope: &str) -> Markup {
    html! {
        ul class="marks" {
            @for (i, f) in findings {
                li data-finding=(i) data-rule=(f.rule) {
                    (severity_badge(f.severity)) " "
                    a href={ "#" (scope) "finding-" (i) } { strong { (f.rule) } " " (f.title) }
                }
            }
        }
    }
}

/// The plan tree: one row per node, in pre-order, indented by depth.
fn tree(s: &PlanSection<'_>, scope: &str) -> Markup {
    let profile = s.plan.profile();
    let mut at_node: BTreeMap<&str, Vec<(usize, &Finding)>> = BTreeMap::new();
    for (i, f) in s.report.findings.iter().enumerate() {
        if let Some(path) = node_path(f) {
            at_node.entry(path).or_default().push((i, f));
        }
    }
    html! {
        table class="plan-tree" {
            thead {
                tr {
                    th { "node" }
                    th { "own time" }
                    th class="num" { "rows actual / planned" }
                    th class="num" { "loops" }
                    th class="num" { "own blocks hit / read" }
                }
            }
            tbody {
                @for np in &profile.nodes {
                    @let path = np.path.to_string();
                    (node_row(np, &path, at_node.get(path.as_str()).map(Vec::as_slice), scope))
                }
            }
        }
    }
}

fn node_row(
    np: &NodeProfile<'_>,
    path: &str,
    findings: Option<&[(usize, &Finding)]>,
    scope: &str,
) -> Markup {
    let node = np.node;
    let depth = np.path.depth();
    let indent = depth.min(MAX_INDENT);
    let never = node.never_executed();
    let class = match (findings.is_some(), never) {
        (true, _) => Some("flagged"),
        (false, true) => Some("never"),
        (false, false) => None,
    };
    let (actual, planned) = rows_over_loops(node);
    let off = node
        .rows_estimate()
        .filter(|e| e.factor >= MISESTIMATE_SHOWN);
    html! {
        tr data-path=(path) class=[class] {
            td class="node" style={ "padding-left:calc(8px + " (indent) " * 1.2em)" } {
                @if depth > MAX_INDENT { span class="depth" { "[" (depth) "]" } }
                (node_label(node))
                @if never { span class="detail" { " (never executed)" } }
                (conditions(node))
                @if let Some(f) = findings { (marks(f, scope)) }
            }
            td class="self" data-share=[np.share] {
                @match (np.exclusive_ms, np.share) {
                    (Some(ms), Some(share)) => {
                        (units::millis(ms)) " · " (units::share(share))
                        div class="track" {
                            div class="fill" style={ "width:" (bar_width(share)) "%" } {}
                        }
                    }
                    (Some(ms), None) => { (units::millis(ms)) }
                    _ => { "-" }
                }
            }
            td class="num" {
                (actual.map_or("-".into(), units::count)) " / " (planned.map_or("-".into(), units::count))
                @if let Some(e) = off {
                    br;
                    span class="off" title="how far the estimate was off" {
                        (if e.underestimated { "↑ " } else { "↓ " }) (units::number(e.factor)) "×"
                    }
                }
            }
            td class="num" {
                @match node.actual_loops {
                    Some(l) => (units::count(l)),
                    None => "-",
                }
            }
            td class="num" {
                @match np.exclusive_buffers {
                    Some(b) => {
                        (units::count(b.shared_hit)) " / " (units::count(b.shared_read))
                        @if b.temp_written > 0 {
                            br;
                            span class="detail" { (units::count(b.temp_written)) " temp written" }
                        }
                    }
                    None => "-",
                }
            }
        }
    }
}

/// The node's conditions and keys (not its output list, long with VERBOSE), collapsed,
/// with the rows its filter removed.
fn conditions(node: &crate::plan::PlanNode) -> Markup {
    let items: Vec<(&str, &str)> = node
        .expressions()
        .filter(|(label, _)| *label != "Output")
        .collect();
    let mut labels: Vec<&str> = Vec::new();
    for (label, _) in &items {
        if !labels.contains(label) {
            labels.push(label);
        }
    }
    html! {
        @if !items.is_empty() {
            details class="detail" {
                summary { (labels.join(", ")) }
                @for (label, text) in &items {
                    div { (label) ": " code { (text) } }
                }
                @if let Some(removed) = node.rows_removed_by_filter {
                    div { "Rows removed by filter: " (units::count(removed)) " per loop" }
                }
            }
        }
    }
}

/// A share (0–1) as a bar's width in percent, to 0.1 (a CSS value, not a figure shown).
fn bar_width(share: f64) -> String {
    format!("{:.1}", (share * 100.0).clamp(0.0, 100.0))
}

/// The rules that could not judge the plan, grouped by reason, and suppressed findings.
fn unjudged(report: &Report) -> Markup {
    let mut by_reason: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in &report.skipped {
        by_reason.entry(&s.reason).or_default().push(&s.rule);
    }
    html! {
        @if !by_reason.is_empty() {
            details class="skipped" {
                summary { (units::counted(report.skipped.len(), "rule did not run", "rules did not run")) }
                table {
                    tr { th { "why" } th { "rules" } }
                    @for (reason, rules) in &by_reason {
                        tr { td { (reason) } td { (rules.join(", ")) } }
                    }
                }
            }
        }
        @if !report.suppressed.is_empty() {
            details class="suppressed" {
                summary { (units::counted(report.suppressed.len(), "finding suppressed", "findings suppressed")) }
                table {
                    tr { th { "rule" } th { "on" } th { "why" } }
                    @for x in &report.suppressed {
                        tr { td { (x.rule) } td { (x.object) } td { (x.reason) } }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::engine::plan::analyze;
    use crate::html::plan_page;
    use crate::plan::{parse_plans, Plan};
    use crate::RuleConfig;

    fn corpus(rel: &str) -> Vec<Plan> {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/plans")
            .join(rel);
        parse_plans(&std::fs::read_to_string(p).unwrap()).unwrap()
    }

    fn page(plans: &[Plan]) -> (String, Vec<Report>) {
        let config = RuleConfig::shipped().unwrap();
        let reports: Vec<Report> = plans.iter().map(|p| analyze(p, &config)).collect();
        let sections: Vec<PlanSection<'_>> = plans
            .iter()
            .zip(&reports)
            .map(|(plan, report)| PlanSection { plan, report })
            .collect();
        (plan_page(&sections), reports)
    }

    /// The table row of the node at `path`.
    fn row<'a>(page: &'a str, path: &str) -> &'a str {
        let start = page
            .find(&format!("<tr data-path=\"{path}\""))
            .unwrap_or_else(|| panic!("no row for {path}"));
        let end = start + page[start..].find("</tr>").unwrap();
        &page[start..end]
    }

    /// Every value of `attr="…"` on the page.
    fn values<'a>(page: &'a str, attr: &str) -> Vec<&'a str> {
        let key = format!(" {attr}=\"");
        page.match_indices(&key)
            .map(|(at, _)| {
                let rest = &page[at + key.len()..];
                &rest[..rest.find('"').unwrap()]
            })
            .collect()
    }

    #[test]
    fn names_and_statements_from_the_plan_are_text() {
        let mut plans = corpus("pg18/row_misestimate.json");
        plans[0].root.children[0].relation_name = Some("<script>alert(1)</script>".into());
        plans[0].root.children[0].filter =
            Some("(name = '</code><script>alert(3)</script>')".into());
        plans[0].query_text =
            Some("SELECT '\" id=\"x' FROM \"<img src=x onerror=alert(2)>\"".into());
        let (page, _) = page(&plans);
        assert!(!page.contains("<script>alert(1)"), "{page}");
        assert!(!page.contains("<img src=x"), "{page}");
        assert!(!page.contains("<script>alert(3)"), "{page}");
        assert!(page.contains("Filter: <code>(name = '&lt;/code&gt;&lt;script&gt;alert(3)"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(page.contains("&quot; id=&quot;x"));
    }

    #[test]
    fn each_bar_is_the_node_s_share_of_the_plan_s_time() {
        for rel in [
            "pg18/row_misestimate.json",
            "pg18/initplan.json",
            "pg18/parallel.json",
        ] {
            let plans = corpus(rel);
            let (page, _) = page(&plans);
            let profile = plans[0].profile();
            assert!(profile.total_ms.is_some(), "{rel}: an analyzed plan");
            for np in &profile.nodes {
                let share = np.share.unwrap();
                let r = row(&page, &np.path.to_string());
                assert!(
                    r.contains(&format!("style=\"width:{:.1}%\"", share * 100.0)),
                    "{rel} {}: share {share}: {r}",
                    np.path
                );
                assert!(r.contains(&units::millis(np.exclusive_ms.unwrap())), "{r}");
            }
        }
    }

    #[test]
    fn every_finding_is_on_its_node_or_on_the_statement() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/plans/pg18");
        let mut seen = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let plans = parse_plans(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let (page, reports) = page(&plans);
            for (i, f) in reports[0].findings.iter().enumerate() {
                let mark = format!("data-finding=\"{i}\" data-rule=\"{}\"", f.rule);
                let place = match node_path(f) {
                    Some(p) => row(&page, p),
                    None => {
                        let start = page.find("class=\"query-marks\"").unwrap();
                        &page[start..start + page[start..].find("</ul>").unwrap()]
                    }
                };
                assert!(
                    place.contains(&mark),
                    "{}: {} not marked: {place}",
                    path.display(),
                    f.rule
                );
                assert!(page.contains(&format!("id=\"finding-{i}\"")), "{}", f.rule);
                seen += 1;
            }
        }
        assert!(seen >= 10, "the corpus has findings: {seen}");
    }

    #[test]
    fn several_plans_keep_every_id_unique_and_every_target_found() {
        let mut plans = corpus("pg18/row_misestimate.json");
        plans.extend(corpus("pg18/row_misestimate.json"));
        plans.extend(corpus("pg18/fk_trigger_delete.json"));
        let (page, _) = page(&plans);
        let ids = values(&page, "id");
        let unique: std::collections::BTreeSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
        for target in values(&page, "data-target") {
            assert!(unique.contains(target), "no element {target}");
        }
        for link in values(&page, "href") {
            let id = link.strip_prefix('#').unwrap();
            assert!(unique.contains(id), "no element {id}");
        }
        assert!(unique.contains("plan-2-finding-0") && unique.contains("plan-3-action-exp010"));
        assert!(unique.contains("plan-1") && unique.contains("plan-3"));
    }

    #[test]
    fn the_page_is_the_same_every_time_and_requests_nothing() {
        let plans = corpus("pg18/initplan.json");
        let (first, _) = page(&plans);
        let (second, _) = page(&plans);
        assert_eq!(first, second);
        assert!(first.contains(super::super::layout::CONTENT_SECURITY_POLICY));
        for outside in ["http://", "https://", "src=\"", "url("] {
            assert!(!first.contains(outside), "the page refers to {outside}");
        }
    }
}
