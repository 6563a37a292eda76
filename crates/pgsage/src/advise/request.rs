//! The index advisor's entry point for the front ends: checks the options, gathers
//! schema and workload, then advises. The CLI's `pgsage indexes` and Python's
//! `pgsage.advise_indexes` call it.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::collect::CollectOptions;
use crate::snapshot::Snapshot;
use crate::workload::log::{LogFormat, LogOptions};
use crate::workload::{AggregateOptions, Workload};
use crate::{ConnectOptions, Error, Result};

use super::model::IndexAdvice;
use super::options::AdvisorOptions;

/// The reason of unvalidated advice when no server was given (front ends say how to
/// give one).
pub const NO_SERVER_REASON: &str = "no server given: validation needs a server with HypoPG";

/// The reason of unvalidated advice when validation was turned off.
pub const NO_VALIDATE_REASON: &str = "validation with HypoPG was turned off";

/// The `what` of the [`pgsage_core::Error::InvalidValue`] returned when the snapshot has
/// no statements to advise on (no pg_stat_statements): front ends name their ways of
/// giving a workload.
pub const NO_STATEMENTS: &str = "the statements to advise on";

/// Where the schema (and, for [`QueriesFrom::Statements`], the workload) comes from.
#[derive(Debug, Clone)]
pub enum SchemaFrom {
    /// A live server: a snapshot is collected, and HypoPG validates when installed.
    Server(ConnectOptions),
    /// A snapshot file's content: unvalidated advice.
    Snapshot(Box<Snapshot>),
}

/// Where the statements come from.
#[derive(Debug, Clone)]
pub enum QueriesFrom {
    /// The server's (or the snapshot's) pg_stat_statements.
    Statements,
    /// A saved workload (`pgsage workload -o workload.json`).
    Workload(Box<Workload>),
    /// Server log files, read with the schema snapshot's logging settings
    /// (`log_line_prefix`, `log_destination`, `log_timezone`) unless given here.
    Logs {
        /// The files (`-` for stdin).
        paths: Vec<PathBuf>,
        /// The server's `log_line_prefix`, when not the snapshot's.
        prefix: Option<String>,
        /// The format, when not the snapshot's (or detected).
        format: Option<LogFormat>,
    },
}

/// One advisor run.
#[derive(Debug, Clone)]
pub struct Request {
    /// Schema source.
    pub schema: SchemaFrom,
    /// Statement source.
    pub queries: QueriesFrom,
    /// Options.
    pub options: AdvisorOptions,
    /// Validate with HypoPG when a server is given and has it (true by default).
    pub validate: bool,
}

/// Runs the advisor: refuses options that cannot advise anything
/// ([`AdvisorOptions::validate`]: an [`pgsage_core::Error::InvalidValue`]), collects a
/// snapshot when a server is given (stopping when `cancel` becomes true), builds the
/// workload from the chosen source, and advises — validated on the server when one is
/// given and `validate` is set, unvalidated with the reason otherwise.
pub fn run(request: Request, cancel: Option<&AtomicBool>) -> Result<IndexAdvice> {
    let Request {
        schema,
        queries,
        options,
        validate,
    } = request;
    options.validate()?;
    let (snapshot, connect) = match schema {
        SchemaFrom::Server(connect) => (collect(&connect, cancel)?, Some(connect)),
        SchemaFrom::Snapshot(snap) => (*snap, None),
    };
    check_cancel(cancel)?;
    let workload = workload(&snapshot, queries, cancel)?;
    check_cancel(cancel)?;
    Ok(match connect {
        Some(connect) if validate => {
            super::live::advise_live(&workload, &snapshot, &connect, &options, cancel)?
        }
        Some(_) => super::advise(&workload, &snapshot, &options, NO_VALIDATE_REASON),
        None => super::advise(&workload, &snapshot, &options, NO_SERVER_REASON),
    })
}

/// A snapshot of the server, for its catalog, statistics and pg_stat_statements. Only
/// the collector's statements run: read-only, with its timeouts.
fn collect(connect: &ConnectOptions, cancel: Option<&AtomicBool>) -> Result<Snapshot> {
    let options = CollectOptions {
        // Host facts play no part in index advice.
        probe_local_host: false,
        ..CollectOptions::default()
    };
    match cancel {
        Some(flag) => crate::collect_snapshot_cancellable(connect, &options, flag),
        None => crate::collect_snapshot_with(connect, &options),
    }
}

fn check_cancel(cancel: Option<&AtomicBool>) -> Result<()> {
    if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
        return Err(Error::cancelled("advising indexes"));
    }
    Ok(())
}

/// The workload of the chosen source.
fn workload(
    snapshot: &Snapshot,
    queries: QueriesFrom,
    cancel: Option<&AtomicBool>,
) -> Result<Workload> {
    match queries {
        QueriesFrom::Statements => {
            crate::workload::from_snapshot(snapshot).map_err(|e| {
                Error::invalid_value(
                    NO_STATEMENTS,
                    format!(
                        "{} in database `{}`; give them another way: a saved workload or server log files",
                        e.0, snapshot.server.database
                    ),
                )
            })
        }
        QueriesFrom::Workload(w) => Ok(*w),
        QueriesFrom::Logs {
            paths,
            prefix,
            format,
        } => {
            let options = LogOptions::from_snapshot(snapshot).overridden(prefix, format);
            let (w, _stats) = crate::workload::from_logs(
                &paths,
                &options,
                AggregateOptions::default(),
                cancel,
                |_, _| {},
            )?;
            Ok(w)
        }
    }
}

/// A log reader's error as the library's: only unreadable inputs are errors.
#[cfg(test)]
mod tests {
    use super::*;

    fn snapshot_without_statements() -> Snapshot {
        // A captured fixture (never hand-typed): the indexing scenario's healthy case.
        let path = pgsage_testkit::scenario::fixture_path("indexing", "healthy");
        let mut snap = Snapshot::load(path).expect("fixture");
        snap.statements = None;
        snap
    }

    #[test]
    fn missing_pg_stat_statements_names_the_alternatives() {
        let err = workload(
            &snapshot_without_statements(),
            QueriesFrom::Statements,
            None,
        )
        .expect_err("no statements")
        .to_string();
        assert!(
            err.contains("pg_stat_statements") && err.contains("saved workload"),
            "{err}"
        );
        assert!(err.contains("log files"), "{err}");
    }

    #[test]
    fn a_missing_log_file_is_an_error_naming_it() {
        let err = workload(
            &snapshot_without_statements(),
            QueriesFrom::Logs {
                paths: vec![PathBuf::from("/nonexistent/pgsage/postgresql.log")],
                prefix: None,
                format: None,
            },
            None,
        )
        .expect_err("missing file")
        .to_string();
        assert!(err.contains("/nonexistent/pgsage/postgresql.log"), "{err}");
    }

    #[test]
    fn a_cancelled_run_stops() {
        let flag = AtomicBool::new(true);
        assert!(check_cancel(Some(&flag)).is_err());
        assert!(check_cancel(None).is_ok());
    }
}
