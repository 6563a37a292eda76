//! The notebook's HTML (`_repr_html_`): the CLI's pages as fragments
//! (`pgsage::html`), so a notebook shows what `--format html` writes. The
//! Python objects that keep only the library's JSON (reports, tune advice) hand it back
//! here; the native classes (plans, workloads, index advice) have an `html_fragment`
//! method.

use pyo3::prelude::*;

use crate::{guard, internal, Snapshot};

/// A report's JSON (the report format) as the audit page's fragment; `snapshot`, the
/// audited one, adds the charts drawn from it.
#[pyfunction]
#[pyo3(signature = (report_json, snapshot=None))]
pub(crate) fn report_html(
    py: Python<'_>,
    report_json: &str,
    snapshot: Option<&Snapshot>,
) -> PyResult<String> {
    guard(py, || {
        let report: pgsage::report::Report =
            serde_json::from_str(report_json).map_err(|e| internal(py, &e.to_string()))?;
        let snapshot = snapshot.map(|s| std::sync::Arc::clone(&s.inner));
        Ok(py.detach(move || pgsage::html::audit_fragment(&report, snapshot.as_deref())))
    })
}

/// A tune report's JSON (`pgsage tune --format json`) as the tune page's fragment.
#[pyfunction]
pub(crate) fn tune_html(py: Python<'_>, report_json: &str) -> PyResult<String> {
    guard(py, || {
        let report: pgsage::tune::TuneReport =
            serde_json::from_str(report_json).map_err(|e| internal(py, &e.to_string()))?;
        Ok(pgsage::html::tune_fragment(&report))
    })
}
