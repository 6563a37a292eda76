//! Lock incidents from server logs: serialization failures (40001), deadlocks (40P01),
//! lock timeouts (55P03) and lock waits (`log_lock_waits`), attributed to the table,
//! the statement's fingerprint, the database, user and application, and the other
//! processes involved — aggregated per (kind × table × fingerprint) into
//! [`IncidentGroup`]s, the [`crate::workload::Workload::incidents`] of a log capture.
//!
//! The log reader hands each `ERROR` and lock-wait entry to [`parse`] (a one-byte check
//! first: statements never reach it); chunks' [`Incidents`] are merged in input order;
//! [`Incidents::finish`] turns them into groups, and [`erp`] names the ERP operations
//! behind them (Odoo's cron workers vs interactive requests) from the workload's own
//! statements. See `docs/locks.md`.

pub(crate) mod erp;
pub(crate) mod parse;
pub(crate) mod target;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::fingerprint::{fingerprint, shown_text, Fingerprint};
use parse::Incident;

/// Distinct (kind, table, fingerprint) groups kept; further ones are added to their
/// kind's group without table and statement.
pub const MAX_GROUPS: usize = 2_000;
/// Names kept per list (databases, users, applications, locks) of a group.
const MAX_NAMES: usize = 20;
/// Other processes kept per group (resolved when the reading ends).
const MAX_OTHERS: usize = 64;
/// Examples kept per group.
const MAX_EXAMPLES: usize = 3;
/// Processes remembered (pid → application and statement) to name the other side of
/// later incidents.
const MAX_PIDS: usize = 10_000;
/// Longest statement text shown, in characters.
const MAX_QUERY: usize = 500;

/// What kind of lock incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    /// `could not serialize access due to …` (SQLSTATE 40001).
    SerializationFailure,
    /// `deadlock detected` (40P01).
    Deadlock,
    /// `canceling statement due to lock timeout` (55P03).
    LockTimeout,
    /// `process N still waiting for … after … ms` (log_lock_waits).
    LockWait,
}

impl IncidentKind {
    /// `serialization failure`, `deadlock`, `lock timeout`, `lock wait`.
    pub fn label(self) -> &'static str {
        match self {
            IncidentKind::SerializationFailure => "serialization failure",
            IncidentKind::Deadlock => "deadlock",
            IncidentKind::LockTimeout => "lock timeout",
            IncidentKind::LockWait => "lock wait",
        }
    }
}

/// A name and how many incidents had it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Named {
    /// The name.
    pub name: String,
    /// Incidents.
    pub count: u64,
}

/// Which ERP operation a process was doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// A scheduled job (Odoo's cron worker: its application ran statements on `ir_cron`).
    Cron,
    /// A user's request (an application that never touched `ir_cron`).
    Interactive,
    /// The log does not say.
    Unknown,
}

/// The other side of incidents: a process named by the log (a deadlock's other
/// participant, a process holding the lock waited for).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OtherSide {
    /// Its statement's fingerprint, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Fingerprint>,
    /// Its statement with constants as `$n`, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Its application, when another entry of the process said it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<String>,
    /// What it was doing (inferred, see [`ErpOperations`]).
    pub operation: Operation,
    /// Incidents it took part in.
    pub count: u64,
}

/// The ERP operations behind a group, inferred from the workload: an application that
/// ran statements on Odoo's `ir_cron` is a cron worker; others are interactive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErpOperations {
    /// `odoo` when the tables and statements are recognisably Odoo's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erp: Option<String>,
    /// Incidents by what the logging process (the waiting side, a deadlock's victim)
    /// was doing.
    pub logged_by: BTreeMap<Operation, u64>,
    /// The other sides by what they were doing.
    pub other_side: BTreeMap<Operation, u64>,
    /// The applications taken for cron workers (they ran statements on `ir_cron`).
    pub cron_applications: Vec<String>,
    /// The applications whose statements in the log write the table, by what they do:
    /// the other side of a conflict the log does not name (a serialization failure, a
    /// lock holder that logged nothing of its own).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub writers: BTreeMap<Operation, Vec<String>>,
}

impl ErpOperations {
    /// Whether cron work and interactive requests both took part.
    pub fn cron_and_interactive(&self) -> bool {
        let has = |op| {
            self.logged_by.get(&op).copied().unwrap_or(0)
                + self.other_side.get(&op).copied().unwrap_or(0)
                > 0
        };
        has(Operation::Cron) && has(Operation::Interactive)
    }

    /// Whether cron work took part.
    pub fn cron(&self) -> bool {
        self.logged_by.get(&Operation::Cron).copied().unwrap_or(0)
            + self.other_side.get(&Operation::Cron).copied().unwrap_or(0)
            > 0
    }
}

/// Incidents of one kind on one table by one statement, over the capture.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IncidentGroup {
    /// What happened.
    pub kind: IncidentKind,
    /// The table (from the CONTEXT line, or the statement's target table), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
    /// The logging process's statement fingerprint (same as the workload's queries).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<Fingerprint>,
    /// That statement with constants as `$n`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Incidents (lock waits: waits past `deadlock_timeout`).
    pub count: u64,
    /// Lock waits that logged `acquired` (the wait ended with the lock).
    #[serde(default)]
    pub acquired: u64,
    /// Incidents in a foreign key check: a referencing row's insert or update waiting
    /// on the parent row (`relation`) another transaction locked.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub foreign_key_checks: u64,
    /// Time waited, ms (lock waits: the `acquired … after` times, plus the `still
    /// waiting … after` time of waits that never logged one — at least what was waited).
    #[serde(default)]
    pub total_wait_ms: f64,
    /// Longest wait, ms.
    #[serde(default)]
    pub max_wait_ms: f64,
    /// First incident.
    pub first_at: Option<DateTime<Utc>>,
    /// Last incident.
    pub last_at: Option<DateTime<Utc>>,
    /// Locks waited for (`ShareLock on transaction`: a row another transaction changed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locks: Vec<Named>,
    /// By database.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub databases: Vec<Named>,
    /// By user.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<Named>,
    /// By application (`%a`, csvlog, jsonlog).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub applications: Vec<Named>,
    /// The other processes involved (holders of the lock, deadlock participants).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub others: Vec<OtherSide>,
    /// The ERP operations behind them, when the workload shows them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<ErpOperations>,
    /// A few messages with their DETAIL and CONTEXT, as logged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
}

impl IncidentGroup {
    /// The table in backticks, or `an unknown table`.
    pub fn table_label(&self) -> String {
        match &self.relation {
            Some(r) => format!("`{r}`"),
            None => "an unknown table".to_owned(),
        }
    }
}

/// A statement of the workload as the ERP attribution sees it (built from the
/// workload's queries by the caller, so this module does not depend on them).
#[derive(Debug, Clone)]
pub struct StatementRuns<'a> {
    /// Its fingerprint.
    pub fingerprint: Fingerprint,
    /// Its text.
    pub query: &'a str,
    /// Whether it writes (`INSERT`, `UPDATE`, `DELETE`, …).
    pub writes: bool,
    /// The applications that ran it (`?` when the log does not say).
    pub applications: Vec<&'a str>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

type Key = (IncidentKind, Option<String>, Option<Fingerprint>);

/// One group being added up.
#[derive(Debug, Clone, Default, PartialEq)]
struct Acc {
    query: Option<String>,
    count: u64,
    acquired: u64,
    foreign_key_checks: u64,
    waiting_ms: f64,
    waiting_n: u64,
    acquired_ms: f64,
    max_ms: f64,
    first_at: Option<DateTime<Utc>>,
    last_at: Option<DateTime<Utc>>,
    locks: BTreeMap<String, u64>,
    databases: BTreeMap<String, u64>,
    users: BTreeMap<String, u64>,
    applications: BTreeMap<String, u64>,
    /// (pid, fingerprint and text of its statement when the log printed it).
    others: Vec<(i32, Option<(Fingerprint, String)>)>,
    examples: Vec<String>,
}

/// What a process was seen doing in an incident of its own.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    application: Option<String>,
    statement: Option<(Fingerprint, String)>,
}

/// Incidents being added up while a log is read (one per chunk, merged in input
/// order); [`Incidents::finish`] gives the groups.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Incidents {
    groups: HashMap<Key, Acc>,
    pids: HashMap<i32, Seen>,
}

fn bump(map: &mut BTreeMap<String, u64>, name: Option<&str>, n: u64) {
    let Some(name) = name else { return };
    if map.len() < MAX_NAMES || map.contains_key(name) {
        *map.entry(name.to_string()).or_default() += n;
    }
}

fn statement_of(sql: &str) -> (Fingerprint, String) {
    let shown = shown_text(sql);
    (fingerprint(sql), cut_chars(&shown, MAX_QUERY))
}

fn cut_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let c: String = s.chars().take(max).collect();
    format!("{c}…")
}

impl Incidents {
    /// Whether nothing was seen.
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    /// Adds one incident.
    pub(crate) fn add(&mut self, inc: Incident) {
        let stmt = inc.statement.as_deref().map(statement_of);
        if let Some(pid) = inc.pid {
            if self.pids.len() < MAX_PIDS || self.pids.contains_key(&pid) {
                self.pids.insert(
                    pid,
                    Seen {
                        application: inc.application.clone(),
                        statement: stmt.clone(),
                    },
                );
            }
        }
        let mut key: Key = (inc.kind, inc.relation.clone(), stmt.as_ref().map(|s| s.0));
        if self.groups.len() >= MAX_GROUPS && !self.groups.contains_key(&key) {
            key = (inc.kind, None, None);
        }
        let acc = self.groups.entry(key).or_default();
        if acc.query.is_none() {
            acc.query = stmt.map(|s| s.1);
        }
        match (inc.kind, inc.acquired) {
            (IncidentKind::LockWait, true) => {
                acc.acquired += 1;
                acc.acquired_ms += inc.wait_ms.unwrap_or(0.0);
            }
            (IncidentKind::LockWait, false) => {
                acc.count += 1;
                acc.waiting_n += 1;
                acc.waiting_ms += inc.wait_ms.unwrap_or(0.0);
            }
            _ => acc.count += 1,
        }
        if let Some(ms) = inc.wait_ms {
            acc.max_ms = acc.max_ms.max(ms);
        }
        acc.first_at = acc.first_at.into_iter().chain(inc.at).min();
        acc.last_at = acc.last_at.into_iter().chain(inc.at).max();
        if inc.acquired {
            // The wait itself was counted by its `still waiting` line.
            return;
        }
        acc.foreign_key_checks += u64::from(inc.foreign_key_check);
        bump(&mut acc.locks, inc.lock.as_deref(), 1);
        bump(&mut acc.databases, inc.database.as_deref(), 1);
        bump(&mut acc.users, inc.user.as_deref(), 1);
        bump(&mut acc.applications, inc.application.as_deref(), 1);
        for o in inc.others {
            if acc.others.len() < MAX_OTHERS {
                acc.others
                    .push((o.pid, o.statement.as_deref().map(statement_of)));
            }
        }
        if acc.examples.len() < MAX_EXAMPLES {
            acc.examples.push(inc.example);
        }
    }

    /// Adds a later chunk's incidents.
    pub fn merge(&mut self, other: Incidents) {
        for (pid, seen) in other.pids {
            if self.pids.len() < MAX_PIDS || self.pids.contains_key(&pid) {
                self.pids.insert(pid, seen);
            }
        }
        for (key, o) in other.groups {
            let key = if self.groups.len() >= MAX_GROUPS && !self.groups.contains_key(&key) {
                (key.0, None, None)
            } else {
                key
            };
            let acc = self.groups.entry(key).or_default();
            if acc.query.is_none() {
                acc.query = o.query;
            }
            acc.count += o.count;
            acc.acquired += o.acquired;
            acc.foreign_key_checks += o.foreign_key_checks;
            acc.waiting_ms += o.waiting_ms;
            acc.waiting_n += o.waiting_n;
            acc.acquired_ms += o.acquired_ms;
            acc.max_ms = acc.max_ms.max(o.max_ms);
            acc.first_at = acc.first_at.into_iter().chain(o.first_at).min();
            acc.last_at = acc.last_at.into_iter().chain(o.last_at).max();
            for (map, from) in [
                (&mut acc.locks, o.locks),
                (&mut acc.databases, o.databases),
                (&mut acc.users, o.users),
                (&mut acc.applications, o.applications),
            ] {
                for (name, n) in from {
                    bump(map, Some(&name), n);
                }
            }
            let room = MAX_OTHERS.saturating_sub(acc.others.len());
            acc.others.extend(o.others.into_iter().take(room));
            let room = MAX_EXAMPLES.saturating_sub(acc.examples.len());
            acc.examples.extend(o.examples.into_iter().take(room));
        }
    }

    /// The groups, most incidents first (deadlocks and serialization failures before
    /// waits on a tie), with their other sides named where a process's own entries said
    /// what it ran, and the ERP operations inferred from `queries` (the workload's
    /// statements, for which applications touched `ir_cron`).
    pub fn finish(self, queries: &[StatementRuns<'_>]) -> Vec<IncidentGroup> {
        let pids = self.pids;
        let mut groups: Vec<IncidentGroup> = self
            .groups
            .into_iter()
            .map(|((kind, relation, fp), acc)| {
                let never_acquired = acc.count.saturating_sub(acc.acquired) as f64;
                let mean_waiting = if acc.waiting_n > 0 {
                    acc.waiting_ms / acc.waiting_n as f64
                } else {
                    0.0
                };
                let total_wait_ms = if kind == IncidentKind::LockWait {
                    acc.acquired_ms + never_acquired * mean_waiting
                } else {
                    0.0
                };
                IncidentGroup {
                    kind,
                    relation,
                    fingerprint: fp,
                    query: acc.query,
                    count: acc.count,
                    acquired: acc.acquired,
                    foreign_key_checks: acc.foreign_key_checks,
                    total_wait_ms,
                    max_wait_ms: acc.max_ms,
                    first_at: acc.first_at,
                    last_at: acc.last_at,
                    locks: named(acc.locks),
                    databases: named(acc.databases),
                    users: named(acc.users),
                    applications: named(acc.applications),
                    others: others(acc.others, &pids),
                    operations: None,
                    examples: acc.examples,
                }
            })
            .filter(|g| g.count > 0 || g.acquired > 0)
            .collect();
        erp::attribute(&mut groups, queries);
        groups.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then_with(|| a.kind.cmp(&b.kind))
                .then_with(|| a.relation.cmp(&b.relation))
                .then_with(|| a.fingerprint.cmp(&b.fingerprint))
        });
        groups
    }
}

fn named(map: BTreeMap<String, u64>) -> Vec<Named> {
    let mut v: Vec<Named> = map
        .into_iter()
        .map(|(name, count)| Named { name, count })
        .collect();
    v.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.name.cmp(&b.name)));
    v
}

/// The other processes by statement and application: a statement the log printed, or
/// the one the process's own incident showed.
fn others(
    list: Vec<(i32, Option<(Fingerprint, String)>)>,
    pids: &HashMap<i32, Seen>,
) -> Vec<OtherSide> {
    let mut out: Vec<OtherSide> = Vec::new();
    for (pid, stmt) in list {
        let seen = pids.get(&pid);
        let stmt = stmt.or_else(|| seen.and_then(|s| s.statement.clone()));
        let application = seen.and_then(|s| s.application.clone());
        let fp = stmt.as_ref().map(|s| s.0);
        match out
            .iter_mut()
            .find(|o| o.fingerprint == fp && o.application == application)
        {
            Some(o) => o.count += 1,
            None => out.push(OtherSide {
                fingerprint: fp,
                query: stmt.map(|s| s.1),
                application,
                operation: Operation::Unknown,
                count: 1,
            }),
        }
    }
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.query.cmp(&b.query)));
    out
}

#[cfg(test)]
mod tests {
    use super::parse::{Incident, OtherProcess};
    use super::*;

    fn incident(kind: IncidentKind, table: &str, sql: &str, app: &str, pid: i32) -> Incident {
        Incident {
            kind,
            at: None,
            wait_ms: None,
            acquired: false,
            lock: None,
            relation: Some(table.to_owned()),
            foreign_key_check: false,
            statement: Some(sql.to_owned()),
            pid: Some(pid),
            database: Some("erp".to_owned()),
            user: Some("odoo".to_owned()),
            application: Some(app.to_owned()),
            others: Vec::new(),
            example: String::new(),
        }
    }

    /// However many distinct statements and tables a log has, the groups stay bounded:
    /// the excess is counted in its kind's group without table and statement.
    #[test]
    fn groups_are_bounded_and_nothing_is_lost() {
        let mut inc = Incidents::default();
        let n = MAX_GROUPS + 500;
        for i in 0..n {
            let t = format!("t{i}");
            inc.add(incident(
                IncidentKind::Deadlock,
                &t,
                &format!("UPDATE {t} SET a = 1"),
                "app",
                i as i32,
            ));
        }
        let groups = inc.finish(&[]);
        assert_eq!(groups.len(), MAX_GROUPS + 1);
        assert_eq!(groups.iter().map(|g| g.count).sum::<u64>(), n as u64);
        let rest = groups
            .iter()
            .find(|g| g.relation.is_none())
            .expect("overflow");
        assert_eq!(rest.count, 500);
    }

    /// Odoo without workers runs its cron threads in the HTTP process: one application
    /// ran both the cron pick and the order entry, so nothing is said about cron work.
    #[test]
    fn one_application_for_everything_infers_nothing() {
        let pick = "SELECT * FROM ir_cron WHERE id = 1 FOR NO KEY UPDATE SKIP LOCKED";
        let upd = "UPDATE stock_quant SET quantity = 1 WHERE id = 2";
        let runs = |apps: &[&'static str], sql: &'static str| StatementRuns {
            fingerprint: fingerprint(sql),
            query: sql,
            writes: sql.starts_with("UPDATE"),
            applications: apps.to_vec(),
        };
        let mut one = Incidents::default();
        let mut d = incident(IncidentKind::Deadlock, "stock_quant", upd, "odoo-7", 1);
        d.others = vec![OtherProcess {
            pid: 2,
            statement: Some(upd.to_owned()),
        }];
        one.add(d.clone());
        let g = one.finish(&[runs(&["odoo-7"], pick), runs(&["odoo-7"], upd)]);
        let ops = g[0].operations.as_ref().expect("Odoo's tables");
        assert!(ops.cron_applications.is_empty(), "{ops:?}");
        assert!(!ops.cron());
        // With a cron worker of its own (prefork), the same deadlock is cron vs order entry.
        let mut two = Incidents::default();
        two.add(d);
        let g = two.finish(&[runs(&["odoo-8"], pick), runs(&["odoo-7", "odoo-8"], upd)]);
        let ops = g[0].operations.as_ref().expect("operations");
        assert_eq!(ops.cron_applications, vec!["odoo-8".to_owned()]);
        assert_eq!(ops.logged_by.get(&Operation::Interactive), Some(&1));
    }
}
