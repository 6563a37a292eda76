use crate::report::{ObjectKind, ObjectRef, Severity};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::sql::quote_literal;
use crate::units;

declare_rule! {
    /// ## What it detects
    /// What holds the xmin horizon back — the oldest transaction whose rows vacuum must
    /// keep — by more than `min(warning_age, warning_freeze_pct % of
    /// autovacuum_freeze_max_age)` transactions, named in the finding:
    /// - a **session** (`pg_stat_activity.backend_xmin` / `backend_xid`: a long
    ///   transaction, an `idle in transaction` session, a long report), named by its
    ///   `application_name` (or pid);
    /// - a **replication slot** (`xmin`, or `catalog_xmin` for logical slots, which holds
    ///   back the system catalogs), named by the slot;
    /// - a **standby** with `hot_standby_feedback` (`pg_stat_replication.backend_xmin`);
    /// - a **prepared transaction** (`pg_prepared_xacts`), named by its gid.
    ///
    /// A session whose snapshot is merely as old as another holder's transaction is not
    /// reported: the holder is. Critical at `autovacuum_freeze_max_age`: from there, anti-wraparound vacuums run
    /// and cannot complete. Background workers' own snapshots (autovacuum, parallel
    /// workers) are not reported.
    ///
    /// ## Why it matters
    /// Vacuum cannot remove any row version deleted after the horizon, in any table of the
    /// database (any database for shared catalogs, slots and prepared transactions): dead
    /// rows pile up everywhere, tables and indexes bloat, index-only scans stop being
    /// index-only, and freezing cannot advance, which ends in wraparound
    /// ([VAC006](wraparound-risk)).
    ///
    /// ## How to fix
    /// - Session: end it (`SELECT pg_terminate_backend(pid)`), fix the application that
    ///   leaves transactions open, and set `idle_in_transaction_session_timeout`.
    /// - Replication slot: if its consumer is gone, `SELECT pg_drop_replication_slot('…')`;
    ///   otherwise make the consumer catch up.
    /// - Prepared transaction: `COMMIT PREPARED '…'` or `ROLLBACK PREPARED '…'` after
    ///   checking with its transaction manager.
    /// - Standby: its long queries hold the primary back through `hot_standby_feedback`;
    ///   limit them (`statement_timeout` on the standby) or disable the feedback.
    ///
    /// ## Thresholds
    /// - `warning_age` (default 10000000): transactions behind that warn.
    /// - `warning_freeze_pct` (default 50): or this share of `autovacuum_freeze_max_age`,
    ///   whichever is lower, in %.
    ///
    /// Ages are levels read at collection time: they do not depend on statistics age.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/routine-vacuuming.html#VACUUM-FOR-WRAPAROUND>
    /// - <https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ACTIVITY-VIEW>
    /// - <https://www.postgresql.org/docs/current/view-pg-replication-slots.html>
    /// - <https://www.postgresql.org/docs/current/view-pg-prepared-xacts.html>
    pub struct XminHorizonHeldBack {
        id: "VAC007",
        name: "xmin-horizon-held-back",
        pack: "vacuum",
        title: "Xmin horizon held back",
        params: {
            warning_age: f64 = ("transactions", "Transactions behind the current one that warn"),
            warning_freeze_pct: f64 = ("%", "Or this share of autovacuum_freeze_max_age, whichever is lower"),
        },
    }
}

/// The age from which a holder is reported.
pub(crate) fn warning_threshold(warning_age: f64, freeze_pct: f64, freeze_max_age: f64) -> f64 {
    warning_age.min(freeze_pct / 100.0 * freeze_max_age)
}

/// Severity of one holder.
pub(crate) fn level(age: i64, warn: f64, freeze_max_age: f64) -> Option<Severity> {
    let age = age as f64;
    if age >= freeze_max_age {
        Some(Severity::Critical)
    } else if age >= warn {
        Some(Severity::Warning)
    } else {
        None
    }
}

/// A session's object: by `application_name` when it has one, else by pid.
fn session_object(database: Option<&str>, app: Option<&str>, pid: i32) -> ObjectRef {
    let name = match app.filter(|a| !a.is_empty()) {
        Some(a) => a.to_owned(),
        None => format!("pid {pid}"),
    };
    ObjectRef {
        kind: ObjectKind::Session,
        database: database.map(str::to_owned),
        schema: None,
        name,
        query: None,
    }
}

impl SnapshotRule for XminHorizonHeldBack {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let warning_age = p.warning_age;
        let pct = p.warning_freeze_pct;
        let snap = ctx.snapshot;
        let freeze_max = snap
            .setting("autovacuum_freeze_max_age")
            .and_then(|s| s.as_f64())
            .unwrap_or(200_000_000.0);
        let warn = warning_threshold(warning_age, pct, freeze_max);
        let mut drafts = Vec::new();
        let base = |obj: ObjectRef, message: String, age: i64, severity: Severity, kind: &str| {
            Draft::new(obj, message)
                .severity(severity)
                .evidence("holder_kind", kind)
                .evidence("xmin_age_xacts", age)
                .evidence("warning_age_xacts", warn.round())
                .evidence("autovacuum_freeze_max_age", freeze_max)
        };

        let sessions: Vec<_> = snap
            .activity
            .iter()
            .filter(|b| {
                b.leader_pid.is_none_or(|l| l == b.pid)
                    && !matches!(
                        b.backend_type.as_str(),
                        "autovacuum worker"
                            | "autovacuum launcher"
                            | "parallel worker"
                            | "walsender"
                    )
            })
            .collect();
        for b in &sessions {
            // A snapshot's xmin is the oldest transaction running when it was taken: a
            // session without an old xid of its own is only reported when no running
            // transaction (another session's, a prepared one) explains its xmin.
            let running_elsewhere = sessions
                .iter()
                .filter(|o| o.pid != b.pid)
                .filter_map(|o| o.backend_xid_age)
                .chain(snap.prepared_xacts.iter().filter_map(|p| p.xid_age))
                .max()
                .unwrap_or(0);
            let own = b.backend_xid_age.unwrap_or(0);
            let snapshot_age = b.backend_xmin_age.unwrap_or(0);
            let age = if snapshot_age > running_elsewhere {
                own.max(snapshot_age)
            } else {
                own
            };
            let Some(severity) = level(age, warn, freeze_max) else {
                continue;
            };
            let open_for = b
                .xact_start
                .map(|t| {
                    format!(
                        ", transaction open for {}",
                        units::duration(snap.age_seconds(t))
                    )
                })
                .unwrap_or_default();
            let state = b.state.as_deref().unwrap_or("unknown state");
            let who = format!(
                "pid {}{}{}",
                b.pid,
                b.user
                    .as_deref()
                    .map(|u| format!(", user `{u}`"))
                    .unwrap_or_default(),
                b.application_name
                    .as_deref()
                    .filter(|a| !a.is_empty())
                    .map(|a| format!(", application `{a}`"))
                    .unwrap_or_default()
            );
            let mut d = base(
                session_object(b.database.as_deref(), b.application_name.as_deref(), b.pid),
                format!(
                    "Session {who} ({state}{open_for}) holds the xmin horizon {} transactions back: vacuum cannot remove rows deleted since",
                    units::count(age)
                ),
                age,
                severity,
                "session",
            )
            .evidence("pid", b.pid)
            .evidence("state", state)
            .recommend("End the session if it is stuck, fix the application that leaves transactions open, and set idle_in_transaction_session_timeout")
            .fix(
                format!("SELECT pg_terminate_backend({});", b.pid),
                "none",
                "backend_xmin in pg_stat_activity; n_dead_tup falling after the next vacuums",
            );
            if let Some(t) = b.xact_start {
                d = d.evidence("xact_age_s", snap.age_seconds(t).round());
            }
            drafts.push(d);
        }

        for s in &snap.replication_slots {
            let xmin = s.xmin_age.unwrap_or(0);
            let catalog = s.catalog_xmin_age.unwrap_or(0);
            let age = xmin.max(catalog);
            let Some(severity) = level(age, warn, freeze_max) else {
                continue;
            };
            let what = if xmin >= catalog {
                "the xmin horizon (all tables)"
            } else {
                "the catalog xmin horizon (system catalogs; and freezing)"
            };
            drafts.push(
                base(
                    ObjectRef::named(ObjectKind::Server, &s.slot_name),
                    format!(
                        "Replication slot `{}` ({} {}, {}) holds {what} {} transactions back",
                        s.slot_name,
                        s.slot_type,
                        s.plugin.as_deref().unwrap_or(""),
                        if s.active { "active" } else { "inactive" },
                        units::count(age)
                    ),
                    age,
                    severity,
                    "replication slot",
                )
                .evidence("slot_xmin_age", s.xmin_age.map_or(serde_json::Value::Null, Into::into))
                .evidence(
                    "slot_catalog_xmin_age",
                    s.catalog_xmin_age.map_or(serde_json::Value::Null, Into::into),
                )
                .evidence("active", s.active)
                .evidence(
                    "retained_wal_bytes",
                    s.retained_wal_bytes.map_or(serde_json::Value::Null, Into::into),
                )
                .recommend(if s.active {
                    "Make the slot's consumer catch up (it is connected but far behind)"
                } else {
                    "Drop the slot if its consumer is gone for good; otherwise reconnect the consumer"
                })
                .fix(
                    format!("SELECT pg_drop_replication_slot({});", quote_literal(&s.slot_name)),
                    "none",
                    "xmin and catalog_xmin in pg_replication_slots",
                ),
            );
        }

        for r in &snap.replication {
            let age = r.backend_xmin_age.unwrap_or(0);
            let Some(severity) = level(age, warn, freeze_max) else {
                continue;
            };
            let name = r
                .application_name
                .clone()
                .filter(|a| !a.is_empty())
                .unwrap_or_else(|| format!("pid {}", r.pid));
            drafts.push(
                base(
                    ObjectRef::named(ObjectKind::Session, &name),
                    format!(
                        "Standby `{name}` (hot_standby_feedback) holds the xmin horizon {} transactions back for its queries",
                        units::count(age)
                    ),
                    age,
                    severity,
                    "standby",
                )
                .recommend("Limit long queries on the standby (statement_timeout there), or disable hot_standby_feedback and accept query cancellations")
                .fix(
                    // Runs on the standby, not on this server: commented out, and not part
                    // of this server's recommended configuration.
                    "-- on the standby, not here:\n-- ALTER SYSTEM SET statement_timeout = '15min';\n-- SELECT pg_reload_conf();",
                    "reload",
                    "backend_xmin in pg_stat_replication",
                ),
            );
        }

        for p in &snap.prepared_xacts {
            let age = p.xid_age.unwrap_or(0);
            let Some(severity) = level(age, warn, freeze_max) else {
                continue;
            };
            let held = units::duration(snap.age_seconds(p.prepared));
            drafts.push(
                base(
                    ObjectRef::named(ObjectKind::Session, &p.gid),
                    format!(
                        "Prepared transaction `{}` (database `{}`, owner `{}`, prepared {held} ago) holds the xmin horizon {} transactions back",
                        p.gid,
                        p.database,
                        p.owner,
                        units::count(age)
                    ),
                    age,
                    severity,
                    "prepared transaction",
                )
                .evidence("prepared_age_s", snap.age_seconds(p.prepared).round())
                .evidence("database", p.database.clone())
                .recommend("Resolve it with its transaction manager: commit or roll it back (from a session in its database)")
                .fix(
                    format!(
                        "-- in database {}:\nROLLBACK PREPARED {};  -- or COMMIT PREPARED",
                        p.database,
                        quote_literal(&p.gid)
                    ),
                    "none",
                    "pg_prepared_xacts",
                ),
            );
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn thresholds() {
        // Defaults: 10 M or half of 200 M.
        assert_eq!(warning_threshold(10e6, 50.0, 200e6), 10e6);
        assert_eq!(warning_threshold(10e6, 50.0, 100_000.0), 50_000.0);
        assert_eq!(level(9_000_000, 10e6, 200e6), None);
        assert_eq!(level(12_000_000, 10e6, 200e6), Some(Severity::Warning));
        assert_eq!(level(210_000_000, 10e6, 200e6), Some(Severity::Critical));
    }

    #[test]
    fn names_the_session_slot_and_prepared_transaction() {
        assert_fires("VAC007", "erp_report");
        assert_fires("VAC007", "erp_cdc");
        assert_fires("VAC007", "erp_batch_42");
    }

    #[test]
    fn quiet_when_horizons_are_recent() {
        assert_quiet("VAC007");
    }
}
