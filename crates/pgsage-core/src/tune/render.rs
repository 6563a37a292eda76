//! Rendering a [`TuneReport`]: a table, Markdown, JSON, and the `ALTER SYSTEM` script.

use std::io::Write;

use comfy_table::{presets, ContentArrangement, Table};

use super::{Apply, TuneReport};
use crate::sql;

/// Output formats of `pgsage tune`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TuneFormat {
    /// A terminal table, then the script.
    Table,
    /// The report as JSON.
    Json,
    /// Markdown.
    Markdown,
    /// One self-contained HTML page.
    Html,
}

impl std::str::FromStr for TuneFormat {
    type Err = crate::ParseValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "table" => Ok(TuneFormat::Table),
            "json" => Ok(TuneFormat::Json),
            "markdown" | "md" => Ok(TuneFormat::Markdown),
            "html" => Ok(TuneFormat::Html),
            other => Err(crate::ParseValueError::new(
                "format",
                other,
                "table, json, markdown or html",
            )),
        }
    }
}

/// `reload` or `restart`.
pub(crate) fn apply_name(a: Apply) -> &'static str {
    match a {
        Apply::Reload => "reload",
        Apply::Restart => "restart",
    }
}

/// Writes the report in `format`; `width` bounds the table.
pub fn render(
    report: &TuneReport,
    format: TuneFormat,
    width: Option<u16>,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        TuneFormat::Json => {
            let json = serde_json::to_string_pretty(report).map_err(std::io::Error::other)?;
            writeln!(out, "{json}")
        }
        TuneFormat::Markdown => markdown(report, out),
        TuneFormat::Table => table(report, width, out),
        TuneFormat::Html => Err(crate::report::render::html_elsewhere(
            "crate::html::tune_page",
        )),
    }
}

fn header(report: &TuneReport) -> Vec<String> {
    let mut lines = vec![format!(
        "pgsage tune — PostgreSQL {}, profile {}",
        report.server_version, report.profile
    )];
    if report.facts.is_empty() {
        lines.push("Host facts: none known".into());
    } else {
        lines.push("Host facts:".into());
        for f in &report.facts {
            lines.push(format!("- {} {} (from {})", f.name, f.value, f.source));
        }
    }
    lines
}

/// Word-wraps `text` to `width` columns, continuation lines indented by `indent`.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line = indent.to_owned();
        } else if len > 0 && line != indent {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out
}

/// The apply column: `reload`, `restart`, or, on a managed platform that refuses the
/// change, `not allowed`.
pub(crate) fn apply_text(report: &TuneReport, a: &super::Advice) -> String {
    if !a.change {
        return String::new();
    }
    let refused = report
        .platform
        .as_ref()
        .is_some_and(|p| p.not_allowed.iter().any(|n| n.name == a.name));
    if refused {
        "not allowed".to_owned()
    } else {
        apply_name(a.apply).to_owned()
    }
}

/// The recommended value, or `ok (value)` when the current one is already right.
pub(crate) fn status(a: &super::Advice) -> String {
    if a.change {
        a.recommended.clone()
    } else {
        format!("ok ({})", a.recommended)
    }
}

fn why_text(a: &super::Advice) -> String {
    let mut s = a.why.clone();
    for e in &a.evidence {
        s.push_str("\n• ");
        s.push_str(e);
    }
    s
}

fn table(report: &TuneReport, width: Option<u16>, out: &mut dyn Write) -> std::io::Result<()> {
    for line in header(report) {
        writeln!(out, "{line}")?;
    }
    writeln!(out)?;
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(vec!["setting", "current", "recommended", "why", "apply"]);
    if let Some(w) = width {
        t.set_width(w);
    }
    for a in &report.settings {
        t.add_row(vec![
            a.name.clone(),
            a.current.clone().unwrap_or_else(|| "?".into()),
            status(a),
            why_text(a),
            apply_text(report, a),
        ]);
    }
    writeln!(out, "{t}")?;
    let w = width.map_or(100, usize::from);
    if !report.tables.is_empty() {
        writeln!(out, "\nPer-table autovacuum:")?;
        for ta in &report.tables {
            writeln!(
                out,
                "{}",
                wrap(&format!("- {}: {}", ta.table, ta.why), w, "  ")
            )?;
        }
    }
    if !report.notes.is_empty() {
        writeln!(out, "\nNotes:")?;
        for n in &report.notes {
            writeln!(out, "{}", wrap(&format!("- {n}"), w, "  "))?;
        }
    }
    writeln!(out, "\nScript:\n")?;
    out.write_all(script(report).as_bytes())
}

fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', "<br>")
}

fn markdown(report: &TuneReport, out: &mut dyn Write) -> std::io::Result<()> {
    let h = header(report);
    writeln!(out, "# {}\n", h[0])?;
    for line in &h[1..] {
        writeln!(out, "{line}\n")?;
    }
    writeln!(out, "| setting | current | recommended | why | apply |")?;
    writeln!(out, "|---|---|---|---|---|")?;
    for a in &report.settings {
        writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            a.name,
            md_cell(a.current.as_deref().unwrap_or("?")),
            md_cell(&status(a)),
            md_cell(&why_text(a)),
            apply_text(report, a)
        )?;
    }
    if !report.tables.is_empty() {
        writeln!(out, "\n## Per-table autovacuum\n")?;
        for ta in &report.tables {
            writeln!(out, "- `{}`: {}", ta.table, ta.why)?;
        }
    }
    if !report.notes.is_empty() {
        writeln!(out, "\n## Notes\n")?;
        for n in &report.notes {
            writeln!(out, "- {n}")?;
        }
    }
    writeln!(out, "\n## Script\n\n```sql")?;
    out.write_all(script(report).as_bytes())?;
    writeln!(out, "```")
}

/// The script: `ALTER SYSTEM SET` lines for the changes, the per-table `ALTER TABLE`
/// lines, a reload, and which changes need a restart. On a managed service there is no
/// `ALTER SYSTEM`: the changes are the provider's commands, written as comments to run in
/// a shell ([`TuneReport::platform`]), with the changes it refuses; the per-table lines
/// stay SQL.
pub fn script(report: &TuneReport) -> String {
    let mut s = format!(
        "-- pgsage tune: PostgreSQL {}, profile {}\n",
        report.server_version, report.profile
    );
    let changes: Vec<_> = report.changes().collect();
    match &report.platform {
        Some(p) => {
            if !p.commands.is_empty() {
                s.push_str(&format!("-- {}\n", p.heading()));
                for c in &p.commands {
                    s.push_str(&format!("--   {c}\n"));
                }
                for n in &p.notes {
                    s.push_str(&format!("-- {n}\n"));
                }
            }
            if !p.not_allowed.is_empty() {
                s.push_str(&format!(
                    "-- Not allowed on {}:\n",
                    p.platform.service_name()
                ));
                for r in p.refusal_lines() {
                    s.push_str(&format!("--   {r}\n"));
                }
            }
        }
        None => {
            for a in &changes {
                s.push_str(&sql::alter_system(&a.name, &a.recommended));
                s.push('\n');
            }
        }
    }
    for t in &report.tables {
        s.push_str(&t.sql);
        s.push('\n');
    }
    if report.platform.is_none() {
        if changes.iter().any(|a| a.apply == Apply::Reload) {
            s.push_str("SELECT pg_reload_conf();\n");
        }
        let restart: Vec<_> = changes
            .iter()
            .filter(|a| a.apply == Apply::Restart)
            .map(|a| a.name.as_str())
            .collect();
        if !restart.is_empty() {
            s.push_str(&format!(
                "-- restart required for: {}\n",
                restart.join(", ")
            ));
        }
    }
    if changes.is_empty() && report.tables.is_empty() {
        s.push_str("-- nothing to change\n");
    }
    s
}
