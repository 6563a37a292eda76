use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// `checkpoint_timeout` shorter than `min_timeout_s` (the default is 5 min).
    ///
    /// ## Why it matters
    /// Every checkpoint flushes all dirty buffers and makes the next change to each page
    /// log a full-page image: checkpoints every minute or two multiply WAL volume (often
    /// several times) and write the same hot pages (ERP sequences, stock quants) over and
    /// over. Crash recovery is already bounded at the default.
    ///
    /// ## How to fix
    /// Set it to `target_timeout_s` (15 min is common; up to 30 min), raise `max_wal_size`
    /// so checkpoints stay time-driven, and reload. On managed services: the server
    /// parameter in the portal.
    ///
    /// ## Thresholds
    /// - `min_timeout_s` (default 300): shorter timeouts warn, in seconds.
    /// - `target_timeout_s` (default 900): the recommended value, in seconds.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/runtime-config-wal.html#GUC-CHECKPOINT-TIMEOUT>
    /// - <https://www.postgresql.org/docs/current/wal-configuration.html>
    pub struct CheckpointTimeoutShort {
        id: "WAL003",
        name: "checkpoint-timeout-short",
        pack: "wal",
        title: "Checkpoints too frequent by configuration",
        params: {
            min_timeout_s: f64 = ("s", "checkpoint_timeout below this warns"),
            target_timeout_s: f64 = ("s", "Recommended checkpoint_timeout"),
        },
    }
}

impl SnapshotRule for CheckpointTimeoutShort {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min = p.min_timeout_s;
        let target = p.target_timeout_s;
        let s = ctx
            .setting("checkpoint_timeout")?
            .as_millis()
            .ok_or_else(|| Skip::because("checkpoint_timeout is not a duration"))?
            / 1000.0;
        if s >= min {
            return Ok(vec![]);
        }
        let target_min = (target / 60.0).round();
        Ok(vec![Draft::new(
            ObjectRef::setting("checkpoint_timeout"),
            format!(
                "`checkpoint_timeout` is {}: a checkpoint at least every {} flushes all dirty buffers and restarts full-page images in WAL",
                units::duration(s),
                units::duration(s)
            ),
        )
        .evidence("checkpoint_timeout_s", s)
        .evidence("recommended_s", target)
        .recommend(format!(
            "Set checkpoint_timeout to {target_min:.0}min, raise max_wal_size so checkpoints stay time-driven, and reload (on managed services: the server parameter in the portal)"
        ))
        .with_fix(ctx.settings_fix(
            &[("checkpoint_timeout", format!("{target_min:.0}min"))],
            "",
            "WAL volume (pg_stat_wal.wal_bytes, wal_fpi) and requested vs timed checkpoints",
        ))])
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_a_one_minute_timeout() {
        assert_fires("WAL003", "checkpoint_timeout");
    }

    #[test]
    fn quiet_on_the_default() {
        assert_quiet("WAL003");
    }
}
