//! Locating PostgreSQL server binaries.

use std::env;
use std::path::{Path, PathBuf};

use crate::TestkitError;

/// The PostgreSQL majors pgsage supports and tests against.
pub const SUPPORTED_MAJORS: &[u32] = &[13, 14, 15, 16, 17, 18];

/// Environment variable naming the binary cache directory (holding `<major>/bin`).
pub const CACHE_ENV: &str = "PGSAGE_PG_CACHE";

const CACHE_DIR_NAME: &str = ".pg-cache";

/// The directory holding `initdb`, `pg_ctl` and `postgres` for `major`, or `None`.
///
/// Search order:
/// 1. `/usr/lib/postgresql/<major>/bin` (Debian/Ubuntu packages), if it also has
///    `pg_stat_statements`;
/// 2. `$PGSAGE_PG_CACHE/<major>/bin` when `PGSAGE_PG_CACHE` is set, otherwise
///    `.pg-cache/<major>/bin` in the nearest ancestor of `$CARGO_MANIFEST_DIR`, of
///    this crate's own directory, or of the current directory that has a `.pg-cache`
///    directory (what `scripts/fetch-postgres.sh` fills).
pub fn bin_dir(major: u32) -> Option<PathBuf> {
    candidates(major).into_iter().find(|dir| usable(dir))
}

/// The majors in [`SUPPORTED_MAJORS`] whose binaries are present on this machine.
pub fn available_majors() -> Vec<u32> {
    SUPPORTED_MAJORS
        .iter()
        .copied()
        .filter(|m| bin_dir(*m).is_some())
        .collect()
}

pub(crate) fn not_found(major: u32) -> TestkitError {
    let searched = candidates(major)
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ");
    TestkitError::BinariesNotFound { major, searched }
}

fn candidates(major: u32) -> Vec<PathBuf> {
    let mut out = vec![PathBuf::from(format!("/usr/lib/postgresql/{major}/bin"))];
    for cache in cache_dirs() {
        let dir = cache.join(major.to_string()).join("bin");
        if !out.contains(&dir) {
            out.push(dir);
        }
    }
    out
}

/// Cache directories to search, most specific first.
fn cache_dirs() -> Vec<PathBuf> {
    if let Some(dir) = env::var_os(CACHE_ENV).filter(|v| !v.is_empty()) {
        return vec![PathBuf::from(dir)];
    }
    let mut starts: Vec<PathBuf> = Vec::new();
    if let Some(dir) = env::var_os("CARGO_MANIFEST_DIR") {
        starts.push(PathBuf::from(dir));
    }
    starts.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    if let Ok(dir) = env::current_dir() {
        starts.push(dir);
    }
    let mut out = Vec::new();
    for start in starts {
        if let Some(found) = start
            .ancestors()
            .map(|a| a.join(CACHE_DIR_NAME))
            .find(|c| c.is_dir())
        {
            if !out.contains(&found) {
                out.push(found);
            }
        }
    }
    out
}

fn usable(bin: &Path) -> bool {
    let has_bins = ["initdb", "pg_ctl", "postgres"]
        .iter()
        .all(|b| bin.join(b).is_file());
    if !has_bins {
        return false;
    }
    let Some(prefix) = bin.parent() else {
        return false;
    };
    // Debian: /usr/lib/postgresql/<major>/lib; relocatable builds: <prefix>/lib/postgresql.
    [
        prefix.join("lib/pg_stat_statements.so"),
        prefix.join("lib/postgresql/pg_stat_statements.so"),
    ]
    .iter()
    .any(|p| p.is_file())
}
