//! The `workload` pack: the workload questions as findings — long reads on the primary at
//! the interactive peak (WRK001), hot reads an application cache would serve (WRK002),
//! batch work overlapping the interactive peak (WRK003), thin headroom at the busiest
//! window (WRK004).
//!
//! The numbers come from [`crate::questions`], which also answers the reports'
//! "Workload" section with the same thresholds (these rules' parameters). The rules judge
//! a workload (server logs, or pg_stat_statements over a sampled interval) and the facts
//! given beside it ([`super::WorkloadContext::facts`]): a rule that needs a fact it lacks
//! (a snapshot's tables, the host's cores, time windows) skips with the reason.

mod batch_at_interactive_peak;
mod cache_candidate;
mod reports_on_primary_at_peak;
mod thin_headroom_at_peak;

pub use batch_at_interactive_peak::BatchAtInteractivePeak;
pub use cache_candidate::CacheCandidate;
pub use reports_on_primary_at_peak::ReportsOnPrimaryAtPeak;
pub use thin_headroom_at_peak::ThinHeadroomAtPeak;

use crate::questions::PeakStatement;
use crate::report::{ObjectKind, ObjectRef};
use crate::rules::{Draft, Rule};
use crate::workload::Workload;

use super::queries::{base_evidence, round1, short_text};

/// Rules judged only on server logs (they need time windows; pg_stat_statements keeps
/// one): their firing and quiet cases are log captures from real servers
/// (`testdata/logs/workload-windows`, `scripts/capture-workload-windows.sh`), not
/// snapshot scenarios.
pub const JUDGED_ON_LOGS_ONLY: &[&str] = &["WRK003"];

/// This pack's rules.
pub(crate) static RULES: &[Rule] = &[
    Rule::Workload(&ReportsOnPrimaryAtPeak),
    Rule::Workload(&CacheCandidate),
    Rule::Workload(&BatchAtInteractivePeak),
    Rule::Workload(&ThinHeadroomAtPeak),
];

/// The finding object for a statement of the answers.
fn statement_object(s: &PeakStatement) -> ObjectRef {
    ObjectRef {
        kind: ObjectKind::Query,
        database: s.database.clone(),
        schema: None,
        name: s.fingerprint.clone(),
        query: Some(short_text(&s.query)),
    }
}

/// A statement in the peak: its figures there, and the workload's common evidence.
fn peak_draft(w: &Workload, s: &PeakStatement, peak_label: &str, message: String) -> Draft {
    let mut d = Draft::new(statement_object(s), message)
        .evidence("peak_window", peak_label)
        .evidence("peak_calls", s.peak_calls)
        .evidence("peak_time_ms", round1(s.peak_ms))
        .evidence("peak_share_pct", round1(s.peak_share_pct));
    if let Some(io) = s.io_share_pct {
        d = d.evidence("blocks_read_share_pct", round1(io));
    }
    if !s.applications.is_empty() {
        d = d.evidence("applications", s.applications.join(", "));
    }
    if !s.users.is_empty() {
        d = d.evidence("users", s.users.join(", "));
    }
    match s.fingerprint.parse().ok().and_then(|f| w.query(f)) {
        Some(q) => base_evidence(d, q, w),
        None => d,
    }
}

/// The workload-window log captures (testdata/logs/workload-windows, captured from a real
/// server by scripts/capture-workload-windows.sh), judged by a rule with the manifest's
/// configuration.
#[cfg(test)]
pub(crate) mod log_cases {
    use std::path::PathBuf;
    use std::sync::atomic::AtomicBool;

    use crate::questions::Facts;
    use crate::report::Finding;
    use crate::workload::log::LogOptions;

    fn dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/logs/workload-windows")
    }

    fn manifest() -> serde_json::Value {
        let text = std::fs::read_to_string(dir().join("manifest.json"))
            .expect("manifest (scripts/capture-workload-windows.sh)");
        serde_json::from_str(&text).expect("manifest json")
    }

    /// The capture's workload, with the manifest's prefix and window length.
    pub(crate) fn workload(file: &str) -> crate::workload::Workload {
        let m = manifest();
        let prefix = m["log_line_prefix"].as_str().expect("prefix").to_owned();
        let bucket = m["bucket_seconds"].as_i64().expect("bucket");
        let opts = LogOptions::default().overridden(Some(prefix), None);
        crate::workload::from_log_files(&[dir().join(file)], &opts, bucket, &AtomicBool::new(false))
            .expect("log capture")
            .0
    }

    /// A statement of the capture (`report`, `import`) as the manifest records it.
    pub(crate) fn statement(key: &str) -> String {
        manifest()[key].as_str().expect("statement").to_owned()
    }

    /// Whether the manifest expects `rule` to fire on `file`.
    pub(crate) fn expects(file: &str, rule: &str) -> bool {
        manifest()["cases"][file]["expect"]
            .as_array()
            .expect("case")
            .iter()
            .any(|r| r == rule)
    }

    /// The rule's findings on the capture, without a snapshot.
    pub(crate) fn findings(file: &str, rule: &str) -> Vec<Finding> {
        let mut config = crate::RuleConfig::shipped().expect("packs");
        config
            .apply_toml(
                manifest()["config"].as_str().unwrap_or_default(),
                "manifest",
            )
            .expect("config");
        let w = workload(file);
        let (found, skipped, _) =
            crate::engine::workload::check_with(&w, &config, &Facts::default());
        if let Some(s) = skipped.iter().find(|s| s.rule == rule) {
            panic!("{rule} skipped on {file}: {}", s.reason);
        }
        found.into_iter().filter(|f| f.rule == rule).collect()
    }
}
