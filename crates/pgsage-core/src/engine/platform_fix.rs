//! The engine's pass that renders every fix for the platform the server runs on: on a
//! managed service the `ALTER SYSTEM` lines (and the reload or restart after them) give
//! way to the provider's commands in [`Fix::platform`], and an extension the platform must
//! allow first (Azure's `azure.extensions`) is added to them. On a self-managed server
//! fixes stay as the rules wrote them.

use crate::knowledge::server_parameters::{rules, PlatformFix};
use crate::report::{Finding, Fix};
use crate::snapshot::{Platform, Snapshot};

/// The lines a setting fix ends with ([`crate::rules::RuleContext::settings_fix`]).
const RELOAD: &str = "SELECT pg_reload_conf();";
const RESTART: &str = "-- then restart PostgreSQL";

/// Renders every finding's fix for `platform`.
pub(crate) fn adapt(findings: &mut [Finding], platform: Platform, snapshot: Option<&Snapshot>) {
    if !platform.is_managed() {
        return;
    }
    for f in findings {
        if let Some(fix) = &mut f.fix {
            adapt_fix(fix, platform, snapshot);
        }
    }
}

fn adapt_fix(fix: &mut Fix, platform: Platform, snapshot: Option<&Snapshot>) {
    let mut changes = fix.settings.clone();
    let extensions = rules::created_extensions(&fix.sql);
    if let Some(allow) = rules::allow_extensions(platform, snapshot, &extensions) {
        // The allow-list first: CREATE EXTENSION fails until it lists the extension.
        changes.insert(0, allow);
    }
    if changes.is_empty() {
        return;
    }
    let alter: Vec<String> = fix
        .settings
        .iter()
        .map(|s| crate::sql::alter_system(&s.name, &s.value))
        .collect();
    let had_settings = !fix.settings.is_empty();
    let kept: Vec<&str> = fix
        .sql
        .lines()
        .filter(|line| {
            let t = line.trim_end();
            !(alter.iter().any(|a| a == t) || (had_settings && (t == RELOAD || t == RESTART)))
        })
        .collect();
    let plan = PlatformFix::plan(platform, &changes, snapshot);
    let mut sql = kept.join("\n").trim().to_owned();
    if let Some(plan) = &plan {
        if !plan.settings.is_empty() {
            let note = format!(
                "-- server parameters: with the {} commands below",
                crate::knowledge::server_parameters::commands::cli_command(platform)
            );
            sql = if sql.is_empty() {
                note
            } else if extensions.is_empty() {
                // Where the ALTER SYSTEM lines were: after what comes before them.
                format!("{sql}\n{note}")
            } else {
                // The allow-list before CREATE EXTENSION, which fails until it is set.
                format!(
                    "-- first the server parameters below (they allow the extension), then:\n{sql}"
                )
            };
        } else if sql.is_empty() {
            sql = format!(
                "-- {} does not let users make this change",
                platform.service_name()
            );
        }
        if plan.settings.is_empty()
            && !plan.not_allowed.is_empty()
            && fix.settings.len() == plan.not_allowed.len()
            && kept_only_comments(&sql)
        {
            // Nothing the user can run: no reload or restart either.
            fix.requires = Some("none".to_owned());
            fix.phase = crate::report::Phase::Online;
        }
    }
    fix.sql = sql;
    fix.platform = plan;
}

fn kept_only_comments(sql: &str) -> bool {
    sql.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with("--")
    })
}
