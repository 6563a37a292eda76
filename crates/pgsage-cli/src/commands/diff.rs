//! `pgsage diff OLD NEW`: what changed between two snapshots (or two reports) of one
//! server. The comparison is `pgsage::diff`; this module reads the flags and writes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use pgsage::diff::render::{render, Format};
use pgsage::diff::{DiffOptions, Input};

use crate::output;
use crate::shared_args::SeverityArg;

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The older snapshot or report (JSON).
    pub old: PathBuf,
    /// The newer snapshot or report (JSON).
    pub new: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormatArg::Text)]
    pub format: DiffFormatArg,
    /// Write the diff here instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Exit with status 1 when a new finding is at or above this severity.
    #[arg(long, value_enum, ignore_case = true)]
    pub fail_on: Option<SeverityArg>,
    /// Configuration file the snapshots are audited with (default: ./pgsage.toml if
    /// present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Compare snapshots that look like two servers (another host name, cluster_name or
    /// database oid); the difference is then a warning.
    #[arg(long)]
    pub allow_different_servers: bool,
    /// A statement regressed when its mean time is at least this multiple of the old one.
    #[arg(long, default_value_t = DiffOptions::default().regression.mean_ratio)]
    pub regression_ratio: f64,
    /// …and rose by at least this many milliseconds.
    #[arg(long, default_value_t = DiffOptions::default().regression.min_mean_increase_ms)]
    pub regression_min_ms: f64,
    /// …over at least this many calls in between.
    #[arg(long, default_value_t = DiffOptions::default().regression.min_calls)]
    pub regression_min_calls: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormatArg {
    #[value(alias = "table")]
    Text,
    #[value(alias = "md")]
    Markdown,
    Json,
    /// One self-contained HTML page (write it with -o diff.html).
    Html,
}

pub fn run(args: DiffArgs) -> Result<ExitCode> {
    let config = pgsage::RuleConfig::discover(args.config.as_deref())?;
    let old = Input::load(&args.old).with_context(|| format!("reading {}", args.old.display()))?;
    let new = Input::load(&args.new).with_context(|| format!("reading {}", args.new.display()))?;
    let mut options = DiffOptions {
        allow_different_servers: args.allow_different_servers,
        ..DiffOptions::default()
    };
    options.regression.mean_ratio = args.regression_ratio;
    options.regression.min_mean_increase_ms = args.regression_min_ms;
    options.regression.min_calls = args.regression_min_calls;
    let diff = pgsage::diff::inputs(&old, &new, &config, &options)?;
    // Only findings that appeared fail the run.
    let status = output::status(args.fail_on, diff.findings.new.iter().map(|c| c.severity));
    let format = match args.format {
        DiffFormatArg::Text => Format::Text,
        DiffFormatArg::Markdown => Format::Markdown,
        DiffFormatArg::Json => Format::Json,
        DiffFormatArg::Html => {
            output::write(args.output.as_deref(), |out| {
                out.write_all(pgsage::html::diff_page(&diff).as_bytes())
            })?;
            return Ok(status);
        }
    };
    output::write(args.output.as_deref(), |out| render(&diff, format, out))?;
    Ok(status)
}
