//! What a fleet run produced, server by server: the input of the summary, the findings
//! table and the output directory. The live layer (`pgsage::fleet`) fills it.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::report::Report;
use crate::snapshot::Snapshot;

/// One run over the whole inventory.
#[derive(Debug, Clone)]
pub struct FleetRun {
    /// When the run started: the same for every row of the findings table, so runs can
    /// be told apart once many are queried together.
    pub run_at: DateTime<Utc>,
    /// In the inventory's order.
    pub servers: Vec<ServerRun>,
}

/// One server's part of a run.
#[derive(Debug, Clone)]
pub struct ServerRun {
    /// The inventory name.
    pub name: String,
    /// The inventory tags.
    pub tags: BTreeMap<String, String>,
    /// Where it was reached: the connection string with any password masked.
    pub target: String,
    /// Connecting, collecting and auditing.
    pub elapsed: Duration,
    /// Audited, or why not.
    pub outcome: Outcome,
}

/// How a server's run ended.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Collected and audited.
    Audited(Box<Audited>),
    /// Not audited: unreachable, refused, or too slow.
    Failed {
        /// `error` or `timeout`.
        status: ServerStatus,
        /// What went wrong, in words (never a password).
        message: String,
    },
}

/// A server's snapshot and its report.
#[derive(Debug, Clone)]
pub struct Audited {
    /// What was collected.
    pub snapshot: Snapshot,
    /// Its audit.
    pub report: Report,
}

/// Whether a server was audited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ServerStatus {
    /// Collected and audited.
    Ok,
    /// Connecting or collecting failed.
    Error,
    /// No answer within the per-server timeout.
    Timeout,
}

impl ServerStatus {
    /// `ok`, `error` or `timeout`.
    pub fn as_str(self) -> &'static str {
        match self {
            ServerStatus::Ok => "ok",
            ServerStatus::Error => "error",
            ServerStatus::Timeout => "timeout",
        }
    }
}

impl std::fmt::Display for ServerStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ServerRun {
    /// `ok`, `error` or `timeout`.
    pub fn status(&self) -> ServerStatus {
        match &self.outcome {
            Outcome::Audited(_) => ServerStatus::Ok,
            Outcome::Failed { status, .. } => *status,
        }
    }

    /// The report, when the server was audited.
    pub fn report(&self) -> Option<&Report> {
        match &self.outcome {
            Outcome::Audited(a) => Some(&a.report),
            Outcome::Failed { .. } => None,
        }
    }
}

impl FleetRun {
    /// Whether at least one server was audited (the CLI exits 2 when none was).
    pub fn any_audited(&self) -> bool {
        self.servers.iter().any(|s| s.report().is_some())
    }

    /// Every finding's severity across the fleet, for `--fail-on`.
    pub fn severities(&self) -> impl Iterator<Item = crate::Severity> + '_ {
        self.servers
            .iter()
            .filter_map(ServerRun::report)
            .flat_map(|r| r.findings.iter().map(|f| f.severity))
    }
}
