//! `pgsage rules` and `pgsage rule ID`: the rule catalogue, or one rule's documentation
//! and thresholds.

use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;
use pgsage::RuleConfig;

use crate::output;
use crate::shared_args::FormatArg;

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// A rule id: print its documentation and thresholds.
    pub id: Option<String>,
    /// Output format (with ID: table and markdown print the documentation, json the
    /// rule's catalogue entry).
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
}

/// `pgsage rule ID`: the same as `pgsage rules ID`.
#[derive(Debug, Args)]
pub struct RuleArgs {
    /// Rule id, e.g. VAC001.
    pub id: String,
}

pub fn run_one(args: RuleArgs) -> Result<ExitCode> {
    run(RulesArgs {
        id: Some(args.id),
        format: FormatArg::Table,
    })
}

pub fn run(args: RulesArgs) -> Result<ExitCode> {
    let config = RuleConfig::shipped()?;
    let text = match (args.id, args.format) {
        (Some(id), format) => {
            let Some(rule) = pgsage::rules::rule(&id) else {
                bail!("unknown rule `{id}` (see `pgsage rules`)");
            };
            match format {
                FormatArg::Table | FormatArg::Markdown => {
                    pgsage::rules::docs::rule_markdown(rule, &config)
                }
                FormatArg::Html => pgsage::html::text_page(
                    &format!("pgsage rule {id}"),
                    &pgsage::rules::docs::rule_markdown(rule, &config),
                ),
                FormatArg::Json => {
                    let doc = pgsage::rules::docs::rule_doc(rule, &config);
                    format!("{}\n", serde_json::to_string_pretty(&doc)?)
                }
            }
        }
        (None, FormatArg::Table) => list_text(&config),
        (None, FormatArg::Json) => {
            let catalogue = pgsage::rules::docs::catalogue(&config);
            format!("{}\n", serde_json::to_string_pretty(&catalogue)?)
        }
        (None, FormatArg::Markdown) => list_markdown(&config),
        (None, FormatArg::Html) => pgsage::html::text_page("pgsage rules", &list_markdown(&config)),
    };
    output::write(None, |out| out.write_all(text.as_bytes()))?;
    Ok(ExitCode::SUCCESS)
}

/// The catalogue as a Markdown table, one row per rule.
fn list_markdown(config: &RuleConfig) -> String {
    let mut out = String::from(
        "# pgsage rules\n\n| id | name | pack | severity | on by default | title |\n|---|---|---|---|---|---|\n",
    );
    for d in pgsage::rules::docs::catalogue(config) {
        let cells = [
            d.id.as_str(),
            d.name.as_str(),
            d.pack.as_str(),
            d.severity.as_str(),
            if d.enabled { "yes" } else { "no" },
            d.title.as_str(),
        ];
        out.push('|');
        for cell in cells {
            out.push(' ');
            out.push_str(&markdown_cell(cell));
            out.push_str(" |");
        }
        out.push('\n');
    }
    out
}

/// `text` as one Markdown table cell: pipes escaped, line breaks as spaces.
fn markdown_cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\r', '\n'], " ")
}

/// One line per rule: id, pack, name, title, and whether it is off by default.
fn list_text(config: &RuleConfig) -> String {
    let mut out = String::new();
    for r in pgsage::rules::RULES.iter() {
        let m = r.meta();
        let on = if config.is_enabled(m.id) {
            ""
        } else {
            " (off by default)"
        };
        out.push_str(&format!(
            "{}  {:<12} {:<24} {}{on}\n",
            m.id, m.pack, m.name, m.title
        ));
    }
    out
}
