//! The index advisor's recommendations as a table ([`recommendations_frame`]), for
//! front ends that show them as a data frame.

use super::IndexAdvice;
use crate::frames::{typed_frame, Frame};
use crate::Result;

/// One recommended index as a table row (see [`recommendations_frame`]).
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct RecommendationRow {
    /// Schema of the table.
    pub schema: String,
    /// The table.
    pub table: String,
    /// Key columns, in order.
    pub columns: Vec<String>,
    /// Covering columns (`INCLUDE`).
    pub include: Vec<String>,
    /// Partial index predicate.
    pub predicate: Option<String>,
    /// The `CREATE INDEX CONCURRENTLY` statement.
    pub create_statement: String,
    /// Estimated size, bytes.
    pub estimated_size_bytes: i64,
    /// `hypopg` or `estimate`.
    pub size_source: String,
    /// Estimated execution time saved over the capture, ms.
    pub benefit_ms: f64,
    /// Whether the benefit was measured with HypoPG.
    pub validated: bool,
    /// How many of the workload's queries it helps.
    pub queries: u64,
    /// Their fingerprints.
    pub fingerprints: Vec<String>,
    /// Existing indexes it makes redundant.
    pub redundant_indexes: Vec<String>,
    /// Index entries to write per hour on the table.
    pub index_writes_per_hour: Option<f64>,
    /// The write-cost sentence.
    pub write_overhead: Option<String>,
}

/// The advisor's recommendations as a table, one [`RecommendationRow`] each, most
/// valuable first.
pub fn recommendations_frame(advice: &IndexAdvice) -> Result<Frame> {
    let rows: Vec<RecommendationRow> = advice
        .recommendations
        .iter()
        .map(|r| RecommendationRow {
            schema: r.schema.clone(),
            table: r.table.clone(),
            columns: r.columns.clone(),
            include: r.include.clone(),
            predicate: r.predicate.clone(),
            create_statement: r.create_statement.clone(),
            estimated_size_bytes: r.estimated_size_bytes,
            size_source: r.size_source.clone(),
            benefit_ms: r.benefit_ms,
            validated: r.validated,
            queries: r.queries.len() as u64,
            fingerprints: r
                .queries
                .iter()
                .map(|q| q.fingerprint.to_string())
                .collect(),
            redundant_indexes: r.redundant_indexes.clone(),
            index_writes_per_hour: r.write_overhead.as_ref().map(|w| w.index_writes_per_hour),
            write_overhead: r.write_overhead.as_ref().map(|w| w.note.clone()),
        })
        .collect();
    typed_frame("recommendations", &rows)
}
