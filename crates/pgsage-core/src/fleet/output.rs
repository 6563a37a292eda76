//! The output directory of a fleet run:
//!
//! ```text
//! DIR/summary.json        the fleet summary (FleetSummary)
//! DIR/summary.html        the same as one page (crate::html::fleet_page), written by the
//!                         live layer's `pgsage::fleet::write_run` (html is above fleet)
//! DIR/findings.parquet    one row per finding (FindingRow), for DuckDB, polars, Spark
//! DIR/findings.ndjson     the same rows as newline-delimited JSON
//! DIR/<name>/snapshot.json and DIR/<name>/report.json, per audited server
//! ```
//!
//! An existing directory is reused: every file is replaced atomically (written to a
//! temporary file beside it, then renamed), so a reader or a sync to object storage never
//! sees half a file. A server that failed this run loses the snapshot and report of an
//! earlier run, so nothing in the directory is older than its summary says.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::findings::{write_ndjson, FindingRow};
use super::parquet::write_parquet;
use super::run::{FleetRun, Outcome};
use super::summary::FleetSummary;
use crate::{Error, Result};

/// The file names, relative to the output directory.
pub const SUMMARY_JSON: &str = "summary.json";
/// See [`SUMMARY_JSON`].
pub const SUMMARY_HTML: &str = "summary.html";
/// See [`SUMMARY_JSON`].
pub const FINDINGS_PARQUET: &str = "findings.parquet";
/// See [`SUMMARY_JSON`].
pub const FINDINGS_NDJSON: &str = "findings.ndjson";
/// Per server, under `DIR/<name>/`.
pub const SNAPSHOT_JSON: &str = "snapshot.json";
/// Per server, under `DIR/<name>/`.
pub const REPORT_JSON: &str = "report.json";

/// What [`write_dir`] wrote.
#[derive(Debug, Clone)]
pub struct Written {
    /// The summary it wrote.
    pub summary: FleetSummary,
    /// Rows in the findings table.
    pub findings: usize,
    /// Every file written, in order.
    pub files: Vec<PathBuf>,
}

/// Writes the run into `dir` (created when missing).
pub fn write_dir(dir: &Path, run: &FleetRun) -> Result<Written> {
    create_dir(dir)?;
    let mut files = Vec::new();
    for server in &run.servers {
        let server_dir = dir.join(&server.name);
        create_dir(&server_dir)?;
        let snapshot = server_dir.join(SNAPSHOT_JSON);
        let report = server_dir.join(REPORT_JSON);
        match &server.outcome {
            Outcome::Audited(a) => {
                write_atomic(&snapshot, |out| {
                    out.write_all(a.snapshot.to_json().as_bytes())?;
                    out.write_all(b"\n")
                })?;
                write_atomic(&report, |out| {
                    out.write_all(a.report.to_json().as_bytes())?;
                    out.write_all(b"\n")
                })?;
                files.push(snapshot);
                files.push(report);
            }
            Outcome::Failed { .. } => {
                for stale in [&snapshot, &report] {
                    remove_stale(stale)?;
                }
            }
        }
    }
    let rows = FindingRow::all(run);
    let parquet = dir.join(FINDINGS_PARQUET);
    write_atomic(&parquet, |out| write_parquet(&rows, out))?;
    let ndjson = dir.join(FINDINGS_NDJSON);
    write_atomic(&ndjson, |out| write_ndjson(&rows, out))?;
    let summary = FleetSummary::of(run);
    let summary_json = dir.join(SUMMARY_JSON);
    // Last: a reader that sees the new summary sees the new findings too.
    write_atomic(&summary_json, |out| {
        out.write_all(summary.to_json().as_bytes())?;
        out.write_all(b"\n")
    })?;
    files.extend([parquet, ndjson, summary_json]);
    Ok(Written {
        summary,
        findings: rows.len(),
        files,
    })
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        context: format!("creating {}", dir.display()),
        source,
    })
}

fn remove_stale(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(Error::Io {
            context: format!("removing the stale {}", path.display()),
            source,
        }),
    }
}

/// Writes what `fill` produces to a temporary file next to `path`, flushes it to disk,
/// then renames it over `path`. The temporary file is removed when anything fails.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> Result<()> {
    let io = |source| Error::Io {
        context: format!("writing {}", path.display()),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::File::create(&temp).and_then(|mut file| {
        fill(&mut file)?;
        file.flush()?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    });
    if let Err(e) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(io(e));
    }
    Ok(())
}
