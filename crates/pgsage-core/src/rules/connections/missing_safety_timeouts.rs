use std::collections::BTreeSet;

use crate::knowledge::connections::SAFETY_TIMEOUTS;
use crate::report::{ObjectRef, Severity};
use crate::rules::macros::declare_rule;
use crate::rules::{Draft, RuleContext, RuleMeta, Skip, SnapshotRule};
use crate::snapshot::{Role, Snapshot};
use crate::sql::quote_ident;

use super::common::clients_and_hidden;

declare_rule! {
    /// ## What it detects
    /// Safety timeouts left at 0 (disabled) for the roles that actually connect to the
    /// connected database (seen in `pg_stat_activity`, pgsage's own session left out),
    /// one finding per setting, listing the roles:
    /// - `idle_in_transaction_session_timeout`, for every connecting role;
    /// - `statement_timeout` and `lock_timeout`, for application roles: connecting roles
    ///   that are not superusers. A superuser's sessions run maintenance, index builds,
    ///   migrations and restores on purpose, which these timeouts would cancel, so no
    ///   `ALTER ROLE <superuser> SET statement_timeout` is ever suggested; the connecting
    ///   superusers left out are listed in the evidence (`superusers_left_out`). An
    ///   application that connects as a superuser is rule CON009's finding: it needs its
    ///   own non-superuser role, which then gets these timeouts.
    ///
    /// A role's value is what it gets at login: its `ALTER ROLE … SET` (for this database
    /// or all), else the database's `ALTER DATABASE … SET` or the server's value — read
    /// from pgsage's own session's `reset_val`. When pgsage's role has its own value for a
    /// setting, the database/server value is unknown and roles without their own value are
    /// not judged for it (no finding). Roles in `ignore_roles` (managed services' admin
    /// roles) are left out.
    ///
    /// ## Why it matters
    /// Without `idle_in_transaction_session_timeout`, a session that opened a transaction
    /// and went away (a crashed worker, a debugging session) holds its locks and the xmin
    /// horizon until someone kills it. Without `statement_timeout`, a runaway report or a
    /// bad plan runs for hours. Without `lock_timeout`, a statement queued behind a lock
    /// waits forever — and a waiting `ALTER TABLE` makes every later query on the table
    /// queue behind it, which is how a migration takes an application down.
    ///
    /// ## How to fix
    /// Set them per role (`ALTER ROLE app SET statement_timeout = '5min'`), per database,
    /// or globally for `idle_in_transaction_session_timeout` (`ALTER SYSTEM`, or the
    /// managed service's parameter). Choose values above the longest legitimate
    /// statement or wait of each role; batch roles can have a longer `statement_timeout`,
    /// and a session can raise it for a known long job with `SET`. New sessions pick the
    /// values up; existing ones keep theirs.
    ///
    /// The suggested values (`10min`, `5min`, `10s`) are in
    /// `pgsage_core::knowledge::connections::SAFETY_TIMEOUTS`.
    ///
    /// ## Thresholds
    /// - `ignore_roles` (default: the admin roles of RDS, Azure, Cloud SQL and AlloyDB):
    ///   roles never listed.
    ///
    /// Collected by a role without `pg_monitor`, other roles' sessions come without their
    /// type; their roles (visible) are checked as connecting roles all the same.
    ///
    /// ## References
    /// - <https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-STATEMENT-TIMEOUT>
    /// - <https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-LOCK-TIMEOUT>
    /// - <https://www.postgresql.org/docs/current/runtime-config-client.html#GUC-IDLE-IN-TRANSACTION-SESSION-TIMEOUT>
    /// - <https://www.postgresql.org/docs/current/sql-alterrole.html>
    pub struct MissingSafetyTimeouts {
        id: "CON006",
        name: "missing-safety-timeouts",
        pack: "connections",
        title: "Safety timeouts disabled for connecting roles",
        params: {
            ignore_roles: Vec<String> = ("roles", "Roles never listed (managed services' admin roles)"),
        },
    }
}

/// Whether a setting value (`0`, `0ms`, `30s`, `5min`) is non-zero.
fn nonzero(value: &str) -> Option<bool> {
    let v = value.trim().trim_matches('\'');
    let end = v
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(v.len());
    v[..end].parse::<f64>().ok().map(|n| n != 0.0)
}

/// A role's own value for `name` (the last `name=value` entry wins, as at login).
fn role_value<'a>(role: &'a Role, name: &str) -> Option<&'a str> {
    role.settings.iter().rev().find_map(|s| {
        let (k, v) = s.split_once('=')?;
        (k.trim() == name).then_some(v.trim())
    })
}

/// Whether the database/server value of `name` (what a role without its own value gets)
/// is non-zero; `None` when unknown.
fn baseline(snap: &Snapshot, name: &str) -> Option<bool> {
    let s = snap.setting(name)?;
    let collector_role = snap.roles.iter().find(|r| r.name == snap.server.user);
    if collector_role.is_some_and(|r| role_value(r, name).is_some()) {
        return None;
    }
    let login_value = match s.source.as_str() {
        // pgsage sets its own timeouts with SET: the login value is reset_val.
        "session" | "client" => s.reset_val.as_deref()?,
        _ => s.setting.as_str(),
    };
    nonzero(login_value)
}

/// A role without a working timeout, and whether it set 0 explicitly.
#[derive(Debug, PartialEq)]
struct Missing<'a> {
    role: &'a str,
    explicit_zero: bool,
}

/// Roles among `roles` whose login value of `name` is 0, and the number not judged.
fn missing<'a>(roles: &[&'a Role], name: &str, base: Option<bool>) -> (Vec<Missing<'a>>, usize) {
    let mut out = Vec::new();
    let mut unknown = 0;
    for r in roles {
        match role_value(r, name) {
            Some(v) => {
                if nonzero(v) == Some(false) {
                    out.push(Missing {
                        role: &r.name,
                        explicit_zero: true,
                    });
                }
            }
            None => match base {
                Some(false) => out.push(Missing {
                    role: &r.name,
                    explicit_zero: false,
                }),
                Some(true) => {}
                None => unknown += 1,
            },
        }
    }
    (out, unknown)
}

impl SnapshotRule for MissingSafetyTimeouts {
    fn meta(&self) -> &'static RuleMeta {
        &Self::META
    }

    fn check(&self, ctx: &RuleContext<'_>) -> Result<Vec<Draft>, Skip> {
        let p: Params = ctx.params()?;
        let ignore = p.ignore_roles.clone();
        let snap = ctx.snapshot;
        super::common::require_activity(snap)?;
        // Other roles' sessions keep their database and role when their type is hidden
        // (collected without pg_monitor): their roles connect too.
        let users: BTreeSet<&str> = clients_and_hidden(snap)
            .into_iter()
            .filter(|b| b.database.as_deref() == Some(snap.server.database.as_str()))
            .filter_map(|b| b.user.as_deref())
            .filter(|u| !ignore.iter().any(|i| i == u))
            .collect();
        let roles: Vec<&Role> = snap
            .roles
            .iter()
            .filter(|r| users.contains(r.name.as_str()))
            .collect();
        let mut drafts = Vec::new();
        for timeout in SAFETY_TIMEOUTS {
            let (name, superusers_count, suggested) =
                (timeout.name, timeout.superusers, timeout.value);
            if snap.setting(name).is_none() {
                continue;
            }
            let relevant: Vec<&Role> = roles
                .iter()
                .copied()
                .filter(|r| superusers_count || !r.is_superuser)
                .collect();
            let superusers_left_out: Vec<&str> = roles
                .iter()
                .filter(|r| !superusers_count && r.is_superuser)
                .map(|r| r.name.as_str())
                .collect();
            let base = baseline(snap, name);
            let (miss, unknown) = missing(&relevant, name, base);
            if miss.is_empty() {
                continue;
            }
            let names: Vec<String> = miss.iter().map(|m| format!("`{}`", m.role)).collect();
            let mut sql: Vec<String> = Vec::new();
            let global = name == "idle_in_transaction_session_timeout" && base == Some(false);
            for m in &miss {
                if m.explicit_zero && base == Some(true) {
                    sql.push(format!("ALTER ROLE {} RESET {name};", quote_ident(m.role)));
                } else if !global || m.explicit_zero {
                    sql.push(format!(
                        "ALTER ROLE {} SET {name} = '{suggested}';",
                        quote_ident(m.role)
                    ));
                }
            }
            let scope = match base {
                Some(false) => "is 0 (disabled) for the server and database",
                Some(true) => "is set for the server or database",
                None => "is unknown for the server and database",
            };
            let mut draft = Draft::new(
                ObjectRef::setting(name),
                format!(
                    "`{name}` {scope}, and {} connecting role(s) get no {name} at login: {}",
                    miss.len(),
                    names.join(", ")
                ),
            )
            .evidence("roles", miss.iter().map(|m| m.role).collect::<Vec<_>>())
            .evidence("connecting_roles_checked", relevant.len())
            .evidence(
                "server_or_database_value_nonzero",
                base.map_or(serde_json::Value::Null, serde_json::Value::Bool),
            )
            .recommend(format!(
                "Set {name} for these roles (ALTER ROLE … SET){}; pick a value above the longest legitimate {} of each role. On managed services without ALTER SYSTEM, use the {name} server parameter or ALTER ROLE",
                if global { " or for the whole server" } else { "" },
                if name == "lock_timeout" { "lock wait" } else { "statement or transaction" }
            ))
            .with_fix({
                let watch = "new sessions pick the value up; watch the logs for `canceling statement due to` / `terminating connection due to idle-in-transaction timeout` errors";
                let note = "-- values are a starting point: adjust to the role's workload";
                if global {
                    let mut fix =
                        ctx.settings_fix(&[(name, suggested.to_owned())], note, watch);
                    for line in &sql {
                        fix.sql.push('\n');
                        fix.sql.push_str(line);
                    }
                    fix
                } else {
                    crate::report::Fix {
                        sql: format!("{note}\n{}", sql.join("\n")),
                        requires: Some("none".into()),
                        watch: Some(watch.into()),
                        settings: Vec::new(),
                        ..Default::default()
                    }
                }
            });
            if unknown > 0 {
                draft = draft.evidence("roles_not_judged", unknown);
            }
            if !superusers_left_out.is_empty() {
                draft = draft.evidence("superusers_left_out", superusers_left_out);
            }
            if name == "idle_in_transaction_session_timeout" {
                draft = draft.severity(Severity::Warning);
            }
            drafts.push(draft);
        }
        Ok(drafts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::testing::{assert_fires, assert_quiet};

    fn role(name: &str, settings: &[&str]) -> Role {
        Role {
            name: name.into(),
            is_superuser: false,
            connection_limit: -1,
            settings: settings.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn parses_values_with_units() {
        assert_eq!(nonzero("0"), Some(false));
        assert_eq!(nonzero("0ms"), Some(false));
        assert_eq!(nonzero("30s"), Some(true));
        assert_eq!(nonzero("'5min'"), Some(true));
        assert_eq!(nonzero("off"), None);
    }

    #[test]
    fn the_last_role_setting_wins() {
        let r = role("app", &["statement_timeout=0", "statement_timeout=30s"]);
        assert_eq!(role_value(&r, "statement_timeout"), Some("30s"));
        assert_eq!(role_value(&r, "lock_timeout"), None);
    }

    #[test]
    fn roles_with_their_own_value_are_not_missing() {
        let a = role("a", &["statement_timeout=30s"]);
        let b = role("b", &[]);
        let c = role("c", &["statement_timeout=0"]);
        let (m, unknown) = missing(&[&a, &b, &c], "statement_timeout", Some(false));
        assert_eq!(m.iter().map(|m| m.role).collect::<Vec<_>>(), ["b", "c"]);
        assert_eq!(unknown, 0);
        let (m, unknown) = missing(&[&a, &b, &c], "statement_timeout", None);
        assert_eq!(m.iter().map(|m| m.role).collect::<Vec<_>>(), ["c"]);
        assert_eq!(unknown, 1);
        let (m, _) = missing(&[&a, &b], "statement_timeout", Some(true));
        assert!(m.is_empty());
    }

    #[test]
    fn fires_for_each_missing_timeout() {
        for name in [
            "idle_in_transaction_session_timeout",
            "statement_timeout",
            "lock_timeout",
        ] {
            let f = assert_fires("CON006", name);
            assert!(f.iter().any(|f| f.evidence["roles"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r == "con_app_bare"))));
        }
    }

    #[test]
    fn quiet_when_roles_or_database_set_them() {
        assert_quiet("CON006");
    }
}
