//! Configuration advice (`pgsage tune`): recommended settings from the hardware (as
//! PGTune computes them) refined by the workload measured in a [`Snapshot`] — temp
//! files for `work_mem`, the WAL rate and checkpoint causes for `max_wal_size`,
//! observed connections for `max_connections` and a pool size, table churn for
//! per-table autovacuum settings.
//!
//! [`recommend`] is pure: a snapshot and [`TuneOptions`] in, a [`TuneReport`] out
//! (serde; JSON documented in `docs/tuning.md`), rendered by [`render`].

mod hardware;
pub mod render;
mod values;
mod workload;

pub use hardware::Parallel;
pub use values::{current_text, needs_restart_without_settings, Value};

use serde::{Deserialize, Serialize};

use crate::snapshot::{HostFacts, Snapshot, StorageKind};
use values::{fmt_bytes, Rec};

/// Formulas, exposed for tests and documentation.
pub mod formulas {
    pub use super::hardware::*;
}

/// The workload the server is tuned for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Many short transactions.
    Oltp,
    /// Web application: short queries, many connections.
    Web,
    /// Mixed transactional and reporting (the default: ERP servers run both).
    #[default]
    Mixed,
    /// Data warehouse: few, large analytical queries.
    Dw,
}

impl std::str::FromStr for Profile {
    type Err = crate::ParseValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "oltp" => Ok(Profile::Oltp),
            "web" => Ok(Profile::Web),
            "mixed" => Ok(Profile::Mixed),
            "dw" => Ok(Profile::Dw),
            other => Err(crate::ParseValueError::new(
                "profile",
                other,
                "oltp, web, mixed or dw",
            )),
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Profile::Oltp => "oltp",
            Profile::Web => "web",
            Profile::Mixed => "mixed",
            Profile::Dw => "dw",
        })
    }
}

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
}

impl TuneOptions {
    /// Options for a profile, without host facts.
    pub fn new(profile: Profile) -> Self {
        TuneOptions {
            profile,
            host: HostFacts::default(),
            connections: None,
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

/// Per-table autovacuum settings for a large, churny table.
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
    /// Per-setting advice, including settings already right (`change: false`).
    pub settings: Vec<Advice>,
    /// Per-table autovacuum settings.
    pub tables: Vec<TableAdvice>,
}

impl TuneReport {
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
    });
    let mut facts = Vec::new();
    if let Some(f) = &host.ram_bytes {
        facts.push(UsedFact {
            name: "ram".into(),
            value: fmt_bytes(f.value),
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
    if ram.is_none() {
        notes.push(
            "RAM unknown (pass --ram, set [host] ram in the configuration, or collect on the \
             database host): memory settings (shared_buffers, effective_cache_size, work_mem, \
             maintenance_work_mem, wal_buffers, huge_pages) are not advised"
                .into(),
        );
    }
    if cpus.is_none() {
        notes.push("CPU count unknown (pass --cpus): parallel settings are not advised".into());
    }
    if storage.is_none() {
        notes.push(
            "storage kind unknown (pass --storage hdd|ssd|nvme|san): random_page_cost and \
             effective_io_concurrency are not advised"
                .into(),
        );
    }

    let mut recs: Vec<Rec> = Vec::new();
    let w = workload::Workload::read(snapshot);

    // Connections first: work_mem depends on them.
    let connections = workload::connections(
        snapshot,
        &w,
        options.connections,
        cpus,
        profile,
        &mut recs,
        &mut notes,
    );

    if let Some(ram) = ram {
        let sb = hardware::shared_buffers(ram);
        recs.push(Rec::bytes(
            "shared_buffers",
            sb,
            Basis::Hardware,
            format!(
                "a quarter of RAM ({}): PostgreSQL's own cache; the OS page cache holds the rest",
                fmt_bytes(ram)
            ),
        ));
        recs.push(Rec::bytes(
            "effective_cache_size",
            hardware::effective_cache_size(ram),
            Basis::Hardware,
            "three quarters of RAM: what the planner may assume is cached (shared buffers + OS cache); allocates nothing".into(),
        ));
        recs.push(Rec::bytes(
            "maintenance_work_mem",
            hardware::maintenance_work_mem(ram, profile),
            Basis::Hardware,
            format!(
                "RAM/{} capped at 2GB: faster VACUUM, CREATE INDEX and foreign key checks",
                if profile == Profile::Dw { 8 } else { 16 }
            ),
        ));
        recs.push(Rec::bytes(
            "wal_buffers",
            hardware::wal_buffers(sb),
            Basis::Hardware,
            "3% of shared_buffers, at most one 16MB WAL segment".into(),
        ));
        if hardware::wants_huge_pages(sb) {
            recs.push(Rec::text(
                "huge_pages",
                "try",
                Basis::Hardware,
                "with 8GB+ of shared buffers, huge pages cut page-table memory and TLB misses; reserve them with vm.nr_hugepages".into(),
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

    let (min_wal, max_wal) = hardware::wal_sizes(profile);
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
        0.9,
        Basis::Hardware,
        "spread checkpoint writes over 90% of the interval (the default from PostgreSQL 14)".into(),
    ));
    if let Some(storage) = storage {
        recs.push(Rec::real(
            "random_page_cost",
            hardware::random_page_cost(storage),
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
            hardware::effective_io_concurrency(storage),
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
                    hardware::effective_io_concurrency(storage),
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
        match hardware::parallel(cpus, profile) {
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
    if matches!(profile, Profile::Oltp | Profile::Web) {
        recs.push(Rec::text(
            "jit",
            "off",
            Basis::Hardware,
            format!("{profile} profile: JIT compilation costs more than it saves on short queries"),
        ));
    }
    recs.push(Rec::int(
        "default_statistics_target",
        hardware::default_statistics_target(profile),
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

    let tables = workload::autovacuum_tables(snapshot, &w);

    let managed_service = managed_service(snapshot);
    if let Some(m) = &managed_service {
        notes.push(format!(
            "{m}: ALTER SYSTEM is not available; set these values as server parameters in the \
             service's portal, CLI or parameter group"
        ));
    }

    TuneReport {
        profile,
        server_version: snapshot.server.version.clone(),
        facts,
        managed_service,
        notes,
        settings: recs.into_iter().map(|r| r.resolve(snapshot)).collect(),
        tables,
    }
}

fn storage_name(s: StorageKind) -> &'static str {
    match s {
        StorageKind::Hdd => "hdd",
        StorageKind::Ssd => "ssd",
        StorageKind::Nvme => "nvme",
        StorageKind::San => "san",
    }
}

/// A managed service, recognised by the settings only it defines.
fn managed_service(s: &Snapshot) -> Option<String> {
    let has_prefix = |p: &str| s.settings.iter().any(|x| x.name.starts_with(p));
    if has_prefix("azure.") {
        Some("Azure Database for PostgreSQL".into())
    } else if has_prefix("rds.") {
        Some(if has_prefix("aurora") || has_prefix("apg_") {
            "Amazon Aurora PostgreSQL".into()
        } else {
            "Amazon RDS for PostgreSQL".into()
        })
    } else if has_prefix("cloudsql.") {
        Some("Google Cloud SQL for PostgreSQL".into())
    } else if has_prefix("alloydb.") || has_prefix("google_columnar_engine.") {
        Some("Google AlloyDB".into())
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
