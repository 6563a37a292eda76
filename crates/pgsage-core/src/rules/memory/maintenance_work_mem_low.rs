use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::units;

use super::round_up_size;

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
    /// Set `maintenance_work_mem` to the recommended configuration's value (RAM/16, RAM/8
    /// for `dw`, at most 2 GB: the value `pgsage tune` gives); reload. Each autovacuum worker may use as much
    /// (unless `autovacuum_work_mem` is set), so keep
    /// `autovacuum_max_workers × autovacuum_work_mem` within the RAM budget. Before
    /// PostgreSQL 17 vacuum uses at most 1 GB of it. On managed services set it in the
    /// portal's server parameters.
    ///
    /// ## Thresholds
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
        params: {
            min_pct_of_target: f64 = ("%", "Share of the recommendation below which the setting warns"),
            min_object_ratio: f64 = ("×", "Largest table or index size, as a multiple of the setting, needed to warn"),
        },
    }
}

/// `autovacuum_work_mem`'s value: the recommended `maintenance_work_mem`, within what
/// vacuum can use, and no more than the largest table needs (rounded up).
fn autovacuum_work_mem(maintenance: f64, cap: f64, largest: f64) -> f64 {
    maintenance.min(cap).min(round_up_size(largest))
}

impl SnapshotRule for MaintenanceWorkMemLow {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min_pct = p.min_pct_of_target;
        let ratio = p.min_object_ratio;
        let ram = ctx.ram_bytes()? as f64;
        // The value `pgsage tune` recommends for this RAM and profile.
        let Some(maintenance) = ctx.recommended_bytes("maintenance_work_mem") else {
            return Ok(vec![]);
        };
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
            maintenance,
        )];
        if let Some(av) = snap
            .setting("autovacuum_work_mem")
            .and_then(|s| s.as_bytes())
        {
            if let Some((name, bytes)) = largest_table {
                let cap = crate::knowledge::memory::vacuum_memory_cap(major);
                let rec = autovacuum_work_mem(maintenance, cap, bytes);
                checks.push(("autovacuum_work_mem", av, name, bytes, rec));
            }
        }
        let workers = snap
            .setting("autovacuum_max_workers")
            .and_then(|s| s.as_f64())
            .unwrap_or(3.0);

        let mut drafts = Vec::new();
        for (setting, value, obj, obj_bytes, rec) in checks {
            if value >= rec * min_pct / 100.0 || obj_bytes < value * ratio {
                continue;
            }
            let Some(rec_text) = ctx.value_for(setting, || units::setting_bytes(rec as u64)) else {
                continue;
            };
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
                        units::bytes(value),
                        units::bytes(ram),
                        units::bytes(obj_bytes)
                    ),
                )
                .evidence(&format!("{setting}_bytes"), value)
                .evidence("ram_bytes", ram)
                .evidence("largest_object", obj)
                .evidence("largest_object_bytes", obj_bytes)
                .evidence("autovacuum_max_workers", workers)
                .evidence("recommended_bytes", rec)
                .recommend(format!(
                    "Set {setting} to {rec_text} and reload; up to {} may each use that much at once, so keep it within the RAM budget (on managed services: the server parameter in the portal)",
                    units::counted(workers, "autovacuum worker", "autovacuum workers")
                ))
                .with_fix(ctx.settings_fix(
                    &[(setting, rec_text.clone())],
                    "",
                    "the duration of autovacuum runs on the largest tables (log_autovacuum_min_duration) and of index builds",
                )),
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
    fn autovacuum_work_mem_is_capped_by_the_largest_table() {
        const MB: f64 = 1024.0 * 1024.0;
        assert_eq!(
            super::autovacuum_work_mem(1024.0 * MB, f64::INFINITY, 7.0 * MB),
            8.0 * MB
        );
        assert_eq!(
            super::autovacuum_work_mem(2048.0 * MB, 1024.0 * MB, 100_000.0 * MB),
            1024.0 * MB
        );
    }
}
