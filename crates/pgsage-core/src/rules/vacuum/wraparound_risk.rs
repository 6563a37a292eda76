use crate::knowledge::autovacuum::table_setting;
use crate::report::{ObjectRef, Severity};
use crate::rules::macros::declare_rule;
use crate::rules::vacuum::common::table_object;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::sql::quote_ident;
use crate::units;

declare_rule! {
    /// ## What it detects
    /// Databases (`age(datfrozenxid)`, `mxid_age(datminmxid)`) and tables of the connected
    /// database, TOAST tables included (`age(relfrozenxid)`, `mxid_age(relminmxid)`), that
    /// approach transaction-ID or multixact-ID wraparound:
    /// - **critical** at `critical_age` (check_postgres uses 1.4 billion), **warning** at
    ///   `warning_age` (1.3 billion);
    /// - **warning** as soon as the age exceeds `lag_factor` × `autovacuum_freeze_max_age`
    ///   (`autovacuum_multixact_freeze_max_age` for multixacts; a table's own, lower,
    ///   storage parameter when set): anti-wraparound autovacuum starts at 1×, so an age
    ///   well past it means it is not finishing — blocked by an old transaction, slot or
    ///   prepared transaction, cancelled, or too slow.
    ///
    /// ## Why it matters
    /// Transaction IDs are 32-bit. Rows older than about 2 billion transactions would
    /// suddenly look like they were in the future; PostgreSQL prevents that by refusing to
    /// assign new transaction IDs 3 million before the limit — every write fails until a
    /// database-wide `VACUUM` completes, which on a large database is hours of outage.
    /// Multixacts (row locks shared by several transactions, e.g. foreign-key checks on
    /// busy parent rows in an ERP) wrap around the same way.
    ///
    /// ## How to fix
    /// First remove what prevents freezing: transactions, replication slots and prepared
    /// transactions holding the xmin horizon back (see [VAC007](xmin-horizon-held-back)).
    /// Then `VACUUM (FREEZE, VERBOSE)` the oldest tables (listed in the evidence for the
    /// connected database; in another database, find them with
    /// `SELECT c.oid::regclass, age(c.relfrozenxid) FROM pg_class c WHERE c.relkind IN ('r','m','t') ORDER BY 2 DESC LIMIT 10;`).
    /// For a running anti-wraparound autovacuum, let it finish and give it resources
    /// (`vacuum_cost_limit`, `maintenance_work_mem`) rather than cancelling it.
    ///
    /// ## Thresholds
    /// - `warning_age` (default 1300000000): transactions (or multixacts) that warn.
    /// - `critical_age` (default 1400000000): transactions (or multixacts) that are critical.
    /// - `lag_factor` (default 1.5): times `autovacuum_freeze_max_age` (or
    ///   `autovacuum_multixact_freeze_max_age`) past which anti-wraparound vacuum is
    ///   considered not keeping up.
    ///
    /// Ages are levels read from the catalogs: they do not depend on how long statistics
    /// have been collected.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/routine-vacuuming.html#VACUUM-FOR-WRAPAROUND>
    /// - <https://www.postgresql.org/docs/current/runtime-config-autovacuum.html#GUC-AUTOVACUUM-FREEZE-MAX-AGE>
    /// - <https://bucardo.org/check_postgres/check_postgres.pl.html#txn_wraparound>
    pub struct WraparoundRisk {
        id: "VAC006",
        name: "wraparound-risk",
        pack: "vacuum",
        title: "Transaction ID or multixact wraparound approaching",
        params: {
            warning_age: f64 = ("transactions", "Age in transactions (or multixacts) that warns"),
            critical_age: f64 = ("transactions", "Age in transactions (or multixacts) that is critical"),
            lag_factor: f64 = ("×", "Times autovacuum_freeze_max_age past which anti-wraparound vacuum is not keeping up"),
        },
    }
}

/// Thresholds of the rule.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    pub warning: f64,
    pub critical: f64,
    pub lag_factor: f64,
}

/// The predicate for one age against its `freeze_max_age`.
pub(crate) fn level(age: f64, freeze_max_age: f64, l: Limits) -> Option<Severity> {
    if age >= l.critical {
        Some(Severity::Critical)
    } else if age >= l.warning || (freeze_max_age > 0.0 && age > l.lag_factor * freeze_max_age) {
        Some(Severity::Warning)
    } else {
        None
    }
}

/// One object's ages and what they mean.
struct Ages {
    xid: f64,
    xid_max: f64,
    mxid: f64,
    mxid_max: f64,
}

impl Ages {
    fn severity(&self, l: Limits) -> Option<Severity> {
        level(self.xid, self.xid_max, l).max(level(self.mxid, self.mxid_max, l))
    }

    fn describe(&self, l: Limits) -> String {
        let mut parts = Vec::new();
        if level(self.xid, self.xid_max, l).is_some() {
            parts.push(format!(
                "its oldest unfrozen transaction ID is {} transactions old ({}× autovacuum_freeze_max_age = {})",
                units::count(self.xid),
                units::number(self.xid / self.xid_max.max(1.0)),
                units::count(self.xid_max)
            ));
        }
        if level(self.mxid, self.mxid_max, l).is_some() {
            parts.push(format!(
                "its oldest multixact ID is {} multixacts old ({}× autovacuum_multixact_freeze_max_age = {})",
                units::count(self.mxid),
                units::number(self.mxid / self.mxid_max.max(1.0)),
                units::count(self.mxid_max)
            ));
        }
        parts.join("; ")
    }
}

const WATCH: &str = "age(datfrozenxid) and mxid_age(datminmxid) in pg_database; age(relfrozenxid) of the oldest tables";

impl SnapshotRule for WraparoundRisk {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let l = Limits {
            warning: p.warning_age,
            critical: p.critical_age,
            lag_factor: p.lag_factor,
        };
        let snap = ctx.snapshot;
        if snap.databases.is_empty() {
            return Err(Skip::because(
                "no databases in the snapshot (pg_database was not readable)",
            ));
        }
        let global = |name: &str, default: f64| {
            snap.setting(name)
                .and_then(|s| s.as_f64())
                .unwrap_or(default)
        };
        let xid_max = global("autovacuum_freeze_max_age", 200_000_000.0);
        let mxid_max = global("autovacuum_multixact_freeze_max_age", 400_000_000.0);

        // The connected database's oldest tables, for the evidence and the fix.
        let mut oldest: Vec<_> = snap
            .tables
            .iter()
            .filter(|t| t.kind != "p")
            .map(|t| (t, t.frozenxid_age.max(t.toast_frozenxid_age.unwrap_or(0))))
            .collect();
        oldest.sort_by_key(|(_, age)| std::cmp::Reverse(*age));
        oldest.truncate(5);

        let mut drafts = Vec::new();
        for d in &snap.databases {
            let ages = Ages {
                xid: d.frozenxid_age as f64,
                xid_max,
                mxid: d.minmxid_age as f64,
                mxid_max,
            };
            let Some(severity) = ages.severity(l) else {
                continue;
            };
            let connected = d.name == snap.server.database;
            let fix = if connected && !oldest.is_empty() {
                oldest
                    .iter()
                    .map(|(t, _)| format!("VACUUM (FREEZE, VERBOSE) {};", t.qualified_name()))
                    .collect::<Vec<_>>()
                    .join("\n")
            } else if d.allow_connections {
                format!(
                    "-- connected to {}: the oldest tables\nSELECT c.oid::regclass, age(c.relfrozenxid), mxid_age(c.relminmxid) FROM pg_class c WHERE c.relkind IN ('r', 'm', 't') ORDER BY 2 DESC LIMIT 10;\n-- then VACUUM (FREEZE, VERBOSE) each of them, or the whole database:\nVACUUM (FREEZE, VERBOSE);",
                    quote_ident(&d.name)
                )
            } else {
                format!(
                    "-- {} does not allow connections (autovacuum freezes it); if it stays old, allow connections briefly and VACUUM (FREEZE) it:\nALTER DATABASE {} ALLOW_CONNECTIONS true;",
                    quote_ident(&d.name),
                    quote_ident(&d.name)
                )
            };
            let mut draft = Draft::new(
                ObjectRef::database(&d.name),
                format!("Database `{}`: {}", d.name, ages.describe(l)),
            )
            .severity(severity)
            .evidence("datfrozenxid_age", d.frozenxid_age)
            .evidence("datminmxid_age", d.minmxid_age)
            .evidence("autovacuum_freeze_max_age", xid_max)
            .evidence("autovacuum_multixact_freeze_max_age", mxid_max)
            .evidence("wraparound_limit", 2_147_483_647_i64)
            .recommend("Remove what holds the xmin horizon back (old transactions, replication slots, prepared transactions; see VAC007), then VACUUM (FREEZE) the oldest tables; never cancel a running anti-wraparound autovacuum")
            .fix(fix, "none", WATCH);
            if connected {
                draft = draft.evidence(
                    "oldest_tables",
                    oldest
                        .iter()
                        .map(|(t, age)| format!("{} ({age})", t.qualified_name()))
                        .collect::<Vec<_>>()
                        .join(", "),
                );
            }
            drafts.push(draft);
        }

        for t in snap.tables.iter().filter(|t| t.kind != "p") {
            let own = |name: &str, global: f64| table_setting(snap, t, name, global).min(global);
            let toast = t.toast_frozenxid_age.unwrap_or(0);
            let ages = Ages {
                xid: t.frozenxid_age.max(toast) as f64,
                xid_max: own("autovacuum_freeze_max_age", xid_max),
                mxid: t.minmxid_age as f64,
                mxid_max: own("autovacuum_multixact_freeze_max_age", mxid_max),
            };
            let Some(severity) = ages.severity(l) else {
                continue;
            };
            let which = if toast > t.frozenxid_age {
                " (its TOAST table is the oldest part)"
            } else {
                ""
            };
            let name = t.qualified_name();
            drafts.push(
                Draft::new(
                    table_object(snap, t),
                    format!("Table `{}`: {}{which}", t.name, ages.describe(l)),
                )
                .severity(severity)
                .evidence("relfrozenxid_age", t.frozenxid_age)
                .evidence(
                    "toast_relfrozenxid_age",
                    t.toast_frozenxid_age.map_or(serde_json::Value::Null, Into::into),
                )
                .evidence("relminmxid_age", t.minmxid_age)
                .evidence("autovacuum_freeze_max_age", ages.xid_max)
                .evidence("autovacuum_multixact_freeze_max_age", ages.mxid_max)
                .evidence("table_bytes", t.heap_bytes)
                .evidence("toast_bytes", t.toast_bytes)
                .recommend("Remove what holds the xmin horizon back (see VAC007), then freeze the table (VACUUM FREEZE also processes its TOAST table)")
                .fix(format!("VACUUM (FREEZE, VERBOSE) {name};"), "none", WATCH),
            );
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{assert_fires, assert_quiet};

    const L: Limits = Limits {
        warning: 1.3e9,
        critical: 1.4e9,
        lag_factor: 1.5,
    };

    #[test]
    fn absolute_thresholds_like_check_postgres() {
        assert_eq!(level(1.45e9, 2e9, L), Some(Severity::Critical));
        assert_eq!(level(1.35e9, 2e9, L), Some(Severity::Warning));
        assert_eq!(level(1.0e9, 2e9, L), None);
    }

    #[test]
    fn relative_to_freeze_max_age() {
        // Default 200 M: anti-wraparound vacuum starts at 200 M; 310 M means it is stuck.
        assert_eq!(level(310e6, 200e6, L), Some(Severity::Warning));
        assert_eq!(level(250e6, 200e6, L), None);
        // Multixacts, default 400 M.
        assert_eq!(level(650e6, 400e6, L), Some(Severity::Warning));
        assert_eq!(level(500e6, 400e6, L), None);
    }

    #[test]
    fn fires_on_every_database_and_the_old_table() {
        assert_fires("VAC006", "scenario");
        assert_fires("VAC006", "template1");
        assert_fires("VAC006", "public.account_move");
    }

    #[test]
    fn quiet_when_freezing_keeps_up() {
        assert_quiet("VAC006");
    }
}
