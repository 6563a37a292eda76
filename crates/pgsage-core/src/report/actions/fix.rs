//! An action's fix: its findings' fixes merged into one script, each statement once, the
//! reload or restart once at the end.

use super::ActionFix;
use crate::report::Finding;

/// The lines that apply settings changes; written once, at the end.
const RELOAD: &str = "SELECT pg_reload_conf();";
const RESTART: &str = "-- then restart PostgreSQL";

/// The merged fix of `findings` (in the action's order), `None` when none has one. What
/// it requires follows from the statements themselves: a fix whose setting change is only
/// suggested in a comment needs no reload.
pub(super) fn merge(findings: &[&Finding]) -> Option<ActionFix> {
    let fixes: Vec<&crate::report::Fix> = findings.iter().filter_map(|f| f.fix.as_ref()).collect();
    if fixes.is_empty() {
        return None;
    }
    let mut lines: Vec<&str> = Vec::new();
    let mut reload = false;
    let mut restart = false;
    for fix in &fixes {
        for line in fix.sql.lines() {
            let trimmed = line.trim_end();
            if trimmed == RELOAD {
                reload = true;
            } else if trimmed == RESTART {
                restart = true;
            } else if !trimmed.is_empty() && !lines.contains(&trimmed) {
                lines.push(trimmed);
            }
        }
    }
    // A restart reloads the configuration too.
    if restart {
        lines.push(RESTART);
    } else if reload {
        lines.push(RELOAD);
    }
    let requires = if restart {
        "restart"
    } else if reload {
        "reload"
    } else {
        "none"
    };
    Some(ActionFix {
        sql: lines.join("\n").trim().to_owned(),
        requires: requires.to_owned(),
        lock: None,
        duration: None,
    })
}
