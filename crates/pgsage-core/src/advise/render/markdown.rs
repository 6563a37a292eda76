//! The Markdown rendering, for tickets and wikis: every recommendation and every rejected
//! candidate.

use std::io::Write;

use super::format::{cost_text, cut, drop_hint, header_lines, scan_text, summary_line};
use crate::advise::model::{IndexAdvice, Recommendation};
use crate::units;

/// A table cell: pipes escaped, on one line.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Writes the advice as Markdown.
pub(super) fn render_markdown(a: &IndexAdvice, out: &mut dyn Write) -> std::io::Result<()> {
    let db = a
        .database
        .as_deref()
        .map_or(String::new(), |d| format!(" for database `{d}`"));
    writeln!(out, "# Index advice{db}")?;
    writeln!(out)?;
    for (label, text) in header_lines(a) {
        writeln!(out, "- **{label}**: {}", cell(&text))?;
    }
    writeln!(out)?;
    writeln!(out, "## Recommendations ({})", a.recommendations.len())?;
    writeln!(out)?;
    if a.recommendations.is_empty() {
        writeln!(out, "No index to recommend: no candidate passed the gates.")?;
        writeln!(out)?;
    }
    for (i, r) in a.recommendations.iter().enumerate() {
        recommendation(i + 1, r, out)?;
    }
    writeln!(out, "## Rejected candidates ({})", a.rejected.len())?;
    writeln!(out)?;
    if !a.rejected.is_empty() {
        writeln!(out, "| candidate | why not |")?;
        writeln!(out, "|---|---|")?;
        for r in &a.rejected {
            writeln!(
                out,
                "| `{}` | {} |",
                cell(&r.create_statement),
                cell(&r.reason)
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn recommendation(n: usize, r: &Recommendation, out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(
        out,
        "### {n}. `{}.{}` ({})",
        r.schema,
        r.table,
        r.columns.join(", ")
    )?;
    writeln!(out)?;
    writeln!(out, "```sql\n{}\n```", r.create_statement)?;
    writeln!(out)?;
    writeln!(out, "{}", summary_line(r))?;
    writeln!(out)?;
    let validated = r.queries.iter().any(|q| q.cost_before.is_some());
    if validated {
        writeln!(
            out,
            "| fingerprint | calls | total | cost before → after | scan before → after | query |"
        )?;
        writeln!(out, "|---|---|---|---|---|---|")?;
    } else {
        writeln!(out, "| fingerprint | calls | total | query |")?;
        writeln!(out, "|---|---|---|---|")?;
    }
    for q in &r.queries {
        let mut cells = vec![
            format!("`{}`", q.fingerprint),
            units::count(q.calls),
            units::millis(q.total_ms),
        ];
        if validated {
            cells.push(cost_text(q));
            cells.push(scan_text(q));
        }
        cells.push(format!("`{}`", cut(&q.query, 300).replace('`', "'")));
        let cells: Vec<String> = cells.iter().map(|c| cell(c)).collect();
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    writeln!(out)?;
    for idx in &r.redundant_indexes {
        writeln!(out, "- makes redundant: {}", drop_hint(&r.schema, idx))?;
    }
    if let Some(w) = &r.write_overhead {
        writeln!(out, "- write overhead: {}", w.note)?;
    }
    if !r.redundant_indexes.is_empty() || r.write_overhead.is_some() {
        writeln!(out)?;
    }
    Ok(())
}
