//! The fleet page (`DIR/summary.html`, written by `pgsage fleet`): the totals, every
//! server with its status, counts and first action (or why it was not audited), the
//! actions across the fleet with the servers that need them, and the totals by tag. The
//! texts are the table and Markdown renderings' ([`crate::fleet::render`]).

use maud::{html, Markup};

use super::audit::{prose, severity_badge};
use super::layout::capped;
use crate::fleet::render::totals_line;
use crate::fleet::summary::{FleetAction, FleetSummary, ServerSummary};
use crate::fleet::ServerStatus;
use crate::units;

/// Actions shown before "show all".
const ACTIONS_SHOWN: usize = 15;

/// The page's title.
pub fn title(summary: &FleetSummary) -> String {
    format!(
        "pgsage fleet run of {}",
        summary.run_at.format("%Y-%m-%d %H:%M UTC")
    )
}

/// The page's sections.
pub fn body(summary: &FleetSummary) -> Markup {
    let t = &summary.totals;
    html! {
        header {
            h1 { (title(summary)) }
            p { (totals_line(t)) }
            @if t.error + t.timeout > 0 {
                div class="banner" role="note" data-failed=(t.error + t.timeout) {
                    (units::counted(t.error + t.timeout, "server was", "servers were"))
                    " not audited: their findings are unknown, not absent."
                }
            }
            div class="counts" {
                span class="badge critical" data-count="critical" { (units::count(t.critical)) " critical" }
                span class="badge warning" data-count="warning" { (units::count(t.warning)) " warning" }
                span class="badge info" data-count="info" { (units::count(t.info)) " info" }
            }
        }
        section id="servers" {
            h2 { "Servers (" (units::count(summary.servers.len())) ")" }
            table {
                thead { tr {
                    th { "server" } th { "tags" } th { "status" }
                    th class="num" { "critical" } th class="num" { "warning" } th class="num" { "info" }
                    th class="num" { "took" } th { "first action" }
                } }
                tbody {
                    @for s in &summary.servers { (server_row(s)) }
                }
            }
        }
        section id="actions" {
            h2 { "Actions across the fleet (" (units::count(summary.actions.len())) ")" }
            @if summary.actions.is_empty() {
                p { "No action: every audited server is healthy by every rule that ran." }
            } @else {
                (capped("fleet-actions", &summary.actions, ACTIONS_SHOWN, fleet_action))
            }
        }
        @if !summary.by_tag.is_empty() {
            section id="tags" {
                h2 { "By tag" }
                table {
                    @for tag in &summary.by_tag {
                        tr { th { code { (tag.tag) "=" (tag.value) } } td { (totals_line(&tag.totals)) } }
                    }
                }
            }
        }
        footer {
            "Made by pgsage " (env!("CARGO_PKG_VERSION"))
            ". Each audited server's snapshot and report are in its directory beside this page. \
             Every value from the servers and the inventory is shown as text."
        }
    }
}

fn server_row(s: &ServerSummary) -> Markup {
    let audited = s.status == ServerStatus::Ok;
    let count = |n: usize| {
        if audited {
            units::count(n)
        } else {
            "–".to_owned()
        }
    };
    html! {
        tr data-server=(s.name) data-status=(s.status.as_str()) {
            td { code { (s.name) } }
            td {
                @for (i, (k, v)) in s.tags.iter().enumerate() {
                    @if i > 0 { ", " }
                    (k) "=" (v)
                }
            }
            td {
                @if audited { (s.status.as_str()) } @else { span class="badge critical" { (s.status.as_str()) } }
            }
            td class="num" { (count(s.counts.critical)) }
            td class="num" { (count(s.counts.warning)) }
            td class="num" { (count(s.counts.info)) }
            td class="num" { (units::duration(s.elapsed_seconds)) }
            td {
                @if let Some(e) = &s.error {
                    (e)
                } @else if let Some(a) = s.actions.first() {
                    (severity_badge(a.severity)) " " (prose(&a.title))
                } @else {
                    span class="muted" { "no findings" }
                }
            }
        }
    }
}

fn fleet_action(a: &FleetAction) -> Markup {
    html! {
        div class="finding" data-action=(a.id) {
            (severity_badge(a.severity)) " " (prose(&a.title)) " "
            span class="muted" { "(" code { (a.id) } ")" }
            br;
            (units::counted(a.servers.len(), "server", "servers")) ": "
            @for (i, name) in a.servers.iter().enumerate() {
                @if i > 0 { ", " }
                code { (name) }
            }
        }
    }
}
