use crate::knowledge::memory;
use crate::report::{ObjectRef, Severity};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::units;

use super::{autovacuum_mem, bytes_setting};

declare_rule! {
    /// ## What it detects
    /// A worst-case memory estimate above the host's RAM:
    /// `shared_buffers` + `max_connections` × `work_mem` × `work_mem_factor`
    /// + `autovacuum_max_workers` × (`autovacuum_work_mem` or `maintenance_work_mem`)
    /// + `maintenance_work_mem` (one manual maintenance command).
    ///
    /// ## Why it matters
    /// `work_mem` is per sort or hash node, per connection: when many connections run
    /// reports at once (month-end closing, nightly batches), the server can ask for more
    /// memory than the host has. Linux's OOM killer then kills a backend and PostgreSQL
    /// restarts every session (crash recovery), or the host starts swapping.
    ///
    /// ## How to fix
    /// Lower `work_mem` to what RAM allows for every connection, and give more only to the
    /// roles or statements that need it (`ALTER ROLE … SET work_mem`, `SET LOCAL`); reduce
    /// `max_connections` with a pooler (PgBouncer in transaction mode) so fewer sessions
    /// can run at once. On Linux, `vm.overcommit_memory = 2` makes allocations fail
    /// instead of the OOM killer firing.
    ///
    /// ## Thresholds
    /// - `work_mem_factor` (default 1): `work_mem` allocations assumed per connection
    ///   (a query with several sorts/hashes uses more; `hash_mem_multiplier` raises hashes).
    /// - `max_pct` (default 100): estimate above this share of RAM warns.
    /// - `critical_pct` (default 200): estimate above this share of RAM is critical.
    ///
    /// Needs the host's RAM; skipped without it.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/runtime-config-resource.html>
    /// - <https://www.postgresql.org/docs/current/kernel-resources.html#LINUX-MEMORY-OVERCOMMIT>
    pub struct MemoryOvercommit {
        id: "MEM005",
        name: "memory-overcommit",
        pack: "memory",
        title: "Worst-case memory use exceeds RAM (OOM risk)",
        params: {
            work_mem_factor: f64 = ("allocations per connection", "work_mem allocations assumed per connection"),
            max_pct: f64 = ("%", "Worst-case estimate above this share of RAM warns"),
            critical_pct: f64 = ("%", "Worst-case estimate above this share of RAM is critical"),
        },
    }
}

impl SnapshotRule for MemoryOvercommit {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let factor = p.work_mem_factor;
        let max_pct = p.max_pct;
        let critical_pct = p.critical_pct;
        let ram = ctx.ram_bytes()? as f64;
        let sb = bytes_setting(ctx, "shared_buffers")?;
        let work_mem = bytes_setting(ctx, "work_mem")?;
        let mwm = bytes_setting(ctx, "maintenance_work_mem")?;
        let (av_mem, av_name) = autovacuum_mem(ctx)?;
        let conns = ctx
            .setting("max_connections")?
            .as_f64()
            .ok_or_else(|| Skip::because("max_connections is not a number"))?;
        let workers = ctx
            .snapshot
            .setting("autovacuum_max_workers")
            .and_then(|s| s.as_f64())
            .unwrap_or(memory::DEFAULT_AUTOVACUUM_MAX_WORKERS);
        let worst = memory::WorstCase {
            shared_buffers: sb,
            connections: conns,
            work_mem,
            work_mem_factor: factor,
            autovacuum_workers: workers,
            autovacuum_mem: av_mem,
            maintenance_work_mem: mwm,
        }
        .total();
        let pct = 100.0 * worst / ram;
        if pct <= max_pct {
            return Ok(vec![]);
        }
        // The recommended configuration (`pgsage tune`'s) sizes work_mem for its
        // max_connections within RAM: its changes to either are the fix.
        let changes: Vec<(&str, String)> = ["max_connections", "work_mem"]
            .into_iter()
            .filter_map(|name| ctx.sized_value(name).map(|v| (name, v)))
            .collect();
        let recommendation = if changes.is_empty() {
            "shared_buffers and maintenance memory alone nearly fill the RAM: lower them, then size work_mem for the connections".to_owned()
        } else {
            let list: Vec<String> = changes.iter().map(|(n, v)| format!("{n} to {v}")).collect();
            format!(
                "Set {} (what RAM allows for the connections the server needs; a pooler keeps the sessions few) and raise work_mem only for the roles or statements that need it (ALTER ROLE … SET work_mem)",
                list.join(" and ")
            )
        };
        let mut draft = Draft::new(
            ObjectRef::setting("work_mem"),
            format!(
                "Worst-case memory is {} ({} of {} RAM): `shared_buffers` {} + {} connections × `work_mem` {}{} + {workers:.0} autovacuum workers × `{av_name}` {} + `maintenance_work_mem` {}",
                units::bytes(worst),
                units::percent(pct),
                units::bytes(ram),
                units::bytes(sb),
                units::count(conns),
                units::bytes(work_mem),
                if factor == 1.0 { String::new() } else { format!(" × {factor}") },
                units::bytes(av_mem),
                units::bytes(mwm)
            ),
        )
        .severity(if pct > critical_pct { Severity::Critical } else { Severity::Warning })
        .evidence("worst_case_bytes", worst)
        .evidence("ram_bytes", ram)
        .evidence("pct_of_ram", pct.round())
        .evidence("shared_buffers_bytes", sb)
        .evidence("max_connections", conns)
        .evidence("work_mem_bytes", work_mem)
        .evidence("work_mem_factor", factor)
        .evidence("autovacuum_max_workers", workers)
        .evidence("autovacuum_mem_bytes", av_mem)
        .evidence("maintenance_work_mem_bytes", mwm)
        .recommend(recommendation);
        if !changes.is_empty() {
            draft = draft.with_fix(ctx.settings_fix(
                &changes,
                &format!(
                    "-- per role where needed afterwards, e.g.: ALTER ROLE reporting SET work_mem = '{}';",
                    units::setting_bytes(work_mem as u64)
                ),
                "temp_files in pg_stat_database (spills) and the host's free memory",
            ));
        }
        Ok(vec![draft])
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_when_connections_times_work_mem_exceed_ram() {
        let f = assert_fires("MEM005", "work_mem");
        assert!(f[0].evidence["pct_of_ram"].as_f64().unwrap_or(f64::NAN) > 100.0);
    }

    #[test]
    fn quiet_when_the_estimate_fits() {
        assert_quiet("MEM005");
    }
}
