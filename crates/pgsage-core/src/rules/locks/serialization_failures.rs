use crate::rules::macros::declare_rule;
use crate::rules::{Draft, Skip, WorkloadContext, WorkloadRule};
use crate::workload::incidents::IncidentKind;

use super::{from_log, RateRule};

declare_rule! {
    /// ## What it detects
    /// `ERROR: could not serialize access due to concurrent update` (REPEATABLE READ)
    /// and `… due to read/write dependencies among transactions` (SERIALIZABLE),
    /// SQLSTATE 40001, in the server log, per table (the CONTEXT's relation, or the
    /// failing statement's target table; a failure at `COMMIT` names none), with the
    /// statements and — when they are Odoo's — the ERP operations involved (the cron
    /// worker or interactive requests, inferred from the applications).
    ///
    /// ## Why it matters
    /// A serialization failure throws away the transaction's work; the application must
    /// run it again. Odoo runs every request in REPEATABLE READ and retries these
    /// failures itself (up to five times, then the user gets an error), so a few are
    /// normal — many mean two operations keep updating the same rows at the same time,
    /// and every retry adds load and latency at the worst moment.
    ///
    /// ## How to fix
    /// Database side: retry the transaction on SQLSTATE 40001 (every client of a
    /// REPEATABLE READ or SERIALIZABLE database must), keep those transactions short,
    /// update the hot rows last, and give SERIALIZABLE reads an index (a sequential scan
    /// takes a predicate lock on the whole table, so unrelated rows conflict).
    ///
    /// ERP side: move the cron job that updates these rows out of the interactive peak,
    /// make its batches smaller, or run the work as `queue_job` jobs that retry on
    /// concurrency errors (`RetryableJobError`).
    ///
    /// ## Thresholds
    /// - `min_count` (default 1): failures on a table over the capture to report.
    /// - `warning_per_hour` (default 10): from this many per hour of log (a capture
    ///   shorter than an hour counts as one) it is a warning; fewer is information.
    ///
    /// Log captures only (`pgsage workload <logs>`); skipped on pg_stat_statements.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/transaction-iso.html>
    /// - <https://www.postgresql.org/docs/current/mvcc-serialization-failure-handling.html>
    pub struct SerializationFailures {
        id: "LCK001",
        name: "serialization-failures",
        pack: "locks",
        title: "Serialization failures in the server log",
        params: {
            min_count: f64 = ("failures", "Serialization failures on a table over the capture to report"),
            warning_per_hour: f64 = ("failures/h", "From this many per hour of log it is a warning"),
        },
    }
}

impl WorkloadRule for SerializationFailures {
    fn meta(&self) -> &'static crate::rules::RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &WorkloadContext<'_>) -> Result<Vec<Draft>, Skip> {
        let w = ctx.workload;
        from_log(w)?;
        let p: Params = ctx.params()?;
        Ok(RateRule {
            kind: IncidentKind::SerializationFailure,
            noun: ("serialization failure", "serialization failures"),
            key: "serialization_failures",
            verb: "update",
            fix: "Retry the transaction on SQLSTATE 40001, keep REPEATABLE READ/SERIALIZABLE transactions short and update the hot rows last; give SERIALIZABLE reads an index so their predicate locks stay narrow",
            erp_fix: "move the cron job that updates these rows out of the interactive peak, make its batches smaller, or run it as queue_job jobs that retry on concurrency errors",
        }
        .findings(w, p.min_count, p.warning_per_hour))
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::{findings, majors, manifest, workloads};
    use crate::report::Severity;

    #[test]
    fn fires_on_the_captured_failures_per_table() {
        for major in majors() {
            let planted =
                &manifest(major)["captures"]["conflicts"]["planted"]["serialization_failure"];
            for (format, w) in workloads(major, "conflicts") {
                let f = findings(&w, "LCK001");
                for (table, n) in planted.as_object().expect("planted") {
                    // A failure at COMMIT names no table.
                    let name = if table.is_empty() {
                        "unknown table"
                    } else {
                        table
                    };
                    let found = f
                        .iter()
                        .find(|f| f.object.name == name)
                        .unwrap_or_else(|| panic!("pg{major} {format} {table}: {f:#?}"));
                    assert_eq!(
                        found.evidence["serialization_failures"], *n,
                        "pg{major} {format} {table}"
                    );
                    // A few per hour: information, not a warning.
                    assert_eq!(found.severity, Severity::Info);
                }
            }
        }
    }

    #[test]
    fn quiet_on_the_healthy_twin() {
        for major in majors() {
            for (format, w) in workloads(major, "healthy") {
                assert!(findings(&w, "LCK001").is_empty(), "pg{major} {format}");
            }
        }
    }
}
