//! Regenerates `testdata/snapshots/demo.json`: a real snapshot collected from a throwaway
//! PostgreSQL server with an ERP-like database (`erp`) where every rule's planted problem
//! from `testdata/scenarios/*.toml` is present, next to healthy tables and a workload.
//!
//! Run it with `scripts/make-demo-snapshot.sh` (needs the PostgreSQL binaries:
//! `scripts/fetch-postgres.sh 15`).

use std::time::Duration;

use pgsage::snapshot::{Fact, HostFacts, StorageKind};
use pgsage::{CollectOptions, ConnectOptions};
use pgsage_testkit::scenario::{repo_root, Scenario};
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
    "SELECT count(*) FROM stock_move_line WHERE product_id = 7",
    "SELECT * FROM sale_order WHERE partner_id = 3",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo_root().join("testdata/snapshots/demo.json"));
    let scenarios = Scenario::all()?;

    let mut opts = ServerOptions::new(15);
    for s in &scenarios {
        for line in &s.server_conf {
            opts = opts.conf(line);
        }
    }
    let server = TestServer::start(opts)?;
    let db = "erp";
    server.create_database(db)?;
    for sql in ERP_SCHEMA {
        server.execute(db, sql)?;
    }
    for s in &scenarios {
        for sql in &s.fires.setup {
            server.execute(db, sql)?;
        }
        if let Some(pred) = &s.fires.wait_for {
            server.wait_for(db, pred, Duration::from_secs(30))?;
        }
    }
    let mut client = server.client(db)?;
    for round in 0..50 {
        for sql in WORKLOAD.iter().skip(round % 2) {
            client.batch_execute(sql)?;
        }
    }
    server.flush_stats(&mut client)?;
    drop(client);
    let hold = scenarios
        .iter()
        .map(|s| s.fires.hold_connections)
        .max()
        .unwrap_or(0);
    let held: Vec<_> = (0..hold)
        .map(|_| server.client(db))
        .collect::<Result<_, _>>()?;

    let options = CollectOptions {
        host_facts: HostFacts {
            ram_bytes: Some(Fact::new(24 << 30, "flag")),
            cpus: Some(Fact::new(4.0, "flag")),
            storage: Some(Fact::new(StorageKind::Ssd, "flag")),
        },
        // Facts come from the scenario only, never from the machine running the test.
        probe_local_host: false,
        ..CollectOptions::default()
    };
    let mut snapshot =
        pgsage::collect_snapshot_with(&ConnectOptions::new(server.dsn(db)), &options)?;
    drop(held);
    // The demo is shared: hide the throwaway server's port and host like a customer would.
    snapshot.server.port = None;
    snapshot.save(&out)?;
    eprintln!("wrote {}", out.display());
    Ok(())
}
