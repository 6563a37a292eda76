//! The per-database sections of a snapshot: what a session sees only of the database it is
//! connected to (tables, indexes, constraints, sequences, extensions, column statistics).
//!
//! A snapshot keeps the connected database's sections at its top level (as version 1 did)
//! and, when collected with `--all-databases` or `--databases PATTERN`, every other
//! database's in [`Snapshot::other_databases`]. Rules read one database at a time through
//! [`Snapshot::database_views`]: a view is the snapshot with one database's sections in
//! place of the connected one's, so every rule works unchanged on every database.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    Column, Constraint, ErpFacts, Extension, ForeignKey, Gap, Index, Sequence, Snapshot, Table,
    Trigger,
};

/// One database's sections, collected over its own connection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseSections {
    /// The database's name.
    pub name: String,
    /// When this database's sections were read (server clock).
    pub collected_at: DateTime<Utc>,
    /// Its tables.
    pub tables: Vec<Table>,
    /// Its indexes.
    pub indexes: Vec<Index>,
    /// Its foreign keys.
    #[serde(default)]
    pub foreign_keys: Vec<ForeignKey>,
    /// Its sequences.
    #[serde(default)]
    pub sequences: Vec<Sequence>,
    /// Extensions installed in it.
    #[serde(default)]
    pub extensions: Vec<Extension>,
    /// Its columns, with planner statistics when visible.
    #[serde(default)]
    pub columns: Vec<Column>,
    /// Its primary key, unique, check and exclusion constraints.
    #[serde(default)]
    pub constraints: Vec<Constraint>,
    /// Its user triggers.
    #[serde(default)]
    pub triggers: Vec<Trigger>,
    /// The ERP application recognised in it, and what was read of it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub erp: Option<ErpFacts>,
    /// What could not be read in this database, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<Gap>,
}

impl Snapshot {
    /// Every database whose sections the snapshot holds: the connected one first, then
    /// the others in the order collected.
    pub fn database_names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.server.database.as_str())
            .chain(self.other_databases.iter().map(|d| d.name.as_str()))
    }

    /// Whether the snapshot holds more than the connected database's sections.
    pub fn has_other_databases(&self) -> bool {
        !self.other_databases.is_empty()
    }

    /// One view per database: the snapshot itself for the connected database, then for
    /// each of [`Snapshot::other_databases`] a copy whose per-database sections,
    /// `server.database` and (per-database) `gaps` are that database's and whose
    /// `other_databases` is empty. The server-wide sections are the same in every view.
    pub fn database_views(&self) -> impl Iterator<Item = Cow<'_, Snapshot>> {
        std::iter::once(Cow::Borrowed(self)).chain(
            self.other_databases
                .iter()
                .map(|d| Cow::Owned(self.view_of(d))),
        )
    }

    /// The view of one of [`Snapshot::other_databases`] (see [`Snapshot::database_views`]).
    pub fn view_of(&self, sections: &DatabaseSections) -> Snapshot {
        // Field by field, without `..`: the other databases' sections are never copied
        // (with hundreds of databases that would be the whole cost), and a new field
        // does not compile until it is decided whether it is per database.
        let Snapshot {
            snapshot_version,
            tool,
            collected_at,
            redacted,
            server,
            host,
            gaps,
            settings,
            databases,
            activity,
            lock_waits,
            vacuum_progress,
            checkpointer,
            wal,
            archiver,
            io,
            replication,
            replication_slots,
            standby,
            prepared_xacts,
            roles,
            provider_roles,
            provider_settings,
            tables: _,
            indexes: _,
            foreign_keys: _,
            sequences: _,
            extensions: _,
            columns: _,
            constraints: _,
            triggers: _,
            erp: _,
            wal_lsn_bytes,
            statements,
            // The baseline's tables are the connected database's: the other databases
            // were sampled once, so their views judge lifetime counters (server-wide
            // rates are judged once, in the connected database's view).
            baseline: _,
            other_databases: _,
        } = self;
        let DatabaseSections {
            name,
            collected_at: _,
            tables,
            indexes,
            foreign_keys,
            sequences,
            extensions,
            columns,
            constraints,
            triggers,
            erp,
            gaps: database_gaps,
        } = sections;
        // The server-wide gaps hold for every database; this database's own come after.
        let mut gaps = gaps.clone();
        gaps.extend(database_gaps.iter().cloned());
        gaps.sort();
        gaps.dedup();
        Snapshot {
            snapshot_version: *snapshot_version,
            tool: tool.clone(),
            collected_at: *collected_at,
            redacted: *redacted,
            server: crate::snapshot::ServerInfo {
                database: name.clone(),
                ..server.clone()
            },
            host: host.clone(),
            gaps,
            settings: settings.clone(),
            databases: databases.clone(),
            activity: activity.clone(),
            lock_waits: lock_waits.clone(),
            vacuum_progress: vacuum_progress.clone(),
            checkpointer: checkpointer.clone(),
            wal: wal.clone(),
            archiver: archiver.clone(),
            io: io.clone(),
            replication: replication.clone(),
            replication_slots: replication_slots.clone(),
            standby: standby.clone(),
            prepared_xacts: prepared_xacts.clone(),
            roles: roles.clone(),
            provider_roles: provider_roles.clone(),
            provider_settings: provider_settings.clone(),
            tables: tables.clone(),
            indexes: indexes.clone(),
            foreign_keys: foreign_keys.clone(),
            sequences: sequences.clone(),
            extensions: extensions.clone(),
            columns: columns.clone(),
            constraints: constraints.clone(),
            triggers: triggers.clone(),
            erp: erp.clone(),
            wal_lsn_bytes: *wal_lsn_bytes,
            statements: statements.clone(),
            baseline: None,
            other_databases: Vec::new(),
        }
    }

    /// The connected database's sections as a [`DatabaseSections`] (for code that treats
    /// every database alike, e.g. `pgsage diff`).
    pub fn connected_sections(&self) -> DatabaseSections {
        DatabaseSections {
            name: self.server.database.clone(),
            collected_at: self.collected_at,
            tables: self.tables.clone(),
            indexes: self.indexes.clone(),
            foreign_keys: self.foreign_keys.clone(),
            sequences: self.sequences.clone(),
            extensions: self.extensions.clone(),
            columns: self.columns.clone(),
            constraints: self.constraints.clone(),
            triggers: self.triggers.clone(),
            erp: self.erp.clone(),
            gaps: Vec::new(),
        }
    }

    /// Every database's sections, the connected one first.
    pub fn all_database_sections(&self) -> Vec<Cow<'_, DatabaseSections>> {
        std::iter::once(Cow::Owned(self.connected_sections()))
            .chain(self.other_databases.iter().map(Cow::Borrowed))
            .collect()
    }
}
