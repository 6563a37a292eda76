//! Memory settings from the host's RAM, the connections and the profile (PGTune's formulas,
//! le0pard/pgtune `configurationSlice.js`, with the deviations documented in
//! `docs/tuning.md`), what measured sorts and hashes need, and the worst case the server
//! may ask for.
//!
//! References: <https://www.postgresql.org/docs/current/runtime-config-resource.html>,
//! <https://wiki.postgresql.org/wiki/Tuning_Your_PostgreSQL_Server>.

use super::{Profile, GB, KB, MB};

/// `shared_buffers`: a quarter of RAM (every profile pgsage knows).
pub fn shared_buffers(ram: u64) -> u64 {
    ram / KB / 4 * KB
}

/// `effective_cache_size`: three quarters of RAM (what the planner may assume is cached by
/// shared buffers and the OS together; allocates nothing).
pub fn effective_cache_size(ram: u64) -> u64 {
    ram / KB * 3 / 4 * KB
}

/// The cap of [`maintenance_work_mem`].
pub const MAINTENANCE_WORK_MEM_CAP: u64 = 2 * GB;

/// The RAM divisor of [`maintenance_work_mem`]: 8 for `dw`, else 16.
pub fn maintenance_work_mem_divisor(profile: Profile) -> u64 {
    if profile == Profile::Dw {
        8
    } else {
        16
    }
}

/// `maintenance_work_mem`: RAM/16 (RAM/8 for `dw`), capped at 2GB.
pub fn maintenance_work_mem(ram: u64, profile: Profile) -> u64 {
    (ram / KB / maintenance_work_mem_divisor(profile) * KB).min(MAINTENANCE_WORK_MEM_CAP)
}

/// `wal_buffers`: 3% of `shared_buffers`, at most 16MB (one WAL segment; rounded up to
/// 16MB above 14MB), at least 32kB: PGTune's version of PostgreSQL's automatic value
/// (`-1`: 1/32 of `shared_buffers`, at most one WAL segment; `XLOGChooseNumBuffers` in
/// `src/backend/access/transam/xlog.c`).
pub fn wal_buffers(shared_buffers: u64) -> u64 {
    let sb_kb = shared_buffers / KB;
    let mut kb = 3 * sb_kb / 100;
    let max = 16 * MB / KB;
    if kb > max {
        kb = max;
    }
    if kb > 14 * MB / KB && kb < max {
        kb = max;
    }
    kb.max(32) * KB
}

/// Whether `work_mem` is halved for the profile (`mixed` and `dw` run large queries with
/// several sorts and hashes each).
pub fn work_mem_halved(profile: Profile) -> bool {
    matches!(profile, Profile::Mixed | Profile::Dw)
}

/// `work_mem`: `(RAM − shared_buffers) / ((max_connections + parallel workers) × 3)`,
/// halved for `mixed` and `dw`, floored at 4MB, in whole kB.
pub fn work_mem(
    ram: u64,
    shared_buffers: u64,
    connections: i64,
    workers: i64,
    profile: Profile,
) -> u64 {
    let available_kb = (ram.saturating_sub(shared_buffers) / KB) as f64;
    let per = available_kb / (((connections + workers).max(1) * 3) as f64);
    let kb = if work_mem_halved(profile) {
        per / 2.0
    } else {
        per
    }
    .floor() as u64;
    kb.max(4 * MB / KB) * KB
}

/// PostgreSQL's default `work_mem` (4MB): a server-wide value below it makes every sort
/// and hash spill sooner than PostgreSQL intends.
pub const DEFAULT_WORK_MEM: u64 = 4 * MB;

/// `huge_pages = try` pays off from 8GB of shared buffers (PostgreSQL's default is
/// already `try`; `on` would refuse to start without reserved pages).
pub fn wants_huge_pages(shared_buffers: u64) -> bool {
    shared_buffers >= 8 * GB
}

/// The `work_mem` a sort or hash that spilled `spilled_bytes` to a temp file needs to
/// stay in memory: about twice its on-disk size (in-memory tuples carry more overhead than
/// the compact on-disk format), rounded up to a MB.
pub fn work_mem_for_spill(spilled_bytes: f64) -> u64 {
    let bytes = (2.0 * spilled_bytes).ceil() as u64;
    bytes.div_ceil(MB) * MB
}

/// The largest `work_mem` the RAM allows when `busy` sessions and `workers` parallel workers
/// each use three `work_mem`-sized nodes beside `shared_buffers`: at most 2GB, at least the
/// hardware formula's `floor`.
pub fn work_mem_budget(ram: u64, shared_buffers: u64, busy: i64, workers: i64, floor: u64) -> u64 {
    let nodes = ((busy + workers).max(1) as u64) * 3;
    (ram.saturating_sub(shared_buffers) / nodes)
        .min(2 * GB)
        .max(floor)
}

/// The most of `maintenance_work_mem` / `autovacuum_work_mem` a vacuum uses for dead row
/// ids, bytes: 1GB before PostgreSQL 17 (an array of item pointers, limited to
/// `MaxAllocSize`), no limit from 17 (the TID store). See
/// <https://www.postgresql.org/docs/17/runtime-config-resource.html#GUC-AUTOVACUUM-WORK-MEM>.
pub fn vacuum_memory_cap(major: i32) -> f64 {
    if major < 17 {
        GB as f64
    } else {
        f64::INFINITY
    }
}

/// PostgreSQL's default `autovacuum_max_workers`.
pub const DEFAULT_AUTOVACUUM_MAX_WORKERS: f64 = 3.0;

/// The memory the server may ask for at worst: every connection running `work_mem_factor`
/// sorts or hashes at once, every autovacuum worker filling its memory, and one manual
/// maintenance command (`CREATE INDEX`, `VACUUM`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WorstCase {
    /// `shared_buffers`, bytes.
    pub shared_buffers: f64,
    /// `max_connections`.
    pub connections: f64,
    /// `work_mem`, bytes.
    pub work_mem: f64,
    /// `work_mem` allocations assumed per connection.
    pub work_mem_factor: f64,
    /// `autovacuum_max_workers`.
    pub autovacuum_workers: f64,
    /// What each autovacuum worker may use: `autovacuum_work_mem`, or
    /// `maintenance_work_mem` when that is -1.
    pub autovacuum_mem: f64,
    /// `maintenance_work_mem`, bytes.
    pub maintenance_work_mem: f64,
}

impl WorstCase {
    /// `max_connections × work_mem × work_mem_factor`.
    pub fn sessions(&self) -> f64 {
        self.connections * self.work_mem * self.work_mem_factor
    }

    /// `autovacuum_max_workers × autovacuum memory + maintenance_work_mem`.
    pub fn maintenance(&self) -> f64 {
        self.autovacuum_workers * self.autovacuum_mem + self.maintenance_work_mem
    }

    /// `shared_buffers` + sessions + maintenance, bytes.
    pub fn total(&self) -> f64 {
        self.shared_buffers + self.sessions() + self.maintenance()
    }

    /// The largest `work_mem` (whole MB, at least 1 MB) that keeps [`WorstCase::total`]
    /// within `ram`: what a recommended configuration must not exceed, or the memory
    /// overcommit check (MEM005, shipped `work_mem_factor` 1 and 100% of RAM) flags it.
    pub fn work_mem_ceiling(&self, ram: f64) -> u64 {
        let per = (self.connections * self.work_mem_factor).max(1.0);
        let room = (ram - self.shared_buffers - self.maintenance()).max(0.0);
        (((room / per) as u64) / MB * MB).max(MB)
    }
}

/// The allocations per connection and the share of RAM the shipped overcommit check
/// (MEM005) allows: what `pgsage tune` keeps its own configuration within.
pub const WORST_CASE_WORK_MEM_FACTOR: f64 = 1.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_work_mem_ceiling_keeps_the_worst_case_within_ram() {
        let mut w = WorstCase {
            shared_buffers: 256.0 * MB as f64,
            connections: 100.0,
            work_mem: 0.0,
            work_mem_factor: 1.0,
            autovacuum_workers: 3.0,
            autovacuum_mem: 64.0 * MB as f64,
            maintenance_work_mem: 64.0 * MB as f64,
        };
        let ram = GB as f64;
        let ceiling = w.work_mem_ceiling(ram);
        w.work_mem = ceiling as f64;
        assert!(w.total() <= ram, "{} > {ram}", w.total());
        w.work_mem = (ceiling + MB) as f64;
        assert!(w.total() > ram);
    }

    #[test]
    fn spills_need_twice_their_size_rounded_to_a_mb() {
        assert_eq!(work_mem_for_spill(20.0 * MB as f64), 40 * MB);
        assert_eq!(work_mem_for_spill(1.0), MB);
    }

    #[test]
    fn the_budget_lies_between_the_formula_and_2gb() {
        // (16GB − 4GB) / ((4 + 4) × 3) = 512MB.
        assert_eq!(work_mem_budget(16 * GB, 4 * GB, 4, 4, 4 * MB), 512 * MB);
        assert_eq!(work_mem_budget(1024 * GB, 4 * GB, 1, 1, 4 * MB), 2 * GB);
        assert_eq!(work_mem_budget(GB, GB, 4, 4, 4 * MB), 4 * MB);
    }

    #[test]
    fn vacuum_uses_at_most_1gb_before_17() {
        assert_eq!(vacuum_memory_cap(16), GB as f64);
        assert!(vacuum_memory_cap(17).is_infinite());
    }

    #[test]
    fn worst_case_adds_sessions_and_maintenance() {
        let w = WorstCase {
            shared_buffers: 4.0 * GB as f64,
            connections: 100.0,
            work_mem: 64.0 * MB as f64,
            work_mem_factor: 1.0,
            autovacuum_workers: 3.0,
            autovacuum_mem: GB as f64,
            maintenance_work_mem: GB as f64,
        };
        assert_eq!(w.sessions(), 6400.0 * MB as f64);
        assert_eq!(w.maintenance(), 4.0 * GB as f64);
        assert_eq!(w.total(), (8.0 * 1024.0 + 6400.0) * MB as f64);
    }
}
