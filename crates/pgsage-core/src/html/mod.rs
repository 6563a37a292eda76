//! The shareable report: one self-contained HTML page (CSS, script and SVG charts inline,
//! no request to any network), light and dark, printable, for every command (audit, plan,
//! workload, indexes, tune). It sits above the engine, the tuning and the advisor (it
//! reads their reports), so their own renderers (table, Markdown, JSON) do not reach it:
//! the CLI and the Python package call these page functions for HTML. Every value from the server
//! (object names, query texts, settings) goes through maud, which escapes it: a table
//! named `<script>` is text.
//!
//! - [`layout`]: the document around a page: CSS, the small script (copy buttons, "show
//!   all"), the Content-Security-Policy that forbids any network request.
//! - [`audit`]: the audit's page: the server and the statistics window, the ranked
//!   actions with their fixes, the findings by action, what could not be judged, the host
//!   facts, the charts.
//! - [`charts`]: static SVG charts drawn in Rust.
//! - [`plan`]: `pgsage plan`'s page: each plan's tree with its nodes' own time as bars
//!   and the findings on their nodes, then the actions.
//! - [`workload`]: `pgsage workload`'s page: the top statements (table and chart), the
//!   time per window, the findings with their fixes.
//! - [`tune`]: the tune page: the facts used, the settings with their reasons, the
//!   per-table autovacuum settings, the notes, the provider's commands and the script.
//! - [`indexes`]: the index advice page: the recommended indexes with their statements,
//!   costs and sizes, and the rejected candidates.
//! - [`fleet`]: `pgsage fleet`'s summary page: every server's status and counts, the
//!   actions across the fleet, the totals by tag.
//! - [`diff`]: `pgsage diff`'s page: the diff's sections as the text shows them.
//! - [`platform`]: a managed platform's commands and refusals, shared by the audit's
//!   actions and the tune page.

pub mod audit;
pub mod charts;
pub mod diff;
pub mod fleet;
pub mod indexes;
pub mod layout;
pub mod plan;
pub mod platform;
mod tenants;
pub mod tune;
pub mod workload;
mod workload_questions;

use crate::advise::IndexAdvice;
use crate::engine::plan::PlanSection;
use crate::engine::workload::{Overview, RenderOptions, WorkloadReport};
use crate::report::Report;
use crate::snapshot::Snapshot;
use crate::tune::TuneReport;

/// The audit report as a whole page (`pgsage audit --format html`); `snapshot`, when the
/// audited one is at hand, adds the charts drawn from it.
pub fn audit_page(report: &Report, snapshot: Option<&Snapshot>) -> String {
    layout::document(
        &format!("pgsage audit of {}", report.target.database),
        audit::body(report, snapshot),
    )
    .into_string()
}

/// The audit report as a fragment to embed (a notebook's `_repr_html_`): the same
/// sections with the page's style scoped to them.
pub fn audit_fragment(report: &Report, snapshot: Option<&Snapshot>) -> String {
    layout::fragment(audit::body(report, snapshot)).into_string()
}

/// The fleet summary as a whole page (`DIR/summary.html` of `pgsage fleet`).
pub fn fleet_page(summary: &crate::fleet::FleetSummary) -> String {
    layout::document(&fleet::title(summary), fleet::body(summary)).into_string()
}

/// The reports of one or more plans as a whole page (`pgsage plan --format html`).
pub fn plan_page(sections: &[PlanSection<'_>]) -> String {
    layout::document("pgsage plan", plan::body(sections)).into_string()
}

/// The plans' reports as a fragment to embed (a notebook's `_repr_html_`).
pub fn plan_fragment(sections: &[PlanSection<'_>]) -> String {
    layout::fragment(plan::body(sections)).into_string()
}

/// A workload report as a whole page (`pgsage workload --format html`): the top
/// statements in `opts`'s order and number.
pub fn workload_page(report: &WorkloadReport, opts: &RenderOptions) -> String {
    layout::document(
        &format!("pgsage workload: {}", Overview::of(report).source),
        workload::body(report, opts),
    )
    .into_string()
}

/// A workload report as a fragment to embed (a notebook's `_repr_html_`).
pub fn workload_fragment(report: &WorkloadReport, opts: &RenderOptions) -> String {
    layout::fragment(workload::body(report, opts)).into_string()
}

/// The tune report as a whole page (`pgsage tune --format html`).
pub fn tune_page(report: &TuneReport) -> String {
    layout::document(&tune::title(report), tune::body(report)).into_string()
}

/// The tune report as a fragment to embed (a notebook's `_repr_html_`).
pub fn tune_fragment(report: &TuneReport) -> String {
    layout::fragment(tune::body(report)).into_string()
}

/// The index advice as a whole page (`pgsage indexes --format html`).
pub fn indexes_page(advice: &IndexAdvice) -> String {
    layout::document(&indexes::title(advice), indexes::body(advice)).into_string()
}

/// The index advice as a fragment to embed (a notebook's `_repr_html_`).
pub fn indexes_fragment(advice: &IndexAdvice) -> String {
    layout::fragment(indexes::body(advice)).into_string()
}

/// What changed between two snapshots or reports as a whole page (`pgsage diff --format
/// html`).
pub fn diff_page(diff: &crate::diff::SnapshotDiff) -> String {
    layout::document(
        &format!("pgsage diff of {}", diff.new.database),
        self::diff::body(diff),
    )
    .into_string()
}

/// A page holding another renderer's text output as preformatted text, escaped: what
/// `pgsage rules --format html` writes (the rule catalogue's Markdown).
pub fn text_page(title: &str, text: &str) -> String {
    layout::document(
        title,
        maud::html! {
            h1 { (title) }
            pre { (text) }
        },
    )
    .into_string()
}

#[cfg(test)]
mod fleet_tests;
#[cfg(test)]
mod indexes_tests;
#[cfg(test)]
mod test_support;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tune_tests;
