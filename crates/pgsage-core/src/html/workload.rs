//! The page of `pgsage workload`: where the workload comes from and its window, the top
//! statements (a bar chart by total time and the table in the chosen order, with the
//! figures of the text report), the execution time per window when the capture has more
//! than one, and the findings with their fixes (the audit page's actions).

use maud::{html, Markup, PreEscaped};

use super::audit::action;
use crate::engine::workload::{
    cut, order_name, top_queries, Overview, QueryFigures, RenderOptions, SortBy, WorkloadReport,
};
use crate::units;
use crate::workload::profile::Window;
use crate::workload::{QueryStats, Workload};

/// Statements drawn in the bar chart.
const CHART_BARS: usize = 10;
/// Characters of a statement shown in the table (the whole text is one click away).
const QUERY_SHOWN: usize = 200;
/// Characters of a statement labelling its bar.
const LABEL_CHARS: usize = 48;
/// Time labels under the time-profile chart, at most.
const TIME_LABELS: usize = 12;

/// The page's own style, after the layout's.
const WORKLOAD_STYLE: &str = r#"
.pgsage .top td.query{max-width:32em}
.pgsage .top td.query code{white-space:pre-wrap;word-break:break-word}
.pgsage .top td.query details pre{white-space:pre-wrap}
"#;

/// The sections of the workload page.
pub fn body(r: &WorkloadReport, opts: &RenderOptions) -> Markup {
    let o = Overview::of(r);
    let w = &r.workload;
    let top = top_queries(w, opts.by, opts.top);
    html! {
        style { (PreEscaped(WORKLOAD_STYLE)) }
        header {
            h1 { "pgsage workload: " (o.source) }
            p class="muted" { (o.window) }
            div class="facts" {
                span { strong { "Totals: " } (o.totals) }
                span { strong { "Mix: " } (o.mix) }
                @if let Some(p) = &o.peak { span { strong { "Peak window: " } (p) } }
                @for (label, text) in &o.shares { span { strong { (label) ": " } (text) } }
                @if let Some(u) = &o.unattributed { span { strong { "Unattributed: " } (u) } }
                @if let Some(l) = &o.log { span { strong { "Log: " } (l) } }
            }
            div class="counts" {
                span class="badge critical" data-count="critical" { (r.summary.critical) " critical" }
                span class="badge warning" data-count="warning" { (r.summary.warning) " warning" }
                span class="badge info" data-count="info" { (r.summary.info) " info" }
            }
        }
        section id="top" {
            h2 { "Top " (units::count(top.len())) " queries by " (order_name(opts.by)) }
            (total_time_chart(w))
            (top_table(w, &top))
        }
        (time_profile(w))
        (super::workload_questions::section(r.answers.as_ref()))
        (findings(r))
        footer {
            "Made by pgsage " (r.tool.version) ". Every statement is shown as text."
        }
    }
}

/// The largest statements by total time as horizontal bars (whatever the table's order:
/// total time is where the server's time went).
fn total_time_chart(w: &Workload) -> Markup {
    let bars = top_queries(w, SortBy::Total, CHART_BARS);
    let largest = bars.first().map_or(0.0, |q| q.total_ms);
    if bars.is_empty() || largest <= 0.0 {
        return html! {};
    }
    // Layout, in SVG units: the label column, the bars, the value after each bar.
    let (label_w, bar_w, row_h) = (330.0, 300.0, 24.0);
    let width = label_w + bar_w + 120.0;
    let height = row_h * bars.len() as f64 + 8.0;
    html! {
        figure class="chart" id="chart-total-time" {
            figcaption { "Where the execution time went: the " (units::count(bars.len())) " largest statements" }
            svg viewBox={ "0 0 " (width) " " (height) }
                width=(width) height=(height) role="img"
                aria-label="Execution time of the largest statements" {
                @for (i, q) in bars.iter().enumerate() {
                    @let y = 4.0 + row_h * i as f64;
                    @let len = (bar_w * q.total_ms / largest).max(1.0);
                    g data-fingerprint=(q.fingerprint) {
                        title { (q.fingerprint) ": " (units::millis(q.total_ms)) ", "
                            (units::percent(q.share_pct(&w.totals))) " of the time — " (cut(&q.query, 300)) }
                        text x="0" y=(y + 15.0) { (cut(&q.query, LABEL_CHARS)) }
                        rect class="bar" x=(label_w) y=(y + 3.0) width=(format!("{len:.1}")) height="16" {}
                        text x=(format!("{:.1}", label_w + len + 6.0)) y=(y + 15.0) {
                            (units::millis(q.total_ms)) " · " (units::percent(q.share_pct(&w.totals)))
                        }
                    }
                }
            }
        }
    }
}

/// The top statements with the text report's figures, plus the temporary files written.
fn top_table(w: &Workload, top: &[&QueryStats]) -> Markup {
    html! {
        table class="top" {
            thead {
                tr {
                    th { "fingerprint" } th { "queryid" } th class="num" { "calls" }
                    th class="num" { "total" } th class="num" { "mean" } th class="num" { "p95" }
                    th class="num" { "rows" } th class="num" { "temp written" } th class="num" { "share" }
                    th { "query" }
                }
            }
            tbody {
                @for q in top {
                    @let f = QueryFigures::of(q, w);
                    tr data-fingerprint=(q.fingerprint) {
                        td { code { (q.fingerprint) } }
                        td { code { (f.queryid) } }
                        td class="num" { (f.calls) }
                        td class="num" { (f.total) }
                        td class="num" { (f.mean) }
                        td class="num" { (f.p95) }
                        td class="num" { (f.rows) }
                        td class="num" { (q.temp_bytes.map_or("-".into(), units::bytes)) }
                        td class="num" { (f.share) }
                        td class="query" {
                            code { (cut(&q.query, QUERY_SHOWN)) }
                            @if q.query.chars().count() > QUERY_SHOWN {
                                details {
                                    summary { "whole statement" }
                                    pre { code { (q.query) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Execution time per window as columns, when the capture has more than one window.
fn time_profile(w: &Workload) -> Markup {
    let windows = &w.profile.windows;
    let largest = windows.iter().map(|x| x.total_ms).fold(0.0, f64::max);
    if windows.len() < 2 || largest <= 0.0 {
        return html! {};
    }
    let length = w
        .profile
        .bucket_seconds
        .map_or("window".to_owned(), |s| units::duration(s as f64));
    let (plot_w, plot_h, top, left) = (720.0, 160.0, 8.0, 4.0);
    let step = plot_w / windows.len() as f64;
    let every = windows.len().div_ceil(TIME_LABELS);
    html! {
        section id="profile" {
            h2 { "Execution time per " (length) }
            figure class="chart" id="chart-time-profile" {
                figcaption { (units::counted(windows.len(), "window", "windows")) ", the busiest "
                    (units::millis(largest)) }
                svg
                    viewBox={ "0 0 " (plot_w + 2.0 * left) " " (plot_h + top + 24.0) }
                    width=(plot_w + 2.0 * left) height=(plot_h + top + 24.0) role="img"
                    aria-label="Execution time per window" {
                    line class="axis" x1=(left) x2=(left + plot_w) y1=(top + plot_h) y2=(top + plot_h) {}
                    @for (i, x) in windows.iter().enumerate() {
                        @let h = (plot_h * x.total_ms / largest).max(if x.total_ms > 0.0 { 1.0 } else { 0.0 });
                        @let bx = left + step * i as f64;
                        g data-window=(i) {
                            title { (window_title(x)) }
                            rect class="bar" x=(format!("{:.1}", bx + step * 0.1))
                                y=(format!("{:.1}", top + plot_h - h))
                                width=(format!("{:.1}", step * 0.8)) height=(format!("{h:.1}")) {}
                            @if i % every == 0 {
                                @if let Some(start) = x.start {
                                    text x=(format!("{bx:.1}")) y=(top + plot_h + 16.0) { (start.format("%H:%M")) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A window's figures, for its column's tooltip.
fn window_title(x: &Window) -> String {
    let at = x.start.map_or("whole capture".to_owned(), |s| {
        s.format("%Y-%m-%d %H:%M UTC").to_string()
    });
    format!(
        "{at}: {}, {}",
        units::counted(x.calls, "execution", "executions"),
        units::millis(x.total_ms)
    )
}

/// The findings grouped into actions with their fixes, and the rules that did not run.
fn findings(r: &WorkloadReport) -> Markup {
    let report = r.findings_as_report();
    html! {
        section id="actions" {
            h2 { "What to do, first thing first" }
            @if report.actions.is_empty() {
                p { "Nothing to do: no finding." }
            }
            @for a in &report.actions {
                (action(&report, a))
            }
        }
        @if !r.skipped.is_empty() {
            section id="unjudged" {
                h2 { "What could not be judged" }
                details {
                    summary { (units::counted(r.skipped.len(), "rule did not run", "rules did not run")) }
                    table {
                        tr { th { "rule" } th { "why" } }
                        @for s in &r.skipped {
                            tr data-skipped=(s.rule) { td { (s.rule) } td { (s.reason) } }
                        }
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
    use crate::html::workload_page;
    use crate::{RuleConfig, Snapshot};

    /// The demo snapshot's pg_stat_statements (captured from a real server) judged.
    fn demo() -> WorkloadReport {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/snapshots/demo.json");
        let snap = Snapshot::load(&p).unwrap();
        let w = crate::workload::from_snapshot(&snap).unwrap();
        WorkloadReport::new(w, &RuleConfig::shipped().unwrap(), None)
    }

    #[test]
    fn statements_are_text() {
        let mut r = demo();
        let hostile = "SELECT '<script>alert(1)</script>' FROM \"<img src=x onerror=alert(2)>\"";
        r.workload.queries[0].query = hostile.into();
        r.findings[0].message = "<b>bold</b>".into();
        let page = workload_page(&r, &RenderOptions::default());
        assert!(!page.contains("<script>alert(1)"));
        assert!(!page.contains("<img src=x"));
        assert!(!page.contains("<b>bold"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    }

    #[test]
    fn the_chart_draws_the_largest_statements_in_order_of_total_time() {
        let r = demo();
        let page = workload_page(&r, &RenderOptions::default());
        let chart_at = page.find("id=\"chart-total-time\"").unwrap();
        let chart = &page[chart_at..chart_at + page[chart_at..].find("</figure>").unwrap()];
        let drawn: Vec<&str> = chart
            .match_indices("<g data-fingerprint=\"")
            .map(|(at, m)| &chart[at + m.len()..at + m.len() + 16])
            .collect();
        let mut expected: Vec<&crate::workload::QueryStats> = r.workload.queries.iter().collect();
        expected.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms));
        let expected: Vec<String> = expected
            .iter()
            .take(CHART_BARS)
            .map(|q| q.fingerprint.to_string())
            .collect();
        assert_eq!(drawn, expected);
        // Bar lengths follow the times: the first is the longest.
        let widths: Vec<f64> = chart
            .match_indices("class=\"bar\"")
            .map(|(at, _)| {
                let rest = &chart[at..];
                let w = &rest[rest.find("width=\"").unwrap() + 7..];
                w[..w.find('"').unwrap()].parse().unwrap()
            })
            .collect();
        assert!(widths.windows(2).all(|p| p[0] >= p[1]), "{widths:?}");
    }

    #[test]
    fn every_finding_and_fix_is_on_the_page() {
        let r = demo();
        assert!(!r.findings.is_empty(), "the demo workload has findings");
        let page = workload_page(&r, &RenderOptions::default());
        for (i, f) in r.findings.iter().enumerate() {
            assert!(page.contains(&format!("id=\"finding-{i}\"")), "{}", f.rule);
            if let Some(fix) = &f.fix {
                let first = fix.sql.lines().next().unwrap();
                let escaped = maud::html! { (first) }.into_string();
                assert!(page.contains(&escaped), "{}: {first}", f.rule);
            }
        }
        assert_eq!(page, workload_page(&r, &RenderOptions::default()));
    }

    #[test]
    fn the_table_follows_the_order_and_number_asked() {
        let r = demo();
        let opts = RenderOptions {
            top: 5,
            by: SortBy::Calls,
            width: None,
        };
        let page = workload_page(&r, &opts);
        let rows: Vec<&str> = page
            .match_indices("<tr data-fingerprint=\"")
            .map(|(at, m)| &page[at + m.len()..at + m.len() + 16])
            .collect();
        let expected: Vec<String> = top_queries(&r.workload, SortBy::Calls, 5)
            .iter()
            .map(|q| q.fingerprint.to_string())
            .collect();
        assert_eq!(rows, expected);
        assert!(page.contains("Top 5 queries by calls"));
    }
}
