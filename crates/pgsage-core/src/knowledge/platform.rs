//! Which platform a server runs on: a managed service (Azure flexible server, RDS, Aurora,
//! Cloud SQL, AlloyDB) or a self-managed server, from what the snapshot holds.
//!
//! Each provider leaves marks SQL can see: its own settings (custom parameters with the
//! provider's prefix, such as `azure.extensions`, `rds.force_ssl`,
//! `cloudsql.iam_authentication`) and its administration roles (`azure_pg_admin`,
//! `rds_superuser`, `cloudsqlsuperuser`). A flag (`--platform`) or `[host] platform` in
//! pgsage.toml names what detection cannot see, and wins.

use crate::snapshot::{Fact, HostFacts, Platform, Snapshot};

/// Setting-name prefixes per platform, checked in this order (Aurora also has `rds.`).
const SETTING_PREFIXES: &[(Platform, &[&str])] = &[
    (Platform::AzureFlexibleServer, &["azure."]),
    (Platform::AwsAurora, &["aurora_", "apg_", "aurora."]),
    (Platform::AwsRds, &["rds."]),
    (
        Platform::GcpAlloydb,
        &["alloydb.", "google_columnar_engine."],
    ),
    (Platform::GcpCloudSql, &["cloudsql."]),
];

/// Settings each provider defines, looked up by name at collection
/// ([`Snapshot::provider_settings`]): each has one of [`SETTING_PREFIXES`].
pub const PROVIDER_SETTINGS: &[&str] = &[
    "azure.extensions",
    "azure.accepted_password_auth_method",
    "apg_plan_mgmt.capture_plan_baselines",
    "aurora.stat_utils",
    "rds.extensions",
    "rds.force_ssl",
    "rds.rds_superuser_reserved_connections",
    "alloydb.enable_pgaudit",
    "google_columnar_engine.enabled",
    "cloudsql.iam_authentication",
    "cloudsql.enable_pgaudit",
];

/// The administration roles each provider creates (none of them can log in, so the
/// collector reads them apart from the login roles).
pub const PROVIDER_ROLES: &[(Platform, &str)] = &[
    (Platform::AzureFlexibleServer, "azure_pg_admin"),
    (Platform::AzureFlexibleServer, "azuresu"),
    (Platform::AwsRds, "rds_superuser"),
    (Platform::AwsRds, "rdsadmin"),
    (Platform::GcpCloudSql, "cloudsqlsuperuser"),
    (Platform::GcpCloudSql, "cloudsqladmin"),
    (Platform::GcpAlloydb, "alloydbsuperuser"),
];

/// The platform the snapshot's settings and provider roles show, with the evidence in the
/// fact's source (`detected: setting azure.extensions, role azure_pg_admin`), or
/// self-managed (`detected: no provider setting or role`).
pub fn detect(snapshot: &Snapshot) -> Fact<Platform> {
    let settings_of = |prefixes: &[&str]| -> Vec<String> {
        let mut names: Vec<&str> = snapshot
            .settings
            .iter()
            .map(|s| s.name.as_str())
            .chain(snapshot.provider_settings.keys().map(String::as_str))
            .filter(|name| prefixes.iter().any(|p| name.starts_with(p)))
            .collect();
        names.sort_unstable();
        names.dedup();
        names
            .into_iter()
            .take(2)
            .map(|name| format!("setting {name}"))
            .collect()
    };
    let roles_of = |platform: Platform| -> Vec<String> {
        PROVIDER_ROLES
            .iter()
            .filter(|(p, name)| *p == platform && snapshot.provider_roles.iter().any(|r| r == name))
            .map(|(_, name)| format!("role {name}"))
            .collect()
    };
    for (platform, prefixes) in SETTING_PREFIXES {
        let mut evidence = settings_of(prefixes);
        // Aurora is RDS with more: its own settings decide, RDS's roles confirm.
        let role_platform = if *platform == Platform::AwsAurora {
            Platform::AwsRds
        } else {
            *platform
        };
        if evidence.is_empty() {
            continue;
        }
        evidence.extend(roles_of(role_platform));
        return Fact::new(*platform, &format!("detected: {}", evidence.join(", ")));
    }
    // No provider setting: the roles alone (a provider that hides its settings).
    for (platform, _) in SETTING_PREFIXES {
        let evidence = roles_of(*platform);
        if !evidence.is_empty() {
            return Fact::new(*platform, &format!("detected: {}", evidence.join(", ")));
        }
    }
    Fact::new(
        Platform::SelfManaged,
        "detected: no provider setting or role",
    )
}

/// The platform the advice is for: given (`--platform`, pgsage.toml) or recorded in the
/// snapshot at collection, else detected now (snapshots older than the field).
pub fn of(snapshot: &Snapshot, host: &HostFacts) -> Fact<Platform> {
    host.platform
        .clone()
        .or_else(|| snapshot.host.platform.clone())
        .unwrap_or_else(|| detect(snapshot))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> Snapshot {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata")
            .join(path);
        Snapshot::load(&p).expect("snapshot")
    }

    fn with(mut snap: Snapshot, setting: Option<&str>, role: Option<&str>) -> Snapshot {
        if let Some(name) = setting {
            let mut s = snap.settings[0].clone();
            s.name = name.to_owned();
            snap.settings.push(s);
        }
        if let Some(r) = role {
            snap.provider_roles.push(r.to_owned());
        }
        snap
    }

    #[test]
    fn servers_without_provider_marks_are_self_managed() {
        let demo = fixture("snapshots/demo.json");
        let f = detect(&demo);
        assert_eq!(f.value, Platform::SelfManaged);
        assert!(f.source.starts_with("detected"));
    }

    #[test]
    fn provider_settings_and_roles_name_the_platform_with_the_evidence() {
        let base = fixture("snapshots/demo.json");
        let cases = [
            (
                Some("azure.extensions"),
                Some("azure_pg_admin"),
                Platform::AzureFlexibleServer,
            ),
            (
                Some("rds.force_ssl"),
                Some("rds_superuser"),
                Platform::AwsRds,
            ),
            (
                Some("apg_plan_mgmt.capture_plan_baselines"),
                Some("rds_superuser"),
                Platform::AwsAurora,
            ),
            (
                Some("cloudsql.iam_authentication"),
                None,
                Platform::GcpCloudSql,
            ),
            (None, Some("cloudsqlsuperuser"), Platform::GcpCloudSql),
            (Some("alloydb.enable_pgaudit"), None, Platform::GcpAlloydb),
        ];
        for (setting, role, expected) in cases {
            let f = detect(&with(base.clone(), setting, role));
            assert_eq!(f.value, expected, "{setting:?} {role:?}: {}", f.source);
            for mark in setting.into_iter().chain(role) {
                assert!(f.source.contains(mark), "{} lacks {mark}", f.source);
            }
        }
    }

    #[test]
    fn marker_settings_have_a_platform_prefix() {
        for name in PROVIDER_SETTINGS {
            assert!(
                SETTING_PREFIXES
                    .iter()
                    .any(|(_, prefixes)| prefixes.iter().any(|p| name.starts_with(p))),
                "{name}"
            );
        }
    }

    #[test]
    fn a_given_platform_wins_over_detection() {
        let snap = with(fixture("snapshots/demo.json"), Some("rds.force_ssl"), None);
        let given = HostFacts {
            platform: Some(Fact::new(Platform::AzureFlexibleServer, "flag")),
            ..HostFacts::default()
        };
        assert_eq!(of(&snap, &given).value, Platform::AzureFlexibleServer);
        assert_eq!(of(&snap, &HostFacts::default()).value, Platform::AwsRds);
    }
}
