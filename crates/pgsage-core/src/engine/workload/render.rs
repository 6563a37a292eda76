//! Rendering a [`WorkloadReport`]: top queries, profile and findings as a terminal table,
//! Markdown or an HTML page ([`workload_page`](crate::html::workload_page)),
//! or the whole report as JSON.

use std::io::Write;

use super::WorkloadReport;
use crate::report::render::Format;
use crate::units;
use crate::workload::{QueryStats, SourceKind, Workload};

/// How to order the top queries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    /// Total execution time.
    #[default]
    Total,
    /// Mean execution time.
    Mean,
    /// Executions.
    Calls,
    /// Temporary file bytes.
    Temp,
}

impl std::str::FromStr for SortBy {
    type Err = crate::ParseValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "total" | "time" => Ok(SortBy::Total),
            "mean" => Ok(SortBy::Mean),
            "calls" => Ok(SortBy::Calls),
            "temp" => Ok(SortBy::Temp),
            other => Err(crate::ParseValueError::new(
                "order",
                other,
                "total, mean, calls or temp",
            )),
        }
    }
}

/// Rendering options.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// How many queries to list.
    pub top: usize,
    /// Their order.
    pub by: SortBy,
    /// Table width (`None`: the terminal's).
    pub width: Option<u16>,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            top: 20,
            by: SortBy::Total,
            width: Some(100),
        }
    }
}

/// The top `n` queries in the chosen order.
pub fn top_queries(w: &Workload, by: SortBy, n: usize) -> Vec<&QueryStats> {
    let mut qs: Vec<&QueryStats> = w.queries.iter().collect();
    let key = |q: &QueryStats| match by {
        SortBy::Total => q.total_ms,
        SortBy::Mean => q.mean_ms,
        SortBy::Calls => q.calls as f64,
        SortBy::Temp => q.temp_bytes.unwrap_or(0) as f64,
    };
    qs.sort_by(|a, b| {
        key(b)
            .total_cmp(&key(a))
            .then(a.fingerprint.cmp(&b.fingerprint))
    });
    if by == SortBy::Temp {
        qs.retain(|q| q.temp_bytes.unwrap_or(0) > 0);
    }
    qs.truncate(n);
    qs
}

/// Writes the report.
pub fn render(
    r: &WorkloadReport,
    format: Format,
    opts: &RenderOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => writeln!(out, "{}", r.to_json()),
        Format::Table => render_text(r, opts, false, out),
        Format::Markdown => render_text(r, opts, true, out),
        Format::Html => Err(crate::report::render::html_elsewhere(
            "crate::html::workload_page",
        )),
    }
}

/// pg_stat_statements' query id of a fingerprint (`+N` more when several entries were
/// merged into it, e.g. one per role), `-` for a statement only seen in logs.
fn queryid_cell(q: &QueryStats) -> String {
    match q.queryids.as_slice() {
        [] => "-".to_owned(),
        [one] => one.to_string(),
        [first, rest @ ..] => format!("{first} +{}", rest.len()),
    }
}

/// `s` on one line (a statement's line breaks and indentation as single spaces, for a
/// table cell), cut to `n` characters.
pub(crate) fn cut(s: &str, n: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= n {
        s
    } else {
        let c: String = s.chars().take(n).collect();
        format!("{c}…")
    }
}

/// The lines at the top of a workload report (text and HTML): where the workload comes
/// from, its window, totals, mix, peak window, main databases and applications, what
/// could not be attributed, what the log reader saw.
#[derive(Debug, Clone)]
pub(crate) struct Overview {
    /// `3 log file(s)`, `pg_stat_statements (since_reset)`.
    pub source: String,
    /// `2026-11-23 22:36:21 → 2026-11-23 22:36:21 UTC`, or `period unknown`.
    pub window: String,
    /// Executions, execution time, distinct queries.
    pub totals: String,
    /// Reads, writes, other, statements per second.
    pub mix: String,
    /// The busiest window and its load class.
    pub peak: Option<String>,
    /// `("databases", "erp 80%, crm 20%")`: the five largest named shares.
    pub shares: Vec<(&'static str, String)>,
    /// Executions not attributed to a query.
    pub unattributed: Option<String>,
    /// Lines, samples and unparsed lines of a log capture.
    pub log: Option<String>,
}

impl Overview {
    pub(crate) fn of(r: &WorkloadReport) -> Overview {
        let w = &r.workload;
        let source = match w.source.kind {
            SourceKind::Log => format!("{} log file(s)", units::count(w.source.files.len())),
            SourceKind::PgStatStatements => format!(
                "pg_stat_statements ({})",
                w.source.basis.as_deref().unwrap_or("since_reset")
            ),
        };
        let window = match (w.source.started_at, w.source.ended_at) {
            (Some(a), Some(b)) => format!(
                "{} → {}",
                a.format("%Y-%m-%d %H:%M:%S"),
                b.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            _ => "period unknown".to_owned(),
        };
        let totals = format!(
            "{} executions, {} of execution time, {} distinct queries",
            units::count(w.totals.calls),
            units::millis(w.totals.total_ms),
            units::count(w.totals.fingerprints)
        );
        let p = &w.profile;
        let m = &p.mix;
        let rate = p.statements_per_second.map_or(String::new(), |r| {
            format!("; {} statements/s", units::number(r))
        });
        let mix = format!(
            "{} reads ({}), {} writes ({}), {} other{rate}",
            units::count(m.read_calls),
            units::millis(m.read_ms),
            units::count(m.write_calls),
            units::millis(m.write_ms),
            units::count(m.other_calls)
        );
        let peak = p.peak.as_ref().map(|peak| {
            let at = peak.start.map_or("whole capture".to_owned(), |s| {
                s.format("%Y-%m-%d %H:%M").to_string()
            });
            format!(
                "{at}: {} executions, {}; load: {} ({})",
                units::count(peak.calls),
                units::millis(peak.total_ms),
                serde_json::to_value(peak.class)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                peak.why
            )
        });
        let mut shares = Vec::new();
        for (label, list) in [
            ("databases", &p.databases),
            ("applications", &p.applications),
        ] {
            let named: Vec<String> = list
                .iter()
                .filter(|s| s.name != "?")
                .take(5)
                .map(|s| format!("{} {}", s.name, units::percent(s.time_pct)))
                .collect();
            if !named.is_empty() {
                shares.push((label, named.join(", ")));
            }
        }
        let unattributed = (w.totals.unattributed_calls > 0).then(|| {
            format!(
                "{} executions, {} (other roles' hidden texts, or entries beyond the collected top)",
                units::count(w.totals.unattributed_calls),
                units::millis(w.totals.unattributed_ms)
            )
        });
        let log = r.log.as_ref().map(|log| {
            let n = |k: &str| log.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
            format!(
                "{} lines, {} samples, {} unparsed lines",
                units::count(n("lines")),
                units::count(n("samples")),
                units::count(n("unparsed_lines"))
            )
        });
        Overview {
            source,
            window,
            totals,
            mix,
            peak,
            shares,
            unattributed,
            log,
        }
    }
}

fn header(r: &WorkloadReport, out: &mut dyn Write, md: bool) -> std::io::Result<()> {
    let o = Overview::of(r);
    let h = if md { "# " } else { "" };
    writeln!(out, "{h}pgsage workload: {}", o.source)?;
    if md {
        writeln!(out)?;
    }
    writeln!(out, "{}; {}", o.totals, o.window)?;
    writeln!(out, "mix: {}", o.mix)?;
    if let Some(peak) = &o.peak {
        writeln!(out, "peak window: {peak}")?;
    }
    for (label, text) in &o.shares {
        writeln!(out, "{label}: {text}")?;
    }
    if let Some(u) = &o.unattributed {
        writeln!(out, "unattributed: {u}")?;
    }
    if let Some(log) = &o.log {
        writeln!(out, "log: {log}")?;
    }
    Ok(())
}

/// How the top queries are ordered, as their heading says it: `total time`, `calls`.
pub(crate) fn order_name(by: SortBy) -> &'static str {
    match by {
        SortBy::Total => "total time",
        SortBy::Mean => "mean time",
        SortBy::Calls => "calls",
        SortBy::Temp => "temp written",
    }
}

/// One query's figures as the top-queries table shows them.
#[derive(Debug, Clone)]
pub(crate) struct QueryFigures {
    pub queryid: String,
    pub calls: String,
    pub total: String,
    pub mean: String,
    pub p95: String,
    pub rows: String,
    pub share: String,
}

impl QueryFigures {
    pub(crate) fn of(q: &QueryStats, w: &Workload) -> QueryFigures {
        QueryFigures {
            queryid: queryid_cell(q),
            calls: units::count(q.calls),
            total: units::millis(q.total_ms),
            mean: units::millis(q.mean_ms),
            p95: q.p95_ms.map_or("-".into(), units::millis),
            rows: q.rows.map_or("-".into(), units::count),
            share: units::percent(q.share_pct(&w.totals)),
        }
    }
}

fn render_text(
    r: &WorkloadReport,
    opts: &RenderOptions,
    md: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    header(r, out, md)?;
    let w = &r.workload;
    let top = top_queries(w, opts.by, opts.top);
    let title = order_name(opts.by);
    writeln!(out)?;
    writeln!(
        out,
        "{}Top {} queries by {title}",
        if md { "## " } else { "== " },
        units::count(top.len())
    )?;
    let cols = [
        "fingerprint",
        "queryid",
        "calls",
        "total",
        "mean",
        "p95",
        "rows",
        "share",
        "query",
    ];
    let row = |q: &QueryStats| -> Vec<String> {
        let f = QueryFigures::of(q, w);
        vec![
            q.fingerprint.to_string(),
            f.queryid,
            f.calls,
            f.total,
            f.mean,
            f.p95,
            f.rows,
            f.share,
            cut(&q.query, if md { 300 } else { 160 }),
        ]
    };
    if md {
        super::tables::markdown_table(out, &cols, top.iter().map(|q| row(q)))?;
    } else {
        let mut t = super::tables::grid(&cols, opts.width);
        for q in &top {
            t.add_row(row(q));
        }
        // Identifiers are copied from the table: never wrapped, the query cell wraps.
        for i in [0, 1] {
            if let Some(c) = t.column_mut(i) {
                c.set_constraint(comfy_table::ColumnConstraint::ContentWidth);
            }
        }
        writeln!(out, "{t}")?;
    }
    super::incidents::render(w, md, opts.width, cut, out)?;
    if let Some(a) = &r.answers {
        writeln!(out)?;
        if md {
            crate::report::render::workload_questions::markdown(a, out)?;
        } else {
            writeln!(out, "== Workload questions")?;
            let width = opts.width.map_or(100, usize::from);
            crate::report::render::workload_questions::text(a, width, out)?;
        }
    }
    writeln!(out)?;
    let s = &r.summary;
    writeln!(
        out,
        "{}Findings: {} critical, {} warning, {} info",
        if md { "## " } else { "== " },
        s.critical,
        s.warning,
        s.info
    )?;
    for f in &r.findings {
        writeln!(out)?;
        let obj = match &f.object.query {
            Some(q) => format!("{} `{}`", f.object.display_name(), cut(q, 120)),
            None => f.object.display_name(),
        };
        writeln!(
            out,
            "{}[{}] {} {}: {obj}",
            if md { "- " } else { "" },
            f.severity,
            f.rule,
            f.title
        )?;
        writeln!(out, "  {}", f.message)?;
        writeln!(
            out,
            "  evidence: {}",
            f.evidence
                .iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().map_or(v.to_string(), str::to_owned)))
                .collect::<Vec<_>>()
                .join(", ")
        )?;
        writeln!(out, "  → {}", f.recommendation)?;
        if let Some(fix) = &f.fix {
            for line in fix.sql.lines() {
                writeln!(out, "    {line}")?;
            }
        }
        if let Some(why) = &f.confidence_reason {
            writeln!(out, "  (low confidence: {why})")?;
        }
    }
    if !r.skipped.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}Skipped rules", if md { "## " } else { "== " })?;
        for s in &r.skipped {
            writeln!(
                out,
                "{}{}: {}",
                if md { "- " } else { "" },
                s.rule,
                s.reason
            )?;
        }
    }
    Ok(())
}
