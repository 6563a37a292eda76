//! The terminal report: the summary and the top actions on the first screen, then each
//! action with its why, its whole fix and its findings, then what could not be judged.
//! Plain text wrapped at the width, never SQL inside a table cell.

use super::{evidence_text, wrap};
use crate::report::{Action, Confidence, Finding, Report, Severity};

/// How to draw the report.
#[derive(Debug, Clone)]
pub struct TableStyle {
    /// Total width in columns; `None` uses 100 (front ends resolve the terminal's width).
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

/// The width used when none is known, and the narrowest one honoured.
pub const DEFAULT_WIDTH: u16 = 100;
const MIN_WIDTH: usize = 40;
/// Actions listed on the first screen.
pub const TOP_ACTIONS: usize = 10;

impl TableStyle {
    /// The width to wrap at.
    pub fn columns(&self) -> usize {
        usize::from(self.width.unwrap_or(DEFAULT_WIDTH)).max(MIN_WIDTH)
    }

    fn severity(&self, s: Severity) -> String {
        let text = format!("{:<8}", s.as_str());
        if !self.color {
            return text;
        }
        let code = match s {
            Severity::Critical => "1;31",
            Severity::Warning => "33",
            Severity::Info => "34",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    fn heading(&self, text: &str) -> String {
        if self.color {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

/// Writes the report: summary, top actions, the actions in detail, then gaps, skipped
/// rules and suppressions.
pub fn render_table(
    report: &Report,
    style: &TableStyle,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let width = style.columns();
    for line in super::summary_lines(report) {
        for l in wrap(&line, width, "", "  ") {
            writeln!(out, "{l}")?;
        }
    }
    if report.actions.is_empty() {
        writeln!(out)?;
        writeln!(
            out,
            "No findings: every rule that ran found the server healthy."
        )?;
    } else {
        writeln!(out)?;
        writeln!(out, "{}", style.heading("What to do first"))?;
        for a in report.actions.iter().take(TOP_ACTIONS) {
            top_action(out, style, a, width)?;
        }
        if report.actions.len() > TOP_ACTIONS {
            writeln!(
                out,
                "  … and {} below.",
                crate::units::counted(
                    report.actions.len() - TOP_ACTIONS,
                    "more action",
                    "more actions"
                )
            )?;
        }
        for a in &report.actions {
            writeln!(out)?;
            action_detail(out, style, report, a, width)?;
        }
    }
    if let Some(t) = &report.tenants {
        super::tenants::text(out, t, width)?;
    }
    if let Some(a) = &report.workload_questions {
        writeln!(out)?;
        writeln!(out, "Workload questions:")?;
        super::workload_questions::text(a, width, out)?;
    }
    tail(out, report, width)
}

fn top_action(
    out: &mut dyn std::io::Write,
    style: &TableStyle,
    a: &Action,
    width: usize,
) -> std::io::Result<()> {
    let number = format!("{:>3}. ", a.rank);
    let indent = " ".repeat(number.len() + 9);
    let lines = wrap(&a.title, width.saturating_sub(number.len() + 9), "", "");
    for (i, line) in lines.iter().enumerate() {
        if i == 0 {
            writeln!(out, "{number}{} {line}", style.severity(a.severity))?;
        } else {
            writeln!(out, "{indent}{line}")?;
        }
    }
    for line in wrap(&a.impact, width, &indent, &indent) {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn action_detail(
    out: &mut dyn std::io::Write,
    style: &TableStyle,
    report: &Report,
    a: &Action,
    width: usize,
) -> std::io::Result<()> {
    writeln!(out, "{}", "─".repeat(width.min(100)))?;
    for line in wrap(&format!("{}. {}", a.rank, a.title), width, "", "   ") {
        writeln!(out, "{}", style.heading(&line))?;
    }
    writeln!(
        out,
        "   {} · {} · {}",
        style.severity(a.severity).trim_end(),
        a.class,
        crate::units::counted(a.findings.len(), "finding", "findings")
    )?;
    for line in wrap(&format!("Why: {}", a.why), width, "   ", "     ") {
        writeln!(out, "{line}")?;
    }
    for line in wrap(&format!("Effect: {}", a.impact), width, "   ", "     ") {
        writeln!(out, "{line}")?;
    }
    if let Some(fix) = &a.fix {
        for line in wrap(
            &format!("Fix ({}):", super::applying(fix)),
            width,
            "   ",
            "     ",
        ) {
            writeln!(out, "{line}")?;
        }
        // SQL whole, one statement per line, never wrapped: it is copied as is.
        for line in fix.sql.lines() {
            writeln!(out, "     {line}")?;
        }
        if let Some(p) = &fix.platform {
            platform(out, p, super::new_platform_notes(report, a), width)?;
        }
    }
    writeln!(out, "   Findings:")?;
    let mut last_recommendation: Option<&str> = None;
    let (shown, rest) = super::shown_findings(report, a);
    for &i in shown {
        let f = &report.findings[i];
        let name = report.target.object_name(&f.object);
        finding(out, style, f, &name, width, &mut last_recommendation)?;
    }
    if let Some(line) = super::more_findings_line(report, rest) {
        for line in wrap(&line, width, "   - ", "     ") {
            writeln!(out, "{line}")?;
        }
    }
    Ok(())
}

/// A fix's provider commands (never wrapped: they are copied as is), their notes and the
/// changes the platform refuses.
fn platform(
    out: &mut dyn std::io::Write,
    p: &crate::knowledge::server_parameters::PlatformFix,
    (notes, earlier): (Vec<&str>, Option<usize>),
    width: usize,
) -> std::io::Result<()> {
    if !p.commands.is_empty() {
        for line in wrap(&p.heading(), width, "   ", "     ") {
            writeln!(out, "{line}")?;
        }
        for c in &p.commands {
            writeln!(out, "     {c}")?;
        }
        for n in notes {
            for line in wrap(&format!("- {n}"), width, "     ", "       ") {
                writeln!(out, "{line}")?;
            }
        }
        if let Some(rank) = earlier {
            writeln!(out, "     - The notes under action {rank} apply.")?;
        }
    }
    if !p.not_allowed.is_empty() {
        for line in wrap(
            &format!("Not allowed on {}:", p.platform.service_name()),
            width,
            "   ",
            "     ",
        ) {
            writeln!(out, "{line}")?;
        }
        for r in p.refusal_lines() {
            for line in wrap(&format!("- {r}"), width, "     ", "       ") {
                writeln!(out, "{line}")?;
            }
        }
    }
    Ok(())
}

fn finding<'a>(
    out: &mut dyn std::io::Write,
    style: &TableStyle,
    f: &'a Finding,
    name: &str,
    width: usize,
    last_recommendation: &mut Option<&'a str>,
) -> std::io::Result<()> {
    let head = format!("{} {} `{}`: {}", f.rule, f.title, name, f.message);
    let lines = wrap(&head, width.saturating_sub(14), "", "");
    for (i, line) in lines.iter().enumerate() {
        if i == 0 {
            writeln!(out, "   - {} {line}", style.severity(f.severity))?;
        } else {
            writeln!(out, "{}{line}", " ".repeat(14))?;
        }
    }
    let pad = " ".repeat(14);
    if !f.evidence.is_empty() {
        for line in wrap(
            &format!("evidence: {}", evidence_text(f)),
            width,
            &pad,
            &pad,
        ) {
            writeln!(out, "{line}")?;
        }
    }
    if f.confidence == Confidence::Low {
        let reason = f.confidence_reason.as_deref().unwrap_or("see evidence");
        for line in wrap(&format!("confidence: low ({reason})"), width, &pad, &pad) {
            writeln!(out, "{line}")?;
        }
    }
    // Findings of one kind share a recommendation: said once.
    if !f.recommendation.is_empty() && *last_recommendation != Some(f.recommendation.as_str()) {
        for line in wrap(
            &format!("recommendation: {}", f.recommendation),
            width,
            &pad,
            &pad,
        ) {
            writeln!(out, "{line}")?;
        }
        *last_recommendation = Some(&f.recommendation);
    }
    Ok(())
}

fn tail(out: &mut dyn std::io::Write, report: &Report, width: usize) -> std::io::Result<()> {
    if !report.gaps.is_empty() {
        writeln!(out)?;
        writeln!(out, "Not collected:")?;
        for g in &report.gaps {
            write_item(out, &format!("{}: {}", g.what, g.why), width)?;
        }
    }
    if !report.skipped.is_empty() {
        writeln!(out)?;
        writeln!(out, "Rules skipped:")?;
        for s in &report.skipped {
            write_item(out, &format!("{}: {}", s.rule, s.reason), width)?;
        }
    }
    if !report.suppressed.is_empty() {
        writeln!(out)?;
        writeln!(out, "Suppressed:")?;
        for s in &report.suppressed {
            write_item(
                out,
                &format!("{} on {}: {}", s.rule, s.object, s.reason),
                width,
            )?;
        }
    }
    Ok(())
}

/// Writes `  - text` wrapped at `width` columns with a hanging indent.
fn write_item(out: &mut dyn std::io::Write, text: &str, width: usize) -> std::io::Result<()> {
    for line in wrap(text, width, "  - ", "    ") {
        writeln!(out, "{line}")?;
    }
    Ok(())
}
