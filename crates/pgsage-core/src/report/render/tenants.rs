//! The "Tenants" section of the text and Markdown reports: one row per tenant database,
//! the busiest first, at most [`MAX_ROWS`] (the JSON report holds them all).

use crate::report::tenants::{TenantRow, TenantTable};
use crate::units;

/// Rows shown in text and Markdown.
pub const MAX_ROWS: usize = 20;

/// Column headings, shared by the text, Markdown and HTML tables.
pub(crate) const HEADERS: [&str; 9] = [
    "database",
    "time share",
    "calls",
    "temp",
    "rows read",
    "WAL",
    "connections",
    "size",
    "growth",
];

/// `-` for a figure the snapshot does not have.
fn opt<T>(v: Option<T>, show: impl Fn(T) -> String) -> String {
    v.map_or_else(|| "-".to_owned(), show)
}

/// One row's cells, as every table shows them.
pub(crate) fn cells(r: &TenantRow) -> [String; 9] {
    [
        r.database.clone(),
        opt(r.time_share_pct, units::percent),
        opt(r.calls, units::count),
        units::bytes(r.temp_bytes),
        units::count(r.rows_read),
        opt(r.wal_bytes, units::bytes),
        match r.connection_limit {
            Some(limit) => format!(
                "{} ({} active, limit {limit})",
                r.connections, r.active_sessions
            ),
            None => format!("{} ({} active)", r.connections, r.active_sessions),
        },
        opt(r.size_bytes, units::bytes),
        opt(r.growth_bytes, units::bytes),
    ]
}

/// What the figures cover, for the lines above the table.
pub(crate) fn windows(t: &TenantTable) -> Vec<String> {
    let mut lines = Vec::new();
    match &t.statements_window {
        Some(w) => lines.push(format!("Statement time, calls and WAL {w}.")),
        None => lines.push(
            "Statement time, calls and WAL: not available (pg_stat_statements not readable from the connected database, or a snapshot taken before per-database sums were collected)."
                .to_owned(),
        ),
    }
    if let Some(note) = &t.statements_window_note {
        lines.push(format!("(Lifetime figures: {note}.)"));
    }
    lines.push(format!(
        "Temporary files, rows read and growth {}; connections at collection time.",
        t.database_window
    ));
    lines
}

fn more(t: &TenantTable) -> Option<String> {
    (t.databases.len() > MAX_ROWS).then(|| {
        format!(
            "… and {} (all in the JSON report).",
            units::counted(
                t.databases.len() - MAX_ROWS,
                "more tenant database",
                "more tenant databases"
            )
        )
    })
}

/// Writes the section as aligned plain text.
pub(crate) fn text(
    out: &mut dyn std::io::Write,
    t: &TenantTable,
    width: usize,
) -> std::io::Result<()> {
    writeln!(out)?;
    writeln!(
        out,
        "Tenants ({}):",
        units::counted(t.databases.len(), "database", "databases")
    )?;
    for line in windows(t) {
        for l in super::wrap(&line, width, "  ", "  ") {
            writeln!(out, "{l}")?;
        }
    }
    let rows: Vec<[String; 9]> = t.databases.iter().take(MAX_ROWS).map(cells).collect();
    let mut widths = HEADERS.map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[String]| {
        let mut s = String::from(" ");
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            let pad = w.saturating_sub(c.chars().count());
            // Names left, numbers right.
            if i == 0 {
                s.push_str(&format!(" {c}{}", " ".repeat(pad)));
            } else {
                s.push_str(&format!("  {}{c}", " ".repeat(pad)));
            }
        }
        s.trim_end().to_owned()
    };
    writeln!(out, "{}", line(&HEADERS.map(str::to_owned)))?;
    for r in &rows {
        writeln!(out, "{}", line(r))?;
    }
    if let Some(m) = more(t) {
        writeln!(out, "  {m}")?;
    }
    Ok(())
}

/// Writes the section as a Markdown table.
pub(crate) fn markdown(out: &mut dyn std::io::Write, t: &TenantTable) -> std::io::Result<()> {
    writeln!(out, "\n## Tenants\n")?;
    for line in windows(t) {
        writeln!(out, "{line}  ")?;
    }
    writeln!(out)?;
    writeln!(out, "| {} |", HEADERS.join(" | "))?;
    writeln!(out, "|---|{}", "---:|".repeat(HEADERS.len() - 1))?;
    for r in t.databases.iter().take(MAX_ROWS) {
        let mut c = cells(r);
        c[0] = format!("`{}`", c[0].replace('`', "'"));
        let c: Vec<String> = c
            .iter()
            .map(|x| x.replace('|', "\\|").replace('\n', " "))
            .collect();
        writeln!(out, "| {} |", c.join(" | "))?;
    }
    if let Some(m) = more(t) {
        writeln!(out, "\n{m}")?;
    }
    Ok(())
}
