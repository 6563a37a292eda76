//! Text pieces shared by the table and Markdown renderings.

use crate::advise::model::{
    Budget, HelpedQuery, IndexAdvice, PlanMethod, Recommendation, StatementCounts, Validation,
};
use crate::units;

/// Text cut to `n` characters, on one line.
pub(crate) fn cut(s: &str, n: usize) -> String {
    let flat = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= n {
        flat
    } else {
        format!("{}…", flat.chars().take(n).collect::<String>())
    }
}

/// `validated with HypoPG 1.4.1 on PostgreSQL 15.18 (generic plans)` or
/// `NOT validated: <reason>`.
pub(crate) fn validation_line(v: &Validation) -> String {
    match v {
        Validation::Hypopg {
            server_version,
            hypopg_version,
            method,
            ..
        } => format!(
            "validated with HypoPG {hypopg_version} on PostgreSQL {server_version} ({})",
            match method {
                PlanMethod::GenericPlan => "EXPLAIN (GENERIC_PLAN)",
                PlanMethod::PreparedGeneric => "generic plans of prepared statements",
                PlanMethod::Examples => "logged examples with their constants",
            }
        ),
        Validation::Unvalidated { reason } => {
            format!("NOT validated (estimated from statement times and statistics): {reason}")
        }
    }
}

/// `at most 5 new indexes, 2 GB in total` (or `no size limit`).
pub(crate) fn budget_line(b: &Budget) -> String {
    format!(
        "at most {} new index{}, {}",
        units::count(b.max_indexes),
        if b.max_indexes == 1 { "" } else { "es" },
        b.max_size_bytes
            .map_or("no size limit".to_owned(), |s| format!(
                "{} in total",
                units::bytes(s)
            ))
    )
}

/// What happened to the workload's statements.
pub(crate) fn statements_line(s: &StatementCounts) -> String {
    let mut parts = vec![
        format!("{} in the workload", units::count(s.total)),
        format!("{} analyzed", units::count(s.analyzed)),
    ];
    for (n, label) in [
        (s.not_indexable, "with nothing to index"),
        (s.unknown_tables, "on tables not in the schema"),
        (s.other_databases, "of other databases"),
        (s.unparsable, "unparsable (skipped)"),
    ] {
        if n > 0 {
            parts.push(format!("{} {label}", units::count(n)));
        }
    }
    parts.join(", ")
}

/// One line about a recommendation: table, size, benefit, validation.
pub(crate) fn summary_line(r: &Recommendation) -> String {
    format!(
        "on {}.{} · {} ({}) · saves about {} over the capture · {}",
        r.schema,
        r.table,
        units::bytes(r.estimated_size_bytes),
        if r.size_source == "hypopg" {
            "HypoPG size"
        } else {
            "estimated"
        },
        units::millis(r.benefit_ms),
        if r.validated {
            "validated"
        } else {
            "not validated"
        }
    )
}

/// `1,234 → 12 (-99%)` when both costs are known, else `-`.
pub(crate) fn cost_text(q: &HelpedQuery) -> String {
    match (q.cost_before, q.cost_after) {
        (Some(b), Some(a)) if b > 0.0 => {
            let change = 100.0 * (a - b) / b;
            format!(
                "{} → {} ({}{})",
                units::number(b),
                units::number(a),
                if change > 0.0 { "+" } else { "" },
                units::percent(change)
            )
        }
        (Some(b), Some(a)) => format!("{} → {}", units::number(b), units::number(a)),
        _ => "-".to_owned(),
    }
}

/// `Seq Scan on t → Index Scan using … on t` when known, else `-`.
pub(crate) fn scan_text(q: &HelpedQuery) -> String {
    match (&q.scan_before, &q.scan_after) {
        (Some(b), Some(a)) => format!("{b} → {a}"),
        (Some(b), None) => b.clone(),
        (None, Some(a)) => format!("→ {a}"),
        _ => "-".to_owned(),
    }
}

/// The DROP advice for an index the recommendation makes redundant (`index` as the
/// advisor names it: qualified, or bare in the table's schema).
pub(crate) fn drop_hint(schema: &str, index: &str) -> String {
    let name = if index.contains('.') || index.contains('"') {
        index.to_owned()
    } else {
        crate::sql::qualified(schema, index)
    };
    format!(
        "{name}: after verifying that the new index is built and the plans use it, DROP INDEX CONCURRENTLY {name};"
    )
}

/// The header lines shared by the table and Markdown renderings: the validation, then
/// [`detail_lines`].
pub(crate) fn header_lines(a: &IndexAdvice) -> Vec<(String, String)> {
    let mut lines = vec![("validation".to_owned(), validation_line(&a.validation))];
    lines.extend(detail_lines(a));
    lines
}

/// The header lines after the validation (the HTML page shows the validation apart):
/// budget, statements, and the planning work and its notes when validated.
pub(crate) fn detail_lines(a: &IndexAdvice) -> Vec<(String, String)> {
    let mut lines = vec![
        ("budget".to_owned(), budget_line(&a.budget)),
        ("statements".to_owned(), statements_line(&a.statements)),
    ];
    if let Validation::Hypopg {
        explains,
        unplannable,
        notes,
        ..
    } = &a.validation
    {
        let mut text = format!("{} EXPLAINs", units::count(*explains));
        if *unplannable > 0 {
            text.push_str(&format!(
                ", {} statement(s) could not be planned (left out)",
                units::count(*unplannable)
            ));
        }
        lines.push(("planning".to_owned(), text));
        for n in notes {
            lines.push(("note".to_owned(), n.clone()));
        }
    }
    lines
}
