//! An action's fix: its findings' fixes merged into one script, each statement once, the
//! reload or restart once at the end.

use super::ActionFix;
use crate::report::{Estimate, Finding, FixLock};

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
    let phase = fixes.iter().map(|f| f.phase).max().unwrap_or_default();
    let locks: Vec<&FixLock> = fixes.iter().filter_map(|f| f.lock.as_ref()).collect();
    let lock = locks.iter().max_by_key(|l| l.mode).map(|strongest| {
        let relations: Vec<&str> = {
            let mut r: Vec<&str> = locks.iter().map(|l| l.relation.as_str()).collect();
            r.sort_unstable();
            r.dedup();
            r
        };
        FixLock {
            mode: strongest.mode,
            relation: match relations.as_slice() {
                [one] => (*one).to_owned(),
                many => format!("{} tables, each in turn", many.len()),
            },
            blocks: strongest.blocks.clone(),
        }
    });
    let estimates: Vec<&Estimate> = fixes.iter().filter_map(|f| f.duration.as_ref()).collect();
    let duration = (!estimates.is_empty()).then(|| {
        let bytes: u64 = estimates.iter().map(|e| e.bytes).sum();
        Estimate {
            seconds: crate::knowledge::maintenance::work_seconds(bytes),
            bytes,
            text: crate::knowledge::maintenance::work_text(bytes),
        }
    });
    let destructive: Vec<&str> = {
        let mut d: Vec<&str> = fixes
            .iter()
            .filter_map(|f| f.destructive.as_deref())
            .collect();
        d.dedup();
        d
    };
    Some(ActionFix {
        sql: lines.join("\n").trim().to_owned(),
        requires: requires.to_owned(),
        phase,
        lock,
        rewrites_table: fixes.iter().any(|f| f.rewrites_table),
        destructive: match destructive.as_slice() {
            [] => None,
            [one] => Some((*one).to_owned()),
            [first, ..] => Some(format!(
                "{} statements, the first: {first}",
                destructive.len()
            )),
        },
        duration,
    })
}
