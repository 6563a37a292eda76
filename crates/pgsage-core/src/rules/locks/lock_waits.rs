use crate::report::Severity;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, Skip, WorkloadContext, WorkloadRule};
use crate::sql::{quote_ident, quote_literal};
use crate::units;
use crate::workload::incidents::IncidentKind;

use super::{by_table, capture_hours, evidence, from_log};

declare_rule! {
    /// ## What it detects
    /// Lock waits the server logged (`log_lock_waits`: `process N still waiting for
    /// ShareLock on transaction M after 1000.1 ms`, then `acquired … after …`) and
    /// statements cancelled by `lock_timeout` (`canceling statement due to lock
    /// timeout`, SQLSTATE 55P03), per table (the CONTEXT's `while updating tuple … in
    /// relation "…"`, or the statement's target table), with the time waited, the
    /// statements, the processes holding the lock, and — when the statements are Odoo's
    /// — which ERP operations collide (the cron worker vs interactive requests,
    /// inferred from the applications).
    ///
    /// ## Why it matters
    /// Every logged wait lasted longer than `deadlock_timeout` (1 s by default): a user
    /// request stood still for that long behind another transaction holding the same
    /// rows, keeping its worker and connection busy. A lock timeout is a request that
    /// failed outright. Repeated waits on the same table point to one long transaction
    /// (a cron batch, an import) holding rows that interactive work needs.
    ///
    /// ## How to fix
    /// Database side: shorten the holding transactions (commit per batch), index the
    /// foreign keys the waiting statements check, lock parent rows `FOR NO KEY UPDATE`
    /// rather than `FOR UPDATE` when their key does not change (a `FOR UPDATE` lock
    /// blocks the foreign key checks of inserts into child tables, which the finding
    /// counts), and give interactive roles a
    /// `lock_timeout` so a request fails fast (and is retried) instead of piling up
    /// behind a batch; keep `log_lock_waits = on` with a `deadlock_timeout` near the
    /// wait you care about to keep the evidence.
    ///
    /// ERP side: move the cron job out of the interactive peak, give it smaller
    /// batches, or run the work as `queue_job` jobs. Odoo retries a request that hit
    /// `lock_timeout` (55P03) like a serialization failure.
    ///
    /// ## Thresholds
    /// - `min_waits` (default 3): logged waits on a table over the capture to report
    ///   (any lock timeout is reported: see `min_timeouts`).
    /// - `min_timeouts` (default 1): lock timeouts on a table over the capture to report.
    /// - `warning_wait_s_per_hour` (default 60): from this many seconds waited per hour
    ///   of log (a capture shorter than an hour counts as one) it is a warning.
    /// - `warning_timeouts_per_hour` (default 5): from this many lock timeouts per hour
    ///   it is a warning; below both, information.
    /// - `suggested_lock_timeout_s` (default 10): the `lock_timeout` the fix gives the
    ///   roles that waited.
    ///
    /// The time waited adds the `acquired … after` times and, for waits that never
    /// logged one (cancelled, deadlocked, or still running when the log ends), the
    /// `still waiting … after` time: at least what was waited.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/runtime-config-logging.html#GUC-LOG-LOCK-WAITS>
    /// - <https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-LOCK-TIMEOUT>
    /// - <https://www.postgresql.org/docs/current/explicit-locking.html#LOCKING-ROWS>
    pub struct LockWaits {
        id: "LCK003",
        name: "lock-waits",
        pack: "locks",
        title: "Lock waits and lock timeouts in the server log",
        params: {
            min_waits: f64 = ("waits", "Logged lock waits on a table over the capture to report"),
            min_timeouts: f64 = ("timeouts", "Lock timeouts on a table over the capture to report"),
            warning_wait_s_per_hour: f64 = ("s/h", "From this many seconds waited per hour of log it is a warning"),
            warning_timeouts_per_hour: f64 = ("timeouts/h", "From this many lock timeouts per hour of log it is a warning"),
            suggested_lock_timeout_s: f64 = ("s", "The lock_timeout the fix gives the roles that waited"),
        },
    }
}

impl WorkloadRule for LockWaits {
    fn meta(&self) -> &'static crate::rules::RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &WorkloadContext<'_>) -> Result<Vec<Draft>, Skip> {
        let w = ctx.workload;
        from_log(w)?;
        let p: Params = ctx.params()?;
        let hours = capture_hours(w);
        let mut out = Vec::new();
        for t in by_table(w, &[IncidentKind::LockWait, IncidentKind::LockTimeout]) {
            let waits = t.count(IncidentKind::LockWait);
            let timeouts = t.count(IncidentKind::LockTimeout);
            let reported = (waits > 0 && waits as f64 >= p.min_waits)
                || (timeouts > 0 && timeouts as f64 >= p.min_timeouts);
            if !reported {
                continue;
            }
            let waited_ms = t.total_wait_ms();
            let label = t.label();
            let ops = t.operations();
            let mut parts = Vec::new();
            if waits > 0 {
                parts.push(format!(
                    "{} past deadlock_timeout ({} waited, longest {})",
                    units::counted(waits, "lock wait", "lock waits"),
                    units::millis(waited_ms),
                    units::millis(t.max_wait_ms())
                ));
            }
            if timeouts > 0 {
                parts.push(units::counted(timeouts, "lock timeout", "lock timeouts"));
            }
            let mut message = format!(
                "{} on {label}{}, in {}",
                parts.join(" and "),
                super::rate_text(waits + timeouts, w),
                t.statements(3).join(", "),
            );
            let fk: u64 = t.groups.iter().map(|g| g.foreign_key_checks).sum();
            if fk > 0 {
                message.push_str(&format!(
                    " ({} of them foreign key checks: inserts or updates of referencing rows waiting on {label} rows another transaction locked FOR UPDATE)",
                    units::count(fk)
                ));
            }
            if let Some(s) = ops.as_ref().and_then(|o| o.sentence(&label, "lock")) {
                message.push_str(&format!(": {s}"));
            }
            let mut rec = String::from(
                "Shorten the transactions that hold these rows (commit per batch), index the foreign keys the waiting statements check, and give interactive roles a lock_timeout so requests fail fast and are retried instead of piling up",
            );
            if fk > 0 {
                rec.push_str(
                    "; lock parent rows whose key does not change FOR NO KEY UPDATE rather than FOR UPDATE, which lets the foreign key checks of child rows through",
                );
            }
            if ops.as_ref().is_some_and(|o| o.cron() || o.odoo) {
                rec.push_str(
                    "; ERP side: move the cron job out of the interactive peak, give it smaller batches, or run the work as queue_job jobs",
                );
            }
            let wait_s_per_hour = waited_ms / 1000.0 / hours;
            let timeouts_per_hour = timeouts as f64 / hours;
            let severity = if wait_s_per_hour >= p.warning_wait_s_per_hour
                || timeouts_per_hour >= p.warning_timeouts_per_hour
            {
                Severity::Warning
            } else {
                Severity::Info
            };
            let value = format!("{}s", p.suggested_lock_timeout_s.round().max(1.0) as u64);
            let mut d = Draft::new(t.object(), message)
                .evidence("lock_waits", waits)
                .evidence("lock_timeouts", timeouts)
                .evidence("waited_ms", waited_ms.round())
                .evidence("max_wait_ms", t.max_wait_ms().round())
                .severity(severity)
                .recommend(rec);
            let users = t.users();
            if !users.is_empty() {
                let sql = users
                    .iter()
                    .map(|u| {
                        format!(
                            "ALTER ROLE {} SET lock_timeout = {};",
                            quote_ident(u),
                            quote_literal(&value)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                d = d.fix(
                    sql,
                    "none",
                    "lock waits and lock timeouts in the server log (log_lock_waits = on)",
                );
            }
            let per_hour = (waits + timeouts) as f64 / hours;
            out.push(evidence(d, &t, w, per_hour));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests_support::{findings, majors, manifest, workloads};
    use crate::report::Severity;

    #[test]
    fn fires_on_the_captured_waits_and_timeouts() {
        for major in majors() {
            let planted = &manifest(major)["captures"]["conflicts"]["planted"];
            for (format, w) in workloads(major, "conflicts") {
                let f = findings(&w, "LCK003");
                let quant = f
                    .iter()
                    .find(|f| f.object.name == "stock_quant")
                    .unwrap_or_else(|| panic!("pg{major} {format}: {f:#?}"));
                assert_eq!(
                    quant.evidence["lock_waits"], planted["lock_wait"]["stock_quant"],
                    "pg{major} {format}"
                );
                assert_eq!(quant.severity, Severity::Info, "pg{major} {format}");
                let moves = f
                    .iter()
                    .find(|f| f.object.name == "account_move")
                    .unwrap_or_else(|| panic!("pg{major} {format}: {f:#?}"));
                // The invoice lines' foreign key checks waited on the locked invoices.
                assert!(
                    moves.message.contains("2 of them foreign key checks"),
                    "pg{major} {format}: {}",
                    moves.message
                );
                assert_eq!(
                    moves.evidence["lock_timeouts"], planted["lock_timeout"]["account_move"],
                    "pg{major} {format}"
                );
                let fix = moves.fix.as_ref().expect("a lock_timeout fix");
                assert!(fix.sql.contains("SET lock_timeout = '10s'"), "{}", fix.sql);
            }
        }
    }

    #[test]
    fn quiet_on_the_healthy_twin() {
        for major in majors() {
            for (format, w) in workloads(major, "healthy") {
                assert!(findings(&w, "LCK003").is_empty(), "pg{major} {format}");
            }
        }
    }
}
