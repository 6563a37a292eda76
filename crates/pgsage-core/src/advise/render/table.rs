//! The terminal rendering: a header, then one block per recommendation with a table of
//! the statements it helps.

use std::io::Write;

use comfy_table::{presets, ContentArrangement, Table};

use super::format::{cost_text, cut, drop_hint, header_lines, scan_text, summary_line};
use super::RenderOptions;
use crate::advise::model::{IndexAdvice, Recommendation};
use crate::units;

/// Writes the advice as text with tables.
pub(super) fn render_table(
    a: &IndexAdvice,
    opts: &RenderOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    let db = a
        .database
        .as_deref()
        .map_or(String::new(), |d| format!(" for database {d}"));
    writeln!(out, "pgsage indexes{db}")?;
    for (label, text) in header_lines(a) {
        writeln!(out, "  {label}: {text}")?;
    }
    writeln!(out)?;
    if a.recommendations.is_empty() {
        writeln!(
            out,
            "No index to recommend: no candidate passed the gates (see the rejected candidates)."
        )?;
    }
    for (i, r) in a.recommendations.iter().enumerate() {
        recommendation(i + 1, r, opts, out)?;
    }
    rejected(a, opts, out)
}

fn new_table(opts: &RenderOptions) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if let Some(w) = opts.width {
        t.set_width(w);
    }
    t
}

fn recommendation(
    n: usize,
    r: &Recommendation,
    opts: &RenderOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(out, "{n}. {}", r.create_statement)?;
    writeln!(out, "   {}", summary_line(r))?;
    let validated = r.queries.iter().any(|q| q.cost_before.is_some());
    let mut t = new_table(opts);
    let mut head = vec!["fingerprint", "calls", "total"];
    if validated {
        head.push("cost before → after");
    }
    head.push("query");
    t.set_header(head);
    for q in &r.queries {
        let mut row = vec![
            q.fingerprint.to_string(),
            units::count(q.calls),
            units::millis(q.total_ms),
        ];
        if validated {
            row.push(cost_text(q));
        }
        row.push(cut(&q.query, 200));
        t.add_row(row);
    }
    writeln!(out, "{t}")?;
    // Plan lines are long: one line each under the table rather than a narrow column.
    for q in r
        .queries
        .iter()
        .filter(|q| q.scan_before.is_some() || q.scan_after.is_some())
    {
        writeln!(out, "   plan of {}: {}", q.fingerprint, scan_text(q))?;
    }
    for idx in &r.redundant_indexes {
        writeln!(out, "   makes redundant: {}", drop_hint(&r.schema, idx))?;
    }
    if let Some(w) = &r.write_overhead {
        writeln!(out, "   write overhead: {}", w.note)?;
    }
    writeln!(out)
}

fn rejected(a: &IndexAdvice, opts: &RenderOptions, out: &mut dyn Write) -> std::io::Result<()> {
    if a.rejected.is_empty() {
        return Ok(());
    }
    if !opts.verbose {
        return writeln!(
            out,
            "{} candidate{} rejected (the verbose rendering lists them with the reasons).",
            units::count(a.rejected.len()),
            if a.rejected.len() == 1 { "" } else { "s" }
        );
    }
    writeln!(out, "Rejected candidates")?;
    let mut t = new_table(opts);
    t.set_header(vec!["candidate", "why not"]);
    for r in &a.rejected {
        t.add_row(vec![r.create_statement.clone(), r.reason.clone()]);
    }
    writeln!(out, "{t}")
}
