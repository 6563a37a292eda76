//! One log entry → one [`Incident`], when it reports a serialization failure, a
//! deadlock, a lock timeout or a lock wait (`log_lock_waits`). English server messages
//! only, like the rest of the log reader.

use chrono::{DateTime, Utc};

use super::IncidentKind;

/// What the log says about one entry, borrowed from the reader's entry.
#[derive(Debug, Default)]
pub(crate) struct Logged<'a> {
    pub message: &'a str,
    pub detail: Option<&'a str>,
    pub context: Option<&'a str>,
    pub statement: Option<&'a str>,
    pub pid: Option<i32>,
    pub database: Option<&'a str>,
    pub user: Option<&'a str>,
    pub application: Option<&'a str>,
    pub at: Option<DateTime<Utc>>,
}

/// Another process the entry names: a deadlock's other participant, or a process
/// holding the lock waited for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct OtherProcess {
    pub pid: i32,
    /// Its statement, when the log prints it (deadlock DETAIL).
    pub statement: Option<String>,
}

/// One incident, before aggregation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Incident {
    pub kind: IncidentKind,
    pub at: Option<DateTime<Utc>>,
    /// How long the process had waited (lock waits: `after … ms`).
    pub wait_ms: Option<f64>,
    /// A lock wait's `acquired … after …` line (the wait ended; `wait_ms` is all of it).
    pub acquired: bool,
    /// The lock waited for, without its numbers: `ShareLock on transaction`.
    pub lock: Option<String>,
    /// The table, as the log or the statement names it.
    pub relation: Option<String>,
    /// The wait was a foreign key check (`SELECT 1 FROM ONLY … FOR KEY SHARE OF x` in
    /// the CONTEXT): an insert or update of a referencing row waiting on the parent row.
    pub foreign_key_check: bool,
    /// The logging process's statement.
    pub statement: Option<String>,
    pub pid: Option<i32>,
    pub database: Option<String>,
    pub user: Option<String>,
    pub application: Option<String>,
    /// The other processes involved.
    pub others: Vec<OtherProcess>,
    /// The message and its DETAIL/CONTEXT, cut, for the report's examples.
    pub example: String,
}

/// Longest example kept, in bytes.
const MAX_EXAMPLE: usize = 2048;

/// The kind of an `ERROR` message that reports a conflict. Cheap: one byte, then
/// one prefix, for the errors that are not.
pub(crate) fn error_kind(message: &str) -> Option<IncidentKind> {
    match message.as_bytes().first()? {
        b'c' if message.starts_with("could not serialize access") => {
            Some(IncidentKind::SerializationFailure)
        }
        b'c' if message.starts_with("canceling statement due to lock timeout") => {
            Some(IncidentKind::LockTimeout)
        }
        b'd' if message.starts_with("deadlock detected") => Some(IncidentKind::Deadlock),
        _ => None,
    }
}

/// An `ERROR` entry as an incident, when it is one.
pub(crate) fn error(l: &Logged<'_>) -> Option<Incident> {
    let kind = error_kind(l.message)?;
    let mut inc = base(kind, l);
    if kind == IncidentKind::Deadlock {
        if let Some(d) = l.detail {
            let (own_lock, others) = deadlock_detail(d, l.pid);
            inc.lock = own_lock;
            inc.others = others;
        }
    }
    inc.relation = relation(l);
    Some(inc)
}

/// A `LOG: process N still waiting for … after … ms` / `acquired … after …` entry as
/// an incident.
pub(crate) fn lock_wait(l: &Logged<'_>) -> Option<Incident> {
    let rest = l.message.strip_prefix("process ")?;
    let (_, rest) = rest.split_once(' ')?;
    let (acquired, what) = if let Some(w) = rest.strip_prefix("still waiting for ") {
        (false, w)
    } else if let Some(w) = rest.strip_prefix("acquired ") {
        (true, w)
    } else {
        return None;
    };
    let after = what.rfind(" after ")?;
    let ms = what[after + 7..]
        .trim_end()
        .strip_suffix(" ms")
        .and_then(|n| n.trim().parse::<f64>().ok());
    let mut inc = base(IncidentKind::LockWait, l);
    inc.acquired = acquired;
    inc.wait_ms = ms;
    inc.lock = Some(lock_name(&what[..after]));
    if let Some(d) = l.detail {
        inc.others = holders(d)
            .into_iter()
            .map(|pid| OtherProcess {
                pid,
                statement: None,
            })
            .collect();
    }
    inc.relation = relation(l);
    Some(inc)
}

fn base(kind: IncidentKind, l: &Logged<'_>) -> Incident {
    let own = |s: Option<&str>| {
        s.filter(|v| !v.is_empty() && *v != "[unknown]")
            .map(str::to_string)
    };
    let mut example = l.message.to_string();
    for (label, part) in [("DETAIL", l.detail), ("CONTEXT", l.context)] {
        if let Some(p) = part {
            example.push_str(&format!("\n{label}: {p}"));
        }
    }
    Incident {
        kind,
        at: l.at,
        wait_ms: None,
        acquired: false,
        lock: None,
        relation: None,
        foreign_key_check: l.context.is_some_and(crate::sql::is_foreign_key_check),
        statement: own(l.statement),
        pid: l.pid,
        database: own(l.database),
        user: own(l.user),
        application: own(l.application),
        others: Vec::new(),
        example: cut(&example, MAX_EXAMPLE),
    }
}

/// The table: named by the CONTEXT (`… in relation "stock_quant"`, or the foreign key
/// check's `FROM ONLY "public"."account_move"`), else the statement's target table.
fn relation(l: &Logged<'_>) -> Option<String> {
    if let Some(c) = l.context {
        if let Some(i) = c.find(" relation \"") {
            let rest = &c[i + 11..];
            if let Some(end) = rest.find('"') {
                return Some(rest[..end].to_string());
            }
        }
        if let Some(i) = c.find("FROM ONLY ") {
            if let Some(t) = super::target::target_table(&format!("SELECT 1 {}", &c[i..])) {
                return Some(t);
            }
        }
    }
    l.statement.and_then(super::target::target_table)
}

/// `ShareLock on transaction 456` → `ShareLock on transaction`; `ExclusiveLock on tuple
/// (0,5) of relation 16390 of database 5` → `ExclusiveLock on tuple`.
fn lock_name(s: &str) -> String {
    let words: Vec<&str> = s
        .split_whitespace()
        .take_while(|w| {
            !w.starts_with(|c: char| c.is_ascii_digit() || c == '(' || c == '[') && *w != "of"
        })
        .collect();
    words.join(" ")
}

/// A deadlock's DETAIL: `Process 1 waits for ShareLock on transaction 9; blocked by
/// process 2.` lines, then `Process 1: <statement>` (statements may span lines). Gives
/// the lock the logging process waited for and the other processes with their
/// statements.
fn deadlock_detail(d: &str, own: Option<i32>) -> (Option<String>, Vec<OtherProcess>) {
    let mut own_lock = None;
    let mut others: Vec<OtherProcess> = Vec::new();
    let mut current: Option<(i32, String)> = None;
    let finish = |cur: Option<(i32, String)>, others: &mut Vec<OtherProcess>| {
        if let Some((pid, text)) = cur {
            if Some(pid) != own {
                let text = text.trim().to_string();
                match others.iter_mut().find(|o| o.pid == pid) {
                    Some(o) => o.statement = Some(text),
                    None => others.push(OtherProcess {
                        pid,
                        statement: Some(text),
                    }),
                }
            }
        }
    };
    for line in d.lines() {
        if let Some(rest) = line.strip_prefix("Process ") {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(pid) = digits.parse::<i32>() {
                let after = &rest[digits.len()..];
                if let Some(w) = after.strip_prefix(" waits for ") {
                    finish(current.take(), &mut others);
                    if Some(pid) == own {
                        own_lock = Some(lock_name(w.split(';').next().unwrap_or(w)));
                    } else if !others.iter().any(|o| o.pid == pid) {
                        others.push(OtherProcess {
                            pid,
                            statement: None,
                        });
                    }
                    continue;
                }
                if let Some(stmt) = after.strip_prefix(": ") {
                    finish(current.take(), &mut others);
                    current = Some((pid, stmt.to_string()));
                    continue;
                }
            }
        }
        if let Some((_, text)) = current.as_mut() {
            text.push('\n');
            text.push_str(line);
        }
    }
    finish(current.take(), &mut others);
    (own_lock, others)
}

/// `Process holding the lock: 123. Wait queue: 456.` / `Processes holding the lock:
/// 1, 2. Wait queue: …` → the holders' pids.
fn holders(d: &str) -> Vec<i32> {
    let Some(i) = d.find("holding the lock: ") else {
        return Vec::new();
    };
    let rest = &d[i + 18..];
    let end = rest.find('.').unwrap_or(rest.len());
    rest[..end]
        .split(',')
        .filter_map(|p| p.trim().parse().ok())
        .collect()
}

/// `s` cut to at most `max` bytes at a character boundary, with `…` when cut.
pub(crate) fn cut(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadlock_names_the_other_process_and_its_statement() {
        let detail = "Process 11 waits for ShareLock on transaction 801; blocked by process 12.\n\
Process 12 waits for ShareLock on transaction 800; blocked by process 11.\n\
Process 11: UPDATE stock_quant SET quantity = 1 WHERE id = 2\n\
Process 12: UPDATE stock_quant\n   SET quantity = 3 WHERE id = 1";
        let (lock, others) = deadlock_detail(detail, Some(11));
        assert_eq!(lock.as_deref(), Some("ShareLock on transaction"));
        assert_eq!(
            others,
            vec![OtherProcess {
                pid: 12,
                statement: Some("UPDATE stock_quant\n   SET quantity = 3 WHERE id = 1".into())
            }]
        );
    }

    #[test]
    fn a_lock_wait_gives_its_time_lock_and_holders() {
        let l = Logged {
            message: "process 42 still waiting for ShareLock on transaction 7 after 1000.123 ms",
            detail: Some("Process holding the lock: 41. Wait queue: 42, 43."),
            context: Some("while updating tuple (0,5) in relation \"stock_quant\""),
            statement: Some("UPDATE stock_quant SET quantity = 0 WHERE id = 5"),
            ..Logged::default()
        };
        let inc = lock_wait(&l).expect("a lock wait");
        assert_eq!(inc.wait_ms, Some(1000.123));
        assert!(!inc.acquired);
        assert_eq!(inc.lock.as_deref(), Some("ShareLock on transaction"));
        assert_eq!(inc.relation.as_deref(), Some("stock_quant"));
        assert_eq!(inc.others.len(), 1);
        assert_eq!(inc.others[0].pid, 41);
        let rel = Logged {
            message: "process 42 acquired AccessExclusiveLock on relation 16390 of database 5 after 20.5 ms",
            statement: Some("ALTER TABLE account_move ADD COLUMN x int"),
            ..Logged::default()
        };
        let inc = lock_wait(&rel).expect("an acquired lock");
        assert!(inc.acquired);
        assert_eq!(inc.lock.as_deref(), Some("AccessExclusiveLock on relation"));
        assert_eq!(inc.relation.as_deref(), Some("account_move"));
    }

    #[test]
    fn only_conflict_errors_are_incidents() {
        assert_eq!(
            error_kind("could not serialize access due to concurrent update"),
            Some(IncidentKind::SerializationFailure)
        );
        assert_eq!(
            error_kind("canceling statement due to lock timeout"),
            Some(IncidentKind::LockTimeout)
        );
        assert_eq!(
            error_kind("canceling statement due to statement timeout"),
            None
        );
        assert_eq!(error_kind("division by zero"), None);
        let fk = Logged {
            message: "deadlock detected",
            context: Some("SQL statement \"SELECT 1 FROM ONLY \"public\".\"account_move\" x WHERE \"id\" OPERATOR(pg_catalog.=) $1 FOR KEY SHARE OF x\""),
            statement: Some("INSERT INTO account_move_line (move_id) VALUES (1)"),
            ..Logged::default()
        };
        let fk = error(&fk).expect("a deadlock");
        assert!(fk.foreign_key_check);
        assert_eq!(fk.relation.as_deref(), Some("account_move"));
    }
}
