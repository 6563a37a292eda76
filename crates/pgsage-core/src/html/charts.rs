//! Static SVG charts drawn from the snapshot (no JavaScript charting library, nothing
//! fetched): where a reader would rather look than read. Each chart is a `figure` with
//! its title, a line saying what it shows and over which window, the SVG (a `<title>`
//! per bar with its exact numbers) and the numbers as a table; a chart whose data the
//! snapshot lacks is left out, never drawn empty. Only the top items are drawn, so the
//! page stays small whatever the number of tables or statements.
//!
//! - [`statements`]: top statements by total execution time (`pg_stat_statements`).
//! - [`tables`]: the largest tables, their dead rows and estimated bloat.
//! - [`connections`]: client connections by state, application, role and database.
//! - [`counters`]: temporary bytes, requested against timed checkpoints, and the rates
//!   over a sampled interval.
//! - [`svg`]: the bar chart itself.

mod connections;
mod counters;
mod statements;
mod svg;
mod tables;

use maud::{html, Markup};

use crate::knowledge::counters::StatsWindow;
use crate::report::Report;
use crate::snapshot::Snapshot;

/// Bars of a chart of objects or statements: the top ones only.
const TOP: usize = 10;
/// Bars of a chart of names (applications, roles, databases) before the rest is one
/// bar.
const TOP_NAMES: usize = 8;

/// One chart: a figure of one or more bar charts (panels).
#[derive(Debug, Clone, PartialEq)]
struct Figure {
    /// The figure's id on the page (`chart-statements`).
    pub id: &'static str,
    /// Its title.
    pub title: String,
    /// What it shows, from where, over which window.
    pub caption: String,
    /// Figures that are not per object (server-wide rates), with their units.
    pub facts: Vec<String>,
    /// Its bar charts.
    pub panels: Vec<Panel>,
}

/// One bar chart of a figure.
#[derive(Debug, Clone, PartialEq)]
struct Panel {
    /// What this panel breaks down by, when the figure has several.
    pub heading: Option<String>,
    /// The bars, largest first.
    pub bars: Vec<svg::Bar>,
}

/// The charts section for `snapshot` (empty when it has nothing to draw).
pub fn for_snapshot(snapshot: &Snapshot, report: &Report) -> Markup {
    let figures = figures(snapshot, report);
    if figures.is_empty() {
        return html! {};
    }
    html! {
        section id="charts" {
            h2 { "Charts" }
            div class="charts" {
                @for f in &figures { (figure(f)) }
            }
        }
    }
}

/// Every chart the snapshot has the data for, in the page's order.
fn figures(snapshot: &Snapshot, report: &Report) -> Vec<Figure> {
    let window = StatsWindow::of(snapshot, report.counters.min_usage_seconds);
    let workload = crate::workload::from_snapshot(snapshot).ok();
    [
        statements::top_by_time(snapshot, workload.as_ref()),
        tables::largest(snapshot),
        connections::by_state(snapshot),
        connections::by_origin(snapshot),
        counters::temp_bytes(snapshot, &window, workload.as_ref()),
        counters::checkpoints(snapshot, &window),
        counters::rates(snapshot, &window, workload.as_ref()),
    ]
    .into_iter()
    .flatten()
    .filter(|f| !f.facts.is_empty() || f.panels.iter().any(|p| !p.bars.is_empty()))
    .collect()
}

fn figure(f: &Figure) -> Markup {
    let panels: Vec<&Panel> = f.panels.iter().filter(|p| !p.bars.is_empty()).collect();
    html! {
        figure id=(f.id) data-chart=(f.id) {
            figcaption { (f.title) }
            p class="muted" { (f.caption) }
            @if !f.facts.is_empty() {
                div class="facts" { @for x in &f.facts { span { (x) } } }
            }
            @for (i, p) in panels.iter().enumerate() {
                @if let Some(h) = &p.heading { div { (h) } }
                (svg::bar_chart(&format!("{}-{i}", f.id), p.heading.as_deref().unwrap_or(&f.title), &p.bars))
            }
            @if !panels.is_empty() {
                details {
                    summary { "The numbers" }
                    table {
                        @for p in &panels {
                            @if let Some(h) = &p.heading { tr { th colspan="3" { (h) } } }
                            @for b in &p.bars {
                                tr {
                                    td { (svg::shorten(&b.label, 120)) }
                                    td class="num" { (b.value) }
                                    td { (svg::breakdown(b)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A count per name, for a chart of names.
#[derive(Debug, Clone, PartialEq)]
struct NameCount {
    name: String,
    count: usize,
    /// The bar that sums the names past the shown ones.
    rest: bool,
}

/// Counts per name, largest first (ties by name), the names past `shown` as one last
/// bar `n others`.
fn counted_names(
    counts: std::collections::BTreeMap<String, usize>,
    shown: usize,
) -> Vec<NameCount> {
    let mut v: Vec<NameCount> = counts
        .into_iter()
        .map(|(name, count)| NameCount {
            name,
            count,
            rest: false,
        })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then(a.name.cmp(&b.name)));
    if v.len() > shown.saturating_add(1) {
        let rest = v.split_off(shown);
        v.push(NameCount {
            name: format!("{} others", rest.len()),
            count: rest.iter().map(|r| r.count).sum(),
            rest: true,
        });
    }
    v
}

#[cfg(test)]
mod tests;
