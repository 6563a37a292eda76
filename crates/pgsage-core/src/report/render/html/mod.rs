//! The shareable report: one self-contained HTML page (CSS, script and SVG charts inline,
//! no request to any network), light and dark, printable. Every value from the server
//! (object names, query texts, settings) goes through maud, which escapes it: a table
//! named `<script>` is text.
//!
//! - [`layout`]: the document around a page: CSS, the small script (copy buttons, "show
//!   all"), the Content-Security-Policy that forbids any network request.
//! - [`audit`]: the audit's page: the server and the statistics window, the ranked
//!   actions with their fixes, the findings by action, what could not be judged, the host
//!   facts, the charts.
//! - [`charts`]: static SVG charts drawn in Rust.

pub mod audit;
pub mod charts;
pub mod layout;

use crate::report::Report;
use crate::snapshot::Snapshot;

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

/// A page holding another renderer's text output as preformatted text, escaped: what a
/// command without its own HTML layout yet writes for `--format html`.
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
mod tests;
