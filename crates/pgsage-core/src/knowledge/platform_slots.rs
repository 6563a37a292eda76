//! What of a managed server's connections is the provider's, not the user's: the slots it
//! keeps beyond PostgreSQL's own reserves, and the sessions its operators open.
//!
//! Connection slots ordinary roles can use are `max_connections` minus
//! `superuser_reserved_connections` and `reserved_connections` (PostgreSQL's reserves,
//! [`crate::knowledge::connections::reserved_slots`]), minus what the provider keeps on top:
//!
//! - Azure flexible server reserves 15 connections "for physical replication and
//!   monitoring", and documents them as exactly `reserved_connections +
//!   superuser_reserved_connections` (user connections = `max_connections` − that sum):
//!   nothing on top of the settings.
//!   <https://learn.microsoft.com/azure/postgresql/flexible-server/concepts-limits>
//! - RDS for PostgreSQL keeps `rds.rds_superuser_reserved_connections` slots (default 2)
//!   for `rds_superuser` members on top: usable = `max_connections` −
//!   `superuser_reserved_connections` − `rds.rds_superuser_reserved_connections`.
//!   <https://aws.amazon.com/premiumsupport/knowledge-center/rds-postgresql-error-connection-slots/>
//!   Aurora is counted the same when the setting is visible (its default is not
//!   documented there, so none is assumed).
//! - Cloud SQL documents no reservation beyond `superuser_reserved_connections`, which
//!   only its `cloudsqladmin` superuser can use (customers get no superuser).
//!   <https://cloud.google.com/sql/docs/postgres/users>
//!
//! The providers' operators connect as their own superusers: `azuresu` ("only Microsoft is
//! part of the superuser role",
//! <https://learn.microsoft.com/azure/postgresql/security/security-access-control>),
//! `rdsadmin` (<https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.Roles.html>),
//! `cloudsqladmin` (<https://cloud.google.com/sql/docs/postgres/users>). Their sessions in
//! `pg_stat_activity` are not the user's clients: the connection findings leave them out.

use crate::snapshot::{Backend, Platform, Snapshot};

use super::platform_pooling::provider_value;

/// The roles a provider's own operators and agents connect as (superusers the customer
/// cannot use), per platform.
pub const OPERATOR_ROLES: &[(Platform, &str)] = &[
    (Platform::AzureFlexibleServer, "azuresu"),
    (Platform::AwsRds, "rdsadmin"),
    (Platform::AwsAurora, "rdsadmin"),
    (Platform::GcpCloudSql, "cloudsqladmin"),
];

/// The RDS setting that keeps slots for `rds_superuser` members.
pub const RDS_SUPERUSER_RESERVED: &str = "rds.rds_superuser_reserved_connections";

/// Its documented default on RDS for PostgreSQL.
pub const RDS_SUPERUSER_RESERVED_DEFAULT: i64 = 2;

/// Whether a session is a provider operator's: its role is one of [`OPERATOR_ROLES`] and
/// the server has that role (so a self-managed server's look-alike role counts only where
/// detection would name the provider too). In a redacted snapshot, roles are compared by
/// their pseudonyms.
pub fn is_operator_session(snapshot: &Snapshot, b: &Backend) -> bool {
    let Some(user) = b.user.as_deref() else {
        return false;
    };
    OPERATOR_ROLES.iter().any(|(_, role)| {
        snapshot.provider_roles.iter().any(|r| r == role)
            && (user == *role
                || (snapshot.redacted && user == crate::redact::pseudonym("user", role)))
    })
}

/// Slots the provider keeps beyond `superuser_reserved_connections` and
/// `reserved_connections`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderReserve {
    /// The slots.
    pub slots: i64,
    /// Where the number comes from: `rds.rds_superuser_reserved_connections = 2`, or its
    /// documented default.
    pub source: String,
}

/// What the provider keeps on top of PostgreSQL's reserves (see the module
/// documentation); `None` when nothing.
pub fn provider_reserve(snapshot: &Snapshot, platform: Platform) -> Option<ProviderReserve> {
    if !matches!(platform, Platform::AwsRds | Platform::AwsAurora) {
        return None;
    }
    let visible =
        provider_value(snapshot, RDS_SUPERUSER_RESERVED).and_then(|v| v.trim().parse::<i64>().ok());
    match (visible, platform) {
        (Some(n), _) => Some(ProviderReserve {
            slots: n.max(0),
            source: format!("{RDS_SUPERUSER_RESERVED} = {n}"),
        }),
        (None, Platform::AwsRds) => Some(ProviderReserve {
            slots: RDS_SUPERUSER_RESERVED_DEFAULT,
            source: format!(
                "{RDS_SUPERUSER_RESERVED}, not visible: RDS's default {RDS_SUPERUSER_RESERVED_DEFAULT}"
            ),
        }),
        _ => None,
    }
    .filter(|r| r.slots > 0)
}

/// The slots of [`provider_reserve`], 0 when none.
pub fn provider_slots(snapshot: &Snapshot, platform: Platform) -> i64 {
    provider_reserve(snapshot, platform).map_or(0, |r| r.slots)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::testing::demo;

    #[test]
    fn rds_keeps_its_superuser_slots_on_top() {
        let mut snap = demo();
        // Not visible: the documented default.
        assert_eq!(provider_slots(&snap, Platform::AwsRds), 2);
        assert_eq!(provider_slots(&snap, Platform::AwsAurora), 0);
        snap.provider_settings
            .insert(RDS_SUPERUSER_RESERVED.into(), "5".into());
        let r = provider_reserve(&snap, Platform::AwsAurora).expect("visible");
        assert_eq!(r.slots, 5);
        assert!(r.source.contains("= 5"), "{}", r.source);
        // Azure's and Cloud SQL's reserves are their settings; self-managed has none.
        for p in [
            Platform::AzureFlexibleServer,
            Platform::GcpCloudSql,
            Platform::SelfManaged,
        ] {
            assert_eq!(provider_slots(&snap, p), 0, "{p:?}");
        }
    }

    #[test]
    fn tune_counts_the_providers_slots_where_the_platform_is_given() {
        use crate::snapshot::{Fact, HostFacts};
        use crate::tune::{recommend, TuneOptions};
        let snap = demo();
        let tuned = |platform: Platform| {
            let mut options = TuneOptions::new(crate::knowledge::Profile::Mixed);
            options.host = HostFacts {
                cpus: Some(Fact::new(4.0, "test")),
                platform: Some(Fact::new(platform, "flag")),
                ..HostFacts::default()
            };
            recommend(&snap, &options)
        };
        let note = |r: &crate::tune::TuneReport| {
            r.notes
                .iter()
                .find(|n| n.starts_with("connection pool:"))
                .cloned()
                .unwrap_or_default()
        };
        let own = tuned(Platform::SelfManaged);
        let rds = tuned(Platform::AwsRds);
        assert!(
            !note(&own).contains("platform's own pooler"),
            "{}",
            note(&own)
        );
        assert!(note(&rds).contains("Amazon RDS Proxy"), "{}", note(&rds));
        // The same sessions and CPUs: the pool is the same, only the pooler named differs.
        assert_eq!(own.pool_size, rds.pool_size);
    }

    #[test]
    fn operator_sessions_are_the_providers_where_the_role_exists() {
        let mut snap = demo();
        let mut b = snap.activity[0].clone();
        b.user = Some("azuresu".into());
        assert!(
            !is_operator_session(&snap, &b),
            "no azuresu role on the server"
        );
        snap.provider_roles.push("azuresu".into());
        assert!(is_operator_session(&snap, &b));
        b.user = Some("app".into());
        assert!(!is_operator_session(&snap, &b));
    }
}
