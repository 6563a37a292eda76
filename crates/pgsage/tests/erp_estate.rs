//! The `erp` pack on an Odoo hosting cluster (one database per customer), collected with
//! `--all-databases` from `postgres`, which is not Odoo's:
//!
//! - each Odoo tenant is recognised over its own connection and its facts read in its own
//!   snapshot (one more round trip, only there); a database that is not Odoo's costs
//!   nothing more;
//! - the tenant with its attachments in the database is flagged (ERP001, with its
//!   database), the tenant whose files are in the filestore is not;
//! - the `erp` rules are not reported as "did not run" because `postgres` is not Odoo's;
//! - the application's secrets (`ir_config_parameter`) never reach the snapshot.

use pgsage::{audit, CollectOptions, ConnectOptions, DatabaseSelection, RuleConfig};
use pgsage_testkit::{require_server, test_majors, TestServer};

const PLANTED: &str = "tenant_files_in_db";
const HEALTHY: &str = "tenant_filestore";
const OTHER: &str = "warehouse";
const SECRET: &str = "tenant-secret-9d2c";

/// The oldest and newest majors under test.
fn majors() -> Vec<u32> {
    let all = test_majors();
    let mut m: Vec<u32> = all.first().into_iter().chain(all.last()).copied().collect();
    m.dedup();
    m
}

/// Odoo's catalog and an attachment table; `in_database` puts 200 files of 256 KiB in it.
fn odoo_tenant(server: &TestServer, db: &str, in_database: bool) {
    server.create_database_without_extensions(db).expect("db");
    server
        .execute(
            db,
            &format!(
                "CREATE TABLE ir_module_module (id serial PRIMARY KEY, name varchar, state varchar, latest_version varchar);
                 INSERT INTO ir_module_module (name, state, latest_version) VALUES ('base', 'installed', '16.0.1.3');
                 CREATE TABLE ir_model (id serial PRIMARY KEY, model varchar);
                 CREATE TABLE res_users (id serial PRIMARY KEY, login varchar);
                 CREATE TABLE ir_config_parameter (id serial PRIMARY KEY, key varchar, value text);
                 INSERT INTO ir_config_parameter (key, value) VALUES ('database.secret', '{SECRET}'),
                   ('ir_attachment.location', '{location}');
                 CREATE TABLE ir_attachment (id serial PRIMARY KEY, name varchar, db_datas bytea,
                   store_fname varchar, create_date timestamp DEFAULT now());
                 ALTER TABLE ir_attachment ALTER COLUMN db_datas SET STORAGE EXTERNAL;
                 INSERT INTO ir_attachment (name, db_datas, store_fname)
                   SELECT 'f' || g, {data}, {path} FROM generate_series(1, 200) g;",
                location = if in_database { "db" } else { "file" },
                data = if in_database {
                    "decode(repeat('ab', 262144), 'hex')"
                } else {
                    "NULL"
                },
                path = if in_database {
                    "NULL"
                } else {
                    "'ab/' || md5(g::text)"
                },
            ),
        )
        .expect("plant");
}

fn run(major: u32) {
    let Some(server) = require_server(major) else {
        return;
    };
    odoo_tenant(&server, PLANTED, true);
    odoo_tenant(&server, HEALTHY, false);
    server
        .create_database_without_extensions(OTHER)
        .expect("other");
    server
        .execute(OTHER, "CREATE TABLE ir_attachment (id int, db_datas bytea)")
        .expect("other table");
    let (snap, stats) = pgsage::collect_snapshot_with_stats(
        &ConnectOptions::new(server.dsn("postgres")),
        &CollectOptions {
            probe_local_host: false,
            databases: DatabaseSelection::All,
            ..CollectOptions::default()
        },
    )
    .expect("collect");
    let ctx = format!("PostgreSQL {major}");
    // Three round trips per database, a fourth in each Odoo tenant.
    let read = 1 + snap.other_databases.len() as u32;
    assert_eq!(stats.round_trips, 3 * read + 2, "{ctx}: {stats:?}");
    let erp_of = |name: &str| {
        snap.other_databases
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("{ctx}: {name} collected"))
            .erp
            .clone()
    };
    let planted = erp_of(PLANTED).unwrap_or_else(|| panic!("{ctx}: {PLANTED} recognised"));
    assert_eq!(planted.version.as_deref(), Some("16.0.1.3"), "{ctx}");
    let files = planted.attachments.expect("attachments read");
    assert_eq!(files.in_database, 200, "{ctx}");
    assert!(files.in_database_bytes >= 200 * 262_144, "{ctx}: {files:?}");
    assert_eq!(
        erp_of(HEALTHY)
            .and_then(|e| e.attachments)
            .map(|a| (a.in_database, a.in_filestore)),
        Some((0, 200)),
        "{ctx}"
    );
    assert!(erp_of(OTHER).is_none(), "{ctx}: {OTHER} is not Odoo's");
    assert!(snap.erp.is_none(), "{ctx}: postgres is not Odoo's");
    let json = serde_json::to_string(&snap).expect("json");
    assert!(
        !json.contains(SECRET),
        "{ctx}: a secret reached the snapshot"
    );

    let mut config = RuleConfig::shipped().expect("packs");
    config
        .apply_toml("[rules.ERP001.params]\nmin_bytes = 20971520\n", "test")
        .expect("config");
    let report = audit(&snap, &config);
    let erp001: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule == "ERP001")
        .map(|f| f.object.database.clone().unwrap_or_default())
        .collect();
    assert_eq!(erp001, [PLANTED], "{ctx}");
    assert!(
        !report.skipped.iter().any(|s| s.rule == "ERP001"),
        "{ctx}: {:?}",
        report.skipped
    );
}

#[test]
fn odoo_tenants_are_judged_each_in_its_database() {
    for major in majors() {
        run(major);
    }
}
