use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// `shared_buffers` far from the usual share of the host's RAM: below `min_pct` (the
    /// server leans on the OS page cache and reads go through two caches) or above
    /// `max_pct` (too little memory left for connections, `work_mem`, maintenance and the
    /// OS cache).
    ///
    /// ## Why it matters
    /// The packaged default, 128 MB, suits a laptop, not a server with gigabytes of RAM:
    /// hot ERP tables (orders, stock moves) then keep falling out of PostgreSQL's cache.
    /// Too large a value invites out-of-memory kills and double buffering.
    ///
    /// ## How to fix
    /// Set `shared_buffers` to the recommended configuration's value (a quarter of RAM,
    /// the value `pgsage tune` gives) with `ALTER SYSTEM SET shared_buffers = '…'` and
    /// restart. On managed services change it
    /// in the server parameters of the portal. Consider `huge_pages` above 8 GB.
    ///
    /// ## Thresholds
    /// - `min_pct` (default 10): below this share of RAM warns.
    /// - `max_pct` (default 50): above this share of RAM warns.
    ///
    /// Needs the host's RAM (`--ram`, `[host] ram`, or read locally); skipped without it.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/runtime-config-resource.html#GUC-SHARED-BUFFERS>
    /// - <https://wiki.postgresql.org/wiki/Tuning_Your_PostgreSQL_Server>
    pub struct SharedBuffersSize {
        id: "MEM001",
        name: "shared-buffers-size",
        pack: "memory",
        title: "shared_buffers out of proportion to RAM",
        params: {
            min_pct: f64 = ("%", "Share of RAM below which shared_buffers warns"),
            max_pct: f64 = ("%", "Share of RAM above which shared_buffers warns"),
        },
    }
}

impl SnapshotRule for SharedBuffersSize {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min = p.min_pct;
        let max = p.max_pct;
        let ram = ctx.ram_bytes()? as f64;
        let setting = ctx.setting("shared_buffers")?;
        let sb = setting
            .as_bytes()
            .ok_or_else(|| Skip::because("shared_buffers is not a size"))?;
        let pct = 100.0 * sb / ram;
        if (min..=max).contains(&pct) {
            return Ok(vec![]);
        }
        // The value `pgsage tune` recommends for this RAM.
        let Some(recommended) = ctx.sized_value("shared_buffers") else {
            return Ok(vec![]);
        };
        let source = ctx
            .host
            .ram_bytes
            .as_ref()
            .map_or("", |f| f.source.as_str());
        let draft = Draft::new(
            ObjectRef::setting("shared_buffers"),
            format!(
                "`shared_buffers` is {} ({} of {} RAM); the usual range is {}–{}",
                units::bytes(sb),
                units::percent(pct),
                units::bytes(ram),
                units::percent(min),
                units::percent(max)
            ),
        )
        .evidence("shared_buffers_bytes", sb)
        .evidence("ram_bytes", ram)
        .evidence("ram_source", source)
        .evidence("pct_of_ram", (pct * 10.0).round() / 10.0)
        .evidence("recommended", recommended.clone())
        .recommend(format!(
            "Set shared_buffers to {recommended} (a quarter of RAM) and restart"
        ))
        .with_fix(ctx.settings_fix(
            &[("shared_buffers", recommended.clone())],
            "",
            "the buffer cache hit ratio in pg_stat_database and the host's free memory",
        ));
        Ok(vec![draft])
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_when_shared_buffers_is_tiny_for_the_ram() {
        assert_fires("MEM001", "shared_buffers");
    }

    #[test]
    fn quiet_when_shared_buffers_fits_the_ram() {
        assert_quiet("MEM001");
    }
}
