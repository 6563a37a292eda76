//! `pgsage redact`: hash the names and strip the literals of a snapshot file for sharing.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use pgsage::Snapshot;

#[derive(Debug, Args)]
pub struct RedactArgs {
    /// Snapshot to redact.
    pub input: PathBuf,
    /// Where to write the redacted snapshot.
    #[arg(short, long)]
    pub output: PathBuf,
}

pub fn run(args: RedactArgs) -> Result<ExitCode> {
    let mut snap = Snapshot::load(&args.input)?;
    pgsage::redact::redact(&mut snap);
    snap.save(&args.output)?;
    Ok(ExitCode::SUCCESS)
}
