//! `pgsage diff` on a real server: a snapshot, then planted changes (a setting reloaded,
//! one waiting for a restart, a table grown by inserts, dead rows left by updates, bloat
//! left by updates and a vacuum, an unindexed foreign key scanned, a statement slowed by
//! dropping its index), a second
//! snapshot; the diff reports each planted change and nothing about the untouched table
//! and settings. Then `pg_stat_statements_reset()` and `pg_stat_reset()`, a third
//! snapshot: the diff says the counters were reset and shows no negative figure.

// A test's failure is a panic; unwrap says so without ceremony.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use pgsage::diff::resets::ResetScope;
use pgsage::diff::statements::Basis;
use pgsage::diff::{DiffOptions, SnapshotDiff};
use pgsage::{CollectOptions, ConnectOptions, RuleConfig, Snapshot};
use pgsage_testkit::{require_server, test_majors, TestServer};

const DB: &str = "erp";

fn snapshot(server: &TestServer) -> Snapshot {
    pgsage::collect_snapshot_with(
        &ConnectOptions::new(server.dsn(DB)),
        &CollectOptions {
            probe_local_host: false,
            ..CollectOptions::default()
        },
    )
    .unwrap()
}

fn diff(old: &Snapshot, new: &Snapshot) -> SnapshotDiff {
    pgsage::diff::snapshots(
        old,
        new,
        &RuleConfig::shipped().unwrap(),
        &DiffOptions::default(),
    )
    .unwrap()
}

/// Runs the lookup `times` times with distinct codes, as an application would.
fn lookups(server: &TestServer, times: i32) {
    let mut client = server.client(DB).unwrap();
    for i in 0..times {
        let code = format!("C{}", 1 + i * 97);
        client
            .query("SELECT id, qty FROM stock_quant WHERE code = $1", &[&code])
            .unwrap();
    }
    server.flush_stats(&mut client).unwrap();
}

fn wait(server: &TestServer, predicate: &str) {
    server
        .wait_for(DB, predicate, Duration::from_secs(30))
        .unwrap();
}

#[test]
fn planted_changes_are_reported_and_untouched_objects_are_not() {
    // The newest version available: the collector is tested on every one elsewhere.
    let Some(&major) = test_majors().iter().max() else {
        return;
    };
    let Some(server) = require_server(major) else {
        return;
    };
    server.create_database(DB).unwrap();
    server
        .execute(
            DB,
            "CREATE TABLE res_country (id int PRIMARY KEY, name text NOT NULL);
             INSERT INTO res_country SELECT g, 'country ' || g FROM generate_series(1, 5000) g;
             CREATE TABLE sale_order (id serial PRIMARY KEY, name text NOT NULL, amount numeric NOT NULL);
             INSERT INTO sale_order (name, amount) SELECT 'SO' || g, g % 100 FROM generate_series(1, 1000) g;
             CREATE TABLE mail_message (id int PRIMARY KEY, body text NOT NULL, state int NOT NULL)
               WITH (autovacuum_enabled = false);
             INSERT INTO mail_message SELECT g, md5(g::text), 0 FROM generate_series(1, 20000) g;
             CREATE TABLE stock_quant (id serial PRIMARY KEY, code text NOT NULL, qty numeric NOT NULL);
             INSERT INTO stock_quant (code, qty) SELECT 'C' || g, g % 17 FROM generate_series(1, 200000) g;
             CREATE INDEX stock_quant_code ON stock_quant (code);
             CREATE TABLE account_move (id int PRIMARY KEY, ref text NOT NULL, amount numeric NOT NULL)
               WITH (autovacuum_enabled = false);
             INSERT INTO account_move SELECT g, md5(g::text) || md5((g * 3)::text), g % 1000 FROM generate_series(1, 30000) g;",
        )
        .unwrap();
    server
        .execute(
            DB,
            "VACUUM ANALYZE res_country, sale_order, mail_message, stock_quant, account_move",
        )
        .unwrap();
    lookups(&server, 60);
    wait(
        &server,
        "SELECT coalesce(sum(calls), 0) >= 60 FROM pg_stat_statements WHERE query LIKE '%FROM stock_quant WHERE code%'",
    );
    let before = snapshot(&server);

    // The planted changes.
    let shared_buffers = server
        .query_scalar_i64(
            DB,
            "SELECT setting::bigint FROM pg_settings WHERE name = 'shared_buffers'",
        )
        .unwrap();
    // ALTER SYSTEM runs outside a transaction block: one statement at a time.
    for sql in [
        "ALTER SYSTEM SET work_mem = '24MB'".to_owned(),
        format!(
            "ALTER SYSTEM SET shared_buffers = {}",
            shared_buffers + 1024
        ),
        "SELECT pg_reload_conf()".to_owned(),
    ] {
        server.execute(DB, &sql).unwrap();
    }
    server
        .execute(
            DB,
            "INSERT INTO sale_order (name, amount) SELECT 'SO' || g, g % 100 FROM generate_series(1001, 120000) g;
             UPDATE mail_message SET state = 1;
             CREATE TABLE stock_lot (id serial PRIMARY KEY, name text NOT NULL);
             INSERT INTO stock_lot (name) SELECT 'LOT' || g FROM generate_series(1, 2000) g;
             CREATE TABLE stock_move_lot (id serial PRIMARY KEY, lot_id int NOT NULL REFERENCES stock_lot, qty numeric NOT NULL);
             INSERT INTO stock_move_lot (lot_id, qty) SELECT 1 + g % 2000, g % 17 FROM generate_series(1, 120000) g;
             ANALYZE stock_lot, stock_move_lot, sale_order;
             DO $$ BEGIN FOR i IN 1..300 LOOP EXECUTE format('SELECT sum(qty) FROM stock_move_lot WHERE lot_id = %s', i); END LOOP; END $$;
             DROP INDEX stock_quant_code;",
        )
        .unwrap();
    // Bloat: every row of account_move rewritten twice, then vacuumed: the heap keeps its
    // pages, a third of them full.
    server
        .execute(DB, "UPDATE account_move SET amount = amount + 1")
        .unwrap();
    server
        .execute(DB, "UPDATE account_move SET amount = amount + 1")
        .unwrap();
    server.execute(DB, "VACUUM ANALYZE account_move").unwrap();
    lookups(&server, 30);
    wait(
        &server,
        "SELECT pending_restart FROM pg_settings WHERE name = 'shared_buffers'",
    );
    wait(
        &server,
        "SELECT coalesce((SELECT seq_scan >= 300 FROM pg_stat_user_tables WHERE relname = 'stock_move_lot'), false)
         AND (SELECT n_dead_tup >= 20000 FROM pg_stat_user_tables WHERE relname = 'mail_message')
         AND (SELECT sum(calls) >= 90 FROM pg_stat_statements WHERE query LIKE '%FROM stock_quant WHERE code%')",
    );
    let after = snapshot(&server);
    let d = diff(&before, &after);
    let json = d.to_json();

    // Settings: the reloaded one with its new value, the other waiting for a restart,
    // and no other.
    let names: Vec<&str> = d.settings.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["shared_buffers", "work_mem"], "{json}");
    let work_mem = &d.settings[1];
    assert_eq!(work_mem.new.as_deref(), Some("24MB"));
    assert!(!work_mem.pending_restart);
    assert!(d.settings[0].pending_restart);

    let erp = d.databases.iter().find(|c| c.database == DB).expect(&json);
    let names = |list: &[pgsage::diff::objects::SizeChange]| -> Vec<String> {
        list.iter().map(|s| s.name.clone()).collect()
    };
    assert!(
        names(&erp.tables_grown).contains(&"public.sale_order".to_owned()),
        "{json}"
    );
    let dead: Vec<&str> = erp.dead_rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(dead, ["public.mail_message"], "{json}");
    assert_eq!(erp.indexes_dropped, ["public.stock_quant_code"]);
    let bloat: Vec<(&str, &str)> = erp
        .bloat
        .iter()
        .map(|b| (b.kind.as_str(), b.name.as_str()))
        .collect();
    assert!(bloat.contains(&("table", "public.account_move")), "{json}");
    assert!(
        erp.bloat
            .iter()
            .all(|b| b.new_wasted_bytes > b.old_wasted_bytes),
        "only bloat was planted: {json}"
    );
    assert!(erp
        .tables_added
        .contains(&"public.stock_move_lot".to_owned()));
    // The untouched table appears nowhere.
    assert!(!json.contains("res_country"), "{json}");

    assert!(
        d.findings
            .new
            .iter()
            .any(|c| c.key.rule == "IDX009" && c.key.name == "stock_move_lot"),
        "{json}"
    );
    let slowed: Vec<_> = d
        .statements
        .iter()
        .filter(|s| {
            s.query
                .as_deref()
                .is_some_and(|q| q.contains("stock_quant"))
        })
        .collect();
    assert_eq!(slowed.len(), 1, "{json}");
    assert_eq!(
        (slowed[0].basis, slowed[0].new_calls),
        (Basis::Interval, 30)
    );
    assert!(d.resets.is_empty(), "nothing was reset: {json}");
    // The activity in between: the inserts and updates planted, and their WAL.
    let activity = d.activity.as_ref().expect(&json);
    assert!(activity.wal_bytes.is_some_and(|b| b > 0), "{json}");
    let erp_activity = activity
        .databases
        .iter()
        .find(|a| a.database == DB)
        .expect(&json);
    assert!(
        erp_activity
            .rows_written
            .is_some_and(|w| w >= 119_000 + 20_000 + 2_000 + 120_000),
        "{json}"
    );

    // Resets in between: said, and no negative figure.
    server
        .execute(
            DB,
            "SELECT pg_stat_statements_reset(); SELECT pg_stat_reset();",
        )
        .unwrap();
    lookups(&server, 20);
    wait(
        &server,
        "SELECT coalesce(sum(calls), 0) >= 20 FROM pg_stat_statements WHERE query LIKE '%FROM stock_quant WHERE code%'",
    );
    let reset = snapshot(&server);
    let d = diff(&after, &reset);
    let json = d.to_json();
    // The dead rows pg_stat_reset() zeroed are not a resolved problem.
    let dead_rows_gone = d
        .findings
        .resolved
        .iter()
        .find(|c| c.key.rule == "VAC001" && c.key.name == "mail_message")
        .expect(&json);
    assert!(dead_rows_gone.after_reset, "{json}");
    let mut text = Vec::new();
    pgsage::diff::render::render(&d, pgsage::diff::render::Format::Text, &mut text).unwrap();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("Counters reset in between (2)"), "{text}");
    let scopes: Vec<ResetScope> = d.resets.iter().map(|r| r.scope).collect();
    assert!(scopes.contains(&ResetScope::Statements), "{json}");
    assert!(
        d.resets
            .iter()
            .any(|r| r.scope == ResetScope::Database && r.database.as_deref() == Some(DB)),
        "{json}"
    );
    for s in &d.statements {
        assert_eq!(s.basis, Basis::SinceReset, "{json}");
        assert!(s.new_calls > 0 && s.extra_time_ms > 0.0, "{json}");
    }
    // The database's activity is not a difference across its reset.
    let erp_activity = d
        .activity
        .as_ref()
        .and_then(|a| a.databases.iter().find(|a| a.database == DB))
        .expect(&json);
    assert!(
        erp_activity.reset && erp_activity.commits.is_none(),
        "{json}"
    );
    // pg_stat_reset() zeroed the dead rows: a reset, not a vacuum.
    assert!(
        d.databases
            .iter()
            .filter(|c| c.database == DB)
            .all(|c| c.dead_rows.is_empty()),
        "{json}"
    );
}
