//! [`Action`]s: the report's findings grouped by root cause and ranked, so a reader
//! starts with what matters most and sees one cause once.
//!
//! Every finding belongs to exactly one action. Findings of the same kind become one
//! action naming every object ("Add a primary key to 9 tables"); a finding another one
//! explains joins the explaining finding's action (autovacuum off server-wide explains
//! the dead rows, stale statistics and lost HOT updates of every table). The themes and
//! causes are data ([`themes`]); the ranking is in [`rank`]; the merged fix in [`fix`].
//!
//! Actions are a pure function of the findings, so a filtered report rebuilds them.

mod fix;
mod rank;
mod text;
mod themes;

pub use themes::ImpactClass;

use serde::{Deserialize, Serialize};

use crate::report::{Confidence, Estimate, Finding, FixLock, ObjectRef, Phase, Severity};
use themes::{is_server_wide, theme_of, Theme, CAUSES};

/// One thing to do: a root cause, every object it affects, and the fix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    /// 1 for the first thing to do.
    pub rank: usize,
    /// Stable id of the kind of action (`durability-off`, `unneeded-indexes`).
    pub id: String,
    /// What to do, imperative.
    pub title: String,
    /// The action's severity: its worst finding's, scaled to the size of what it
    /// affects (dead rows in a small table are not critical).
    pub severity: Severity,
    /// `outage`, `performance` or `hygiene`: what it protects against.
    pub class: String,
    /// What doing it gives.
    pub impact: String,
    /// Why it matters.
    pub why: String,
    /// Every object the action's findings name.
    pub objects: Vec<ObjectRef>,
    /// Indices into the report's `findings`.
    pub findings: Vec<usize>,
    /// The findings' fixes merged: each statement once, a setting once, one reload or
    /// restart at the end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<ActionFix>,
    /// `high` when any of its findings is sure; `low` when all rest on weak evidence.
    pub confidence: Confidence,
}

/// The merged fix of an action, with what applying it costs (from its findings' fixes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionFix {
    /// The statements to run, in order.
    pub sql: String,
    /// `none`, `reload` or `restart`: the most any statement needs.
    pub requires: String,
    /// The latest phase any of its statements needs: `online`, `reload`, `restart` or
    /// `maintenance`.
    pub phase: Phase,
    /// The strongest table lock a statement takes, when one does.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lock: Option<FixLock>,
    /// Whether a statement rewrites a table.
    pub rewrites_table: bool,
    /// Why some statement is destructive (left commented out by `--script`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destructive: Option<String>,
    /// How long applying it all may take, when it can be estimated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<Estimate>,
    /// On a managed platform: the findings' setting changes as the provider's commands
    /// (each parameter once, one command where the provider needs one), and what the
    /// platform refuses ([`crate::report::Fix::platform`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<crate::knowledge::server_parameters::PlatformFix>,
}

impl ActionFix {
    /// One line on what applying it costs, as [`crate::report::Fix::cost_line`].
    pub fn cost_line(&self) -> String {
        crate::report::Fix {
            sql: self.sql.clone(),
            requires: Some(self.requires.clone()),
            phase: self.phase,
            lock: self.lock.clone(),
            rewrites_table: self.rewrites_table,
            destructive: self.destructive.clone(),
            duration: self.duration.clone(),
            ..Default::default()
        }
        .cost_line()
    }
}

/// Groups `findings` into ranked actions. Every finding is in exactly one action.
pub fn build(findings: &[Finding]) -> Vec<Action> {
    // A report over several databases (`--all-databases`) says where an action's objects
    // are, even when they are all in one of them.
    let several = {
        let mut dbs: Vec<&str> = findings
            .iter()
            .filter_map(|f| f.object.database.as_deref())
            .collect();
        dbs.sort_unstable();
        dbs.dedup();
        dbs.len() > 1
    };
    let homes: Vec<String> = (0..findings.len()).map(|i| home(findings, i)).collect();
    let mut keys: Vec<&str> = Vec::new();
    for key in &homes {
        if !keys.contains(&key.as_str()) {
            keys.push(key);
        }
    }
    let mut actions: Vec<(Option<&Theme>, Action)> = keys
        .iter()
        .map(|key| {
            let members: Vec<usize> = (0..findings.len()).filter(|&i| homes[i] == *key).collect();
            let theme = themes::THEMES.iter().find(|t| t.id == *key);
            (theme, action(key, theme, findings, &members, several))
        })
        .collect();
    rank::sort(&mut actions, findings);
    actions
        .into_iter()
        .enumerate()
        .map(|(i, (_, mut a))| {
            a.rank = i + 1;
            a
        })
        .collect()
}

/// The key of the action finding `i` belongs to: the action of the finding that explains
/// it, else its theme's, else its rule's own.
fn home(findings: &[Finding], i: usize) -> String {
    let f = &findings[i];
    // Server-wide causes first: they explain the per-table ones too.
    for server_wide in [true, false] {
        for cause in CAUSES.iter().filter(|c| c.server_wide == server_wide) {
            if !cause.explains.contains(&f.rule.as_str()) {
                continue;
            }
            let explained_by = findings.iter().enumerate().find(|&(j, c)| {
                j != i
                    && c.rule == cause.rule
                    && is_server_wide(c) == cause.server_wide
                    && (cause.server_wide || same_object(c, f))
            });
            if let Some((_, c)) = explained_by {
                return own_key(c);
            }
        }
    }
    own_key(f)
}

fn own_key(f: &Finding) -> String {
    theme_of(f).map_or_else(|| f.rule.to_ascii_lowercase(), |t| t.id.to_owned())
}

fn same_object(a: &Finding, b: &Finding) -> bool {
    a.object.kind == b.object.kind
        && a.object.database == b.object.database
        && a.object.schema == b.object.schema
        && a.object.name == b.object.name
}

fn action(
    key: &str,
    theme: Option<&Theme>,
    findings: &[Finding],
    members: &[usize],
    several: bool,
) -> Action {
    let all: Vec<&Finding> = members.iter().map(|&i| &findings[i]).collect();
    // The findings of the theme's own rules name the action's objects in its title; the
    // ones it explains only add to the object list.
    let primary: Vec<&Finding> = match theme {
        Some(t) => {
            let own: Vec<&Finding> = all
                .iter()
                .copied()
                .filter(|f| theme_of(f).is_some_and(|ft| ft.id == t.id))
                .collect();
            if own.is_empty() {
                all.clone()
            } else {
                own
            }
        }
        None => all.clone(),
    };
    // An action is named after what it changes: when some of its findings have a fix,
    // the ones without (unsure verdicts, kept indexes) are listed, not named.
    let primary: Vec<&Finding> = if primary.iter().any(|f| f.fix.is_some()) {
        primary.into_iter().filter(|f| f.fix.is_some()).collect()
    } else {
        primary
    };
    let mut objects: Vec<ObjectRef> = Vec::new();
    for f in primary.iter().chain(all.iter()) {
        if !objects.contains(&f.object) {
            objects.push(f.object.clone());
        }
    }
    let class = theme.map_or_else(|| fallback_class(&all), |t| t.class);
    let (title, why, impact) = match theme {
        Some(t) => (
            text::fill(t.title, &primary, &all, several),
            t.why.to_owned(),
            text::fill(t.effect, &primary, &all, several),
        ),
        None => {
            let first = primary[0];
            (
                text::fill(
                    &format!("{}: {{objects}}", first.title),
                    &primary,
                    &all,
                    several,
                ),
                first.message.clone(),
                first.recommendation.clone(),
            )
        }
    };
    let ordered: Vec<&Finding> = primary
        .iter()
        .chain(all.iter().filter(|f| !primary.contains(f)))
        .copied()
        .collect();
    Action {
        rank: 0,
        id: key.to_owned(),
        title,
        severity: rank::severity(class, &all),
        class: class.as_str().to_owned(),
        impact,
        why,
        objects,
        findings: members.to_vec(),
        fix: fix::merge(&ordered),
        confidence: if all.iter().any(|f| f.confidence == Confidence::High) {
            Confidence::High
        } else {
            Confidence::Low
        },
    }
}

/// A rule without a theme (a user's, or a plan rule): a critical finding is treated as
/// an outage, the rest as performance.
fn fallback_class(findings: &[&Finding]) -> ImpactClass {
    if findings.iter().any(|f| f.severity == Severity::Critical) {
        ImpactClass::Outage
    } else {
        ImpactClass::Performance
    }
}

/// `docs/actions.md`: every kind of action, its class, the rules it groups and the
/// causes that pull other findings in, generated from the themes (a test keeps the file
/// current; `scripts/generate-docs.sh` rewrites it).
pub fn catalogue_markdown() -> String {
    let mut out = String::from(
        "# Actions\n\nGenerated from `crates/pgsage-core/src/report/actions/themes.rs` by \
         `scripts/generate-docs.sh`; do not edit.\n\n\
         An audit groups its findings into actions, one per root cause, and ranks them: \
         `outage` before `performance` before `hygiene`, then by severity, then sure before \
         unsure, then in the order of this page within a class, then by the size of the \
         objects. Every finding is in exactly one action. A hygiene action is at most a \
         warning; a performance action is critical only when a critical finding is \
         server-wide or about an object of 1 GiB or more.\n\n\
         | id | class | rules | title | why |\n|---|---|---|---|---|\n",
    );
    for t in themes::THEMES {
        let rules = match t.id {
            "autovacuum-off" => "VAC002 (server-wide)".to_owned(),
            "autovacuum-off-tables" => "VAC002 (per table)".to_owned(),
            "application-superuser" => "CON009 (when the tenant is a superuser)".to_owned(),
            _ => t.rules.join(", "),
        };
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            t.id,
            t.class.as_str(),
            rules,
            readable_template(t.title).replace('|', "\\|"),
            t.why.replace('|', "\\|")
        ));
    }
    out.push_str(
        "\n## Causes\n\nA finding explained by another joins the explaining finding's action:\n\n\
         | cause | scope | explains |\n|---|---|---|\n",
    );
    for c in CAUSES {
        out.push_str(&format!(
            "| {} | {} | {} |\n",
            c.rule,
            if c.server_wide {
                "server-wide (a setting)"
            } else {
                "the same table"
            },
            c.explains.join(", ")
        ));
    }
    out.push_str(
        "\nA rule without a theme (a plan rule, a rule added without one) makes an action \
         of its own, named after its title; a critical one ranks as an outage.\n",
    );
    out
}

/// A title template for the docs: placeholders as italic words.
fn readable_template(template: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let name = rest[start + 1..start + len].split(':').next().unwrap_or("");
        out.push_str(match name {
            "names" => "*the settings*",
            _ => "*the objects*",
        });
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests;
