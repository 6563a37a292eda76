//! SCH003's fixes run on real servers, statement by statement as a DBA runs them: on the
//! schema scenario's partitioned tables without a primary key (a plain range-partitioned
//! table with a sub-partitioned partition, one with a unique constraint, one without an
//! `id` column, one partitioned by an expression), on every supported major. PostgreSQL
//! rejects what works on ordinary tables (`CREATE INDEX CONCURRENTLY` on the parent,
//! `ADD PRIMARY KEY USING INDEX` on it, a key without the partition key), so the advice
//! must be different, and it must run.

use pgsage::{audit, CollectOptions, ConnectOptions, RuleConfig, Snapshot};
use pgsage_testkit::scenario::{self, Scenario};
use pgsage_testkit::{require_server, test_majors, TestServer};

const PARTITIONED: [&str; 4] = [
    "public.mail_message",
    "public.ir_attachment",
    "public.bus_event",
    "public.mail_tracking",
];

fn collect(server: &TestServer) -> Snapshot {
    let options = CollectOptions {
        probe_local_host: false,
        ..CollectOptions::default()
    };
    pgsage::collect_snapshot_with(&ConnectOptions::new(server.dsn("scenario")), &options)
        .expect("collect")
}

/// SCH003's findings: object name → fix SQL (empty without one).
fn sch003(snapshot: &Snapshot) -> Vec<(String, String)> {
    let mut config = RuleConfig::shipped().expect("shipped packs");
    config
        .only_packs(&["schema".to_owned()])
        .expect("schema pack");
    audit(snapshot, &config)
        .findings
        .into_iter()
        .filter(|f| f.rule == "SCH003")
        .map(|f| {
            let sql = f.fix.map(|x| x.sql).unwrap_or_default();
            (f.object.display_name(), sql)
        })
        .collect()
}

fn has_primary_key(server: &TestServer, table: &str) -> bool {
    server
        .query_scalar_i64(
            "scenario",
            &format!(
                "SELECT count(*) FROM pg_index WHERE indisprimary AND indisvalid \
                 AND indrelid = '{table}'::regclass"
            ),
        )
        .expect("query")
        == 1
}

#[test]
fn partitioned_tables_get_a_primary_key_fix_that_runs() {
    let schema = Scenario::load("schema").expect("schema scenario");
    let case = schema
        .cases
        .iter()
        .find(|c| c.name == "problems")
        .expect("problems case");
    for major in test_majors() {
        let Some(server) = require_server(major) else {
            continue;
        };
        scenario::prepare(&server, "scenario", case).expect("plant the schema scenario");
        let before = sch003(&collect(&server));
        let mut client = server.client("scenario").expect("client");
        for table in PARTITIONED {
            let (_, fix) = before
                .iter()
                .find(|(object, _)| object == table)
                .unwrap_or_else(|| panic!("PostgreSQL {major}: {table} not flagged: {before:#?}"));
            // Statements end a line with `;`; comment lines say why.
            for statement in fix.lines().filter(|l| !l.trim_start().starts_with("--")) {
                client.batch_execute(statement).unwrap_or_else(|e| {
                    panic!("PostgreSQL {major}: {table}'s fix failed at `{statement}`: {e}\n{fix}")
                });
            }
        }
        let after = sch003(&collect(&server));
        for table in [
            "public.mail_message",
            "public.ir_attachment",
            "public.bus_event",
        ] {
            assert!(
                has_primary_key(&server, table),
                "PostgreSQL {major}: {table} has no primary key after its fix"
            );
            assert!(
                !after.iter().any(|(object, _)| object == table),
                "PostgreSQL {major}: {table} still flagged: {after:#?}"
            );
        }
        // Partitions inherit the parent's key: the one built on each, attached.
        for partition in [
            "mail_message_2025",
            "mail_message_2026_0",
            "mail_message_2026_1",
        ] {
            assert!(
                has_primary_key(&server, partition),
                "PostgreSQL {major}: {partition}"
            );
        }
        // An expression in the partition key rules out the parent's key: each partition
        // has its own, which is all logical replication needs, so nothing is left to say.
        for partition in ["mail_tracking_open", "mail_tracking_other"] {
            assert!(
                has_primary_key(&server, partition),
                "PostgreSQL {major}: {partition}"
            );
        }
        assert!(
            !after
                .iter()
                .any(|(object, _)| object == "public.mail_tracking"),
            "PostgreSQL {major}: {after:#?}"
        );
    }
}
