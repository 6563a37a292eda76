//! `pgsage tune`: configuration settings recommended from the hardware and the measured
//! workload, with the `ALTER SYSTEM` script that applies them.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;
use pgsage::tune::render::{render, TuneFormat};
use pgsage::Snapshot;

use crate::shared_args::{check_tier, ConnectArgs, FormatArg, HostArgs, SizingArgs};
use crate::{hints, output};

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
    #[command(flatten)]
    pub sizing: SizingArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    /// Print only the ALTER SYSTEM script.
    #[arg(long)]
    pub script: bool,
    /// Write the advice (or the script) here instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Width of the table output (default: the terminal's, or 100).
    #[arg(long, value_parser = output::parse_width)]
    pub width: Option<u16>,
}

pub fn run(args: TuneArgs) -> Result<ExitCode> {
    let mut config = pgsage::RuleConfig::discover(args.config.as_deref())?;
    args.sizing.apply(&mut config)?;
    // Flags win over the configuration file; the snapshot's facts fill the rest.
    config.host = args.host.facts()?.or(&config.host);
    let snap = match &args.snapshot {
        Some(path) => Snapshot::load(path)?,
        None => {
            if !args.connect.server.given() {
                bail!(
                    "nothing to tune: pass --snapshot FILE or --dsn DSN (or set PGHOST/PGDATABASE)"
                );
            }
            args.connect
                .collect(config.host.clone(), !args.host.no_local_facts)?
        }
    };
    // The same recommendation the audit's setting fixes use, completed with the
    // settings the audit's findings change.
    check_tier(&snap, &config.host)?;
    let report = pgsage::tune_report(&snap, &config);
    let width = output::table_width(args.width, output::to_terminal(args.output.as_deref()));
    // The notes name the missing facts; the flags that give them are ours. They follow
    // the table and the Markdown; nothing may follow a page's </html>, so with HTML they
    // go to standard error; JSON stays the report alone.
    let hints = hints::missing_facts(report.missing_facts.iter().copied());
    output::write(args.output.as_deref(), |out| {
        if args.script {
            return out.write_all(report.script().as_bytes());
        }
        if args.format == FormatArg::Html {
            return out.write_all(pgsage::html::tune_page(&report).as_bytes());
        }
        render(&report, args.format.into(), width, out)?;
        if matches!(args.format, FormatArg::Table | FormatArg::Markdown) {
            for line in &hints {
                writeln!(out, "\n{line}")?;
            }
        }
        Ok(())
    })?;
    if args.format == FormatArg::Html && !args.script {
        for line in &hints {
            eprintln!("{line}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

impl From<FormatArg> for TuneFormat {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Table => Self::Table,
            FormatArg::Json => Self::Json,
            FormatArg::Markdown => Self::Markdown,
            FormatArg::Html => Self::Html,
        }
    }
}
