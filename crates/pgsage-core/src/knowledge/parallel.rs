//! Parallel query settings from the CPU count (PGTune's formulas).
//!
//! Reference: <https://www.postgresql.org/docs/current/runtime-config-resource.html#RUNTIME-CONFIG-RESOURCE-ASYNC-BEHAVIOR>.

use super::Profile;

/// The parallel settings from the CPU count, `None` below 4 CPUs (PGTune leaves the
/// defaults there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parallel {
    /// `max_worker_processes`: the CPUs, at least the default 8 (room for logical
    /// replication and extension workers).
    pub max_worker_processes: i64,
    /// `max_parallel_workers`: the CPUs.
    pub max_parallel_workers: i64,
    /// `max_parallel_workers_per_gather`: half the CPUs, at most 4 (except `dw`).
    pub max_parallel_workers_per_gather: i64,
    /// `max_parallel_maintenance_workers`: half the CPUs, at most 4.
    pub max_parallel_maintenance_workers: i64,
}

/// See [`Parallel`].
pub fn parallel(cpus: i64, profile: Profile) -> Option<Parallel> {
    if cpus < 4 {
        return None;
    }
    let half = (cpus + 1) / 2;
    Some(Parallel {
        max_worker_processes: cpus.max(8),
        max_parallel_workers: cpus,
        max_parallel_workers_per_gather: if profile == Profile::Dw {
            half
        } else {
            half.min(4)
        },
        max_parallel_maintenance_workers: half.min(4),
    })
}
