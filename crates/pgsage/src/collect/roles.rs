//! Roles that can log in, with their `ALTER ROLE … SET` settings.

use tokio_postgres::{Error as PgError, Row};

use crate::snapshot::Role;

/// Settings for all databases come first, then those for the connected database, so
/// that a later entry overrides an earlier one, as at login.
pub(super) const SQL: &str = "\
SELECT r.rolname::text AS name, r.rolsuper AS is_superuser, r.rolconnlimit AS connection_limit,
       ARRAY(SELECT c.setting
             FROM pg_catalog.pg_db_role_setting s
             CROSS JOIN LATERAL unnest(s.setconfig) WITH ORDINALITY AS c(setting, ord)
             WHERE s.setrole = r.oid
               AND s.setdatabase IN (0, (SELECT d.oid FROM pg_catalog.pg_database d
                                         WHERE d.datname = current_database()))
             ORDER BY s.setdatabase <> 0, c.ord) AS settings
FROM pg_catalog.pg_roles r
WHERE r.rolcanlogin
ORDER BY r.rolname";

pub(super) fn decode(rows: &[Row]) -> Result<Vec<Role>, PgError> {
    rows.iter()
        .map(|r| {
            Ok(Role {
                name: r.try_get("name")?,
                is_superuser: r.try_get("is_superuser")?,
                connection_limit: r.try_get("connection_limit")?,
                settings: r.try_get("settings")?,
            })
        })
        .collect()
}

/// The managed services' administration roles present on the server (none can log in):
/// evidence of the platform, from the fixed list in `knowledge::platform`.
pub(super) fn provider_roles_sql() -> String {
    let names: Vec<String> = crate::knowledge::platform::PROVIDER_ROLES
        .iter()
        .map(|(_, name)| crate::sql::quote_literal(name))
        .collect();
    format!(
        "SELECT r.rolname::text AS name FROM pg_catalog.pg_roles r WHERE r.rolname IN ({}) ORDER BY 1",
        names.join(", ")
    )
}

pub(super) fn decode_names(rows: &[Row]) -> Result<Vec<String>, PgError> {
    rows.iter().map(|r| r.try_get("name")).collect()
}

/// The managed services' marker settings (and pooler settings) the server knows, with
/// their values:
/// `pg_settings` does not list custom settings a provider defines as placeholders,
/// `current_setting(…, true)` finds them.
pub(super) fn provider_settings_sql() -> String {
    // The markers, and the settings of the platforms' own features read for their value.
    let names: Vec<String> = crate::knowledge::platform::PROVIDER_SETTINGS
        .iter()
        .chain(crate::knowledge::platform_pooling::POOLER_SETTINGS)
        .map(|name| format!("({})", crate::sql::quote_literal(name)))
        .collect();
    format!(
        "SELECT s.name, v.value FROM (VALUES {}) AS s(name) \
         CROSS JOIN LATERAL (SELECT pg_catalog.current_setting(s.name, true) AS value) v \
         WHERE v.value IS NOT NULL ORDER BY 1",
        names.join(", ")
    )
}

pub(super) fn decode_provider_settings(
    rows: &[Row],
) -> Result<std::collections::BTreeMap<String, String>, PgError> {
    rows.iter()
        .map(|r| Ok((r.try_get("name")?, r.try_get("value")?)))
        .collect()
}
