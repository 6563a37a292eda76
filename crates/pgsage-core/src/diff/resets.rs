//! Counters reset between two snapshots: a restart, `pg_stat_reset()`,
//! `pg_stat_statements_reset()`, a table's counters reset or the table recreated.
//!
//! Cumulative counters only grow; when one is lower in the newer snapshot (or its
//! `stats_reset` moved) the difference is not activity but a reset, and the diff says so
//! instead of showing a negative rate. Since PostgreSQL 15 a clean restart keeps the
//! statistics, so a restart alone is not taken for a reset: each section is judged by its
//! own counters.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::snapshot::{Snapshot, Table};

/// Which counters were reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResetScope {
    /// The server restarted (`pg_postmaster_start_time()` moved): sessions, gauges and,
    /// after a crash or before PostgreSQL 15, the statistics start again.
    Server,
    /// A database's `pg_stat_database` counters (and its tables').
    Database,
    /// `pg_stat_statements` (`pg_stat_statements_reset()`).
    Statements,
    /// Statements evicted from `pg_stat_statements` (`pg_stat_statements.max` reached):
    /// not a reset, but entries were lost and re-counted.
    StatementsEvicted,
    /// One table's counters (`pg_stat_reset_single_table_counters()`), or the table was
    /// dropped and created again.
    Table,
    /// The checkpointer's and background writer's counters.
    Checkpointer,
    /// `pg_stat_wal`.
    Wal,
}

/// One reset between the two snapshots.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CounterReset {
    /// Which counters.
    pub scope: ResetScope,
    /// The database, for database and table resets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// The table (`schema.name`), for table resets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
    /// When, if the server recorded it (`stats_reset`, the new start time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<DateTime<Utc>>,
    /// What happened and what it means for the comparison, for reading.
    pub what: String,
}

/// Every reset between `old` and `new`.
pub fn between(old: &Snapshot, new: &Snapshot) -> Vec<CounterReset> {
    let mut out = Vec::new();
    if new.server.started_at != old.server.started_at {
        out.push(CounterReset {
            scope: ResetScope::Server,
            database: None,
            object: None,
            at: Some(new.server.started_at),
            what: format!(
                "the server restarted (started {}): its sessions and caches are new; each set of statistics is compared only where its own counters show no reset",
                new.server.started_at.format("%Y-%m-%d %H:%M UTC")
            ),
        });
    }
    databases(old, new, &mut out);
    statements(old, new, &mut out);
    checkpointer_and_wal(old, new, &mut out);
    tables(old, new, &mut out);
    out
}

fn databases(old: &Snapshot, new: &Snapshot, out: &mut Vec<CounterReset>) {
    for n in &new.databases {
        let Some(o) = old
            .databases
            .iter()
            .find(|o| o.name == n.name && o.oid == n.oid)
        else {
            continue;
        };
        let moved = n.stats_reset.is_some() && n.stats_reset != o.stats_reset;
        let fell = n.xact_commit < o.xact_commit
            || n.tup_inserted < o.tup_inserted
            || n.blks_hit < o.blks_hit;
        if moved || fell {
            out.push(CounterReset {
                scope: ResetScope::Database,
                database: Some(n.name.clone()),
                object: None,
                at: n.stats_reset.filter(|_| moved),
                what: format!(
                    "the statistics of database `{}` were reset (pg_stat_reset()): its activity and its tables' dead rows are not compared",
                    n.name
                ),
            });
        }
    }
}

fn statements(old: &Snapshot, new: &Snapshot, out: &mut Vec<CounterReset>) {
    let (Some(o), Some(n)) = (&old.statements, &new.statements) else {
        return;
    };
    let moved = n.stats_reset.is_some() && n.stats_reset != o.stats_reset;
    if moved || n.totals.calls < o.totals.calls {
        out.push(CounterReset {
            scope: ResetScope::Statements,
            database: None,
            object: None,
            at: n.stats_reset.filter(|_| moved),
            what: "pg_stat_statements was reset (pg_stat_statements_reset()): statements are compared by their mean time since the reset against the old mean, not by the difference of their totals".into(),
        });
    } else if let (Some(od), Some(nd)) = (o.dealloc, n.dealloc) {
        if nd > od {
            out.push(CounterReset {
                scope: ResetScope::StatementsEvicted,
                database: None,
                object: None,
                at: None,
                what: format!(
                    "{} evicted from pg_stat_statements in between (pg_stat_statements.max reached): an evicted statement counts again from zero and is compared by its own mean",
                    crate::units::counted(nd - od, "statement was", "statements were")
                ),
            });
        }
    }
}

fn checkpointer_and_wal(old: &Snapshot, new: &Snapshot, out: &mut Vec<CounterReset>) {
    if let (Some(o), Some(n)) = (&old.checkpointer, &new.checkpointer) {
        let moved = n.stats_reset.is_some() && n.stats_reset != o.stats_reset;
        if moved || n.buffers_alloc < o.buffers_alloc || n.checkpoints_timed < o.checkpoints_timed {
            out.push(CounterReset {
                scope: ResetScope::Checkpointer,
                database: None,
                object: None,
                at: n.stats_reset.filter(|_| moved),
                what: "the checkpointer and background writer counters were reset".into(),
            });
        }
    }
    if let (Some(o), Some(n)) = (&old.wal, &new.wal) {
        let moved = n.stats_reset.is_some() && n.stats_reset != o.stats_reset;
        if moved || n.wal_bytes < o.wal_bytes {
            out.push(CounterReset {
                scope: ResetScope::Wal,
                database: None,
                object: None,
                at: n.stats_reset.filter(|_| moved),
                what: "the WAL counters (pg_stat_wal) were reset".into(),
            });
        }
    }
}

/// Tables whose counters fell, in databases whose statistics were not reset as a whole
/// (a database reset already covers its tables).
fn tables(old: &Snapshot, new: &Snapshot, out: &mut Vec<CounterReset>) {
    let old_dbs = old.all_database_sections();
    for n in new.all_database_sections() {
        if database_reset(out, &n.name) {
            continue;
        }
        let Some(o) = old_dbs.iter().find(|o| o.name == n.name) else {
            continue;
        };
        for nt in &n.tables {
            let Some(ot) = o
                .tables
                .iter()
                .find(|t| t.schema == nt.schema && t.name == nt.name)
            else {
                continue;
            };
            let what = if ot.oid != nt.oid {
                "was dropped and created again: its counters start from zero"
            } else if counters_fell(ot, nt) {
                "had its counters reset (pg_stat_reset_single_table_counters()): its dead rows are not compared"
            } else {
                continue;
            };
            out.push(CounterReset {
                scope: ResetScope::Table,
                database: Some(n.name.clone()),
                object: Some(nt.qualified_name()),
                at: None,
                what: format!("table `{}` in `{}` {what}", nt.qualified_name(), n.name),
            });
        }
    }
}

fn counters_fell(o: &Table, n: &Table) -> bool {
    n.n_tup_ins < o.n_tup_ins
        || n.n_tup_upd < o.n_tup_upd
        || n.n_tup_del < o.n_tup_del
        || n.seq_scan < o.seq_scan
        || n.vacuum_count < o.vacuum_count
        || n.autovacuum_count < o.autovacuum_count
        || n.analyze_count < o.analyze_count
}

/// Whether `database`'s statistics were reset.
pub fn database_reset(resets: &[CounterReset], database: &str) -> bool {
    resets
        .iter()
        .any(|r| r.scope == ResetScope::Database && r.database.as_deref() == Some(database))
}

/// Whether a table's counters were reset, by itself or with its database.
pub fn table_reset(resets: &[CounterReset], database: &str, qualified_name: &str) -> bool {
    database_reset(resets, database)
        || resets.iter().any(|r| {
            r.scope == ResetScope::Table
                && r.database.as_deref() == Some(database)
                && r.object.as_deref() == Some(qualified_name)
        })
}

/// Whether `pg_stat_statements` was reset as a whole.
pub fn statements_reset(resets: &[CounterReset]) -> bool {
    resets.iter().any(|r| r.scope == ResetScope::Statements)
}
