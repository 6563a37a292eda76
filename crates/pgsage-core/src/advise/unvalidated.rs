//! Advice without a server: the ranked candidates chosen in order under the budget,
//! each skipped when the indexes already chosen serve all its statements.

use std::collections::HashSet;

use crate::snapshot::Snapshot;
use crate::workload::fingerprint::Fingerprint;
use crate::workload::Workload;

use super::candidates::{generate, AnalyzedQuery, Candidate};
use super::model::{
    Budget, HelpedQuery, IndexAdvice, Recommendation, Rejected, Validation, ADVICE_SCHEMA_VERSION,
};
use super::options::AdvisorOptions;

/// Unvalidated advice: candidates chosen by weight under the budget; `reason` says why
/// it is unvalidated (goes into [`super::Validation::Unvalidated`]).
pub fn advise(
    workload: &Workload,
    schema: &Snapshot,
    opts: &AdvisorOptions,
    reason: &str,
) -> IndexAdvice {
    let generated = generate(workload, schema, opts);
    let mut rejected = generated.rejected;
    let mut recommendations: Vec<Recommendation> = Vec::new();
    let mut served: HashSet<(u32, Fingerprint)> = HashSet::new();
    let mut chosen: Vec<(String, Vec<Fingerprint>, u32)> = Vec::new();
    let mut size = 0i64;
    for c in generated.candidates {
        let create_statement = c.create_statement();
        let mut reject = |reason: String| {
            rejected.push(Rejected {
                create_statement: create_statement.clone(),
                reason,
            })
        };
        // A statement counts as served per table: one index per table it reads.
        if c.queries
            .iter()
            .all(|q| served.contains(&(c.table_oid, *q)))
        {
            let by = chosen
                .iter()
                .find(|(_, qs, t)| *t == c.table_oid && c.queries.iter().any(|q| qs.contains(q)))
                .map_or_else(String::new, |(s, _, _)| format!(": {s}"));
            reject(format!(
                "its statements are served by a recommended index{by}"
            ));
            continue;
        }
        if recommendations.len() >= opts.max_indexes {
            reject(format!(
                "over budget: {} already recommended (max_indexes)",
                crate::units::counted(opts.max_indexes, "index", "indexes")
            ));
            continue;
        }
        if let Some(max) = opts.max_size_bytes {
            if size + c.estimated_size_bytes > max {
                reject(format!(
                    "over budget: {} more would exceed the size budget of {} (max_size)",
                    crate::units::bytes(c.estimated_size_bytes),
                    crate::units::bytes(max)
                ));
                continue;
            }
        }
        size += c.estimated_size_bytes;
        for q in &c.queries {
            served.insert((c.table_oid, *q));
        }
        chosen.push((create_statement.clone(), c.queries.clone(), c.table_oid));
        recommendations.push(recommendation(&c, create_statement, &generated.queries));
    }
    IndexAdvice {
        schema_version: ADVICE_SCHEMA_VERSION,
        database: generated.database,
        validation: Validation::Unvalidated {
            reason: reason.to_owned(),
        },
        budget: Budget {
            max_indexes: opts.max_indexes,
            max_size_bytes: opts.max_size_bytes,
        },
        statements: generated.statements,
        recommendations,
        rejected,
    }
}

fn recommendation(
    c: &Candidate,
    create_statement: String,
    queries: &[AnalyzedQuery],
) -> Recommendation {
    let helped: Vec<HelpedQuery> = c
        .queries
        .iter()
        .filter_map(|fp| queries.iter().find(|q| q.fingerprint == *fp))
        .map(|q| HelpedQuery {
            fingerprint: q.fingerprint,
            query: q.query.clone(),
            calls: q.calls,
            total_ms: q.total_ms,
            cost_before: None,
            cost_after: None,
            scan_before: None,
            scan_after: None,
        })
        .collect();
    Recommendation {
        schema: c.schema.clone(),
        table: c.table.clone(),
        columns: c.columns.clone(),
        include: c.include.clone(),
        predicate: c.predicate.clone(),
        create_statement,
        estimated_size_bytes: c.estimated_size_bytes,
        size_source: "estimate".to_owned(),
        benefit_ms: c.weight_ms,
        queries: helped,
        redundant_indexes: c.redundant_indexes.clone(),
        write_overhead: c.write_overhead.clone(),
        validated: false,
    }
}
