//! The index advisor: `advise_indexes` over `pgsage::advise::request::run`, interruptible
//! and without the GIL.

use std::path::PathBuf;
use std::sync::Arc;

use pgsage::advise::request::{run, QueriesFrom, Request, SchemaFrom};
use pgsage::advise::{AdvisorOptions, IndexAdvice as Advice};
use pgsage::ConnectOptions;
use pyo3::prelude::*;

use crate::workload::Workload;
use crate::{guard, internal, resolve_config, run_interruptibly, seconds, to_py, Snapshot};

/// The advisor's result. Immutable.
#[pyclass(frozen, name = "IndexAdvice", module = "pgsage._native")]
pub(crate) struct IndexAdvice {
    inner: Arc<Advice>,
}

#[pymethods]
impl IndexAdvice {
    /// The advice as JSON (`pgsage indexes --format json`).
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        guard(py, || {
            serde_json::to_string_pretty(&*self.inner).map_err(|e| internal(py, &e.to_string()))
        })
    }

    /// The index advice page's fragment (`pgsage indexes --format html`), for
    /// `_repr_html_`.
    fn html_fragment(&self, py: Python<'_>) -> PyResult<String> {
        guard(py, || Ok(pgsage::html::indexes_fragment(&self.inner)))
    }

    /// The recommendations as a table (`pgsage::advise::recommendations_frame`), JSON.
    fn recommendations_json(&self, py: Python<'_>) -> PyResult<String> {
        guard(py, || {
            let frame =
                pgsage::advise::recommendations_frame(&self.inner).map_err(|e| to_py(py, e))?;
            serde_json::to_string(&frame).map_err(|e| internal(py, &e.to_string()))
        })
    }
}

/// Runs the index advisor. The schema comes from `snapshot` or from the server `dsn`
/// points at (collected now; HypoPG validates there when `validate` and installed); the
/// statements from `workload`, from `log_paths`, or else from `pg_stat_statements`.
/// `max_size` is a size (`"2GiB"`, bytes). Runs on a worker thread; Ctrl-C stops it.
#[pyfunction]
#[pyo3(signature = (
    *, snapshot=None, dsn=None, connect_timeout=None, workload=None, log_paths=Vec::new(),
    log_line_prefix=None, max_indexes=None, max_size=None, validate=true, database=None,
    config_path=None, config_json=None
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn advise_indexes(
    py: Python<'_>,
    snapshot: Option<&Snapshot>,
    dsn: Option<String>,
    connect_timeout: Option<f64>,
    workload: Option<&Workload>,
    log_paths: Vec<PathBuf>,
    log_line_prefix: Option<String>,
    max_indexes: Option<usize>,
    max_size: Option<String>,
    validate: bool,
    database: Option<String>,
    config_path: Option<PathBuf>,
    config_json: Option<String>,
) -> PyResult<IndexAdvice> {
    guard(py, || {
        let schema = match snapshot {
            Some(s) => SchemaFrom::Snapshot(Box::new((*s.inner).clone())),
            None => {
                let defaults = ConnectOptions::default();
                SchemaFrom::Server(ConnectOptions {
                    dsn,
                    connect_timeout: seconds(py, "connect_timeout", connect_timeout)?
                        .unwrap_or(defaults.connect_timeout),
                    ..defaults
                })
            }
        };
        let queries = match workload {
            Some(w) => QueriesFrom::Workload(Box::new((*w.inner).clone())),
            None if !log_paths.is_empty() => QueriesFrom::Logs {
                paths: log_paths,
                prefix: log_line_prefix,
                format: None,
            },
            None => QueriesFrom::Statements,
        };
        let options = py
            .detach(|| -> pgsage::Result<AdvisorOptions> {
                let config = resolve_config(config_path, config_json.as_deref())?;
                Ok(AdvisorOptions::from_config(&config)?.overridden(
                    max_indexes,
                    max_size.as_deref(),
                    database,
                )?)
            })
            .map_err(|e| to_py(py, e))?;
        let request = Request {
            schema,
            queries,
            options,
            validate,
        };
        let advice = run_interruptibly(py, "pgsage-indexes", move |cancel| {
            run(request, Some(cancel))
        })?
        .map_err(|e| to_py(py, e))?;
        Ok(IndexAdvice {
            inner: Arc::new(advice),
        })
    })
}
