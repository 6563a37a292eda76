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
            } else if !trimmed.is_empty()
                && !lines
                    .iter()
                    .any(|earlier| crate::sql::covers(earlier, trimmed))
            {
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
    let platform = crate::knowledge::server_parameters::PlatformFix::merge(
        fixes.iter().filter_map(|f| f.platform.as_ref()),
    );
    // On a managed platform the provider's commands apply the settings: what they need.
    let (reload, restart) = match &platform {
        Some(p) => (
            reload || !p.settings.is_empty(),
            restart || p.needs_restart(),
        ),
        None => (reload, restart),
    };
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
    // One table's work counted once: two findings on a table (dead rows, autovacuum off)
    // both vacuum it, the merged fix does it once.
    let mut per_table: Vec<(Option<&str>, u64)> = Vec::new();
    for f in &fixes {
        let Some(e) = &f.duration else { continue };
        let table = f.lock.as_ref().map(|l| l.relation.as_str());
        match per_table
            .iter_mut()
            .find(|(t, _)| table.is_some() && *t == table)
        {
            Some((_, bytes)) => *bytes = (*bytes).max(e.bytes),
            None => per_table.push((table, e.bytes)),
        }
    }
    let duration = (!per_table.is_empty()).then(|| {
        let bytes: u64 = per_table.iter().map(|(_, b)| b).sum();
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
        platform,
    })
}
