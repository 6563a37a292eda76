//! The `pgsage` command: a thin layer over the `pgsage` library that turns its errors into
//! messages and exit codes (0 fine, 1 findings at or above `--fail-on`, 2 usage or
//! connection errors).
//!
//! Each subcommand is a module of [`commands`] holding its arguments and its `run`; the
//! argument groups several share are in [`shared_args`], and where output goes (and the
//! exit status findings give) in [`output`]. Only this file names the commands.

mod commands;
mod hints;
mod output;
mod shared_args;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use commands::{audit, fleet, indexes, plan, redact, rules, snapshot, tune, workload};

/// pgsage: a PostgreSQL tuning advisor.
#[derive(Debug, Parser)]
#[command(name = "pgsage", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Collect a snapshot from a live server and write it to a file.
    Snapshot(snapshot::SnapshotArgs),
    /// Audit a live server or a snapshot file and print the findings.
    Audit(audit::AuditArgs),
    /// Redact a snapshot file for sharing (hash names, strip literals).
    Redact(redact::RedactArgs),
    /// List the rules, or print one rule's documentation and thresholds.
    Rules(rules::RulesArgs),
    /// Recommend configuration settings from the hardware and the measured workload.
    Tune(tune::TuneArgs),
    /// Capture the workload (server logs, or pg_stat_statements of a live server or a
    /// snapshot): top queries, load profile and the `queries` pack's findings.
    Workload(workload::WorkloadArgs),
    /// Analyze an EXPLAIN plan (a file, standard input, or a statement explained live with
    /// --dsn and --query): findings ranked by where the time went, and --tree.
    Plan(plan::PlanArgs),
    /// Recommend indexes for the workload (pg_stat_statements, a saved workload or server
    /// logs), validated with HypoPG on a live server that has it.
    Indexes(indexes::IndexesArgs),
    /// Print one rule's documentation (same as `rules ID`).
    Rule(rules::RuleArgs),
    /// Audit every server of an inventory (--inventory fleet.toml) into a directory: per
    /// server its snapshot and report, the fleet summary, and the findings as Parquet.
    Fleet(fleet::FleetArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Snapshot(a) => snapshot::run(a),
        Command::Audit(a) => audit::run(a),
        Command::Redact(a) => redact::run(a),
        Command::Rules(a) => rules::run(a),
        Command::Tune(a) => tune::run(a),
        Command::Workload(a) => workload::run(a),
        Command::Plan(a) => plan::run(a),
        Command::Indexes(a) => indexes::run(a),
        Command::Rule(a) => rules::run_one(a),
        Command::Fleet(a) => fleet::run(a),
    };
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let mut stderr = std::io::stderr().lock();
            let _ = write!(stderr, "pgsage: error: {err}");
            for cause in err.chain().skip(1) {
                let _ = write!(stderr, "\n  caused by: {cause}");
            }
            let _ = writeln!(stderr);
            ExitCode::from(2)
        }
    }
}

/// A closed pipe (`pgsage … | head`) is how the reader says it has enough: not an error.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
