//! Ranking actions: data loss and outages first, then performance, then hygiene; within
//! a class the worse severity, the surer evidence, the theme a DBA would take first, and
//! the larger objects.

use std::cmp::Reverse;

use super::themes::{ImpactClass, Theme, THEMES};
use super::Action;
use crate::report::{Confidence, Finding, Severity};

/// Below this size, a performance problem on one object is not critical whatever the
/// ratio a rule measured: dead rows in a 3 MB table cost little, `fsync = off` may cost
/// the cluster.
pub(crate) const CRITICAL_OBJECT_BYTES: f64 = 1024.0 * 1024.0 * 1024.0;

/// A key that runs out within this many seconds at the measured rate makes its action
/// critical whatever share of its values is used: a month is the time it takes to plan
/// and run the table rewrite that widens it.
pub(crate) const URGENT_EXHAUSTION_S: f64 = 30.0 * 86_400.0;

/// Evidence keys that give the size of a finding's object.
const SIZE_KEYS: &[&str] = &[
    "table_bytes",
    "total_bytes",
    "size_bytes",
    "index_bytes",
    "referencing_bytes",
];

/// The size of a finding's object, when its evidence has it.
pub(crate) fn object_bytes(f: &Finding) -> Option<f64> {
    SIZE_KEYS
        .iter()
        .find_map(|k| f.evidence.get(*k).and_then(serde_json::Value::as_f64))
}

/// The action's severity: its worst finding's, scaled. Hygiene is never critical; a
/// performance action is critical only when a critical finding is server-wide or about
/// an object of at least [`CRITICAL_OBJECT_BYTES`].
pub(crate) fn severity(class: ImpactClass, findings: &[&Finding]) -> Severity {
    let worst = findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Info);
    let runs_out_soon = findings.iter().any(|f| {
        f.evidence
            .get("exhausted_in_s")
            .and_then(serde_json::Value::as_f64)
            .is_some_and(|s| s < URGENT_EXHAUSTION_S)
    });
    match class {
        ImpactClass::Outage if runs_out_soon => Severity::Critical,
        ImpactClass::Outage => worst,
        ImpactClass::Hygiene => worst.min(Severity::Warning),
        ImpactClass::Performance if worst == Severity::Critical => {
            let big = findings
                .iter()
                .filter(|f| f.severity == Severity::Critical)
                .any(|f| object_bytes(f).is_none_or(|b| b >= CRITICAL_OBJECT_BYTES));
            if big {
                Severity::Critical
            } else {
                Severity::Warning
            }
        }
        ImpactClass::Performance => worst,
    }
}

/// Sorts actions first-to-do first.
pub(super) fn sort(actions: &mut [(Option<&Theme>, Action)], findings: &[Finding]) {
    actions.sort_by_cached_key(|(theme, a)| {
        let class = match a.class.as_str() {
            "outage" => 0,
            "performance" => 1,
            _ => 2,
        };
        let priority = theme
            .and_then(|t| THEMES.iter().position(|x| x.id == t.id))
            .unwrap_or(THEMES.len());
        let bytes: f64 = a
            .findings
            .iter()
            .filter_map(|&i| object_bytes(&findings[i]))
            .sum();
        (
            class,
            Reverse(a.severity),
            a.confidence != Confidence::High,
            priority,
            Reverse(bytes.round() as u64),
            a.id.clone(),
        )
    });
}
