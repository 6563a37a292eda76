//! Candidate indexes from a workload's statements: [`generate`] gives the ranked
//! [`Candidates`] that the unvalidated choice and the live validation choose from.
//!
//! The steps, one module each:
//! - `parse`: statement text → query blocks with their relations, indexable conjuncts,
//!   ORDER BY/GROUP BY/LIMIT and column reads (sqlparser, PostgreSQL dialect);
//!   `predicates` classifies the conjuncts;
//! - `resolve`: relations and columns against the snapshot's catalog (`catalog`), an
//!   unqualified table in the statement's roles' `search_path` (`search_path`);
//! - `analyze`: the workload's statements of the database, counted, and their drafts;
//! - `build`: drafts — equality columns (most selective first), then one range column
//!   or the ORDER BY columns; covering and partial variants; merging;
//! - `existing`: served by an existing index, or making one redundant;
//! - `estimate`: selectivity, size and write overhead;
//! - `rank`: gates with reasons, estimates, ranking.
//!
//! Partial candidates need a literal constant, which only a logged example has:
//! pg_stat_statements replaces every constant with `$n`, so a pg_stat_statements
//! workload gives partial candidates only for `col IS NULL` (not a constant).

mod analyze;
mod build;
pub(crate) mod catalog;
mod estimate;
mod existing;
pub(crate) mod parse;
mod predicates;
mod rank;
mod resolve;
mod search_path;

use crate::snapshot::Snapshot;
use crate::sql::{qualified, quote_ident};
use crate::workload::fingerprint::Fingerprint;
use crate::workload::Workload;

use super::model::{Rejected, StatementCounts, WriteOverhead};
use super::options::AdvisorOptions;

/// A candidate index on one table.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// The table's oid in the snapshot.
    pub table_oid: u32,
    /// Schema of the table.
    pub schema: String,
    /// The table.
    pub table: String,
    /// Key columns in order; a descending one (an ORDER BY with mixed directions) is
    /// `name DESC`.
    pub columns: Vec<String>,
    /// INCLUDE columns.
    pub include: Vec<String>,
    /// Partial index predicate, SQL text.
    pub predicate: Option<String>,
    /// The statements it would serve.
    pub queries: Vec<Fingerprint>,
    /// Their total execution time, ms (the ranking weight before validation).
    pub weight_ms: f64,
    /// Estimated size from the table's rows and the columns' widths, bytes.
    pub estimated_size_bytes: i64,
    /// Existing indexes it makes redundant.
    pub redundant_indexes: Vec<String>,
    /// Maintenance cost on writes.
    pub write_overhead: Option<WriteOverhead>,
    /// How the table is partitioned, for the statement that builds the index.
    pub partitioning: Partitioning,
}

/// Whether a candidate's table is partitioned: `CREATE INDEX CONCURRENTLY` cannot run
/// on a partitioned table, so its index is built on each partition and attached.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Partitioning {
    /// An ordinary table (or a partition of its own).
    #[default]
    None,
    /// A partitioned table whose partitions (schema, name) are all ordinary tables.
    Partitions(Vec<(String, String)>),
    /// A partitioned table with no partitions yet, or partitioned partitions: one
    /// non-concurrent `CREATE INDEX` (it blocks writes while it builds).
    Nested,
}

/// The name PostgreSQL would choose for an index on `table` (`table_col1_col2_idx`),
/// cut to the 63 bytes of an identifier.
fn index_name(table: &str, columns: &[String]) -> String {
    let cols: Vec<&str> = columns
        .iter()
        .map(|c| c.strip_suffix(" DESC").unwrap_or(c))
        .collect();
    let mut name = format!("{table}_{}_idx", cols.join("_"));
    if name.len() > 63 {
        let mut cut = 59;
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name.truncate(cut);
        name.push_str("_idx");
    }
    name
}

impl Candidate {
    /// The key columns as SQL for a `CREATE INDEX` column list: each name quoted where
    /// needed, `DESC` kept outside the quotes (`"Date" DESC`).
    pub fn key_sql(&self) -> Vec<String> {
        self.columns
            .iter()
            .map(|c| match c.strip_suffix(" DESC") {
                Some(name) => format!("{} DESC", quote_ident(name)),
                None => quote_ident(c),
            })
            .collect()
    }

    /// What follows the table in a `CREATE INDEX`: `(keys) [INCLUDE (…)] [WHERE …]`.
    pub fn index_body(&self) -> String {
        let mut sql = format!("({})", self.key_sql().join(", "));
        if !self.include.is_empty() {
            let include: Vec<String> = self.include.iter().map(|c| quote_ident(c)).collect();
            sql.push_str(&format!(" INCLUDE ({})", include.join(", ")));
        }
        if let Some(p) = &self.predicate {
            sql.push_str(&format!(" WHERE {p}"));
        }
        sql
    }

    /// `CREATE INDEX CONCURRENTLY ON schema.table (cols) [INCLUDE (…)] [WHERE …];` with
    /// identifiers quoted where needed. On a partitioned table, the statements that build
    /// it without blocking writes: the parent's index `ON ONLY` the parent (invalid until
    /// every partition has its own), each partition's concurrently, each attached.
    pub fn create_statement(&self) -> String {
        let table = qualified(&self.schema, &self.table);
        let body = self.index_body();
        match &self.partitioning {
            Partitioning::None => format!("CREATE INDEX CONCURRENTLY ON {table} {body};"),
            Partitioning::Nested => format!(
                "CREATE INDEX ON {table} {body}; -- partitioned table: CONCURRENTLY is not possible, this blocks writes while it builds"
            ),
            Partitioning::Partitions(parts) => {
                let parent = index_name(&self.table, &self.columns);
                let mut sql = format!(
                    "CREATE INDEX {} ON ONLY {table} {body};",
                    quote_ident(&parent)
                );
                for (schema, name) in parts {
                    let child = index_name(name, &self.columns);
                    sql.push_str(&format!(
                        "\nCREATE INDEX CONCURRENTLY {} ON {} {body};\nALTER INDEX {} ATTACH PARTITION {};",
                        quote_ident(&child),
                        qualified(schema, name),
                        qualified(&self.schema, &parent),
                        qualified(schema, &child),
                    ));
                }
                sql
            }
        }
    }
}

/// A statement the advisor understood, with what is needed to plan it on a server.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalyzedQuery {
    /// The workload fingerprint.
    pub fingerprint: Fingerprint,
    /// Normalized text (`$n` placeholders).
    pub query: String,
    /// Text to EXPLAIN with placeholders: pg_stat_statements' own text when known, else
    /// the normalized text.
    pub explain_text: String,
    /// Number of distinct `$n` placeholders in `explain_text`.
    pub params: usize,
    /// A logged example with its constants, when the workload has one.
    pub example: Option<String>,
    /// Executions.
    pub calls: u64,
    /// Execution time, ms.
    pub total_ms: f64,
    /// The tables it reads or writes (oids in the snapshot).
    pub tables: Vec<u32>,
    /// The schemas its unqualified names resolve in (its roles' `search_path`, `$user`
    /// replaced), when known: a server session plans it with the same path.
    pub search_path: Option<Vec<String>>,
}

/// The result of candidate generation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Candidates {
    /// The database the workload was filtered to.
    pub database: Option<String>,
    /// Ranked candidates, most promising first.
    pub candidates: Vec<Candidate>,
    /// The statements understood.
    pub queries: Vec<AnalyzedQuery>,
    /// Candidates dropped (served by an existing index, too unselective, …).
    pub rejected: Vec<Rejected>,
    /// What happened to the workload's statements.
    pub statements: StatementCounts,
}

/// Candidates for `workload` on the schema of `schema`.
pub fn generate(workload: &Workload, schema: &Snapshot, opts: &AdvisorOptions) -> Candidates {
    let catalog = catalog::Catalog::new(schema);
    let database = opts
        .database
        .clone()
        .unwrap_or_else(|| schema.server.database.clone());
    let analysis = analyze::analyze(workload, &catalog, &database, opts);
    let drafts = build::merge_identical(analysis.drafts, opts.max_include_columns);
    let drafts = build::fold_prefixes(drafts, opts.max_include_columns);
    let ranked = rank::rank(
        drafts,
        &catalog,
        analysis.workload_ms,
        &analysis.updates,
        opts,
    );
    Candidates {
        database: Some(database),
        candidates: ranked.candidates,
        queries: analysis.queries,
        rejected: ranked.rejected,
        statements: analysis.counts,
    }
}

#[cfg(test)]
mod tests;
