//! The workload's statements, one by one: the database filter, parsing, resolution, the
//! counts, and the drafts of each statement's table uses.

use std::collections::{BTreeSet, HashMap};

use super::build::{drafts_for_use, Draft, StatementInfo};
use super::catalog::Catalog;
use super::parse::{parse, Parsed, ScopeKind};
use super::resolve::resolve;
use super::AnalyzedQuery;
use crate::advise::model::StatementCounts;
use crate::advise::options::AdvisorOptions;
use crate::workload::fingerprint::StatementKind;
use crate::workload::{QueryStats, Workload};

/// An UPDATE of the workload: the columns it sets and its executions.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct UpdateUse {
    /// Columns SET.
    pub columns: Vec<String>,
    /// Executions.
    pub calls: u64,
}

/// What the statements gave.
#[derive(Debug, Default)]
pub(crate) struct Analysis {
    /// The counts.
    pub counts: StatementCounts,
    /// The statements understood.
    pub queries: Vec<AnalyzedQuery>,
    /// Drafts, one per (statement, table use, variant).
    pub drafts: Vec<Draft>,
    /// The database's top-level execution time, ms (the denominator of workload shares).
    pub workload_ms: f64,
    /// UPDATEs per table oid (for HOT updates at risk).
    pub updates: HashMap<u32, Vec<UpdateUse>>,
}

/// This database's calls and time of a statement; None when it ran in others only. A
/// statement without a database breakdown (or only `?`) counts as this database's.
fn share(q: &QueryStats, database: &str) -> Option<(u64, f64)> {
    if q.databases.iter().all(|s| s.name == "?") {
        return Some((q.calls, q.total_ms));
    }
    q.databases
        .iter()
        .find(|s| s.name == database)
        .map(|s| (s.calls, s.total_ms))
}

/// Parses the first of the statement's texts that parses: the logged example (it has
/// the constants a partial index needs), pg_stat_statements' own text, the normalized
/// text.
fn parse_any(q: &QueryStats) -> Option<Parsed> {
    [
        q.example.as_deref(),
        q.server_text.as_deref(),
        Some(q.query.as_str()),
    ]
    .into_iter()
    .flatten()
    .find_map(|t| parse(t).ok())
}

/// Distinct `$n` placeholders in a text.
pub(crate) fn placeholders(text: &str) -> usize {
    let b = text.as_bytes();
    let mut seen = BTreeSet::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'$' {
            let start = i + 1;
            let mut j = start;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            let preceded_by_word = i > 0 && (b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_');
            if j > start && !preceded_by_word {
                seen.insert(&text[start..j]);
            }
            i = j.max(i + 1);
        } else {
            i += 1;
        }
    }
    seen.len()
}

/// Whether `LIKE 'prefix%'` can use a default-opclass B-tree: only in the C/POSIX
/// collation. `lc_collate` is a setting up to PostgreSQL 15; later snapshots do not say,
/// and the prefix search is skipped rather than guessed.
fn like_prefix_ok(catalog: &Catalog<'_>) -> bool {
    catalog
        .snapshot
        .setting("lc_collate")
        .is_some_and(|s| matches!(s.setting.as_str(), "C" | "POSIX"))
}

/// Analyzes the workload's statements of `database`.
pub(crate) fn analyze(
    workload: &Workload,
    catalog: &Catalog<'_>,
    database: &str,
    opts: &AdvisorOptions,
) -> Analysis {
    let like_ok = like_prefix_ok(catalog);
    let mut a = Analysis::default();
    for q in &workload.queries {
        let Some((calls, total_ms)) = share(q, database) else {
            a.counts.other_databases += 1;
            continue;
        };
        a.counts.total += 1;
        if q.toplevel != Some(false) {
            a.workload_ms += total_ms;
        }
        // DDL, transaction control and utility statements search no rows (and sqlparser
        // does not know all of them: they would count as unparsable).
        if matches!(
            q.kind,
            StatementKind::Ddl | StatementKind::Transaction | StatementKind::Utility
        ) {
            a.counts.not_indexable += 1;
            continue;
        }
        let Some(parsed) = parse_any(q) else {
            a.counts.unparsable += 1;
            continue;
        };
        let path = super::search_path::for_query(catalog.snapshot, q);
        let resolved = resolve(&parsed, catalog, path.as_deref(), like_ok);
        if resolved.uses.is_empty() {
            if resolved.unknown > 0 {
                a.counts.unknown_tables += 1;
            } else {
                a.counts.not_indexable += 1;
            }
            continue;
        }
        for u in resolved.uses.iter().filter(|u| u.kind == ScopeKind::Update) {
            a.updates.entry(u.table_oid).or_default().push(UpdateUse {
                columns: u.updated.clone(),
                calls,
            });
        }
        if !resolved.uses.iter().any(|u| u.indexable()) {
            a.counts.not_indexable += 1;
            continue;
        }
        a.counts.analyzed += 1;
        let mut tables: Vec<u32> = resolved.uses.iter().map(|u| u.table_oid).collect();
        tables.sort_unstable();
        tables.dedup();
        let explain_text = q.server_text.clone().unwrap_or_else(|| q.query.clone());
        a.queries.push(AnalyzedQuery {
            fingerprint: q.fingerprint,
            query: q.query.clone(),
            params: placeholders(&explain_text),
            explain_text,
            example: q.example.clone(),
            calls,
            total_ms,
            tables,
            search_path: path.clone(),
        });
        let observed = match (resolved.simple_single_table, q.rows) {
            (true, Some(rows)) if q.calls > 0 => resolved
                .uses
                .first()
                .and_then(|u| catalog.table_by_oid(u.table_oid))
                .map(|t| catalog.rows(t))
                .filter(|r| *r > 0.0)
                .map(|r| (rows as f64 / q.calls as f64 / r).clamp(0.0, 1.0)),
            _ => None,
        };
        let info = StatementInfo {
            fingerprint: q.fingerprint,
            weight_ms: total_ms,
            calls,
            observed_selectivity: observed,
        };
        for u in resolved.uses.iter().filter(|u| u.indexable()) {
            a.drafts.extend(drafts_for_use(u, &info, catalog, opts));
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::placeholders;

    #[test]
    fn counts_distinct_placeholders() {
        assert_eq!(placeholders("SELECT $1, $2 WHERE a = $1"), 2);
        assert_eq!(
            placeholders("SELECT a$1 FROM t WHERE x IN ($3 /*, ... */)"),
            1
        );
        assert_eq!(placeholders("SELECT 1"), 0);
    }
}
