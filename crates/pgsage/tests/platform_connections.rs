//! Connection advice on managed platforms, on real servers impersonating each one (its
//! custom settings declared in `postgresql.conf`, its roles created, sessions opened as
//! its operator role), against a self-managed twin with the same sessions:
//!
//! - the pooling findings name the platform's own pooler beside PgBouncer (Azure's
//!   built-in PgBouncer, with its server parameter as the fix; Amazon RDS Proxy; Cloud SQL
//!   Managed Connection Pooling), or say that Azure's is on already;
//! - the provider's reserved slots (RDS's `rds.rds_superuser_reserved_connections`) are
//!   not the user's, nor are the sessions of its operators (`azuresu`, `rdsadmin`,
//!   `cloudsqladmin`);
//! - the self-managed twin keeps today's advice word for word.

use pgsage::report::{Finding, Report};
use pgsage::snapshot::{Fact, Platform};
use pgsage::tune::TuneReport;
use pgsage::{audit, CollectOptions, ConnectOptions, RuleConfig};
use pgsage_testkit::{require_server_with, test_majors, ServerOptions, TestServer};

/// `max_connections` of every server: 37 slots for ordinary roles after PostgreSQL's 3.
const MAX_CONNECTIONS: i64 = 40;
/// Idle sessions of the application: 30 of 37 usable slots (81 %), of 35 on RDS (86 %).
const APP_SESSIONS: usize = 30;
/// Sessions of the provider's operator role (or, on the twin, of an ordinary DBA role).
const OPERATOR_SESSIONS: usize = 4;

struct Case {
    name: &'static str,
    platform: Platform,
    settings: &'static [&'static str],
    /// The provider's administration role granted to customers (not logging in here).
    admin_role: Option<&'static str>,
    /// The role the operator sessions log in as.
    operator: &'static str,
    /// The pooler the advice names, beside PgBouncer.
    pooler: Option<&'static str>,
    /// Slots ordinary roles can use.
    usable: i64,
}

const CASES: &[Case] = &[
    Case {
        name: "azure",
        platform: Platform::AzureFlexibleServer,
        settings: &["azure.extensions = 'pg_stat_statements'"],
        admin_role: Some("azure_pg_admin"),
        operator: "azuresu",
        pooler: Some("Azure's built-in PgBouncer"),
        usable: 37,
    },
    Case {
        name: "azure-pgbouncer-on",
        platform: Platform::AzureFlexibleServer,
        settings: &[
            "azure.extensions = 'pg_stat_statements'",
            "pgbouncer.enabled = true",
        ],
        admin_role: Some("azure_pg_admin"),
        operator: "azuresu",
        pooler: Some("Azure's built-in PgBouncer is already on"),
        usable: 37,
    },
    Case {
        name: "rds",
        platform: Platform::AwsRds,
        settings: &[
            "rds.force_ssl = 1",
            "rds.rds_superuser_reserved_connections = 2",
        ],
        admin_role: Some("rds_superuser"),
        operator: "rdsadmin",
        pooler: Some("Amazon RDS Proxy"),
        usable: 35,
    },
    Case {
        name: "cloud-sql",
        platform: Platform::GcpCloudSql,
        settings: &["cloudsql.iam_authentication = off"],
        admin_role: Some("cloudsqlsuperuser"),
        operator: "cloudsqladmin",
        pooler: Some("Cloud SQL Managed Connection Pooling"),
        usable: 37,
    },
    Case {
        name: "self-managed twin",
        platform: Platform::SelfManaged,
        settings: &[],
        admin_role: None,
        operator: "dba",
        pooler: None,
        usable: 37,
    },
];

/// Starts the case's server with its settings and roles, opens the application's and
/// the operator's idle sessions, collects and audits (4 CPUs, the connections scenario's
/// thresholds for idle sessions).
fn audit_case(major: u32, case: &Case) -> Option<(Report, TuneReport)> {
    let opts = case.settings.iter().fold(
        ServerOptions::new(major).conf(&format!("max_connections = {MAX_CONNECTIONS}")),
        |o, line| o.conf(line),
    );
    let server = require_server_with(opts)?;
    server.create_database("app").expect("database");
    let mut roles = format!(
        "CREATE ROLE app LOGIN PASSWORD 'app'; CREATE ROLE {} LOGIN SUPERUSER PASSWORD 'op';",
        case.operator
    );
    if let Some(admin) = case.admin_role {
        roles.push_str(&format!("CREATE ROLE {admin} NOLOGIN;"));
    }
    server.execute("postgres", &roles).expect("roles");
    let _held = hold(&server, "app", APP_SESSIONS)
        .into_iter()
        .chain(hold(&server, case.operator, OPERATOR_SESSIONS))
        .collect::<Vec<_>>();
    let snap = pgsage::collect_snapshot_with(
        &ConnectOptions::new(server.dsn("app")),
        &CollectOptions {
            probe_local_host: false,
            ..CollectOptions::default()
        },
    )
    .expect("collect");
    let mut config = RuleConfig::shipped().expect("packs");
    config
        .apply_toml(
            "[audit]\nmin_stats_age_hours = 0\n[rules.CON003.params]\nmin_idle_connections = 10\nmin_idle_seconds = 0\n",
            "test",
        )
        .expect("config");
    config.host.cpus = Some(Fact::new(4.0, "test"));
    let tuned = pgsage::tune::recommend(&snap, &config.tune_options(&config.host));
    Some((audit(&snap, &config), tuned))
}

/// `n` idle sessions in database `app` as `role` (whose password is its name's first
/// letters: see [`audit_case`]).
fn hold(server: &TestServer, role: &str, n: usize) -> Vec<postgres::Client> {
    let password = if role == "app" { "app" } else { "op" };
    (0..n)
        .map(|_| {
            postgres::Client::connect(&server.dsn_as(role, password, "app"), postgres::NoTls)
                .expect("session")
        })
        .collect()
}

fn finding<'a>(report: &'a Report, rule: &str, case: &str) -> &'a Finding {
    report
        .findings
        .iter()
        .find(|f| f.rule == rule)
        .unwrap_or_else(|| panic!("{case}: no {rule} in {:#?}", report.findings))
}

#[test]
fn connection_advice_names_the_platforms_pooler_and_counts_only_the_users_slots() {
    let Some(&major) = test_majors().last() else {
        return;
    };
    for case in CASES {
        let Some((report, tuned)) = audit_case(major, case) else {
            continue;
        };
        let name = case.name;
        assert_eq!(
            report.target.platform.as_ref().map(|p| p.value),
            Some(case.platform),
            "{name}"
        );

        // CON001: the operator's sessions are the provider's, not the user's; RDS keeps 2
        // more slots for rds_superuser.
        let near = finding(&report, "CON001", name);
        let counted = if case.platform == Platform::SelfManaged {
            APP_SESSIONS + OPERATOR_SESSIONS
        } else {
            APP_SESSIONS
        };
        assert_eq!(near.evidence["client_connections"], counted, "{name}");
        assert_eq!(near.evidence["usable_slots"], case.usable as f64, "{name}");
        let provider_slots = near.evidence.get("provider_reserved_slots");
        match case.platform {
            Platform::AwsRds => {
                assert_eq!(provider_slots, Some(&2.into()), "{name}");
                assert!(
                    near.message
                        .contains("rds.rds_superuser_reserved_connections = 2"),
                    "{name}: {}",
                    near.message
                );
            }
            _ => assert_eq!(provider_slots, None, "{name}"),
        }

        // The pooler: the platform's beside PgBouncer, in CON001's and CON003's advice.
        let idle = finding(&report, "CON003", name);
        for f in [near, idle] {
            let rec = f.recommendation.as_str();
            match case.pooler {
                Some(pooler) => assert!(rec.contains(pooler), "{name} {}: {rec}", f.rule),
                None => assert!(!rec.contains("platform's own pooler"), "{name}: {rec}"),
            }
        }
        // tune's pool note: the same pooler, or today's note on the twin.
        let note = tuned
            .notes
            .iter()
            .find(|n| n.starts_with("connection pool:"))
            .unwrap_or_else(|| panic!("{name}: no pool note in {:#?}", tuned.notes));
        match case.pooler {
            Some(pooler) => assert!(note.contains(pooler), "{name}: {note}"),
            None => assert!(
                note.starts_with("connection pool: about 8 server connections per pool (PgBouncer default_pool_size, transaction mode)")
                    && !note.contains("platform's own pooler"),
                "{note}"
            ),
        }
        let fix_settings = |f: &Finding| -> Vec<(String, String)> {
            f.fix
                .iter()
                .flat_map(|x| &x.settings)
                .map(|s| (s.name.clone(), s.value.clone()))
                .collect()
        };
        let enable = ("pgbouncer.enabled".to_owned(), "true".to_owned());
        match name {
            // Azure's pooler is a server parameter: the fix turns it on.
            "azure" => {
                for f in [near, idle] {
                    assert!(fix_settings(f).contains(&enable), "{name} {}", f.rule);
                }
                let rec = idle.recommendation.as_str();
                assert!(rec.contains("port 6432"), "{rec}");
                assert!(rec.contains("not Burstable"), "{rec}");
            }
            // On already: said, not advised; nothing to change.
            "azure-pgbouncer-on" => {
                for f in [near, idle] {
                    let rec = f.recommendation.as_str();
                    assert!(!rec.contains("Put PgBouncer"), "{rec}");
                    assert!(fix_settings(f).is_empty(), "{name} {}", f.rule);
                }
            }
            // RDS Proxy and Cloud SQL's pooler are set up outside the database.
            "rds" | "cloud-sql" => {
                assert!(near.fix.is_none(), "{name}: {:?}", near.fix);
                if case.platform == Platform::AwsRds {
                    let rec = near.recommendation.as_str();
                    assert!(rec.contains("pins"), "{rec}");
                }
            }
            // The twin: today's advice, word for word.
            _ => {
                let rec = near.recommendation.as_str();
                assert!(
                    rec.starts_with("Pool connections (PgBouncer in transaction mode, default_pool_size = 8 per database/role pair, for ")
                        && rec.ends_with(" sessions not idle now) instead of raising max_connections"),
                    "{rec}"
                );
                assert!(near.fix.is_none());
                assert_eq!(
                    idle.recommendation,
                    ("Put PgBouncer (pool_mode = transaction) or the managed service's pooler in front of the server and point the applications at it; keep the applications' own pools small. To find short-lived clients, log connections for a while")
                );
            }
        }
    }
}

/// The gaps of a collection as role `mon` (granted `grants`, if any) on a server
/// impersonating `platform` (`settings`, `roles`).
fn gaps_as_monitor(
    major: u32,
    settings: &[&str],
    roles: &[&str],
    grants: Option<&str>,
) -> Option<Vec<(String, String)>> {
    let opts = settings
        .iter()
        .fold(ServerOptions::new(major), |o, line| o.conf(line));
    let server = require_server_with(opts)?;
    server.create_database("app").expect("database");
    let mut sql = String::from("CREATE ROLE mon LOGIN PASSWORD 'mon';");
    for role in roles {
        sql.push_str(&format!("CREATE ROLE {role} NOLOGIN;"));
    }
    if let Some(g) = grants {
        sql.push_str(&format!("GRANT {g} TO mon;"));
    }
    server.execute("postgres", &sql).expect("roles");
    let snap = pgsage::collect_snapshot_with(
        &ConnectOptions::new(server.dsn_as("mon", "mon", "app")),
        &CollectOptions {
            probe_local_host: false,
            ..CollectOptions::default()
        },
    )
    .expect("collect");
    Some(snap.gaps.into_iter().map(|g| (g.what, g.why)).collect())
}

#[test]
fn privilege_gaps_name_the_grant_the_platform_allows() {
    let Some(&major) = test_majors().last() else {
        return;
    };
    let azure = (
        &["azure.extensions = 'pg_stat_statements'"][..],
        &["azure_pg_admin", "azuresu"][..],
    );
    let cases: [(&str, &[&str], &[&str], &str); 3] = [
        (
            "azure",
            azure.0,
            azure.1,
            if major >= 16 {
                "GRANT pg_read_all_stats, pg_read_all_settings TO mon; (as the server admin, a member of azure_pg_admin)"
            } else {
                "GRANT pg_monitor TO mon; (as the server admin, a member of azure_pg_admin)"
            },
        ),
        (
            "rds",
            &["rds.force_ssl = 1"],
            &["rds_superuser", "rdsadmin"],
            "GRANT pg_monitor TO mon; (as the master user, a member of rds_superuser)",
        ),
        (
            "self-managed twin",
            &[],
            &[],
            "GRANT pg_monitor TO mon; (as a superuser)",
        ),
    ];
    for (name, settings, roles, grant) in cases {
        let Some(gaps) = gaps_as_monitor(major, settings, roles, None) else {
            continue;
        };
        for what in ["pg_read_all_stats", "pg_read_all_settings"] {
            let why = gaps
                .iter()
                .find(|(w, _)| w == what)
                .map(|(_, why)| why.as_str())
                .unwrap_or_else(|| panic!("{name}: no {what} gap in {gaps:?}"));
            assert!(why.ends_with(grant), "{name}: {why}");
        }
    }
    // What Azure's admin grants on 16+ instead of pg_monitor gives pgsage everything
    // pg_monitor would: no privilege gap is left.
    let Some(gaps) = gaps_as_monitor(
        major,
        azure.0,
        azure.1,
        Some("pg_read_all_stats, pg_read_all_settings"),
    ) else {
        return;
    };
    for (what, why) in &gaps {
        assert!(
            what != "pg_read_all_stats" && what != "pg_read_all_settings",
            "{what}: {why}"
        );
    }
}
