//! The workload captured two ways on real servers (13–18): a planted workload runs with
//! `log_min_duration_statement = 0`, then pg_stat_statements is collected and the server
//! log is read. Both captures must agree on calls per fingerprint, match the planted
//! counts, and the `queries` rules must flag the planted N+1 loop from either source.

use pgsage::engine::workload::WorkloadReport;
use pgsage::workload::fingerprint::fingerprint;
use pgsage::workload::log::{read_paths, LogOptions};
use pgsage::workload::{from_snapshot, AggregateOptions, Aggregator, SourceKind, Workload};
use pgsage::{CollectOptions, ConnectOptions, RuleConfig};
use pgsage_testkit::{require_server_with, ServerOptions};

const PREFIX: &str = "%m [%p] %q%u@%d ";

/// What the test runs, and how often, as (fingerprint text, calls).
const LOOKUPS: usize = 1200;

fn planted() -> Vec<(&'static str, u64)> {
    vec![
        ("SELECT name FROM item WHERE id = $1", LOOKUPS as u64),
        ("SELECT count(*) FROM item WHERE qty < 1", 20),
        ("SELECT id FROM item WHERE id IN (1, 2)", 15),
        ("UPDATE item SET qty = qty + $1 WHERE id = $2", 30),
        ("INSERT INTO item_log (item_id, note) VALUES (1, 'x')", 10),
        (
            "SELECT i.name, count(l.*) FROM item i LEFT JOIN item_log l ON l.item_id = i.id WHERE i.qty > 1 GROUP BY i.name ORDER BY 2 DESC LIMIT 5",
            7,
        ),
    ]
}

fn run_workload(client: &mut postgres::Client) {
    for i in 0..LOOKUPS {
        // Extended protocol: parse/bind/execute with a parameter.
        let id = (i % 500) as i32 + 1;
        client
            .query("SELECT name FROM item WHERE id = $1", &[&id])
            .expect("lookup");
    }
    for i in 0..20 {
        client
            .batch_execute(&format!("SELECT count(*) FROM item WHERE qty < {}", i % 9))
            .expect("count");
    }
    for i in 0..15 {
        // IN lists of 1 to 5 constants: one fingerprint (pg_stat_statements before 18
        // has one entry per length; they merge).
        let list: Vec<String> = (0..=i % 5).map(|k| (k * 7 + i).to_string()).collect();
        client
            .batch_execute(&format!(
                "SELECT id FROM item WHERE id IN ({})",
                list.join(", ")
            ))
            .expect("in list");
    }
    for i in 0..30i32 {
        client
            .execute(
                "UPDATE item SET qty = qty + $1 WHERE id = $2",
                &[&1i32, &(i + 1)],
            )
            .expect("update");
    }
    for i in 0..10 {
        let rows: Vec<String> = (0..=i % 3)
            .map(|k| format!("({}, 'note {i}-{k}')", k + 1))
            .collect();
        client
            .batch_execute(&format!(
                "INSERT INTO item_log (item_id, note) VALUES {}",
                rows.join(", ")
            ))
            .expect("insert");
    }
    for i in 0..7 {
        client
            .batch_execute(&format!(
                "select i.name, count(l.*)\n  from item i left join item_log l on l.item_id = i.id\n where i.qty > {i}   -- report\n group by i.name order by 2 desc limit 5"
            ))
            .expect("report");
    }
}

fn config() -> RuleConfig {
    let mut c = RuleConfig::shipped().expect("packs");
    c.apply_toml(
        "[audit]\nmin_stats_age_hours = 0\n[rules.QRY002.params]\nmin_calls = 1000\n",
        "test",
    )
    .expect("config");
    c
}

fn calls_of(w: &Workload, text: &str) -> u64 {
    w.query(fingerprint(text)).map_or(0, |q| q.calls)
}

fn flags_lookup(w: Workload) -> bool {
    let lookup = fingerprint("SELECT name FROM item WHERE id = $1").to_string();
    let report = WorkloadReport::new(w, &config(), None);
    report
        .findings
        .iter()
        .any(|f| f.rule == "QRY002" && f.object.name == lookup)
}

fn both_captures_agree(major: u32) {
    let opts = ServerOptions::new(major)
        .conf("log_min_duration_statement = 0")
        .conf(&format!("log_line_prefix = '{PREFIX}'"))
        .conf("lc_messages = 'C'")
        .conf("log_timezone = 'UTC'");
    let Some(server) = require_server_with(opts) else {
        return;
    };
    server.create_database("app").expect("create database");
    server
        .execute(
            "app",
            "CREATE TABLE item (id int PRIMARY KEY, name text NOT NULL, qty int NOT NULL);
             INSERT INTO item SELECT g, 'item ' || g, g % 10 FROM generate_series(1, 500) g;
             CREATE TABLE item_log (item_id int NOT NULL, note text);
             ANALYZE item;",
        )
        .expect("setup");
    server
        .execute("app", "SELECT pg_stat_statements_reset()")
        .expect("reset");
    let mut client = server.client("app").expect("client");
    run_workload(&mut client);
    drop(client);

    let snapshot = pgsage::collect_snapshot_with(
        &ConnectOptions::new(server.dsn("app")),
        &CollectOptions {
            probe_local_host: false,
            ..CollectOptions::default()
        },
    )
    .expect("collect");
    let pgss = from_snapshot(&snapshot).expect("pg_stat_statements workload");
    assert_eq!(pgss.source.kind, SourceKind::PgStatStatements);

    let mut agg = Aggregator::new(AggregateOptions::default());
    let log_opts = LogOptions {
        prefix: Some(PREFIX.to_owned()),
        ..LogOptions::default()
    };
    let stats = read_paths(&[server.log_path()], &log_opts, |s| agg.add(&s)).expect("read log");
    assert_eq!(stats.unparsed_lines, 0, "PostgreSQL {major}: {stats:#?}");
    let log = agg.finish(vec![server.log_path().display().to_string()]);

    for (text, calls) in planted() {
        assert_eq!(
            calls_of(&pgss, text),
            calls,
            "PostgreSQL {major}, pg_stat_statements: `{text}`"
        );
        assert_eq!(
            calls_of(&log, text),
            calls,
            "PostgreSQL {major}, log: `{text}`"
        );
        let q = log.query(fingerprint(text)).expect("in the log");
        assert!(q.p95_ms.is_some() && q.databases[0].name == "app", "{q:#?}");
        assert_eq!(q.users[0].name, "postgres");
    }
    // The same rules judge both captures.
    assert!(
        flags_lookup(pgss),
        "PostgreSQL {major}: QRY002 on pg_stat_statements"
    );
    assert!(flags_lookup(log), "PostgreSQL {major}: QRY002 on the log");
}

macro_rules! per_major {
    ($($name:ident => $major:expr),* $(,)?) => {$(
        #[test]
        fn $name() {
            if pgsage_testkit::test_majors().contains(&$major) {
                both_captures_agree($major);
            }
        }
    )*};
}

per_major! {
    captures_agree_pg13 => 13,
    captures_agree_pg14 => 14,
    captures_agree_pg15 => 15,
    captures_agree_pg16 => 16,
    captures_agree_pg17 => 17,
    captures_agree_pg18 => 18,
}
