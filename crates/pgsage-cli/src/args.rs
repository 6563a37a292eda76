//! Command-line arguments.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// pgsage: a PostgreSQL tuning advisor.
#[derive(Debug, Parser)]
#[command(name = "pgsage", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Collect a snapshot from a live server and write it to a file.
    Snapshot(SnapshotArgs),
    /// Audit a live server or a snapshot file and print the findings.
    Audit(AuditArgs),
    /// Redact a snapshot file for sharing (hash names, strip literals).
    Redact(RedactArgs),
    /// List the rules, or print one rule's documentation and thresholds.
    Rules(RulesArgs),
    /// Recommend configuration settings from the hardware and the measured workload.
    Tune(TuneArgs),
    /// Capture the workload (server logs, or pg_stat_statements of a live server or a
    /// snapshot): top queries, load profile and the `queries` pack's findings.
    Workload(WorkloadArgs),
    /// Analyze an EXPLAIN plan (a file, standard input, or a statement explained live with
    /// --dsn and --query): findings ranked by where the time went, and --tree.
    Plan(crate::plan::PlanArgs),
    /// Recommend indexes for the workload (pg_stat_statements, a saved workload or server
    /// logs), validated with HypoPG on a live server that has it.
    Indexes(crate::indexes::IndexesArgs),
    /// Print one rule's documentation (same as `rules ID`).
    Rule {
        /// Rule id, e.g. VAC001.
        id: String,
    },
}

/// How to reach a server: shared by every command that talks to one.
#[derive(Debug, Args, Clone)]
pub struct ServerArgs {
    /// Connection string (postgres://… URL or key=value); PG* environment variables and
    /// ~/.pgpass fill in what it leaves out.
    #[arg(long)]
    pub dsn: Option<String>,
    /// Give up connecting after this long.
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub connect_timeout: Duration,
    /// statement_timeout for each collection query.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub statement_timeout: Duration,
    /// lock_timeout for each collection query.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    pub lock_timeout: Duration,
}

impl ServerArgs {
    /// Whether a server is named at all: `--dsn`, or libpq's PGHOST/PGDATABASE.
    pub fn given(&self) -> bool {
        self.dsn.is_some()
            || std::env::var_os("PGHOST").is_some()
            || std::env::var_os("PGDATABASE").is_some()
    }

    /// The library's connection options.
    pub fn connect_options(&self) -> pgsage::ConnectOptions {
        pgsage::ConnectOptions {
            dsn: self.dsn.clone(),
            connect_timeout: self.connect_timeout,
            statement_timeout: self.statement_timeout,
            lock_timeout: self.lock_timeout,
            ..pgsage::ConnectOptions::default()
        }
    }
}

/// Connection and collection options shared by commands that collect a snapshot.
#[derive(Debug, Args, Clone)]
pub struct ConnectArgs {
    #[command(flatten)]
    pub server: ServerArgs,
    /// Take two samples this far apart (e.g. 60s, 5m) so rules use rates, not lifetime counters.
    #[arg(long, value_parser = humantime::parse_duration)]
    pub interval: Option<Duration>,
    /// Keep pg_stat_activity query texts (truncated) in the snapshot.
    #[arg(long)]
    pub include_query_text: bool,
    /// How many pg_stat_statements entries to keep (by total time).
    #[arg(long, default_value_t = 1000)]
    pub statements_top: usize,
}

/// Facts about the host that SQL cannot see.
#[derive(Debug, Args, Clone, Default)]
pub struct HostArgs {
    /// RAM available to PostgreSQL, e.g. 24GiB.
    #[arg(long)]
    pub ram: Option<String>,
    /// CPUs available to PostgreSQL.
    #[arg(long)]
    pub cpus: Option<f64>,
    /// Storage under the data directory: hdd, ssd, nvme or san.
    #[arg(long)]
    pub storage: Option<String>,
    /// Do not read RAM and CPUs from this machine when the server is local (Unix socket or
    /// loopback), e.g. when a loopback port is a tunnel to another host.
    #[arg(long)]
    pub no_local_facts: bool,
}

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub host: HostArgs,
    /// Output file.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Replace host, user and application names with hashes and strip literals from queries.
    #[arg(long)]
    pub redact: bool,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Audit this snapshot file instead of a live server.
    #[arg(long, conflicts_with = "dsn")]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub host: HostArgs,
    /// Configuration file overriding the rule packs (default: ./pgsage.toml if present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output format: table, json or markdown.
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Only these packs (repeatable).
    #[arg(long = "pack")]
    pub packs: Vec<String>,
    /// Only findings at or above this severity: info, warning, critical.
    #[arg(long)]
    pub min_severity: Option<String>,
    /// Exit with status 1 when a finding is at or above this severity.
    #[arg(long)]
    pub fail_on: Option<String>,
    /// Write the report here instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Width of the table output (default: the terminal's, or 100).
    #[arg(long)]
    pub width: Option<u16>,
}

#[derive(Debug, Args)]
pub struct RedactArgs {
    /// Snapshot to redact.
    pub input: PathBuf,
    /// Where to write the redacted snapshot.
    #[arg(short, long)]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct RulesArgs {
    /// A rule id: print its documentation and thresholds.
    pub id: Option<String>,
    /// Output format for the list: table or json.
    #[arg(long, default_value = "table")]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct TuneArgs {
    /// Tune from this snapshot file instead of a live server.
    #[arg(long, conflicts_with = "dsn")]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(flatten)]
    pub host: HostArgs,
    /// Configuration file with [host] facts (default: ./pgsage.toml if present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Workload profile: oltp, web, mixed or dw.
    #[arg(long, default_value = "mixed")]
    pub profile: String,
    /// Plan for this max_connections instead of deriving it from the server.
    #[arg(long)]
    pub connections: Option<i64>,
    /// Output format: table, json or markdown.
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Print only the ALTER SYSTEM script.
    #[arg(long)]
    pub script: bool,
    /// Width of the table output (default: the terminal's, or 100).
    #[arg(long)]
    pub width: Option<u16>,
}

/// Server log files and how to read them: shared by `workload` and `indexes`.
#[derive(Debug, Args, Clone)]
pub struct LogArgs {
    /// Server log files: stderr (any log_line_prefix), csvlog or jsonlog, plain or .gz;
    /// `-` reads standard input. Without logs, pg_stat_statements is used.
    pub logs: Vec<PathBuf>,
    /// The server's log_line_prefix (stderr logs; default: the snapshot's or server's
    /// setting when there is one, else detected).
    #[arg(long)]
    pub log_line_prefix: Option<String>,
    /// Log format: stderr, csv or json (default: detected per file).
    #[arg(long)]
    pub log_format: Option<String>,
}

impl LogArgs {
    /// `--log-format`, checked.
    pub fn format(&self) -> anyhow::Result<Option<pgsage::workload::log::LogFormat>> {
        self.log_format
            .as_deref()
            .map(|f| f.parse().map_err(anyhow::Error::msg))
            .transpose()
    }
}

#[derive(Debug, Args)]
pub struct WorkloadArgs {
    #[command(flatten)]
    pub log: LogArgs,
    /// Use this snapshot's pg_stat_statements (or, with log files, its logging settings).
    #[arg(long, conflicts_with = "dsn")]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Configuration file overriding the rule packs (default: ./pgsage.toml if present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output format: table, json or markdown.
    #[arg(long, default_value = "table")]
    pub format: String,
    /// Save the workload (every fingerprint, JSON) to this file, e.g. workload.json.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// How many queries to list.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Order of the listed queries: total, mean, calls or temp.
    #[arg(long, default_value = "total")]
    pub by: String,
    /// Length of a time window for log captures (e.g. 1h, 15m).
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub bucket: Duration,
    /// Log parser threads (default: every core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Exit with status 1 when a finding is at or above this severity.
    #[arg(long)]
    pub fail_on: Option<String>,
    /// Width of the table output (default: the terminal's, or 100).
    #[arg(long)]
    pub width: Option<u16>,
}
