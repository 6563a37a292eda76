//! Rewrites stored snapshot files the way the repository keeps them: volatile fields
//! normalised (`Snapshot::normalise_for_storage`) and compact JSON. The capture scripts
//! (`scripts/capture-fixtures.sh`, `scripts/make-demo-snapshot.sh`) run it after each
//! capture; running it again changes nothing.
//!
//! ```sh
//! cargo run -q -p pgsage-core --example normalise_snapshot -- testdata/fixtures/*/*.json
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use pgsage_core::Snapshot;

fn main() -> ExitCode {
    let files: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if files.is_empty() {
        eprintln!("usage: normalise_snapshot FILE...");
        return ExitCode::from(2);
    }
    let (mut rewritten, mut failed) = (0, 0);
    for path in &files {
        match normalise(path) {
            Ok(true) => rewritten += 1,
            Ok(false) => {}
            Err(e) => {
                eprintln!("{e}");
                failed += 1;
            }
        }
    }
    eprintln!(
        "normalised {} snapshot files: {rewritten} rewritten, {} already normalised{}",
        files.len(),
        files.len() - rewritten - failed,
        if failed > 0 {
            format!(", {failed} failed")
        } else {
            String::new()
        }
    );
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Normalises one file in place; `Ok(false)` when it already was, so its modification
/// time stays.
fn normalise(path: &PathBuf) -> pgsage_core::Result<bool> {
    let before = std::fs::read(path).unwrap_or_default();
    let mut snapshot = Snapshot::load(path)?;
    snapshot.normalise_for_storage();
    let after = snapshot.to_json_compact() + "\n";
    if before == after.as_bytes() {
        return Ok(false);
    }
    snapshot.save_compact(path)?;
    Ok(true)
}
