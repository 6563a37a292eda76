//! Rule scenarios: `testdata/scenarios/<name>.toml` (one per pack) says how to plant
//! problems and their healthy twins on real servers, case by case, and exactly which
//! findings each case must produce. The live scenario tests run them on PostgreSQL 13–18;
//! the fixture capture runs them on one version and saves the collected snapshots under
//! `testdata/fixtures/<name>/<case>.json` for the rules' fast unit tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use postgres::Client;

use serde::Deserialize;

use crate::{Standby, StandbyOptions, TestServer, TestkitError};

/// One scenario file: a pack's problems planted on real servers, and their healthy twins.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Name (the file stem), e.g. the pack `vacuum`.
    #[serde(default)]
    pub name: String,
    /// The rules this scenario checks exactly: in every case, their findings must be
    /// exactly the case's `expect` list (no missing, no noisy), and none may be skipped
    /// unless the case lists it in `skips`.
    pub rules: Vec<String>,
    /// User configuration (pgsage.toml text) applied on top of the shipped packs.
    #[serde(default)]
    pub config: String,
    /// `postgresql.conf` lines for every case's server.
    #[serde(default)]
    pub server_conf: Vec<String>,
    /// The cases; each runs on its own fresh server.
    #[serde(rename = "case")]
    pub cases: Vec<Case>,
}

/// An expected finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// Rule id.
    pub rule: String,
    /// The object, as the report shows it: `schema.name` or a bare name.
    pub object: String,
}

/// One case of a scenario.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// Name, unique in the scenario (the fixture's file name).
    pub name: String,
    /// Lowest major version the case applies to.
    #[serde(default)]
    pub min_major: Option<u32>,
    /// Extra `postgresql.conf` lines for this case's server.
    #[serde(default)]
    pub server_conf: Vec<String>,
    /// SQL statements run one by one (each its own transaction, so `VACUUM` works) as
    /// superuser in the case's database. A statement starting with the comment
    /// `-- may fail` may end in an error (e.g. a `CREATE UNIQUE INDEX CONCURRENTLY` over
    /// duplicates, which leaves an invalid index behind); any other error fails the setup.
    #[serde(default)]
    pub setup: Vec<String>,
    /// Whether to create `pg_stat_statements` in the case's database (default true).
    #[serde(default = "yes")]
    pub pg_stat_statements: bool,
    /// A query returning one boolean, polled until true before collecting
    /// (statistics reach the views asynchronously).
    #[serde(default)]
    pub wait_for: Option<String>,
    /// Idle client connections to hold open during collection.
    #[serde(default)]
    pub hold_connections: usize,
    /// Transactions left open (idle in transaction) during collection: each entry is SQL
    /// run after `BEGIN` on its own connection, e.g. `SELECT txid_current()` to hold an xid,
    /// or `LOCK TABLE t IN ACCESS EXCLUSIVE MODE` to block others.
    #[serde(default)]
    pub open_transactions: Vec<String>,
    /// Statements started on their own connections in the background just before
    /// collection (a long query, a statement that waits for a lock); they are terminated
    /// after collection.
    #[serde(default)]
    pub background: Vec<String>,
    /// A query returning one boolean, polled until true after the open transactions and
    /// background statements are in place (e.g. "a backend is waiting on a lock").
    #[serde(default)]
    pub wait_for_background: Option<String>,
    /// Collect two samples this many seconds apart (`--interval`).
    #[serde(default)]
    pub interval_seconds: Option<f64>,
    /// Statements run repeatedly on their own connection while an interval collection
    /// sleeps between its samples (the workload the rates are measured over).
    #[serde(default)]
    pub during_interval: Vec<String>,
    /// Collect as this role instead of the superuser: `{ name, password, grants }` is
    /// created first (e.g. grants = ["pg_monitor"]).
    #[serde(default)]
    pub collect_as: Option<CollectAs>,
    /// Host facts given at collection, as the CLI flags take them (`ram`, `cpus`, `storage`).
    #[serde(default)]
    pub host: BTreeMap<String, toml::Value>,
    /// Exactly the findings the scenario's rules must produce.
    #[serde(default)]
    pub expect: Vec<Expected>,
    /// Scenario rules that must be skipped in this case (e.g. a missing privilege).
    #[serde(default)]
    pub skips: Vec<String>,
    /// A physical streaming standby of the case's server, created after the setup and
    /// kept (paused, stopped, …) while the case is collected.
    #[serde(default)]
    pub standby: Option<StandbyCase>,
    /// Which server to collect from: `"primary"` (default) or `"standby"` (the case's
    /// `standby`, a read-only hot standby).
    #[serde(default)]
    pub collect_from: CollectFrom,
}

/// The server a case is collected from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CollectFrom {
    /// The case's own server.
    #[default]
    Primary,
    /// The case's standby.
    Standby,
}

/// A case's standby: `standby = { name = "replica_a", slot = "replica_a", pause_replay = true,
/// after = ["INSERT …"] }`.
///
/// It is created from a base backup once the setup has run and streams from the case's
/// server; then, in this order, it is made synchronous, its replay is paused, it is
/// stopped, the `after` statements run on the primary, and the testkit waits until a
/// running standby has received everything (and replayed it, unless paused).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StandbyCase {
    /// Its `application_name` (its name in `pg_stat_replication`).
    pub name: String,
    /// A physical slot created on the primary for it.
    #[serde(default)]
    pub slot: Option<String>,
    /// Listed in the primary's `synchronous_standby_names`. When it is also `stopped`,
    /// every commit that writes on the primary waits for it, so `after` must be empty.
    #[serde(default)]
    pub synchronous: bool,
    /// Pause WAL replay on the standby (`pg_wal_replay_pause()`).
    #[serde(default)]
    pub pause_replay: bool,
    /// Stop the standby before collecting (its slot becomes inactive).
    #[serde(default)]
    pub stopped: bool,
    /// Extra `postgresql.conf` lines for the standby.
    #[serde(default)]
    pub server_conf: Vec<String>,
    /// Statements run (each its own transaction) as superuser in the case's database on
    /// the primary once the standby is in place: the writes a paused or stopped standby
    /// falls behind on.
    #[serde(default)]
    pub after: Vec<String>,
}

/// A role to collect as.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectAs {
    /// Role name.
    pub name: String,
    /// Its password.
    pub password: String,
    /// Roles granted to it.
    #[serde(default)]
    pub grants: Vec<String>,
}

fn yes() -> bool {
    true
}

impl Scenario {
    /// Loads `testdata/scenarios/<name>.toml`.
    pub fn load(name: &str) -> Result<Scenario, TestkitError> {
        Scenario::load_path(&scenarios_dir().join(format!("{name}.toml")))
    }

    /// Loads a scenario file; its name is the file stem.
    pub fn load_path(path: &Path) -> Result<Scenario, TestkitError> {
        let fail = |e: String| TestkitError::Scenario(format!("{}: {e}", path.display()));
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        let mut s: Scenario = toml::from_str(&text).map_err(|e| fail(e.to_string()))?;
        s.name = path
            .file_stem()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut names = std::collections::BTreeSet::new();
        for c in &s.cases {
            if !names.insert(&c.name) {
                return Err(fail(format!("case `{}` appears twice", c.name)));
            }
            if c.collect_from == CollectFrom::Standby
                && c.standby.as_ref().is_none_or(|st| st.stopped)
            {
                return Err(fail(format!(
                    "case `{}` is collected from its standby but has no running `standby`",
                    c.name
                )));
            }
            if c.standby
                .as_ref()
                .is_some_and(|st| st.synchronous && st.stopped && !st.after.is_empty())
            {
                return Err(fail(format!(
                    "case `{}`: the `after` statements would wait for ever for the stopped synchronous standby",
                    c.name
                )));
            }
            for e in &c.expect {
                if !s.rules.contains(&e.rule) {
                    return Err(fail(format!(
                        "case `{}` expects {} which is not in `rules`",
                        c.name, e.rule
                    )));
                }
            }
        }
        Ok(s)
    }

    /// Every scenario file, sorted by name.
    pub fn all() -> Result<Vec<Scenario>, TestkitError> {
        let dir = scenarios_dir();
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| TestkitError::Scenario(format!("{}: {e}", dir.display())))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        paths.iter().map(|p| Scenario::load_path(p)).collect()
    }

    /// Cases that expect `rule` to flag `object`.
    pub fn cases_expecting<'a>(
        &'a self,
        rule: &'a str,
        object: &'a str,
    ) -> impl Iterator<Item = &'a Case> {
        self.cases.iter().filter(move |c| {
            c.expect
                .iter()
                .any(|e| e.rule == rule && e.object == object)
        })
    }

    /// Whether a case's fixture is captured (it applies to [`FIXTURE_MAJOR`]).
    pub fn has_fixture(case: &Case) -> bool {
        case.min_major.is_none_or(|m| m <= FIXTURE_MAJOR)
    }

    /// Cases where `rule` is checked and must stay quiet (runs, flags nothing).
    pub fn quiet_cases_for<'a>(&'a self, rule: &'a str) -> impl Iterator<Item = &'a Case> {
        let checked = self.rules.iter().any(|r| r == rule);
        self.cases.iter().filter(move |c| {
            checked
                && !c.skips.iter().any(|s| s == rule)
                && !c.expect.iter().any(|e| e.rule == rule)
        })
    }
}

/// The PostgreSQL major the rules' fixtures are captured from.
pub const FIXTURE_MAJOR: u32 = 17;

/// The repository's root (the directory holding `testdata/`).
pub fn repo_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.ancestors()
        .find(|p| p.join("testdata").is_dir() && p.join("Cargo.toml").is_file())
        .map(Path::to_path_buf)
        .unwrap_or(here)
}

/// `testdata/scenarios`.
pub fn scenarios_dir() -> PathBuf {
    repo_root().join("testdata").join("scenarios")
}

/// `testdata/fixtures/<scenario>/<case>.json`.
pub fn fixture_path(scenario: &str, case: &str) -> PathBuf {
    repo_root()
        .join("testdata")
        .join("fixtures")
        .join(scenario)
        .join(format!("{case}.json"))
}

/// Every snapshot captured from a real server that tests audit as a whole: the bundled
/// demo (`testdata/snapshots/demo.json`), the one whose names carry HTML and script
/// (`testdata/snapshots/hostile.json`) and every fixture (`testdata/fixtures/*/*.json`),
/// sorted. Panics when the directories cannot be read: a test over "all fixtures" must
/// not pass over none.
pub fn captured_snapshots() -> Vec<PathBuf> {
    let testdata = repo_root().join("testdata");
    let mut out = vec![
        testdata.join("snapshots").join("demo.json"),
        testdata.join("snapshots").join("hostile.json"),
    ];
    let mut stack = vec![testdata.join("fixtures")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("fixtures directory") {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Creates a case's database and runs its setup, then polls its `wait_for`.
pub fn prepare(server: &TestServer, db: &str, case: &Case) -> Result<(), TestkitError> {
    if case.pg_stat_statements {
        server.create_database(db)?;
    } else {
        server.create_database_without_extensions(db)?;
    }
    setup(server, db, case)
}

/// The comment that lets a setup statement fail.
pub const MAY_FAIL: &str = "-- may fail";

/// Runs a case's setup statements in an existing database, then polls its `wait_for`.
pub fn setup(server: &TestServer, db: &str, case: &Case) -> Result<(), TestkitError> {
    for sql in &case.setup {
        match server.execute(db, sql) {
            Err(_) if sql.trim_start().starts_with(MAY_FAIL) => {}
            other => other?,
        }
    }
    if let Some(pred) = &case.wait_for {
        server.wait_for(db, pred, Duration::from_secs(30))?;
    }
    Ok(())
}

/// The sessions a case keeps busy while it is collected: idle connections, open
/// transactions, background statements and an interval workload. Dropping it stops the
/// workload, terminates the background statements and closes everything.
pub struct Planted<'a> {
    server: &'a TestServer,
    standby: Option<Standby>,
    db: String,
    held: Vec<Client>,
    background: Vec<JoinHandle<()>>,
    stop: Arc<AtomicBool>,
    workload: Option<JoinHandle<()>>,
}

/// Opens a case's sessions (see [`Planted`]) and waits for `wait_for_background`.
pub fn hold<'a>(
    server: &'a TestServer,
    db: &str,
    case: &Case,
) -> Result<Planted<'a>, TestkitError> {
    let mut planted = Planted {
        server,
        standby: None,
        db: db.to_owned(),
        held: Vec::new(),
        background: Vec::new(),
        stop: Arc::new(AtomicBool::new(false)),
        workload: None,
    };
    if let Some(st) = &case.standby {
        planted.standby = Some(plant_standby(server, db, st)?);
    }
    for _ in 0..case.hold_connections {
        planted.held.push(server.client(db)?);
    }
    for sql in &case.open_transactions {
        let mut c = server.client(db)?;
        c.batch_execute(&format!("BEGIN; {sql}"))
            .map_err(|e| TestkitError::pg(format!("open transaction `{sql}`"), e))?;
        planted.held.push(c);
    }
    for sql in &case.background {
        let mut c = server.client(db)?;
        let sql = sql.clone();
        // Ends with an error when terminated after collection; that is expected.
        planted.background.push(std::thread::spawn(move || {
            let _ = c.batch_execute(&sql);
        }));
    }
    if let Some(pred) = &case.wait_for_background {
        server.wait_for(db, pred, Duration::from_secs(30))?;
    }
    if !case.during_interval.is_empty() {
        let mut c = server.client(db)?;
        let statements = case.during_interval.clone();
        let stop = Arc::clone(&planted.stop);
        planted.workload = Some(std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for sql in &statements {
                    let _ = c.batch_execute(sql);
                }
            }
        }));
    }
    Ok(planted)
}

/// Creates a case's standby and brings it into the state the case asks for.
fn plant_standby(
    server: &TestServer,
    db: &str,
    case: &StandbyCase,
) -> Result<Standby, TestkitError> {
    let mut opts = StandbyOptions::new(&case.name).synchronous(case.synchronous);
    if let Some(slot) = &case.slot {
        opts = opts.slot(slot);
    }
    for line in &case.server_conf {
        opts = opts.conf(line);
    }
    let standby = server.start_standby(&opts)?;
    if case.pause_replay {
        standby.pause_replay()?;
    }
    if case.stopped {
        standby.stop()?;
    }
    for sql in &case.after {
        server.execute(db, sql)?;
    }
    if !case.stopped {
        standby.wait_caught_up(server, !case.pause_replay)?;
    }
    Ok(standby)
}

impl<'a> Planted<'a> {
    /// The case's standby, when it has one.
    pub fn standby(&self) -> Option<&Standby> {
        self.standby.as_ref()
    }

    /// The server the case is collected from (see [`Case::collect_from`]).
    pub fn collect_target(&self, case: &Case) -> &TestServer {
        match (case.collect_from, &self.standby) {
            (CollectFrom::Standby, Some(standby)) => standby,
            _ => self.server,
        }
    }
}

impl Drop for Planted<'_> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(w) = self.workload.take() {
            let _ = w.join();
        }
        if !self.background.is_empty() {
            let _ = self.server.execute(
                &self.db,
                &format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = {} AND pid <> pg_backend_pid() \
                     AND backend_type = 'client backend'",
                    crate::quote_literal(&self.db)
                ),
            );
            for b in self.background.drain(..) {
                let _ = b.join();
            }
        }
        self.held.clear();
        self.standby = None;
    }
}
