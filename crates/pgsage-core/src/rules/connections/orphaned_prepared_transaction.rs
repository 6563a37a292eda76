use crate::report::{ObjectKind, ObjectRef, Severity};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::sql::{quote_ident, quote_literal};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// Prepared (two-phase) transactions (`pg_prepared_xacts`) older than
    /// `min_age_seconds`: a transaction manager ran `PREPARE TRANSACTION` and never came
    /// back with `COMMIT PREPARED` or `ROLLBACK PREPARED`. One finding per transaction,
    /// named by its global identifier.
    ///
    /// ## Why it matters
    /// A prepared transaction survives disconnects and restarts. Until it is resolved it
    /// keeps its locks (blocking DDL and conflicting writes on the rows and tables it
    /// touched) and its xid holds back the xmin horizon of the whole cluster: vacuum
    /// cannot remove dead rows anywhere, and in the end the server approaches
    /// transaction-ID wraparound. No session shows it in `pg_stat_activity`, so it is
    /// easily missed.
    ///
    /// ## How to fix
    /// Ask the transaction manager (the application server, XA coordinator) what became
    /// of the transaction. If it is orphaned, connect to its database and run
    /// `ROLLBACK PREPARED 'gid'` (or `COMMIT PREPARED 'gid'` if the coordinator says it
    /// committed). If nothing uses two-phase commit, set `max_prepared_transactions = 0`
    /// (restart) so it cannot happen again.
    ///
    /// ## Thresholds
    /// - `min_age_seconds` (default 300): prepared this long ago is flagged.
    /// - `critical_age_seconds` (default 3600): this long ago is critical.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/view-pg-prepared-xacts.html>
    /// - <https://www.postgresql.org/docs/current/sql-prepare-transaction.html>
    /// - <https://www.postgresql.org/docs/current/runtime-config-resource.html#GUC-MAX-PREPARED-TRANSACTIONS>
    pub struct OrphanedPreparedTransaction {
        id: "CON008",
        name: "orphaned-prepared-transaction",
        pack: "connections",
        title: "Prepared transactions left open",
        params: {
            min_age_seconds: f64 = ("s", "Prepared transactions older than this many seconds are flagged"),
            critical_age_seconds: f64 = ("s", "Older than this many seconds is critical"),
        },
    }
}

impl SnapshotRule for OrphanedPreparedTransaction {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min_age = p.min_age_seconds;
        let critical_age = p.critical_age_seconds;
        let snap = ctx.snapshot;
        if let Some(g) = snap.gap("pg_prepared_xacts") {
            return Err(Skip::because(format!(
                "pg_prepared_xacts not collected: {}",
                g.why
            )));
        }
        let mut drafts = Vec::new();
        for p in &snap.prepared_xacts {
            let age = snap.age_seconds(p.prepared);
            if age < min_age {
                continue;
            }
            let object = ObjectRef {
                database: Some(p.database.clone()),
                ..ObjectRef::named(ObjectKind::Session, &p.gid)
            };
            let gid = quote_literal(&p.gid);
            let mut draft = Draft::new(
                object,
                format!(
                    "Prepared transaction `{}` in `{}` (owner `{}`) has been waiting for COMMIT/ROLLBACK PREPARED for {}{}",
                    p.gid,
                    p.database,
                    p.owner,
                    units::duration(age),
                    p.xid_age
                        .map_or(String::new(), |x| format!("; its xid is {} transactions old", units::count(x)))
                ),
            )
            .evidence("gid", p.gid.as_str())
            .evidence("database", p.database.as_str())
            .evidence("prepared_age_s", age.round())
            .recommend(
                "Ask the transaction manager what became of it; if it is orphaned, roll it back (or commit it if the coordinator committed) from its database. If nothing uses two-phase commit, set max_prepared_transactions = 0",
            )
            .fix(
                format!(
                    "-- connected to database {}:\nROLLBACK PREPARED {gid};  -- or: COMMIT PREPARED {gid};",
                    quote_ident(&p.database)
                ),
                "none",
                "pg_prepared_xacts empty; the xmin horizon (age(datfrozenxid), n_dead_tup) moving again",
            );
            if let Some(x) = p.xid_age {
                draft = draft.evidence("xid_age", x);
            }
            if age >= critical_age {
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
    fn fires_on_a_forgotten_prepared_transaction() {
        let f = assert_fires("CON008", "con_forgotten_2pc");
        assert!(f[0]
            .fix
            .as_ref()
            .is_some_and(|x| x.sql.contains("ROLLBACK PREPARED")));
    }

    #[test]
    fn quiet_without_prepared_transactions() {
        assert_quiet("CON008");
    }
}
