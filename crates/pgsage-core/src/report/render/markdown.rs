//! Markdown: a summary table, then one section per finding.

use super::{evidence_text, packs_in_order};
use crate::report::{Confidence, Report};

/// Writes the report as Markdown.
pub fn render_markdown(report: &Report, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let t = &report.target;
    writeln!(
        out,
        "# pgsage audit: `{}` on PostgreSQL {}\n",
        t.database, t.server_version
    )?;
    writeln!(
        out,
        "Collected {} ({}). Counters: {} over {}.\n",
        t.collected_at.format("%Y-%m-%d %H:%M:%S UTC"),
        t.source,
        report.counters.basis,
        crate::units::duration(report.counters.window_seconds)
    )?;
    writeln!(
        out,
        "Host facts: {}.\n",
        crate::report::host_facts_line(&report.host)
    )?;
    let s = &report.summary;
    writeln!(out, "| critical | warning | info |\n|---:|---:|---:|")?;
    writeln!(out, "| {} | {} | {} |", s.critical, s.warning, s.info)?;
    for pack in packs_in_order(report) {
        writeln!(out, "\n## {pack}\n")?;
        for f in report.findings.iter().filter(|f| f.pack == pack) {
            writeln!(
                out,
                "### {} {} — `{}` ({})\n",
                f.rule,
                f.title,
                f.object.display_name(),
                f.severity
            )?;
            writeln!(out, "{}\n", f.message)?;
            if !f.evidence.is_empty() {
                writeln!(out, "- Evidence: {}", evidence_text(f))?;
            }
            if f.confidence == Confidence::Low {
                writeln!(
                    out,
                    "- Confidence: low — {}",
                    f.confidence_reason.as_deref().unwrap_or("")
                )?;
            }
            if !f.recommendation.is_empty() {
                writeln!(out, "- Recommendation: {}", f.recommendation)?;
            }
            if let Some(fix) = &f.fix {
                writeln!(out, "\n```sql\n{}\n```", fix.sql)?;
                writeln!(out, "\nApplying it: {}.", fix.cost_line())?;
                if let Some(w) = &fix.watch {
                    writeln!(out, "Afterwards, watch: {w}.")?;
                }
            }
            writeln!(out)?;
        }
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
    Ok(())
}
