//! The fleet summary (`DIR/summary.json`): every server with its status, error, counts by
//! severity and actions; the actions across the fleet (which servers need each); and the
//! totals by tag.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::run::{FleetRun, Outcome, ServerRun, ServerStatus};
use crate::report::{Severity, Summary};
use crate::snapshot::ToolInfo;

/// The version of the summary's JSON shape; bumped on incompatible changes.
pub const SUMMARY_SCHEMA_VERSION: u32 = 1;

/// The whole fleet at a glance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FleetSummary {
    /// [`SUMMARY_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The pgsage that wrote it.
    pub tool: ToolInfo,
    /// When the run started.
    pub run_at: DateTime<Utc>,
    /// Servers by status and findings by severity, over the fleet.
    pub totals: Totals,
    /// In the inventory's order.
    pub servers: Vec<ServerSummary>,
    /// Each kind of action with the servers that need it, worst first.
    pub actions: Vec<FleetAction>,
    /// Servers and findings per tag value (`env=prod`), in tag order.
    pub by_tag: Vec<TagTotals>,
}

/// Counts over a set of servers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Servers in the set.
    pub servers: usize,
    /// Audited.
    pub ok: usize,
    /// Failed with an error.
    pub error: usize,
    /// Timed out.
    pub timeout: usize,
    /// Critical findings.
    pub critical: usize,
    /// Warnings.
    pub warning: usize,
    /// Information.
    pub info: usize,
}

/// One server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServerSummary {
    /// The inventory name (`DIR/<name>/`).
    pub name: String,
    /// The inventory tags.
    pub tags: BTreeMap<String, String>,
    /// The connection string, any password masked.
    pub target: String,
    /// `ok`, `error` or `timeout`.
    pub status: ServerStatus,
    /// Why it was not audited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `17.2`, when audited.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_version: Option<String>,
    /// The databases audited (the connected one first).
    pub databases: Vec<String>,
    /// Connecting, collecting and auditing, in seconds (to the millisecond).
    pub elapsed_seconds: f64,
    /// Findings by severity (zero when not audited).
    pub counts: Summary,
    /// The worst finding's severity.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub worst: Option<Severity>,
    /// The report's actions, in its order.
    pub actions: Vec<ServerAction>,
}

/// One action of one server's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerAction {
    /// Its rank in the server's report.
    pub rank: usize,
    /// The kind of action (`durability-off`, `unneeded-indexes`): the same on every server.
    pub id: String,
    /// What to do.
    pub title: String,
    /// Its severity.
    pub severity: Severity,
    /// How many objects it names.
    pub objects: usize,
}

/// One kind of action across the fleet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetAction {
    /// The kind of action.
    pub id: String,
    /// Its title on the first server that has it (titles name counts and objects, so
    /// they differ between servers).
    pub title: String,
    /// The worst severity it has on any server.
    pub severity: Severity,
    /// The servers that need it, in the inventory's order.
    pub servers: Vec<String>,
}

/// The servers carrying one tag value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TagTotals {
    /// The tag's name (`env`).
    pub tag: String,
    /// Its value (`prod`).
    pub value: String,
    /// Counts over the servers carrying it.
    pub totals: Totals,
}

impl FleetSummary {
    /// The summary of a run.
    pub fn of(run: &FleetRun) -> FleetSummary {
        let servers: Vec<ServerSummary> = run.servers.iter().map(ServerSummary::of).collect();
        let totals = Totals::of(servers.iter());
        let mut by_tag: BTreeMap<(&str, &str), Vec<&ServerSummary>> = BTreeMap::new();
        for s in &servers {
            for (tag, value) in &s.tags {
                by_tag.entry((tag, value)).or_default().push(s);
            }
        }
        let by_tag = by_tag
            .into_iter()
            .map(|((tag, value), members)| TagTotals {
                tag: tag.to_owned(),
                value: value.to_owned(),
                totals: Totals::of(members.into_iter()),
            })
            .collect();
        FleetSummary {
            schema_version: SUMMARY_SCHEMA_VERSION,
            tool: ToolInfo::current(),
            run_at: run.run_at,
            totals,
            actions: fleet_actions(&servers),
            servers,
            by_tag,
        }
    }

    /// Pretty JSON, as `DIR/summary.json` holds it.
    pub fn to_json(&self) -> String {
        // Plain data with string keys: serializing cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

impl Totals {
    fn of<'a>(servers: impl Iterator<Item = &'a ServerSummary>) -> Totals {
        let mut t = Totals::default();
        for s in servers {
            t.servers += 1;
            match s.status {
                ServerStatus::Ok => t.ok += 1,
                ServerStatus::Error => t.error += 1,
                ServerStatus::Timeout => t.timeout += 1,
            }
            t.critical += s.counts.critical;
            t.warning += s.counts.warning;
            t.info += s.counts.info;
        }
        t
    }
}

impl ServerSummary {
    fn of(run: &ServerRun) -> ServerSummary {
        let elapsed_seconds = (run.elapsed.as_secs_f64() * 1000.0).round() / 1000.0;
        let mut s = ServerSummary {
            name: run.name.clone(),
            tags: run.tags.clone(),
            target: run.target.clone(),
            status: run.status(),
            error: None,
            server_version: None,
            databases: Vec::new(),
            elapsed_seconds,
            counts: Summary::default(),
            worst: None,
            actions: Vec::new(),
        };
        match &run.outcome {
            Outcome::Failed { message, .. } => s.error = Some(message.clone()),
            Outcome::Audited(a) => {
                s.server_version = Some(a.report.target.server_version.clone());
                s.databases = a.snapshot.database_names().map(str::to_owned).collect();
                s.counts = a.report.summary;
                s.worst = a.report.worst();
                s.actions = a
                    .report
                    .actions
                    .iter()
                    .map(|x| ServerAction {
                        rank: x.rank,
                        id: x.id.clone(),
                        title: x.title.clone(),
                        severity: x.severity,
                        objects: x.objects.len(),
                    })
                    .collect();
            }
        }
        s
    }
}

/// Each action id once, with every server that has it; worst severity first, then the
/// most servers, then the id (a stable order for diffs between runs).
fn fleet_actions(servers: &[ServerSummary]) -> Vec<FleetAction> {
    let mut by_id: Vec<FleetAction> = Vec::new();
    for s in servers {
        for a in &s.actions {
            match by_id.iter_mut().find(|f| f.id == a.id) {
                Some(f) => {
                    f.severity = f.severity.max(a.severity);
                    if !f.servers.contains(&s.name) {
                        f.servers.push(s.name.clone());
                    }
                }
                None => by_id.push(FleetAction {
                    id: a.id.clone(),
                    title: a.title.clone(),
                    severity: a.severity,
                    servers: vec![s.name.clone()],
                }),
            }
        }
    }
    by_id.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.servers.len().cmp(&a.servers.len()))
            .then(a.id.cmp(&b.id))
    });
    by_id
}
