use std::collections::BTreeSet;

use crate::knowledge::autovacuum::{insert_trigger, table_setting, vacuum_trigger};
use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::vacuum::common::{disabled_by_reloption, disabled_globally, maintained};
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::{Backend, Snapshot, Table};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// Autovacuum that cannot keep up: at collection time every autovacuum worker slot
    /// (`autovacuum_max_workers`) is busy, each worker has been running for at least
    /// `min_saturated_minutes` (so the slots have been full at least that long), and at
    /// least `min_backlog_tables` tables of the connected database are already past their
    /// own autovacuum trigger with no worker on them:
    /// - dead rows above `autovacuum_vacuum_threshold + autovacuum_vacuum_scale_factor ×
    ///   reltuples`,
    /// - rows inserted since the last vacuum above `autovacuum_vacuum_insert_threshold +
    ///   autovacuum_vacuum_insert_scale_factor × reltuples` (13+),
    /// - or `age(relfrozenxid)` above `autovacuum_freeze_max_age`,
    ///
    /// per-table storage parameters honoured, tables with autovacuum disabled left out.
    /// Settings alone are never a verdict: default cost limits on a server whose workers
    /// keep up are fine.
    ///
    /// ## Why it matters
    /// Tables past their trigger wait for a free worker while their dead rows accumulate
    /// (bloat, slower scans), their statistics go stale and freezing falls behind. The
    /// usual cause is the cost-based throttle: all workers share one budget of
    /// `autovacuum_vacuum_cost_limit` per `autovacuum_vacuum_cost_delay`, which at the
    /// defaults of older releases (or copied configurations) lets autovacuum read only a few
    /// MB/s, so one large table occupies a worker for hours.
    ///
    /// ## How to fix
    /// Raise the budget first: `ALTER SYSTEM SET autovacuum_vacuum_cost_limit = 1000;`,
    /// `ALTER SYSTEM SET autovacuum_vacuum_cost_delay = '2ms';` then
    /// `SELECT pg_reload_conf();` (running workers pick the new values up). If tables still
    /// wait, add workers (`autovacuum_max_workers`, a restart before PostgreSQL 18, at most
    /// half the CPUs) and raise the cost limit in proportion, since workers share it. Before
    /// 17, give vacuum enough memory for the dead rows of the largest tables
    /// (`autovacuum_work_mem`, at most 1 GB is used) so it scans their indexes once; on any
    /// version, a worker seen in `pg_stat_progress_vacuum` still scanning the heap after an
    /// index pass proves the memory too small (the fix doubles it, up to 1 GB). On
    /// managed services set these in the parameter group. Watch the autovacuum workers in
    /// `pg_stat_activity`, `pg_stat_progress_vacuum`, and `n_dead_tup` / `last_autovacuum`
    /// of the waiting tables.
    ///
    /// ## Thresholds
    /// - `min_saturated_minutes` (default 10): every worker has been running at least this
    ///   long, in minutes.
    /// - `min_backlog_tables` (default 2): tables past their trigger that no worker is on.
    /// - `recommended_cost_limit` (default 1000): cost limit the fix sets at least (scaled
    ///   up with added workers, at most 10000).
    /// - `recommended_cost_delay_ms` (default 2): cost delay the fix sets at most, in ms.
    /// - `max_workers_cpu_pct` (default 50): the fix adds workers up to this share of the
    ///   host's CPUs (no worker change without `--cpus`), in %.
    ///
    /// Needs the autovacuum workers in `pg_stat_activity`, which a role without
    /// `pg_read_all_stats` (or `pg_monitor`) sees as hidden rows: skipped then. The table a
    /// worker is on comes from its query text (`autovacuum: VACUUM …`) or its
    /// `pg_stat_progress_vacuum` row; failing both, as many backlog tables as there are
    /// workers in the database are assumed to be in progress. With
    /// `--interval`, the evidence counts the tables that waited through the whole window.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/runtime-config-autovacuum.html>
    /// - <https://www.postgresql.org/docs/current/runtime-config-resource.html#RUNTIME-CONFIG-RESOURCE-VACUUM-COST>
    /// - <https://www.postgresql.org/docs/current/routine-vacuuming.html#AUTOVACUUM>
    /// - <https://www.postgresql.org/docs/current/progress-reporting.html#VACUUM-PROGRESS-REPORTING>
    pub struct AutovacuumCapacity {
        id: "VAC011",
        name: "autovacuum-capacity",
        pack: "vacuum",
        title: "Autovacuum cannot keep up",
        params: {
            min_saturated_minutes: f64 = ("min", "Every worker has been running at least this long"),
            min_backlog_tables: f64 = ("tables", "Tables past their trigger that no worker is on"),
            recommended_cost_limit: f64 = ("cost units", "Cost limit the fix sets at least"),
            recommended_cost_delay_ms: f64 = ("ms", "Cost delay the fix sets at most"),
            max_workers_cpu_pct: f64 = ("%", "The fix adds workers up to this share of the CPUs"),
        },
    }
}

const WORKER: &str = "autovacuum worker";

/// The table an autovacuum worker is on, `schema.name` as its query text shows it
/// (`autovacuum: VACUUM ANALYZE public.t (to prevent wraparound)`).
pub(crate) fn worker_target(query: &str) -> Option<&str> {
    let mut rest = query.trim().strip_prefix("autovacuum: ")?;
    rest = rest
        .strip_suffix(" (to prevent wraparound)")
        .unwrap_or(rest);
    loop {
        if let Some(r) = rest.strip_prefix("VACUUM ") {
            rest = r;
        } else if let Some(r) = rest.strip_prefix("ANALYZE ") {
            rest = r;
        } else {
            break;
        }
    }
    (rest.contains('.') && !rest.starts_with("BRIN")).then_some(rest)
}

/// Why autovacuum should be working on `table` now, if it should.
pub(crate) fn past_trigger(
    snap: &Snapshot,
    table: &Table,
    freeze_max_age: f64,
) -> Option<&'static str> {
    if !maintained(table) {
        return None;
    }
    let freeze_max =
        table_setting(snap, table, "autovacuum_freeze_max_age", freeze_max_age).min(freeze_max_age);
    if table.frozenxid_age as f64 > freeze_max {
        return Some("wraparound");
    }
    if disabled_by_reloption(table) {
        return None;
    }
    if table.n_dead_tup as f64 > vacuum_trigger(snap, table) {
        return Some("dead rows");
    }
    if snap.server.major() >= 13 {
        if let (Some(trigger), Some(ins)) = (insert_trigger(snap, table), table.n_ins_since_vacuum)
        {
            if ins as f64 > trigger {
                return Some("inserts");
            }
        }
    }
    None
}

/// Autovacuum's cost budget.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Budget {
    /// Effective `autovacuum_vacuum_cost_limit`.
    pub limit: f64,
    /// Effective `autovacuum_vacuum_cost_delay`, in ms (0: unthrottled).
    pub delay_ms: f64,
    /// `vacuum_cost_page_miss`.
    pub page_miss: f64,
    /// `vacuum_cost_page_dirty`.
    pub page_dirty: f64,
}

impl Budget {
    fn of(snap: &Snapshot) -> Budget {
        let num = |name: &str| snap.setting(name).and_then(|s| s.as_f64());
        let millis = |name: &str| snap.setting(name).and_then(|s| s.as_millis());
        let limit = num("autovacuum_vacuum_cost_limit")
            .filter(|v| *v > 0.0)
            .or_else(|| num("vacuum_cost_limit"))
            .unwrap_or(200.0);
        let delay_ms = millis("autovacuum_vacuum_cost_delay")
            .filter(|v| *v >= 0.0)
            .or_else(|| millis("vacuum_cost_delay"))
            .unwrap_or(2.0);
        Budget {
            limit,
            delay_ms,
            page_miss: num("vacuum_cost_page_miss").unwrap_or(2.0).max(1.0),
            page_dirty: num("vacuum_cost_page_dirty").unwrap_or(20.0).max(1.0),
        }
    }

    /// The most all workers together may read (pages not in shared buffers) and dirty,
    /// in MB/s; `None` when unthrottled.
    pub(crate) fn mb_per_s(&self, block_size: f64) -> Option<(f64, f64)> {
        if self.delay_ms <= 0.0 {
            return None;
        }
        let units = self.limit * 1000.0 / self.delay_ms;
        let mb = |cost: f64| units / cost * block_size / 1_048_576.0;
        Some((mb(self.page_miss), mb(self.page_dirty)))
    }
}

/// Workers to recommend: one more per waiting table, up to `cap_pct` % of the CPUs (never
/// fewer than now); `None` without the CPU count.
pub(crate) fn recommended_workers(
    current: f64,
    waiting: usize,
    cpus: Option<f64>,
    cap_pct: f64,
) -> f64 {
    match cpus {
        Some(c) => {
            let cap = (c * cap_pct / 100.0).floor().max(current);
            (current + waiting as f64).min(cap)
        }
        None => current,
    }
}

/// The cost limit to recommend: at least `floor`, scaled with the workers that share it,
/// at most 10000 (the setting's maximum); never below the current one.
pub(crate) fn recommended_limit(
    current: f64,
    floor: f64,
    workers_now: f64,
    workers_new: f64,
) -> f64 {
    let scaled = current.max(floor) * (workers_new / workers_now.max(1.0));
    (scaled.round()).clamp(current, 10_000.0)
}

/// Skips when autovacuum workers may be hidden.
fn require_workers_visible(snap: &Snapshot) -> Result<(), Skip> {
    if let Some(g) = snap.gap("pg_stat_activity") {
        return Err(Skip::because(format!(
            "pg_stat_activity not collected: {}",
            g.why
        )));
    }
    let hidden = snap
        .activity
        .iter()
        .filter(|b| b.backend_type.is_empty() && b.state.is_none())
        .count();
    if hidden > 0 && !snap.server.can_read_all_stats {
        return Err(Skip::because(format!(
            "{} rows of pg_stat_activity are hidden from this role, so busy autovacuum workers cannot be told apart: collect as a role with pg_monitor (or pg_read_all_stats)",
            units::count(hidden)
        )));
    }
    Ok(())
}

/// Memory to give vacuum so that `dead_rows` fit in one index pass (before 17: 6 bytes a
/// row, at most 1 GB used): a power of two in MB.
pub(crate) fn work_mem_for(dead_rows: f64) -> f64 {
    let mb = (dead_rows * 6.0 / 1_048_576.0).max(1.0);
    2f64.powi(mb.log2().ceil() as i32).min(1024.0)
}

impl SnapshotRule for AutovacuumCapacity {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min_saturated_s = p.min_saturated_minutes * 60.0;
        let min_backlog = p.min_backlog_tables;
        let rec_limit = p.recommended_cost_limit;
        let rec_delay = p.recommended_cost_delay_ms;
        let cpu_pct = p.max_workers_cpu_pct;
        let snap = ctx.snapshot;
        if disabled_globally(snap) {
            return Err(Skip::because(
                "autovacuum is off for the whole server (reported by VAC002)",
            ));
        }
        require_workers_visible(snap)?;
        let max_workers = ctx
            .setting("autovacuum_max_workers")?
            .as_f64()
            .ok_or_else(|| Skip::because("autovacuum_max_workers is not a number"))?
            // 18+: no more workers than slots.
            .min(
                snap.setting("autovacuum_worker_slots")
                    .and_then(|s| s.as_f64())
                    .unwrap_or(f64::INFINITY),
            );
        let workers: Vec<&Backend> = snap
            .activity
            .iter()
            .filter(|b| b.backend_type == WORKER)
            .collect();
        if (workers.len() as f64) < max_workers || workers.is_empty() {
            return Ok(Vec::new());
        }
        // The slots have all been full since the youngest worker started.
        let saturated_s = workers
            .iter()
            .filter_map(|b| b.backend_start.or(b.xact_start))
            .map(|t| snap.age_seconds(t))
            .fold(f64::INFINITY, f64::min);
        if !saturated_s.is_finite() || saturated_s < min_saturated_s {
            return Ok(Vec::new());
        }
        let here: Vec<&&Backend> = workers
            .iter()
            .filter(|b| b.database.as_deref() == Some(snap.server.database.as_str()))
            .collect();
        // The table each worker is on: its query text, or its pg_stat_progress_vacuum row.
        let targets: BTreeSet<&str> = here
            .iter()
            .filter_map(|b| {
                b.query.as_deref().and_then(worker_target).or_else(|| {
                    snap.vacuum_progress
                        .iter()
                        .find(|p| p.pid == b.pid)
                        .and_then(|p| p.table.as_deref())
                })
            })
            .collect();
        let unknown_targets = here.len().saturating_sub(targets.len());
        let freeze_max = snap
            .setting("autovacuum_freeze_max_age")
            .and_then(|s| s.as_f64())
            .unwrap_or(200_000_000.0);
        let backlog: Vec<(&Table, &'static str)> = snap
            .tables
            .iter()
            .filter(|t| !targets.contains(format!("{}.{}", t.schema, t.name).as_str()))
            .filter_map(|t| past_trigger(snap, t, freeze_max).map(|why| (t, why)))
            .collect();
        let waiting = backlog.len().saturating_sub(unknown_targets);
        if (waiting as f64) < min_backlog {
            return Ok(Vec::new());
        }
        Ok(vec![finding(
            ctx,
            Inputs {
                workers: &workers,
                max_workers,
                saturated_s,
                backlog: &backlog,
                waiting,
                rec_limit,
                rec_delay,
                cpu_pct,
                freeze_max,
                here: here.len(),
            },
        )])
    }
}

struct Inputs<'a> {
    workers: &'a [&'a Backend],
    max_workers: f64,
    saturated_s: f64,
    backlog: &'a [(&'a Table, &'static str)],
    waiting: usize,
    rec_limit: f64,
    rec_delay: f64,
    cpu_pct: f64,
    freeze_max: f64,
    here: usize,
}

fn finding(ctx: &RuleContext<'_>, i: Inputs<'_>) -> Draft {
    let snap = ctx.snapshot;
    let major = snap.server.major();
    let block_size = snap
        .setting("block_size")
        .and_then(|s| s.as_f64())
        .unwrap_or(8192.0);
    let budget = Budget::of(snap);
    let longest_on_table = i
        .workers
        .iter()
        .filter_map(|b| b.query_start.or(b.xact_start))
        .map(|t| snap.age_seconds(t))
        .fold(0.0, f64::max);

    // The fix.
    let cpus = ctx.host.cpus.as_ref().map(|f| f.value);
    let new_workers = recommended_workers(i.max_workers, i.waiting, cpus, i.cpu_pct);
    let new_limit = recommended_limit(budget.limit, i.rec_limit, i.max_workers, new_workers);
    let mut changes: Vec<(&str, String)> = Vec::new();
    if new_limit > budget.limit {
        changes.push(("autovacuum_vacuum_cost_limit", format!("{new_limit:.0}")));
    }
    if budget.delay_ms > i.rec_delay {
        changes.push(("autovacuum_vacuum_cost_delay", format!("{}ms", i.rec_delay)));
    }
    if new_workers > i.max_workers {
        let slots = snap
            .setting("autovacuum_worker_slots")
            .and_then(|s| s.as_f64());
        if slots.is_some_and(|s| new_workers > s) {
            changes.push(("autovacuum_worker_slots", format!("{new_workers:.0}")));
        }
        changes.push(("autovacuum_max_workers", format!("{new_workers:.0}")));
    }
    let largest_dead = i
        .backlog
        .iter()
        .map(|(t, _)| t.n_dead_tup as f64)
        .fold(0.0, f64::max);
    let work_mem = snap
        .setting("autovacuum_work_mem")
        .and_then(|s| s.as_bytes())
        .or_else(|| {
            snap.setting("maintenance_work_mem")
                .and_then(|s| s.as_bytes())
        });
    // Direct evidence that dead row ids overflow the memory: a worker that has already
    // vacuumed the indexes and is still scanning the heap will scan every index again.
    let repeated_index_passes = i
        .workers
        .iter()
        .filter_map(|b| snap.vacuum_progress.iter().find(|p| p.pid == b.pid))
        .filter(|p| {
            p.index_vacuum_count.unwrap_or(0) >= 1 && p.phase.as_deref() == Some("scanning heap")
        })
        .count();
    if let (true, Some(mem)) = (repeated_index_passes > 0, work_mem) {
        let doubled_mb = (2.0 * mem / 1_048_576.0).min(1024.0);
        if doubled_mb * 1_048_576.0 > mem {
            changes.push((
                "autovacuum_work_mem",
                units::setting_bytes((doubled_mb.round() as u64) << 20),
            ));
        }
    } else if major < 17 {
        if let Some(mem) = work_mem {
            let need_mb = work_mem_for(largest_dead);
            if largest_dead * 6.0 > mem && need_mb * 1_048_576.0 > mem {
                changes.push((
                    "autovacuum_work_mem",
                    units::setting_bytes((need_mb.round() as u64) << 20),
                ));
            }
        }
    }
    let watch = "autovacuum workers in pg_stat_activity (count, query_start), pg_stat_progress_vacuum, n_dead_tup and last_autovacuum of the waiting tables";
    let fix = if changes.is_empty() {
        crate::report::Fix {
            sql: "-- the cost budget and the workers are already generous for this host: give the largest waiting tables their own, lower autovacuum_vacuum_scale_factor (VAC005) so each run is shorter, and check what else slows the workers (many indexes, I/O waits)".to_owned(),
            requires: Some("none".into()),
            watch: Some(watch.into()),
            settings: Vec::new(),
            ..Default::default()
        }
    } else {
        ctx.settings_fix(
            &changes,
            if changes.iter().any(|(n, _)| *n == "autovacuum_work_mem") {
                "-- autovacuum_work_mem is per worker: mind the RAM"
            } else {
                ""
            },
            watch,
        )
    };

    let mut names: Vec<String> = i
        .backlog
        .iter()
        .take(5)
        .map(|(t, why)| format!("`{}` ({why})", t.name))
        .collect();
    if i.backlog.len() > 5 {
        names.push(format!("{} more", units::count(i.backlog.len() - 5)));
    }
    let throughput = match budget.mb_per_s(block_size) {
        Some((read, dirty)) => format!(
            "; their shared cost budget ({} per {}) allows at most {} of reads and {} of dirtied pages in total",
            budget.limit,
            units::millis(budget.delay_ms),
            units::rate(read * 1_048_576.0),
            units::rate(dirty * 1_048_576.0)
        ),
        None => String::new(),
    };
    let who = if i.max_workers == 1.0 {
        "The only autovacuum worker has".to_owned()
    } else {
        format!(
            "All {} autovacuum workers have",
            units::count(i.max_workers)
        )
    };
    let message = format!(
        "{who} been busy for at least {} (the longest on its current table for {}) while {} tables of `{}` past their autovacuum trigger wait: {}{throughput}",
        units::duration(i.saturated_s),
        units::duration(longest_on_table),
        units::count(i.waiting),
        snap.server.database,
        names.join(", ")
    );
    let mut d = Draft::new(ObjectRef::setting("autovacuum_max_workers"), message)
        .evidence("autovacuum_max_workers", i.max_workers)
        .evidence("busy_workers", i.workers.len())
        .evidence("busy_workers_in_database", i.here)
        .evidence("all_busy_for_s", i.saturated_s.round())
        .evidence("longest_on_table_s", longest_on_table.round())
        .evidence("backlog_tables", i.waiting)
        .evidence("autovacuum_vacuum_cost_limit_effective", budget.limit)
        .evidence("autovacuum_vacuum_cost_delay_ms_effective", budget.delay_ms)
        .evidence("largest_backlog_dead_rows", largest_dead)
        .evidence("workers_scanning_indexes_again", repeated_index_passes)
        .evidence("basis", ctx.basis().label());
    if let Some((read, dirty)) = budget.mb_per_s(block_size) {
        d = d
            .evidence("max_read_kb_per_s", (read * 1024.0).round())
            .evidence("max_dirty_kb_per_s", (dirty * 1024.0).round());
    }
    if let Some(mem) = work_mem {
        d = d.evidence("autovacuum_work_mem_bytes", mem);
    }
    if let Some(c) = cpus {
        d = d.evidence("cpus", c);
    }
    if let Some(base) = snap.baseline.as_ref() {
        // Tables past their trigger at both samples and not autovacuumed in between.
        let waited = i
            .backlog
            .iter()
            .filter(|(t, _)| {
                base.tables.iter().any(|b| {
                    b.oid == t.oid
                        && b.autovacuum_count == t.autovacuum_count
                        && past_trigger(snap, b, i.freeze_max).is_some()
                })
            })
            .count();
        let done: i64 = snap
            .tables
            .iter()
            .filter_map(|t| {
                base.tables
                    .iter()
                    .find(|b| b.oid == t.oid)
                    .map(|b| (t.autovacuum_count - b.autovacuum_count).max(0))
            })
            .sum();
        d = d
            .evidence("tables_waiting_whole_window", waited)
            .evidence("autovacuums_in_window", done);
    }
    let cpu_note = if cpus.is_none() {
        " (the host's CPU count is unknown, so no worker count is suggested)"
    } else {
        ""
    };
    d.recommend(format!(
        "Raise autovacuum's cost budget so the workers finish sooner, then add workers if tables still wait{cpu_note}; on managed services set these in the parameter group"
    ))
    .with_fix(fix)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn worker_targets() {
        assert_eq!(
            worker_target("autovacuum: VACUUM public.t"),
            Some("public.t")
        );
        assert_eq!(
            worker_target("autovacuum: VACUUM ANALYZE public.stock_move (to prevent wraparound)"),
            Some("public.stock_move")
        );
        assert_eq!(worker_target("autovacuum: ANALYZE s.x"), Some("s.x"));
        assert_eq!(
            worker_target("autovacuum: BRIN summarize public.i 12"),
            None
        );
        assert_eq!(worker_target("SELECT 1"), None);
    }

    #[test]
    fn budget_throughput() {
        let b = Budget {
            limit: 200.0,
            delay_ms: 2.0,
            page_miss: 2.0,
            page_dirty: 20.0,
        };
        let (read, dirty) = b.mb_per_s(8192.0).expect("throttled");
        assert!((read - 390.625).abs() < 1e-6, "{read}");
        assert!((dirty - 39.0625).abs() < 1e-6, "{dirty}");
        assert_eq!(Budget { delay_ms: 0.0, ..b }.mb_per_s(8192.0), None);
    }

    #[test]
    fn recommendations() {
        // 3 workers, 5 waiting, 8 CPUs at 50 %: 4 workers; limit 1000 × 4/3.
        assert_eq!(recommended_workers(3.0, 5, Some(8.0), 50.0), 4.0);
        assert_eq!(recommended_workers(3.0, 5, None, 50.0), 3.0);
        assert_eq!(recommended_workers(6.0, 5, Some(4.0), 50.0), 6.0);
        assert_eq!(recommended_limit(200.0, 1000.0, 3.0, 4.0), 1333.0);
        assert_eq!(recommended_limit(5000.0, 1000.0, 3.0, 3.0), 5000.0);
        assert_eq!(recommended_limit(9000.0, 1000.0, 3.0, 6.0), 10_000.0);
        assert_eq!(work_mem_for(20e6), 128.0);
        assert_eq!(work_mem_for(1e9), 1024.0);
    }

    #[test]
    fn fires_when_all_workers_are_busy_and_tables_wait() {
        let f = assert_fires("VAC011", "autovacuum_max_workers");
        let fix = f[0].fix.as_ref().expect("a fix");
        let value = |name: &str| {
            fix.settings
                .iter()
                .find(|s| s.name == name)
                .map(|s| s.value.as_str())
        };
        // One worker, 4 CPUs: a second worker, and twice the recommended budget for two.
        assert_eq!(value("autovacuum_max_workers"), Some("2"), "{fix:#?}");
        assert_eq!(
            value("autovacuum_vacuum_cost_limit"),
            Some("2000"),
            "{fix:#?}"
        );
        assert_eq!(
            value("autovacuum_vacuum_cost_delay"),
            Some("2ms"),
            "{fix:#?}"
        );
    }

    #[test]
    fn quiet_when_autovacuum_keeps_up() {
        assert_quiet("VAC011");
    }
}
