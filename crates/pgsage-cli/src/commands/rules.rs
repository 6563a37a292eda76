//! `pgsage rules` and `pgsage rule ID`: the rule catalogue, or one rule's documentation
//! and thresholds.

use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;
use pgsage::RuleConfig;

use crate::output;

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// A rule id: print its documentation and thresholds.
    pub id: Option<String>,
    /// Output format for the list: table or json.
    #[arg(long, default_value = "table")]
    pub format: String,
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
        format: "table".into(),
    })
}

pub fn run(args: RulesArgs) -> Result<ExitCode> {
    let config = RuleConfig::shipped()?;
    let text = match args.id {
        Some(id) => {
            let Some(rule) = pgsage::rules::rule(&id) else {
                bail!("unknown rule `{id}` (see `pgsage rules`)");
            };
            pgsage::rules::docs::rule_markdown(rule, &config)
        }
        None if args.format == "json" => {
            let catalogue = pgsage::rules::docs::catalogue(&config);
            format!("{}\n", serde_json::to_string_pretty(&catalogue)?)
        }
        None => list_text(&config),
    };
    output::write(None, |out| out.write_all(text.as_bytes()))?;
    Ok(ExitCode::SUCCESS)
}

/// One line per rule: id, pack, name, title, and whether it is off by default.
fn list_text(config: &RuleConfig) -> String {
    let mut out = String::new();
    for r in pgsage::rules::ALL_RULES.iter() {
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
