use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, Rule, RuleContext, RuleMeta, Skip};

use super::{pg_size, round_down_size, round_up_size};

declare_rule! {
    /// ## What it detects
    /// `maintenance_work_mem` (and `autovacuum_work_mem` when it is set) far below what
    /// the host's RAM allows while the largest tables and indexes of the connected
    /// database are many times larger than it.
    ///
    /// ## Why it matters
    /// `CREATE INDEX`, `REINDEX`, `ALTER TABLE … ADD FOREIGN KEY` sort with
    /// `maintenance_work_mem`, and (auto)vacuum keeps the dead row ids it collects in it:
    /// too little memory makes index builds spill to disk and forces vacuum to scan every
    /// index of a large table several times in one pass, so vacuum of the big ERP tables
    /// (stock moves, account move lines) takes hours and falls behind.
    ///
    /// ## How to fix
    /// Set `maintenance_work_mem` to about `target_pct` of RAM, at most `max_mb`, and no
    /// more than the largest object needs; reload. Each autovacuum worker may use as much
    /// (unless `autovacuum_work_mem` is set), so keep
    /// `autovacuum_max_workers × autovacuum_work_mem` within the RAM budget. Before
    /// PostgreSQL 17 vacuum uses at most 1 GB of it. On managed services set it in the
    /// portal's server parameters.
    ///
    /// ## Thresholds
    /// - `target_pct` (default 5): the recommended share of RAM.
    /// - `max_mb` (default 2048): the recommendation's cap, in MB.
    /// - `min_pct_of_target` (default 50): the setting warns below this share of the
    ///   recommendation.
    /// - `min_object_ratio` (default 4): only when the largest table or index is at least
    ///   this many times the setting (small databases need no more).
    ///
    /// Needs the host's RAM; skipped without it. Sizes are those of the connected database.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/runtime-config-resource.html#GUC-MAINTENANCE-WORK-MEM>
    /// - <https://www.postgresql.org/docs/current/runtime-config-resource.html#GUC-AUTOVACUUM-WORK-MEM>
    pub struct MaintenanceWorkMemLow {
        id: "MEM004",
        name: "maintenance-work-mem-low",
        pack: "memory",
        title: "maintenance_work_mem too low for the largest tables",
        params: [
            ("target_pct", "Recommended share of RAM, in %"),
            ("max_mb", "Cap of the recommendation, in MB"),
            ("min_pct_of_target", "Share of the recommendation below which the setting warns, in %"),
            ("min_object_ratio", "Largest table or index size, as a multiple of the setting, needed to warn"),
        ],
    }
}

/// The recommended value: a share of RAM, capped, and no more than the largest object
/// needs (rounded up).
fn recommended(ram: f64, target_pct: f64, max_bytes: f64, largest: f64) -> f64 {
    round_down_size((ram * target_pct / 100.0).min(max_bytes)).min(round_up_size(largest))
}

impl Rule for MaintenanceWorkMemLow {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let target = ctx.number("target_pct")?;
        let max = ctx.number("max_mb")? * super::MB;
        let min_pct = ctx.number("min_pct_of_target")?;
        let ratio = ctx.number("min_object_ratio")?;
        let ram = ctx.ram_bytes()? as f64;
        let snap = ctx.snapshot;
        let major = snap.server.major();
        let largest_table = snap
            .tables
            .iter()
            .max_by_key(|t| t.heap_bytes)
            .map(|t| (t.qualified_name(), t.heap_bytes as f64));
        let largest_index = snap
            .indexes
            .iter()
            .max_by_key(|i| i.size_bytes)
            .map(|i| (i.qualified_name(), i.size_bytes as f64));
        let largest = [largest_table.clone(), largest_index.clone()]
            .into_iter()
            .flatten()
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let Some((largest_name, largest_bytes)) = largest else {
            return Ok(vec![]);
        };

        let mut checks = vec![(
            "maintenance_work_mem",
            super::bytes_setting(ctx, "maintenance_work_mem")?,
            largest_name.clone(),
            largest_bytes,
            max,
        )];
        if let Some(av) = snap
            .setting("autovacuum_work_mem")
            .and_then(|s| s.as_bytes())
        {
            if let Some((name, bytes)) = largest_table {
                // Vacuum uses at most 1 GB of it before 17.
                let cap = if major < 17 {
                    max.min(1024.0 * super::MB)
                } else {
                    max
                };
                checks.push(("autovacuum_work_mem", av, name, bytes, cap));
            }
        }
        let workers = snap
            .setting("autovacuum_max_workers")
            .and_then(|s| s.as_f64())
            .unwrap_or(3.0);

        let mut drafts = Vec::new();
        for (setting, value, obj, obj_bytes, cap) in checks {
            let rec = recommended(ram, target, cap, obj_bytes);
            if value >= rec * min_pct / 100.0 || obj_bytes < value * ratio {
                continue;
            }
            let what = if setting == "autovacuum_work_mem" {
                "each autovacuum worker keeps the dead row ids of a table in it"
            } else {
                "index builds sort in it and vacuum keeps dead row ids in it (unless autovacuum_work_mem is set)"
            };
            drafts.push(
                Draft::new(
                    ObjectRef::setting(setting),
                    format!(
                        "`{setting}` is {} on a host with {} RAM while `{obj}` is {}: {what}",
                        pg_size(value),
                        pg_size(ram),
                        pg_size(obj_bytes)
                    ),
                )
                .evidence(&format!("{setting}_bytes"), value)
                .evidence("ram_bytes", ram)
                .evidence("largest_object", obj)
                .evidence("largest_object_bytes", obj_bytes)
                .evidence("autovacuum_max_workers", workers)
                .evidence("recommended_bytes", rec)
                .recommend(format!(
                    "Set {setting} to {} and reload; up to {} autovacuum workers may each use that much at once, so keep it within the RAM budget (on managed services: the server parameter in the portal)",
                    pg_size(rec),
                    workers
                ))
                .fix(
                    format!(
                        "ALTER SYSTEM SET {setting} = '{}';\nSELECT pg_reload_conf();",
                        pg_size(rec)
                    ),
                    "reload",
                    "the duration of autovacuum runs on the largest tables (log_autovacuum_min_duration) and of index builds",
                ),
            );
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_when_maintenance_memory_is_tiny_for_the_tables() {
        assert_fires("MEM004", "maintenance_work_mem");
    }

    #[test]
    fn quiet_when_it_fits() {
        assert_quiet("MEM004");
    }

    #[test]
    fn recommendation_is_capped_by_the_largest_object() {
        const MB: f64 = 1024.0 * 1024.0;
        let ram = 24.0 * 1024.0 * MB;
        assert_eq!(
            super::recommended(ram, 5.0, 2048.0 * MB, 7.0 * MB),
            8.0 * MB
        );
        assert_eq!(
            super::recommended(ram, 5.0, 2048.0 * MB, 100_000.0 * MB),
            1024.0 * MB
        );
    }
}
