//! What the snapshot measured, and the advice derived from it.

use super::values::Rec;
use super::{Basis, Profile, TableAdvice};
use crate::knowledge::platform_pooling::PoolingAdvice;
use crate::knowledge::{autovacuum, connections as conn, memory, wal};
use crate::snapshot::{Platform, Snapshot};
use crate::units;

/// Temp-file spills.
#[derive(Debug, Clone)]
pub(super) struct Spills {
    /// Temp files and bytes over the window (or since the statistics reset), all databases.
    pub(super) files: i64,
    pub(super) bytes: i64,
    /// Where the counts come from.
    pub(super) over: String,
    /// Statements that spilled: (temp bytes per call, calls), from pg_stat_statements.
    pub(super) statements: Vec<(f64, i64)>,
}

impl Spills {
    pub(super) fn summary(&self) -> String {
        let mut s = format!(
            "{} temp files, {} written {}",
            units::count(self.files),
            units::bytes(self.bytes),
            self.over
        );
        if !self.statements.is_empty() {
            s.push_str(&format!(
                "; {} statements in pg_stat_statements wrote temp blocks",
                units::count(self.statements.len())
            ));
        }
        s
    }

    /// Average temp file size.
    fn average_file(&self) -> Option<f64> {
        (self.files > 0).then(|| self.bytes as f64 / self.files as f64)
    }

    /// The spill per call that 90% of the spilling calls stay under.
    fn p90_per_call(&self) -> Option<f64> {
        let mut v = self.statements.clone();
        if v.is_empty() {
            return None;
        }
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total: i64 = v.iter().map(|x| x.1.max(1)).sum();
        let mut seen = 0;
        for (bytes, calls) in &v {
            seen += calls.max(&1);
            if seen as f64 >= 0.9 * total as f64 {
                return Some(*bytes);
            }
        }
        v.last().map(|x| x.0)
    }
}

/// Measurements, deltas over the sampled window when there is one.
pub(super) struct Workload {
    pub(super) spills: Option<Spills>,
    /// The span the temp-file counters cover.
    pub(super) temp_over: String,
    /// WAL bytes per second and how it was measured.
    pub(super) wal_rate: Option<(f64, String)>,
    /// (timed, requested) checkpoints and over what.
    pub(super) checkpoints: Option<(i64, i64, String)>,
    /// Client connections seen not idle ([`conn::Sessions::active`]).
    pub(super) busy: usize,
}

impl Workload {
    pub(super) fn read(s: &Snapshot) -> Self {
        let window = s.window_seconds();
        let over = |since: Option<chrono::DateTime<chrono::Utc>>| match (window, since) {
            (Some(w), _) => format!("over the {} sampled window", units::duration(w)),
            (None, Some(t)) => format!(
                "since the statistics reset {} ago",
                units::duration(s.age_seconds(t))
            ),
            (None, None) => "since the statistics were last reset".to_owned(),
        };

        // Temp files, all databases.
        let (mut files, mut bytes) = (0i64, 0i64);
        for d in &s.databases {
            let before = s
                .baseline
                .as_ref()
                .and_then(|b| b.databases.iter().find(|x| x.oid == d.oid));
            files += d.temp_files - before.map_or(0, |b| b.temp_files);
            bytes += d.temp_bytes - before.map_or(0, |b| b.temp_bytes);
        }
        let block = s
            .setting("block_size")
            .and_then(|x| x.as_f64())
            .unwrap_or(8192.0);
        let statements: Vec<(f64, i64)> = s
            .statements
            .iter()
            .flat_map(|st| st.top.iter())
            .filter_map(|q| {
                let before = s
                    .baseline
                    .as_ref()
                    .and_then(|b| b.statements.as_ref())
                    .and_then(|b| {
                        b.top.iter().find(|x| {
                            x.queryid == q.queryid
                                && x.queryid != 0
                                && x.user == q.user
                                && x.database == q.database
                        })
                    });
                let calls = q.calls - before.map_or(0, |b| b.calls);
                let blocks = q.temp_blks_written - before.map_or(0, |b| b.temp_blks_written);
                (calls > 0 && blocks > 0).then(|| (blocks as f64 * block / calls as f64, calls))
            })
            .collect();
        let reset = s.current_database().and_then(|d| d.stats_reset);
        let temp_over = over(reset);
        let spills = (files > 0 || !statements.is_empty()).then(|| Spills {
            files,
            bytes,
            over: temp_over.clone(),
            statements,
        });

        // WAL rate.
        let wal_rate = match (&s.baseline, window) {
            (Some(b), Some(w)) => match (b.wal_lsn_bytes, s.wal_lsn_bytes) {
                (Some(a), Some(z)) if z >= a => Some((
                    (z - a) as f64 / w,
                    format!(
                        "WAL position advanced {} in the {} window",
                        units::bytes(z - a),
                        units::duration(w)
                    ),
                )),
                _ => match (&b.wal, &s.wal) {
                    (Some(a), Some(z)) if z.wal_bytes >= a.wal_bytes => Some((
                        (z.wal_bytes - a.wal_bytes) as f64 / w,
                        format!(
                            "pg_stat_wal.wal_bytes grew {} in the {} window",
                            units::bytes(z.wal_bytes - a.wal_bytes),
                            units::duration(w)
                        ),
                    )),
                    _ => None,
                },
            },
            _ => s.wal.as_ref().and_then(|wal| {
                let since = wal.stats_reset?;
                let secs = s.age_seconds(since);
                (secs >= 3600.0).then(|| {
                    (
                        wal.wal_bytes as f64 / secs,
                        format!(
                            "pg_stat_wal.wal_bytes {} since its reset {} ago",
                            units::bytes(wal.wal_bytes),
                            units::duration(secs)
                        ),
                    )
                })
            }),
        };

        let checkpoints = s.checkpointer.as_ref().map(|c| {
            let b = s.baseline.as_ref().and_then(|b| b.checkpointer.as_ref());
            (
                c.checkpoints_timed - b.map_or(0, |b| b.checkpoints_timed),
                c.checkpoints_req - b.map_or(0, |b| b.checkpoints_req),
                over(c.stats_reset),
            )
        });

        Workload {
            spills,
            temp_over,
            wal_rate,
            checkpoints,
            busy: conn::Sessions::observe(s).active,
        }
    }
}

/// `max_connections` and the pool size, with the model and parameters of rule CON002
/// ([`conn::sizing`], [`conn::advise_limit`]). Returns the connection count work_mem plans
/// for, and the pool size when the CPUs are known and the sessions were collected. On a
/// managed platform, the provider's reserved slots are counted and its pooler named.
#[allow(clippy::too_many_arguments)]
pub(super) fn connections(
    s: &Snapshot,
    platform: Platform,
    requested: Option<i64>,
    cpus: Option<f64>,
    policy: &conn::PoolPolicy,
    profile: Profile,
    recs: &mut Vec<Rec>,
    notes: &mut Vec<String>,
) -> (i64, Option<i64>) {
    let current = s
        .setting("max_connections")
        .and_then(|x| x.as_f64())
        .map(|v| v as i64);
    let reserved = conn::reserved_slots(s, platform);
    let pooling = PoolingAdvice::of(s, platform);
    let sessions = conn::Sessions::observe(s);
    // Sized with the reserved slots after the advice (rule CON010 restores the default
    // when none are), as every connection number of the audit.
    let sizing = conn::sizing(
        &sessions,
        conn::advised_reserved_slots(s, platform),
        cpus,
        policy,
    );
    let collected = s.gap("pg_stat_activity").is_none();
    let pool = sizing.pool.filter(|_| collected);
    if let (Some(pool), Some(c)) = (pool, cpus) {
        if sessions.clients > 0 {
            let usual = format!(
                "connection pool: about {} server connections per pool (PgBouncer \
                 default_pool_size, transaction mode) keep the {c} CPUs busy without queueing \
                 in the kernel: {} × CPUs, and at least the sessions seen not idle ({}); {} \
                 pools for the database/role pairs seen",
                pool.size, policy.pool_size_per_cpu, sessions.active, pool.pools
            );
            // The platform's own pooler beside PgBouncer, or, when it is on, where its pool
            // size goes.
            notes.push(match pooling.already_on() {
                Some(on) => format!(
                    "{usual}; {on}, and set its pool size with {}",
                    pooling.pool_size_setting()
                ),
                None => pooling.advise(usual, ""),
            });
        }
    }
    let pool_size = pool.map(|p| p.size);
    if let Some(n) = requested {
        recs.push(Rec::int(
            "max_connections",
            n,
            Basis::Request,
            format!("{n} connections requested"),
        ));
        return (n, pool_size);
    }
    let Some(current) = current else {
        return (conn::default_connections(profile), pool_size);
    };
    if sessions.clients == 0 {
        return (current, pool_size);
    }
    let evidence = vec![
        format!(
            "{} client connections open at collection, {} of them not idle",
            units::count(sessions.clients),
            units::count(sessions.active)
        ),
        format!("max_connections {current}, reserved connections {reserved}"),
    ];
    match conn::advise_limit(current, &sizing, cpus, policy) {
        conn::LimitAdvice::Raise(needed) => {
            recs.push(
                Rec::int(
                    "max_connections",
                    needed,
                    Basis::Workload,
                    format!("{} connections were open: 1.5 × that plus the reserved slots leaves room for peaks", units::count(sessions.clients)),
                )
                .evidence(evidence),
            );
            (needed, pool_size)
        }
        conn::LimitAdvice::Lower(target) => {
            let (size, pools) = pool.map_or((0, 0), |p| (p.size, p.pools));
            recs.push(
                Rec::int(
                    "max_connections",
                    target,
                    Basis::Workload,
                    format!(
                        "{} allowed connections for {} CPUs and {} seen: each costs memory and \
                         snapshot overhead; {}, then lower the limit",
                        units::count(current),
                        units::number(cpus.unwrap_or(0.0)),
                        units::count(sessions.clients),
                        pooling.advise(
                            format!("put a pooler (pool size {size}, {pools} pools) in front"),
                            &format!(" (pool size {size}, {pools} pools)"),
                        )
                    ),
                )
                .evidence(evidence),
            );
            (target, pool_size)
        }
        conn::LimitAdvice::Keep => (current, pool_size),
    }
}

/// `work_mem`: the hardware formula, raised to what keeps most measured spills in memory,
/// bounded by the memory budget.
#[allow(clippy::too_many_arguments)]
pub(super) fn work_mem(
    s: &Snapshot,
    w: &Workload,
    ram: u64,
    shared_buffers: u64,
    connections: i64,
    workers: i64,
    profile: Profile,
    recs: &mut Vec<Rec>,
    notes: &mut Vec<String>,
) {
    let formula = memory::work_mem(ram, shared_buffers, connections, workers, profile);
    let formula_why = format!(
        "(RAM {} − shared_buffers {}) / (({connections} connections + {workers} parallel workers) × 3){}",
        units::bytes(ram),
        units::bytes(shared_buffers),
        if memory::work_mem_halved(profile) { " / 2" } else { "" }
    );
    let Some(spills) = &w.spills else {
        let mut evidence = vec![format!("no temp files {}", w.temp_over)];
        if s.statements.is_none() {
            evidence.push("pg_stat_statements not available: per-statement spills unknown".into());
            notes.push("pg_stat_statements not available: work_mem advice uses pg_stat_database temp files only".into());
        }
        recs.push(Rec::bytes("work_mem", formula, Basis::Hardware, formula_why).evidence(evidence));
        return;
    };
    // Sorts and hashes need about twice their on-disk size in memory.
    let needed = spills
        .p90_per_call()
        .or(spills.average_file())
        .map(memory::work_mem_for_spill);
    // Budget: the sessions seen working at once (at least the parallel workers' count)
    // each using three work_mem-sized nodes must fit beside shared_buffers.
    let busy = (w.busy as i64).max(workers).max(1);
    let budget = memory::work_mem_budget(ram, shared_buffers, busy, workers, formula);
    let mut evidence = vec![spills.summary()];
    if let Some(avg) = spills.average_file() {
        evidence.push(format!("average temp file {}", units::bytes(avg)));
    }
    if let Some(p90) = spills.p90_per_call() {
        evidence.push(format!(
            "90% of spilling calls wrote at most {} of temp data per call",
            units::bytes(p90)
        ));
    }
    evidence.push(format!(
        "hardware formula: {} = {formula_why}",
        units::bytes(formula)
    ));
    evidence.push(format!(
        "budget: {} = (RAM − shared_buffers) / (({busy} busy sessions + {workers} workers) × 3)",
        units::bytes(budget)
    ));
    let Some(needed) = needed else {
        recs.push(Rec::bytes("work_mem", formula, Basis::Hardware, formula_why).evidence(evidence));
        return;
    };
    if needed <= formula {
        recs.push(
            Rec::bytes(
                "work_mem",
                formula,
                Basis::Hardware,
                format!("{formula_why}; it already covers the measured spills"),
            )
            .evidence(evidence),
        );
        return;
    }
    let value = needed.min(budget);
    let why = if value < needed {
        format!(
            "temp files show spills needing about {}; capped at the memory budget {} — give the \
             largest queries more with SET work_mem per role or session",
            units::bytes(needed),
            units::bytes(budget)
        )
    } else {
        format!(
            "temp files show spills needing about {} (2 × the spill size), within the memory budget {}",
            units::bytes(needed),
            units::bytes(budget)
        )
    };
    let mut rec = Rec::bytes("work_mem", value, Basis::Workload, why).evidence(evidence);
    // Workload-derived: a value well below the current one is still advice, not noise.
    rec.tolerance = 0.0;
    recs.push(rec);
}

/// `max_wal_size`: the profile's value, raised so that the measured WAL rate triggers
/// checkpoints by time, never lowered.
pub(super) fn max_wal_size(
    s: &Snapshot,
    w: &Workload,
    base: u64,
    profile: Profile,
    recs: &mut Vec<Rec>,
) {
    let timeout_s = s
        .setting("checkpoint_timeout")
        .and_then(|x| x.as_millis())
        .map_or(300.0, |ms| ms / 1000.0);
    let mut evidence = Vec::new();
    let mut why = format!("{profile} profile default");
    let mut value = base;
    let mut basis = Basis::Hardware;
    if let Some((timed, req, over)) = &w.checkpoints {
        if timed + req > 0 {
            evidence.push(format!(
                "{} requested and {} timed checkpoints {over} ({} requested)",
                units::count(*req),
                units::count(*timed),
                units::percent(100.0 * *req as f64 / (timed + req) as f64)
            ));
        }
    }
    if let Some((rate, how)) = &w.wal_rate {
        let needed = wal::max_wal_size_for_rate(*rate, timeout_s);
        evidence.push(format!("WAL rate {} ({how})", units::rate(*rate)));
        evidence.push(format!(
            "{} of WAL per checkpoint_timeout ({})",
            units::bytes(rate * timeout_s),
            units::duration(timeout_s)
        ));
        if needed > base {
            value = needed;
            basis = Basis::Workload;
            why = format!(
                "the measured WAL rate writes {} per checkpoint_timeout; × 1.9 (completion \
                 target) × 1.5 headroom so checkpoints are triggered by time, not by WAL volume",
                units::bytes(rate * timeout_s)
            );
            if needed == wal::MAX_WAL_SIZE_CAP {
                why.push_str(&format!(
                    "; capped at {}: beyond that pg_wal's disk space and crash recovery time \
                     matter more, so shorten checkpoint_timeout instead",
                    units::bytes(wal::MAX_WAL_SIZE_CAP)
                ));
            }
        } else {
            why = format!(
                "{profile} profile default; it covers the measured WAL rate with room to spare"
            );
        }
    } else {
        evidence.push(
            "no WAL rate: no sampled interval, and no pg_stat_wal counters (14+) reset an hour \
             or more ago"
                .into(),
        );
    }
    let mut rec = Rec::bytes("max_wal_size", value, basis, why)
        .never_lower()
        .evidence(evidence);
    rec.tolerance = 0.0;
    recs.push(rec);
}

/// Per-table autovacuum settings for the large tables on the server-wide scale factor:
/// the tables and settings rule VAC005 gives ([`autovacuum::large_tables`] with VAC005's
/// parameters). When a raised server-wide scale factor is the cause, a note says so
/// instead, as VAC005 does.
pub(super) fn autovacuum_tables(
    s: &Snapshot,
    policy: &autovacuum::LargeTablePolicy,
    min_stats_age_seconds: f64,
    notes: &mut Vec<String>,
) -> Vec<TableAdvice> {
    let large = autovacuum::large_tables(s, policy, min_stats_age_seconds);
    if let Some(global) = large.raised_server_scale_factor {
        notes.push(format!(
            "autovacuum_vacuum_scale_factor is {global} server-wide (PostgreSQL's default {}): \
             {} tables wait for at least {} dead rows; bring the server-wide value back \
             first, then give the largest tables their own scale factor",
            autovacuum::DEFAULT_VACUUM_SCALE_FACTOR,
            units::count(large.tables.len()),
            units::count(policy.min_trigger_rows)
        ));
        return Vec::new();
    }
    large
        .tables
        .iter()
        .map(|l| {
            let name = l.table.qualified_name();
            TableAdvice {
                why: format!(
                    "about {} rows on the server-wide scale factor: autovacuum waits for {} \
                     dead rows; a scale factor of {} vacuums after about {}",
                    units::count(autovacuum::reltuples(l.table)),
                    units::count(l.trigger_rows),
                    l.factors.vacuum,
                    units::count(l.factors.new_trigger_rows)
                ),
                settings: l.factors.settings(),
                sql: l.factors.alter_table(&name),
                table: name,
            }
        })
        .collect()
}
