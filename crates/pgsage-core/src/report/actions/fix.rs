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
    // The same statement in two databases runs in each: when the fixes act in more than
    // one database, each database's statements come under a line naming it.
    let databases: Vec<Option<&str>> = {
        let mut d: Vec<Option<&str>> = Vec::new();
        for f in findings.iter().filter(|f| f.fix.is_some()) {
            if !d.contains(&database_of(f)) {
                d.push(database_of(f));
            }
        }
        d
    };
    let per_database = databases.iter().filter(|d| d.is_some()).count() > 1;
    let mut lines: Vec<String> = Vec::new();
    let mut reload = false;
    let mut restart = false;
    for database in &databases {
        let mut these: Vec<&str> = Vec::new();
        for f in findings.iter().filter(|f| database_of(f) == *database) {
            let Some(fix) = &f.fix else { continue };
            for line in fix.sql.lines() {
                let trimmed = line.trim_end();
                if trimmed == RELOAD {
                    reload = true;
                } else if trimmed == RESTART {
                    restart = true;
                } else if !trimmed.is_empty()
                    && !these
                        .iter()
                        .any(|earlier| crate::sql::covers(earlier, trimmed))
                {
                    these.push(trimmed);
                }
            }
        }
        if these.is_empty() {
            continue;
        }
        if let (true, Some(db)) = (per_database, database) {
            lines.push(format!("-- in database {}:", crate::sql::quote_ident(db)));
        }
        lines.extend(these.into_iter().map(str::to_owned));
    }
    // A restart reloads the configuration too.
    if restart {
        lines.push(RESTART.to_owned());
    } else if reload {
        lines.push(RELOAD.to_owned());
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
    let locks: Vec<(Option<&str>, &FixLock)> = findings
        .iter()
        .filter_map(|f| Some((database_of(f), f.fix.as_ref()?.lock.as_ref()?)))
        .collect();
    let lock = locks
        .iter()
        .map(|(_, l)| l)
        .max_by_key(|l| l.mode)
        .map(|strongest| {
            let relations: Vec<(Option<&str>, &str)> = {
                let mut r: Vec<(Option<&str>, &str)> = locks
                    .iter()
                    .map(|(d, l)| (*d, l.relation.as_str()))
                    .collect();
                r.sort_unstable();
                r.dedup();
                r
            };
            FixLock {
                mode: strongest.mode,
                relation: match relations.as_slice() {
                    [(_, one)] => (*one).to_owned(),
                    many => format!("{} tables, each in turn", many.len()),
                },
                blocks: strongest.blocks.clone(),
            }
        });
    // One table's work counted once: two findings on a table (dead rows, autovacuum off)
    // both vacuum it, the merged fix does it once.
    // (database, table) → bytes to work through.
    type TableKey<'a> = Option<(Option<&'a str>, &'a str)>;
    let mut per_table: Vec<(TableKey, u64)> = Vec::new();
    for finding in findings {
        let Some(f) = &finding.fix else { continue };
        let Some(e) = &f.duration else { continue };
        let table = f
            .lock
            .as_ref()
            .map(|l| (database_of(finding), l.relation.as_str()));
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

/// The database a finding's fix acts in: the object's, or the database itself.
fn database_of(f: &Finding) -> Option<&str> {
    match f.object.kind {
        crate::report::ObjectKind::Database => Some(f.object.name.as_str()),
        _ => f.object.database.as_deref(),
    }
}
