//! Rendering a [`Report`](super::Report) as JSON, a terminal table or Markdown, into any
//! `io::Write` (so tests render into a buffer at a fixed width without colour), and its
//! fixes as a psql script ([`script`]).

mod markdown;
pub mod script;
mod table;

pub use markdown::render_markdown;
pub use script::{render_script, script};
pub use table::{render_table, TableStyle};

use super::{Finding, Report};

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The JSON contract.
    Json,
    /// A terminal table.
    Table,
    /// Markdown, for tickets and wikis.
    Markdown,
}

impl std::str::FromStr for Format {
    type Err = crate::ParseValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "json" => Ok(Format::Json),
            "table" | "text" => Ok(Format::Table),
            "markdown" | "md" => Ok(Format::Markdown),
            other => Err(crate::ParseValueError::new(
                "format",
                other,
                "table, json or markdown",
            )),
        }
    }
}

/// Renders in any format.
pub fn render(
    report: &Report,
    format: Format,
    style: &TableStyle,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => {
            out.write_all(report.to_json().as_bytes())?;
            out.write_all(b"\n")
        }
        Format::Table => render_table(report, style, out),
        Format::Markdown => render_markdown(report, out),
    }
}

/// Evidence as `key=value` pairs, numbers rounded for reading.
pub(crate) fn evidence_text(f: &Finding) -> String {
    f.evidence
        .iter()
        .map(|(k, v)| format!("{k}={}", value_text(v)))
        .collect::<Vec<_>>()
        .join(", ")
}

fn value_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Number(n) => match n.as_f64() {
            Some(x) if n.is_f64() => {
                let rounded = (x * 100.0).round() / 100.0;
                format!("{rounded}")
            }
            _ => n.to_string(),
        },
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Packs in report order: by their worst finding, then by name.
pub(crate) fn packs_in_order(report: &Report) -> Vec<&str> {
    let mut packs: Vec<&str> = Vec::new();
    for f in &report.findings {
        if !packs.contains(&f.pack.as_str()) {
            packs.push(&f.pack);
        }
    }
    packs
}
