//! Objects of the connected database: tables, indexes, foreign keys, sequences,
//! extensions and roles, each with its statistics.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A table (ordinary, partitioned or materialized view) with its statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    /// `pg_class.oid`.
    pub oid: u32,
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// `relkind`: `r` table, `p` partitioned table, `m` materialized view.
    pub kind: String,
    /// `relpersistence`: `p` permanent, `u` unlogged, `t` temporary.
    pub persistence: String,
    /// Whether it is a partition of a partitioned table.
    pub is_partition: bool,
    /// Whether it has a primary key.
    pub has_primary_key: bool,
    /// `reltuples` (-1: never vacuumed or analysed, on 14+).
    pub reltuples: f64,
    /// `relpages`.
    pub relpages: i64,
    /// Pages marked all-visible in the visibility map (`relallvisible`), as of the last
    /// VACUUM/ANALYZE: index-only scans skip the heap for these.
    #[serde(default)]
    pub relallvisible: i64,
    /// The partitioned table this one is a partition of (`pg_inherits`).
    #[serde(default)]
    pub parent_oid: Option<u32>,
    /// A partitioned table's partition key as `pg_get_partkeydef` prints it
    /// (`RANGE (created)`); `None` for other relations (and in older snapshots), left out
    /// of the file then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition_key: Option<String>,
    /// The columns of a partitioned table's partition key, in order, `None` for an
    /// expression (`pg_partitioned_table.partattrs`): a primary or unique key of a
    /// partitioned table must include them, and cannot exist when one is an expression.
    /// Empty for other relations, and left out of the file then.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partition_key_columns: Vec<Option<String>>,
    /// Storage parameters of its TOAST table (`toast.autovacuum_enabled=false` …).
    #[serde(default)]
    pub toast_reloptions: Vec<String>,
    /// Main fork size in bytes.
    pub heap_bytes: i64,
    /// TOAST table size in bytes (including its index).
    pub toast_bytes: i64,
    /// Size of all its indexes in bytes.
    pub indexes_bytes: i64,
    /// `age(relfrozenxid)`.
    pub frozenxid_age: i64,
    /// `mxid_age(relminmxid)`.
    pub minmxid_age: i64,
    /// `age(relfrozenxid)` of its TOAST table.
    pub toast_frozenxid_age: Option<i64>,
    /// Storage parameters, `name=value`.
    pub reloptions: Vec<String>,
    /// Sequential scans started.
    pub seq_scan: i64,
    /// Rows read by sequential scans.
    pub seq_tup_read: i64,
    /// Index scans started.
    pub idx_scan: Option<i64>,
    /// Rows fetched by index scans.
    pub idx_tup_fetch: Option<i64>,
    /// Rows inserted.
    pub n_tup_ins: i64,
    /// Rows updated.
    pub n_tup_upd: i64,
    /// Rows deleted.
    pub n_tup_del: i64,
    /// HOT updates.
    pub n_tup_hot_upd: i64,
    /// Estimated live rows.
    pub n_live_tup: i64,
    /// Estimated dead rows.
    pub n_dead_tup: i64,
    /// Rows modified since the last analyse.
    pub n_mod_since_analyze: i64,
    /// Rows inserted since the last vacuum (13+).
    pub n_ins_since_vacuum: Option<i64>,
    /// Last manual vacuum.
    pub last_vacuum: Option<DateTime<Utc>>,
    /// Last autovacuum.
    pub last_autovacuum: Option<DateTime<Utc>>,
    /// Last manual analyse.
    pub last_analyze: Option<DateTime<Utc>>,
    /// Last autoanalyse.
    pub last_autoanalyze: Option<DateTime<Utc>>,
    /// Manual vacuums.
    pub vacuum_count: i64,
    /// Autovacuums.
    pub autovacuum_count: i64,
    /// Manual analyses.
    pub analyze_count: i64,
    /// Autoanalyses.
    pub autoanalyze_count: i64,
    /// Last sequential scan (16+).
    pub last_seq_scan: Option<DateTime<Utc>>,
    /// Last index scan (16+).
    pub last_idx_scan: Option<DateTime<Utc>>,
    /// Heap blocks read from disk.
    pub heap_blks_read: i64,
    /// Heap blocks found in shared buffers.
    pub heap_blks_hit: i64,
    /// Index blocks read from disk.
    pub idx_blks_read: i64,
    /// Index blocks found in shared buffers.
    pub idx_blks_hit: i64,
    /// TOAST blocks read from disk.
    pub toast_blks_read: Option<i64>,
    /// TOAST blocks found in shared buffers.
    pub toast_blks_hit: Option<i64>,
}

impl Table {
    /// `schema.name`, quoted where needed.
    pub fn qualified_name(&self) -> String {
        crate::sql::qualified(&self.schema, &self.name)
    }

    /// A storage parameter's value, e.g. `autovacuum_enabled`.
    pub fn reloption(&self, name: &str) -> Option<&str> {
        self.reloptions.iter().find_map(|o| {
            let (k, v) = o.split_once('=')?;
            (k == name).then_some(v)
        })
    }
}

/// An index, its definition and statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Index {
    /// Index oid.
    pub oid: u32,
    /// Oid of the table it indexes.
    pub table_oid: u32,
    /// Schema.
    pub schema: String,
    /// Table name.
    pub table: String,
    /// Index name.
    pub name: String,
    /// `pg_get_indexdef`.
    pub definition: String,
    /// Access method (`btree`, `gin`, …).
    pub access_method: String,
    /// Key columns in order: column name, or the expression text.
    pub key_columns: Vec<String>,
    /// Attribute numbers of the key columns (0 for an expression).
    pub key_attnums: Vec<i16>,
    /// `INCLUDE` columns.
    pub include_columns: Vec<String>,
    /// Operator class of each key column.
    pub opclasses: Vec<String>,
    /// Partial index predicate.
    pub predicate: Option<String>,
    /// Unique index.
    pub is_unique: bool,
    /// Backs the primary key.
    pub is_primary: bool,
    /// Backs an exclusion constraint.
    pub is_exclusion: bool,
    /// `indisvalid`: false after a failed `CREATE INDEX CONCURRENTLY`.
    pub is_valid: bool,
    /// `indisready`: false while `CREATE INDEX CONCURRENTLY` has not reached its second phase
    /// (inserts do not maintain it yet).
    #[serde(default = "yes")]
    pub is_ready: bool,
    /// `indislive`: false while `DROP INDEX CONCURRENTLY` is removing it.
    #[serde(default = "yes")]
    pub is_live: bool,
    /// Index entries (`pg_class.reltuples`), as of the last VACUUM/ANALYZE/CREATE INDEX;
    /// -1 or 0 when never computed.
    #[serde(default)]
    pub reltuples: f64,
    /// Pages (`pg_class.relpages`), as of the last VACUUM/ANALYZE/CREATE INDEX.
    #[serde(default)]
    pub relpages: i64,
    /// Storage parameters (`fillfactor=70`, `deduplicate_items=off` …).
    #[serde(default)]
    pub reloptions: Vec<String>,
    /// Constraint it backs, if any.
    pub constraint_name: Option<String>,
    /// Constraint type it backs: `p`, `u`, `x`.
    pub constraint_type: Option<String>,
    /// Size in bytes.
    pub size_bytes: i64,
    /// Index scans.
    pub idx_scan: i64,
    /// Index entries returned.
    pub idx_tup_read: i64,
    /// Live rows fetched.
    pub idx_tup_fetch: i64,
    /// Blocks read from disk.
    pub idx_blks_read: i64,
    /// Blocks found in shared buffers.
    pub idx_blks_hit: i64,
    /// Last scan (16+).
    pub last_idx_scan: Option<DateTime<Utc>>,
}

impl Index {
    /// `schema.name`, quoted where needed.
    pub fn qualified_name(&self) -> String {
        crate::sql::qualified(&self.schema, &self.name)
    }

    /// A storage parameter's value, e.g. `fillfactor`.
    pub fn reloption(&self, name: &str) -> Option<&str> {
        self.reloptions.iter().find_map(|o| {
            let (k, v) = o.split_once('=')?;
            (k == name).then_some(v)
        })
    }
}

fn yes() -> bool {
    true
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForeignKey {
    /// Constraint name.
    pub name: String,
    /// Schema of the referencing table.
    pub schema: String,
    /// Referencing table.
    pub table: String,
    /// Oid of the referencing table.
    pub table_oid: u32,
    /// Referencing columns.
    pub columns: Vec<String>,
    /// Their attribute numbers.
    pub attnums: Vec<i16>,
    /// Schema of the referenced table.
    pub ref_schema: String,
    /// Oid of the referenced table.
    #[serde(default)]
    pub ref_table_oid: u32,
    /// Referenced table.
    pub ref_table: String,
    /// Referenced columns.
    pub ref_columns: Vec<String>,
    /// `ON DELETE` action code (`a` no action, `r` restrict, `c` cascade, `n` set null, `d` set default).
    pub on_delete: String,
    /// Whether the constraint is validated.
    pub is_valid: bool,
}

/// A sequence and how close it is to its maximum.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sequence {
    /// Schema.
    pub schema: String,
    /// Name.
    pub name: String,
    /// `smallint`, `integer` or `bigint`.
    pub data_type: String,
    /// Last value handed out (none when never used or not readable).
    pub last_value: Option<i64>,
    /// Maximum value.
    pub max_value: i64,
    /// Increment.
    pub increment: i64,
    /// Whether it cycles.
    pub cycle: bool,
    /// Owning column, `table.column`.
    pub owned_by: Option<String>,
    /// Type of the owning column (an `integer` column fed by a `bigint` sequence overflows first).
    pub owned_by_type: Option<String>,
}

/// An installed extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extension {
    /// Name.
    pub name: String,
    /// Installed version.
    pub version: String,
    /// Schema.
    pub schema: String,
}

/// A role that can log in, with its per-role settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Role {
    /// Name (hashed when redacted).
    pub name: String,
    /// Superuser.
    pub is_superuser: bool,
    /// `rolconnlimit` (-1: none).
    pub connection_limit: i32,
    /// Settings from `ALTER ROLE … SET` for all databases or the connected one, `name=value`.
    pub settings: Vec<String>,
}

/// A column of a table in the connected database, with its planner statistics when the
/// role may read them (`pg_stats` shows only tables the role can `SELECT` from).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    /// Oid of its table.
    pub table_oid: u32,
    /// Schema of its table.
    pub schema: String,
    /// Its table.
    pub table: String,
    /// Column name.
    pub name: String,
    /// Attribute number.
    pub attnum: i16,
    /// `format_type(atttypid, atttypmod)`, e.g. `integer`, `character varying(64)`, `bytea`.
    pub data_type: String,
    /// `NOT NULL`.
    pub not_null: bool,
    /// `GENERATED … AS IDENTITY`.
    pub is_identity: bool,
    /// Part of the primary key.
    pub in_primary_key: bool,
    /// `pg_stats.null_frac` (none when not visible or never analysed).
    pub null_frac: Option<f64>,
    /// `pg_stats.avg_width` in bytes.
    pub avg_width: Option<i32>,
    /// `pg_stats.n_distinct` (negative: a fraction of the rows).
    pub n_distinct: Option<f64>,
    /// `pg_stats.correlation`.
    pub correlation: Option<f64>,
    /// `attlen`: bytes of a fixed-width type, -1 for a varlena (`text`, `numeric`, …),
    /// -2 for a C string; 0 when unknown (older snapshots).
    #[serde(default)]
    pub type_len: i16,
    /// `attalign`: `c` (1 byte), `s` (2), `i` (4) or `d` (8); empty when unknown.
    #[serde(default)]
    pub type_align: String,
    /// Attributes of its relation including dropped ones (`relnatts`): more than the
    /// relation's live columns when columns were dropped (old rows still carry their
    /// values); 0 when unknown.
    #[serde(default)]
    pub table_natts: i16,
    /// Whether `pg_stats` hides this column's statistics from the role (no `SELECT` on it,
    /// or row-level security): its statistics are `null` although they may exist.
    #[serde(default)]
    pub stats_hidden: bool,
    /// An expression column of an expression index rather than a table column: then
    /// `table_oid` and `table` are the index's oid and name (as `pg_stats` lists it),
    /// `name` is the index attribute's name (`lower`, `expr` …) and `attnum` its position
    /// in the index.
    #[serde(default)]
    pub of_index: bool,
}

/// A primary key, unique, check or exclusion constraint (foreign keys are in
/// [`ForeignKey`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Constraint {
    /// Constraint name.
    pub name: String,
    /// Schema of its table.
    pub schema: String,
    /// Its table.
    pub table: String,
    /// `p` primary key, `u` unique, `c` check, `x` exclusion.
    pub kind: String,
    /// `convalidated`: false for `NOT VALID` constraints not yet validated.
    pub is_valid: bool,
    /// `pg_get_constraintdef`.
    pub definition: String,
}

/// A user trigger (not the internal ones behind foreign keys).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    /// Trigger name.
    pub name: String,
    /// Schema of its table.
    pub schema: String,
    /// Its table.
    pub table: String,
    /// `tgenabled`: `O` enabled, `D` disabled, `R` replica only, `A` always.
    pub enabled: String,
    /// Function it calls (`schema.name`).
    pub function: String,
}
