//! Rendering a [`Report`](super::Report) as JSON, a terminal table or Markdown, into any
//! `io::Write` (so tests render into a buffer at a fixed width without colour).

mod markdown;
mod table;

pub use markdown::render_markdown;
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
        .map(|(k, v)| format!("{k}={}", value_text(k, v)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An evidence value as a user reads it: numbers rounded to two decimals with thousands
/// separators ([`crate::units::decimal`]), except identifiers (`pid`, `*_pid`, `oid`,
/// `queryid`, `gid`), which are copied as they are.
fn value_text(key: &str, v: &serde_json::Value) -> String {
    let identifier = key == "pid"
        || key.ends_with("_pid")
        || key.ends_with("oid")
        || key.ends_with("queryid")
        || key == "gid"
        || key.ends_with("port");
    match v {
        serde_json::Value::Number(n) if identifier => n.to_string(),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => crate::units::count(i),
            (None, Some(x)) => crate::units::decimal(x),
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

#[cfg(test)]
mod tests {
    use super::value_text;
    use serde_json::json;

    /// Numbers a user reads get thousands separators ("2,100,000,000", not 2100000000);
    /// identifiers (process ids, oids, query ids) are copied as they are.
    #[test]
    fn evidence_numbers_are_grouped_identifiers_are_not() {
        assert_eq!(
            value_text("last_value", &json!(2_100_000_000_i64)),
            "2,100,000,000"
        );
        assert_eq!(value_text("n_dead_tup", &json!(12000)), "12,000");
        assert_eq!(value_text("dead_pct", &json!(30.0)), "30");
        assert_eq!(value_text("rows_per_scan", &json!(19672.456)), "19,672.46");
        assert_eq!(value_text("scale", &json!(0.25)), "0.25");
        assert_eq!(value_text("delta", &json!(-1500)), "-1,500");
        assert_eq!(value_text("pid", &json!(123456)), "123456");
        assert_eq!(value_text("oldest_pid", &json!(123456)), "123456");
        assert_eq!(
            value_text("queryid", &json!(-7220817516440266929_i64)),
            "-7220817516440266929"
        );
        assert_eq!(value_text("state", &json!("active")), "active");
    }
}
