//! Markdown, for tickets and wikis: the summary and the ranked actions first, then one
//! section per action with its fix and findings, then what could not be judged.

use super::evidence_text;
use crate::report::{Confidence, Report};

/// Writes the report as Markdown.
pub fn render_markdown(report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let t = &report.target;
    writeln!(
        out,
        "# pgsage audit: `{}` on PostgreSQL {}\n",
        t.database, t.server_version
    )?;
    for line in super::summary_lines(report).iter().skip(1) {
        let stop = if line.ends_with('.') { "" } else { "." };
        writeln!(out, "{line}{stop}  ")?;
    }
    writeln!(out)?;
    if report.actions.is_empty() {
        writeln!(
            out,
            "No findings: every rule that ran found the server healthy.\n"
        )?;
    } else {
        writeln!(out, "## What to do first\n")?;
        writeln!(out, "| # | Severity | Action | Effect | Findings |")?;
        writeln!(out, "|---:|---|---|---|---:|")?;
        for a in &report.actions {
            writeln!(
                out,
                "| {} | {} | [{}](#action-{}) | {} | {} |",
                a.rank,
                a.severity,
                cell(&a.title),
                a.rank,
                cell(&a.impact),
                a.findings.len()
            )?;
        }
        for a in &report.actions {
            writeln!(out, "\n<a id=\"action-{}\"></a>", a.rank)?;
            writeln!(out, "## {}. {}\n", a.rank, a.title)?;
            writeln!(
                out,
                "**{}** · {} · {}\n",
                a.severity,
                a.class,
                crate::units::counted(a.findings.len(), "finding", "findings")
            )?;
            writeln!(out, "{}\n", a.why)?;
            writeln!(out, "Effect: {}\n", a.impact)?;
            if let Some(fix) = &a.fix {
                writeln!(out, "Fix ({}):\n", super::applying(fix))?;
                writeln!(out, "```sql\n{}\n```\n", fix.sql)?;
                if let Some(p) = &fix.platform {
                    platform(out, p, super::new_platform_notes(report, a))?;
                }
            }
            let mut last_recommendation: Option<&str> = None;
            let (shown, rest) = super::shown_findings(report, a);
            for &i in shown {
                let f = &report.findings[i];
                writeln!(
                    out,
                    "- **{}** {} {} — `{}`: {}",
                    f.severity,
                    f.rule,
                    f.title,
                    report.target.object_name(&f.object),
                    f.message
                )?;
                if !f.evidence.is_empty() {
                    writeln!(out, "  - Evidence: {}", evidence_text(f))?;
                }
                if f.confidence == Confidence::Low {
                    writeln!(
                        out,
                        "  - Confidence: low — {}",
                        f.confidence_reason.as_deref().unwrap_or("")
                    )?;
                }
                if !f.recommendation.is_empty()
                    && last_recommendation != Some(f.recommendation.as_str())
                {
                    writeln!(out, "  - Recommendation: {}", f.recommendation)?;
                    last_recommendation = Some(&f.recommendation);
                }
                if let Some(w) = f.fix.as_ref().and_then(|x| x.watch.as_deref()) {
                    writeln!(out, "  - Afterwards, watch: {w}")?;
                }
            }
            if let Some(line) = super::more_findings_line(report, rest) {
                writeln!(out, "- {line}")?;
            }
        }
    }
    if let Some(t) = &report.tenants {
        super::tenants::markdown(out, t)?;
    }
    if let Some(a) = &report.workload_questions {
        writeln!(out)?;
        super::workload_questions::markdown(a, out)?;
    }
    if !report.gaps.is_empty() {
        writeln!(out, "\n## Not collected\n")?;
        for g in &report.gaps {
            writeln!(out, "- `{}`: {}", g.what, g.why)?;
        }
    }
    if !report.skipped.is_empty() {
        writeln!(out, "\n## Rules skipped\n")?;
        for r in &report.skipped {
            writeln!(out, "- {}: {}", r.rule, r.reason)?;
        }
    }
    if !report.suppressed.is_empty() {
        writeln!(out, "\n## Suppressed\n")?;
        for s in &report.suppressed {
            writeln!(out, "- {} on `{}`: {}", s.rule, s.object, s.reason)?;
        }
    }
    Ok(())
}

/// Text for a table cell: pipes escaped, on one line.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// A fix's provider commands in a shell block, their notes, and what the platform refuses.
fn platform(
    out: &mut dyn std::io::Write,
    p: &crate::knowledge::server_parameters::PlatformFix,
    (notes, earlier): (Vec<&str>, Option<usize>),
) -> std::io::Result<()> {
    if !p.commands.is_empty() {
        writeln!(out, "{}\n", p.heading())?;
        writeln!(out, "```sh\n{}\n```\n", p.commands.join("\n"))?;
        for n in notes {
            writeln!(out, "- {n}")?;
        }
        if let Some(rank) = earlier {
            writeln!(out, "- The notes under action {rank} apply.")?;
        }
        writeln!(out)?;
    }
    if !p.not_allowed.is_empty() {
        writeln!(out, "Not allowed on {}:\n", p.platform.service_name())?;
        for r in p.refusal_lines() {
            writeln!(out, "- {r}")?;
        }
        writeln!(out)?;
    }
    Ok(())
}
