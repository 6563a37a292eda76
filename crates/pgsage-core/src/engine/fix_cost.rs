//! The engine's pass over finished findings: every fix gets what applying it costs,
//! derived once from its SQL ([`crate::sql::impact`]) so that no rule writes it by hand,
//! with the snapshot for what the SQL alone cannot tell: which settings need a restart,
//! which table an index belongs to, and how big the tables are (for the duration,
//! [`crate::knowledge::maintenance`]).

use crate::knowledge::maintenance;
use crate::report::{Estimate, Finding, Fix, FixLock, ObjectKind, ObjectRef, Phase};
use crate::snapshot::{Index, Snapshot, Table};
use crate::sql::impact::{statements, Held, Kind, Lock, Statement, Work};

/// Fills in the cost of every finding's fix; `snapshot` is the audited one, when there is
/// one (plans and workloads have none: no sizes, and settings' restarts from pgsage's
/// list).
pub(crate) fn annotate(findings: &mut [Finding], snapshot: Option<&Snapshot>) {
    for f in findings {
        if let Some(fix) = &mut f.fix {
            cost(fix, &f.object, snapshot);
        }
    }
}

/// Sets `fix`'s phase, lock, rewrite, destructiveness and duration from its SQL, and
/// raises `requires` to the reload or restart its settings need.
pub fn cost(fix: &mut Fix, object: &ObjectRef, snapshot: Option<&Snapshot>) {
    let stmts = statements(&fix.sql);
    let mut phase = Phase::Online;
    let mut settings_phase = Phase::Online;
    for s in &stmts {
        let p = statement_phase(s, fix, snapshot);
        if matches!(s.impact.kind, Kind::AlterSystem { .. }) {
            settings_phase = settings_phase.max(p);
        }
        phase = phase.max(p);
    }
    let requires = fix.requires.as_deref().unwrap_or("none");
    if let Some(p) = Phase::from_requires(requires) {
        phase = phase.max(p);
    }
    if matches!(requires, "none" | "reload" | "restart")
        && settings_phase > Phase::from_requires(requires).unwrap_or(Phase::Online)
    {
        fix.requires = Some(settings_phase.as_str().to_owned());
    }
    fix.phase = phase;

    let strongest = stmts
        .iter()
        .filter_map(|s| s.impact.lock.as_ref().map(|l| (l, s.impact.held)))
        .fold(None, |best: Option<(&Lock, Held)>, (l, h)| match best {
            Some((b, bh)) if (b.mode, bh) >= (l.mode, h) => Some((b, bh)),
            _ => Some((l, h)),
        });
    fix.lock = strongest.map(|(l, held)| FixLock {
        mode: l.mode,
        relation: if l.via_index {
            table_of_index(snapshot, &l.relation)
        } else {
            l.relation.clone()
        },
        blocks: match held {
            Held::Brief if l.mode.blocks_writes() => {
                format!("{}; held a moment (a catalog change), but it waits for running transactions and everything after waits for it", l.mode.blocks())
            }
            _ => l.mode.blocks().to_owned(),
        },
    });
    fix.rewrites_table = stmts.iter().any(|s| s.impact.rewrites_table);
    let reasons: Vec<&str> = stmts
        .iter()
        .filter(|s| !drops_an_invalid_index(s, snapshot))
        .filter_map(|s| s.impact.destructive.as_deref())
        .collect();
    fix.destructive = (!reasons.is_empty()).then(|| reasons.join("; "));
    fix.duration = snapshot.and_then(|snap| {
        let bytes: u64 = stmts
            .iter()
            .flat_map(|s| &s.impact.work)
            .filter_map(|w| work_bytes(snap, object, w))
            .sum();
        (bytes > 0).then(|| Estimate {
            seconds: maintenance::work_seconds(bytes),
            bytes,
            text: maintenance::work_text(bytes),
        })
    });
}

/// Dropping an index the planner never uses (a failed concurrent build or a leftover of
/// a failed `REINDEX CONCURRENTLY`) loses nothing.
fn drops_an_invalid_index(s: &Statement, snapshot: Option<&Snapshot>) -> bool {
    s.impact.kind == Kind::DropIndex
        && snapshot
            .zip(s.impact.lock.as_ref())
            .and_then(|(snap, l)| find_index(snap, &l.relation))
            .is_some_and(|i| !i.is_valid)
}

/// A statement's phase, with `ALTER SYSTEM` raised to a restart for the settings that
/// need one (the snapshot's `pg_settings` context, else the fix's declared change, else
/// pgsage's list).
fn statement_phase(s: &Statement, fix: &Fix, snapshot: Option<&Snapshot>) -> Phase {
    let Kind::AlterSystem { setting, .. } = &s.impact.kind else {
        return s.impact.phase();
    };
    let restart = snapshot
        .and_then(|snap| snap.setting(setting))
        .map(|x| x.needs_restart())
        .or_else(|| {
            fix.settings
                .iter()
                .find(|c| &c.name == setting)
                .map(|c| c.restart)
        })
        .unwrap_or_else(|| crate::tune::needs_restart_without_settings(setting));
    if restart {
        Phase::Restart
    } else {
        Phase::Reload
    }
}

/// Whether `written` (`public.t`, `t`, `"Odd".t`, as [`crate::sql::impact`] renders
/// names) names the object `schema.name`.
fn names(written: &str, schema: &str, name: &str) -> bool {
    written == crate::sql::qualified(schema, name) || written == crate::sql::quote_ident(name)
}

fn find_table<'a>(snap: &'a Snapshot, written: &str) -> Option<&'a Table> {
    snap.tables
        .iter()
        .find(|t| names(written, &t.schema, &t.name))
}

fn find_index<'a>(snap: &'a Snapshot, written: &str) -> Option<&'a Index> {
    snap.indexes
        .iter()
        .find(|i| names(written, &i.schema, &i.name))
}

/// The table an index belongs to, as a report names it.
fn table_of_index(snapshot: Option<&Snapshot>, index: &str) -> String {
    snapshot
        .and_then(|snap| find_index(snap, index))
        .map_or_else(
            || format!("the table of index {index}"),
            |i| crate::sql::qualified(&i.schema, &i.table),
        )
}

fn non_negative(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// The bytes a piece of work reads or writes, when the snapshot knows them.
fn work_bytes(snap: &Snapshot, object: &ObjectRef, work: &Work) -> Option<u64> {
    match work {
        Work::Table(t) => find_table(snap, t).map(|t| non_negative(t.heap_bytes + t.toast_bytes)),
        Work::TableAndIndexes(t) => find_table(snap, t)
            .map(|t| non_negative(t.heap_bytes + t.toast_bytes + t.indexes_bytes)),
        Work::Index(i) => {
            let index = find_index(snap, i)?;
            let heap = snap
                .tables
                .iter()
                .find(|t| t.oid == index.table_oid)
                .map_or(0, |t| t.heap_bytes);
            Some(non_negative(index.size_bytes + heap))
        }
        Work::Database => {
            let database = match object.kind {
                ObjectKind::Database => object.name.as_str(),
                _ => object
                    .database
                    .as_deref()
                    .unwrap_or(snap.server.database.as_str()),
            };
            snap.databases
                .iter()
                .find(|d| d.name == database)
                .and_then(|d| d.size_bytes)
                .map(non_negative)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> Snapshot {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/snapshots/demo.json");
        Snapshot::load(&path).expect("demo snapshot")
    }

    fn fix(sql: &str, requires: &str) -> Fix {
        Fix {
            sql: sql.to_owned(),
            requires: Some(requires.to_owned()),
            ..Default::default()
        }
    }

    #[test]
    fn a_column_type_change_is_a_maintenance_rewrite_sized_from_the_snapshot() {
        let snap = demo();
        let t = snap
            .tables
            .iter()
            .max_by_key(|t| t.heap_bytes)
            .expect("a table");
        let name = t.qualified_name();
        let mut f = fix(
            &format!("-- rewrites it\nALTER TABLE {name} ALTER COLUMN id TYPE bigint;"),
            "none",
        );
        cost(
            &mut f,
            &ObjectRef::named(ObjectKind::Table, &t.name),
            Some(&snap),
        );
        assert_eq!(f.phase, Phase::Maintenance);
        assert!(f.rewrites_table);
        let lock = f.lock.as_ref().expect("a lock");
        assert_eq!(lock.mode.as_str(), "ACCESS EXCLUSIVE");
        assert_eq!(lock.relation, name);
        let d = f.duration.as_ref().expect("a duration");
        assert_eq!(
            d.bytes,
            non_negative(t.heap_bytes + t.toast_bytes + t.indexes_bytes)
        );
        assert_eq!(d.text, maintenance::work_text(d.bytes));
        assert_eq!(f.requires.as_deref(), Some("none"));
        assert!(f
            .cost_line()
            .starts_with("needs a maintenance window; ACCESS EXCLUSIVE lock on"));
    }

    #[test]
    fn settings_raise_requires_and_phase_to_what_they_need() {
        let snap = demo();
        let mut f = fix("ALTER SYSTEM SET shared_buffers = '4GB';", "none");
        cost(&mut f, &ObjectRef::setting("shared_buffers"), Some(&snap));
        assert_eq!(
            (f.phase, f.requires.as_deref()),
            (Phase::Restart, Some("restart"))
        );
        let mut f = fix(
            "ALTER SYSTEM SET work_mem = '8MB';\nSELECT pg_reload_conf();",
            "reload",
        );
        cost(&mut f, &ObjectRef::setting("work_mem"), Some(&snap));
        assert_eq!(
            (f.phase, f.requires.as_deref(), f.lock.is_none()),
            (Phase::Reload, Some("reload"), true)
        );
        // A restart written only as a comment (a kernel setting) still needs a restart.
        let mut f = fix(
            "-- vm.nr_hugepages = 2200\n-- then restart PostgreSQL",
            "restart",
        );
        cost(&mut f, &ObjectRef::setting("huge_pages"), None);
        assert_eq!(f.phase, Phase::Restart);
    }

    #[test]
    fn dropping_an_index_names_its_table_and_why_it_is_destructive() {
        let snap = demo();
        let i = snap.indexes.first().expect("an index");
        let mut f = fix(
            &format!("DROP INDEX CONCURRENTLY {};", i.qualified_name()),
            "none",
        );
        cost(
            &mut f,
            &ObjectRef::named(ObjectKind::Index, &i.name),
            Some(&snap),
        );
        assert_eq!(f.phase, Phase::Online);
        assert_eq!(
            f.lock.as_ref().map(|l| l.relation.clone()),
            Some(crate::sql::qualified(&i.schema, &i.table))
        );
        assert!(f
            .destructive
            .as_deref()
            .is_some_and(|d| d.starts_with("drops index")));
        assert!(f.duration.is_none(), "a drop reads no table");
    }
}
