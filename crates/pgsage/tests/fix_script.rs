//! The audit's fix script on a real server: a database with problems planted from the
//! scenarios (`testdata/scenarios`), audited live, its `pgsage audit --script` applied
//! with the server's own `psql -v ON_ERROR_STOP=1 -f` (the restart section too: the test
//! restarts the server), audited again. The findings whose fixes ran are gone, no finding
//! is new, and the destructive statements the script left commented out did not run.
//!
//! Also: the lock each transactional statement kind takes, read from `pg_locks` inside a
//! transaction, and whether it rewrote the table (its filenode changed), against what the
//! classifier (`pgsage::sql::impact`) says.
//!
//! One major version: the first of `test_majors()` with `psql` next to its server (the
//! Debian PostgreSQL 15 has one; the relocatable `.pg-cache` builds do not). Without any,
//! the script's statements run one by one through the driver, as psql would run them,
//! and the test says so. The classifier's locks are checked on every test major.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use pgsage::report::render::script::{script, skipped_reason};
use pgsage::report::{Finding, Report};
use pgsage::snapshot::{Fact, HostFacts, StorageKind};
use pgsage::sql::impact::{pieces, statements, Kind, LockMode, Piece};
use pgsage::{audit, CollectOptions, ConnectOptions, RuleConfig, Snapshot};
use pgsage_testkit::scenario::{self, Scenario};
use pgsage_testkit::{require_server_with, test_majors, ServerOptions, TestServer};

/// The scenario cases the script test plants, each in its own schema: the schema pack's
/// problems (sequences and integer keys near their maximum, a table without a key,
/// constraints never validated, a disabled trigger), duplicate and redundant indexes
/// (whose drops the script must leave commented out), autovacuum off with dead rows and
/// stale statistics, and durability switched off.
const CASES: &[(&str, &str)] = &[
    ("schema", "problems"),
    ("indexing", "problems"),
    ("vacuum", "autovacuum-off"),
    ("wal", "durability-off"),
];

/// Builds the database the script test audits: the server settings the cases plant
/// (ALTER SYSTEM and a reload, so it works on a running server), then each case's setup
/// in a schema of its own. Another builder with the same signature (the ERP demo
/// database) can take its place.
fn build_planted_database(server: &TestServer, db: &str) {
    server.create_database(db).expect("create database");
    let mut conf = Vec::new();
    let mut cases = Vec::new();
    for (scenario_name, case_name) in CASES {
        let s = Scenario::load(scenario_name).expect("scenario loads");
        let case = s
            .cases
            .iter()
            .find(|c| c.name == *case_name)
            .unwrap_or_else(|| panic!("{scenario_name} has no case {case_name}"))
            .clone();
        conf.extend(s.server_conf.iter().chain(&case.server_conf).cloned());
        cases.push((
            format!("{scenario_name}_{case_name}").replace('-', "_"),
            case,
        ));
    }
    for line in &conf {
        let (name, value) = line.split_once('=').expect("name = value");
        let value = value.trim().trim_matches('\'');
        server
            .execute(db, &pgsage::sql::alter_system(name.trim(), value))
            .expect("ALTER SYSTEM");
    }
    server
        .execute(db, "SELECT pg_reload_conf()")
        .expect("reload");
    for (schema, case) in &cases {
        server
            .execute(
                db,
                &format!(
                    "CREATE SCHEMA {schema}; ALTER DATABASE {db} SET search_path = {schema}, public"
                ),
            )
            .expect("schema");
        scenario::setup(server, db, case).unwrap_or_else(|e| panic!("setup {schema}: {e}"));
    }
    server
        .execute(db, &format!("ALTER DATABASE {db} RESET search_path"))
        .expect("reset search_path");
}

fn host() -> HostFacts {
    HostFacts {
        ram_bytes: Some(Fact::new(1u64 << 30, "flag")),
        cpus: Some(Fact::new(2.0, "flag")),
        storage: Some(Fact::new(StorageKind::Ssd, "flag")),
        platform: None,
        tier: None,
    }
}

fn collect(server: &TestServer, db: &str) -> Snapshot {
    let options = CollectOptions {
        host_facts: host(),
        probe_local_host: false,
        ..CollectOptions::default()
    };
    pgsage::collect_snapshot_with(&ConnectOptions::new(server.dsn(db)), &options)
        .unwrap_or_else(|e| panic!("collecting from PostgreSQL {}: {e}", server.major()))
}

fn config() -> RuleConfig {
    let mut config = RuleConfig::shipped().expect("shipped packs");
    // Test servers are seconds old: judge their counters with full confidence.
    config.min_stats_age_seconds = 0.0;
    config
}

fn key(f: &Finding) -> (String, String) {
    (f.rule.clone(), f.object.display_name())
}

/// Whether the script ran every statement of the finding's fix.
fn applied(f: &Finding) -> bool {
    let Some(fix) = &f.fix else { return false };
    statements(&fix.sql)
        .iter()
        .all(|s| skipped_reason(s, fix).is_none())
        && statements(&fix.sql)
            .iter()
            .any(|s| s.impact.kind != Kind::ReloadConf)
}

fn psql_of(server: &TestServer) -> Option<PathBuf> {
    let psql = server.bin_dir().join("psql");
    psql.is_file().then_some(psql)
}

/// Runs the script as `psql -v ON_ERROR_STOP=1 -f` does; without psql, statement by
/// statement through the driver (comments and psql meta-commands skipped).
fn apply(server: &TestServer, db: &str, script_path: &Path, text: &str) {
    match psql_of(server) {
        Some(psql) => {
            let out = std::process::Command::new(&psql)
                .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d"])
                .arg(server.url(db))
                .arg("-f")
                .arg(script_path)
                .output()
                .expect("psql runs");
            assert!(
                out.status.success(),
                "psql -f failed ({}):\n{}\n--- script ---\n{text}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        }
        None => {
            eprintln!(
                "NOTE: no psql next to PostgreSQL {}: running the script's statements one by one through the driver",
                server.major()
            );
            let mut client = server.client(db).expect("client");
            let sql: String = text
                .lines()
                .filter(|l| !l.starts_with('\\'))
                .map(|l| format!("{l}\n"))
                .collect();
            for piece in pieces(&sql) {
                if let Piece::Statement(s) = piece {
                    client
                        .batch_execute(&s.sql)
                        .unwrap_or_else(|e| panic!("`{}`: {e}", s.sql));
                }
            }
        }
    }
}

fn major_with_psql() -> Option<u32> {
    test_majors()
        .into_iter()
        .find(|&m| pgsage_testkit::bin_dir(m).is_some_and(|d| d.join("psql").is_file()))
}

#[test]
fn the_fix_script_applied_with_psql_fixes_what_it_says_and_nothing_else() {
    let major = major_with_psql().or_else(|| test_majors().into_iter().next());
    let Some(major) = major else { return };
    let Some(mut server) = require_server_with(ServerOptions::new(major)) else {
        return;
    };
    let db = "planted";
    build_planted_database(&server, db);
    let config = config();
    let before = audit(&collect(&server, db), &config);
    let text = script(&before);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("fixes.sql");
    std::fs::write(&path, &text).expect("write script");

    // The planted problems are there, with fixes in every group.
    let phases: BTreeSet<_> = before
        .findings
        .iter()
        .filter_map(|f| f.fix.as_ref().map(|x| x.phase))
        .collect();
    assert_eq!(
        phases.len(),
        4,
        "expected fixes online, on reload, on restart and in a window: {phases:?}\n{text}"
    );

    apply(&server, db, &path, &text);
    server.restart().expect("restart");
    let after_snapshot = collect(&server, db);
    let after = audit(&after_snapshot, &config);
    check(&before, &after, &after_snapshot, &text);
}

/// The same on a scratch copy of the bundled demo's database: the ERP
/// (`testdata/demo/erp`, built by `pgsage_testkit::demo::build_erp` with the demo's server
/// settings, its late import included), without the replayed workload, whose counters
/// a script cannot reset. What the script fixes is gone on the next audit and nothing
/// new appears.
#[test]
fn the_fix_script_applied_to_the_erp_demo_database_fixes_what_it_says_and_nothing_else() {
    // The ERP is loaded with psql: the major with one (Debian's 15).
    let Some(major) = major_with_psql() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "no PostgreSQL with psql: the ERP demo database cannot be built"
        );
        eprintln!("SKIP: no PostgreSQL with psql to build the ERP demo database");
        return;
    };
    let options = pgsage_testkit::demo::server_options(major).expect("demo server options");
    let Some(mut server) = require_server_with(options) else {
        return;
    };
    let db = "erp";
    pgsage_testkit::demo::build_erp(&server, db).expect("build the ERP demo database");
    pgsage_testkit::demo::late_import(&server, db).expect("the demo's late import");
    let config = config();
    let before = audit(&collect(&server, db), &config);
    assert!(
        before.actions.len() >= 5,
        "the ERP demo database shows its story: {:#?}",
        before.actions.iter().map(|a| &a.title).collect::<Vec<_>>()
    );
    let text = script(&before);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("fixes.sql");
    std::fs::write(&path, &text).expect("write script");
    apply(&server, db, &path, &text);
    server.restart().expect("restart");
    let after_snapshot = collect(&server, db);
    let after = audit(&after_snapshot, &config);
    check(&before, &after, &after_snapshot, &text);
}

/// Findings whose fix is a first step that cannot make the measurement go away, with why.
const FIRST_STEPS: &[(&str, &str)] = &[
    (
        "CON003",
        "its fix turns on log_connections to find the clients; the connection rate it measured stays in the counters",
    ),
    (
        "MEM007",
        "its fix sizes shared_buffers; the hit ratio it measured stays in the cumulative counters until they are reset",
    ),
    (
        "WAL004",
        "its fix tunes the background writer; the share of buffers backends wrote stays in pg_stat_bgwriter until it is reset",
    ),
];

fn check(before: &Report, after: &Report, after_snapshot: &Snapshot, text: &str) {
    let before_keys: BTreeSet<_> = before.findings.iter().map(key).collect();
    let after_keys: BTreeSet<_> = after.findings.iter().map(key).collect();
    let listing = |r: &Report| {
        r.findings
            .iter()
            .map(|f| format!("  {} {}: {}", f.rule, f.object.display_name(), f.message))
            .collect::<Vec<_>>()
            .join("\n")
    };

    let applied: Vec<&Finding> = before
        .findings
        .iter()
        .filter(|f| applied(f) && !FIRST_STEPS.iter().any(|(rule, _)| f.rule == *rule))
        .collect();
    assert!(
        applied.len() >= 10,
        "only {} fixes ran:\n{text}",
        applied.len()
    );
    let still: Vec<_> = applied
        .iter()
        .map(|f| key(f))
        .filter(|k| after_keys.contains(k))
        .collect();
    assert!(
        still.is_empty(),
        "findings whose fixes ran are still there: {still:?}\nafter:\n{}\n--- script ---\n{text}",
        listing(after)
    );
    // An index the script itself created has had no scan yet: with the test's zero
    // minimum statistics age, IDX003 notes it as unused (kept, no fix). Not a new problem.
    let new: Vec<_> = after_keys
        .difference(&before_keys)
        .filter(|(rule, object)| {
            let name = object.rsplit('.').next().unwrap_or(object);
            !(rule == "IDX003" && text.contains(&format!("CREATE INDEX CONCURRENTLY {name} ")))
        })
        .collect();
    assert!(
        new.is_empty(),
        "new findings after the script: {new:?}\nafter:\n{}",
        listing(after)
    );

    // The drops the script left commented out did not run: those indexes still exist.
    let mut kept = 0;
    for f in &before.findings {
        let Some(fix) = &f.fix else { continue };
        for s in statements(&fix.sql) {
            if s.impact.kind != Kind::DropIndex || skipped_reason(&s, fix).is_none() {
                continue;
            }
            let index = s
                .impact
                .lock
                .as_ref()
                .map(|l| l.relation.clone())
                .unwrap_or_default();
            assert!(
                after_snapshot
                    .indexes
                    .iter()
                    .any(|i| i.qualified_name() == index),
                "{}: the commented-out `{}` ran",
                f.rule,
                s.sql
            );
            kept += 1;
        }
    }
    assert!(kept >= 2, "no commented-out index drop to check:\n{text}");
}

/// Statements run in a transaction on a small schema: the strongest lock `pg_locks` shows
/// on the named table, and whether the table's filenode changed (a rewrite).
const LOCK_CASES: &[(&str, &str)] = &[
    ("ALTER TABLE t ALTER COLUMN id TYPE bigint", "t"),
    ("ALTER TABLE t SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.005)", "t"),
    ("ALTER TABLE t SET (fillfactor = 90)", "t"),
    ("ALTER TABLE t RESET (autovacuum_enabled)", "t"),
    ("ALTER TABLE t VALIDATE CONSTRAINT t_qty_positive", "t"),
    ("ALTER TABLE t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX t_id_key", "t"),
    ("ALTER TABLE t ENABLE TRIGGER t_stamp", "t"),
    ("ALTER TABLE c ADD CONSTRAINT c_t_fk FOREIGN KEY (t_id) REFERENCES t (id) NOT VALID", "c"),
    ("ALTER TABLE t ADD CONSTRAINT t_qty_small CHECK (qty < 1000000) NOT VALID", "t"),
    ("ALTER TABLE t ADD COLUMN serial_no bigint GENERATED ALWAYS AS IDENTITY", "t"),
    ("ALTER TABLE t ADD COLUMN note text DEFAULT 'x'", "t"),
    ("CREATE INDEX t_qty_idx ON t (qty)", "t"),
    ("DROP INDEX t_name_idx", "t"),
    ("REINDEX INDEX t_name_idx", "t"),
    ("ANALYZE t", "t"),
    ("ALTER SEQUENCE s AS bigint", "t"),
    ("CLUSTER t USING t_name_idx", "t"),
];

const LOCK_SETUP: &str = "
CREATE TABLE t (id int NOT NULL, name text, qty int);
INSERT INTO t SELECT g, 'n' || g, g FROM generate_series(1, 1000) g;
CREATE UNIQUE INDEX t_id_key ON t (id);
CREATE INDEX t_name_idx ON t (name);
ALTER TABLE t ADD CONSTRAINT t_qty_positive CHECK (qty > 0) NOT VALID;
CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER t_stamp BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION stamp();
ALTER TABLE t DISABLE TRIGGER t_stamp;
CREATE TABLE c (id int, t_id int);
CREATE SEQUENCE s AS integer;
";

fn lock_mode(pg: &str) -> LockMode {
    match pg {
        "AccessShareLock" => LockMode::AccessShare,
        "RowShareLock" => LockMode::RowShare,
        "RowExclusiveLock" => LockMode::RowExclusive,
        "ShareUpdateExclusiveLock" => LockMode::ShareUpdateExclusive,
        "ShareLock" => LockMode::Share,
        "ShareRowExclusiveLock" => LockMode::ShareRowExclusive,
        "ExclusiveLock" => LockMode::Exclusive,
        "AccessExclusiveLock" => LockMode::AccessExclusive,
        other => panic!("unknown lock mode {other}"),
    }
}

#[test]
fn the_classifier_names_the_locks_postgresql_takes() {
    for major in test_majors() {
        let Some(server) = require_server_with(ServerOptions::new(major)) else {
            continue;
        };
        server.create_database("locks").expect("database");
        server.execute("locks", LOCK_SETUP).expect("setup");
        let mut client = server.client("locks").expect("client");
        for (sql, table) in LOCK_CASES {
            let classified = statements(sql);
            let impact = &classified[0].impact;
            assert!(impact.in_transaction, "{sql} runs in a transaction block");
            let mut tx = client.transaction().expect("begin");
            let filenode = |tx: &mut postgres::Transaction<'_>| -> Option<u32> {
                tx.query_one(
                    "SELECT pg_relation_filenode(c.oid)::oid FROM pg_class c WHERE c.relname = $1",
                    &[table],
                )
                .ok()
                .and_then(|r| r.get::<_, Option<u32>>(0))
            };
            let node_before = filenode(&mut tx);
            tx.batch_execute(sql)
                .unwrap_or_else(|e| panic!("PostgreSQL {major}: `{sql}`: {e}"));
            let modes: Vec<String> = tx
                .query(
                    "SELECT l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                     WHERE l.pid = pg_backend_pid() AND l.granted AND c.relname = $1",
                    &[table],
                )
                .expect("pg_locks")
                .iter()
                .map(|r| r.get(0))
                .collect();
            let strongest = modes.iter().map(|m| lock_mode(m)).max();
            let rewrote = filenode(&mut tx) != node_before;
            tx.rollback().expect("rollback");
            // A statement the classifier gives no table lock (ALTER SEQUENCE) takes none on
            // the table.
            let expected = impact.lock.as_ref().map(|l| l.mode);
            assert_eq!(
                strongest, expected,
                "PostgreSQL {major}: `{sql}` takes {modes:?} on {table}; the classifier says {expected:?}"
            );
            assert_eq!(
                rewrote, impact.rewrites_table,
                "PostgreSQL {major}: `{sql}` rewrote {table}: {rewrote}; the classifier says {}",
                impact.rewrites_table
            );
        }
    }
}
