//! EXPLAIN plans: `analyze_plans` (the `plans` pack over EXPLAIN JSON or text, as
//! `pgsage plan` does) and `explain` (a live EXPLAIN in a transaction that is rolled back).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pgsage::engine::plan::analyze;
use pgsage::plan::analyze_live::{explain_live, LiveError, LiveOptions};
use pgsage::plan::{parse_plans, Plan, PlanError};
use pgsage::report::{Report, ReportFilter};
use pgsage::ConnectOptions;
use pyo3::prelude::*;

use crate::{guard, internal, named_error, resolve_config, run_interruptibly, seconds, to_py};

/// One analyzed plan: the plan, and the `plans` pack's report on it. Immutable.
#[pyclass(frozen, name = "PlanAnalysis", module = "pgsage._native")]
pub(crate) struct PlanAnalysis {
    plan: Arc<Plan>,
    report: Arc<Report>,
}

#[pymethods]
impl PlanAnalysis {
    /// The report as JSON (one element of `pgsage plan --format json`).
    fn report_json(&self) -> String {
        self.report.to_json()
    }

    /// The plan page's fragment (the tree with each node's own time and its findings,
    /// then the actions), for `_repr_html_`: `pgsage plan --format html`'s section.
    fn html_fragment(&self, py: Python<'_>) -> PyResult<String> {
        guard(py, || {
            Ok(pgsage::html::plan_fragment(&[
                pgsage::engine::plan::PlanSection {
                    plan: &self.plan,
                    report: &self.report,
                },
            ]))
        })
    }

    /// The plan as the library reads it (typed nodes), as JSON.
    fn plan_json(&self, py: Python<'_>) -> PyResult<String> {
        guard(py, || {
            serde_json::to_string(&*self.plan).map_err(|e| internal(py, &e.to_string()))
        })
    }

    /// The plan as `pgsage plan --tree` draws it, at most `width` columns wide.
    #[pyo3(signature = (width=100))]
    fn tree(&self, py: Python<'_>, width: usize) -> PyResult<String> {
        guard(py, || {
            Ok(pgsage::engine::plan::render_tree(
                &self.plan,
                &self.report,
                width,
            ))
        })
    }

    /// The nodes as a table (`pgsage::engine::plan::nodes_frame`), JSON.
    fn nodes_json(&self, py: Python<'_>) -> PyResult<String> {
        guard(py, || {
            let frame = pgsage::engine::plan::nodes_frame(&self.plan, Some(&self.report))
                .map_err(|e| to_py(py, e))?;
            serde_json::to_string(&frame).map_err(|e| internal(py, &e.to_string()))
        })
    }

    /// `Execution Time`, ms (ANALYZE).
    #[getter]
    fn execution_time_ms(&self) -> Option<f64> {
        self.plan.execution_time_ms
    }

    /// `Planning Time`, ms.
    #[getter]
    fn planning_time_ms(&self) -> Option<f64> {
        self.plan.planning_time_ms
    }

    /// Whether EXPLAIN ran the statement (ANALYZE).
    #[getter]
    fn analyzed(&self) -> bool {
        self.plan.is_analyzed()
    }

    /// Number of nodes.
    #[getter]
    fn node_count(&self) -> usize {
        self.plan.nodes().count()
    }

    /// `json` or `text`: the EXPLAIN format the plan was read from.
    #[getter]
    fn source_format(&self) -> &'static str {
        match self.plan.source_format {
            pgsage::plan::PlanFormat::Json => "json",
            pgsage::plan::PlanFormat::Text => "text",
        }
    }

    /// `Query Text`, when the plan came with one (auto_explain, live EXPLAIN).
    #[getter]
    fn query_text(&self) -> Option<String> {
        self.plan.query_text.clone()
    }
}

/// The `pgsage.errors` class for a plan that cannot be read.
fn plan_error(py: Python<'_>, e: &PlanError) -> PyErr {
    named_error(py, "PlanError", e.to_string(), None)
}

fn reports(
    plans: Vec<Plan>,
    config_path: Option<PathBuf>,
    config_json: Option<&str>,
    min_severity: Option<&str>,
) -> pgsage::Result<Vec<(Plan, Report)>> {
    let config = resolve_config(config_path, config_json)?;
    let min = min_severity
        .map(str::parse::<pgsage::Severity>)
        .transpose()?;
    Ok(plans
        .into_iter()
        .map(|plan| {
            let mut report = analyze(&plan, &config);
            report.filter(&ReportFilter {
                packs: Vec::new(),
                min_severity: min,
            });
            (plan, report)
        })
        .collect())
}

fn wrap(pairs: Vec<(Plan, Report)>) -> Vec<PlanAnalysis> {
    pairs
        .into_iter()
        .map(|(plan, report)| PlanAnalysis {
            plan: Arc::new(plan),
            report: Arc::new(report),
        })
        .collect()
}

/// Parses EXPLAIN output (JSON or text, one plan or several, psql decorations allowed)
/// and runs the `plans` pack over every plan, as `pgsage plan` does.
#[pyfunction]
#[pyo3(signature = (text, *, config_path=None, config_json=None, min_severity=None))]
pub(crate) fn analyze_plans(
    py: Python<'_>,
    text: String,
    config_path: Option<PathBuf>,
    config_json: Option<String>,
    min_severity: Option<String>,
) -> PyResult<Vec<PlanAnalysis>> {
    guard(py, || {
        let plans = py
            .detach(|| parse_plans(&text))
            .map_err(|e| plan_error(py, &e))?;
        let pairs = py
            .detach(|| {
                reports(
                    plans,
                    config_path,
                    config_json.as_deref(),
                    min_severity.as_deref(),
                )
            })
            .map_err(|e| to_py(py, e))?;
        Ok(wrap(pairs))
    })
}

/// A live EXPLAIN failure as the matching `pgsage.errors` exception.
fn live_error(py: Python<'_>, e: LiveError) -> PyErr {
    let message = e.to_string();
    match e {
        LiveError::Connect(inner) => to_py(py, inner),
        LiveError::Plan(p) => plan_error(py, &p),
        LiveError::Server { sqlstate, .. } => {
            named_error(py, "QueryError", message, Some(sqlstate))
        }
        LiveError::Timeout { .. } => named_error(py, "QueryError", message, Some("57014".into())),
        LiveError::Driver(_) => named_error(py, "ConnectionError", message, None),
        LiveError::Empty | LiveError::MultipleStatements(_) | LiveError::WriteRefused { .. } => {
            named_error(py, "InvalidValueError", message, None)
        }
        _ => named_error(py, "Error", message, None),
    }
}

/// Explains `query` live (EXPLAIN ANALYZE, BUFFERS, … in a READ ONLY transaction that is
/// rolled back; see `pgsage::plan::analyze_live`) and analyzes the plan. Runs on a worker
/// thread; Ctrl-C raises `KeyboardInterrupt` at once (the statement stops at its timeout).
#[pyfunction]
#[pyo3(signature = (
    dsn, query, *, analyze=true, analyze_writes=false, timeout=None, connect_timeout=None,
    config_path=None, config_json=None, min_severity=None
))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn explain(
    py: Python<'_>,
    dsn: Option<String>,
    query: String,
    analyze: bool,
    analyze_writes: bool,
    timeout: Option<f64>,
    connect_timeout: Option<f64>,
    config_path: Option<PathBuf>,
    config_json: Option<String>,
    min_severity: Option<String>,
) -> PyResult<PlanAnalysis> {
    guard(py, || {
        let live_defaults = LiveOptions::default();
        let timeout = seconds(py, "timeout", timeout)?.unwrap_or(live_defaults.timeout);
        let defaults = ConnectOptions::default();
        let connect = ConnectOptions {
            dsn,
            connect_timeout: seconds(py, "connect_timeout", connect_timeout)?
                .unwrap_or(Duration::from_secs(10)),
            statement_timeout: timeout,
            ..defaults
        };
        let options = LiveOptions {
            analyze,
            analyze_writes,
            timeout,
        };
        // Check the configuration before running anything on the server.
        let config =
            resolve_config(config_path, config_json.as_deref()).map_err(|e| to_py(py, e))?;
        let min = min_severity
            .as_deref()
            .map(str::parse::<pgsage::Severity>)
            .transpose()
            .map_err(|e| to_py(py, e))?;
        let live = run_interruptibly(py, "pgsage-explain", move |_cancel| {
            explain_live(&connect, &query, &options)
        })?
        .map_err(|e| live_error(py, e))?;
        let mut report = pgsage::engine::plan::analyze(&live.plan, &config);
        live.label(&mut report);
        report.filter(&ReportFilter {
            packs: Vec::new(),
            min_severity: min,
        });
        Ok(PlanAnalysis {
            plan: Arc::new(live.plan),
            report: Arc::new(report),
        })
    })
}
