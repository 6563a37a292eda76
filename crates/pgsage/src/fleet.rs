//! Fleets, the live half: [`load_inventory`] checks the inventory's connection strings,
//! [`run`] collects every server concurrently (at most `jobs` at once, each bounded by a
//! timeout covering connecting and collecting, with the public collection API) and audits what it collected. One server's
//! failure never stops the others: it becomes a [`ServerStatus::Error`] or
//! [`ServerStatus::Timeout`] in the [`FleetRun`].
//!
//! The pure half (inventory format, summary, findings table, output directory) is
//! [`pgsage_core::fleet`], re-exported here.

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::Utc;

pub use pgsage_core::fleet::*;

use crate::collect::{collect_snapshot_cancellable, CollectOptions, DatabaseSelection};
use crate::connect::dsn::{redact, Dsn};
use crate::{ConnectOptions, Error, Result, RuleConfig, Source};

/// How to run a fleet.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    /// Servers collected at once; at least 1.
    pub jobs: usize,
    /// Per server: connecting and collecting must end within this, or the server is
    /// reported as `timeout`.
    pub timeout: Duration,
    /// Timeouts and `application_name` for every server (its `dsn` is ignored: each
    /// server's comes from the inventory).
    pub connect: ConnectOptions,
    /// The rules' configuration; each server's inventory host facts take precedence
    /// over its `host` facts.
    pub config: RuleConfig,
    /// How many `pg_stat_statements` entries to keep per server.
    pub statements_top_n: usize,
}

impl FleetOptions {
    /// Defaults: 4 servers at once, 5 minutes per server, the shipped rule packs.
    pub fn new(config: RuleConfig) -> Self {
        FleetOptions {
            jobs: 4,
            timeout: Duration::from_secs(300),
            connect: ConnectOptions::default(),
            config,
            statements_top_n: CollectOptions::default().statements_top_n,
        }
    }
}

/// Reads the inventory and checks every connection string: its syntax, and that it holds
/// no password (the inventory is a file people share and commit; credentials belong in
/// the environment, a password file or a service file).
pub fn load_inventory(path: &Path) -> Result<Inventory> {
    let inventory = Inventory::load(path)?;
    check_inventory(&inventory, &path.display().to_string())?;
    Ok(inventory)
}

/// The connection-string checks of [`load_inventory`]; `origin` names the inventory.
pub fn check_inventory(inventory: &Inventory, origin: &str) -> Result<()> {
    for (i, server) in inventory.servers.iter().enumerate() {
        let problem = match Dsn::parse(&server.dsn) {
            Err(e) => Some(e.to_string()),
            Ok(dsn) if dsn.password.is_some() => Some(
                "the connection string holds a password; remove it and give it through \
                 PGPASSWORD, a password file (~/.pgpass, or passfile=… in the connection \
                 string) or a service file (service=… with ~/.pg_service.conf): \
                 docs/fleet.md, \"Credentials\""
                    .to_owned(),
            ),
            Ok(_) => None,
        };
        if let Some(problem) = problem {
            return Err(pgsage_core::Error::Config {
                origin: Some(origin.to_owned()),
                problem: format!("server {} (`{}`): {problem}", i + 1, server.name),
            }
            .into());
        }
    }
    Ok(())
}

/// Writes the run into `dir` ([`write_dir`]) and the summary as a page,
/// `DIR/summary.html` ([`crate::html::fleet_page`]), replaced atomically like the rest.
pub fn write_run(dir: &Path, run: &FleetRun) -> Result<Written> {
    let mut written = write_dir(dir, run)?;
    let page = dir.join(output::SUMMARY_HTML);
    output::write_atomic(&page, |out| {
        use std::io::Write;
        out.write_all(crate::html::fleet_page(&written.summary).as_bytes())
    })?;
    written.files.push(page);
    Ok(written)
}

/// Collects and audits every server of the inventory; blocks until all are done.
/// Servers fail on their own: nothing here stops the run.
///
/// Each server is collected with [`crate::collect_snapshot_cancellable`] on its own
/// thread, at most `jobs` at once; when the timeout passes, the collection is cancelled
/// (it stops within 50 ms, whatever the server does) and the server is a `timeout`.
pub fn run(inventory: &Inventory, options: &FleetOptions) -> FleetRun {
    run_with_progress(inventory, options, &|_| {})
}

/// [`run`], calling `done` with each server's outcome as soon as it is known (from the
/// worker threads, in the order servers finish): progress for long runs.
pub fn run_with_progress(
    inventory: &Inventory,
    options: &FleetOptions,
    done: &(dyn Fn(&ServerRun) + Sync),
) -> FleetRun {
    let run_at = Utc::now();
    let servers = &inventory.servers;
    let next = AtomicUsize::new(0);
    let finished: Mutex<Vec<Option<ServerRun>>> = Mutex::new(vec![None; servers.len()]);
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.clamp(1, servers.len().max(1)) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(server) = servers.get(i) else { break };
                // A bug while collecting or auditing one server (a panic) is that server's
                // error, not the end of the run.
                let run =
                    std::panic::catch_unwind(AssertUnwindSafe(|| run_server(server, options)))
                        .unwrap_or_else(|_| failed_by_a_bug(server));
                done(&run);
                finished.lock().unwrap_or_else(PoisonError::into_inner)[i] = Some(run);
            });
        }
    });
    let servers = finished
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .into_iter()
        .zip(servers)
        // Every index is taken by one worker, which fills it: the fallback only keeps
        // this free of a panic of its own.
        .map(|(run, server)| run.unwrap_or_else(|| failed_by_a_bug(server)))
        .collect();
    FleetRun { run_at, servers }
}

/// The outcome of a server whose collection or audit panicked.
fn failed_by_a_bug(server: &ServerEntry) -> ServerRun {
    ServerRun {
        name: server.name.clone(),
        tags: server.tags.clone(),
        target: redact(&server.dsn),
        elapsed: Duration::ZERO,
        outcome: Outcome::Failed {
            status: ServerStatus::Error,
            message: "pgsage failed on this server (a bug: please report it with pgsage's \
                      standard error)"
                .to_owned(),
        },
    }
}

/// Collects (bounded by the timeout) and audits one server.
fn run_server(server: &ServerEntry, options: &FleetOptions) -> ServerRun {
    let started = Instant::now();
    let connect = ConnectOptions {
        dsn: Some(server.dsn.clone()),
        // The server's whole budget bounds connecting too.
        connect_timeout: options.connect.connect_timeout.min(options.timeout),
        ..options.connect.clone()
    };
    let collect = CollectOptions {
        statements_top_n: options.statements_top_n,
        host_facts: server.host.clone(),
        // Fleet servers are other machines as a rule; their facts come from the inventory.
        probe_local_host: false,
        databases: if server.all_databases {
            DatabaseSelection::All
        } else if server.databases.is_empty() {
            DatabaseSelection::Connected
        } else {
            DatabaseSelection::Matching(server.databases.clone())
        },
        ..CollectOptions::default()
    };
    let cancel = AtomicBool::new(false);
    let (sender, receiver) = mpsc::channel();
    let collected = std::thread::scope(|scope| {
        scope.spawn(|| {
            let result = collect_snapshot_cancellable(&connect, &collect, &cancel);
            // The receiver is gone only after a timeout, when nobody wants the result.
            let _ = sender.send(result);
        });
        match receiver.recv_timeout(options.timeout) {
            Ok(Ok(snapshot)) => Ok(snapshot),
            Ok(Err(e @ Error::Timeout { .. })) => Err((ServerStatus::Timeout, e.to_string())),
            Ok(Err(e)) => Err((ServerStatus::Error, error_text(&e))),
            Err(RecvTimeoutError::Timeout) => {
                cancel.store(true, Ordering::Relaxed);
                Err((
                    ServerStatus::Timeout,
                    format!(
                        "no answer within {} (the fleet's timeout for connecting and collecting)",
                        crate::units::duration(options.timeout.as_secs_f64())
                    ),
                ))
            }
            Err(RecvTimeoutError::Disconnected) => Err((
                ServerStatus::Error,
                "the collection ended without a result (a bug: please report it)".to_owned(),
            )),
        }
    });
    let outcome = match collected {
        Err((status, message)) => Outcome::Failed { status, message },
        Ok(mut snapshot) => {
            // The directory is meant to be shared (object storage, a dashboard): no
            // `CREATE ROLE … PASSWORD '…'` from pg_stat_statements may reach it.
            crate::redact::mask_secrets(&mut snapshot);
            audit(server, snapshot, options)
        }
    };
    ServerRun {
        name: server.name.clone(),
        tags: server.tags.clone(),
        target: redact(&server.dsn),
        elapsed: started.elapsed(),
        outcome,
    }
}

/// The error and its causes on one line (the library's messages never hold a password).
fn error_text(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}

/// Audits a server's snapshot with its inventory host facts.
fn audit(server: &ServerEntry, snapshot: crate::Snapshot, options: &FleetOptions) -> Outcome {
    let mut config = options.config.clone();
    config.host = server.host.clone().or(&config.host);
    match crate::knowledge::platform_tiers::check_snapshot(&snapshot, &config.host) {
        Err(e) => Outcome::Failed {
            status: ServerStatus::Error,
            message: format!("{e} (the inventory's `tier` and `platform`)"),
        },
        Ok(()) => {
            let report = pgsage_core::audit_from(&snapshot, &config, Source::Live);
            Outcome::Audited(Box::new(Audited { snapshot, report }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inventory(dsn: &str) -> Inventory {
        Inventory::parse(
            &format!("[[server]]\nname = \"a\"\ndsn = '{dsn}'\n"),
            "fleet.toml",
        )
        .expect("inventory")
    }

    #[test]
    fn a_password_in_the_inventory_is_refused_without_quoting_it() {
        for dsn in [
            "host=db user=bob password=hunter2",
            "postgres://bob:hunter2@db/postgres",
            "postgres://bob@db/postgres?password=hunter2",
        ] {
            let err = check_inventory(&inventory(dsn), "fleet.toml")
                .expect_err("a password")
                .to_string();
            assert!(err.contains("holds a password"), "{err}");
            assert!(
                err.contains("PGPASSWORD") && err.contains("pgpass"),
                "{err}"
            );
            assert!(!err.contains("hunter2"), "{err}");
        }
        check_inventory(
            &inventory("host=db user=bob passfile=/etc/pgsage/pgpass"),
            "f",
        )
        .expect("a password file is fine");
    }

    #[test]
    fn a_malformed_connection_string_is_refused_with_the_server_named() {
        let err = check_inventory(&inventory("host=db sslmode=sometimes"), "fleet.toml")
            .expect_err("bad sslmode")
            .to_string();
        assert!(
            err.contains("server 1 (`a`)") && err.contains("sslmode"),
            "{err}"
        );
    }
}
