//! A large database (5,000 relations or more) is read over three connections at once:
//! the first exports its snapshot, the two others import it and read the column
//! statistics, and the indexes and sequences, while the first reads the rest. On a real
//! server:
//!
//! - the collection opens three connections and gives exactly what one connection gives
//!   (the same tables, indexes, columns, constraints and sequences);
//! - when the second connection cannot be opened (the role's connection limit), one
//!   connection reads everything and nothing is lost;
//! - a small database is read over one connection.

use pgsage::collect::collect_from_client_with_stats;
use pgsage::connect::Target;
use pgsage::snapshot::Snapshot;
use pgsage::{collect_snapshot_with_stats, CollectOptions, ConnectOptions};
use pgsage_testkit::{require_server, test_majors, TestServer};

/// Tables of the large database: each is a heap, a TOAST table, its index and a primary
/// key index, so 1,300 tables are more than 5,000 relations with the catalogs.
const TABLES: usize = 1300;

fn majors() -> Vec<u32> {
    let all = test_majors();
    let mut m: Vec<u32> = all.first().into_iter().chain(all.last()).copied().collect();
    m.dedup();
    m
}

fn build(server: &TestServer) {
    server.create_database("large").expect("large");
    server.create_database("small").expect("small");
    for chunk in (0..TABLES).collect::<Vec<_>>().chunks(100) {
        let sql: String = chunk
            .iter()
            .map(|i| {
                format!(
                    "CREATE TABLE t{i} (id int PRIMARY KEY, note text);
                     INSERT INTO t{i} SELECT g, 'n' || g FROM generate_series(1, 3) g;\n"
                )
            })
            .collect();
        server.execute("large", &sql).expect("tables");
    }
    server.execute("large", "ANALYZE").expect("analyze");
    server
        .execute("small", "CREATE TABLE s (id int PRIMARY KEY); ANALYZE s")
        .expect("small");
    server
        .execute(
            "postgres",
            "CREATE ROLE monitor LOGIN PASSWORD 'monitor' IN ROLE pg_monitor;
             CREATE ROLE lonely LOGIN PASSWORD 'lonely' CONNECTION LIMIT 1 IN ROLE pg_monitor;",
        )
        .expect("roles");
}

fn options() -> CollectOptions {
    CollectOptions {
        probe_local_host: false,
        ..CollectOptions::default()
    }
}

/// What one connection reads, for comparison.
fn one_connection(server: &TestServer, user: &str, db: &str) -> Snapshot {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (client, connection) =
            tokio_postgres::connect(&server.dsn_as(user, user, db), tokio_postgres::NoTls)
                .await
                .expect("connect");
        tokio::spawn(connection);
        let target = Target {
            host: server.host().to_owned(),
            port: server.port(),
            database: db.to_owned(),
            user: user.to_owned(),
        };
        let (snap, stats) = collect_from_client_with_stats(&client, &target, &options())
            .await
            .expect("collect");
        assert_eq!(stats.connections, 0, "a given client: no other connection");
        snap
    })
}

fn assert_same_objects(a: &Snapshot, b: &Snapshot, what: &str) {
    // Statistics counters move between two collections (the collections themselves
    // scan); the catalog facts do not.
    let names = |s: &Snapshot| {
        let mut t: Vec<(String, i64, i64)> = s
            .tables
            .iter()
            .map(|t| (t.name.clone(), t.heap_bytes, t.indexes_bytes))
            .collect();
        t.sort();
        t
    };
    assert_eq!(names(a), names(b), "{what}: tables");
    let indexes = |s: &Snapshot| {
        let mut i: Vec<(String, String, i64)> = s
            .indexes
            .iter()
            .map(|i| (i.name.clone(), i.definition.clone(), i.size_bytes))
            .collect();
        i.sort();
        i
    };
    assert_eq!(indexes(a), indexes(b), "{what}: indexes");
    assert_eq!(a.columns, b.columns, "{what}: columns");
    assert_eq!(a.constraints, b.constraints, "{what}: constraints");
    assert_eq!(a.sequences.len(), b.sequences.len(), "{what}: sequences");
    // The gaps' texts name the role; which gaps there are must not differ.
    let gaps = |s: &Snapshot| s.gaps.iter().map(|g| g.what.clone()).collect::<Vec<_>>();
    assert_eq!(gaps(a), gaps(b), "{what}: gaps");
}

#[test]
fn a_large_database_is_read_over_three_connections() {
    for major in majors() {
        let Some(server) = require_server(major) else {
            continue;
        };
        build(&server);
        let (two, stats) = collect_snapshot_with_stats(
            &ConnectOptions::new(server.dsn_as("monitor", "monitor", "large")),
            &options(),
        )
        .expect("collect");
        assert_eq!(stats.connections, 3, "PG{major}: {stats:?}");
        assert_eq!(two.tables.len(), TABLES);
        assert_eq!(two.indexes.len(), TABLES);
        assert!(two.columns.len() >= 2 * TABLES);
        assert_same_objects(
            &two,
            &one_connection(&server, "monitor", "large"),
            &format!("PG{major} three connections vs one"),
        );

        // The role may open one connection only: the others are refused, one reads all.
        let (alone, stats) = collect_snapshot_with_stats(
            &ConnectOptions::new(server.dsn_as("lonely", "lonely", "large")),
            &options(),
        )
        .expect("collect");
        assert_eq!(stats.connections, 1, "PG{major}: {stats:?}");
        assert_same_objects(&alone, &two, &format!("PG{major} refused helper"));

        let (_, stats) = collect_snapshot_with_stats(
            &ConnectOptions::new(server.dsn_as("monitor", "monitor", "small")),
            &options(),
        )
        .expect("collect");
        assert_eq!(
            stats.connections, 1,
            "PG{major}: a small database: {stats:?}"
        );
        assert_eq!(stats.round_trips, 3);
    }
}
