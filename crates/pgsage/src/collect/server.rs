//! Server and session facts, read first: everything else depends on the version.

use chrono::{DateTime, Utc};
use tokio_postgres::{Error as PgError, Row};

use crate::connect::Target;
use crate::snapshot::ServerInfo;

/// What the first query learns.
pub(super) struct Facts {
    pub(super) info: ServerInfo,
    /// Member of `pg_read_all_settings` (or superuser).
    pub(super) read_all_settings: bool,
    /// The transaction's snapshot, exported (`pg_export_snapshot()`) when the database has
    /// 5,000 relations or more (catalogs, TOAST tables and indexes included), so that a
    /// second connection can share the work on the same data; never on a standby.
    pub(super) exported_snapshot: Option<String>,
}

pub(super) const SQL: &str = "\
SELECT current_setting('server_version') AS version,
       current_setting('server_version_num')::int4 AS version_num,
       pg_postmaster_start_time() AS started_at,
       current_database()::text AS database,
       current_user::text AS role_name,
       coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user), false) AS is_superuser,
       pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS read_all_stats,
       pg_has_role(current_user, 'pg_read_all_settings', 'USAGE') AS read_all_settings,
       pg_is_in_recovery() AS in_recovery,
       nullif(current_setting('cluster_name'), '') AS cluster_name,
       CASE WHEN NOT pg_is_in_recovery()
             AND (SELECT count(*) FROM pg_catalog.pg_class) >= 5000
            THEN pg_export_snapshot() END AS exported_snapshot";

pub(super) fn decode(row: &Row, target: &Target) -> Result<Facts, PgError> {
    let is_superuser: bool = row.try_get("is_superuser")?;
    let version: String = row.try_get("version")?;
    let started_at: DateTime<Utc> = row.try_get("started_at")?;
    Ok(Facts {
        info: ServerInfo {
            version: clean_version(&version),
            version_num: row.try_get("version_num")?,
            started_at,
            host: Some(target.host.clone()),
            port: Some(target.port),
            database: row.try_get("database")?,
            user: row.try_get("role_name")?,
            is_superuser,
            can_read_all_stats: is_superuser || row.try_get::<_, bool>("read_all_stats")?,
            in_recovery: row.try_get("in_recovery")?,
            cluster_name: row.try_get("cluster_name")?,
        },
        read_all_settings: is_superuser || row.try_get::<_, bool>("read_all_settings")?,
        exported_snapshot: row.try_get("exported_snapshot")?,
    })
}

/// `15.18 (Debian 15.18-0+deb12u1)` → `15.18`; `18beta1` stays.
pub(super) fn clean_version(v: &str) -> String {
    v.split_whitespace().next().unwrap_or(v).to_owned()
}

#[cfg(test)]
mod tests {
    use super::clean_version;

    #[test]
    fn strips_distribution_suffixes() {
        assert_eq!(clean_version("15.18 (Debian 15.18-0+deb12u1)"), "15.18");
        assert_eq!(clean_version("16.4 (Ubuntu 16.4-1.pgdg22.04+1)"), "16.4");
        assert_eq!(clean_version("17.2"), "17.2");
        assert_eq!(clean_version("18beta1"), "18beta1");
    }
}
