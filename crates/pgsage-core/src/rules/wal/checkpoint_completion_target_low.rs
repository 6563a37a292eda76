use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::units;

declare_rule! {
    /// ## What it detects
    /// `checkpoint_completion_target` below `min_target`. Before PostgreSQL 14 the default
    /// was 0.5; 14 changed it to 0.9.
    ///
    /// ## Why it matters
    /// The checkpointer spreads its writes over this fraction of the interval between
    /// checkpoints. At 0.5 it writes every dirty buffer in half the time, doubling the
    /// write rate during checkpoints: latency spikes for every session and bursts of
    /// fsync work on the storage.
    ///
    /// ## How to fix
    /// `ALTER SYSTEM SET checkpoint_completion_target = 0.9;` and reload (on managed
    /// services: the server parameter in the portal).
    ///
    /// ## Thresholds
    /// - `min_target` (default 0.9): lower values warn.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/runtime-config-wal.html#GUC-CHECKPOINT-COMPLETION-TARGET>
    /// - <https://www.postgresql.org/docs/current/wal-configuration.html>
    pub struct CheckpointCompletionTargetLow {
        id: "WAL002",
        name: "checkpoint-completion-target-low",
        pack: "wal",
        title: "Checkpoint writes not spread out",
        params: {
            min_target: f64 = ("fraction of the interval", "checkpoint_completion_target below this warns"),
        },
    }
}

impl SnapshotRule for CheckpointCompletionTargetLow {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let min = p.min_target;
        let s = ctx.setting("checkpoint_completion_target")?;
        let v = s
            .as_f64()
            .ok_or_else(|| Skip::because("checkpoint_completion_target is not a number"))?;
        if v >= min - 1e-9 {
            return Ok(vec![]);
        }
        // The recommended configuration's value when it sizes the setting.
        let Some(target) = ctx.value_for("checkpoint_completion_target", || min.to_string()) else {
            return Ok(vec![]);
        };
        Ok(vec![Draft::new(
            ObjectRef::setting("checkpoint_completion_target"),
            format!(
                "`checkpoint_completion_target` is {v}{}: checkpoints write their buffers in {} of the interval instead of {}, in bursts",
                if s.source == "default" { " (the default before PostgreSQL 14)" } else { "" },
                units::share(v),
                units::share(min)
            ),
        )
        .evidence("checkpoint_completion_target", v)
        .evidence("source", s.source.clone())
        .evidence("recommended", target.clone())
        .recommend(format!(
            "Set checkpoint_completion_target to {target} and reload (on managed services: the server parameter in the portal)"
        ))
        .with_fix(ctx.settings_fix(
            &[("checkpoint_completion_target", target.clone())],
            "",
            "write latency during checkpoints (checkpoint_write_time in the checkpointer statistics, log_checkpoints)",
        ))])
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_the_old_default() {
        assert_fires("WAL002", "checkpoint_completion_target");
    }

    #[test]
    fn quiet_at_0_9() {
        assert_quiet("WAL002");
    }
}
