//! The `planner` pack: cost settings vs storage, JIT, disabled planner methods, parallelism, observability.

mod disabled_planner_method;
mod io_concurrency_too_low;
mod jit_on_short_statements;
mod observability_gap;
mod parallel_settings_inconsistent;
mod random_page_cost_too_high;

pub use disabled_planner_method::DisabledPlannerMethod;
pub use io_concurrency_too_low::IoConcurrencyTooLow;
pub use jit_on_short_statements::JitOnShortStatements;
pub use observability_gap::ObservabilityGap;
pub use parallel_settings_inconsistent::ParallelSettingsInconsistent;
pub use random_page_cost_too_high::RandomPageCostTooHigh;

use crate::rules::{RuleContext, Skip};
use crate::snapshot::StorageKind;

/// This pack's rules.
pub(crate) static RULES: &[super::Rule] = &[
    super::Rule::Snapshot(&RandomPageCostTooHigh),
    super::Rule::Snapshot(&IoConcurrencyTooLow),
    super::Rule::Snapshot(&JitOnShortStatements),
    super::Rule::Snapshot(&DisabledPlannerMethod),
    super::Rule::Snapshot(&ParallelSettingsInconsistent),
    super::Rule::Snapshot(&ObservabilityGap),
];

/// The storage kind under the data directory, or a skip naming it missing.
pub(crate) fn storage_kind(ctx: &RuleContext<'_>) -> Result<(StorageKind, String), Skip> {
    ctx.host
        .storage
        .as_ref()
        .map(|f| (f.value, f.source.clone()))
        .ok_or_else(|| Skip::missing(crate::host::MissingFact::Storage))
}

/// `hdd`, `ssd`, `nvme`, `san`.
pub(crate) fn storage_label(kind: StorageKind) -> &'static str {
    match kind {
        StorageKind::Hdd => "hdd",
        StorageKind::Ssd => "ssd",
        StorageKind::Nvme => "nvme",
        StorageKind::San => "san",
    }
}
