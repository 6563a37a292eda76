use crate::rules::macros::declare_rule;
use crate::rules::{Draft, Skip, WorkloadContext, WorkloadRule};
use crate::workload::incidents::IncidentKind;

use super::{from_log, RateRule};

declare_rule! {
    /// ## What it detects
    /// `ERROR: deadlock detected` (SQLSTATE 40P01) in the server log, per table (the
    /// CONTEXT's relation, or the statement's target table), with the statements of
    /// both processes (the DETAIL prints them) and — when the statements are Odoo's —
    /// which ERP operations collide: the cron worker (the application that picks its
    /// jobs from `ir_cron`) or interactive requests. That attribution is inferred from
    /// the applications, and the finding says so.
    ///
    /// ## Why it matters
    /// A deadlock costs `deadlock_timeout` of waiting and then one transaction's whole
    /// work: PostgreSQL rolls back the victim. An ERP retries an interactive request
    /// (Odoo up to five times), but a cron batch is lost and runs again at its next
    /// call, and every retry holds the same rows again while users wait. Repeated
    /// deadlocks on the same rows mean two code paths take them in opposite orders.
    ///
    /// ## How to fix
    /// Database side: make every transaction that writes these rows take them in one
    /// order (lock them up front: `SELECT … ORDER BY id FOR UPDATE`), keep the
    /// transactions short, and index the foreign keys the statements check (an
    /// unindexed referencing column makes a parent row's update or delete scan and hold
    /// its locks longer). Keep `log_lock_waits = on` to see the waits that precede them.
    ///
    /// ERP side: move the cron job out of the interactive peak (its interval and next
    /// call), make it process smaller batches and commit per batch, or run the work as
    /// `queue_job` jobs that retry on concurrency errors.
    ///
    /// ## Thresholds
    /// - `min_count` (default 1): deadlocks on a table over the capture to report.
    /// - `warning_per_hour` (default 2): from this many per hour of log (a capture
    ///   shorter than an hour counts as one) it is a warning; fewer is information — one
    ///   deadlock in a day is not a problem to chase.
    ///
    /// Log captures only (`pgsage workload <logs>`); skipped on pg_stat_statements.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-DEADLOCKS>
    /// - <https://www.postgresql.org/docs/current/runtime-config-locks.html#GUC-DEADLOCK-TIMEOUT>
    /// - <https://www.postgresql.org/docs/current/runtime-config-logging.html#GUC-LOG-LOCK-WAITS>
    pub struct Deadlocks {
        id: "LCK002",
        name: "deadlocks",
        pack: "locks",
        title: "Deadlocks in the server log",
        params: {
            min_count: f64 = ("deadlocks", "Deadlocks on a table over the capture to report"),
            warning_per_hour: f64 = ("deadlocks/h", "From this many per hour of log it is a warning"),
        },
    }
}

impl WorkloadRule for Deadlocks {
    fn meta(&self) -> &'static crate::rules::RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &WorkloadContext<'_>) -> Result<Vec<Draft>, Skip> {
        let w = ctx.workload;
        from_log(w)?;
        let p: Params = ctx.params()?;
        Ok(RateRule {
            kind: IncidentKind::Deadlock,
            noun: ("deadlock", "deadlocks"),
            key: "deadlocks",
            verb: "write",
            fix: "Make the transactions that write these rows take them in one order (lock them up front with SELECT … ORDER BY id FOR UPDATE), keep them short, and index the foreign keys their statements check",
            erp_fix: "move the cron job out of the interactive peak, give it smaller batches committed one by one, or run the work as queue_job jobs that retry on concurrency errors",
        }
        .findings(w, p.min_count, p.warning_per_hour))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::{findings, majors, workloads};
    use crate::report::Severity;

    #[test]
    fn fires_on_the_captured_deadlocks_naming_cron_and_order_entry() {
        for major in majors() {
            for (format, w) in workloads(major, "conflicts") {
                let f = findings(&w, "LCK002");
                let quant = f
                    .iter()
                    .find(|f| f.object.name == "stock_quant")
                    .unwrap_or_else(|| panic!("pg{major} {format}: {f:#?}"));
                // Three in a capture of seconds: three per hour, past the warning rate.
                assert_eq!(quant.severity, Severity::Warning, "pg{major} {format}");
                assert!(
                    quant
                        .message
                        .contains("cron worker and interactive requests")
                        && quant.message.contains("inferred"),
                    "pg{major} {format}: {}",
                    quant.message
                );
                let line = f
                    .iter()
                    .find(|f| f.object.name == "account_move_line")
                    .unwrap_or_else(|| panic!("pg{major} {format}: {f:#?}"));
                assert_eq!(line.severity, Severity::Info, "pg{major} {format}");
            }
        }
    }

    #[test]
    fn quiet_on_the_healthy_twin() {
        for major in majors() {
            for (format, w) in workloads(major, "healthy") {
                assert!(findings(&w, "LCK002").is_empty(), "pg{major} {format}");
            }
        }
    }
}
