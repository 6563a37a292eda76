//! Rendering a [`FleetSummary`]: a terminal table, Markdown or JSON, into any
//! `io::Write`.

use std::io::Write;

use comfy_table::{presets, ContentArrangement, Table};

use super::run::ServerStatus;
use super::summary::{FleetSummary, ServerSummary, Totals};
use crate::units;

/// Output formats of the fleet summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FleetFormat {
    /// A terminal table.
    Table,
    /// Markdown, for tickets and wikis.
    Markdown,
    /// The summary's JSON (as `summary.json`).
    Json,
}

impl std::str::FromStr for FleetFormat {
    type Err = crate::ParseValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "table" | "text" => Ok(FleetFormat::Table),
            "markdown" | "md" => Ok(FleetFormat::Markdown),
            "json" => Ok(FleetFormat::Json),
            other => Err(crate::ParseValueError::new(
                "format",
                other,
                "table, markdown or json",
            )),
        }
    }
}

/// How many fleet-wide actions the text forms list.
const TOP_FLEET_ACTIONS: usize = 15;

/// Writes the summary; `width` bounds the table (None: 100 columns).
pub fn render_summary(
    summary: &FleetSummary,
    format: FleetFormat,
    width: Option<u16>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        FleetFormat::Json => writeln!(out, "{}", summary.to_json()),
        FleetFormat::Table => table(summary, width.unwrap_or(100), out),
        FleetFormat::Markdown => markdown(summary, out),
    }
}

/// `4 servers: 2 audited, 1 error, 1 timeout; 3 critical, 12 warnings, 20 info findings`.
pub fn totals_line(t: &Totals) -> String {
    let mut status = vec![format!("{} audited", units::count(t.ok))];
    if t.error > 0 {
        status.push(units::counted(t.error, "error", "errors"));
    }
    if t.timeout > 0 {
        status.push(units::counted(t.timeout, "timeout", "timeouts"));
    }
    if t.ok == 0 {
        // Zero findings would read as healthy.
        return format!(
            "{}: {}; nothing audited",
            units::counted(t.servers, "server", "servers"),
            status.join(", ")
        );
    }
    format!(
        "{}: {}; {} critical, {}, {} info findings",
        units::counted(t.servers, "server", "servers"),
        status.join(", "),
        units::count(t.critical),
        units::counted(t.warning, "warning", "warnings"),
        units::count(t.info),
    )
}

fn heading_line(summary: &FleetSummary) -> String {
    format!(
        "pgsage fleet run of {}: {}",
        summary.run_at.format("%Y-%m-%d %H:%M UTC"),
        totals_line(&summary.totals)
    )
}

fn tags_text(s: &ServerSummary) -> String {
    s.tags
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a reader of the row needs next: the error, or the first action.
fn next_step(s: &ServerSummary) -> String {
    match (&s.error, s.actions.first()) {
        (Some(e), _) => e.clone(),
        (None, Some(a)) => format!("{}: {}", a.severity, a.title),
        (None, None) if s.status == ServerStatus::Ok => "no findings".to_owned(),
        (None, None) => String::new(),
    }
}

fn counts(s: &ServerSummary) -> [String; 3] {
    if s.status == ServerStatus::Ok {
        [
            units::count(s.counts.critical),
            units::count(s.counts.warning),
            units::count(s.counts.info),
        ]
    } else {
        // Not audited: a zero would read as "healthy".
        ["–".to_owned(), "–".to_owned(), "–".to_owned()]
    }
}

fn table(summary: &FleetSummary, width: u16, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{}", heading_line(summary))?;
    writeln!(out)?;
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(width)
        .set_header(vec![
            "server",
            "tags",
            "status",
            "critical",
            "warning",
            "info",
            "took",
            "first action",
        ]);
    for s in &summary.servers {
        let [c, w, i] = counts(s);
        t.add_row(vec![
            s.name.clone(),
            tags_text(s),
            s.status.to_string(),
            c,
            w,
            i,
            units::duration(s.elapsed_seconds),
            next_step(s),
        ]);
    }
    writeln!(out, "{t}")?;
    if !summary.actions.is_empty() {
        writeln!(out)?;
        writeln!(out, "Actions across the fleet")?;
        let mut t = Table::new();
        t.load_preset(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(width)
            .set_header(vec!["severity", "action", "servers"]);
        for a in summary.actions.iter().take(TOP_FLEET_ACTIONS) {
            t.add_row(vec![
                a.severity.to_string(),
                format!("{} ({})", a.title, a.id),
                format!(
                    "{}: {}",
                    units::count(a.servers.len()),
                    a.servers.join(", ")
                ),
            ]);
        }
        writeln!(out, "{t}")?;
        more(summary, out)?;
    }
    if !summary.by_tag.is_empty() {
        writeln!(out)?;
        writeln!(out, "By tag")?;
        for tag in &summary.by_tag {
            writeln!(
                out,
                "  {}={}: {}",
                tag.tag,
                tag.value,
                totals_line(&tag.totals)
            )?;
        }
    }
    Ok(())
}

fn more(summary: &FleetSummary, out: &mut dyn Write) -> std::io::Result<()> {
    if summary.actions.len() > TOP_FLEET_ACTIONS {
        writeln!(
            out,
            "… and {} in summary.json.",
            units::counted(
                summary.actions.len() - TOP_FLEET_ACTIONS,
                "more kind of action",
                "more kinds of action"
            )
        )?;
    }
    Ok(())
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

fn markdown(summary: &FleetSummary, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "# {}", cell(&heading_line(summary)))?;
    writeln!(out)?;
    writeln!(
        out,
        "| server | tags | status | critical | warning | info | took | first action |"
    )?;
    writeln!(out, "|---|---|---|--:|--:|--:|--:|---|")?;
    for s in &summary.servers {
        let [c, w, i] = counts(s);
        writeln!(
            out,
            "| `{}` | {} | {} | {c} | {w} | {i} | {} | {} |",
            cell(&s.name),
            cell(&tags_text(s)),
            s.status,
            units::duration(s.elapsed_seconds),
            cell(&next_step(s))
        )?;
    }
    if !summary.actions.is_empty() {
        writeln!(out)?;
        writeln!(out, "## Actions across the fleet")?;
        writeln!(out)?;
        writeln!(out, "| severity | action | servers |")?;
        writeln!(out, "|---|---|---|")?;
        for a in summary.actions.iter().take(TOP_FLEET_ACTIONS) {
            writeln!(
                out,
                "| {} | {} (`{}`) | {}: {} |",
                a.severity,
                cell(&a.title),
                a.id,
                units::count(a.servers.len()),
                cell(&a.servers.join(", "))
            )?;
        }
        more(summary, out)?;
    }
    if !summary.by_tag.is_empty() {
        writeln!(out)?;
        writeln!(out, "## By tag")?;
        writeln!(out)?;
        for tag in &summary.by_tag {
            writeln!(
                out,
                "- `{}={}`: {}",
                cell(&tag.tag),
                cell(&tag.value),
                totals_line(&tag.totals)
            )?;
        }
    }
    Ok(())
}
