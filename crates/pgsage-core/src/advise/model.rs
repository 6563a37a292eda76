//! The index advisor's result, as plain serde data (the `pgsage indexes --format json`
//! contract, documented in `docs/indexes.md`).

use serde::{Deserialize, Serialize};

use crate::workload::fingerprint::Fingerprint;

/// The `indexes.json` format version.
pub const ADVICE_SCHEMA_VERSION: u32 = 1;

/// What the advisor recommends for a workload on a schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexAdvice {
    /// [`ADVICE_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The database the advice is for (the snapshot's or the connection's).
    pub database: Option<String>,
    /// Whether the recommendations were checked on a server with hypothetical indexes.
    pub validation: Validation,
    /// The budget the set was chosen under.
    pub budget: Budget,
    /// What happened to the workload's statements.
    pub statements: StatementCounts,
    /// The recommended indexes, most valuable first.
    pub recommendations: Vec<Recommendation>,
    /// Candidates considered and not recommended, with the reason (evidence for the DBA:
    /// "served by an existing index", "no cost gain", "over budget"…).
    pub rejected: Vec<Rejected>,
}

/// How (and whether) the advice was validated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Validation {
    /// Costs measured with HypoPG on a live server.
    Hypopg {
        /// The server's version (`15.18`).
        server_version: String,
        /// HypoPG's version.
        hypopg_version: String,
        /// How parameterized statements were planned.
        method: PlanMethod,
        /// EXPLAINs run (the work is capped; see `notes`).
        #[serde(default)]
        explains: usize,
        /// Statements that could not be planned (parameter types the server cannot
        /// infer, errors, timeouts): counted and left out, never fatal.
        #[serde(default)]
        unplannable: usize,
        /// What limited the validation (the work cap cutting the candidates evaluated,
        /// statements that could not be planned and why), for the report.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        notes: Vec<String>,
    },
    /// Not validated: candidates ranked by statement time and statistics only.
    Unvalidated {
        /// Why (no server given, HypoPG not installed in the database, …) and what to do.
        reason: String,
    },
}

/// How a statement with `$n` placeholders was planned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanMethod {
    /// `EXPLAIN (GENERIC_PLAN)` (PostgreSQL 16+).
    GenericPlan,
    /// Before 16: `PREPARE` under `plan_cache_mode = force_generic_plan`, then
    /// `EXPLAIN EXECUTE` with NULL arguments (a generic plan ignores the values).
    PreparedGeneric,
    /// Logged examples with their constants where available, else one of the above.
    Examples,
}

/// The budget of a recommendation set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Budget {
    /// At most this many new indexes.
    pub max_indexes: usize,
    /// At most this many bytes of new indexes in total (None: no limit).
    pub max_size_bytes: Option<i64>,
}

/// Counts of the workload's statements.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatementCounts {
    /// Fingerprints in the workload (for this database).
    pub total: usize,
    /// Reads and writes with a WHERE/JOIN/ORDER BY the advisor could use.
    pub analyzed: usize,
    /// Statements sqlparser could not parse (counted and skipped).
    pub unparsable: usize,
    /// Statements on tables not in the schema (other databases, temp tables, catalogs).
    pub unknown_tables: usize,
    /// Statements with nothing an index could serve (no predicate, DDL, utility…).
    pub not_indexable: usize,
    /// Statements of other databases (a log workload spanning several).
    pub other_databases: usize,
}

/// One recommended index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// Schema of the table.
    pub schema: String,
    /// The table.
    pub table: String,
    /// Key columns, in order (equality columns first, then one range or ORDER BY column).
    pub columns: Vec<String>,
    /// Covering columns (`INCLUDE`), turning a hot query into an index-only scan.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub include: Vec<String>,
    /// Partial index predicate (`state = 'draft'`), SQL text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    /// `CREATE INDEX CONCURRENTLY … ON … (…) [INCLUDE (…)] [WHERE …];`
    pub create_statement: String,
    /// Estimated size in bytes.
    pub estimated_size_bytes: i64,
    /// Where the size comes from: `hypopg` or `estimate` (rows × key width).
    pub size_source: String,
    /// Estimated execution time saved over the workload's capture, ms (validated: each
    /// query's total time × its relative cost drop; unvalidated: the queries' total time).
    pub benefit_ms: f64,
    /// The queries it helps.
    pub queries: Vec<HelpedQuery>,
    /// Existing indexes it makes redundant (their keys are a left prefix of its keys and
    /// they back no constraint).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redundant_indexes: Vec<String>,
    /// Cost of maintaining it on writes, from the table's write rate.
    pub write_overhead: Option<WriteOverhead>,
    /// Whether its benefit was measured with HypoPG.
    pub validated: bool,
}

/// A query an index helps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HelpedQuery {
    /// The workload fingerprint.
    pub fingerprint: Fingerprint,
    /// Normalized text.
    pub query: String,
    /// Executions in the workload.
    pub calls: u64,
    /// Execution time in the workload, ms.
    pub total_ms: f64,
    /// Planner cost without the index (validated only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_before: Option<f64>,
    /// Planner cost with the recommended set (validated only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_after: Option<f64>,
    /// The plan's scan of the table before/after, one line each (`Seq Scan on stock_move`
    /// → `Index Scan using <hypothetical> on stock_move`), validated only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_before: Option<String>,
    /// See `scan_before`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scan_after: Option<String>,
}

/// What an index costs on writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WriteOverhead {
    /// Rows inserted + non-HOT updated + deleted per hour on the table (index entries to
    /// add or mark), over the statistics basis.
    pub index_writes_per_hour: f64,
    /// Indexes the table has now.
    pub existing_indexes: usize,
    /// HOT updates per hour that the new index would break (its columns are updated),
    /// when known from the workload's UPDATE statements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hot_updates_at_risk_per_hour: Option<f64>,
    /// A sentence for the report.
    pub note: String,
}

/// A candidate not recommended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rejected {
    /// The `CREATE INDEX` it would have been.
    pub create_statement: String,
    /// Why not.
    pub reason: String,
}
