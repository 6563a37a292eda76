//! `pgsage._native`: the Python bindings of the pgsage library, built with maturin from
//! `python/`. Deliberately thin: every function converts its arguments, calls the library
//! and hands back a library object or the library's JSON; the `pgsage` Python package
//! turns those into friendly objects and data frames.
//!
//! At the boundary:
//! - library errors become the exceptions of `pgsage.errors` (`ConnectionError`,
//!   `SnapshotError`, `ConfigError`, …) with the library's message and, where the server
//!   sent one, its SQLSTATE in `.sqlstate`;
//! - a panic never reaches Python as a crash: [`guard`] catches it and raises
//!   `pgsage.errors.InternalError`;
//! - long work (collection, audits, log ingestion, live EXPLAIN, index advice) runs
//!   without the GIL; collection, log ingestion, live EXPLAIN and the index advisor run
//!   on a worker thread ([`run_interruptibly`]) while the caller checks for signals every
//!   100 ms, so Ctrl-C raises `KeyboardInterrupt` at once even when the server never
//!   answers.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use pgsage::report::ReportFilter;
use pgsage::{CollectOptions, ConnectOptions, RuleConfig, Source};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

mod diff;
mod html;
mod indexes;
mod plans;
mod workload;

/// How often a waiting collection checks for Ctrl-C.
const SIGNAL_POLL: Duration = Duration::from_millis(100);

/// The `pgsage.errors` class for a library error.
fn error_class(e: &pgsage::Error) -> &'static str {
    use pgsage::CoreError as C;
    use pgsage::Error as E;
    match e {
        E::InvalidConnectOptions(_) | E::Connect { .. } | E::Timeout { .. } | E::Tls(_) => {
            "ConnectionError"
        }
        E::Query { .. } => "QueryError",
        E::Core(core) => match core {
            C::SnapshotFile { .. } => "SnapshotError",
            C::Config { .. } => "ConfigError",
            C::InvalidValue { .. } => "InvalidValueError",
            // A cancelled run was an `Io` error of kind `Interrupted` before it had its own
            // variant; it stays `IoError` for Python (Ctrl-C raises `KeyboardInterrupt`
            // before this is seen anyway).
            C::Io { .. } | C::Cancelled { .. } => "IoError",
            _ => "Error",
        },
        _ => "Error",
    }
}

/// An instance of `pgsage.errors.<class>` with `message` and `.sqlstate`; a
/// `RuntimeError` with the same message if that module cannot be imported.
pub(crate) fn named_error(
    py: Python<'_>,
    class: &str,
    message: String,
    sqlstate: Option<String>,
) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let exc = py
            .import("pgsage.errors")?
            .getattr(class)?
            .call1((message.clone(),))?;
        exc.setattr("sqlstate", sqlstate.clone())?;
        Ok(PyErr::from_value(exc))
    };
    build().unwrap_or_else(|_| PyRuntimeError::new_err(message.clone()))
}

/// A library error (the live layer's or the core's) as the matching Python exception.
pub(crate) fn to_py(py: Python<'_>, e: impl Into<pgsage::Error>) -> PyErr {
    let e: pgsage::Error = e.into();
    let sqlstate = e.sqlstate().map(str::to_owned);
    named_error(py, error_class(&e), e.to_string(), sqlstate)
}

/// `pgsage.errors.InternalError` for a bug caught at the boundary.
pub(crate) fn internal(py: Python<'_>, what: &str) -> PyErr {
    named_error(
        py,
        "InternalError",
        format!("internal error in pgsage (please report it): {what}"),
        None,
    )
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".to_owned()
    }
}

/// Runs `f`, turning a panic into `pgsage.errors.InternalError` instead of pyo3's
/// `PanicException` (which is not an `Exception` and so escapes `except Exception`).
pub(crate) fn guard<T>(py: Python<'_>, f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => result,
        Err(payload) => Err(internal(
            py,
            &format!("panic: {}", panic_message(&*payload)),
        )),
    }
}

/// A duration given in seconds by Python, checked.
pub(crate) fn seconds(
    py: Python<'_>,
    what: &str,
    value: Option<f64>,
) -> PyResult<Option<Duration>> {
    value
        .map(|s| {
            Duration::try_from_secs_f64(s).map_err(|_| {
                to_py(
                    py,
                    pgsage::CoreError::InvalidValue {
                        what: what.to_owned(),
                        problem: format!("{s} is not a number of seconds >= 0"),
                    },
                )
            })
        })
        .transpose()
}

/// The configuration from a `pgsage.toml` path, or from a dict passed as JSON, or (with
/// neither) `./pgsage.toml` when it exists, else the shipped packs — the CLI's `--config`.
pub(crate) fn resolve_config(
    config_path: Option<PathBuf>,
    config_json: Option<&str>,
) -> pgsage::Result<RuleConfig, pgsage::CoreError> {
    match config_json {
        Some(json) => RuleConfig::from_json(json, "<dict>"),
        None => RuleConfig::discover(config_path.as_deref()),
    }
}

/// The host facts given as keyword arguments, checked: `ram`, `cpus`, `storage` and
/// `platform`, then what the `tier` gives that they leave out (the CLI's flags).
pub(crate) fn given_host(
    ram: Option<&str>,
    cpus: Option<f64>,
    storage: Option<&str>,
    platform: Option<&str>,
    tier: Option<&str>,
) -> pgsage::Result<pgsage::snapshot::HostFacts, pgsage::CoreError> {
    let mut facts = pgsage::host::from_flags(ram, cpus, storage, "flag")?;
    facts.platform = platform
        .map(|p| {
            p.parse()
                .map(|value| pgsage::snapshot::Fact::new(value, "flag"))
        })
        .transpose()?;
    pgsage::knowledge::platform_tiers::with_tier(facts, tier, "flag")
}

/// A snapshot: everything pgsage collected from one server at one moment. Immutable.
#[pyclass(frozen, name = "Snapshot", module = "pgsage._native")]
pub(crate) struct Snapshot {
    pub(crate) inner: Arc<pgsage::Snapshot>,
}

impl Snapshot {
    fn new(snapshot: pgsage::Snapshot) -> Self {
        Snapshot {
            inner: Arc::new(snapshot),
        }
    }
}

#[pymethods]
impl Snapshot {
    /// Parses a snapshot from JSON text (the snapshot file format).
    #[staticmethod]
    fn from_json(py: Python<'_>, text: &str) -> PyResult<Snapshot> {
        guard(py, || {
            let text = text.to_owned();
            py.detach(move || pgsage::Snapshot::from_json(&text))
                .map(Snapshot::new)
                .map_err(|e| to_py(py, e))
        })
    }

    /// Writes the snapshot file atomically.
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        guard(py, || {
            let inner = Arc::clone(&self.inner);
            py.detach(move || inner.save(&path))
                .map_err(|e| to_py(py, e))
        })
    }

    /// The snapshot as pretty JSON (the snapshot file format).
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        guard(py, || {
            let inner = Arc::clone(&self.inner);
            Ok(py.detach(move || inner.to_json()))
        })
    }

    /// The server's version, e.g. `16.4`.
    #[getter]
    fn server_version(&self) -> String {
        self.inner.server.version.clone()
    }

    /// The server's version number, e.g. `160004`.
    #[getter]
    fn server_version_num(&self) -> i32 {
        self.inner.server.version_num
    }

    /// The connected database.
    #[getter]
    fn database(&self) -> String {
        self.inner.server.database.clone()
    }

    /// When collection finished, RFC 3339 in UTC.
    #[getter]
    fn collected_at(&self) -> String {
        self.inner
            .collected_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
    }

    /// Whether names were replaced by hashes and literals removed.
    #[getter]
    fn redacted(&self) -> bool {
        self.inner.redacted
    }

    /// A copy with host, user and application names hashed and literals removed.
    fn redact(&self, py: Python<'_>) -> PyResult<Snapshot> {
        guard(py, || {
            let mut copy = (*self.inner).clone();
            pgsage::redact::redact(&mut copy);
            Ok(Snapshot::new(copy))
        })
    }

    /// The section `name` as a table, JSON `{"section", "columns": [{"name", "kind",
    /// "nullable"}], "rows": [[...]]}` (see `pgsage::frames`).
    fn section_json(&self, py: Python<'_>, name: &str) -> PyResult<String> {
        guard(py, || {
            let frame = pgsage::frames::section(&self.inner, name).map_err(|e| to_py(py, e))?;
            serde_json::to_string(&frame).map_err(|e| internal(py, &e.to_string()))
        })
    }

    /// The names `section_json` accepts.
    #[staticmethod]
    fn sections() -> Vec<&'static str> {
        pgsage::frames::SECTIONS.to_vec()
    }

    fn __repr__(&self) -> String {
        format!(
            "<pgsage._native.Snapshot PostgreSQL {} database {:?} at {}>",
            self.inner.server.version,
            self.inner.server.database,
            self.inner
                .collected_at
                .to_rfc3339_opts(chrono::SecondsFormat::Micros, false)
        )
    }
}

/// Reads a snapshot file.
#[pyfunction]
fn load_snapshot(py: Python<'_>, path: PathBuf) -> PyResult<Snapshot> {
    guard(py, || {
        py.detach(move || pgsage::Snapshot::load(&path))
            .map(Snapshot::new)
            .map_err(|e| to_py(py, e))
    })
}

/// Connects and collects a snapshot. Runs on a worker thread without the GIL; the calling
/// thread checks for signals every 100 ms, so Ctrl-C raises `KeyboardInterrupt` promptly
/// (the worker is told to stop and ends by itself). Durations are in seconds.
#[pyfunction]
#[pyo3(signature = (
    dsn=None, *, interval=None, connect_timeout=None, statement_timeout=None,
    lock_timeout=None, application_name=None, include_query_text=false,
    query_text_max=None, statements_top=None, ram=None, cpus=None, storage=None,
    platform=None, tier=None, probe_local_host=true, redact=false, all_databases=false,
    databases=None, jobs=None
))]
#[allow(clippy::too_many_arguments)]
fn collect(
    py: Python<'_>,
    dsn: Option<String>,
    interval: Option<f64>,
    connect_timeout: Option<f64>,
    statement_timeout: Option<f64>,
    lock_timeout: Option<f64>,
    application_name: Option<String>,
    include_query_text: bool,
    query_text_max: Option<usize>,
    statements_top: Option<usize>,
    ram: Option<String>,
    cpus: Option<f64>,
    storage: Option<String>,
    platform: Option<String>,
    tier: Option<String>,
    probe_local_host: bool,
    redact: bool,
    all_databases: bool,
    databases: Option<Vec<String>>,
    jobs: Option<usize>,
) -> PyResult<Snapshot> {
    guard(py, || {
        let defaults = ConnectOptions::default();
        let connect = ConnectOptions {
            dsn,
            connect_timeout: seconds(py, "connect_timeout", connect_timeout)?
                .unwrap_or(defaults.connect_timeout),
            statement_timeout: seconds(py, "statement_timeout", statement_timeout)?
                .unwrap_or(defaults.statement_timeout),
            lock_timeout: seconds(py, "lock_timeout", lock_timeout)?
                .unwrap_or(defaults.lock_timeout),
            application_name: application_name.unwrap_or(defaults.application_name.clone()),
            ..defaults
        };
        let host_facts = given_host(
            ram.as_deref(),
            cpus,
            storage.as_deref(),
            platform.as_deref(),
            tier.as_deref(),
        )
        .map_err(|e| to_py(py, e))?;
        let collect_defaults = CollectOptions::default();
        let options = CollectOptions {
            include_query_text,
            query_text_max: query_text_max.unwrap_or(collect_defaults.query_text_max),
            statements_top_n: statements_top.unwrap_or(collect_defaults.statements_top_n),
            interval: seconds(py, "interval", interval)?,
            host_facts,
            probe_local_host,
            databases: match (all_databases, databases) {
                (true, Some(_)) => {
                    return Err(to_py(
                        py,
                        pgsage::Error::Core(pgsage::CoreError::InvalidValue {
                            what: "databases".into(),
                            problem: "give all_databases=True or databases=[…], not both".into(),
                        }),
                    ))
                }
                (true, None) => pgsage::DatabaseSelection::All,
                (false, Some(patterns)) => pgsage::DatabaseSelection::Matching(patterns),
                (false, None) => pgsage::DatabaseSelection::Connected,
            },
            jobs: jobs.unwrap_or(collect_defaults.jobs).max(1),
        };
        let mut snapshot = collect_interruptibly(py, connect, options)?;
        // The tier's platform against what the server shows.
        pgsage::knowledge::platform_tiers::check_snapshot(&snapshot, &snapshot.host)
            .map_err(|e| to_py(py, e))?;
        if redact {
            pgsage::redact::redact(&mut snapshot);
        }
        Ok(Snapshot::new(snapshot))
    })
}

/// Runs `work` on a worker thread named `name` and waits for it without the GIL, checking
/// for signals every 100 ms: Ctrl-C sets the flag handed to `work` (which should give up
/// soon after) and raises `KeyboardInterrupt` at once, without waiting for the worker. A
/// panic in `work` becomes `InternalError`.
pub(crate) fn run_interruptibly<T: Send + 'static>(
    py: Python<'_>,
    name: &str,
    work: impl FnOnce(&AtomicBool) -> T + Send + 'static,
) -> PyResult<T> {
    let cancel = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<std::thread::Result<T>>();
    let worker_cancel = Arc::clone(&cancel);
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(|| work(&worker_cancel)));
            // The receiver is gone when the caller was interrupted: nothing to tell.
            let _ = tx.send(result);
        })
        .map_err(|e| internal(py, &format!("starting the {name} thread: {e}")))?;
    let mut rx = rx;
    loop {
        let (back, received) = py.detach(move || {
            let r = rx.recv_timeout(SIGNAL_POLL);
            (rx, r)
        });
        rx = back;
        match received {
            Ok(Ok(value)) => return Ok(value),
            Ok(Err(payload)) => {
                return Err(internal(
                    py,
                    &format!("panic in {name}: {}", panic_message(&*payload)),
                ))
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                if let Err(e) = py.check_signals() {
                    cancel.store(true, Ordering::Relaxed);
                    return Err(e);
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(internal(
                    py,
                    &format!("the {name} thread ended without a result"),
                ))
            }
        }
    }
}

/// Collects on a worker thread; waits without the GIL, checking for signals.
fn collect_interruptibly(
    py: Python<'_>,
    connect: ConnectOptions,
    options: CollectOptions,
) -> PyResult<pgsage::Snapshot> {
    run_interruptibly(py, "pgsage-collect", move |cancel| {
        pgsage::collect_snapshot_cancellable(&connect, &options, cancel)
    })?
    .map_err(|e| to_py(py, e))
}

/// Audits a snapshot and returns the report as JSON (the report format). `live` records
/// that the snapshot was collected just now. Host facts given here win over the
/// configuration's, as the CLI's flags do.
#[pyfunction]
#[pyo3(signature = (
    snapshot, *, config_path=None, config_json=None, packs=Vec::new(), min_severity=None,
    live=false, ram=None, cpus=None, storage=None, platform=None, tier=None, odoo_conf=None
))]
#[allow(clippy::too_many_arguments)]
fn audit(
    py: Python<'_>,
    snapshot: &Snapshot,
    config_path: Option<PathBuf>,
    config_json: Option<String>,
    packs: Vec<String>,
    min_severity: Option<String>,
    live: bool,
    ram: Option<String>,
    cpus: Option<f64>,
    storage: Option<String>,
    platform: Option<String>,
    tier: Option<String>,
    odoo_conf: Option<PathBuf>,
) -> PyResult<String> {
    guard(py, || {
        let snap = Arc::clone(&snapshot.inner);
        py.detach(move || -> pgsage::Result<String> {
            let mut config = resolve_config(config_path, config_json.as_deref())?;
            if let Some(path) = &odoo_conf {
                config.load_odoo_conf(path)?;
            }
            let flags = given_host(
                ram.as_deref(),
                cpus,
                storage.as_deref(),
                platform.as_deref(),
                tier.as_deref(),
            )?;
            config.host = flags.or(&config.host);
            pgsage::knowledge::platform_tiers::check_snapshot(&snap, &config.host)?;
            let min = min_severity
                .as_deref()
                .map(str::parse::<pgsage::Severity>)
                .transpose()?;
            let source = if live {
                Source::Live
            } else {
                Source::SnapshotFile
            };
            config.check_packs(&packs)?;
            let mut report = pgsage::audit_from(&snap, &config, source);
            report.filter(&ReportFilter {
                packs,
                min_severity: min,
            });
            Ok(report.to_json())
        })
        .map_err(|e| to_py(py, e))
    })
}

/// The fix script of a report (`pgsage audit --script`), from the report's JSON.
#[pyfunction]
fn fix_script(py: Python<'_>, report_json: &str) -> PyResult<String> {
    guard(py, || {
        let report: pgsage::report::Report =
            serde_json::from_str(report_json).map_err(|e| internal(py, &e.to_string()))?;
        Ok(pgsage::report::render::script(&report))
    })
}

/// The rule catalogue as JSON: every rule with its pack, default severity, whether it is
/// enabled, its parameters (thresholds) with their configured values, and its Markdown doc.
#[pyfunction]
#[pyo3(signature = (*, config_path=None, config_json=None))]
fn rules(
    py: Python<'_>,
    config_path: Option<PathBuf>,
    config_json: Option<String>,
) -> PyResult<String> {
    guard(py, || {
        let config =
            resolve_config(config_path, config_json.as_deref()).map_err(|e| to_py(py, e))?;
        let catalogue = pgsage::rules::docs::catalogue(&config);
        serde_json::to_string(&catalogue).map_err(|e| internal(py, &e.to_string()))
    })
}

/// Configuration advice for a snapshot: `(report JSON, ALTER SYSTEM script)`.
#[pyfunction]
#[pyo3(signature = (
    snapshot, *, profile=None, config_path=None, config_json=None, ram=None, cpus=None,
    storage=None, platform=None, tier=None, connections=None
))]
#[allow(clippy::too_many_arguments)]
fn tune(
    py: Python<'_>,
    snapshot: &Snapshot,
    profile: Option<String>,
    config_path: Option<PathBuf>,
    config_json: Option<String>,
    ram: Option<String>,
    cpus: Option<f64>,
    storage: Option<String>,
    platform: Option<String>,
    tier: Option<String>,
    connections: Option<i64>,
) -> PyResult<(String, String)> {
    guard(py, || {
        let snap = Arc::clone(&snapshot.inner);
        py.detach(move || -> pgsage::Result<(String, String)> {
            let profile: Option<pgsage::tune::Profile> =
                profile.map(|p| p.parse()).transpose().map_err(
                    |problem: pgsage::ParseValueError| pgsage::CoreError::InvalidValue {
                        what: "profile".into(),
                        problem: problem.to_string(),
                    },
                )?;
            if connections.is_some_and(|n| n < 1) {
                return Err(pgsage::CoreError::InvalidValue {
                    what: "connections".into(),
                    problem: "must be at least 1".into(),
                }
                .into());
            }
            let mut config = resolve_config(config_path, config_json.as_deref())?;
            config.host = given_host(
                ram.as_deref(),
                cpus,
                storage.as_deref(),
                platform.as_deref(),
                tier.as_deref(),
            )?
            .or(&config.host);
            pgsage::knowledge::platform_tiers::check_snapshot(&snap, &config.host)?;
            if let Some(profile) = profile {
                config.profile = profile;
            }
            if connections.is_some() {
                config.connections = connections;
            }
            // The same recommendation the audit's setting fixes use.
            let report = pgsage::tune_report(&snap, &config);
            let json =
                serde_json::to_string(&report).map_err(|e| pgsage::CoreError::InvalidValue {
                    what: "tune report".into(),
                    problem: e.to_string(),
                })?;
            Ok((json, report.script()))
        })
        .map_err(|e| to_py(py, e))
    })
}

/// Panics on purpose, so the tests can check that a panic becomes
/// `pgsage.errors.InternalError` rather than a crash.
#[pyfunction]
fn _panic_for_tests(py: Python<'_>) -> PyResult<()> {
    guard(py, || -> PyResult<()> {
        panic!("deliberate panic for the boundary test");
    })
}

/// The native part of the `pgsage` package. Use `pgsage` itself, not this module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<Snapshot>()?;
    m.add_function(wrap_pyfunction!(load_snapshot, m)?)?;
    m.add_function(wrap_pyfunction!(collect, m)?)?;
    m.add_function(wrap_pyfunction!(audit, m)?)?;
    m.add_function(wrap_pyfunction!(fix_script, m)?)?;
    m.add_function(wrap_pyfunction!(rules, m)?)?;
    m.add_function(wrap_pyfunction!(tune, m)?)?;
    m.add_function(wrap_pyfunction!(diff::diff_snapshots, m)?)?;
    m.add_function(wrap_pyfunction!(diff::diff_reports, m)?)?;
    m.add_function(wrap_pyfunction!(html::report_html, m)?)?;
    m.add_function(wrap_pyfunction!(html::tune_html, m)?)?;
    m.add_class::<plans::PlanAnalysis>()?;
    m.add_function(wrap_pyfunction!(plans::analyze_plans, m)?)?;
    m.add_function(wrap_pyfunction!(plans::explain, m)?)?;
    m.add_class::<workload::Workload>()?;
    m.add_function(wrap_pyfunction!(workload::workload_from_logs, m)?)?;
    m.add_function(wrap_pyfunction!(workload::workload_from_snapshot, m)?)?;
    m.add_function(wrap_pyfunction!(workload::load_workload, m)?)?;
    m.add_class::<indexes::IndexAdvice>()?;
    m.add_function(wrap_pyfunction!(indexes::advise_indexes, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    Ok(())
}
