//! Regenerates `testdata/snapshots/demo.json`: a real snapshot collected from a throwaway
//! PostgreSQL server with an ERP-like database (`erp`) where every rule's planted problem
//! from `testdata/scenarios/*.toml` is present, next to healthy tables and a workload.
//!
//! Run it with `scripts/make-demo-snapshot.sh`.

use pgsage::snapshot::{Fact, HostFacts, StorageKind};
use pgsage::{CollectOptions, ConnectOptions};
use pgsage_testkit::scenario::{self, repo_root, Case, Scenario, FIXTURE_MAJOR};
use pgsage_testkit::{ServerOptions, TestServer};

/// A healthy ERP core next to the planted problems, and the statements that give
/// pg_stat_statements something to show.
const ERP_SCHEMA: &[&str] = &[
    "CREATE TABLE res_partner (id serial PRIMARY KEY, name text NOT NULL, email text, country text)",
    "INSERT INTO res_partner (name, email, country) SELECT 'partner ' || g, 'p' || g || '@example.com', (ARRAY['BE','FR','DE','NL'])[1 + g % 4] FROM generate_series(1, 5000) g",
    "CREATE TABLE product_product (id serial PRIMARY KEY, default_code text UNIQUE, name text NOT NULL, list_price numeric NOT NULL)",
    "INSERT INTO product_product (default_code, name, list_price) SELECT 'SKU' || g, 'product ' || g, (g % 97) + 0.99 FROM generate_series(1, 2000) g",
    "CREATE TABLE account_move (id bigserial PRIMARY KEY, partner_id int NOT NULL REFERENCES res_partner, date date NOT NULL, amount_total numeric NOT NULL, state text NOT NULL)",
    "INSERT INTO account_move (partner_id, date, amount_total, state) SELECT 1 + g % 5000, date '2026-01-01' + g % 300, g % 1000, CASE WHEN g % 10 = 0 THEN 'draft' ELSE 'posted' END FROM generate_series(1, 40000) g",
    "CREATE INDEX account_move_partner_idx ON account_move (partner_id)",
    "CREATE INDEX account_move_date_idx ON account_move (date)",
    "VACUUM (ANALYZE) res_partner, product_product, account_move",
];

const WORKLOAD: &[&str] = &[
    "SELECT count(*) FROM account_move WHERE state = 'draft'",
    "SELECT p.name, sum(m.amount_total) FROM account_move m JOIN res_partner p ON p.id = m.partner_id WHERE m.date >= date '2026-06-01' GROUP BY p.name ORDER BY 2 DESC LIMIT 20",
    "SELECT * FROM res_partner WHERE id = 42",
    "SELECT * FROM product_product WHERE default_code = 'SKU17'",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo_root().join("testdata/snapshots/demo.json"));
    // Every scenario case that plants a problem, except those that need their own role,
    // database without pg_stat_statements, or sampling interval.
    let scenarios = Scenario::all()?;
    let mut cases: Vec<(&Scenario, &Case)> = scenarios
        .iter()
        .flat_map(|s| s.cases.iter().map(move |c| (s, c)))
        .filter(|(_, c)| {
            !c.expect.is_empty()
                && c.collect_as.is_none()
                && c.pg_stat_statements
                && c.interval_seconds.is_none()
                && Scenario::has_fixture(c)
        })
        .collect();

    let mut opts = ServerOptions::new(FIXTURE_MAJOR);
    for (s, c) in &cases {
        for line in s.server_conf.iter().chain(&c.server_conf) {
            opts = opts.conf(line);
        }
    }
    let server = TestServer::start(opts)?;
    let db = "erp";
    server.create_database(db)?;
    for sql in ERP_SCHEMA {
        server.execute(db, sql)?;
    }
    // Each case in its own schema, so their tables cannot collide. All setups first, then
    // the sessions each case holds: a case's open transactions would otherwise block
    // another case's `CREATE INDEX CONCURRENTLY`.
    // A prepared transaction is a running transaction: planted early, it would make later
    // cases' `CREATE INDEX CONCURRENTLY` or logical slot creation wait for ever. Plant those
    // cases last, and give every statement a timeout: a case that still cannot be planted
    // next to the others is left out of the demo (it keeps its own live scenario).
    cases.sort_by_key(|(_, c)| {
        c.setup
            .iter()
            .any(|sql| sql.contains("PREPARE TRANSACTION"))
    });
    let schema_of = |s: &Scenario, c: &Case| format!("{}_{}", s.name, c.name).replace('-', "_");
    server.execute(
        db,
        &format!("ALTER DATABASE {db} SET statement_timeout = '60s'"),
    )?;
    let mut kept = Vec::new();
    for (s, c) in cases {
        let schema = schema_of(s, c);
        server.execute(db, &format!("CREATE SCHEMA {schema}"))?;
        server.execute(
            db,
            &format!("ALTER DATABASE {db} SET search_path = {schema}, public"),
        )?;
        match scenario::setup(&server, db, c) {
            Ok(()) => kept.push((s, c)),
            Err(e) => eprintln!("left out {}/{}: {e}", s.name, c.name),
        }
    }
    server.execute(db, &format!("ALTER DATABASE {db} RESET statement_timeout"))?;
    let cases = kept;
    let mut planted = Vec::new();
    for (s, c) in &cases {
        let schema = schema_of(s, c);
        server.execute(
            db,
            &format!("ALTER DATABASE {db} SET search_path = {schema}, public"),
        )?;
        match scenario::hold(&server, db, c) {
            Ok(p) => planted.push(p),
            Err(e) => eprintln!("left out the sessions of {}/{}: {e}", s.name, c.name),
        }
    }
    server.execute(db, &format!("ALTER DATABASE {db} RESET search_path"))?;
    let mut client = server.client(db)?;
    client.batch_execute("SET search_path = public")?;
    for round in 0..50 {
        for sql in WORKLOAD.iter().skip(round % 2) {
            client.batch_execute(sql)?;
        }
    }
    server.flush_stats(&mut client)?;
    drop(client);

    let options = CollectOptions {
        host_facts: HostFacts {
            ram_bytes: Some(Fact::new(24 << 30, "flag")),
            cpus: Some(Fact::new(4.0, "flag")),
            storage: Some(Fact::new(StorageKind::Ssd, "flag")),
        },
        probe_local_host: false,
        ..CollectOptions::default()
    };
    let mut snapshot =
        pgsage::collect_snapshot_with(&ConnectOptions::new(server.dsn(db)), &options)?;
    drop(planted);
    // The demo is shared: hide the throwaway server's port like a customer would.
    snapshot.server.port = None;
    snapshot.save(&out)?;
    eprintln!(
        "wrote {} ({} problem cases planted)",
        out.display(),
        cases.len()
    );
    Ok(())
}
