//! `pgsage indexes`: the index advisor. Schema from a live server (validated with HypoPG
//! when installed) or a snapshot; statements from pg_stat_statements, a saved workload
//! or server logs.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Result};
use clap::Args;
use pgsage::advise::render::{findings, render, RenderOptions};
use pgsage::advise::request::{self, QueriesFrom, Request, SchemaFrom};
use pgsage::advise::{AdvisorOptions, IndexAdvice, Validation};
use pgsage::workload::Workload;
use pgsage::Snapshot;

use crate::output;
use crate::shared_args::{FormatArg, LogArgs, ServerArgs, SeverityArg};

#[derive(Debug, Args)]
pub struct IndexesArgs {
    /// Server log files to take the statements from.
    #[command(flatten)]
    pub log: LogArgs,
    /// Take the statements from a workload saved by `pgsage workload -o FILE`.
    #[arg(long, conflicts_with = "logs")]
    pub workload: Option<PathBuf>,
    /// Schema (and statements) from this snapshot file instead of a live server: advice
    /// is not validated.
    #[arg(long, conflicts_with = "dsn")]
    pub snapshot: Option<PathBuf>,
    /// The server (its EXPLAINs use IDX009's statement_timeout_ms).
    #[command(flatten)]
    pub server: ServerArgs,
    /// At most this many new indexes (default: IDX009's max_indexes, 5).
    #[arg(long)]
    pub max_indexes: Option<usize>,
    /// At most this much new index space in total, e.g. 2GB or 500MiB.
    #[arg(long)]
    pub max_size: Option<String>,
    /// Do not validate with HypoPG even when the server has it.
    #[arg(long)]
    pub no_validate: bool,
    /// Only statements of this database (default: the one connected to or snapshotted).
    #[arg(long)]
    pub database: Option<String>,
    /// Configuration file overriding the rule packs (IDX009's thresholds; default:
    /// ./pgsage.toml if present).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = FormatArg::Table)]
    pub format: FormatArg,
    /// Write the advice here instead of standard output.
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// List the rejected candidates with their reasons in the table.
    #[arg(long, short)]
    pub verbose: bool,
    /// No notes on standard error.
    #[arg(long, short)]
    pub quiet: bool,
    /// Exit with status 1 when a recommendation's finding (IDX009, warning) is at or
    /// above this severity.
    #[arg(long, value_enum, ignore_case = true)]
    pub fail_on: Option<SeverityArg>,
    /// Width of the table output (default: the terminal's, or 100).
    #[arg(long, value_parser = output::parse_width)]
    pub width: Option<u16>,
}

pub fn run(args: IndexesArgs) -> Result<ExitCode> {
    let config = pgsage::RuleConfig::discover(args.config.as_deref())?;
    let options = AdvisorOptions::from_config(&config)?
        .overridden(
            args.max_indexes,
            args.max_size.as_deref(),
            args.database.clone(),
        )
        .map_err(flag_error)?;
    let schema = match &args.snapshot {
        Some(path) => SchemaFrom::Snapshot(Box::new(Snapshot::load(path)?)),
        None => {
            if !args.server.given() {
                bail!("no schema to advise on: pass --dsn DSN (or set PGHOST/PGDATABASE) or --snapshot FILE");
            }
            SchemaFrom::Server(args.server.connect_options())
        }
    };
    let queries = if let Some(path) = &args.workload {
        QueriesFrom::Workload(Box::new(Workload::load(path)?))
    } else if !args.log.logs.is_empty() {
        QueriesFrom::Logs {
            paths: args.log.logs.clone(),
            prefix: args.log.log_line_prefix.clone(),
            format: args.log.format(),
        }
    } else {
        QueriesFrom::Statements
    };
    let from_statements = matches!(queries, QueriesFrom::Statements);
    let advice = request::run(
        Request {
            schema,
            queries,
            options,
            validate: !args.no_validate,
        },
        None,
    )
    .map_err(|e| match e {
        // The library names the missing statements; the flags that give them are ours.
        pgsage::Error::Core(pgsage::CoreError::InvalidValue { ref what, .. })
            if from_statements && what == request::NO_STATEMENTS =>
        {
            anyhow::anyhow!(
                "{e}; pass --workload FILE (saved by `pgsage workload -o`) or server log files"
            )
        }
        e => e.into(),
    })?;
    if !args.quiet {
        notes(&advice, &args);
    }
    write(&args, &advice)?;
    Ok(output::status(
        args.fail_on,
        findings(&advice).iter().map(|finding| finding.severity),
    ))
}

/// An invalid option named by its flag (`max_size` → `--max-size`), the library's
/// message as the cause.
fn flag_error(e: pgsage::CoreError) -> anyhow::Error {
    let flag = match &e {
        pgsage::CoreError::InvalidValue { what, .. } => {
            Some(format!("--{}", what.replace('_', "-")))
        }
        _ => None,
    };
    match flag {
        Some(flag) => anyhow::Error::new(e).context(flag),
        None => e.into(),
    }
}

/// Warnings worth a line on standard error whatever the format (unparsable statements
/// are counted in the output's header, not repeated here), and how to get more with the
/// flags (the library names what is missing, not our flags).
fn notes(advice: &IndexAdvice, args: &IndexesArgs) {
    if advice.statements.total == 0 {
        eprintln!("pgsage: the workload has no statements to advise on");
    }
    if matches!(&advice.validation, Validation::Unvalidated { reason } if reason == request::NO_SERVER_REASON)
    {
        eprintln!(
            "pgsage: hint: run with --dsn DSN instead of --snapshot (a server with HypoPG) to validate the advice"
        );
    }
    if !args.verbose && !advice.rejected.is_empty() && args.format == FormatArg::Table {
        eprintln!("pgsage: hint: pass --verbose to list the rejected candidates with the reasons");
    }
}

fn write(args: &IndexesArgs, advice: &IndexAdvice) -> Result<()> {
    let opts = RenderOptions {
        width: output::table_width(args.width, output::to_terminal(args.output.as_deref())),
        verbose: args.verbose,
    };
    output::write(args.output.as_deref(), |out| {
        if args.format == FormatArg::Html {
            return out.write_all(pgsage::html::indexes_page(advice).as_bytes());
        }
        render(advice, args.format.into(), &opts, out)
    })?;
    if let Some(path) = &args.output {
        if !args.quiet {
            eprintln!(
                "pgsage: wrote {} ({} recommendation(s))",
                path.display(),
                advice.recommendations.len()
            );
        }
    }
    Ok(())
}
