//! Rule documentation generated from the rules themselves and the pack files: what
//! `pgsage rule ID` prints and what `docs/rules/` holds (a test keeps those files current).

use serde::Serialize;

use super::{Rule, RULES};
use crate::config::RuleConfig;
use crate::rules::ParamValue;

/// One rule in the catalogue.
#[derive(Debug, Clone, Serialize)]
pub struct RuleDoc {
    /// Id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Pack.
    pub pack: String,
    /// What it judges: `snapshot`, `workload` or `plan`.
    pub target: super::Target,
    /// Title.
    pub title: String,
    /// Default severity.
    pub severity: String,
    /// On by default.
    pub enabled: bool,
    /// Lowest server version.
    pub min_server_version: Option<i32>,
    /// Parameters with their values and meaning.
    pub params: Vec<ParamDoc>,
    /// Markdown documentation.
    pub doc: String,
}

/// A parameter in the catalogue.
#[derive(Debug, Clone, Serialize)]
pub struct ParamDoc {
    /// Name.
    pub name: String,
    /// Value in the configuration.
    pub value: ParamValue,
    /// Unit: `%`, `ms`, `rows`, ….
    pub unit: String,
    /// Meaning.
    pub doc: String,
}

/// The rule's doc comment as Markdown (the one-space indent of `///` removed).
pub fn doc_markdown(rule: Rule) -> String {
    rule.meta()
        .doc
        .lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every rule with its configured settings.
pub fn catalogue(config: &RuleConfig) -> Vec<RuleDoc> {
    RULES.iter().map(|r| rule_doc(*r, config)).collect()
}

/// One rule with its configured settings.
pub fn rule_doc(rule: Rule, config: &RuleConfig) -> RuleDoc {
    let m = rule.meta();
    let settings = config.rules.get(m.id);
    RuleDoc {
        id: m.id.to_owned(),
        name: m.name.to_owned(),
        pack: m.pack.to_owned(),
        target: rule.target(),
        title: m.title.to_owned(),
        severity: settings.map_or("warning".into(), |s| s.severity.to_string()),
        enabled: config.is_enabled(m.id),
        min_server_version: settings.and_then(|s| s.min_server_version),
        params: m
            .params
            .iter()
            .map(|p| ParamDoc {
                name: p.name.to_owned(),
                value: settings
                    .and_then(|s| s.params.get(p.name).cloned())
                    .unwrap_or(ParamValue::Text(String::new())),
                unit: p.unit.to_owned(),
                doc: p.doc.to_owned(),
            })
            .collect(),
        doc: doc_markdown(rule),
    }
}

fn value_text(v: &ParamValue) -> String {
    match v {
        ParamValue::Bool(b) => b.to_string(),
        ParamValue::Number(n) => format!("{n}"),
        ParamValue::Text(t) => format!("\"{t}\""),
        ParamValue::List(l) => format!("{l:?}"),
    }
}

/// The page for one rule: header, settings table, then its documentation.
pub fn rule_markdown(rule: Rule, config: &RuleConfig) -> String {
    let d = rule_doc(rule, config);
    let mut out = format!("# {} {}: {}\n\n", d.id, d.name, d.title);
    out.push_str(&format!(
        "Pack `{}` · judges a {} · default severity `{}` · {}{}\n\n",
        d.pack,
        d.target.name(),
        d.severity,
        if d.enabled {
            "on by default"
        } else {
            "off by default"
        },
        d.min_server_version
            .map(|v| format!(" · PostgreSQL {v}+"))
            .unwrap_or_default()
    ));
    if !d.params.is_empty() {
        out.push_str("| parameter | default | unit | meaning |\n|---|---|---|---|\n");
        for p in &d.params {
            out.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                p.name,
                value_text(&p.value),
                p.unit,
                p.doc
            ));
        }
        out.push_str(&format!(
            "\nOverride in `pgsage.toml`:\n\n```toml\n[rules.{}.params]\n{} = {}\n```\n\n",
            d.id,
            d.params[0].name,
            value_text(&d.params[0].value)
        ));
    }
    out.push_str(d.doc.trim());
    out.push('\n');
    out
}

/// The index page of `docs/rules/`.
pub fn index_markdown(config: &RuleConfig) -> String {
    let mut out = String::from(
        "# Rules\n\nGenerated from the rules and `rules/*.toml` by `scripts/generate-docs.sh`; do not edit.\n\n| id | name | pack | severity | title |\n|---|---|---|---|---|\n",
    );
    for d in catalogue(config) {
        out.push_str(&format!(
            "| [{}]({}.md) | {} | {} | {} | {} |\n",
            d.id, d.id, d.name, d.pack, d.severity, d.title
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `docs/rules/` must match the rules; `UPDATE_DOCS=1` rewrites it.
    #[test]
    fn generated_rule_docs_are_current() {
        let config = RuleConfig::shipped().expect("valid packs");
        let dir = pgsage_testkit::scenario::repo_root()
            .join("docs")
            .join("rules");
        let mut pages = vec![("README.md".to_owned(), index_markdown(&config))];
        for r in RULES.iter() {
            pages.push((format!("{}.md", r.meta().id), rule_markdown(*r, &config)));
        }
        let update = std::env::var_os("UPDATE_DOCS").is_some();
        let mut stale = Vec::new();
        for (name, text) in pages {
            let path = dir.join(&name);
            if update {
                std::fs::create_dir_all(&dir).expect("create docs/rules");
                std::fs::write(&path, &text).expect("write doc");
            } else if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                stale.push(name);
            }
        }
        assert!(
            stale.is_empty(),
            "docs/rules is stale for {stale:?}: run scripts/generate-docs.sh"
        );
    }
}
