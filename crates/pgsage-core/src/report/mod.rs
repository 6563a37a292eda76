//! The [`Report`]: the JSON contract (`docs/report-format.md`) and its renderings.

pub mod actions;
mod draft;
mod finding;
pub mod render;
pub mod tenants;
pub mod workload_questions;

pub use actions::{Action, ActionFix, ImpactClass};
pub use draft::Draft;
pub use finding::{
    Confidence, Estimate, Evidence, Finding, Fix, FixLock, LockMode, ObjectKind, ObjectRef, Phase,
    SettingChange, Severity,
};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::host::MissingFact;
use crate::snapshot::{Gap, HostFacts, ToolInfo};

/// The report format version.
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// The result of an audit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// [`REPORT_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The pgsage build that made the report.
    pub tool: ToolInfo,
    /// The audited server.
    pub target: Target,
    /// Findings per severity.
    pub summary: Summary,
    /// The host facts the rules used and where they came from.
    pub host: HostFacts,
    /// Which counters usage-based rules used.
    pub counters: Counters,
    /// What the collector could not see.
    pub gaps: Vec<Gap>,
    /// Rules that did not run, and why.
    pub skipped: Vec<SkippedRule>,
    /// Findings hidden by suppressions.
    pub suppressed: Vec<SuppressedFinding>,
    /// What to do, first thing first: the findings grouped by root cause and ranked.
    /// Every finding is in exactly one action ([`actions::build`]).
    #[serde(default)]
    pub actions: Vec<Action>,
    /// The findings, worst first.
    pub findings: Vec<Finding>,
    /// Each tenant database's share of the cluster, when it holds at least two
    /// ([`tenants::of`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenants: Option<tenants::TenantTable>,
    /// The workload questions answered from the snapshot's pg_stat_statements: what runs
    /// at the peak, what could move to a replica or a cache, headroom
    /// ([`workload_questions`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload_questions: Option<workload_questions::WorkloadAnswers>,
}

/// The audited server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Target {
    /// e.g. `15.18`.
    pub server_version: String,
    /// e.g. `150018`.
    pub server_version_num: i32,
    /// The connected database.
    pub database: String,
    /// When the snapshot was taken.
    pub collected_at: DateTime<Utc>,
    /// `live` or `snapshot`.
    pub source: String,
    /// Where the server runs (`azure-flexible-server`, `aws-rds`, `aws-aurora`,
    /// `gcp-cloud-sql`, `gcp-alloydb`, `self-managed`) and how that is known: given
    /// (`flag`, `config`) or `detected: …` with the evidence. Absent in plan and workload
    /// reports, and in reports older than the field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<crate::snapshot::Fact<crate::snapshot::Platform>>,
    /// Every database whose tables and indexes were audited, the connected one first,
    /// when there are others (`--all-databases`, `--databases`); empty otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub databases: Vec<String>,
}

impl Target {
    /// How a report names an object: `schema.name`, or `database.schema.name` when it
    /// audited several databases (the same table may be in each).
    pub fn object_name(&self, object: &ObjectRef) -> String {
        match (&object.database, self.databases.is_empty()) {
            (Some(db), false) if object.schema.is_some() => {
                format!("{db}.{}", object.display_name())
            }
            _ => object.display_name(),
        }
    }
}

/// Number of findings per severity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Critical findings.
    pub critical: usize,
    /// Warnings.
    pub warning: usize,
    /// Informational findings.
    pub info: usize,
}

/// The counters behind usage-based rules, and whether they cover enough time to judge
/// (`crate::knowledge::counters::StatsWindow`): front ends show a banner when they do
/// not. The fields after `window_seconds` were added later and read as zero/false from
/// older reports. Audits fill every field; `pgsage plan` and `pgsage workload` reports
/// only `basis` and `window_seconds`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Counters {
    /// `interval` (two samples) or `since_reset`.
    pub basis: String,
    /// Length of the window in seconds: what rates and shares are computed over.
    pub window_seconds: f64,
    /// Age of the lifetime counters in seconds (since the connected database's statistics
    /// reset or the server's start, whichever is later): the window over which an unused
    /// index went unused. Equal to `window_seconds` without an interval.
    #[serde(default)]
    pub since_reset_seconds: f64,
    /// Whether the lifetime counters cover `min_usage_seconds`: below it, verdicts of
    /// absence of use (unused indexes) are unsure.
    #[serde(default)]
    pub long_enough_for_usage: bool,
    /// The configured minimum age for usage verdicts (`[audit] min_stats_age_hours`), in
    /// seconds.
    #[serde(default)]
    pub min_usage_seconds: f64,
    /// Whether the window covers `min_rate_seconds`: below it, rates and shares (temporary
    /// files per hour, cache hit ratio, requested checkpoints) are unsure.
    #[serde(default)]
    pub long_enough_for_rates: bool,
    /// The shortest window for rates and shares, in seconds: a sampled interval of 10
    /// minutes (or the minimum age, if shorter), else counters of the minimum age.
    #[serde(default)]
    pub min_rate_seconds: f64,
    /// The shortest sampled interval that gives confident rates and shares, in seconds:
    /// what a front end suggests sampling (two collections this far apart).
    #[serde(default)]
    pub min_interval_seconds: f64,
    /// Seconds until the lifetime counters reach `min_usage_seconds` (if neither reset
    /// nor restarted meanwhile): when to audit again. Absent once they have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage_judged_in_seconds: Option<f64>,
}

impl Counters {
    /// Whether the window is too short to judge usage (unused indexes) or rates and
    /// shares: front ends then say so first and how to get a window. Reports without
    /// window requirements (plans) are never too short.
    pub fn too_short(&self) -> bool {
        self.too_short_for_usage() || self.too_short_for_rates()
    }

    /// The lifetime counters are younger than usage verdicts need.
    pub fn too_short_for_usage(&self) -> bool {
        self.min_usage_seconds > 0.0 && !self.long_enough_for_usage
    }

    /// The window is shorter than rates and shares need.
    pub fn too_short_for_rates(&self) -> bool {
        self.min_rate_seconds > 0.0 && !self.long_enough_for_rates
    }

    /// The report's view of a statistics window.
    pub fn of(window: &crate::knowledge::counters::StatsWindow) -> Counters {
        let millis = |s: f64| (s * 1000.0).round() / 1000.0;
        let sampled = crate::knowledge::counters::StatsWindow {
            basis: crate::knowledge::counters::Basis::Interval { seconds: 0.0 },
            ..window.clone()
        };
        Counters {
            basis: window.basis.label().to_owned(),
            window_seconds: millis(window.basis.seconds()),
            since_reset_seconds: millis(window.since_reset_seconds),
            long_enough_for_usage: window.long_enough_for_usage(),
            min_usage_seconds: millis(window.min_age_seconds),
            long_enough_for_rates: window.long_enough_for_rates(),
            min_rate_seconds: millis(window.min_rate_seconds()),
            min_interval_seconds: millis(sampled.min_rate_seconds()),
            usage_judged_in_seconds: window.usage_judged_in_seconds().map(|s| s.round()),
        }
    }
}

/// A rule that did not run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedRule {
    /// Rule id.
    pub rule: String,
    /// Why.
    pub reason: String,
    /// The fact whose absence skipped it (host RAM, CPUs, storage), for front ends to
    /// say how to give it; absent from JSON when the skip has another reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_fact: Option<MissingFact>,
}

impl SkippedRule {
    /// A skip of `rule` for `reason`; `missing_fact` is set when the reason is a missing
    /// fact's ([`MissingFact::reason`]).
    pub fn new(rule: impl Into<String>, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        SkippedRule {
            rule: rule.into(),
            missing_fact: MissingFact::from_reason(&reason),
            reason,
        }
    }
}

/// A finding hidden by a suppression.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuppressedFinding {
    /// Rule id.
    pub rule: String,
    /// Object name.
    pub object: String,
    /// The suppression's reason.
    pub reason: String,
}

/// Which findings to keep in a rendered report.
#[derive(Debug, Clone, Default)]
pub struct ReportFilter {
    /// Only these packs (empty: all).
    pub packs: Vec<String>,
    /// Only findings at or above this severity.
    pub min_severity: Option<Severity>,
}

impl Report {
    /// Keeps the findings that pass `filter` and recounts the summary.
    pub fn filter(&mut self, filter: &ReportFilter) {
        self.findings.retain(|f| {
            (filter.packs.is_empty() || filter.packs.contains(&f.pack))
                && filter.min_severity.is_none_or(|m| f.severity >= m)
        });
        self.summary = Summary::of(&self.findings);
        self.actions = actions::build(&self.findings);
    }

    /// The worst severity among the findings.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// The report as pretty JSON (byte-identical for the same snapshot and config).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// `ram 24 GB (flag), cpus 4 (proc), storage unknown`: the host facts and their sources.
pub fn host_facts_line(host: &HostFacts) -> String {
    let ram = host
        .ram_bytes
        .as_ref()
        .map_or("ram unknown".to_owned(), |f| {
            format!("ram {} ({})", crate::units::bytes(f.value), f.source)
        });
    let cpus = host.cpus.as_ref().map_or("cpus unknown".to_owned(), |f| {
        format!("cpus {} ({})", f.value, f.source)
    });
    let storage = host
        .storage
        .as_ref()
        .map_or("storage unknown".to_owned(), |f| {
            format!("storage {:?} ({})", f.value, f.source).to_lowercase()
        });
    format!("{ram}, {cpus}, {storage}")
}

impl Summary {
    /// Counts findings per severity.
    pub fn of(findings: &[Finding]) -> Summary {
        let mut s = Summary::default();
        for f in findings {
            match f.severity {
                Severity::Critical => s.critical += 1,
                Severity::Warning => s.warning += 1,
                Severity::Info => s.info += 1,
            }
        }
        s
    }
}
