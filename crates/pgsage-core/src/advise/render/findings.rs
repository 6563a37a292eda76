//! Advice as IDX009 findings: one per recommendation, the shape of an audit report's
//! findings, so `pgsage indexes --format json` merges with `pgsage audit` reports. The
//! rule IDX009 builds its findings with the same [`draft`] and adds the snapshot's
//! table statistics.

use crate::units;
use serde_json::json;

use crate::advise::model::{IndexAdvice, Recommendation};
use crate::report::{Draft, Finding, ObjectKind, ObjectRef, Severity};
use crate::workload::Workload;

/// IDX009's id.
pub(crate) const RULE_ID: &str = "IDX009";

/// IDX009's pack and title, as its entry in the rule registry (a layer above) gives them;
/// the engine's tests keep the two in step.
pub(crate) const PACK: &str = "indexing";
pub(crate) const TITLE: &str = "Missing index for the workload's statements";

/// What creating the index needs.
pub(crate) const FIX_REQUIRES: &str = "CREATE on the schema; builds without blocking writes";

/// What to watch once it exists.
pub(crate) const FIX_WATCH: &str = "the statements' mean time in pg_stat_statements; index size";

/// The low-confidence reason of unvalidated advice.
pub(crate) const UNVALIDATED: &str = "unvalidated: not checked with HypoPG on a server";

/// A finding draft for one recommendation: message, evidence (columns, size, helped
/// statements, costs when validated), the CREATE statement as the fix, and low
/// confidence when not validated. With the `workload` the advice came from, each helped
/// statement also gets its pg_stat_statements queryids and its share of the workload's
/// execution time.
pub(crate) fn draft(r: &Recommendation, database: &str, workload: Option<&Workload>) -> Draft {
    let calls: u64 = r.queries.iter().map(|q| q.calls).sum();
    let total_ms: f64 = r.queries.iter().map(|q| q.total_ms).sum();
    let mut columns = r.columns.join(", ");
    if !r.include.is_empty() {
        columns.push_str(&format!(") INCLUDE ({}", r.include.join(", ")));
    }
    let partial = r
        .predicate
        .as_deref()
        .map_or(String::new(), |p| format!(" WHERE {p}"));
    let costs = if r.validated {
        let drops: Vec<String> = r
            .queries
            .iter()
            .filter_map(|q| match (q.cost_before, q.cost_after) {
                (Some(b), Some(a)) => Some(format!("{} → {}", units::number(b), units::number(a))),
                _ => None,
            })
            .take(3)
            .collect();
        if drops.is_empty() {
            String::new()
        } else {
            format!("; planner cost with it (HypoPG): {}", drops.join(", "))
        }
    } else {
        String::new()
    };
    let message = format!(
        "{} statement{} on `{}` ({} executions, {} in the workload) {} rows by ({columns}){partial}, which no index serves; an index of about {} would save about {}{costs}",
        units::count(r.queries.len()),
        if r.queries.len() == 1 { "" } else { "s" },
        r.table,
        units::count(calls),
        units::millis(total_ms),
        if r.queries.len() == 1 {
            "searches"
        } else {
            "search"
        },
        units::bytes(r.estimated_size_bytes),
        units::millis(r.benefit_ms),
    );
    let statements: Vec<serde_json::Value> = r
        .queries
        .iter()
        .map(|q| {
            let mut v = json!({
                "fingerprint": q.fingerprint.to_string(),
                "calls": q.calls,
                "total_ms": round2(q.total_ms),
                "mean_ms": round2(if q.calls > 0 { q.total_ms / q.calls as f64 } else { 0.0 }),
                "query": super::format::cut(&q.query, 200),
            });
            let Some(obj) = v.as_object_mut() else {
                return v;
            };
            if let (Some(b), Some(a)) = (q.cost_before, q.cost_after) {
                obj.insert("cost_before".into(), json!(round2(b)));
                obj.insert("cost_after".into(), json!(round2(a)));
            }
            if let Some(w) = workload {
                if let Some(stats) = w.query(q.fingerprint) {
                    if !stats.queryids.is_empty() {
                        obj.insert("queryids".into(), json!(stats.queryids));
                    }
                }
                if w.totals.total_ms > 0.0 {
                    obj.insert(
                        "share_pct".into(),
                        json!((1000.0 * q.total_ms / w.totals.total_ms).round() / 10.0),
                    );
                }
            }
            v
        })
        .collect();
    let mut d = Draft::new(
        ObjectRef::in_schema(ObjectKind::Table, database, &r.schema, &r.table),
        message,
    )
    .evidence("columns", r.columns.clone())
    .evidence("estimated_size_bytes", r.estimated_size_bytes)
    .evidence("size_source", r.size_source.clone())
    .evidence("benefit_ms", r.benefit_ms.round())
    .evidence("validated", r.validated)
    .evidence("statements", statements)
    .recommend(format!(
        "Create the index with `{}` (CONCURRENTLY: writes go on while it builds; it cannot run inside a transaction block), then check that the statements' plans use it",
        r.create_statement
    ))
    .fix(r.create_statement.clone(), FIX_REQUIRES, FIX_WATCH);
    if !r.include.is_empty() {
        d = d.evidence("include", r.include.clone());
    }
    if let Some(p) = &r.predicate {
        d = d.evidence("predicate", p.clone());
    }
    if !r.redundant_indexes.is_empty() {
        d = d.evidence("redundant_indexes", r.redundant_indexes.clone());
    }
    if let Some(w) = &r.write_overhead {
        d = d.evidence("index_writes_per_hour", w.index_writes_per_hour.round());
    }
    if !r.validated {
        d = d.low_confidence(UNVALIDATED);
    }
    d
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// One IDX009 finding per recommendation (severity: IDX009's shipped default, warning).
pub fn findings(advice: &IndexAdvice) -> Vec<Finding> {
    let database = advice.database.as_deref().unwrap_or("?");
    advice
        .recommendations
        .iter()
        .map(|r| {
            let d = draft(r, database, None);
            Finding {
                rule: RULE_ID.to_owned(),
                pack: PACK.to_owned(),
                severity: Severity::Warning,
                title: TITLE.to_owned(),
                object: d.object,
                message: d.message,
                evidence: d.evidence,
                recommendation: d.recommendation,
                fix: d.fix,
                confidence: d.confidence,
                confidence_reason: d.confidence_reason,
            }
        })
        .collect()
}
