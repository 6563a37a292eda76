//! The live collector against real servers, one test per major version (they run in
//! parallel). Each test starts one server and checks, on that server:
//!
//! - a superuser snapshot: every section the version has, object details (index keys,
//!   predicates, INCLUDE columns, FKs, sequences, partitions, matviews), replication
//!   slot, prepared transaction, role settings, and `gaps` == exactly what it lacks;
//! - a database without `pg_stat_statements`: one more gap, nothing else;
//! - a lock wait and an exclusively locked table: the wait pair, a truncated query
//!   text, and collection that does not queue behind the lock;
//! - a `pg_monitor`-only role (sees other roles' texts) and a role without it (gaps,
//!   no error);
//! - round trips: identical for 5 and 200 tables (our counter and pg_stat_statements);
//! - interval sampling: a baseline, a window of about the interval, and table deltas.

// A test's failure is a panic; unwrap says so without ceremony.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use pgsage::collect::{collect_from_client_with_stats, CollectStats};
use pgsage::connect::Target;
use pgsage::snapshot::{Index, Snapshot, Table};
use pgsage::{collect_snapshot_with, CollectOptions, ConnectOptions};
use pgsage_testkit::{require_server_with, ServerOptions, TestServer};

macro_rules! per_version {
    ($($name:ident => $major:expr),* $(,)?) => {
        $( #[test] fn $name() { collector_on($major) } )*
    };
}

per_version!(pg13 => 13, pg14 => 14, pg15 => 15, pg16 => 16, pg17 => 17, pg18 => 18);

const SCHEMA: &str = "
CREATE TABLE customers (
    id bigserial PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_lower_email_idx ON customers (lower(email));
CREATE INDEX customers_named_created_idx ON customers (created_at) WHERE name IS NOT NULL;
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    total numeric,
    note text
);
CREATE INDEX orders_customer_idx ON orders (customer_id) INCLUDE (total);
CREATE TABLE events (at timestamptz, payload text) WITH (fillfactor = 70, autovacuum_enabled = false);
CREATE INDEX events_at_idx ON events (at);
CREATE TABLE audit_log (msg text);
CREATE SEQUENCE invoice_no AS integer;
CREATE TABLE measurements (id int, at date) PARTITION BY RANGE (at);
CREATE TABLE measurements_2024 PARTITION OF measurements FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
INSERT INTO customers (email, name) SELECT 'c' || g || '@example.com', 'n' || g FROM generate_series(1, 100) g;
INSERT INTO orders (customer_id, total) SELECT 1 + g % 100, g FROM generate_series(1, 500) g;
INSERT INTO events SELECT now(), 'e' || g FROM generate_series(1, 50) g;
INSERT INTO measurements VALUES (1, '2024-05-01');
CREATE MATERIALIZED VIEW order_totals AS SELECT customer_id, sum(total) AS total FROM orders GROUP BY 1;
SELECT nextval('invoice_no');
SELECT count(*) FROM orders WHERE customer_id = 5;
SELECT c.email, sum(o.total) FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY 1;
ANALYZE;
SET enable_seqscan = off;
SELECT count(*) FROM orders WHERE customer_id = 5;
RESET enable_seqscan;
ALTER ROLE postgres SET work_mem = '8MB';
";

fn collector_on(major: u32) {
    let Some(server) =
        require_server_with(ServerOptions::new(major).conf("max_prepared_transactions = 4"))
    else {
        return;
    };
    let started = Instant::now();
    server.create_database("app").unwrap();
    server.execute("app", SCHEMA).unwrap();
    server
        .execute(
            "app",
            "ALTER ROLE postgres IN DATABASE app SET statement_timeout = '5s'",
        )
        .unwrap();
    server
        .execute(
            "app",
            "SELECT pg_create_physical_replication_slot('pgsage_slot', true)",
        )
        .unwrap();
    server
        .execute(
            "app",
            "BEGIN; INSERT INTO audit_log VALUES ('prepared'); PREPARE TRANSACTION 'pgsage_gid'",
        )
        .unwrap();
    server
        .create_role("monitor", "pw", &["pg_monitor"])
        .unwrap();
    server.create_role("plain", "pw", &[]).unwrap();
    // Statistics reach other sessions asynchronously (before 15 through the collector).
    server
        .wait_for(
            "app",
            "SELECT coalesce((SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'orders'), 0) >= 500",
            Duration::from_secs(20),
        )
        .unwrap();
    let expected = version_gaps(major);

    full_snapshot(&server, major, &expected);
    without_pg_stat_statements(&server, major);
    lock_waits_and_locked_tables(&server, &expected);
    monitor_and_plain_roles(&server, &expected);
    round_trips_do_not_grow(&server);
    interval_sampling(&server);
    eprintln!(
        "PostgreSQL {major}: collector tests took {:?}",
        started.elapsed()
    );
}

/// What each version lacks, as gap names.
fn version_gaps(major: u32) -> BTreeSet<String> {
    let mut gaps = BTreeSet::new();
    if major < 14 {
        gaps.insert("pg_stat_wal".to_owned());
        gaps.insert("pg_stat_statements_info".to_owned());
    }
    if major < 16 {
        gaps.insert("pg_stat_io".to_owned());
    }
    gaps
}

fn with(base: &BTreeSet<String>, more: &[&str]) -> BTreeSet<String> {
    let mut s = base.clone();
    s.extend(more.iter().map(|m| (*m).to_owned()));
    s
}

fn gap_names(s: &Snapshot) -> BTreeSet<String> {
    s.gaps.iter().map(|g| g.what.clone()).collect()
}

fn assert_gaps(s: &Snapshot, expected: &BTreeSet<String>, context: &str) {
    assert_eq!(
        &gap_names(s),
        expected,
        "{context}: gaps were {:#?}",
        s.gaps
    );
}

fn collect(server: &TestServer, dsn: String, opts: &CollectOptions) -> Snapshot {
    let connect = ConnectOptions {
        application_name: "pgsage-test".into(),
        ..ConnectOptions::new(dsn)
    };
    collect_snapshot_with(&connect, opts)
        .unwrap_or_else(|e| panic!("PostgreSQL {}: collection failed: {e}", server.major()))
}

fn table<'a>(s: &'a Snapshot, name: &str) -> &'a Table {
    s.tables
        .iter()
        .find(|t| t.schema == "public" && t.name == name)
        .unwrap_or_else(|| panic!("table {name} missing"))
}

fn index<'a>(s: &'a Snapshot, name: &str) -> &'a Index {
    s.indexes
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("index {name} missing"))
}

fn full_snapshot(server: &TestServer, major: u32, expected: &BTreeSet<String>) {
    let s = collect(server, server.dsn("app"), &CollectOptions::default());
    let m = i32::try_from(major).unwrap();
    assert_gaps(&s, expected, "superuser");

    // Server facts.
    assert_eq!(s.server.major(), m);
    assert!(s.server.version.starts_with(&major.to_string()));
    assert!(!s.server.version.contains(' '), "{}", s.server.version);
    assert_eq!(s.server.database, "app");
    assert_eq!(s.server.user, "postgres");
    assert_eq!(s.server.host.as_deref(), Some("127.0.0.1"));
    assert_eq!(s.server.port, Some(server.port()));
    assert!(s.server.is_superuser && s.server.can_read_all_stats && !s.server.in_recovery);
    assert!(s.collected_at > s.server.started_at);
    assert!(s.baseline.is_none());

    // Settings and databases.
    let sb = s.setting("shared_buffers").expect("shared_buffers");
    assert_eq!(sb.unit.as_deref(), Some("8kB"));
    assert_eq!(s.setting("max_prepared_transactions").unwrap().setting, "4");
    let app = s.current_database().expect("app in databases");
    assert!(app.size_bytes.unwrap() > 0);
    assert!(app.xact_commit > 0 && app.numbackends >= 1);
    assert_eq!(app.sessions.is_some(), major >= 14);
    let template0 = s.databases.iter().find(|d| d.name == "template0").unwrap();
    assert!(!template0.allow_connections && template0.is_template);

    // Activity includes our own backend.
    assert!(
        s.activity
            .iter()
            .any(|b| b.application_name.as_deref() == Some("pgsage-test")
                && b.state.as_deref() == Some("active")
                && b.database.as_deref() == Some("app")
                && b.backend_type == "client backend"
                && b.backend_xmin_age.is_some()
                && b.query.is_none()),
        "own backend missing: {:#?}",
        s.activity
    );
    assert!(s.lock_waits.is_empty());

    // Cluster statistics.
    let cp = s.checkpointer.as_ref().expect("checkpointer");
    assert!(cp.buffers_alloc > 0);
    assert_eq!(cp.buffers_backend.is_some(), major < 17);
    assert_eq!(s.wal.is_some(), major >= 14);
    if let Some(wal) = &s.wal {
        assert!(wal.wal_bytes > 0 && wal.wal_records > 0);
    }
    assert!(s.archiver.is_some());
    assert_eq!(!s.io.is_empty(), major >= 16);
    if major >= 16 {
        assert!(s
            .io
            .iter()
            .any(|r| r.backend_type == "client backend" && r.object == "relation"));
    }

    // Replication, prepared transactions, roles.
    assert!(s.replication.is_empty());
    let slot = s
        .replication_slots
        .iter()
        .find(|x| x.slot_name == "pgsage_slot")
        .unwrap();
    assert_eq!(slot.slot_type, "physical");
    assert!(!slot.active && slot.retained_wal_bytes.unwrap() >= 0);
    let px = s
        .prepared_xacts
        .iter()
        .find(|p| p.gid == "pgsage_gid")
        .unwrap();
    assert_eq!(
        (px.database.as_str(), px.owner.as_str()),
        ("app", "postgres")
    );
    assert!(px.xid_age.unwrap() >= 0);
    let postgres = s.roles.iter().find(|r| r.name == "postgres").unwrap();
    assert!(postgres.is_superuser);
    assert_eq!(postgres.settings, ["work_mem=8MB", "statement_timeout=5s"]);
    assert!(s
        .roles
        .iter()
        .any(|r| r.name == "monitor" && !r.is_superuser));

    // Tables.
    let customers = table(&s, "customers");
    assert!(customers.has_primary_key && customers.kind == "r" && customers.persistence == "p");
    assert!(customers.n_tup_ins >= 100 && customers.heap_bytes > 0 && customers.indexes_bytes > 0);
    assert_eq!(customers.reltuples, 100.0);
    assert!(customers.frozenxid_age > 0 && customers.toast_frozenxid_age.is_some());
    let customer_index_bytes: i64 = s
        .indexes
        .iter()
        .filter(|i| i.table_oid == customers.oid)
        .map(|i| i.size_bytes)
        .sum();
    assert_eq!(customers.indexes_bytes, customer_index_bytes);
    let events = table(&s, "events");
    assert!(!events.has_primary_key);
    assert_eq!(events.reloption("fillfactor"), Some("70"));
    assert_eq!(events.reloption("autovacuum_enabled"), Some("false"));
    let orders = table(&s, "orders");
    assert!(orders.seq_scan + orders.idx_scan.unwrap_or(0) > 0);
    assert_eq!(
        orders.last_seq_scan.is_some() || orders.last_idx_scan.is_some(),
        major >= 16
    );
    let parent = table(&s, "measurements");
    assert_eq!(
        (
            parent.kind.as_str(),
            parent.heap_bytes,
            parent.frozenxid_age
        ),
        ("p", 0, 0)
    );
    assert!(table(&s, "measurements_2024").is_partition);
    assert_eq!(table(&s, "order_totals").kind, "m");
    assert!(
        s.tables.iter().all(|t| t.schema == "public"),
        "catalog tables leaked"
    );

    // Indexes.
    let pkey = index(&s, "customers_pkey");
    assert!(pkey.is_primary && pkey.is_unique && pkey.is_valid);
    assert_eq!(pkey.constraint_type.as_deref(), Some("p"));
    assert_eq!(
        (pkey.key_columns.clone(), pkey.key_attnums.clone()),
        (vec!["id".to_owned()], vec![1])
    );
    assert_eq!(pkey.opclasses, ["int8_ops"]);
    assert_eq!(pkey.access_method, "btree");
    assert!(pkey.size_bytes > 0 && pkey.definition.starts_with("CREATE UNIQUE INDEX"));
    let email = index(&s, "customers_email_key");
    assert_eq!(email.constraint_type.as_deref(), Some("u"));
    assert_eq!(
        email.constraint_name.as_deref(),
        Some("customers_email_key")
    );
    let lower = index(&s, "customers_lower_email_idx");
    assert_eq!(
        (lower.key_columns.clone(), lower.key_attnums.clone()),
        (vec!["lower(email)".to_owned()], vec![0])
    );
    assert!(lower.constraint_name.is_none() && !lower.is_unique);
    let partial = index(&s, "customers_named_created_idx");
    assert_eq!(partial.key_columns, ["created_at"]);
    assert_eq!(partial.predicate.as_deref(), Some("name IS NOT NULL"));
    let covering = index(&s, "orders_customer_idx");
    assert_eq!(covering.key_columns, ["customer_id"]);
    assert_eq!(covering.include_columns, ["total"]);
    assert_eq!(covering.opclasses.len(), 1);
    assert!(
        covering.idx_scan >= 1,
        "orders_customer_idx was used: {covering:?}"
    );
    assert_eq!(covering.table, "orders");

    // Foreign keys and sequences.
    let fk = s
        .foreign_keys
        .iter()
        .find(|f| f.name == "orders_customer_id_fkey")
        .unwrap();
    assert_eq!(
        (fk.table.as_str(), fk.ref_table.as_str()),
        ("orders", "customers")
    );
    assert_eq!(
        (fk.columns.clone(), fk.attnums.clone()),
        (vec!["customer_id".to_owned()], vec![2])
    );
    assert_eq!(fk.ref_columns, ["id"]);
    assert_eq!((fk.on_delete.as_str(), fk.is_valid), ("a", true));
    let seq = |name: &str| s.sequences.iter().find(|q| q.name == name).unwrap();
    let serial = seq("customers_id_seq");
    assert_eq!(
        (serial.data_type.as_str(), serial.last_value),
        ("bigint", Some(100))
    );
    assert_eq!(serial.owned_by.as_deref(), Some("customers.id"));
    assert_eq!(serial.owned_by_type.as_deref(), Some("bigint"));
    assert_eq!(seq("orders_id_seq").owned_by.as_deref(), Some("orders.id"));
    let invoice = seq("invoice_no");
    assert_eq!(
        (
            invoice.data_type.as_str(),
            invoice.max_value,
            invoice.last_value
        ),
        ("integer", 2_147_483_647, Some(1))
    );
    assert!(invoice.owned_by.is_none());

    // Extensions and statements.
    assert!(s.has_extension("pg_stat_statements"));
    let st = s.statements.as_ref().expect("statements");
    assert!(!st.extension_version.is_empty());
    assert!(st.totals.calls > 0 && st.totals.entries >= st.top.len() as i64 && !st.top.is_empty());
    assert!(st.totals.total_exec_time_ms > 0.0);
    assert_eq!(st.dealloc.is_some(), major >= 14);
    assert!(st
        .top
        .iter()
        .any(|q| q.query.as_deref().is_some_and(|t| t.contains("orders"))
            && q.user.as_deref() == Some("postgres")
            && q.calls >= 1));
    assert_eq!(st.top.iter().any(|q| q.jit_time_ms.is_some()), major >= 15);
    assert_eq!(st.top.iter().all(|q| q.toplevel.is_some()), major >= 14);
    // Sorted by total execution time.
    assert!(st
        .top
        .windows(2)
        .all(|w| w[0].total_exec_time_ms >= w[1].total_exec_time_ms));

    // The file format round-trips exactly.
    let json = s.to_json();
    let again = Snapshot::from_json(&json).unwrap().to_json();
    if let Some((a, b)) = json.lines().zip(again.lines()).find(|(a, b)| a != b) {
        panic!("JSON round trip changed `{a}` into `{b}`");
    }
    assert_eq!(Snapshot::from_json(&json).unwrap(), s);

    // Top N is honoured and totals stay over all entries.
    let few = collect(
        server,
        server.dsn("app"),
        &CollectOptions {
            statements_top_n: 2,
            ..Default::default()
        },
    );
    let few_st = few.statements.unwrap();
    assert_eq!(few_st.top.len(), 2);
    assert!(few_st.totals.entries > 2);
}

fn without_pg_stat_statements(server: &TestServer, major: u32) {
    server.create_database_without_extensions("bare").unwrap();
    let s = collect(server, server.dsn("bare"), &CollectOptions::default());
    let mut expected = version_gaps(major);
    // No extension: its `_info` view is not looked for either.
    expected.remove("pg_stat_statements_info");
    expected.insert("pg_stat_statements".into());
    assert_gaps(&s, &expected, "database without pg_stat_statements");
    assert_eq!(
        s.gap("pg_stat_statements").unwrap().why,
        "extension not installed in database bare"
    );
    assert!(s.statements.is_none() && s.tables.is_empty() && !s.settings.is_empty());
}

fn lock_waits_and_locked_tables(server: &TestServer, expected: &BTreeSet<String>) {
    let mut holder = server.client("app").unwrap();
    let holder_pid: i32 = holder
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    holder
        .batch_execute("BEGIN; LOCK TABLE events IN ACCESS EXCLUSIVE MODE")
        .unwrap();
    let mut waiter = server.client("app").unwrap();
    let waiter_pid: i32 = waiter
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    let (done_tx, done_rx) = mpsc::channel();
    let waiting = std::thread::spawn(move || {
        let r =
            waiter.batch_execute("SELECT count(*) FROM events /* a long comment that gets cut */");
        done_tx.send(()).ok();
        r.unwrap();
    });
    server
        .wait_for(
            "app",
            &format!(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE pid = {waiter_pid} AND NOT granted)"
            ),
            Duration::from_secs(10),
        )
        .unwrap();

    let t0 = Instant::now();
    let s = collect(
        server,
        server.dsn("app"),
        &CollectOptions {
            include_query_text: true,
            query_text_max: 25,
            ..Default::default()
        },
    );
    let took = t0.elapsed();
    holder.batch_execute("COMMIT").unwrap();
    done_rx.recv_timeout(Duration::from_secs(10)).unwrap();
    waiting.join().unwrap();

    assert_gaps(
        &s,
        &with(expected, &["locked relations"]),
        "with a locked table",
    );
    assert!(s
        .gap("locked relations")
        .unwrap()
        .why
        .contains("public.events"));
    // The collector did not queue behind the lock (lock_timeout is 1 s).
    assert!(
        took < Duration::from_millis(900),
        "collection took {took:?}"
    );
    let wait = s
        .lock_waits
        .iter()
        .find(|w| w.blocked_pid == waiter_pid)
        .unwrap_or_else(|| panic!("no lock wait for {waiter_pid}: {:?}", s.lock_waits));
    assert_eq!(wait.blocking_pid, holder_pid);
    assert_eq!(wait.locktype.as_deref(), Some("relation"));
    assert_eq!(wait.mode.as_deref(), Some("AccessShareLock"));
    assert_eq!(wait.relation.as_deref(), Some("public.events"));
    let blocked = s.activity.iter().find(|b| b.pid == waiter_pid).unwrap();
    assert_eq!(blocked.wait_event_type.as_deref(), Some("Lock"));
    // Truncated to query_text_max characters.
    assert_eq!(blocked.query.as_deref(), Some("SELECT count(*) FROM even"));
    // The locked table is still listed, sized from relpages; its index is left out.
    let events = table(&s, "events");
    assert_eq!(events.heap_bytes, events.relpages * 8192);
    assert!(!s.indexes.iter().any(|i| i.table == "events"));
    assert!(s.indexes.iter().any(|i| i.name == "customers_pkey"));
}

fn monitor_and_plain_roles(server: &TestServer, expected: &BTreeSet<String>) {
    // An idle superuser session whose last query only privileged roles may read.
    let mut marker = server.client("app").unwrap();
    let marker_pid: i32 = marker
        .query_one("SELECT pg_backend_pid()", &[])
        .unwrap()
        .get(0);
    marker.batch_execute("SELECT 'pgsage-marker'").unwrap();
    let opts = CollectOptions {
        include_query_text: true,
        ..Default::default()
    };
    let marker_text = |s: &Snapshot| {
        let b = s
            .activity
            .iter()
            .find(|b| b.pid == marker_pid)
            .expect("marker session listed");
        b.query.clone()
    };

    let m = collect(server, server.dsn_as("monitor", "pw", "app"), &opts);
    // pg_monitor reads everything except sequences it has no privilege on.
    assert_gaps(
        &m,
        &with(expected, &["sequence last values"]),
        "pg_monitor role",
    );
    assert!(!m.server.is_superuser && m.server.can_read_all_stats);
    assert_eq!(marker_text(&m).as_deref(), Some("SELECT 'pgsage-marker'"));
    let st = m.statements.as_ref().unwrap();
    assert!(st.top.iter().any(|q| q.user.as_deref() == Some("postgres")
        && q.query.as_deref().is_some_and(|t| t.contains("customers"))));
    assert!(m.settings.iter().any(|x| x.name == "data_directory"));
    assert!(m.current_database().unwrap().size_bytes.is_some());
    assert!(!m.tables.is_empty() && !m.indexes.is_empty());

    let p = collect(server, server.dsn_as("plain", "pw", "app"), &opts);
    assert_gaps(
        &p,
        &with(
            expected,
            &[
                "pg_read_all_stats",
                "pg_read_all_settings",
                "sequence last values",
            ],
        ),
        "role without pg_monitor",
    );
    assert!(!p.server.can_read_all_stats);
    assert_eq!(marker_text(&p), None, "other roles' query texts are hidden");
    // Other roles' sessions: listed, but without type, state or text.
    let hidden: Vec<_> = p
        .activity
        .iter()
        .filter(|b| b.user.as_deref() == Some("postgres"))
        .collect();
    assert!(!hidden.is_empty());
    assert!(hidden
        .iter()
        .all(|b| b.query.is_none() && b.state.is_none() && b.backend_type.is_empty()));
    let st = p.statements.as_ref().unwrap();
    assert!(st.totals.calls > 0);
    assert!(st
        .top
        .iter()
        .filter(|q| q.user.as_deref() == Some("postgres"))
        .all(|q| q.query.is_none() && q.queryid == 0));
    assert!(!p.settings.iter().any(|x| x.name == "data_directory"));
    assert!(p.sequences.iter().all(|q| q.last_value.is_none()));
    assert!(!p.tables.is_empty());
    drop(marker);

    // Sections that fail on the server (here: privileges revoked) become gaps; the
    // sections after them in the same pipeline are unaffected.
    server
        .execute(
            "app",
            "REVOKE SELECT ON pg_stat_statements FROM PUBLIC;
             REVOKE SELECT ON pg_catalog.pg_stat_archiver FROM PUBLIC;",
        )
        .unwrap();
    let f = collect(server, server.dsn_as("plain", "pw", "app"), &opts);
    assert_gaps(
        &f,
        &with(
            expected,
            &[
                "pg_read_all_stats",
                "pg_read_all_settings",
                "sequence last values",
                "pg_stat_statements",
                "pg_stat_archiver",
            ],
        ),
        "sections failing for privileges",
    );
    assert!(f
        .gap("pg_stat_archiver")
        .unwrap()
        .why
        .contains("permission denied"));
    assert!(f.statements.is_none() && f.archiver.is_none());
    assert_eq!(f.tables.len(), p.tables.len());
    assert_eq!(f.sequences.len(), p.sequences.len());
    assert!(!f.roles.is_empty() && !f.replication_slots.is_empty() && f.checkpointer.is_some());
}

/// Collects over a plain tokio-postgres client, as role `monitor`, and returns the cost.
fn collect_counted(server: &TestServer, db: &str) -> (Snapshot, CollectStats) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (client, connection) =
            tokio_postgres::connect(&server.dsn_as("monitor", "pw", db), tokio_postgres::NoTls)
                .await
                .unwrap();
        let driver = tokio::spawn(connection);
        let target = Target {
            host: server.host().to_owned(),
            port: server.port(),
            database: db.to_owned(),
            user: "monitor".to_owned(),
        };
        let out = collect_from_client_with_stats(&client, &target, &CollectOptions::default())
            .await
            .unwrap();
        drop(client);
        let _ = driver.await;
        out
    })
}

fn create_tables(server: &TestServer, db: &str, n: usize) {
    server.create_database(db).unwrap();
    let mut sql = String::new();
    for i in 0..n {
        sql.push_str(&format!(
            "CREATE TABLE t{i} (id int PRIMARY KEY, a int, b text); CREATE INDEX ON t{i} (a);\n"
        ));
    }
    server.execute(db, &sql).unwrap();
}

fn round_trips_do_not_grow(server: &TestServer) {
    create_tables(server, "five", 5);
    create_tables(server, "many", 200);
    let (few, few_cost) = collect_counted(server, "five");
    let (many, many_cost) = collect_counted(server, "many");
    assert_eq!((few.tables.len(), many.tables.len()), (5, 200));
    assert_eq!((few.indexes.len(), many.indexes.len()), (10, 400));
    assert_eq!(few_cost, many_cost);
    // BEGIN + facts, the pipelined sections, COMMIT.
    assert_eq!(few_cost.round_trips, 3, "{few_cost:?}");

    // The server's own count of what the monitor role ran in each database agrees.
    let calls = |db: &str| {
        server
            .query_scalar_i64(
                "app",
                &format!(
                    "SELECT coalesce(sum(s.calls), 0)::int8 FROM pg_stat_statements s
                     JOIN pg_database d ON d.oid = s.dbid JOIN pg_roles r ON r.oid = s.userid
                     WHERE d.datname = '{db}' AND r.rolname = 'monitor'"
                ),
            )
            .unwrap()
    };
    let (few_calls, many_calls) = (calls("five"), calls("many"));
    assert!(few_calls > 0);
    assert_eq!(few_calls, many_calls);
}

fn interval_sampling(server: &TestServer) {
    let interval = Duration::from_millis(1500);
    let dsn = server.dsn("app");
    let collecting = std::thread::spawn(move || {
        let connect = ConnectOptions {
            application_name: "pgsage-interval".into(),
            ..ConnectOptions::new(dsn)
        };
        collect_snapshot_with(
            &connect,
            &CollectOptions {
                interval: Some(interval),
                ..Default::default()
            },
        )
    });
    // Once the baseline is committed the collector sleeps, idle: write then.
    server
        .wait_for(
            "app",
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'pgsage-interval'
                            AND state = 'idle' AND query = 'COMMIT')",
            Duration::from_secs(10),
        )
        .unwrap();
    let mut writer = server.client("app").unwrap();
    writer
        .batch_execute("INSERT INTO events SELECT now(), 'late' FROM generate_series(1, 7)")
        .unwrap();
    server.flush_stats(&mut writer).unwrap();
    drop(writer);
    let s = collecting.join().unwrap().unwrap();

    let baseline = s.baseline.as_ref().expect("baseline");
    let window = s.window_seconds().unwrap();
    assert!((1.4..4.0).contains(&window), "window {window} s");
    let before = baseline.tables.iter().find(|t| t.name == "events").unwrap();
    let after = table(&s, "events");
    assert_eq!(after.n_tup_ins - before.n_tup_ins, 7);
    assert!(!baseline.databases.is_empty() && baseline.checkpointer.is_some());
    assert_eq!(baseline.indexes.len(), s.indexes.len());
    assert_eq!(baseline.wal.is_some(), s.wal.is_some());
    assert!(baseline.statements.is_some());
}
