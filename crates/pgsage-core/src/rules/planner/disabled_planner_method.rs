use crate::report::{ObjectKind, ObjectRef};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::{Setting, Snapshot};
use crate::sql::quote_ident;

declare_rule! {
    /// ## What it detects
    /// Planner method switches (`enable_seqscan`, `enable_indexscan`, `enable_nestloop`,
    /// `enable_hashjoin`, `enable_mergejoin`, `enable_bitmapscan`, `enable_sort`, …)
    /// turned off for the whole server (`postgresql.conf`, `ALTER SYSTEM`, `ALTER DATABASE`)
    /// or for a login role (`ALTER ROLE … SET`). Only switches that are on by default
    /// count: `enable_partitionwise_join` and `enable_partitionwise_aggregate` are off by
    /// default and not judged.
    ///
    /// ## Why it matters
    /// These switches exist to test plans in one session. Set globally they do not forbid
    /// a method, they add a huge cost penalty to it: every query is planned as if the
    /// method were a last resort, so plans that need it (a nested loop for a
    /// few-rows lookup, a sequential scan of a small table) become wildly expensive
    /// alternatives, and the workaround for one bad query becomes a slowdown of all the
    /// others.
    ///
    /// ## How to fix
    /// Turn the switch back on (`ALTER SYSTEM SET enable_nestloop = on;` then `SELECT
    /// pg_reload_conf();`, or `ALTER ROLE … RESET …` / `ALTER DATABASE … RESET …`) and fix
    /// the query that needed it instead: fresh statistics (`ANALYZE`), extended statistics
    /// (`CREATE STATISTICS`), an index, or a rewrite; as a last resort set the switch only
    /// in the transaction that needs it (`SET LOCAL`). On managed services change
    /// server-wide values in the server parameters of the portal. Watch the slowest
    /// statements in `pg_stat_statements` afterwards.
    ///
    /// ## Thresholds
    /// None: any default-on planner switch that is off is reported.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/runtime-config-query.html#RUNTIME-CONFIG-QUERY-ENABLE>
    /// - <https://www.postgresql.org/docs/current/planner-stats.html#PLANNER-STATS-EXTENDED>
    pub struct DisabledPlannerMethod {
        id: "PLN004",
        name: "disabled-planner-method",
        pack: "planner",
        title: "Planner method switched off",
        params: {},
    }
}

/// Planner switches that are off by default.
const DEFAULT_OFF: &[&str] = &[
    "enable_partitionwise_join",
    "enable_partitionwise_aggregate",
];

/// Whether `name` is a planner switch that is on by default (per `boot_val` when known).
fn default_on_switch(snap: &Snapshot, name: &str) -> bool {
    if !name.starts_with("enable_") {
        return false;
    }
    match snap.setting(name) {
        Some(Setting {
            vartype,
            boot_val: Some(boot),
            ..
        }) => vartype == "bool" && boot == "on",
        Some(s) => s.vartype == "bool" && !DEFAULT_OFF.contains(&name),
        None => false,
    }
}

fn is_off(value: &str) -> bool {
    matches!(
        value
            .trim()
            .trim_matches('\'')
            .to_ascii_lowercase()
            .as_str(),
        "off" | "false" | "no" | "0" | "of" | "f" | "n"
    )
}

impl SnapshotRule for DisabledPlannerMethod {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let snap = ctx.snapshot;
        let mut drafts = Vec::new();
        for s in &snap.settings {
            // `user` values come from ALTER ROLE and are reported per role below; `session`
            // values are the collector's own.
            if !default_on_switch(snap, &s.name)
                || !is_off(&s.setting)
                || matches!(s.source.as_str(), "default" | "user" | "session" | "client")
            {
                continue;
            }
            let watch = "the slowest statements in pg_stat_statements and their plans";
            let fix = if s.source == "database" {
                crate::report::Fix {
                    sql: format!(
                        "ALTER DATABASE {} RESET {};",
                        quote_ident(&snap.server.database),
                        s.name
                    ),
                    requires: Some("none".into()),
                    watch: Some(watch.into()),
                    settings: Vec::new(),
                    ..Default::default()
                }
            } else {
                ctx.settings_fix(&[(s.name.as_str(), "on".into())], "", watch)
            };
            drafts.push(
                Draft::new(
                    ObjectRef::setting(&s.name),
                    format!(
                        "`{}` is off (source: {}): every query plans as if this method were a last resort",
                        s.name, s.source
                    ),
                )
                .evidence("setting", s.name.as_str())
                .evidence("value", s.setting.as_str())
                .evidence("source", s.source.as_str())
                .recommend(format!(
                    "Turn {} back on and fix the statement that needed it (ANALYZE, extended statistics, an index or a rewrite), or disable the method only with SET LOCAL in that transaction",
                    s.name
                ))
                .with_fix(fix),
            );
        }
        for role in &snap.roles {
            let off: Vec<&str> = role
                .settings
                .iter()
                .filter_map(|kv| kv.split_once('='))
                .filter(|(k, v)| default_on_switch(snap, k) && is_off(v))
                .map(|(k, _)| k)
                .collect();
            if off.is_empty() {
                continue;
            }
            let sql = off
                .iter()
                .map(|k| format!("ALTER ROLE {} RESET {k};", quote_ident(&role.name)))
                .collect::<Vec<_>>()
                .join("\n");
            drafts.push(
                Draft::new(
                    ObjectRef::named(ObjectKind::Role, &role.name),
                    format!(
                        "Role `{}` runs with {} off: every query of its sessions plans as if {} a last resort",
                        role.name,
                        off.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", "),
                        if off.len() == 1 { "this method were" } else { "these methods were" }
                    ),
                )
                .evidence("role", role.name.as_str())
                .evidence("settings_off", off.join(","))
                .recommend(
                    "Reset the switches for the role (new sessions pick it up) and fix the statements that needed them instead",
                )
                .fix(sql, "none", "the role's statements in pg_stat_statements"),
            );
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use super::is_off;
    use crate::rules::testing::{assert_fires, assert_quiet};

    #[test]
    fn fires_on_a_server_wide_switch() {
        assert_fires("PLN004", "enable_nestloop");
    }

    #[test]
    fn fires_on_a_role_setting() {
        assert_fires("PLN004", "odoo_report");
    }

    #[test]
    fn quiet_with_defaults() {
        assert_quiet("PLN004");
    }

    #[test]
    fn off_values() {
        assert!(is_off("off") && is_off("false") && is_off("'0'"));
        assert!(!is_off("on"));
    }
}
