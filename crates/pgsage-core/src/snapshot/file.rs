//! Reading and writing snapshot files: atomic writes, clear errors on bad files.

use std::io::Write;
use std::path::Path;

use super::{Snapshot, SNAPSHOT_VERSION};
use crate::{Error, Result};

impl Snapshot {
    /// Reads a snapshot file, refusing truncated, corrupt and future-version files
    /// with an error that names the file and the problem.
    pub fn load(path: impl AsRef<Path>) -> Result<Snapshot> {
        let path = path.as_ref();
        let bytes =
            std::fs::read(path).map_err(|e| file_error(path, format!("cannot read: {e}")))?;
        Snapshot::from_json_bytes(&bytes).map_err(|problem| file_error(path, problem))
    }

    /// Parses a snapshot from JSON text; the error says what is wrong.
    pub fn from_json(text: &str) -> Result<Snapshot> {
        Snapshot::from_json_bytes(text.as_bytes()).map_err(|problem| Error::SnapshotFile {
            path: "<string>".into(),
            problem,
        })
    }

    fn from_json_bytes(bytes: &[u8]) -> std::result::Result<Snapshot, String> {
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err("the file is empty".into());
        }
        // Read the version first, so a future file is reported as such rather than
        // as whatever field it renamed.
        #[derive(serde::Deserialize)]
        struct Header {
            snapshot_version: Option<u64>,
        }
        let header: Header = serde_json::from_slice(bytes).map_err(describe_json_error)?;
        match header.snapshot_version {
            None => return Err("not a pgsage snapshot: no `snapshot_version` field".into()),
            Some(v) if v > u64::from(SNAPSHOT_VERSION) => {
                return Err(format!(
                    "snapshot_version {v} was written by a newer pgsage; this build reads version {SNAPSHOT_VERSION}"
                ))
            }
            Some(v) if v < 1 => return Err(format!("unsupported snapshot_version {v}")),
            Some(_) => {}
        }
        serde_json::from_slice(bytes).map_err(describe_json_error)
    }

    /// The snapshot as pretty JSON.
    pub fn to_json(&self) -> String {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The snapshot as compact JSON (no whitespace), as the repository stores its fixtures.
    pub fn to_json_compact(&self) -> String {
        // Serializing plain data with string keys cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Writes the snapshot atomically as pretty JSON: a temporary file in the same directory,
    /// then a rename, so a crash never leaves a half-written snapshot under the final name.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomically(path.as_ref(), &self.to_json())
    }

    /// Writes the snapshot atomically as compact JSON ([`Snapshot::to_json_compact`]) on one
    /// line, as the repository stores its fixtures.
    pub fn save_compact(&self, path: impl AsRef<Path>) -> Result<()> {
        write_atomically(path.as_ref(), &self.to_json_compact())
    }
}

/// Writes `json` and a newline to a temporary file next to `path`, then renames it.
fn write_atomically(path: &Path, json: &str) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| file_error(path, "not a file path".into()))?
        .to_string_lossy()
        .into_owned();
    let tmp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(json.as_bytes())?;
        f.write_all(b"\n")?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        file_error(path, format!("cannot write: {e}"))
    })
}

fn file_error(path: &Path, problem: String) -> Error {
    Error::SnapshotFile {
        path: path.to_path_buf(),
        problem,
    }
}

fn describe_json_error(e: serde_json::Error) -> String {
    use serde_json::error::Category;
    match e.classify() {
        Category::Eof => format!(
            "truncated: the JSON ends early (line {}, column {})",
            e.line(),
            e.column()
        ),
        Category::Syntax => format!("corrupt: not valid JSON ({e})"),
        Category::Data => format!("does not match the snapshot format: {e}"),
        Category::Io => format!("cannot read: {e}"),
    }
}
