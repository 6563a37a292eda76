//! `--all-databases` and `--databases PATTERN` on a real cluster of tenant databases,
//! collected by a monitoring role (pg_monitor, no superuser):
//!
//! - two tenants have autovacuum disabled on the same queue table `bus_bus`, a third is
//!   the healthy twin, and one database refuses the role `CONNECT`;
//! - every readable database's sections are collected over its own connection, the one
//!   the role cannot enter is a gap that says what to grant, never an error;
//! - the rules judge every database: the two planted tenants are flagged, with
//!   `object.database` set, and the twin is not; the two findings are one action
//!   ("… in 2 databases") whose fix runs in each database;
//! - a pattern reads only the matching databases; the snapshot saves and loads unchanged.

use pgsage::report::Report;
use pgsage::snapshot::Snapshot;
use pgsage::{audit, CollectOptions, ConnectOptions, DatabaseSelection, RuleConfig};
use pgsage_testkit::{require_server, test_majors, TestServer};

const PLANTED: [&str; 2] = ["tenant_a", "tenant_b"];
const HEALTHY: &str = "tenant_ok";
const CLOSED: &str = "tenant_closed";

/// The oldest and newest majors under test: the collector's SQL differs most between them.
fn majors() -> Vec<u32> {
    let all = test_majors();
    let mut m: Vec<u32> = all.first().into_iter().chain(all.last()).copied().collect();
    m.dedup();
    m
}

fn plant(server: &TestServer) {
    server.create_database("app").expect("app");
    for db in PLANTED.iter().chain([&HEALTHY, &CLOSED]) {
        server.create_database_without_extensions(db).expect("db");
        let autovacuum = if PLANTED.contains(db) { "off" } else { "on" };
        server
            .execute(
                db,
                &format!(
                    "CREATE TABLE bus_bus (id bigserial PRIMARY KEY, channel text, message text) \
                     WITH (autovacuum_enabled = {autovacuum});
                     INSERT INTO bus_bus (channel, message)
                       SELECT 'c' || (g % 10), repeat('x', 100) FROM generate_series(1, 5000) g;
                     DELETE FROM bus_bus WHERE id % 2 = 0;"
                ),
            )
            .expect("plant");
        if !PLANTED.contains(db) {
            // The healthy twin: vacuumed, as autovacuum would have done by now.
            server
                .execute(db, "VACUUM (ANALYZE) bus_bus")
                .expect("vacuum");
        }
    }
    server
        .execute(
            "postgres",
            &format!(
                "CREATE ROLE monitor LOGIN PASSWORD 'monitor' IN ROLE pg_monitor;
                 REVOKE CONNECT ON DATABASE {CLOSED} FROM PUBLIC;"
            ),
        )
        .expect("role");
}

/// Collects as the monitoring role, and checks what it cost: three round trips per
/// database read, whatever the number of its tables, one connection each.
fn collect(server: &TestServer, databases: DatabaseSelection) -> Snapshot {
    let (snap, stats) = pgsage::collect_snapshot_with_stats(
        &ConnectOptions::new(server.dsn_as("monitor", "monitor", "app")),
        &CollectOptions {
            probe_local_host: false,
            databases,
            jobs: 2,
            ..CollectOptions::default()
        },
    )
    .expect("collect");
    let read = 1 + snap.other_databases.len() as u32;
    assert_eq!(stats.connections, read, "{stats:?}");
    assert_eq!(stats.round_trips, 3 * read, "{stats:?}");
    snap
}

fn audit_it(snap: &Snapshot) -> Report {
    let mut config = RuleConfig::shipped().expect("packs");
    config
        .apply_toml("[audit]\nmin_stats_age_hours = 0\n", "test")
        .expect("config");
    audit(snap, &config)
}

#[test]
fn every_database_is_read_and_judged() {
    for major in majors() {
        let Some(server) = require_server(major) else {
            continue;
        };
        plant(&server);
        let snap = collect(&server, DatabaseSelection::All);

        let names: Vec<&str> = snap.database_names().collect();
        for db in PLANTED.iter().chain([&HEALTHY, &"postgres"]) {
            assert!(names.contains(db), "PG{major}: {db} read: {names:?}");
        }
        assert!(!names.contains(&CLOSED), "PG{major}: {names:?}");
        assert!(!names.iter().any(|n| n.starts_with("template")));
        let gap = snap
            .gap(&format!("database {CLOSED}"))
            .unwrap_or_else(|| panic!("PG{major}: no gap for {CLOSED}: {:?}", snap.gaps));
        assert!(
            gap.why.contains(&format!(
                "GRANT CONNECT ON DATABASE \"{CLOSED}\" TO monitor"
            )),
            "{}",
            gap.why
        );
        for db in PLANTED.iter().chain([&HEALTHY]) {
            let sections = snap
                .other_databases
                .iter()
                .find(|d| d.name == *db)
                .expect("sections");
            assert!(
                sections.tables.iter().any(|t| t.name == "bus_bus"),
                "PG{major}: {db}'s tables"
            );
            assert!(sections.indexes.iter().any(|i| i.table == "bus_bus"));
        }

        let report = audit_it(&snap);
        let flagged: Vec<&str> = report
            .findings
            .iter()
            .filter(|f| f.rule == "VAC002" && f.object.name == "bus_bus")
            .filter_map(|f| f.object.database.as_deref())
            .collect();
        let mut expected = PLANTED.to_vec();
        expected.sort_unstable();
        let mut got = flagged.clone();
        got.sort_unstable();
        assert_eq!(got, expected, "PG{major}: VAC002 on bus_bus");
        // Every table finding names its database.
        for f in &report.findings {
            if f.object.schema.is_some() {
                assert!(f.object.database.is_some(), "{f:?}");
            }
        }
        // No finding is repeated for each database (settings, server-wide).
        let mut keys: Vec<(String, String)> = report
            .findings
            .iter()
            .map(|f| (f.rule.clone(), format!("{:?}", f.object)))
            .collect();
        let all = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), all, "PG{major}: duplicate findings");

        let action = report
            .actions
            .iter()
            .find(|a| {
                a.findings
                    .iter()
                    .any(|&i| report.findings[i].rule == "VAC002")
            })
            .expect("an action");
        assert!(
            action.title.contains("in 2 databases"),
            "PG{major}: {}",
            action.title
        );
        let sql = &action.fix.as_ref().expect("fix").sql;
        for db in PLANTED {
            assert!(sql.contains(&format!("-- in database {db}:")), "{sql}");
        }
        assert_eq!(
            sql.matches("ALTER TABLE public.bus_bus").count(),
            2,
            "one statement per database: {sql}"
        );
        let script = pgsage::report::render::script::script(&report);
        for db in PLANTED {
            assert!(script.contains(&format!("\\connect {db}")), "{script}");
        }
        assert!(
            !script.contains(&format!("\\connect {HEALTHY}")),
            "{script}"
        );
        assert!(
            !report
                .findings
                .iter()
                .any(|f| f.object.database.as_deref() == Some(HEALTHY)),
            "PG{major}: the healthy twin is flagged"
        );

        let path = tempfile::tempdir().expect("dir").keep().join("snap.json");
        snap.save(&path).expect("save");
        assert_eq!(Snapshot::load(&path).expect("load"), snap);
    }
}

#[test]
fn a_pattern_reads_only_the_matching_databases() {
    let Some(major) = majors().last().copied() else {
        return;
    };
    let Some(server) = require_server(major) else {
        return;
    };
    plant(&server);
    let snap = collect(
        &server,
        DatabaseSelection::Matching(vec!["tenant_[ab]".into()]),
    );
    let mut names: Vec<&str> = snap.database_names().collect();
    names.sort_unstable();
    assert_eq!(names, ["app", "tenant_a", "tenant_b"]);
    assert!(snap.gap(&format!("database {CLOSED}")).is_none());

    let connected_only = collect(&server, DatabaseSelection::Connected);
    assert!(connected_only.other_databases.is_empty());
    assert!(!audit_it(&connected_only)
        .findings
        .iter()
        .any(|f| f.rule == "VAC002"));
}
