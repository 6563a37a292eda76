//! `pgsage snapshot`: collect a snapshot from a live server and write it to a file.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use crate::shared_args::{check_tier, ConnectArgs, HostArgs};

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

pub fn run(args: SnapshotArgs) -> Result<ExitCode> {
    let host = args.host.facts()?;
    let mut snap = args.connect.collect(host, !args.host.no_local_facts)?;
    // The tier's platform against what the server shows, before anything is written.
    check_tier(&snap, &snap.host)?;
    if args.redact {
        pgsage::redact::redact(&mut snap);
    }
    snap.save(&args.output)?;
    eprintln!(
        "pgsage: wrote {} ({} tables, {} indexes, {} gaps)",
        args.output.display(),
        snap.tables.len(),
        snap.indexes.len(),
        snap.gaps.len()
    );
    Ok(ExitCode::SUCCESS)
}
