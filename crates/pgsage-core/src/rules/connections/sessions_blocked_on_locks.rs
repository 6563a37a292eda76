use std::collections::{BTreeMap, BTreeSet};

use crate::report::{ObjectRef, Severity};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::LockWait;
use crate::units;

use super::common::{age, describe};

declare_rule! {
    /// ## What it detects
    /// Sessions waiting for a lock (`pg_locks` not granted, with `pg_blocking_pids`), the
    /// chain of who waits for whom, and at its end the **root blocker**: a session that
    /// holds others up without waiting itself. One finding per root blocker whose
    /// longest-waiting session has waited (been in its statement) for at least
    /// `min_wait_seconds`, with the number of sessions waiting on it directly or
    /// transitively, the relations involved, and what the root is doing.
    ///
    /// ## Why it matters
    /// Lock queues are first-come first-served: a session waiting for an `ACCESS
    /// EXCLUSIVE` lock (an `ALTER TABLE`, a `VACUUM FULL`) behind a long transaction
    /// makes every later reader of the table wait too, so one forgotten transaction can
    /// stop an application. Waiting sessions also keep their connections busy, which is
    /// how a lock problem becomes a "too many connections" outage.
    ///
    /// ## How to fix
    /// Look at the root blocker (its query, how long its transaction has been open,
    /// whether it is idle in transaction): end it if it is stuck
    /// (`pg_terminate_backend`), or fix the application so it does not hold locks while
    /// waiting for something else. Run DDL with a `lock_timeout` (and retry) so it cannot
    /// queue others behind it, and set `log_lock_waits = on` to see waits longer than
    /// `deadlock_timeout` in the log.
    ///
    /// ## Thresholds
    /// - `min_wait_seconds` (default 30): the longest waiter must have waited this long.
    /// - `critical_wait_seconds` (default 300): a wait this long is critical.
    /// - `critical_waiters` (default 5): this many sessions waiting on one root is critical.
    ///
    /// The wait is measured from the waiter's `query_start` (the wait began after it).
    /// Collected by a role without `pg_monitor`, other roles' `query_start` is hidden: when
    /// no chain can be judged because of that, the rule is skipped with the reason.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/view-pg-locks.html>
    /// - <https://www.postgresql.org/docs/current/functions-info.html#FUNCTIONS-INFO-SESSION> (`pg_blocking_pids`)
    /// - <https://www.postgresql.org/docs/current/explicit-locking.html>
    /// - <https://www.postgresql.org/docs/current/runtime-config-logging.html#GUC-LOG-LOCK-WAITS>
    pub struct SessionsBlockedOnLocks {
        id: "CON007",
        name: "sessions-blocked-on-locks",
        pack: "connections",
        title: "Sessions waiting on locks",
        params: {
            min_wait_seconds: f64 = ("s", "The longest waiter must have waited this many seconds"),
            critical_wait_seconds: f64 = ("s", "A wait this many seconds long is critical"),
            critical_waiters: f64 = ("sessions", "This many sessions waiting on one root blocker is critical"),
        },
    }
}

/// For each root blocker (a pid that blocks others and waits for no one), the pids that
/// wait on it directly or through others. Cycles (deadlocks about to be detected) end at
/// the first pid seen twice.
fn roots(waits: &[LockWait]) -> BTreeMap<i32, BTreeSet<i32>> {
    let mut blockers: BTreeMap<i32, BTreeSet<i32>> = BTreeMap::new();
    for w in waits {
        blockers
            .entry(w.blocked_pid)
            .or_default()
            .insert(w.blocking_pid);
    }
    let mut out: BTreeMap<i32, BTreeSet<i32>> = BTreeMap::new();
    for &waiter in blockers.keys() {
        let mut seen = BTreeSet::from([waiter]);
        let mut stack: Vec<i32> = blockers[&waiter].iter().copied().collect();
        while let Some(pid) = stack.pop() {
            if !seen.insert(pid) {
                continue;
            }
            match blockers.get(&pid) {
                Some(next) => stack.extend(next.iter().copied()),
                None => {
                    out.entry(pid).or_default().insert(waiter);
                }
            }
        }
    }
    out
}

impl SnapshotRule for SessionsBlockedOnLocks {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min_wait = p.min_wait_seconds;
        let critical_wait = p.critical_wait_seconds;
        let critical_waiters = p.critical_waiters;
        let snap = ctx.snapshot;
        super::common::require_activity(snap)?;
        if let Some(gap) = snap.gap("pg_locks") {
            return Err(Skip::because(format!(
                "lock waits not collected: {}",
                gap.why
            )));
        }
        let backend = |pid: i32| snap.activity.iter().find(|b| b.pid == pid);
        let mut drafts = Vec::new();
        // Waiters of other roles whose wait is hidden (collected without pg_monitor):
        // pg_locks shows them, pg_stat_activity hides since when they wait.
        let mut unjudged = 0;
        for (root, waiters) in roots(&snap.lock_waits) {
            let longest = waiters
                .iter()
                .filter_map(|&p| backend(p).and_then(|b| age(snap, b.query_start)))
                .fold(0.0_f64, f64::max);
            if longest < min_wait {
                if waiters
                    .iter()
                    .any(|&p| backend(p).is_none_or(|b| b.query_start.is_none()))
                {
                    unjudged += waiters.len();
                }
                continue;
            }
            let relations: BTreeSet<&str> = snap
                .lock_waits
                .iter()
                .filter(|w| waiters.contains(&w.blocked_pid))
                .filter_map(|w| w.relation.as_deref())
                .collect();
            let root_b = backend(root);
            let db = root_b
                .and_then(|b| b.database.clone())
                .or_else(|| {
                    waiters
                        .iter()
                        .find_map(|&p| backend(p).and_then(|b| b.database.clone()))
                })
                .unwrap_or_else(|| snap.server.database.clone());
            let root_desc = match root_b {
                Some(b) => format!(
                    "{}, {}{}",
                    describe(b),
                    b.state.as_deref().unwrap_or("unknown state"),
                    age(snap, b.xact_start).map_or(String::new(), |x| format!(
                        ", in a transaction open for {}",
                        units::duration(x)
                    ))
                ),
                None if root == 0 => "a prepared transaction".to_owned(),
                None => format!("pid {root}"),
            };
            let critical = longest >= critical_wait || waiters.len() as f64 >= critical_waiters;
            let mut draft = Draft::new(
                ObjectRef::database(&db),
                format!(
                    "{} session(s) in `{db}` wait for locks held by {root_desc}; the longest has waited up to {}{}",
                    waiters.len(),
                    units::duration(longest),
                    if relations.is_empty() {
                        String::new()
                    } else {
                        format!(
                            " on {}",
                            relations
                                .iter()
                                .map(|r| format!("`{r}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                ),
            )
            .evidence("root_blocker_pid", root)
            .evidence("waiting_sessions", waiters.len())
            .evidence("waiting_pids", waiters.iter().copied().collect::<Vec<_>>())
            .evidence("longest_wait_s", longest.round())
            .evidence("relations", relations.iter().copied().collect::<Vec<_>>())
            .recommend(
                "Check what the root blocker is doing (query, transaction age, idle in transaction?) and end it if it is stuck; make DDL use a lock_timeout and retry; turn on log_lock_waits to catch these waits in the log",
            );
            if let Some(b) = root_b {
                if let Some(state) = &b.state {
                    draft = draft.evidence("root_blocker_state", state.as_str());
                }
                if let Some(x) = age(snap, b.xact_start) {
                    draft = draft.evidence("root_blocker_transaction_s", x.round());
                }
                if let Some(q) = b.query.as_deref().filter(|q| !q.is_empty()) {
                    draft = draft.evidence("root_blocker_query", q);
                }
            }
            if root > 0 {
                draft = draft.fix(
                    format!(
                        "-- after checking what it is doing:\nSELECT pg_terminate_backend({root});"
                    ),
                    "none",
                    "pg_locks for ungranted locks; the waiting sessions should proceed",
                );
            }
            if critical {
                draft = draft.severity(Severity::Critical);
            }
            drafts.push(draft);
        }
        if drafts.is_empty() && unjudged > 0 && !snap.server.can_read_all_stats {
            return Err(Skip::because(format!(
                "{unjudged} session(s) wait for locks, but how long they have waited is hidden from the collecting role (their sessions belong to other roles): collect as a role with pg_monitor (or pg_read_all_stats)"
            )));
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{assert_fires, assert_quiet};

    fn wait(blocked: i32, blocking: i32) -> LockWait {
        LockWait {
            blocked_pid: blocked,
            blocking_pid: blocking,
            locktype: Some("relation".into()),
            mode: Some("AccessShareLock".into()),
            relation: Some("public.t".into()),
        }
    }

    #[test]
    fn follows_chains_to_the_root() {
        // 3 waits for 2, which waits for 1; 4 waits for 1 directly.
        let r = roots(&[wait(3, 2), wait(2, 1), wait(4, 1)]);
        assert_eq!(r.len(), 1);
        assert_eq!(r[&1], BTreeSet::from([2, 3, 4]));
    }

    #[test]
    fn survives_cycles() {
        let r = roots(&[wait(1, 2), wait(2, 1)]);
        assert!(r.is_empty());
    }

    #[test]
    fn fires_on_a_blocking_chain() {
        let f = assert_fires("CON007", "scenario");
        assert!(f[0].evidence["waiting_sessions"].as_u64().unwrap_or(0) >= 2);
    }

    #[test]
    fn quiet_without_lock_waits() {
        assert_quiet("CON007");
    }
}
