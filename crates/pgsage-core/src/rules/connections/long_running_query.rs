use crate::report::{ObjectRef, Severity};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::Backend;
use crate::units;

use super::common::{age, by_database, clients, describe};

declare_rule! {
    /// ## What it detects
    /// Client sessions running a statement, or inside a transaction, for at least
    /// `min_age_seconds` (the older of `query_start` and `xact_start`), one finding per
    /// database with the longest one. Only active client backends count: autovacuum
    /// workers, walsenders and other background processes are not client backends,
    /// pgsage's own session is left out, sessions idle in a transaction are reported by
    /// CON004 and sessions waiting for a lock by CON007.
    ///
    /// ## Why it matters
    /// A long statement or transaction holds its snapshot and locks for its whole
    /// duration: vacuum cannot clean rows that died after it started (in every table of
    /// the database), DDL queues behind it, and the rows it reads keep changing under
    /// it. On an OLTP/ERP server a statement that runs for many minutes is usually a
    /// report or batch with a bad plan, or one that should run on a replica.
    ///
    /// ## How to fix
    /// Look at the query (`pg_stat_activity.query`, `EXPLAIN`): fix its plan (index,
    /// statistics) or move it to a replica or a quieter time; split long batches into
    /// shorter transactions. Give application roles a `statement_timeout`
    /// (`ALTER ROLE … SET statement_timeout = …`) so runaway statements end by
    /// themselves, and cancel the session if it harms others.
    ///
    /// ## Thresholds
    /// - `min_age_seconds` (default 300): running this long is flagged.
    /// - `critical_age_seconds` (default 3600): this long is critical.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ACTIVITY-VIEW>
    /// - <https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-STATEMENT-TIMEOUT>
    /// - <https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADMIN-SIGNAL>
    pub struct LongRunningQuery {
        id: "CON005",
        name: "long-running-query",
        pack: "connections",
        title: "Long-running statements or transactions",
        params: {
            min_age_seconds: f64 = ("s", "Statements or transactions running this many seconds are flagged"),
            critical_age_seconds: f64 = ("s", "Running this many seconds is critical"),
        },
    }
}

/// Whether `b` runs a statement and is not waiting for a lock.
fn is_running(b: &Backend) -> bool {
    matches!(
        b.state.as_deref(),
        Some("active") | Some("fastpath function call")
    ) && b.wait_event_type.as_deref() != Some("Lock")
}

impl SnapshotRule for LongRunningQuery {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min_age = p.min_age_seconds;
        let critical_age = p.critical_age_seconds;
        let snap = ctx.snapshot;
        super::common::require_session_states(snap)?;
        let long: Vec<_> = clients(snap)
            .into_iter()
            .filter(|b| is_running(b))
            .filter_map(|b| {
                let q = age(snap, b.query_start).unwrap_or(0.0);
                let x = age(snap, b.xact_start).unwrap_or(0.0);
                (q.max(x) >= min_age).then_some((b.database.as_deref(), (b, q, x)))
            })
            .collect();
        let mut drafts = Vec::new();
        for (db, mut sessions) in by_database(long) {
            sessions.sort_by(|a, b| b.1.max(b.2).total_cmp(&a.1.max(a.2)));
            let (top, q, x) = sessions[0];
            let longest = q.max(x);
            let pids: Vec<i32> = sessions.iter().map(|s| s.0.pid).collect();
            let mut draft = Draft::new(
                ObjectRef::database(&db),
                format!(
                    "{} session(s) in `{db}` have run for {} or more; the longest, {}, has run its statement for {} in a transaction open for {}",
                    sessions.len(),
                    units::duration(min_age),
                    describe(top),
                    units::duration(q),
                    units::duration(x)
                ),
            )
            .evidence("sessions", sessions.len())
            .evidence("pids", pids.clone())
            .evidence("longest_pid", top.pid)
            .evidence("longest_query_s", q.round())
            .evidence("longest_transaction_s", x.round())
            .recommend(
                "Check the statement's plan (EXPLAIN) and whether it belongs on a replica or in shorter transactions; give application roles a statement_timeout; cancel the session if it blocks others or holds the xmin horizon back",
            )
            .fix(
                format!(
                    "-- cancels the statement, keeping the session (pg_terminate_backend ends it):\n{}",
                    pids.iter()
                        .map(|p| format!("SELECT pg_cancel_backend({p});"))
                        .collect::<Vec<_>>()
                        .join("\n")
                ),
                "none",
                "pg_stat_activity for statements older than the threshold",
            );
            if let Some(xmin) = top.backend_xmin_age {
                draft = draft.evidence("longest_xmin_age", xmin);
            }
            if let Some(query) = top.query.as_deref().filter(|q| !q.is_empty()) {
                draft = draft.evidence("longest_query", query);
            }
            if longest >= critical_age {
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
    fn fires_on_a_long_statement() {
        let f = assert_fires("CON005", "scenario");
        assert!(f[0].evidence.contains_key("longest_query_s"));
    }

    #[test]
    fn quiet_without_long_statements() {
        assert_quiet("CON005");
    }
}
