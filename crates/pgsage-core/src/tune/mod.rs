//! Configuration advice (`pgsage tune`): recommended settings from the hardware (as
//! PGTune computes them) refined by the workload measured in a [`Snapshot`] — temp
//! files for `work_mem`, the WAL rate and checkpoint causes for `max_wal_size`,
//! observed connections for `max_connections` and a pool size, table sizes and churn for
//! per-table autovacuum settings.
//!
//! [`recommend`] is pure: a snapshot and [`TuneOptions`] in, a [`TuneReport`] out
//! (serde; JSON documented in `docs/tuning.md`), rendered by [`render`]. The formulas are
//! [`crate::knowledge`]'s, shared with the audit's rules.

pub mod render;
mod values;
mod workload;

pub use crate::knowledge::Profile;
pub use values::{current_text, needs_restart_without_settings, Value};

use serde::{Deserialize, Serialize};

use crate::host::MissingFact;
use crate::knowledge::{autovacuum, connections, jit, memory, parallel, planner, storage, wal};
use crate::snapshot::{HostFacts, Snapshot, StorageKind};
use values::Rec;

/// What to tune for.
#[derive(Debug, Clone)]
pub struct TuneOptions {
    /// The workload profile.
    pub profile: Profile,
    /// Host facts from flags and configuration (flags already preferred over the
    /// configuration by the caller); the snapshot's recorded facts fill the rest.
    pub host: HostFacts,
    /// The `max_connections` to plan for, instead of deriving it from the snapshot.
    pub connections: Option<i64>,
    /// Which large tables get per-table autovacuum settings, and which: rule VAC005's
    /// parameters, so that both advise the same tables with the same values
    /// ([`crate::RuleConfig::tune_options`] fills it from the configuration).
    pub large_tables: autovacuum::LargeTablePolicy,
    /// The connection pool model's parameters: rule CON002's, so that both give the same
    /// pool size and limit ([`crate::RuleConfig::tune_options`] fills it from the
    /// configuration).
    pub pooling: connections::PoolPolicy,
    /// Counters since the statistics reset younger than this give no rates (the audit's
    /// `min_stats_age_hours`, in seconds).
    pub min_stats_age_seconds: f64,
}

impl TuneOptions {
    /// Options for a profile, without host facts, with the shipped packs' parameters.
    pub fn new(profile: Profile) -> Self {
        TuneOptions {
            profile,
            host: HostFacts::default(),
            connections: None,
            large_tables: autovacuum::LargeTablePolicy::default(),
            pooling: connections::PoolPolicy::default(),
            min_stats_age_seconds: crate::knowledge::counters::DEFAULT_MIN_STATS_AGE_HOURS * 3600.0,
        }
    }
}

/// Whether a change takes effect on reload or needs a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Apply {
    /// `SELECT pg_reload_conf()`.
    Reload,
    /// A server restart.
    Restart,
}

/// Where a recommendation comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Basis {
    /// Hardware formulas only.
    Hardware,
    /// The measured workload (with the hardware as bounds).
    Workload,
    /// The user's request (`--connections`).
    Request,
    /// An audit finding's fix for a setting the formulas do not size (durability,
    /// autovacuum, checkpoints, JIT thresholds, …).
    Audit,
}

/// One setting's advice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advice {
    /// Parameter name.
    pub name: String,
    /// Current value (`null` when the snapshot lacks it).
    pub current: Option<String>,
    /// Recommended value, as `ALTER SYSTEM` takes it.
    pub recommended: String,
    /// Whether it differs from the current value; `false` shows as "ok".
    pub change: bool,
    /// Reload or restart.
    pub apply: Apply,
    /// Hardware formula, measured workload or request.
    pub basis: Basis,
    /// Why this value.
    pub why: String,
    /// The numbers used, with units.
    pub evidence: Vec<String>,
}

/// Per-table autovacuum settings for a large table on the server-wide scale factor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableAdvice {
    /// `schema.table`, quoted where needed.
    pub table: String,
    /// Storage parameters to set, `(name, value)`.
    pub settings: Vec<(String, String)>,
    /// Why.
    pub why: String,
    /// The `ALTER TABLE` statement.
    pub sql: String,
}

/// A host fact the advice used, and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UsedFact {
    /// `ram`, `cpus` or `storage`.
    pub name: String,
    /// The value, human-readable.
    pub value: String,
    /// `flag`, `config`, or `snapshot (…)` with the snapshot's own source.
    pub source: String,
}

/// The advice for one server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TuneReport {
    /// The profile tuned for.
    pub profile: Profile,
    /// Server version, e.g. `16.4`.
    pub server_version: String,
    /// The host facts used.
    pub facts: Vec<UsedFact>,
    /// The managed service detected from its settings (`Azure Database for PostgreSQL`,
    /// `Amazon RDS`, …): values go into its server parameters, not `ALTER SYSTEM`.
    pub managed_service: Option<String>,
    /// What was not advised and why, and other remarks.
    pub notes: Vec<String>,
    /// The facts that were missing (host RAM, CPUs, storage, a sampled interval): the
    /// notes say what was not advised without them; front ends say how to give them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing_facts: Vec<MissingFact>,
    /// Per-setting advice, including settings already right (`change: false`).
    pub settings: Vec<Advice>,
    /// Per-table autovacuum settings.
    pub tables: Vec<TableAdvice>,
    /// Server connections per pool for a pooler in front of the server (PgBouncer
    /// `default_pool_size`), when the CPUs are known and the sessions were collected: the
    /// pool size rule CON002 suggests.
    #[serde(default)]
    pub pool_size: Option<i64>,
    /// On a managed platform: the changes as the provider's commands, in its units, and
    /// the changes it does not let users make. Absent on a self-managed server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<crate::knowledge::server_parameters::PlatformFix>,
}

impl TuneReport {
    /// Renders the changes for `platform` ([`TuneReport::platform`]), after the settings
    /// are final.
    pub(crate) fn render_for_platform(
        &mut self,
        platform: crate::snapshot::Platform,
        snapshot: &Snapshot,
    ) {
        let changes: Vec<crate::report::SettingChange> = self
            .changes()
            .map(|a| crate::report::SettingChange {
                name: a.name.clone(),
                value: a.recommended.clone(),
                restart: a.apply == Apply::Restart,
            })
            .collect();
        self.platform = crate::knowledge::server_parameters::PlatformFix::plan(
            platform,
            &changes,
            Some(snapshot),
        );
    }

    /// The settings to change.
    pub fn changes(&self) -> impl Iterator<Item = &Advice> {
        self.settings.iter().filter(|a| a.change)
    }

    /// The `ALTER SYSTEM` script applying the changes (or, on a managed service, the
    /// values to enter as server parameters, as comments).
    pub fn script(&self) -> String {
        render::script(self)
    }
}

/// Computes the advice. See `docs/tuning.md` for the formulas and the evidence used.
pub fn recommend(snapshot: &Snapshot, options: &TuneOptions) -> TuneReport {
    let profile = options.profile;
    let mut notes = Vec::new();
    let host = options.host.clone().or(&HostFacts {
        ram_bytes: snapshot.host.ram_bytes.clone().map(|mut f| {
            f.source = format!("snapshot ({})", f.source);
            f
        }),
        cpus: snapshot.host.cpus.clone().map(|mut f| {
            f.source = format!("snapshot ({})", f.source);
            f
        }),
        storage: snapshot.host.storage.clone().map(|mut f| {
            f.source = format!("snapshot ({})", f.source);
            f
        }),
        platform: None,
        tier: None,
    });
    let mut facts = Vec::new();
    if let Some(f) = &host.ram_bytes {
        facts.push(UsedFact {
            name: "ram".into(),
            value: crate::units::bytes(f.value),
            source: f.source.clone(),
        });
    }
    if let Some(f) = &host.cpus {
        facts.push(UsedFact {
            name: "cpus".into(),
            value: format!("{}", f.value),
            source: f.source.clone(),
        });
    }
    if let Some(f) = &host.storage {
        facts.push(UsedFact {
            name: "storage".into(),
            value: storage_name(f.value).into(),
            source: f.source.clone(),
        });
    }
    let ram = host.ram_bytes.as_ref().map(|f| f.value);
    let cpus = host.cpus.as_ref().map(|f| (f.value.floor() as i64).max(1));
    let storage = host.storage.as_ref().map(|f| f.value);
    let mut missing_facts = Vec::new();
    if ram.is_none() {
        missing_facts.push(MissingFact::Ram);
        notes.push(format!(
            "{}: memory settings (shared_buffers, effective_cache_size, work_mem, \
             maintenance_work_mem, wal_buffers, huge_pages) are not advised",
            MissingFact::Ram.reason()
        ));
    }
    if cpus.is_none() {
        missing_facts.push(MissingFact::Cpus);
        notes.push(format!(
            "{}: parallel settings are not advised",
            MissingFact::Cpus.reason()
        ));
    }
    if storage.is_none() {
        missing_facts.push(MissingFact::Storage);
        notes.push(format!(
            "{}: random_page_cost and effective_io_concurrency are not advised",
            MissingFact::Storage.reason()
        ));
    }
    if snapshot.window_seconds().is_none() {
        missing_facts.push(MissingFact::Interval);
        notes.push(MissingFact::Interval.reason().to_owned());
    }

    let mut recs: Vec<Rec> = Vec::new();
    let w = workload::Workload::read(snapshot);

    // Connections first: work_mem depends on them.
    let (connections, pool_size) = workload::connections(
        snapshot,
        crate::knowledge::platform::of(snapshot, &host).value,
        options.connections,
        host.cpus.as_ref().map(|f| f.value),
        &options.pooling,
        profile,
        &mut recs,
        &mut notes,
    );

    if let Some(ram) = ram {
        let sb = memory::shared_buffers(ram);
        recs.push(Rec::bytes(
            "shared_buffers",
            sb,
            Basis::Hardware,
            format!(
                "a quarter of RAM ({}): PostgreSQL's own cache; the OS page cache holds the rest",
                crate::units::bytes(ram)
            ),
        ));
        recs.push(Rec::bytes(
            "effective_cache_size",
            memory::effective_cache_size(ram),
            Basis::Hardware,
            "three quarters of RAM: what the planner may assume is cached (shared buffers + OS cache); allocates nothing".into(),
        ));
        recs.push(Rec::bytes(
            "maintenance_work_mem",
            memory::maintenance_work_mem(ram, profile),
            Basis::Hardware,
            format!(
                "RAM/{} capped at 2 GB: faster VACUUM, CREATE INDEX and foreign key checks",
                memory::maintenance_work_mem_divisor(profile)
            ),
        ));
        recs.push(Rec::bytes(
            "wal_buffers",
            memory::wal_buffers(sb),
            Basis::Hardware,
            "3% of shared_buffers, at most one 16 MB WAL segment".into(),
        ));
        if memory::wants_huge_pages(sb) {
            recs.push(Rec::text(
                "huge_pages",
                "try",
                Basis::Hardware,
                "with 8 GB or more of shared buffers, huge pages cut page-table memory and TLB misses; reserve them with vm.nr_hugepages".into(),
            ));
        }
        let workers = cpus.map(|c| c.max(1)).unwrap_or(8);
        workload::work_mem(
            snapshot,
            &w,
            ram,
            sb,
            connections,
            workers,
            profile,
            &mut recs,
            &mut notes,
        );
    } else if let Some(spills) = &w.spills {
        notes.push(format!(
            "temp files show work_mem spills ({}), but without the RAM size no safe work_mem can be computed",
            spills.summary()
        ));
    }

    let (min_wal, max_wal) = wal::wal_sizes(profile);
    recs.push(
        Rec::bytes(
            "min_wal_size",
            min_wal,
            Basis::Hardware,
            format!("{profile} profile: WAL segments kept for reuse instead of recycled"),
        )
        .never_lower(),
    );
    workload::max_wal_size(snapshot, &w, max_wal, profile, &mut recs);
    recs.push(Rec::real(
        "checkpoint_completion_target",
        wal::CHECKPOINT_COMPLETION_TARGET,
        Basis::Hardware,
        "spread checkpoint writes over 90% of the interval (the default from PostgreSQL 14)".into(),
    ));
    if let Some(storage) = storage {
        recs.push(Rec::real(
            "random_page_cost",
            storage::random_page_cost(storage),
            Basis::Hardware,
            format!(
                "{} storage: random reads cost {} sequential ones",
                storage_name(storage),
                if storage == StorageKind::Hdd {
                    "about 4×"
                } else {
                    "almost the same as"
                }
            ),
        ));
        recs.push(Rec::int(
            "effective_io_concurrency",
            storage::effective_io_concurrency(storage),
            Basis::Hardware,
            format!(
                "{} storage: concurrent prefetch requests for bitmap heap scans",
                storage_name(storage)
            ),
        ));
        if snapshot.setting("maintenance_io_concurrency").is_some() {
            recs.push(
                Rec::int(
                    "maintenance_io_concurrency",
                    storage::effective_io_concurrency(storage),
                    Basis::Hardware,
                    format!(
                        "{} storage: the same prefetching for VACUUM, index builds and recovery",
                        storage_name(storage)
                    ),
                )
                .never_lower(),
            );
        }
    }
    if let Some(cpus) = cpus {
        match parallel::parallel(cpus, profile) {
            Some(p) => {
                let why = |what: &str| format!("{cpus} CPUs: {what}");
                recs.push(
                    Rec::int(
                        "max_worker_processes",
                        p.max_worker_processes,
                        Basis::Hardware,
                        why("one background worker per CPU, at least the default 8"),
                    )
                    .never_lower(),
                );
                recs.push(Rec::int(
                    "max_parallel_workers",
                    p.max_parallel_workers,
                    Basis::Hardware,
                    why("parallel workers at once, one per CPU"),
                ));
                recs.push(Rec::int(
                    "max_parallel_workers_per_gather",
                    p.max_parallel_workers_per_gather,
                    Basis::Hardware,
                    why(if profile == Profile::Dw {
                        "half the CPUs per query (dw)"
                    } else {
                        "half the CPUs per query, at most 4"
                    }),
                ));
                recs.push(Rec::int(
                    "max_parallel_maintenance_workers",
                    p.max_parallel_maintenance_workers,
                    Basis::Hardware,
                    why("half the CPUs for CREATE INDEX and VACUUM, at most 4"),
                ));
            }
            None => notes.push(format!(
                "{cpus} CPU(s): parallel settings left at their defaults (advised from 4 CPUs)"
            )),
        }
    }
    if jit::off_for(profile) {
        recs.push(Rec::text(
            "jit",
            "off",
            Basis::Hardware,
            format!("{profile} profile: JIT compilation costs more than it saves on short queries"),
        ));
    }
    recs.push(Rec::int(
        "default_statistics_target",
        planner::default_statistics_target(profile),
        Basis::Hardware,
        format!(
            "{profile} profile: {}",
            if profile == Profile::Dw {
                "finer statistics for large analytical queries"
            } else {
                "the default sample size is enough"
            }
        ),
    ));

    let tables = workload::autovacuum_tables(
        snapshot,
        &options.large_tables,
        options.min_stats_age_seconds,
        &mut notes,
    );

    let platform = crate::knowledge::platform::of(snapshot, &options.host).value;
    let managed_service = platform
        .is_managed()
        .then(|| platform.service_name().to_owned());
    if let Some(m) = &managed_service {
        notes.push(format!(
            "{m}: ALTER SYSTEM is not available; the script gives the changes as commands of {}, in the service's units",
            crate::knowledge::server_parameters::commands::cli_name(platform)
        ));
    }

    let mut settings: Vec<Advice> = recs.into_iter().map(|r| r.resolve(snapshot)).collect();
    if let Some(ram) = host.ram_bytes.as_ref().map(|f| f.value) {
        cap_work_mem_within_ram(snapshot, &mut settings, ram);
    }

    let mut report = TuneReport {
        profile,
        server_version: snapshot.server.version.clone(),
        facts,
        managed_service,
        notes,
        missing_facts,
        settings,
        tables,
        pool_size,
        platform: None,
    };
    report.render_for_platform(platform, snapshot);
    report
}

/// Lowers the recommended `work_mem` when the whole recommended configuration (the
/// advised values, the current ones elsewhere) would let every connection's work_mem,
/// shared_buffers and maintenance memory exceed RAM: the configuration `tune` gives must
/// not be one the memory overcommit check (MEM005) flags.
fn cap_work_mem_within_ram(snapshot: &Snapshot, settings: &mut [Advice], ram: u64) {
    let effective = |name: &str| -> Option<f64> {
        match settings.iter().find(|a| a.name == name) {
            Some(a) if a.change => crate::host::parse_size(&a.recommended)
                .ok()
                .map(|b| b as f64)
                .or_else(|| a.recommended.parse::<f64>().ok()),
            _ => snapshot
                .setting(name)
                .and_then(|s| s.as_bytes().or_else(|| s.as_f64())),
        }
    };
    let (Some(shared_buffers), Some(connections), Some(mwm)) = (
        effective("shared_buffers"),
        snapshot
            .setting("max_connections")
            .and_then(|s| s.as_f64())
            .map(|current| {
                settings
                    .iter()
                    .find(|a| a.name == "max_connections" && a.change)
                    .and_then(|a| a.recommended.parse::<f64>().ok())
                    .unwrap_or(current)
            }),
        effective("maintenance_work_mem"),
    ) else {
        return;
    };
    let workers = snapshot
        .setting("autovacuum_max_workers")
        .and_then(|s| s.as_f64())
        .unwrap_or(crate::knowledge::memory::DEFAULT_AUTOVACUUM_MAX_WORKERS);
    let av_mem = effective("autovacuum_work_mem")
        .filter(|b| *b > 0.0)
        .unwrap_or(mwm);
    let worst = crate::knowledge::memory::WorstCase {
        shared_buffers,
        connections,
        work_mem: 0.0,
        work_mem_factor: crate::knowledge::memory::WORST_CASE_WORK_MEM_FACTOR,
        autovacuum_workers: workers,
        autovacuum_mem: av_mem,
        maintenance_work_mem: mwm,
    };
    let ceiling = worst.work_mem_ceiling(ram as f64);
    let Some(advice) = settings.iter_mut().find(|a| a.name == "work_mem") else {
        return;
    };
    let wanted = crate::host::parse_size(&advice.recommended).unwrap_or(0);
    if wanted <= ceiling {
        return;
    }
    advice.recommended = crate::units::setting_bytes(ceiling);
    advice.change = snapshot
        .setting("work_mem")
        .and_then(|s| s.as_bytes())
        .is_none_or(|current| current.round() as u64 != ceiling);
    advice.why.push_str(&format!(
        "; capped at {} so that {} connections × work_mem, shared_buffers and maintenance memory stay within {} of RAM",
        crate::units::bytes(ceiling),
        connections,
        crate::units::bytes(ram)
    ));
}

fn storage_name(s: StorageKind) -> &'static str {
    match s {
        StorageKind::Hdd => "hdd",
        StorageKind::Ssd => "ssd",
        StorageKind::Nvme => "nvme",
        StorageKind::San => "san",
    }
}

#[cfg(test)]
mod tests;
