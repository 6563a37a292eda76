use crate::report::ObjectRef;
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};

declare_rule! {
    /// ## What it detects
    /// `superuser_reserved_connections = 0` with no other reserved slots
    /// (`reserved_connections`, PostgreSQL 16+): no connection slot is kept for
    /// administrators.
    ///
    /// ## Why it matters
    /// When the applications use every slot — a connection leak, a lock pile-up, a
    /// pooler misconfigured — the DBA cannot connect either (`FATAL: sorry, too many
    /// clients already`) to see what is happening or to terminate the culprits; the only
    /// way out is a restart, which loses the evidence and interrupts everyone.
    ///
    /// ## How to fix
    /// Keep a few slots for superusers (the default is 3), and on 16+ for a
    /// monitoring/admin role with `reserved_connections` and the
    /// `pg_use_reserved_connections` role. A restart is needed; on managed services the
    /// provider usually manages this parameter.
    ///
    /// ## Thresholds
    /// None: zero reserved slots is always flagged.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-SUPERUSER-RESERVED-CONNECTIONS>
    /// - <https://www.postgresql.org/docs/current/runtime-config-connection.html#GUC-RESERVED-CONNECTIONS>
    pub struct SuperuserReservedZero {
        id: "CON010",
        name: "no-reserved-admin-slots",
        pack: "connections",
        title: "No connection slots reserved for administrators",
        params: {},
    }
}

impl SnapshotRule for SuperuserReservedZero {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let su = ctx
            .setting("superuser_reserved_connections")?
            .as_f64()
            .ok_or_else(|| Skip::because("superuser_reserved_connections is not a number"))?;
        let other = ctx
            .snapshot
            .setting("reserved_connections")
            .and_then(|s| s.as_f64())
            .unwrap_or(0.0);
        if su > 0.0 || other > 0.0 {
            return Ok(vec![]);
        }
        let max = ctx
            .snapshot
            .setting("max_connections")
            .and_then(|s| s.as_f64());
        let mut draft = Draft::new(
            ObjectRef::setting("superuser_reserved_connections"),
            "`superuser_reserved_connections` is 0 and no other slots are reserved: when the applications fill max_connections, no administrator can connect",
        )
        .evidence("superuser_reserved_connections", su)
        .evidence("reserved_connections", other)
        .recommend(
            "Reserve a few slots for superusers (3 is the default); on PostgreSQL 16+ also reserved_connections for a monitoring role granted pg_use_reserved_connections",
        )
        .with_fix(ctx.settings_fix(
            // PostgreSQL's default, which the connection model counts as reserved after
            // the advice (`advised_reserved_slots`).
            &[(
                "superuser_reserved_connections",
                crate::knowledge::connections::DEFAULT_SUPERUSER_RESERVED.to_string(),
            )],
            "",
            "that a superuser can still connect when the applications use every other slot",
        ));
        if let Some(m) = max {
            draft = draft.evidence("max_connections", m);
        }
        Ok(vec![draft])
    }
}

#[cfg(test)]
mod tests {
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_without_reserved_slots() {
        assert_fires("CON010", "superuser_reserved_connections");
    }

    #[test]
    fn quiet_with_the_default_reserve() {
        assert_quiet("CON010");
    }
}
