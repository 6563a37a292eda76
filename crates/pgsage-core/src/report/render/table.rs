//! The terminal table (comfy-table): grouped by pack, worst first.

use comfy_table::{presets, Attribute, Cell, Color, ContentArrangement, Table};

use super::{evidence_text, packs_in_order};
use crate::report::{Confidence, Report, Severity};

/// How to draw the table.
#[derive(Debug, Clone)]
pub struct TableStyle {
    /// Total width in columns; `None` uses the terminal's width (100 when not a terminal).
    pub width: Option<u16>,
    /// Use colours.
    pub color: bool,
}

impl Default for TableStyle {
    fn default() -> Self {
        TableStyle {
            width: Some(100),
            color: false,
        }
    }
}

/// Writes the report as tables, one per pack, plus the header, gaps and skipped rules.
pub fn render_table(
    report: &Report,
    style: &TableStyle,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let t = &report.target;
    writeln!(
        out,
        "pgsage audit of `{}` on PostgreSQL {} ({}, collected {})",
        t.database,
        t.server_version,
        t.source,
        t.collected_at.format("%Y-%m-%d %H:%M:%S UTC")
    )?;
    let s = &report.summary;
    writeln!(
        out,
        "{} critical, {} warning, {} info; counters: {} ({})",
        s.critical,
        s.warning,
        s.info,
        report.counters.basis,
        crate::units::duration(report.counters.window_seconds)
    )?;
    writeln!(
        out,
        "host: {}",
        crate::report::host_facts_line(&report.host)
    )?;
    for pack in packs_in_order(report) {
        writeln!(out)?;
        writeln!(out, "== {pack} ==")?;
        let mut table = Table::new();
        table
            .load_preset(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic);
        match style.width {
            Some(w) => {
                table.set_width(w);
            }
            None if table.width().is_none() => {
                table.set_width(100);
            }
            None => {}
        }
        if !style.color {
            table.force_no_tty();
        }
        table.set_header(vec!["sev", "rule", "object", "finding"]);
        for f in report.findings.iter().filter(|f| f.pack == pack) {
            let mut text = format!("{}\n{}", f.title, f.message);
            if !f.evidence.is_empty() {
                text.push_str(&format!("\nevidence: {}", evidence_text(f)));
            }
            if f.confidence == Confidence::Low {
                text.push_str(&format!(
                    "\nconfidence: low ({})",
                    f.confidence_reason.as_deref().unwrap_or("see evidence")
                ));
            }
            if !f.recommendation.is_empty() {
                text.push_str(&format!("\nrecommendation: {}", f.recommendation));
            }
            if let Some(fix) = &f.fix {
                for line in fix.sql.lines() {
                    text.push_str(&format!("\n  {line}"));
                }
            }
            let mut sev = Cell::new(f.severity.as_str());
            if style.color {
                sev = sev.fg(match f.severity {
                    Severity::Critical => Color::Red,
                    Severity::Warning => Color::Yellow,
                    Severity::Info => Color::Blue,
                });
                if f.severity == Severity::Critical {
                    sev = sev.add_attribute(Attribute::Bold);
                }
            }
            table.add_row(vec![
                sev,
                Cell::new(&f.rule),
                Cell::new(f.object.display_name()),
                Cell::new(text),
            ]);
        }
        writeln!(out, "{table}")?;
    }
    let width = usize::from(style.width.unwrap_or(100));
    if report.findings.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "No findings: every rule that ran found the server healthy."
        )?;
    }
    if !report.gaps.is_empty() {
        writeln!(out)?;
        writeln!(out, "Not collected:")?;
        for g in &report.gaps {
            write_wrapped(out, &format!("{}: {}", g.what, g.why), width)?;
        }
    }
    if !report.skipped.is_empty() {
        writeln!(out)?;
        writeln!(out, "Rules skipped:")?;
        for s in &report.skipped {
            write_wrapped(out, &format!("{}: {}", s.rule, s.reason), width)?;
        }
    }
    if !report.suppressed.is_empty() {
        writeln!(out)?;
        writeln!(out, "Suppressed:")?;
        for s in &report.suppressed {
            write_wrapped(
                out,
                &format!("{} on {}: {}", s.rule, s.object, s.reason),
                width,
            )?;
        }
    }
    Ok(())
}

/// Writes `  - text` wrapped at `width` columns with a hanging indent.
fn write_wrapped(out: &mut dyn std::io::Write, text: &str, width: usize) -> std::io::Result<()> {
    let mut line = String::from("  -");
    for word in text.split_whitespace() {
        if line.chars().count() + 1 + word.chars().count() > width && line.trim() != "-" {
            writeln!(out, "{line}")?;
            line = String::from("   ");
        }
        line.push(' ');
        line.push_str(word);
    }
    writeln!(out, "{line}")
}
