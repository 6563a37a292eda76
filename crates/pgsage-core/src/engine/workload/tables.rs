//! The workload report's tables, in Markdown or as text, shared by its sections (top
//! statements, lock incidents).

use std::io::Write;

use comfy_table::{presets, ContentArrangement, Table};

/// A Markdown table of `rows` under `cols` (a blank line first; `|` in cells escaped): the
/// workload report's tables in `--format markdown`.
pub(crate) fn markdown_table(
    out: &mut dyn Write,
    cols: &[&str],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> std::io::Result<()> {
    writeln!(out)?;
    writeln!(out, "| {} |", cols.join(" | "))?;
    writeln!(out, "|{}", "---|".repeat(cols.len()))?;
    for r in rows {
        let cells: Vec<String> = r.into_iter().map(|c| c.replace('|', "\\|")).collect();
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    Ok(())
}

/// The workload report's text table: condensed borders, columns sized to fit `width`.
pub(crate) fn grid(cols: &[&str], width: Option<u16>) -> Table {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(cols.to_vec());
    if let Some(width) = width {
        t.set_width(width);
    }
    t
}
