use serde_json::json;

use crate::knowledge::counters::{RateUnit, Verdict};
use crate::knowledge::memory::DEFAULT_WORK_MEM;
use crate::report::{Fix, ObjectRef};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::{Snapshot, Statement};
use crate::units;

use super::{bytes_setting, db_counter, round_up_size};

declare_rule! {
    /// ## What it detects
    /// Sorts and hashes spilling to temporary files because `work_mem` is too small:
    /// temporary files written (`pg_stat_database.temp_files`/`temp_bytes`, all databases)
    /// at a sustained rate, with the `pg_stat_statements` entries that wrote temporary
    /// blocks when the extension is readable.
    ///
    /// ## Why it matters
    /// A sort or hash that does not fit in `work_mem` writes its data to disk and reads
    /// it back: ERP reports, `ORDER BY`/`GROUP BY` over order lines and nightly batches
    /// then run several times slower and add I/O for every other session.
    ///
    /// ## How to fix
    /// Raise `work_mem` to a value that would have held most spills in memory — the
    /// typical spill per execution (from `pg_stat_statements`, else the average temporary
    /// file size) times `in_memory_factor` — but never beyond what RAM allows for every
    /// connection: the recommended configuration's `work_mem` (the value `pgsage tune`
    /// gives: (RAM − `shared_buffers`) / ((connections + parallel workers) × 3), halved for
    /// the `mixed` and `dw` profiles). A server-wide value below that (or below PostgreSQL's
    /// default of 4 MB) is raised first. When the spills come from a few statements
    /// (reports, batches), or the value needed exceeds that budget, set the rest for them
    /// only: `SET LOCAL work_mem = '…'` in their
    /// transaction or `ALTER ROLE reporting SET work_mem = '…'`, rather than for every
    /// connection. Setting `log_temp_files = 0` logs each spill with its statement.
    ///
    /// ## Thresholds
    /// - `min_temp_files` (default 20): fewer temporary files over the basis are ignored.
    /// - `min_temp_mb_per_hour` (default 100): temporary data written per hour below which
    ///   spills are too rare to matter.
    /// - `in_memory_factor` (default 2): memory a sort or hash needs per byte it spilled.
    /// - `top_share_pct` (default 80): when the three statements that spill most account for
    ///   this share of the temporary blocks, per-query settings are recommended.
    ///
    /// Uses deltas over the sampled window with `--interval`, else totals since each
    /// database's statistics reset. The rate is shown in the unit the window covers (per
    /// minute over a few minutes, per hour from an hour); a window shorter than the audit's
    /// minimum (a 10-minute interval, or `min_stats_age_hours` of counters) gives an
    /// "unsure" finding: information, low confidence, no fix. When the server-wide
    /// `work_mem` is below PostgreSQL's default (4 MB) or below what RAM allows, the fix
    /// raises it first — to `pgsage tune`'s value — and gives per-query settings only for
    /// what that value does not cover. The RAM budget
    /// needs the host's RAM; without it the recommendation is not bounded. Over an
    /// interval, other roles' `pg_stat_statements` entries read without
    /// `pg_read_all_stats` (queryid hidden) cannot be matched between the samples: they
    /// count in the totals but are not listed.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/runtime-config-resource.html#GUC-WORK-MEM>
    /// - <https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-DATABASE-VIEW>
    /// - <https://www.postgresql.org/docs/current/pgstatstatements.html>
    pub struct WorkMemTempSpills {
        id: "MEM003",
        name: "work-mem-temp-spills",
        pack: "memory",
        title: "work_mem too low: queries spill to temporary files",
        params: {
            min_temp_files: f64 = ("files", "Temporary files over the basis below which the rule is quiet"),
            min_temp_mb_per_hour: f64 = ("MB/h", "Temporary data written per hour below which the rule is quiet"),
            in_memory_factor: f64 = ("×", "Memory needed per byte spilled to disk"),
            top_share_pct: f64 = ("%", "Share of temp blocks from the top three statements that calls for per-query settings"),
        },
    }
}

/// A statement's temporary writes over the basis.
#[derive(Debug, Clone, PartialEq)]
struct Spiller<'a> {
    stmt: &'a Statement,
    calls: i64,
    temp_bytes: f64,
}

impl Spiller<'_> {
    fn per_call(&self) -> f64 {
        self.temp_bytes / self.calls.max(1) as f64
    }
}

/// Statements that wrote temporary blocks over the basis, most first, and the total
/// temporary blocks of all entries.
fn spillers(snap: &Snapshot, block: f64) -> Option<(Vec<Spiller<'_>>, f64)> {
    let st = snap.statements.as_ref()?;
    let before = snap.baseline.as_ref().and_then(|b| b.statements.as_ref());
    let mut out: Vec<Spiller<'_>> = st
        .top
        .iter()
        // Other roles' entries read without pg_read_all_stats all have queryid 0: over an
        // interval their deltas cannot be matched, so they are left to the totals.
        .filter(|s| before.is_none() || !(s.queryid == 0 && s.query.is_none()))
        .filter_map(|s| {
            let prev = before.and_then(|b| {
                b.top.iter().find(|p| {
                    p.queryid == s.queryid
                        && p.user == s.user
                        && p.database == s.database
                        && p.toplevel == s.toplevel
                })
            });
            let calls = s.calls - prev.map_or(0, |p| p.calls);
            let temp = s.temp_blks_written - prev.map_or(0, |p| p.temp_blks_written);
            (temp > 0 && calls > 0).then_some(Spiller {
                stmt: s,
                calls,
                temp_bytes: temp as f64 * block,
            })
        })
        .collect();
    out.sort_by(|a, b| b.temp_bytes.total_cmp(&a.temp_bytes));
    let total_blocks = st.totals.temp_blks_written
        - before.map_or(0, |b| {
            b.totals.temp_blks_written.min(st.totals.temp_blks_written)
        });
    Some((out, (total_blocks as f64 * block).max(0.0)))
}

/// The per-call spill size that covers `pct` % of the spilling executions.
fn covering_spill(spillers: &[Spiller<'_>], pct: f64) -> Option<f64> {
    let mut by_size: Vec<(f64, i64)> = spillers.iter().map(|s| (s.per_call(), s.calls)).collect();
    by_size.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total: i64 = by_size.iter().map(|(_, c)| c).sum();
    if total == 0 {
        return None;
    }
    let mut seen = 0;
    for (size, calls) in by_size {
        seen += calls;
        if seen as f64 >= total as f64 * pct / 100.0 {
            return Some(size);
        }
    }
    None
}

impl SnapshotRule for WorkMemTempSpills {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min_files = p.min_temp_files;
        let min_rate = p.min_temp_mb_per_hour;
        let factor = p.in_memory_factor;
        let top_share = p.top_share_pct;
        let snap = ctx.snapshot;
        let work_mem = bytes_setting(ctx, "work_mem")?;
        let block = ctx
            .snapshot
            .setting("block_size")
            .and_then(|s| s.as_f64())
            .unwrap_or(8192.0);
        let basis = ctx.basis();

        let mut files = 0i64;
        let mut bytes = 0i64;
        let mut per_db = Vec::new();
        for db in snap.databases.iter().filter(|d| d.allow_connections) {
            let f = db_counter(snap, db, |d| d.temp_files);
            let b = db_counter(snap, db, |d| d.temp_bytes);
            files += f;
            bytes += b;
            if f > 0 {
                per_db.push(json!({ "database": db.name, "temp_files": f, "temp_bytes": b }));
            }
        }
        let window = ctx.stats_window();
        // Compared with the hourly threshold; read in the unit the window covers.
        let mb_per_hour = window.per(bytes as f64, 3600.0) / super::MB;
        if (files as f64) < min_files || mb_per_hour < min_rate {
            return Ok(vec![]);
        }
        let avg_file = bytes as f64 / files.max(1) as f64;

        // What would have held most spills in memory.
        let spill = spillers(snap, block);
        let typical = spill
            .as_ref()
            .and_then(|(s, _)| covering_spill(s, 80.0))
            .unwrap_or(avg_file);
        let needed = round_up_size((typical * factor).max(2.0 * work_mem));

        // What RAM allows for every connection: the recommended configuration's work_mem
        // (`pgsage tune`'s, sized for RAM, shared_buffers and the connections).
        let budget = ctx.recommended_bytes("work_mem");
        let concentrated = spill.as_ref().is_some_and(|(s, total)| {
            *total > 0.0
                && s.iter().take(3).map(|x| x.temp_bytes).sum::<f64>() >= total * top_share / 100.0
        });

        let mut message = format!(
            "{} temporary files ({}) written {}, {}/{}: sorts and hashes spill to disk with `work_mem` = {}",
            units::count(files),
            units::bytes(bytes),
            window.describe(),
            units::bytes(window.per_unit(bytes as f64)),
            window.rate_unit().symbol(),
            units::bytes(work_mem)
        );
        let top: Vec<&Spiller<'_>> = spill
            .as_ref()
            .map(|(s, _)| s.iter().take(5).collect())
            .unwrap_or_default();
        if !top.is_empty() {
            message.push_str(&format!(
                "; {} statement(s) in pg_stat_statements wrote temporary blocks",
                units::count(spill.as_ref().map_or(0, |(s, _)| s.len()))
            ));
        }

        let per_query_sql = |size: f64| {
            let roles: Vec<String> = {
                let mut r: Vec<String> = top.iter().filter_map(|s| s.stmt.user.clone()).collect();
                r.sort();
                r.dedup();
                r
            };
            let mut sql = format!(
                "-- in the transaction of the statements that spill:\nSET LOCAL work_mem = '{}';",
                units::setting_bytes(size as u64)
            );
            for role in roles.iter().take(3) {
                sql.push_str(&format!(
                    "\n-- or for the role that runs them (reports, batches):\nALTER ROLE {} SET work_mem = '{}';",
                    crate::sql::quote_ident(role),
                    units::setting_bytes(size as u64)
                ));
            }
            sql
        };

        let watch = "temp_files and temp_bytes in pg_stat_database, temp_blks_written in pg_stat_statements, and the host's free memory";
        // The server-wide value comes first whenever the recommended configuration raises
        // it (a value below PostgreSQL's default, or below what RAM allows for every
        // connection): one value, `pgsage tune`'s. Without the RAM it is not sized: the
        // spills' need, or PostgreSQL's default when a few statements cause them (their
        // need goes to them alone).
        let own = if concentrated {
            DEFAULT_WORK_MEM as f64
        } else {
            needed
        };
        let global = ctx
            .value_for("work_mem", || units::setting_bytes(own as u64))
            .and_then(|v| crate::host::parse_size(&v).ok().map(|b| (v, b as f64)))
            .filter(|(_, b)| *b > work_mem);
        let (recommendation, fix) = match global {
            Some((v, g)) => {
                let why = if work_mem < DEFAULT_WORK_MEM as f64 {
                    format!(
                        "the server-wide {} is below PostgreSQL's default of {}",
                        units::bytes(work_mem),
                        units::bytes(DEFAULT_WORK_MEM)
                    )
                } else {
                    format!("typical spill {} × {factor}", units::bytes(typical))
                };
                let sized = if budget.is_some() {
                    ", the value RAM allows for every connection"
                } else {
                    " — the host's RAM is unknown, check it against max_connections"
                };
                let rest = if g >= needed {
                    String::new()
                } else {
                    format!(
                        "; the spills need about {} per sort: give that to the reports and batches that spill, per role or per query (SET LOCAL work_mem)",
                        units::bytes(needed)
                    )
                };
                let mut fix = ctx.settings_fix(&[("work_mem", v.clone())], "", watch);
                if g < needed {
                    fix.sql.push('\n');
                    fix.sql.push_str(&per_query_sql(needed));
                }
                (
                    format!(
                        "Raise work_mem to {v} ({why}){sized}{rest}; set log_temp_files = 0 to see what still spills"
                    ),
                    fix,
                )
            }
            None if concentrated => (
                format!(
                    "The spills come from a few statements: give them {} with SET LOCAL work_mem (or ALTER ROLE … SET work_mem for the role running them) instead of raising work_mem for every connection{}",
                    units::bytes(needed),
                    budget.map_or(String::new(), |b| format!("; the RAM allows about {} for every connection", units::bytes(b)))
                ),
                Fix {
                    sql: per_query_sql(needed),
                    requires: Some("none".into()),
                    watch: Some(watch.into()),
                    settings: Vec::new(),
                    ..Default::default()
                },
            ),
            None => (
                format!(
                    "Holding the spills in memory needs about {} per sort, more than the {} per connection the RAM allows: set it per role or per query (SET LOCAL work_mem) for the reports and batches that spill",
                    units::bytes(needed),
                    units::bytes(budget.unwrap_or(work_mem)),
                ),
                Fix {
                    sql: per_query_sql(needed),
                    requires: Some("none".into()),
                    watch: Some(watch.into()),
                    settings: Vec::new(),
                    ..Default::default()
                },
            ),
        };

        let mut draft = Draft::new(ObjectRef::setting("work_mem"), message)
            .evidence("basis", basis.label())
            .evidence("window_s", basis.seconds().round())
            .evidence("temp_files", files)
            .evidence("temp_bytes", bytes)
            .evidence("avg_temp_file_bytes", avg_file.round())
            .evidence("typical_spill_bytes", typical.round())
            .evidence("work_mem_bytes", work_mem)
            .evidence("recommended_work_mem_bytes", needed)
            .evidence("databases", per_db)
            .recommend(recommendation)
            .with_fix(fix);
        if let Some(b) = budget {
            draft = draft.evidence("ram_budget_per_connection_bytes", b);
        }
        // An hourly rate only from an hour of counters or more: never extrapolated.
        if window.rate_unit() >= RateUnit::Hour {
            draft = draft.evidence("temp_mb_per_hour", (mb_per_hour * 10.0).round() / 10.0);
        }
        match &spill {
            Some((s, _)) => {
                let list: Vec<_> = s
                    .iter()
                    .take(5)
                    .map(|x| {
                        json!({
                            "queryid": x.stmt.queryid,
                            "calls": x.calls,
                            "temp_bytes": x.temp_bytes,
                            "temp_bytes_per_call": x.per_call().round(),
                            "query": x.stmt.query.as_deref().map(|q| q.chars().take(200).collect::<String>()),
                        })
                    })
                    .collect();
                draft = draft.evidence("top_spilling_statements", list);
            }
            None => {
                draft = draft.evidence(
                    "pg_stat_statements",
                    "not readable: statements that spill are unknown",
                );
            }
        }
        if let Some(u) = window.unsure(Verdict::Rate) {
            draft = draft.unsure(u.reason, &u.remedy);
        }
        Ok(vec![draft])
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_when_sorts_spill() {
        let f = assert_fires("MEM003", "work_mem");
        let e = &f[0].evidence;
        assert!(e["temp_files"].as_i64().unwrap_or(0) > 0);
        assert!(
            e["recommended_work_mem_bytes"].as_f64().unwrap_or(f64::NAN)
                > e["work_mem_bytes"].as_f64().unwrap_or(f64::NAN)
        );
    }

    /// PostgreSQL's default `work_mem`.
    const DEFAULT_WORK_MEM: f64 = 4.0 * 1024.0 * 1024.0;

    #[test]
    fn raises_a_server_value_below_the_default_first() {
        // memory/temp-spills: `work_mem = 64kB` (1/64 of the default) on a 1 GiB host; the
        // spills come from one report. The server value goes up to what `pgsage tune`
        // sizes before any per-statement setting.
        use pgsage_testkit::scenario::{fixture_path, Scenario};
        let scenario = Scenario::load("memory").expect("memory scenario");
        let snapshot = crate::Snapshot::load(fixture_path("memory", "temp-spills"))
            .expect("memory/temp-spills fixture");
        let mut config = crate::RuleConfig::shipped().expect("shipped packs");
        config
            .apply_toml(&scenario.config, "scenario memory")
            .expect("scenario config");
        let (report, tuning) =
            crate::audit_and_tune(&snapshot, &config, crate::Source::SnapshotFile);
        let tuned = tuning
            .settings
            .iter()
            .find(|a| a.name == "work_mem")
            .expect("tune sizes work_mem (the host's RAM is known)");
        let f = report
            .findings
            .iter()
            .find(|f| f.rule == "MEM003")
            .expect("MEM003 fires on memory/temp-spills");
        assert!(f.evidence["work_mem_bytes"].as_f64().unwrap_or(f64::NAN) < DEFAULT_WORK_MEM);
        let fix = f.fix.as_ref().expect("a fix");
        let server: Vec<_> = fix
            .settings
            .iter()
            .filter(|s| s.name == "work_mem")
            .collect();
        assert_eq!(
            server.len(),
            1,
            "MEM003 must raise the server-wide work_mem first: {f:#?}"
        );
        assert_eq!(server[0].value, tuned.recommended, "{f:#?}");
        assert!(
            f.recommendation
                .starts_with(&format!("Raise work_mem to {}", tuned.recommended)),
            "{f:#?}"
        );
    }

    #[test]
    fn quiet_when_nothing_spills() {
        assert_quiet("MEM003");
    }

    #[test]
    fn covering_spill_weights_by_calls() {
        use super::*;
        let s = |calls, temp| Statement {
            queryid: 1,
            user: None,
            database: None,
            toplevel: None,
            query: None,
            calls,
            plans: 0,
            total_plan_time_ms: 0.0,
            total_exec_time_ms: 0.0,
            mean_exec_time_ms: 0.0,
            min_exec_time_ms: 0.0,
            max_exec_time_ms: 0.0,
            stddev_exec_time_ms: 0.0,
            rows: 0,
            shared_blks_hit: 0,
            shared_blks_read: 0,
            shared_blks_dirtied: 0,
            shared_blks_written: 0,
            local_blks_read: 0,
            local_blks_written: 0,
            temp_blks_read: 0,
            temp_blks_written: temp,
            shared_blk_read_time_ms: 0.0,
            shared_blk_write_time_ms: 0.0,
            wal_bytes: 0,
            jit_time_ms: None,
        };
        let small = s(90, 90);
        let big = s(10, 100_000);
        let list = vec![
            Spiller {
                stmt: &big,
                calls: 10,
                temp_bytes: 100_000.0 * 8192.0,
            },
            Spiller {
                stmt: &small,
                calls: 90,
                temp_bytes: 90.0 * 8192.0,
            },
        ];
        assert_eq!(covering_spill(&list, 80.0), Some(8192.0));
        assert_eq!(covering_spill(&list, 95.0), Some(10_000.0 * 8192.0));
    }
}
