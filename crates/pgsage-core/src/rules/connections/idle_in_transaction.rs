use crate::report::{ObjectRef, Severity};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::units;

use super::common::{age, by_database, clients, describe, is_idle_in_transaction};

declare_rule! {
    /// ## What it detects
    /// Sessions idle inside an open transaction (`state = 'idle in transaction'`, aborted
    /// or not) for at least `min_age_seconds` since their last statement
    /// (`state_change`), one finding per database, with the oldest session, how long its
    /// transaction has been open and the age of the xmin horizon it holds back
    /// (`backend_xmin_age`). pgsage's own session is left out.
    ///
    /// ## Why it matters
    /// An open transaction keeps its locks until it ends, so DDL, `VACUUM FULL`,
    /// `REINDEX` and anything queued behind them wait; and it keeps its snapshot, so
    /// vacuum cannot remove rows that died after it began, in every table of the
    /// database: bloat grows and index-only scans degrade for as long as it stays open.
    /// The usual cause is an application that begins a transaction and then waits for
    /// something else (a user, a remote call), or a connection pool that returned a
    /// connection without committing.
    ///
    /// ## How to fix
    /// Find the code path from the session's application and last query, and make it
    /// commit or roll back. Set `idle_in_transaction_session_timeout` (globally or for the
    /// application's role) so forgotten transactions end by themselves; terminate the
    /// session now if it blocks others or its xmin age keeps growing.
    ///
    /// ## Thresholds
    /// - `min_age_seconds` (default 300): idle in transaction this long is flagged.
    /// - `critical_age_seconds` (default 3600): this long is critical.
    /// - `critical_xmin_age` (default 10000000): a held-back xmin this many transactions
    ///   old is critical.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ACTIVITY-VIEW>
    /// - <https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-IDLE-IN-TRANSACTION-SESSION-TIMEOUT>
    /// - <https://www.postgresql.org/docs/current/routine-vacuuming.html>
    pub struct IdleInTransaction {
        id: "CON004",
        name: "idle-in-transaction",
        pack: "connections",
        title: "Sessions idle in an open transaction",
        params: {
            min_age_seconds: f64 = ("s", "Idle in transaction this many seconds is flagged"),
            critical_age_seconds: f64 = ("s", "Idle in transaction this many seconds is critical"),
            critical_xmin_age: f64 = ("transactions", "Held-back xmin age (transactions) that is critical"),
        },
    }
}

impl SnapshotRule for IdleInTransaction {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min_age = p.min_age_seconds;
        let critical_age = p.critical_age_seconds;
        let critical_xmin = p.critical_xmin_age;
        let snap = ctx.snapshot;
        super::common::require_session_states(snap)?;
        let idle: Vec<_> = clients(snap)
            .into_iter()
            .filter(|b| is_idle_in_transaction(b))
            .filter_map(|b| {
                let idle_s = age(snap, b.state_change)?;
                (idle_s >= min_age).then_some((b.database.as_deref(), (b, idle_s)))
            })
            .collect();
        let mut drafts = Vec::new();
        for (db, mut sessions) in by_database(idle) {
            sessions.sort_by(|a, b| b.1.total_cmp(&a.1));
            let (oldest, idle_s) = sessions[0];
            let xact_s = age(snap, oldest.xact_start).unwrap_or(idle_s);
            let max_xmin = sessions
                .iter()
                .filter_map(|(b, _)| b.backend_xmin_age.or(b.backend_xid_age))
                .max();
            let critical =
                idle_s >= critical_age || max_xmin.is_some_and(|x| x as f64 >= critical_xmin);
            let pids: Vec<i32> = sessions.iter().map(|(b, _)| b.pid).collect();
            let mut draft = Draft::new(
                ObjectRef::database(&db),
                format!(
                    "{} session(s) in `{db}` idle in an open transaction; the oldest, {}, has been idle for {} in a transaction open for {}{}",
                    units::count(sessions.len()),
                    describe(oldest),
                    units::duration(idle_s),
                    units::duration(xact_s),
                    max_xmin.map_or(String::new(), |x| format!(", holding back the xmin horizon by {} transactions", units::count(x)))
                ),
            )
            .evidence("sessions", sessions.len())
            .evidence("pids", pids.clone())
            .evidence("oldest_pid", oldest.pid)
            .evidence("oldest_idle_s", idle_s.round())
            .evidence("oldest_transaction_s", xact_s.round())
            .recommend(
                "Make the application commit or roll back (see its application name and last query); set idle_in_transaction_session_timeout for its role (or globally) so forgotten transactions end by themselves; terminate the sessions if they block others or hold the xmin horizon back",
            )
            .fix(
                format!(
                    "-- after checking with the application's owners:\n{}",
                    pids.iter()
                        .map(|p| format!("SELECT pg_terminate_backend({p});"))
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
                "none",
                "pg_stat_activity for sessions idle in transaction, and n_dead_tup falling after the next autovacuum",
            );
            if let Some(x) = max_xmin {
                draft = draft.evidence("max_xmin_age", x);
            }
            if let Some(q) = oldest.query.as_deref().filter(|q| !q.is_empty()) {
                draft = draft.evidence("oldest_last_query", q);
            }
            if critical {
                draft = draft.severity(Severity::Critical);
            }
            drafts.push(draft);
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_a_forgotten_transaction() {
        let f = assert_fires("CON004", "scenario");
        assert!(f[0].evidence.contains_key("oldest_idle_s"));
    }

    #[test]
    fn quiet_without_open_transactions() {
        assert_quiet("CON004");
    }
}
