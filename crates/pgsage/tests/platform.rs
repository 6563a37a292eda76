//! Platform detection on real servers: each managed service is impersonated by declaring
//! its custom settings in `postgresql.conf` (legal placeholders for any prefix) and
//! creating its administration roles, as the providers do; a plain server is self-managed.
//! The snapshot records the platform with its evidence, and the audit reports it.

use pgsage::snapshot::Platform;
use pgsage::{audit, CollectOptions, ConnectOptions, RuleConfig};
use pgsage_testkit::platforms::ALL;
use pgsage_testkit::{require_server_with, test_majors, ServerOptions};

#[test]
fn the_platform_is_detected_from_its_settings_and_roles_and_reported() {
    // The oldest and the newest major: custom placeholders and pg_roles on both ends.
    let majors = test_majors();
    let ends: Vec<u32> = [majors.first(), majors.last()]
        .into_iter()
        .flatten()
        .copied()
        .collect();
    for major in ends {
        for p in ALL {
            let platform: Platform = p.platform.parse().expect("a platform pgsage knows");
            let Some(server) = require_server_with(p.options(ServerOptions::new(major))) else {
                continue;
            };
            server.create_database("app").expect("database");
            p.create_roles(&server).expect("provider roles");
            let snap = pgsage::collect_snapshot_with(
                &ConnectOptions::new(server.dsn("app")),
                &CollectOptions {
                    probe_local_host: false,
                    ..CollectOptions::default()
                },
            )
            .expect("collect");
            let fact = snap.host.platform.clone().expect("platform recorded");
            assert_eq!(fact.value, platform, "PostgreSQL {major}: {}", fact.source);
            for role in p.roles {
                assert!(fact.source.contains(role), "{}", fact.source);
                assert!(snap.provider_roles.iter().any(|r| r == role));
            }
            for line in p.settings {
                let name = line.split(' ').next().unwrap_or("");
                assert!(snap.provider_settings.contains_key(name), "{name}");
            }
            // Values too: Azure's extension allow-list decides what CREATE EXTENSION needs.
            if platform == Platform::AzureFlexibleServer {
                assert_eq!(
                    snap.provider_settings
                        .get("azure.extensions")
                        .map(String::as_str),
                    Some("pg_stat_statements,hypopg")
                );
            }
            // Saved and loaded, the snapshot keeps it; the audit reports it in the target.
            let loaded = pgsage::Snapshot::from_json(&snap.to_json()).expect("loads");
            let report = audit(&loaded, &RuleConfig::shipped().expect("packs"));
            let reported = report.target.platform.expect("target.platform");
            assert_eq!(reported.value, platform);
        }
    }
}
