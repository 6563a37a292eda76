//! Rendering plan reports (`pgsage plan`): one section per plan, in the table, Markdown,
//! JSON or HTML formats of `pgsage audit`, with the plan's tree on request.

use std::collections::BTreeMap;
use std::io::Write;

use comfy_table::{presets, Cell, Color, ContentArrangement, Table};

use super::render_tree;
use crate::plan::Plan;
use crate::report::render::{Format, TableStyle};
use crate::report::{Confidence, Finding, Report, Severity};

/// One plan and its report.
#[derive(Debug, Clone, Copy)]
pub struct PlanSection<'a> {
    /// The plan.
    pub plan: &'a Plan,
    /// What [`analyze`](super::analyze) found in it.
    pub report: &'a Report,
}

/// Writes the reports of several plans: JSON is an array of reports (one per plan, the
/// tree left out); table and Markdown have one section per plan, with the plan's tree
/// first when `tree` is set; HTML is one page with a section per plan, its tree always
/// drawn ([`plan_page`](crate::html::plan_page)).
pub fn render_plan_reports(
    sections: &[PlanSection<'_>],
    format: Format,
    style: &TableStyle,
    tree: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => {
            let reports: Vec<&Report> = sections.iter().map(|s| s.report).collect();
            let text = serde_json::to_string_pretty(&reports).unwrap_or_default();
            writeln!(out, "{text}")
        }
        Format::Table => {
            for (i, s) in sections.iter().enumerate() {
                if i > 0 {
                    writeln!(out)?;
                }
                table_section(s, i + 1, sections.len(), style, tree, out)?;
            }
            Ok(())
        }
        Format::Markdown => {
            for (i, s) in sections.iter().enumerate() {
                markdown_section(s, i + 1, sections.len(), tree, out)?;
            }
            Ok(())
        }
        Format::Html => Err(crate::report::render::html_elsewhere(
            "crate::html::plan_page",
        )),
    }
}

/// `Plan 1 of 2 · PostgreSQL 18.1 · execution 14.4 ms, planning 0.15 ms, 12 nodes`.
pub(crate) fn heading(s: &PlanSection<'_>, n: usize, of: usize) -> String {
    let mut parts = vec![format!("Plan {n} of {of}")];
    let t = &s.report.target;
    if !t.server_version.is_empty() {
        parts.push(format!("PostgreSQL {} ({})", t.server_version, t.database));
    }
    let mut figures = Vec::new();
    if let Some(e) = s.plan.execution_time_ms {
        figures.push(format!("execution {}", crate::units::millis(e)));
    }
    if let Some(p) = s.plan.planning_time_ms {
        figures.push(format!("planning {}", crate::units::millis(p)));
    }
    if !s.plan.is_analyzed() {
        figures.push("estimates only (no ANALYZE)".into());
    }
    figures.push(format!(
        "{} nodes",
        crate::units::count(s.plan.nodes().count())
    ));
    parts.push(figures.join(", "));
    parts.join(" · ")
}

/// What to say when there is no finding: healthy, or nothing could be judged.
pub(crate) fn no_findings(report: &Report) -> &'static str {
    if report.skipped.len() >= crate::rules::rules_for(crate::rules::Target::Plan).count() {
        "No findings: no rule could judge this plan (see the rules skipped)."
    } else {
        "No findings: every rule that ran found this plan healthy."
    }
}

fn summary_line(report: &Report) -> String {
    let s = &report.summary;
    format!(
        "{} critical, {} warning, {} info",
        s.critical, s.warning, s.info
    )
}

/// The node a finding is about, for the table's node column.
fn node_column(f: &Finding) -> String {
    f.object.name.clone()
}

fn finding_text(f: &Finding) -> String {
    let mut text = format!("{}\n{}", f.title, f.message);
    if !f.evidence.is_empty() {
        text.push_str(&format!(
            "\nevidence: {}",
            crate::report::render::evidence_text(f)
        ));
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
    text
}

/// Skipped rules grouped by reason: `reason:` then the rules, wrapped to `width`.
fn skipped_lines(report: &Report, width: usize) -> Vec<String> {
    let mut by_reason: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in &report.skipped {
        by_reason.entry(&s.reason).or_default().push(&s.rule);
    }
    let mut lines = Vec::new();
    for (reason, rules) in by_reason {
        lines.push(format!("{reason}:"));
        let mut line = String::from("  ");
        for (i, rule) in rules.iter().enumerate() {
            let item = if i + 1 < rules.len() {
                format!("{rule}, ")
            } else {
                (*rule).to_owned()
            };
            if line.len() + item.len() > width.saturating_sub(2) && !line.trim().is_empty() {
                lines.push(line.trim_end().to_owned());
                line = String::from("  ");
            }
            line.push_str(&item);
        }
        lines.push(line);
    }
    lines
}

fn table_section(
    s: &PlanSection<'_>,
    n: usize,
    of: usize,
    style: &TableStyle,
    tree: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let width = usize::from(style.width.unwrap_or(100));
    writeln!(out, "== {} ==", heading(s, n, of))?;
    writeln!(out, "{}", summary_line(s.report))?;
    if tree {
        writeln!(out)?;
        out.write_all(render_tree(s.plan, s.report, width).as_bytes())?;
    }
    if s.report.findings.is_empty() {
        writeln!(out)?;
        writeln!(out, "{}", no_findings(s.report))?;
    } else {
        let mut table = Table::new();
        table
            .load_preset(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_width(style.width.unwrap_or(100));
        if !style.color {
            table.force_no_tty();
        }
        table.set_header(vec!["sev", "rule", "node", "finding"]);
        for f in &s.report.findings {
            let mut sev = Cell::new(f.severity.as_str());
            if style.color {
                sev = sev.fg(match f.severity {
                    Severity::Critical => Color::Red,
                    Severity::Warning => Color::Yellow,
                    Severity::Info => Color::Blue,
                });
            }
            table.add_row(vec![
                sev,
                Cell::new(&f.rule),
                Cell::new(node_column(f)),
                Cell::new(finding_text(f)),
            ]);
        }
        writeln!(out)?;
        writeln!(out, "{table}")?;
    }
    let skipped = skipped_lines(s.report, width.saturating_sub(2));
    if !skipped.is_empty() {
        writeln!(out)?;
        writeln!(out, "Rules skipped:")?;
        for line in skipped {
            writeln!(out, "  {line}")?;
        }
    }
    if !s.report.suppressed.is_empty() {
        writeln!(out)?;
        writeln!(out, "Suppressed:")?;
        for x in &s.report.suppressed {
            writeln!(out, "  {} on {}: {}", x.rule, x.object, x.reason)?;
        }
    }
    Ok(())
}

fn markdown_section(
    s: &PlanSection<'_>,
    n: usize,
    of: usize,
    tree: bool,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(out, "## {}\n", heading(s, n, of))?;
    writeln!(out, "{}.\n", summary_line(s.report))?;
    if tree {
        writeln!(out, "```text\n{}```\n", render_tree(s.plan, s.report, 100))?;
    }
    if s.report.findings.is_empty() {
        writeln!(
            out,
            "{}
",
            no_findings(s.report)
        )?;
    }
    for f in &s.report.findings {
        writeln!(
            out,
            "### {} {} — `{}` ({})\n",
            f.rule, f.title, f.object.name, f.severity
        )?;
        writeln!(out, "{}\n", f.message)?;
        if !f.evidence.is_empty() {
            writeln!(
                out,
                "- Evidence: {}",
                crate::report::render::evidence_text(f)
            )?;
        }
        if !f.recommendation.is_empty() {
            writeln!(out, "- Recommendation: {}", f.recommendation)?;
        }
        if let Some(fix) = &f.fix {
            writeln!(out, "\n```sql\n{}\n```", fix.sql)?;
        }
        writeln!(out)?;
    }
    let skipped = skipped_lines(s.report, 98);
    if !skipped.is_empty() {
        writeln!(out, "Rules skipped:\n")?;
        for line in skipped {
            writeln!(out, "{line}  ")?;
        }
        writeln!(out)?;
    }
    Ok(())
}
