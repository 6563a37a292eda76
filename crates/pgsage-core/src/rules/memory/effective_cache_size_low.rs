use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::units;

use super::bytes_setting;

declare_rule! {
    /// ## What it detects
    /// `effective_cache_size` below `min_pct` of the host's RAM. The setting allocates
    /// nothing: it tells the planner how much of the data can be expected in memory
    /// (`shared_buffers` plus the operating system's page cache).
    ///
    /// ## Why it matters
    /// The planner uses it to cost index scans that revisit pages. Too low a value (the
    /// default is 4 GB, whatever the host) makes index scans look expensive on large
    /// tables, so the planner picks sequential scans and bitmap scans that read far more
    /// than needed — typical on ERP report queries over orders and stock moves.
    ///
    /// ## How to fix
    /// Set it to the recommended configuration's value, three quarters of RAM (what
    /// `shared_buffers` and the page cache can hold on a dedicated database host): `ALTER SYSTEM SET effective_cache_size = '…'`
    /// and reload. On managed services set it in the portal's server parameters (many
    /// already derive it from the instance size). Lower it if the host runs other
    /// memory-hungry services.
    ///
    /// ## Thresholds
    /// - `min_pct` (default 50): below this share of RAM warns.
    ///
    /// Needs the host's RAM (`--ram`, `[host] ram`, or read locally); skipped without it.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/runtime-config-query.html#GUC-EFFECTIVE-CACHE-SIZE>
    /// - <https://wiki.postgresql.org/wiki/Tuning_Your_PostgreSQL_Server>
    pub struct EffectiveCacheSizeLow {
        id: "MEM002",
        name: "effective-cache-size-low",
        pack: "memory",
        title: "effective_cache_size far below what RAM allows",
        params: {
            min_pct: f64 = ("%", "Share of RAM below which effective_cache_size warns"),
        },
    }
}

impl SnapshotRule for EffectiveCacheSizeLow {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min = p.min_pct;
        let ram = ctx.ram_bytes()? as f64;
        let ecs = bytes_setting(ctx, "effective_cache_size")?;
        let pct = 100.0 * ecs / ram;
        if pct >= min {
            return Ok(vec![]);
        }
        // The value `pgsage tune` recommends for this RAM.
        let Some(recommended) = ctx.sized_value("effective_cache_size") else {
            return Ok(vec![]);
        };
        let draft = Draft::new(
            ObjectRef::setting("effective_cache_size"),
            format!(
                "`effective_cache_size` is {} ({} of {} RAM): the planner assumes far less data is cached than the host can hold, and undervalues index scans",
                units::bytes(ecs),
                units::percent(pct),
                units::bytes(ram)
            ),
        )
        .evidence("effective_cache_size_bytes", ecs)
        .evidence("ram_bytes", ram)
        .evidence("pct_of_ram", (pct * 10.0).round() / 10.0)
        .evidence("recommended", recommended.clone())
        .recommend(format!(
            "Set effective_cache_size to {recommended} (three quarters of RAM) and reload; it allocates no memory (on managed services: the server parameter in the portal)"
        ))
        .with_fix(ctx.settings_fix(
            &[("effective_cache_size", recommended.clone())],
            "",
            "plans of the slowest statements (EXPLAIN): index scans chosen on large tables",
        ));
        Ok(vec![draft])
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_when_the_planner_is_told_of_a_small_cache() {
        let f = assert_fires("MEM002", "effective_cache_size");
        assert!(f[0].evidence["pct_of_ram"].as_f64().unwrap_or(f64::NAN) < 50.0);
    }

    #[test]
    fn quiet_when_it_matches_the_ram() {
        assert_quiet("MEM002");
    }
}
