//! `pgsage.diff`: what changed between two snapshots or two reports, as the diff's JSON
//! (`docs/diff.md`). The comparison is `pgsage::diff`'s.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;

use crate::{guard, resolve_config, to_py, Snapshot};

/// A diff's refusal (snapshots of two servers) as the library's invalid-value error.
fn diff_error(e: pgsage::diff::DiffError) -> pgsage::Error {
    match e {
        pgsage::diff::DiffError::Input(core) => core.into(),
        other => pgsage::CoreError::InvalidValue {
            what: "snapshots".into(),
            problem: other.to_string(),
        }
        .into(),
    }
}

/// Compares two snapshots (both audited with the configuration) and returns the diff's
/// JSON.
#[pyfunction]
#[pyo3(signature = (old, new, *, config_path=None, config_json=None, allow_different_servers=false))]
pub(crate) fn diff_snapshots(
    py: Python<'_>,
    old: &Snapshot,
    new: &Snapshot,
    config_path: Option<PathBuf>,
    config_json: Option<String>,
    allow_different_servers: bool,
) -> PyResult<String> {
    guard(py, || {
        let (old, new) = (Arc::clone(&old.inner), Arc::clone(&new.inner));
        py.detach(move || -> pgsage::Result<String> {
            let config = resolve_config(config_path, config_json.as_deref())?;
            let options = pgsage::diff::DiffOptions {
                allow_different_servers,
                ..Default::default()
            };
            let diff =
                pgsage::diff::snapshots(&old, &new, &config, &options).map_err(diff_error)?;
            Ok(diff.to_json())
        })
        .map_err(|e| to_py(py, e))
    })
}

/// Compares two reports (their JSON): findings and actions only.
#[pyfunction]
pub(crate) fn diff_reports(py: Python<'_>, old_json: &str, new_json: &str) -> PyResult<String> {
    guard(py, || {
        let parse = |text: &str| -> pgsage::Result<pgsage::Report> {
            serde_json::from_str(text).map_err(|e| {
                pgsage::CoreError::InvalidValue {
                    what: "report".into(),
                    problem: format!("not a pgsage report: {e}"),
                }
                .into()
            })
        };
        let old = parse(old_json).map_err(|e| to_py(py, e))?;
        let new = parse(new_json).map_err(|e| to_py(py, e))?;
        Ok(pgsage::diff::reports(&old, &new).to_json())
    })
}
