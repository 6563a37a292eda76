//! Rendering advice: a terminal table, Markdown, JSON (the [`IndexAdvice`] with its
//! IDX009 findings), and the findings themselves so that the advice merges with audit
//! reports.

pub(crate) mod findings;
pub(crate) mod format;
mod markdown;
mod table;

use std::io::Write;

pub use findings::findings;
pub(crate) use findings::{draft, UNVALIDATED};

use super::model::IndexAdvice;
use crate::report::render::Format;

/// Rendering options.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// Table width (`None`: the terminal's).
    pub width: Option<u16>,
    /// List the rejected candidates in the table (Markdown and JSON always list them).
    pub verbose: bool,
}

/// The JSON output: the advice's fields plus `findings` (one IDX009 finding per
/// recommendation, the shape of an audit report's findings).
pub fn to_json(advice: &IndexAdvice) -> String {
    let mut value = serde_json::to_value(advice).unwrap_or_default();
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "findings".into(),
            serde_json::to_value(findings(advice)).unwrap_or_default(),
        );
    }
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

/// Writes the advice in `format`.
pub fn render(
    advice: &IndexAdvice,
    format: Format,
    opts: &RenderOptions,
    out: &mut dyn Write,
) -> std::io::Result<()> {
    match format {
        Format::Json => writeln!(out, "{}", to_json(advice)),
        Format::Table => table::render_table(advice, opts, out),
        Format::Markdown => markdown::render_markdown(advice, out),
        Format::Html => Err(crate::report::render::html_elsewhere(
            "crate::html::indexes_page",
        )),
    }
}

#[cfg(test)]
mod tests;
