//! The `search_path` a statement's unqualified table names were resolved with: the
//! statement's role's own setting (`ALTER ROLE … SET search_path`), else the database's
//! and server's (the collected `search_path`), with `$user` standing for the role — so
//! that a schema per tenant (`tenant_a.sale_order` for role `tenant_a`) resolves as the
//! server resolved it, not to `public.sale_order`.

use crate::snapshot::Snapshot;
use crate::workload::QueryStats;

/// The schemas, in order, that resolve unqualified names for `q`'s statements; `None`
/// when its roles would resolve them differently (or the snapshot does not say).
pub(crate) fn for_query(snapshot: &Snapshot, q: &QueryStats) -> Option<Vec<String>> {
    let default = snapshot.setting("search_path").map(|s| s.setting.as_str());
    let users: Vec<&str> = q
        .users
        .iter()
        .map(|u| u.name.as_str())
        .filter(|u| *u != "?")
        .collect();
    if users.is_empty() {
        // No role known: the default path without `$user`.
        return default.map(|d| schemas(d, None));
    }
    let mut paths = users.iter().map(|user| {
        let own = snapshot
            .roles
            .iter()
            .find(|r| r.name == *user)
            .and_then(|r| {
                r.settings
                    .iter()
                    .find_map(|s| s.strip_prefix("search_path="))
            });
        own.or(default).map(|p| schemas(p, Some(user)))
    });
    let first = paths.next().flatten()?;
    paths.all(|p| p.as_ref() == Some(&first)).then_some(first)
}

/// A `search_path` value as schema names: `"$user"` is `user` (dropped when unknown),
/// quotes removed.
fn schemas(path: &str, user: Option<&str>) -> Vec<String> {
    path.split(',')
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .filter_map(|s| {
            let unquoted = s
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .map_or_else(|| s.to_lowercase(), |v| v.replace("\"\"", "\""));
            if unquoted == "$user" {
                user.map(str::to_owned)
            } else {
                Some(unquoted)
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::schemas;

    #[test]
    fn search_paths_read_as_postgres_reads_them() {
        assert_eq!(
            schemas("\"$user\", public", Some("tenant_a")),
            ["tenant_a", "public"]
        );
        assert_eq!(schemas("\"$user\", public", None), ["public"]);
        assert_eq!(
            schemas("Sales, \"Mixed Case\", public", None),
            ["sales", "Mixed Case", "public"]
        );
    }
}
