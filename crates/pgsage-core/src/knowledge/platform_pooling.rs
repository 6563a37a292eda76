//! The connection pooler each platform offers, for the pooling advice (rules CON001,
//! CON002, CON003 and `pgsage tune`): which pooler to name beside PgBouncer, how it is
//! turned on, and whether the snapshot shows it on already.
//!
//! - Azure Database for PostgreSQL flexible server has a built-in PgBouncer, turned on by
//!   the server parameter `pgbouncer.enabled = true` (no restart), listening on port 6432
//!   of the same host, in transaction mode by default (`pgbouncer.pool_mode`); General
//!   Purpose and Memory Optimized tiers only, not Burstable.
//!   <https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-pgbouncer>,
//!   <https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-limits>
//!   ("Burstable servers currently don't have access to the built-in PgBouncer").
//! - Amazon RDS and Aurora have RDS Proxy, a separate endpoint created outside the
//!   database. It multiplexes transactions, but pins a client to one server connection
//!   for the rest of its session once the session changes state (`SET`, temporary
//!   tables, advisory locks, `LISTEN`, prepared statements, …), which defeats pooling.
//!   <https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy.html>,
//!   <https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html>
//! - Cloud SQL has Managed Connection Pooling on Enterprise Plus edition instances only
//!   (port 6432 for direct connections, transaction mode by default).
//!   <https://cloud.google.com/sql/docs/postgres/managed-connection-pooling>
//! - AlloyDB and self-managed servers: PgBouncer (no built-in pooler is named without a
//!   documented one to cite).

use crate::snapshot::{Platform, Snapshot};

/// How a platform's own pooler is turned on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enabling {
    /// A server parameter of the database server, changed like any other setting.
    Setting {
        /// The parameter.
        name: &'static str,
        /// Its value when the pooler is on.
        on: &'static str,
    },
    /// Created or switched on outside the database (console, CLI): no setting to change.
    Outside(&'static str),
}

/// A managed platform's own connection pooler.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltInPooler {
    /// The platform.
    pub platform: Platform,
    /// Its name in advice: "Azure's built-in PgBouncer".
    pub name: &'static str,
    /// How it is turned on.
    pub enabling: Enabling,
    /// Where the applications connect once it is on.
    pub connect: &'static str,
    /// What limits it (tiers, editions, pinning), for the advice.
    pub caveat: &'static str,
    /// Where the provider documents it.
    pub reference: &'static str,
}

/// The platforms' own poolers (see the module documentation for the sources).
pub const BUILT_IN_POOLERS: &[BuiltInPooler] = &[
    BuiltInPooler {
        platform: Platform::AzureFlexibleServer,
        name: "Azure's built-in PgBouncer",
        enabling: Enabling::Setting {
            name: "pgbouncer.enabled",
            on: "true",
        },
        connect: "port 6432 of the same server, in transaction mode by default",
        caveat: "General Purpose and Memory Optimized tiers, not Burstable",
        reference: "https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-pgbouncer",
    },
    BuiltInPooler {
        platform: Platform::AwsRds,
        name: "Amazon RDS Proxy",
        enabling: Enabling::Outside("create a proxy for the instance (aws rds create-db-proxy)"),
        connect: "the proxy's endpoint",
        caveat: "it pins a client to one server connection for the rest of its session once the session changes state (SET, temporary tables, advisory locks, LISTEN, prepared statements), which defeats pooling",
        reference: "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-pinning.html",
    },
    BuiltInPooler {
        platform: Platform::AwsAurora,
        name: "Amazon RDS Proxy",
        enabling: Enabling::Outside("create a proxy for the cluster (aws rds create-db-proxy)"),
        connect: "the proxy's endpoint",
        caveat: "it pins a client to one server connection for the rest of its session once the session changes state (SET, temporary tables, advisory locks, LISTEN, prepared statements), which defeats pooling",
        reference: "https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/rds-proxy-pinning.html",
    },
    BuiltInPooler {
        platform: Platform::GcpCloudSql,
        name: "Cloud SQL Managed Connection Pooling",
        enabling: Enabling::Outside("enable it on the instance (Cloud SQL Enterprise Plus edition)"),
        connect: "port 6432 of the instance",
        caveat: "Enterprise Plus edition instances only; on Enterprise edition, PgBouncer",
        reference: "https://cloud.google.com/sql/docs/postgres/managed-connection-pooling",
    },
];

/// Settings the collector reads for their value besides the platform markers
/// ([`crate::knowledge::platform::PROVIDER_SETTINGS`]): whether a built-in pooler is on.
pub const POOLER_SETTINGS: &[&str] = &["pgbouncer.enabled"];

/// The built-in pooler of a platform, if it has one.
pub fn built_in(platform: Platform) -> Option<&'static BuiltInPooler> {
    BUILT_IN_POOLERS.iter().find(|p| p.platform == platform)
}

/// A provider setting's value: from `pg_settings` when listed there, else as
/// `current_setting` returned it at collection ([`Snapshot::provider_settings`]).
pub fn provider_value<'a>(snapshot: &'a Snapshot, name: &str) -> Option<&'a str> {
    snapshot
        .setting(name)
        .map(|s| s.setting.as_str())
        .or_else(|| snapshot.provider_settings.get(name).map(String::as_str))
}

/// Whether a boolean setting's text is on, as PostgreSQL parses booleans.
fn is_on(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" | "t" | "y" => Some(true),
        "off" | "false" | "no" | "0" | "f" | "n" => Some(false),
        _ => None,
    }
}

/// The pooling advice for a server: PgBouncer, and the platform's own pooler when it has
/// one, with whether the snapshot shows it on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolingAdvice {
    /// The platform's own pooler.
    pub built_in: Option<&'static BuiltInPooler>,
    /// Whether it is on: `Some(true)` when its setting says so, `Some(false)` when it says
    /// off, `None` when the snapshot cannot tell (no setting, or turned on outside the
    /// database).
    pub enabled: Option<bool>,
}

impl PoolingAdvice {
    /// The advice for this platform and snapshot.
    pub fn of(snapshot: &Snapshot, platform: Platform) -> PoolingAdvice {
        let built_in = built_in(platform);
        let enabled = built_in.and_then(|p| match p.enabling {
            Enabling::Setting { name, .. } => provider_value(snapshot, name).and_then(is_on),
            Enabling::Outside(_) => None,
        });
        PoolingAdvice { built_in, enabled }
    }

    /// Whether the platform's own pooler is known to be on.
    pub fn built_in_on(&self) -> bool {
        self.enabled == Some(true)
    }

    /// The platform's own pooler as an alternative to PgBouncer, when it has one that the
    /// snapshot does not show on: "Azure's built-in PgBouncer (server parameter
    /// pgbouncer.enabled = true, no restart; then connect to port 6432 …; General Purpose
    /// and Memory Optimized tiers, not Burstable)".
    pub fn alternative(&self) -> Option<String> {
        let p = self.built_in.filter(|_| !self.built_in_on())?;
        let how = match p.enabling {
            Enabling::Setting { name, on } => format!("server parameter {name} = {on}, no restart"),
            Enabling::Outside(how) => how.to_owned(),
        };
        Some(format!(
            "{}: {how}, then connect to {}; {}",
            p.name, p.connect, p.caveat
        ))
    }

    /// That the platform's own pooler is on already, when the snapshot shows it: "Azure's
    /// built-in PgBouncer is already on (pgbouncer.enabled = true): connect the
    /// applications to port 6432 … instead of the server's own port".
    pub fn already_on(&self) -> Option<String> {
        let p = self.built_in.filter(|_| self.built_in_on())?;
        let setting = match p.enabling {
            Enabling::Setting { name, on } => format!(" ({name} = {on})"),
            Enabling::Outside(_) => String::new(),
        };
        Some(format!(
            "{} is already on{setting}: connect the applications to {} instead of the server's own port",
            p.name, p.connect
        ))
    }

    /// A pooling recommendation: `usual` (PgBouncer's, today's advice on a self-managed
    /// server) with the platform's own pooler offered beside it; or, when that pooler is on
    /// already, that the applications should connect through it, followed by `when_on`
    /// (its sizing), instead of advising to install one.
    pub fn advise(&self, usual: String, when_on: &str) -> String {
        match (self.already_on(), self.alternative()) {
            (Some(on), _) => format!("{on}{when_on}"),
            (None, Some(alt)) => format!("{usual}; or the platform's own pooler, {alt}"),
            (None, None) => usual,
        }
    }

    /// The setting change that turns the platform's pooler on, when it is one and the
    /// snapshot does not show it on already.
    pub fn enabling_change(&self) -> Option<(&'static str, String)> {
        match self.built_in?.enabling {
            Enabling::Setting { name, on } if !self.built_in_on() => Some((name, on.to_owned())),
            _ => None,
        }
    }

    /// Where the pool size goes: PgBouncer's `default_pool_size`, or the platform
    /// pooler's parameter for it when it is a server parameter.
    pub fn pool_size_setting(&self) -> &'static str {
        match self.built_in.map(|p| p.enabling) {
            Some(Enabling::Setting {
                name: "pgbouncer.enabled",
                ..
            }) => "pgbouncer.default_pool_size",
            _ => "default_pool_size",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::testing::demo;

    #[test]
    fn self_managed_keeps_pgbouncer_alone() {
        let advice = PoolingAdvice::of(&demo(), Platform::SelfManaged);
        assert_eq!(advice.advise("usual".into(), ", sized"), "usual");
        assert_eq!(advice.alternative(), None);
        assert_eq!(advice.enabling_change(), None);
        assert_eq!(advice.pool_size_setting(), "default_pool_size");
    }

    #[test]
    fn each_managed_platform_names_its_pooler_beside_pgbouncer() {
        let snap = demo();
        for (platform, name) in [
            (Platform::AzureFlexibleServer, "Azure's built-in PgBouncer"),
            (Platform::AwsRds, "Amazon RDS Proxy"),
            (Platform::AwsAurora, "Amazon RDS Proxy"),
            (
                Platform::GcpCloudSql,
                "Cloud SQL Managed Connection Pooling",
            ),
        ] {
            let text = PoolingAdvice::of(&snap, platform).advise("PgBouncer".into(), "");
            assert!(text.starts_with("PgBouncer; or "), "{platform:?}: {text}");
            assert!(text.contains(name), "{platform:?}: {text}");
        }
        let azure = PoolingAdvice::of(&snap, Platform::AzureFlexibleServer);
        let alt = azure.alternative().unwrap_or_default();
        assert!(alt.contains("pgbouncer.enabled = true"), "{alt}");
        assert!(alt.contains("6432"), "{alt}");
        assert!(alt.contains("not Burstable"), "{alt}");
        assert_eq!(
            azure.enabling_change(),
            Some(("pgbouncer.enabled", "true".to_owned()))
        );
        let rds = PoolingAdvice::of(&snap, Platform::AwsRds);
        assert!(rds.alternative().unwrap_or_default().contains("pins"));
        // RDS Proxy is created outside the database: no setting to change.
        assert_eq!(rds.enabling_change(), None);
        let cloud_sql = PoolingAdvice::of(&snap, Platform::GcpCloudSql);
        assert!(cloud_sql
            .alternative()
            .unwrap_or_default()
            .contains("Enterprise Plus"));
        // AlloyDB: no documented built-in pooler here, PgBouncer only.
        assert_eq!(built_in(Platform::GcpAlloydb), None);
    }

    #[test]
    fn azure_pooler_already_on_is_said_instead_of_advised() {
        let mut snap = demo();
        snap.provider_settings
            .insert("pgbouncer.enabled".into(), "on".into());
        let advice = PoolingAdvice::of(&snap, Platform::AzureFlexibleServer);
        assert!(advice.built_in_on());
        assert_eq!(advice.enabling_change(), None);
        assert_eq!(advice.alternative(), None);
        let text = advice.advise("Put PgBouncer in front".into(), ", sized");
        assert!(text.contains("already on"), "{text}");
        assert!(text.ends_with(", sized"), "{text}");
        assert!(!text.contains("Put PgBouncer"), "{text}");
        assert_eq!(advice.pool_size_setting(), "pgbouncer.default_pool_size");
        snap.provider_settings
            .insert("pgbouncer.enabled".into(), "false".into());
        let off = PoolingAdvice::of(&snap, Platform::AzureFlexibleServer);
        assert_eq!(off.enabled, Some(false));
        assert!(off.enabling_change().is_some());
    }
}
