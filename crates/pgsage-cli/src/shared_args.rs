//! Argument groups shared by several commands (how to reach a server, what to collect,
//! host facts, server logs), each with the library call it feeds, and the value enums of
//! the options several take (`--format`, `--min-severity`/`--fail-on`), so clap lists
//! the choices in `--help` and rejects anything else. Value enums keep the library's
//! spellings as aliases, and their variants carry no doc comments: clap would print those
//! as a list and switch the whole `--help` to its long layout.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::{Args, ValueEnum};
use pgsage::knowledge::platform_tiers;
use pgsage::snapshot::HostFacts;
use pgsage::workload::log::LogFormat;
use pgsage::{CollectOptions, Severity, Snapshot};

/// `--format` of the commands that print a report: each takes all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    #[value(alias = "text")]
    Table,
    Json,
    #[value(alias = "md")]
    Markdown,
    /// One self-contained HTML page (write it with -o report.html).
    Html,
}

impl From<FormatArg> for pgsage::report::render::Format {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Table => Self::Table,
            FormatArg::Json => Self::Json,
            FormatArg::Markdown => Self::Markdown,
            FormatArg::Html => Self::Html,
        }
    }
}

/// `--min-severity` and `--fail-on` (any case, as the library reads them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeverityArg {
    Info,
    #[value(alias = "warn")]
    Warning,
    #[value(alias = "crit")]
    Critical,
}

impl From<SeverityArg> for Severity {
    fn from(s: SeverityArg) -> Self {
        match s {
            SeverityArg::Info => Self::Info,
            SeverityArg::Warning => Self::Warning,
            SeverityArg::Critical => Self::Critical,
        }
    }
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
    /// Also read the tables, indexes and statistics of every other database the role may
    /// connect to (one connection per database, --jobs at once); the rules then judge
    /// each database.
    #[arg(long, conflicts_with = "databases")]
    pub all_databases: bool,
    /// Like --all-databases, for the databases matching these glob patterns
    /// (comma-separated, e.g. 'tenant_*,erp').
    #[arg(long, value_name = "PATTERN", value_delimiter = ',')]
    pub databases: Vec<String>,
    /// How many databases to read at once with --all-databases or --databases.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
}

impl ConnectArgs {
    /// Collects a snapshot from the server, with `host` facts recorded in it;
    /// `probe_local_host` reads RAM and CPUs from this machine when the server is local.
    pub fn collect(&self, host: HostFacts, probe_local_host: bool) -> Result<Snapshot> {
        let connect = self.server.connect_options();
        let options = CollectOptions {
            include_query_text: self.include_query_text,
            statements_top_n: self.statements_top,
            interval: self.interval,
            host_facts: host,
            probe_local_host,
            databases: if self.all_databases {
                pgsage::DatabaseSelection::All
            } else if self.databases.is_empty() {
                pgsage::DatabaseSelection::Connected
            } else {
                pgsage::DatabaseSelection::Matching(self.databases.clone())
            },
            jobs: usize::from(self.jobs),
            ..CollectOptions::default()
        };
        if let Some(i) = self.interval {
            if std::io::stderr().is_terminal() {
                eprintln!(
                    "pgsage: sampling twice, {} apart…",
                    humantime::format_duration(i)
                );
            }
        }
        Ok(pgsage::collect_snapshot_with(&connect, &options)?)
    }
}

/// Facts about the host that SQL cannot see.
#[derive(Debug, Args, Clone, Default)]
pub struct HostArgs {
    /// RAM available to PostgreSQL, with its unit, e.g. 24GiB.
    #[arg(long, value_parser = ram_flag)]
    pub ram: Option<String>,
    /// CPUs available to PostgreSQL.
    #[arg(long)]
    pub cpus: Option<f64>,
    /// Storage under the data directory (san: network or cloud block storage).
    #[arg(long, value_enum, ignore_case = true)]
    pub storage: Option<StorageArg>,
    /// Where the server runs, when detection (provider settings and roles) cannot see it:
    /// azure-flexible-server, aws-rds, aws-aurora, gcp-cloud-sql, gcp-alloydb or
    /// self-managed.
    #[arg(long, value_parser = platform_flag)]
    pub platform: Option<pgsage::snapshot::Platform>,
    /// The managed service's compute size, whose RAM, vCPUs and storage become the host
    /// facts (--ram, --cpus and --storage still win): Standard_D4ds_v5, db.r6g.large,
    /// db-custom-4-16384; docs/tiers.md lists them.
    #[arg(long, value_parser = tier_flag)]
    pub tier: Option<String>,
    /// Do not read RAM and CPUs from this machine when the server is local (Unix socket or
    /// loopback), e.g. when a loopback port is a tunnel to another host.
    #[arg(long)]
    pub no_local_facts: bool,
}

impl HostArgs {
    /// The facts given by flags, checked: `--ram`, `--cpus`, `--storage` and `--platform`,
    /// then what `--tier` gives that they leave out (a tier of another platform than
    /// `--platform` is an error).
    pub fn facts(&self) -> Result<HostFacts> {
        let mut facts = pgsage::host::from_flags(
            self.ram.as_deref(),
            self.cpus,
            self.storage.map(StorageArg::name),
            "flag",
        )?;
        facts.platform = self
            .platform
            .map(|p| pgsage::snapshot::Fact::new(p, "flag"));
        Ok(platform_tiers::with_tier(
            facts,
            self.tier.as_deref(),
            "flag",
        )?)
    }
}

/// Fails when the tier given (flag, configuration) or recorded in the snapshot is not one
/// of the platform the advice is for: given, recorded, or detected from the snapshot.
pub fn check_tier(snapshot: &Snapshot, host: &HostFacts) -> Result<()> {
    platform_tiers::check_snapshot(snapshot, host)
        .map_err(|e| anyhow::anyhow!("{e} (--tier, --platform)"))
}

/// `--tier`, looked up by the library (its message says how tiers are named), as the
/// provider spells it.
pub fn tier_flag(text: &str) -> Result<String, String> {
    platform_tiers::lookup(text)
        .map(|tier| tier.name)
        .map_err(|e| match e {
            pgsage::CoreError::InvalidValue { problem, .. } => {
                format!("{problem} (--ram, --cpus)")
            }
            other => other.to_string(),
        })
}

/// `--platform`, parsed by the library (its message lists the platforms).
pub fn platform_flag(text: &str) -> Result<pgsage::snapshot::Platform, String> {
    text.parse()
        .map_err(|e: pgsage::ParseValueError| e.to_string())
}

/// `--ram`, checked as the library checks it (a unit, a plausible size), so that clap's
/// usage error names the flag: `invalid value '16' for '--ram <RAM>': `16` has no unit…`.
fn ram_flag(text: &str) -> Result<String, String> {
    pgsage::host::parse_ram(text).map(|_| text.to_owned())
}

/// `--storage`: the library's `StorageKind` (network and cloud are san too).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StorageArg {
    Hdd,
    Ssd,
    Nvme,
    #[value(alias = "network", alias = "cloud")]
    San,
}

impl StorageArg {
    /// The name the library parses (it records the fact with its source).
    fn name(self) -> &'static str {
        match self {
            StorageArg::Hdd => "hdd",
            StorageArg::Ssd => "ssd",
            StorageArg::Nvme => "nvme",
            StorageArg::San => "san",
        }
    }
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
    /// Log format (default: detected per file; cloud-logging: a Cloud SQL or AlloyDB
    /// export, `gcloud logging read --format=json`).
    #[arg(long, value_enum)]
    pub log_format: Option<LogFormatArg>,
}

/// `--log-format`, named as `log_destination` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormatArg {
    Stderr,
    #[value(alias = "csvlog")]
    Csv,
    #[value(alias = "jsonlog")]
    Json,
    #[value(alias = "cloud_logging")]
    CloudLogging,
}

impl From<LogFormatArg> for LogFormat {
    fn from(f: LogFormatArg) -> Self {
        match f {
            LogFormatArg::Stderr => Self::Stderr,
            LogFormatArg::Csv => Self::Csv,
            LogFormatArg::Json => Self::Json,
            LogFormatArg::CloudLogging => Self::CloudLogging,
        }
    }
}

impl LogArgs {
    /// `--log-format` for the library.
    pub fn format(&self) -> Option<LogFormat> {
        self.log_format.map(Into::into)
    }
}

/// What the recommended configuration is sized for: shared by `tune` and `audit`, so that
/// both give one value per setting. Flags win over the configuration's `[tune]` section.
#[derive(Debug, Args, Clone)]
pub struct SizingArgs {
    /// Workload profile the settings are sized for (dw: data warehouse) [default: the
    /// configuration's [tune] profile, else mixed].
    #[arg(long, value_enum, ignore_case = true)]
    pub profile: Option<ProfileArg>,
    /// Plan max_connections for this many connections instead of deriving it from the
    /// server.
    #[arg(long)]
    pub connections: Option<i64>,
}

impl SizingArgs {
    /// Puts the flags into the configuration.
    pub fn apply(&self, config: &mut pgsage::RuleConfig) -> anyhow::Result<()> {
        if let Some(p) = self.profile {
            config.profile = p.into();
        }
        if let Some(n) = self.connections {
            if n < 1 {
                anyhow::bail!("--connections must be at least 1");
            }
            config.connections = Some(n);
        }
        Ok(())
    }
}

/// `--profile`: the library's `Profile`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProfileArg {
    Oltp,
    Web,
    Mixed,
    Dw,
}

impl From<ProfileArg> for pgsage::tune::Profile {
    fn from(p: ProfileArg) -> Self {
        match p {
            ProfileArg::Oltp => Self::Oltp,
            ProfileArg::Web => Self::Web,
            ProfileArg::Mixed => Self::Mixed,
            ProfileArg::Dw => Self::Dw,
        }
    }
}
