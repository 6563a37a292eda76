//! The index advice page (`pgsage indexes --format html`): whether the advice was
//! validated (and why not), the budget and what happened to the workload's statements,
//! then each recommended index with its `CREATE INDEX CONCURRENTLY` (copy button), size,
//! benefit, the statements it helps with their costs and scans before and after, the
//! indexes it makes redundant and its write overhead; then the rejected candidates with
//! the reasons. The texts and numbers are the table and Markdown renderings'
//! ([`crate::advise::render::format`]).

use maud::{html, Markup};

use super::layout::capped;
use crate::advise::model::{IndexAdvice, Recommendation, Rejected, Validation};
use crate::advise::render::format::{
    cost_text, cut, detail_lines, drop_hint, scan_text, summary_line, validation_line,
};
use crate::units;

/// Rejected candidates shown before "show all".
const REJECTED_SHOWN: usize = 20;
/// Characters of a helped statement's text shown (the Markdown rendering's cut).
const QUERY_CHARS: usize = 300;

/// The page's title: `pgsage indexes for database erp`.
pub fn title(advice: &IndexAdvice) -> String {
    match &advice.database {
        Some(db) => format!("pgsage indexes for database {db}"),
        None => "pgsage indexes".to_owned(),
    }
}

/// The page's sections.
pub fn body(advice: &IndexAdvice) -> Markup {
    html! {
        header {
            h1 {
                "Index advice"
                @if let Some(db) = &advice.database { " for database " code { (db) } }
            }
            @match &advice.validation {
                Validation::Unvalidated { .. } => {
                    div class="banner" role="note" data-validation="unvalidated" { (validation_line(&advice.validation)) }
                }
                Validation::Hypopg { .. } => {
                    p data-validation="hypopg" { (validation_line(&advice.validation)) }
                }
            }
            table {
                @for (label, text) in detail_lines(advice) {
                    tr { th { (label) } td { (text) } }
                }
            }
        }
        section id="recommendations" {
            h2 { "Recommendations (" (units::count(advice.recommendations.len())) ")" }
            @if advice.recommendations.is_empty() {
                p { "No index to recommend: no candidate passed the gates (see the rejected candidates)." }
            }
            @for (i, r) in advice.recommendations.iter().enumerate() {
                (recommendation(i + 1, r))
            }
        }
        section id="rejected" {
            h2 { "Rejected candidates (" (units::count(advice.rejected.len())) ")" }
            @if advice.rejected.is_empty() {
                p { "None: every candidate considered is recommended." }
            } @else {
                details {
                    summary { "Candidates considered and not recommended, with the reason" }
                    (capped("rejected-list", &advice.rejected, REJECTED_SHOWN, rejected))
                }
            }
        }
        footer {
            "Made by pgsage " (env!("CARGO_PKG_VERSION")) ". Every value from the server is shown as text."
        }
    }
}

fn recommendation(n: usize, r: &Recommendation) -> Markup {
    let validated = r.queries.iter().any(|q| q.cost_before.is_some());
    let id = format!("create-{n}");
    html! {
        article class="action" id={ "recommendation-" (n) } data-recommendation=(n)
            data-rule=(crate::advise::render::findings::RULE_ID) data-validated=(r.validated) {
            header {
                span class="rank" { (n) "." }
                h3 {
                    code { (r.schema) "." (r.table) } " (" (r.columns.join(", ")) ")"
                    @if !r.include.is_empty() { " INCLUDE (" (r.include.join(", ")) ")" }
                }
            }
            p class="effect" { (summary_line(r)) }
            div class="fix" {
                pre id=(id) { code { (r.create_statement) } }
                button class="copy" type="button" data-target=(id) { "copy" }
            }
            details open {
                summary { "Statements it helps (" (units::count(r.queries.len())) ")" }
                table {
                    thead {
                        tr {
                            th { "fingerprint" } th class="num" { "calls" } th class="num" { "total" }
                            @if validated { th { "cost before → after" } th { "scan before → after" } }
                            th { "query" }
                        }
                    }
                    tbody {
                        @for q in &r.queries {
                            tr data-fingerprint=(q.fingerprint) {
                                td { code { (q.fingerprint) } }
                                td class="num" { (units::count(q.calls)) }
                                td class="num" { (units::millis(q.total_ms)) }
                                @if validated { td { (cost_text(q)) } td { (scan_text(q)) } }
                                td { code { (cut(&q.query, QUERY_CHARS)) } }
                            }
                        }
                    }
                }
            }
            @if !r.redundant_indexes.is_empty() {
                p { strong { "Makes redundant:" } }
                ul { @for idx in &r.redundant_indexes { li { (drop_hint(&r.schema, idx)) } } }
            }
            @if let Some(w) = &r.write_overhead {
                p class="muted" { strong { "Write overhead: " } (w.note) }
            }
        }
    }
}

fn rejected(r: &Rejected) -> Markup {
    html! {
        div class="finding" data-rejected {
            code { (r.create_statement) }
            p class="muted" { (r.reason) }
        }
    }
}
