//! The workload of server log files: read (parsed and fingerprinted in parallel),
//! aggregated per fingerprint. The one implementation behind `pgsage workload <logs>`,
//! the index advisor's log source and the Python package's `pgsage.workload(logs)`.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use super::fingerprint::StatementKind;
use super::incidents::StatementRuns;
use super::log::{read_paths_batches_until, LogError, LogOptions, LogStats};
use super::{AggregateOptions, Aggregator, Sample, Workload};
use crate::{Error, Result};

/// About how many samples pass between two calls of the progress callback.
const PROGRESS_EVERY: u64 = 0x10000;

/// Reads `paths` (`-` is standard input) and aggregates their samples into a workload;
/// also returns what the readers saw (unparsed lines, input errors). `progress` is called
/// about every 65536 samples (after the chunk that passes each multiple) with the samples
/// read and the distinct fingerprints so far. Another thread may stop it by setting
/// `cancel` ([`LogError::Cancelled`]).
///
/// The same workload comes out whatever `opts.threads` is: each chunk of the logs is
/// fingerprinted and aggregated on a parser thread, and the chunks' aggregates are merged
/// in input order.
pub fn from_logs<P: AsRef<Path>>(
    paths: &[P],
    opts: &LogOptions,
    aggregate: AggregateOptions,
    cancel: Option<&AtomicBool>,
    mut progress: impl FnMut(u64, usize),
) -> std::result::Result<(Workload, LogStats), LogError> {
    let mut agg = Aggregator::new(aggregate);
    let mut seen = 0u64;
    // Aggregating on the parser threads keeps each sample on the thread that built it;
    // the calling thread only merges one small aggregate per chunk (a few hundred
    // fingerprints at most, against tens of thousands of samples).
    let mut stats = read_paths_batches_until(
        paths,
        opts,
        cancel,
        |samples: Vec<Sample>| {
            let mut part = Aggregator::new(aggregate);
            for s in &samples {
                part.add(s);
            }
            (part, samples.len() as u64)
        },
        |(part, n)| {
            agg.merge(part);
            let before = seen;
            seen += n;
            if seen / PROGRESS_EVERY > before / PROGRESS_EVERY {
                progress(seen, agg.fingerprints());
            }
        },
    )?;
    agg.add_temp_files(&stats.temp_files);
    let files = paths
        .iter()
        .map(|p| p.as_ref().display().to_string())
        .collect();
    let mut workload = agg.finish(files);
    let runs: Vec<StatementRuns<'_>> = workload
        .queries
        .iter()
        .map(|q| StatementRuns {
            fingerprint: q.fingerprint,
            query: &q.query,
            writes: q.kind == StatementKind::Write,
            applications: q.applications.iter().map(|a| a.name.as_str()).collect(),
        })
        .collect();
    let incidents = std::mem::take(&mut stats.incidents).finish(&runs);
    workload.incidents = incidents;
    Ok((workload, stats))
}

/// [`from_logs`] with `bucket_seconds` time windows, for a caller that wants an error
/// rather than an empty workload when the logs hold no statement.
///
/// Gives up when `cancel` becomes true, with an [`Error::Cancelled`]: the reader stops
/// at its next chunk (the chunks already in flight are still parsed). No path at all,
/// or logs in which not one statement with a duration was found, are an
/// [`Error::InvalidValue`] for `logs` saying what the reader saw (wrong
/// `log_line_prefix`, `log_min_duration_statement` off, not a server log); logs that
/// cannot be opened are [`Error::Io`].
pub fn from_log_files<P: AsRef<Path>>(
    paths: &[P],
    opts: &LogOptions,
    bucket_seconds: i64,
    cancel: &AtomicBool,
) -> Result<(Workload, LogStats)> {
    if paths.is_empty() {
        return Err(Error::InvalidValue {
            what: "logs".into(),
            problem: "no log file given".into(),
        });
    }
    let aggregate = AggregateOptions {
        bucket_seconds: bucket_seconds.max(1),
    };
    let (workload, stats) = from_logs(paths, opts, aggregate, Some(cancel), |_, _| {})?;
    found_statements(&workload, &stats)?;
    Ok((workload, stats))
}

/// Nothing when the logs gave at least one statement with a duration (or a lock
/// incident); otherwise an
/// [`Error::InvalidValue`] for `logs` saying what the reader saw and what to check
/// (`log_min_duration_statement`, and the `log_line_prefix` the logs were read with).
/// For callers of [`from_logs`] that want [`from_log_files`]'s error.
pub fn found_statements(workload: &Workload, stats: &LogStats) -> Result<()> {
    // A log of errors and lock waits alone (statements not logged) still has incidents.
    if stats.samples > 0 || !workload.incidents.is_empty() {
        return Ok(());
    }
    Err(Error::InvalidValue {
        what: "logs".into(),
        problem: format!(
            "no statement with a duration in {} ({} lines, {} did not parse{}): is \
             log_min_duration_statement (or log_duration with log_statement) on{}?",
            workload.source.files.join(", "),
            stats.lines,
            stats.unparsed_lines,
            stats
                .input_errors
                .first()
                .map(|e| format!("; {e}"))
                .unwrap_or_default(),
            prefixes_read_with(stats)
        ),
    })
}

/// For the message of logs without statements: `, and is log_line_prefix '%t-%c-' the
/// server's` with the prefixes the inputs were read with (nothing for csvlog and jsonlog,
/// which have none).
fn prefixes_read_with(stats: &LogStats) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for p in stats.inputs.iter().filter_map(|i| i.prefix.as_deref()) {
        if !seen.contains(&p) {
            seen.push(p);
        }
    }
    if seen.is_empty() {
        return String::new();
    }
    let quoted: Vec<String> = seen.iter().map(|p| format!("'{p}'")).collect();
    format!(
        ", and is log_line_prefix {} the server's",
        quoted.join(" or ")
    )
}

#[cfg(test)]
mod tests {
    use super::{from_log_files, from_logs};
    use crate::workload::log::LogOptions;
    use crate::workload::AggregateOptions;
    use crate::Error;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn a_log_file_becomes_a_workload() {
        let dir = std::env::temp_dir().join(format!("pgsage-from-logs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("postgresql.log");
        std::fs::write(
            &path,
            "2024-05-01 10:00:00.123 UTC [42] LOG:  duration: 1.500 ms  statement: SELECT * FROM t WHERE a = 1\n\
             2024-05-01 10:00:01.123 UTC [42] LOG:  duration: 2.500 ms  statement: SELECT * FROM t WHERE a = 2\n\
             this line is junk\n",
        )
        .expect("write");
        let (w, stats) = from_logs(
            &[&path],
            &LogOptions::default(),
            AggregateOptions::default(),
            None,
            |_, _| {},
        )
        .expect("read");
        std::fs::remove_dir_all(&dir).ok();
        assert_eq!(w.queries.len(), 1);
        assert_eq!(w.queries[0].calls, 2);
        assert_eq!(w.source.files, vec![path.display().to_string()]);
        assert_eq!(stats.samples, 2);
        assert!(stats.unparsed_lines >= 1);
    }

    /// Another thread's flag stops the read at the next chunk: set from the first
    /// progress call (65,536 samples in), the read of 400,000 ends early, cancelled.
    #[test]
    fn a_set_flag_stops_the_read() {
        use std::io::Write;
        use std::sync::atomic::{AtomicBool, Ordering};
        let dir = std::env::temp_dir().join(format!("pgsage-cancel-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("postgresql.log");
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        for i in 0..400_000 {
            writeln!(
                f,
                "2024-05-01 10:00:00.123 UTC [42] LOG:  duration: 1.500 ms  statement: SELECT * FROM t WHERE a = {i}"
            )
            .expect("write");
        }
        drop(f);
        let opts = LogOptions {
            threads: 1,
            chunk_bytes: 1 << 20,
            ..LogOptions::default()
        };
        let flag = AtomicBool::new(false);
        let mut seen = 0;
        let result = from_logs(
            &[&path],
            &opts,
            AggregateOptions::default(),
            Some(&flag),
            |samples, _| {
                seen = samples;
                flag.store(true, Ordering::Relaxed);
            },
        );
        let before = from_logs(
            &[&path],
            &opts,
            AggregateOptions::default(),
            Some(&AtomicBool::new(true)),
            |_, _| {},
        );
        std::fs::remove_dir_all(&dir).ok();
        assert!(
            matches!(result, Err(crate::workload::log::LogError::Cancelled)),
            "{result:?}"
        );
        assert!(seen > 0 && seen < 400_000, "{seen}");
        assert!(matches!(
            before,
            Err(crate::workload::log::LogError::Cancelled)
        ));
    }

    #[test]
    fn logs_that_cannot_be_read_or_hold_no_statement_are_errors() {
        let dir = std::env::temp_dir().join(format!("pgsage-log-files-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let junk = dir.join("junk.log");
        std::fs::write(&junk, "not a server log\nat all\n").expect("write");
        let never = AtomicBool::new(false);
        let opts = LogOptions::default();
        let err = from_log_files(&[&junk], &opts, 3600, &never)
            .expect_err("junk")
            .to_string();
        assert!(
            err.contains("no statement with a duration")
                && err.contains("2 lines")
                && err.contains("is log_line_prefix '%m [%p] ' the server's?"),
            "{err}"
        );
        let missing = dir.join("missing.log");
        match from_log_files(&[&missing], &opts, 3600, &never) {
            Err(Error::Io { context, .. }) => assert!(context.contains("missing.log")),
            other => panic!("expected an I/O error, got {other:?}"),
        }
        let none: [&std::path::Path; 0] = [];
        assert!(matches!(
            from_log_files(&none, &opts, 3600, &never),
            Err(Error::InvalidValue { .. })
        ));
        std::fs::remove_dir_all(&dir).ok();
    }
}
