use crate::report::Severity;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, Skip, WorkloadContext, WorkloadRule};
use crate::workload::incidents::IncidentKind;

use super::{by_table, capture_hours, evidence, from_log, rate_text};

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
        let mut out = Vec::new();
        for t in by_table(w, &[IncidentKind::Deadlock]) {
            let count = t.count(IncidentKind::Deadlock);
            if (count as f64) < p.min_count || count == 0 {
                continue;
            }
            let per_hour = count as f64 / capture_hours(w);
            let label = t.label();
            let ops = t.operations();
            let erp = ops.as_ref().and_then(|o| o.sentence(&label, "write"));
            let stmts = t.statements(3);
            let between = match stmts.as_slice() {
                [one] => format!("between two runs of {one}"),
                many => format!("between {}", many.join(" and ")),
            };
            let mut message = format!(
                "{} on {label}{} {between}",
                crate::units::counted(count, "deadlock", "deadlocks"),
                rate_text(count, w),
            );
            if let Some(s) = &erp {
                message.push_str(&format!(": {s}"));
            }
            let mut rec = String::from(
                "Make the transactions that write these rows take them in one order (lock them up front with SELECT … ORDER BY id FOR UPDATE), keep them short, and index the foreign keys their statements check",
            );
            if ops.as_ref().is_some_and(|o| o.cron() || o.odoo) {
                rec.push_str(
                    "; ERP side: move the cron job out of the interactive peak, give it smaller batches committed one by one, or run the work as queue_job jobs that retry on concurrency errors",
                );
            }
            let severity = if per_hour >= p.warning_per_hour {
                Severity::Warning
            } else {
                Severity::Info
            };
            let d = Draft::new(t.object(), message)
                .evidence("deadlocks", count)
                .severity(severity)
                .recommend(rec);
            out.push(evidence(d, &t, w, per_hour));
        }
        Ok(out)
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
