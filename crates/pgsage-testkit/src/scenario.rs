//! Rule scenarios: `testdata/scenarios/<RULE>.toml` says how to plant a problem (`fires`)
//! and its healthy twin (`quiet`) on a real server. The live scenario tests run them and
//! assert the findings; the fixture capture runs them and saves the collected snapshots
//! under `testdata/fixtures/<RULE>/<case>.json` for the rules' fast unit tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::TestkitError;

/// One scenario file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Rule id.
    pub rule: String,
    /// User configuration (pgsage.toml text) applied on top of the shipped packs.
    #[serde(default)]
    pub config: String,
    /// Extra `postgresql.conf` lines for the scenario's server.
    #[serde(default)]
    pub server_conf: Vec<String>,
    /// Lowest major version the scenario applies to.
    #[serde(default)]
    pub min_major: Option<u32>,
    /// The planted problem.
    pub fires: Case,
    /// The healthy twin.
    pub quiet: Case,
}

/// One case of a scenario.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// SQL statements run one by one (each its own transaction, so `VACUUM` works) as
    /// superuser in the case's fresh database.
    #[serde(default)]
    pub setup: Vec<String>,
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
    /// Host facts given at collection, as the CLI flags take them (`ram`, `cpus`, `storage`).
    #[serde(default)]
    pub host: BTreeMap<String, toml::Value>,
    /// Objects (`schema.name` or bare name) that must be flagged (fires case).
    #[serde(default)]
    pub expect: Vec<String>,
}

impl Scenario {
    /// Loads `testdata/scenarios/<rule>.toml`.
    pub fn load(rule: &str) -> Result<Scenario, TestkitError> {
        let path = scenarios_dir().join(format!("{rule}.toml"));
        Scenario::load_path(&path)
    }

    /// Loads a scenario file.
    pub fn load_path(path: &Path) -> Result<Scenario, TestkitError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| TestkitError::Scenario(format!("{}: {e}", path.display())))?;
        toml::from_str(&text)
            .map_err(|e| TestkitError::Scenario(format!("{}: {e}", path.display())))
    }

    /// Every scenario file, sorted by rule id.
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

    /// The case by name (`fires` or `quiet`).
    pub fn case(&self, name: &str) -> Option<&Case> {
        match name {
            "fires" => Some(&self.fires),
            "quiet" => Some(&self.quiet),
            _ => None,
        }
    }
}

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

/// `testdata/fixtures/<rule>/<case>.json`.
pub fn fixture_path(rule: &str, case: &str) -> PathBuf {
    repo_root()
        .join("testdata")
        .join("fixtures")
        .join(rule)
        .join(format!("{case}.json"))
}
