//! Regenerates `testdata/snapshots/demo.json`: a real snapshot collected from a throwaway
//! PostgreSQL 17 server running the demo ERP database (`testdata/demo/erp/`, an Odoo-like
//! installation with its problems planted as they arise in real ones; its README tells
//! the story) after a workload replayed with `pgbench`.
//!
//! Run it with `scripts/make-demo-snapshot.sh` (six to eight minutes, most of it the
//! workload: see `pgsage_testkit::demo::Workload`). `PGSAGE_DEMO_WORKLOAD_SECONDS`
//! shortens the workload for a quick look; the bundled demo uses the default.

use std::time::{Duration, Instant};

use pgsage::snapshot::{Fact, HostFacts, StorageKind};
use pgsage::{CollectOptions, ConnectOptions};
use pgsage_testkit::demo::{self, Workload};
use pgsage_testkit::scenario::{repo_root, FIXTURE_MAJOR};
use pgsage_testkit::{TestServer, NO_TEMPLATE_ENV};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args()
        .nth(1)
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| repo_root().join("testdata/snapshots/demo.json"));
    let mut workload = Workload::default();
    if let Ok(s) = std::env::var("PGSAGE_DEMO_WORKLOAD_SECONDS") {
        workload.duration = Duration::from_secs(s.trim().parse()?);
    }
    let started = Instant::now();
    let step = |what: &str| eprintln!("[{:>4} s] {what}", started.elapsed().as_secs());

    // A fresh initdb rather than the testkit's cached template: the template's
    // statistics were reset when it was made (up to a day ago), which would give the
    // checkpointer's and WAL's counters a window longer than the server's life.
    std::env::set_var(NO_TEMPLATE_ENV, "1");
    let server = TestServer::start(demo::server_options(FIXTURE_MAJOR)?)?;
    let db = "erp";
    step("building the ERP database");
    demo::build_erp(&server, db)?;
    step("opening the idle sessions");
    let sessions = demo::hold_sessions(&server, db)?;
    step(&format!(
        "replaying the workload for {} s",
        workload.duration.as_secs()
    ));
    let report = demo::run_workload(&server, db, &workload)?;
    for output in &report.outputs {
        for line in output
            .lines()
            .skip_while(|l| !l.starts_with("number of transactions actually processed"))
        {
            eprintln!("         {line}");
        }
    }
    step("importing the supplier price list");
    demo::late_import(&server, db)?;

    step("collecting");
    let options = CollectOptions {
        host_facts: HostFacts {
            ram_bytes: Some(Fact::new(24 << 30, "flag")),
            cpus: Some(Fact::new(4.0, "flag")),
            storage: Some(Fact::new(StorageKind::Ssd, "flag")),
            platform: None,
            tier: None,
        },
        probe_local_host: false,
        ..CollectOptions::default()
    };
    let mut snapshot =
        pgsage::collect_snapshot_with(&ConnectOptions::new(server.dsn(db)), &options)?;
    drop(sessions);
    // The demo is shared: hide the throwaway server's port like a customer would.
    snapshot.server.port = None;
    // The platform is detected again at every audit from the settings and roles; the
    // tests that plant a provider's settings in the demo expect exactly that.
    if snapshot
        .host
        .platform
        .as_ref()
        .is_some_and(|p| p.source.starts_with("detected"))
    {
        snapshot.host.platform = None;
    }
    snapshot.save(&out)?;
    step(&format!("wrote {}", out.display()));
    Ok(())
}
