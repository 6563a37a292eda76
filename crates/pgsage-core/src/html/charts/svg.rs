//! Horizontal bar charts as inline SVG: one row per bar (its label and value on a line,
//! the bar under them), bars split in stacked parts. Colours come from the page's CSS
//! classes (`bar`, `bar2`, `bar3`, `axis`), so light, dark and print follow the page;
//! text is measured by nobody, so labels are cut to a length that fits.
//!
//! Every text (labels, values, tooltips) goes through maud, which escapes it. Elements
//! are always closed (`<rect …></rect>`): the HTML parser would nest an unclosed one. No
//! `xmlns`: inline SVG in HTML needs none, and the page names no URL at all.

use maud::{html, Markup};

/// Width of the drawing in user units; the SVG scales to its figure (`width="100%"`).
const WIDTH: f64 = 480.0;
/// Height of one bar's row: a text line, then the bar.
const ROW: f64 = 34.0;
/// Height of a bar.
const BAR: f64 = 10.0;
/// Height of the legend line.
const LEGEND: f64 = 20.0;
/// Characters of 12px text a line holds, label and value together (about 6.5 units
/// each).
const LINE_CHARS: usize = 64;
/// The fewest characters of a label, however long its value.
const MIN_LABEL_CHARS: usize = 16;

/// One stacked part of a bar.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Part {
    /// What it counts, for the legend and the tooltip (`heap`, `requested`).
    pub name: &'static str,
    /// The CSS class that colours it: `bar`, `bar2` or `bar3`.
    pub class: &'static str,
    /// Its amount, in the chart's unit (drawn to scale).
    pub value: f64,
    /// The amount for reading, with its unit (`1.2 GB`).
    pub text: String,
}

/// One bar: a label (an object name, a query: untrusted text) and its parts.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Bar {
    /// The label as the server has it (shortened when drawn, whole in the tooltip).
    pub label: String,
    /// Its parts, drawn left to right.
    pub parts: Vec<Part>,
    /// The value shown right of the label, with its unit.
    pub value: String,
    /// More numbers for the tooltip and the data table (`1,234 calls, 3.3 ms mean`).
    pub detail: String,
}

impl Bar {
    /// The bar's length: its parts' sum.
    pub fn total(&self) -> f64 {
        self.parts.iter().map(|p| p.value.max(0.0)).sum()
    }
}

/// `text` on one line (whitespace runs become one space), cut to `max` characters with
/// an ellipsis.
pub(super) fn shorten(text: &str, max: usize) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        return line;
    }
    let cut: String = line.chars().take(max.saturating_sub(1)).collect();
    format!("{}…", cut.trim_end())
}

/// Characters left for a label on the line of `value`.
fn label_chars(value: &str) -> usize {
    LINE_CHARS
        .saturating_sub(value.chars().count() + 3)
        .max(MIN_LABEL_CHARS)
}

/// A coordinate, to a tenth: the same bars give the same bytes.
fn at(x: f64) -> String {
    let t = format!("{:.1}", x);
    t.trim_end_matches(".0").to_owned()
}

/// The legend's entries: each part name once, in the order of the first bar.
fn legend(bars: &[Bar]) -> Vec<(&'static str, &'static str)> {
    let mut out: Vec<(&'static str, &'static str)> = Vec::new();
    for p in bars.iter().flat_map(|b| &b.parts) {
        if !out.iter().any(|(n, _)| *n == p.name) {
            out.push((p.name, p.class));
        }
    }
    out
}

/// The bars as an SVG, labelled by `title` for screen readers. Bars are drawn to the
/// scale of the longest; a legend line comes first when bars have more than one part.
pub(super) fn bar_chart(id: &str, title: &str, bars: &[Bar]) -> Markup {
    let max = bars.iter().map(Bar::total).fold(0.0, f64::max);
    let scale = if max > 0.0 { WIDTH / max } else { 0.0 };
    let legend = legend(bars);
    let top = if legend.len() > 1 { LEGEND } else { 0.0 };
    let height = top + ROW * bars.len() as f64;
    let title_id = format!("{id}-title");
    html! {
        svg width="100%" viewBox={ "0 0 " (at(WIDTH)) " " (at(height)) }
            role="img" aria-labelledby=(title_id) {
            title id=(title_id) { (title) }
            @if top > 0.0 {
                g class="legend" {
                    @for (i, (name, class)) in legend.iter().enumerate() {
                        rect class=(class) x=(at(i as f64 * 150.0)) y="3" width="10" height="10" {}
                        text x=(at(i as f64 * 150.0 + 14.0)) y="12" { (name) }
                    }
                }
            }
            @for (i, b) in bars.iter().enumerate() {
                @let y = top + ROW * i as f64;
                g class="row" data-value=(b.total()) {
                    title { (tooltip(b)) }
                    text x="0" y=(at(y + 13.0)) { (shorten(&b.label, label_chars(&b.value))) }
                    text x=(at(WIDTH)) y=(at(y + 13.0)) text-anchor="end" { (b.value) }
                    (parts(b, y + 18.0, scale))
                }
            }
            line class="axis" x1="0.5" y1=(at(top)) x2="0.5" y2=(at(height)) {}
        }
    }
}

/// A bar's parts side by side; a part that is not zero is at least half a unit wide, so
/// that it shows.
fn parts(b: &Bar, y: f64, scale: f64) -> Markup {
    let mut x = 0.0;
    let placed: Vec<(f64, f64, &Part)> = b
        .parts
        .iter()
        .map(|p| {
            let w = if p.value > 0.0 {
                (p.value * scale).max(0.5)
            } else {
                0.0
            };
            let start = x;
            x += w;
            (start, w, p)
        })
        .collect();
    html! {
        @for (x, w, p) in placed {
            rect class=(p.class) x=(at(x)) y=(at(y)) width=(at(w)) height=(at(BAR)) data-part=(p.name) data-value=(p.value) {}
        }
    }
}

/// The tooltip of a bar: its whole label, value, parts and details.
fn tooltip(b: &Bar) -> String {
    let more = breakdown(b);
    let head = format!("{}: {}", shorten(&b.label, 240), b.value);
    if more.is_empty() {
        head
    } else {
        format!("{head}; {more}")
    }
}

/// A bar's parts (when more than one) and details, for its tooltip and the data table.
pub(super) fn breakdown(b: &Bar) -> String {
    let mut pieces = Vec::new();
    if b.parts.len() > 1 {
        let parts: Vec<String> = b
            .parts
            .iter()
            .map(|p| format!("{} {}", p.name, p.text))
            .collect();
        pieces.push(parts.join(", "));
    }
    if !b.detail.is_empty() {
        pieces.push(b.detail.clone());
    }
    pieces.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_labels_are_cut_on_one_line() {
        assert_eq!(shorten("SELECT  *\n FROM t", 40), "SELECT * FROM t");
        let cut = shorten(&"x".repeat(100), 10);
        assert_eq!(cut.chars().count(), 10);
        assert!(cut.ends_with('…'));
    }
}
