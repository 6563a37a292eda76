//! The audit page's "Tenants" section: the same table as the text report
//! (`report::render::tenants`), every tenant database in a collapsible list past the
//! busiest.

use maud::{html, Markup};

use crate::report::render::tenants::{cells, windows, HEADERS, MAX_ROWS};
use crate::report::Report;

/// The section, when the report has a tenants table.
pub(crate) fn section(report: &Report) -> Markup {
    let Some(t) = &report.tenants else {
        return html! {};
    };
    let row = |r: &crate::report::tenants::TenantRow| {
        let c = cells(r);
        html! {
            tr data-tenant=(r.database) {
                td { code { (c[0]) } }
                @for v in &c[1..] { td class="num" { (v) } }
            }
        }
    };
    html! {
        section id="tenants" {
            h2 { "Tenants" }
            @for line in windows(t) { p class="muted" { (line) } }
            table {
                tr { th { (HEADERS[0]) } @for h in &HEADERS[1..] { th class="num" { (h) } } }
                @for r in t.databases.iter().take(MAX_ROWS) { (row(r)) }
            }
            @if t.databases.len() > MAX_ROWS {
                details {
                    summary { (crate::units::counted(t.databases.len() - MAX_ROWS, "more tenant database", "more tenant databases")) }
                    table {
                        tr { th { (HEADERS[0]) } @for h in &HEADERS[1..] { th class="num" { (h) } } }
                        @for r in t.databases.iter().skip(MAX_ROWS) { (row(r)) }
                    }
                }
            }
            p class="muted" { "How these are measured: docs/tenants.md." }
        }
    }
}
