//! Managed platforms impersonated on a throwaway server, as their providers leave marks
//! SQL can see: their custom settings (legal placeholders for any prefix in
//! `postgresql.conf`) and their administration roles. Platforms are named as pgsage's
//! `--platform` names them (`azure-flexible-server`, …), so the test kit does not depend
//! on the library it tests.

use crate::{ServerOptions, TestServer, TestkitError};

/// One platform's marks.
#[derive(Debug, Clone, Copy)]
pub struct Impersonation {
    /// The platform, as `--platform` names it.
    pub platform: &'static str,
    /// Lines for `postgresql.conf`.
    pub settings: &'static [&'static str],
    /// Administration roles the provider creates (none can log in).
    pub roles: &'static [&'static str],
}

/// Azure Database for PostgreSQL flexible server, with `pg_stat_statements` and `hypopg`
/// allow-listed.
pub const AZURE: Impersonation = Impersonation {
    platform: "azure-flexible-server",
    settings: &["azure.extensions = 'pg_stat_statements,hypopg'"],
    roles: &["azure_pg_admin"],
};

/// Amazon RDS for PostgreSQL.
pub const RDS: Impersonation = Impersonation {
    platform: "aws-rds",
    settings: &["rds.force_ssl = 1", "rds.extensions = 'pg_stat_statements'"],
    roles: &["rds_superuser"],
};

/// Amazon Aurora PostgreSQL: RDS's marks and its own.
pub const AURORA: Impersonation = Impersonation {
    platform: "aws-aurora",
    settings: &[
        "rds.force_ssl = 1",
        "apg_plan_mgmt.capture_plan_baselines = off",
    ],
    roles: &["rds_superuser"],
};

/// Google Cloud SQL for PostgreSQL.
pub const CLOUD_SQL: Impersonation = Impersonation {
    platform: "gcp-cloud-sql",
    settings: &["cloudsql.iam_authentication = off"],
    roles: &["cloudsqlsuperuser"],
};

/// A plain server: the healthy twin.
pub const SELF_MANAGED: Impersonation = Impersonation {
    platform: "self-managed",
    settings: &[],
    roles: &[],
};

/// Every impersonation, the self-managed twin last.
pub const ALL: &[Impersonation] = &[AZURE, RDS, AURORA, CLOUD_SQL, SELF_MANAGED];

impl Impersonation {
    /// `options` with the platform's settings added.
    pub fn options(&self, options: ServerOptions) -> ServerOptions {
        self.settings.iter().fold(options, |o, line| o.conf(line))
    }

    /// Creates the platform's administration roles on `server`.
    pub fn create_roles(&self, server: &TestServer) -> Result<(), TestkitError> {
        for role in self.roles {
            server.execute(
                "postgres",
                &format!("CREATE ROLE {} NOLOGIN", crate::quote_ident(role)),
            )?;
        }
        Ok(())
    }
}
