//! The `vacuum` pack: dead tuples, autovacuum settings and capacity, freezing, bloat.

mod autovacuum_capacity;
mod autovacuum_disabled;
pub(crate) mod bloat_estimate;
mod common;
pub(crate) mod dead_tuple_ratio;
mod large_table_default_scale_factor;
mod lax_autovacuum_storage_parameter;
mod low_hot_update_ratio;
mod stale_statistics;
pub(crate) mod table_bloat;
mod vacuum_overdue;
mod visibility_map_stale;
mod wraparound_risk;
mod xmin_horizon_held_back;

pub use autovacuum_capacity::AutovacuumCapacity;
pub use autovacuum_disabled::AutovacuumDisabled;
pub use dead_tuple_ratio::DeadTupleRatio;
pub use large_table_default_scale_factor::LargeTableDefaultScaleFactor;
pub use lax_autovacuum_storage_parameter::LaxAutovacuumStorageParameter;
pub use low_hot_update_ratio::LowHotUpdateRatio;
pub use stale_statistics::StaleStatistics;
pub use table_bloat::TableBloat;
pub use vacuum_overdue::VacuumOverdue;
pub use visibility_map_stale::VisibilityMapStale;
pub use wraparound_risk::WraparoundRisk;
pub use xmin_horizon_held_back::XminHorizonHeldBack;

/// This pack's rules.
pub(crate) static RULES: &[super::Rule] = &[
    super::Rule::Snapshot(&DeadTupleRatio),
    super::Rule::Snapshot(&AutovacuumDisabled),
    super::Rule::Snapshot(&VacuumOverdue),
    super::Rule::Snapshot(&StaleStatistics),
    super::Rule::Snapshot(&LargeTableDefaultScaleFactor),
    super::Rule::Snapshot(&WraparoundRisk),
    super::Rule::Snapshot(&XminHorizonHeldBack),
    super::Rule::Snapshot(&LowHotUpdateRatio),
    super::Rule::Snapshot(&TableBloat),
    super::Rule::Snapshot(&VisibilityMapStale),
    super::Rule::Snapshot(&AutovacuumCapacity),
    super::Rule::Snapshot(&LaxAutovacuumStorageParameter),
];
