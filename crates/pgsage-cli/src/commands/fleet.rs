//! `pgsage fleet`: audit every server of an inventory into an output directory and print
//! the fleet summary.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use pgsage::fleet::{self, FleetFormat, FleetOptions};

use crate::output;
use crate::shared_args::SeverityArg;

#[derive(Debug, Args)]
pub struct FleetArgs {
    /// The inventory: one [[server]] table per server with name and dsn (docs/fleet.md).
    #[arg(long)]
    pub inventory: PathBuf,
    /// Output directory (created, or reused: its files are replaced).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Servers collected at once.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..))]
    pub jobs: u16,
    /// Per server: connecting and collecting must end within this (e.g. 90s, 5m), else the
    /// server is reported as `timeout`.
    #[arg(long, default_value = "5m", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// Give up connecting to a server after this long (at most --timeout).
    #[arg(long, default_value = "10s", value_parser = humantime::parse_duration)]
    pub connect_timeout: Duration,
    /// statement_timeout for each collection query.
    #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
    pub statement_timeout: Duration,
    /// Configuration file overriding the rule packs (default: ./pgsage.toml if present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// How the summary is printed.
    #[arg(long, value_enum, default_value_t = FleetFormatArg::Table)]
    pub format: FleetFormatArg,
    /// Exit with status 1 when a finding on any server is at or above this severity.
    #[arg(long, value_enum, ignore_case = true)]
    pub fail_on: Option<SeverityArg>,
    /// Width of the table output (default: the terminal's, or 100).
    #[arg(long, value_parser = output::parse_width)]
    pub width: Option<u16>,
}

/// `--format` of `pgsage fleet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FleetFormatArg {
    #[value(alias = "text")]
    Table,
    #[value(alias = "md")]
    Markdown,
    Json,
}

impl From<FleetFormatArg> for FleetFormat {
    fn from(f: FleetFormatArg) -> Self {
        match f {
            FleetFormatArg::Table => FleetFormat::Table,
            FleetFormatArg::Markdown => FleetFormat::Markdown,
            FleetFormatArg::Json => FleetFormat::Json,
        }
    }
}

pub fn run(args: FleetArgs) -> Result<ExitCode> {
    let inventory = fleet::load_inventory(&args.inventory)?;
    // Before the run, not after it: a wrong -o must not cost a whole fleet's collection.
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("creating the output directory {}", args.output.display()))?;
    let options = FleetOptions {
        jobs: usize::from(args.jobs),
        timeout: args.timeout,
        connect: pgsage::ConnectOptions {
            connect_timeout: args.connect_timeout,
            statement_timeout: args.statement_timeout,
            ..pgsage::ConnectOptions::default()
        },
        ..FleetOptions::new(pgsage::RuleConfig::discover(args.config.as_deref())?)
    };
    // On a terminal, a line per server as it finishes: a fleet run can take minutes.
    let total = inventory.servers.len();
    let finished = std::sync::atomic::AtomicUsize::new(0);
    let progress = |server: &fleet::ServerRun| {
        let n = finished.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        eprintln!(
            "pgsage: [{n}/{total}] {} {} ({})",
            server.name,
            server.status(),
            pgsage::units::duration(server.elapsed.as_secs_f64())
        );
    };
    let run = if std::io::stderr().is_terminal() {
        fleet::run_with_progress(&inventory, &options, &progress)
    } else {
        fleet::run(&inventory, &options)
    };
    let written = fleet::write_run(&args.output, &run)?;
    let width = output::table_width(args.width, output::to_terminal(None));
    output::write(None, |out| {
        fleet::render_summary(&written.summary, args.format.into(), width, out)
    })?;
    eprintln!(
        "pgsage: wrote {} ({}, {} in findings.parquet and findings.ndjson)",
        args.output.display(),
        pgsage::units::counted(run.servers.len(), "server", "servers"),
        pgsage::units::counted(written.findings, "finding", "findings"),
    );
    if !run.any_audited() {
        eprintln!("pgsage: error: no server could be audited (see the summary)");
        return Ok(ExitCode::from(2));
    }
    Ok(output::status(args.fail_on, run.severities()))
}
