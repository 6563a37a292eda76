//! Staying out of lock queues.
//!
//! `pg_relation_size`, `pg_indexes_size`, `pg_get_indexdef`, `pg_get_expr` (with a
//! relation) take an `ACCESS SHARE` lock on the relation, and `pg_sequence_last_value`
//! a `ROW EXCLUSIVE` one on the sequence (checked on 13–18). Behind a session holding —
//! or *waiting for* — a conflicting lock (a long `ALTER TABLE`, `VACUUM FULL`,
//! `ALTER SEQUENCE`), they would wait until `lock_timeout` and take the whole section
//! down with them. So the object queries first read `pg_locks` once, into this CTE,
//! and skip those calls for relations other sessions lock in a conflicting mode:
//! sizes become estimates from `pg_class.relpages`, index definitions and last values
//! are left out, and a gap says so.

/// `locked(relation, mode)`: relations of the connected database that other sessions
/// (or prepared transactions) hold or await in a mode that conflicts with
/// `ROW EXCLUSIVE` — a superset of those that conflict with `ACCESS SHARE`.
pub(super) const LOCKED_CTE: &str = "\
WITH locked AS MATERIALIZED (
  SELECT l.relation, l.mode::text AS mode
  FROM pg_catalog.pg_locks l
  WHERE l.locktype = 'relation'
    AND l.pid IS DISTINCT FROM pg_backend_pid()
    AND l.database = (SELECT d.oid FROM pg_catalog.pg_database d
                      WHERE d.datname = current_database())
    AND l.mode IN ('ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock')
)";

/// The only mode that conflicts with `ACCESS SHARE`.
pub(super) const EXCLUSIVE: &str = "locked.mode = 'AccessExclusiveLock'";
