//! Workloads: from server logs (interruptible, without the GIL), from a snapshot's
//! `pg_stat_statements`, or from a `workload.json`; their queries as a table and the
//! `queries` pack's findings.

use std::path::PathBuf;
use std::sync::Arc;

use pgsage::workload::log::{LogFormat, LogOptions};
use pyo3::prelude::*;

use crate::{guard, internal, resolve_config, run_interruptibly, to_py, Snapshot};

/// A captured workload (the `workload.json` contract). Immutable.
#[pyclass(frozen, name = "Workload", module = "pgsage._native")]
pub(crate) struct Workload {
    pub(crate) inner: Arc<pgsage::workload::Workload>,
    /// The log reader's statistics, JSON (log captures only).
    log_stats: Option<String>,
    /// The snapshot given beside the workload (its pg_stat_statements, or the server of
    /// a log capture): standbys, tables, sessions and host facts for the workload rules,
    /// as `pgsage workload --snapshot`.
    snapshot: Option<Arc<pgsage::Snapshot>>,
}

impl Workload {
    fn new(workload: pgsage::workload::Workload, log_stats: Option<String>) -> Self {
        Workload {
            inner: Arc::new(workload),
            log_stats,
            snapshot: None,
        }
    }
}

#[pymethods]
impl Workload {
    /// Parses a `workload.json`'s text.
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<Workload> {
        guard(py, || {
            let w: pgsage::workload::Workload = serde_json::from_str(text).map_err(|e| {
                to_py(
                    py,
                    pgsage::CoreError::InvalidValue {
                        what: "workload".into(),
                        problem: format!("not a workload file: {e}"),
                    },
                )
            })?;
            Ok(Workload::new(w, None))
        })
    }

    /// The workload as pretty JSON (`workload.json`).
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        guard(py, || {
            let inner = Arc::clone(&self.inner);
            Ok(py.detach(move || inner.to_json()))
        })
    }

    /// Writes `workload.json`.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        guard(py, || {
            let inner = Arc::clone(&self.inner);
            py.detach(move || inner.save(&path))
                .map_err(|e| to_py(py, e))
        })
    }

    /// The queries as a table (`pgsage::workload::queries_frame`), JSON.
    fn queries_json(&self, py: Python<'_>) -> PyResult<String> {
        guard(py, || {
            let frame = pgsage::workload::queries_frame(&self.inner).map_err(|e| to_py(py, e))?;
            serde_json::to_string(&frame).map_err(|e| internal(py, &e.to_string()))
        })
    }

    /// The log reader's statistics as JSON, for log captures.
    fn log_stats_json(&self) -> Option<String> {
        self.log_stats.clone()
    }

    /// The `queries` pack's findings as a report, JSON (the report format).
    #[pyo3(signature = (*, config_path=None, config_json=None, min_severity=None))]
    fn report_json(
        &self,
        py: Python<'_>,
        config_path: Option<PathBuf>,
        config_json: Option<String>,
        min_severity: Option<String>,
    ) -> PyResult<String> {
        guard(py, || {
            let inner = Arc::clone(&self.inner);
            let snapshot = self.snapshot.clone();
            py.detach(move || -> pgsage::Result<String> {
                let config = resolve_config(config_path, config_json.as_deref())?;
                let min = min_severity
                    .as_deref()
                    .map(str::parse::<pgsage::Severity>)
                    .transpose()?;
                let facts = pgsage::engine::question_facts(
                    snapshot.as_deref(),
                    &config.host,
                    config.odoo.as_ref(),
                );
                Ok(
                    pgsage::engine::workload::findings_report_with(&inner, &config, min, &facts)
                        .to_json(),
                )
            })
            .map_err(|e| to_py(py, e))
        })
    }

    /// The workload page's fragment (totals, top statements, time per window, the
    /// `queries` pack's findings under this configuration), for `_repr_html_`:
    /// `pgsage workload --format html`'s sections.
    #[pyo3(signature = (*, config_path=None, config_json=None))]
    fn html_fragment(
        &self,
        py: Python<'_>,
        config_path: Option<PathBuf>,
        config_json: Option<String>,
    ) -> PyResult<String> {
        guard(py, || {
            let inner = Arc::clone(&self.inner);
            let log_stats = self.log_stats.clone();
            let snapshot = self.snapshot.clone();
            py.detach(move || -> pgsage::Result<String> {
                let config = resolve_config(config_path, config_json.as_deref())?;
                let log = log_stats
                    .as_deref()
                    .and_then(|s| serde_json::from_str(s).ok());
                let facts = pgsage::engine::question_facts(
                    snapshot.as_deref(),
                    &config.host,
                    config.odoo.as_ref(),
                );
                let report = pgsage::engine::workload::WorkloadReport::with_facts(
                    (*inner).clone(),
                    &config,
                    log,
                    &facts,
                );
                Ok(pgsage::html::workload_fragment(
                    &report,
                    &pgsage::engine::workload::RenderOptions::default(),
                ))
            })
            .map_err(|e| to_py(py, e))
        })
    }

    /// Number of distinct queries (fingerprints).
    fn __len__(&self) -> usize {
        self.inner.queries.len()
    }
}

/// Reads a `workload.json`.
#[pyfunction]
pub(crate) fn load_workload(py: Python<'_>, path: PathBuf) -> PyResult<Workload> {
    guard(py, || {
        py.detach(move || pgsage::workload::Workload::load(&path))
            .map(|w| Workload::new(w, None))
            .map_err(|e| to_py(py, e))
    })
}

/// The workload of a snapshot's `pg_stat_statements`.
#[pyfunction]
pub(crate) fn workload_from_snapshot(py: Python<'_>, snapshot: &Snapshot) -> PyResult<Workload> {
    guard(py, || {
        let snap = Arc::clone(&snapshot.inner);
        let beside = Arc::clone(&snap);
        py.detach(move || pgsage::workload::from_snapshot(&snap))
            .map(|w| Workload {
                snapshot: Some(beside),
                ..Workload::new(w, None)
            })
            .map_err(|e| to_py(py, e))
    })
}

/// Log reader options: the snapshot's logging settings when given, then the arguments.
fn log_options(
    snapshot: Option<&Snapshot>,
    log_line_prefix: Option<String>,
    log_format: Option<&str>,
    utc_offset_minutes: Option<i32>,
    threads: Option<usize>,
) -> pgsage::Result<LogOptions> {
    let mut opts = snapshot
        .map(|s| LogOptions::from_snapshot(&s.inner))
        .unwrap_or_default();
    let format = log_format
        .map(str::parse::<LogFormat>)
        .transpose()
        .map_err(|problem| pgsage::CoreError::InvalidValue {
            what: "log_format".into(),
            problem: problem.to_string(),
        })?;
    opts = opts.overridden(log_line_prefix, format);
    if utc_offset_minutes.is_some() {
        opts.utc_offset_minutes = utc_offset_minutes;
    }
    if let Some(t) = threads {
        opts.threads = t;
    }
    Ok(opts)
}

/// Reads server logs (stderr with any prefix, csvlog, jsonlog; `.gz` too) into a
/// workload, as `pgsage workload LOG…`. Runs on a worker thread without the GIL; Ctrl-C
/// raises `KeyboardInterrupt` at once and stops the reader.
#[pyfunction]
#[pyo3(signature = (
    paths, *, snapshot=None, log_line_prefix=None, log_format=None, utc_offset_minutes=None,
    threads=None, bucket_seconds=3600, platform=None
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn workload_from_logs(
    py: Python<'_>,
    paths: Vec<PathBuf>,
    snapshot: Option<&Snapshot>,
    log_line_prefix: Option<String>,
    log_format: Option<String>,
    utc_offset_minutes: Option<i32>,
    threads: Option<usize>,
    bucket_seconds: i64,
    platform: Option<String>,
) -> PyResult<Workload> {
    let beside = snapshot.map(|s| Arc::clone(&s.inner));
    guard(py, || {
        // The platform's log_line_prefix when neither the argument nor the snapshot names
        // one (docs/platform-logs.md), as `pgsage workload --platform`.
        let platform = platform
            .as_deref()
            .map(str::parse::<pgsage::snapshot::Platform>)
            .transpose()
            .map_err(|e| to_py(py, pgsage::CoreError::from(e)))?;
        let opts = log_options(
            snapshot,
            log_line_prefix,
            log_format.as_deref(),
            utc_offset_minutes,
            threads,
        )
        .map_err(|e| to_py(py, e))?
        .with_platform(platform);
        let (workload, stats) = run_interruptibly(py, "pgsage-logs", move |cancel| {
            pgsage::workload::from_log_files(&paths, &opts, bucket_seconds, cancel)
        })?
        .map_err(|e| to_py(py, e))?;
        let stats = serde_json::to_string(&stats).map_err(|e| internal(py, &e.to_string()))?;
        Ok(Workload {
            snapshot: beside,
            ..Workload::new(workload, Some(stats))
        })
    })
}
