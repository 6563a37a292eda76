//! What a user of each platform can grant the role pgsage collects as, so that the advice
//! to "collect as a role with pg_monitor" names a grant the platform accepts and who can
//! give it. pgsage needs what `pg_monitor` brings it: `pg_read_all_stats` (other roles'
//! sessions, statement texts, replication details) and `pg_read_all_settings`
//! (superuser-only settings); never a superuser.
//!
//! - Self-managed: a superuser grants `pg_monitor`.
//! - Azure flexible server: customers get no superuser (`azuresu` is Microsoft's); the
//!   server admin is a member of `azure_pg_admin`
//!   (<https://learn.microsoft.com/azure/postgresql/security/security-access-control>).
//!   Datadog's Azure guide has it grant `pg_monitor` up to PostgreSQL 15, and
//!   `pg_read_all_settings` and `pg_read_all_stats` instead on 16+, where a CREATEROLE user
//!   may only grant the roles it holds with ADMIN OPTION
//!   (<https://docs.datadoghq.com/database_monitoring/setup_postgres/azure/>).
//! - RDS and Aurora: the master user, a member of `rds_superuser`, grants `pg_monitor`
//!   (<https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.Roles.rds_superuser.html>,
//!   <https://docs.datadoghq.com/database_monitoring/setup_postgres/rds/>).
//! - Cloud SQL: the `postgres` user, a member of `cloudsqlsuperuser` (no superuser
//!   attribute), grants `pg_monitor`
//!   (<https://cloud.google.com/sql/docs/postgres/users>,
//!   <https://docs.datadoghq.com/database_monitoring/setup_postgres/gcsql/>).
//! - AlloyDB: no source checked here; the advice names `pg_monitor` without saying who
//!   grants it.

use crate::snapshot::Platform;

/// The grant that gives the collecting role what it needs on a platform, and who can give
/// it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MonitoringGrant {
    /// The predefined roles to grant.
    pub roles: &'static [&'static str],
    /// Who can grant them, for the advice (empty when no source says).
    pub grantor: &'static str,
}

const PG_MONITOR: &[&str] = &["pg_monitor"];
const STATS_AND_SETTINGS: &[&str] = &["pg_read_all_stats", "pg_read_all_settings"];

/// The grant for a platform and server major version (see the module documentation).
pub fn monitoring_grant(platform: Platform, major: i32) -> MonitoringGrant {
    match platform {
        Platform::SelfManaged => MonitoringGrant {
            roles: PG_MONITOR,
            grantor: "a superuser",
        },
        Platform::AzureFlexibleServer => MonitoringGrant {
            roles: if major >= 16 {
                STATS_AND_SETTINGS
            } else {
                PG_MONITOR
            },
            grantor: "the server admin, a member of azure_pg_admin",
        },
        Platform::AwsRds | Platform::AwsAurora => MonitoringGrant {
            roles: PG_MONITOR,
            grantor: "the master user, a member of rds_superuser",
        },
        Platform::GcpCloudSql => MonitoringGrant {
            roles: PG_MONITOR,
            grantor: "the postgres user, a member of cloudsqlsuperuser",
        },
        Platform::GcpAlloydb => MonitoringGrant {
            roles: PG_MONITOR,
            grantor: "",
        },
    }
}

impl MonitoringGrant {
    /// The statement: `GRANT pg_monitor TO "pgsage";`.
    pub fn sql(&self, role: &str) -> String {
        format!(
            "GRANT {} TO {};",
            self.roles.join(", "),
            crate::sql::quote_ident(role)
        )
    }

    /// The advice: `GRANT pg_monitor TO "pgsage"; (as the master user, a member of
    /// rds_superuser)`.
    pub fn advice(&self, role: &str) -> String {
        if self.grantor.is_empty() {
            self.sql(role)
        } else {
            format!("{} (as {})", self.sql(role), self.grantor)
        }
    }

    /// The roles as a phrase: `pg_monitor`, `pg_read_all_stats and pg_read_all_settings`.
    pub fn roles_text(&self) -> String {
        self.roles.join(" and ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_platform_grants_what_it_allows() {
        assert_eq!(
            monitoring_grant(Platform::SelfManaged, 17).advice("pgsage"),
            "GRANT pg_monitor TO pgsage; (as a superuser)"
        );
        assert_eq!(
            monitoring_grant(Platform::AzureFlexibleServer, 15).sql("pgsage"),
            "GRANT pg_monitor TO pgsage;"
        );
        let azure16 = monitoring_grant(Platform::AzureFlexibleServer, 16);
        assert_eq!(
            azure16.sql("pgsage"),
            "GRANT pg_read_all_stats, pg_read_all_settings TO pgsage;"
        );
        assert!(azure16.advice("pgsage").contains("azure_pg_admin"));
        assert!(monitoring_grant(Platform::AwsAurora, 16)
            .advice("pgsage")
            .contains("rds_superuser"));
        assert!(monitoring_grant(Platform::GcpCloudSql, 16)
            .advice("pgsage")
            .contains("cloudsqlsuperuser"));
        assert_eq!(
            monitoring_grant(Platform::GcpAlloydb, 16).advice("pgsage"),
            "GRANT pg_monitor TO pgsage;"
        );
        // No platform asks for a superuser that its customers cannot have.
        for p in [
            Platform::AzureFlexibleServer,
            Platform::AwsRds,
            Platform::AwsAurora,
            Platform::GcpCloudSql,
            Platform::GcpAlloydb,
        ] {
            assert_ne!(monitoring_grant(p, 17).grantor, "a superuser", "{p:?}");
        }
    }
}
