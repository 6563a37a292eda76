//! The tune page (`pgsage tune --format html`): the host facts used with their sources,
//! the settings (current, recommended, how the change applies) with each one's reason and
//! evidence collapsible, the per-table autovacuum settings, the notes, then how to apply
//! it: on a managed platform the provider's commands and what it refuses, and the script.
//! The cells are the table renderer's ([`crate::tune::render`]), so the page says what
//! the terminal says.

use maud::{html, Markup};

use super::layout::capped;
use crate::tune::render::{apply_text, script, status};
use crate::tune::{Advice, Basis, TableAdvice, TuneReport};

/// Per-table autovacuum advice shown before "show all".
const TABLES_SHOWN: usize = 20;

/// The page's title: `pgsage tune: PostgreSQL 17.2, profile mixed`.
pub fn title(report: &TuneReport) -> String {
    format!(
        "pgsage tune: PostgreSQL {}, profile {}",
        report.server_version, report.profile
    )
}

/// The page's sections.
pub fn body(report: &TuneReport) -> Markup {
    html! {
        header {
            h1 { "pgsage tune" }
            p class="muted" {
                "PostgreSQL " (report.server_version) " · profile " (report.profile)
                @if let Some(service) = &report.managed_service { " · " (service) }
            }
            (facts(report))
        }
        section id="settings" {
            h2 { "Settings" }
            p class="muted" {
                (crate::units::counted(report.changes().count(), "setting to change", "settings to change"))
                ", " (crate::units::count(report.settings.len() - report.changes().count())) " already right"
            }
            table {
                thead {
                    tr { th { "setting" } th { "current" } th { "recommended" } th { "apply" } th { "why" } }
                }
                tbody {
                    @for a in &report.settings { (setting(report, a)) }
                }
            }
        }
        @if !report.tables.is_empty() {
            section id="tables" {
                h2 { "Per-table autovacuum" }
                (capped("tune-tables", &report.tables, TABLES_SHOWN, table_advice))
            }
        }
        @if !report.notes.is_empty() {
            section id="notes" {
                h2 { "Notes" }
                ul { @for n in &report.notes { li { (n) } } }
            }
        }
        section id="apply" {
            h2 { "How to apply it" }
            @if let Some(p) = &report.platform {
                (super::platform::commands(p, "platform-commands"))
            }
            div class="fix" {
                p class="cost" {
                    strong { "Script for psql" }
                    @if report.platform.as_ref().is_some_and(|p| !p.commands.is_empty()) {
                        " (the provider's commands above as comments, the per-table settings as SQL)"
                    }
                }
                pre id="tune-script" { code { (script(report)) } }
                button class="copy" type="button" data-target="tune-script" { "copy" }
            }
        }
        footer {
            "Made by pgsage " (env!("CARGO_PKG_VERSION")) ". Every value from the server is shown as text."
        }
    }
}

fn facts(report: &TuneReport) -> Markup {
    html! {
        div class="facts" {
            strong { "Host facts: " }
            @if report.facts.is_empty() {
                span { "none known" }
            }
            @for f in &report.facts {
                span data-fact=(f.name) { (f.name) " " (f.value) " " span class="muted" { "(from " (f.source) ")" } }
            }
        }
    }
}

/// Where a recommendation comes from, in words.
fn basis_text(b: Basis) -> &'static str {
    match b {
        Basis::Hardware => "from the hardware",
        Basis::Workload => "from the measured workload",
        Basis::Request => "as requested",
        Basis::Audit => "from an audit finding",
    }
}

fn setting(report: &TuneReport, a: &Advice) -> Markup {
    let apply = apply_text(report, a);
    let apply_class = match apply.as_str() {
        "not allowed" => Some("badge critical"),
        "restart" => Some("badge warning"),
        "" => None,
        _ => Some("badge info"),
    };
    html! {
        tr id={ "setting-" (a.name) } data-setting=(a.name) data-change=(a.change) class=[(!a.change).then_some("muted")] {
            td { code { (a.name) } }
            td { (a.current.as_deref().unwrap_or("?")) }
            td { @if a.change { strong { (status(a)) } } @else { (status(a)) } }
            td { @if let Some(class) = apply_class { span class=(class) { (apply) } } }
            td {
                details {
                    summary { (basis_text(a.basis)) }
                    p { (a.why) }
                    @if !a.evidence.is_empty() {
                        ul { @for e in &a.evidence { li { (e) } } }
                    }
                }
            }
        }
    }
}

fn table_advice(t: &TableAdvice) -> Markup {
    html! {
        div class="finding" data-table=(t.table) {
            div {
                code { (t.table) } ": "
                @for (i, (name, value)) in t.settings.iter().enumerate() {
                    @if i > 0 { ", " }
                    code { (name) " = " (value) }
                }
            }
            p class="muted" { (t.why) }
        }
    }
}
