//! The workload of server log files: read (parsed and fingerprinted in parallel),
//! aggregated per fingerprint. The one implementation behind `pgsage workload <logs>` and
//! the index advisor's log source.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use super::fingerprint::analyze;
use super::log::{read_paths_map_until, LogError, LogOptions, LogStats};
use super::{AggregateOptions, Aggregator, Sample, Workload};

/// How many samples pass between two calls of the progress callback.
const PROGRESS_EVERY: u64 = 0x10000;

/// Reads `paths` (`-` is standard input) and aggregates their samples into a workload;
/// also returns what the readers saw (unparsed lines, input errors). `progress` is called
/// every 65536 samples with the samples read and the distinct fingerprints so far.
/// Another thread may stop it by setting `cancel` ([`LogError::Cancelled`]).
pub fn from_logs<P: AsRef<Path>>(
    paths: &[P],
    opts: &LogOptions,
    aggregate: AggregateOptions,
    cancel: Option<&AtomicBool>,
    mut progress: impl FnMut(u64, usize),
) -> Result<(Workload, LogStats), LogError> {
    let mut agg = Aggregator::new(aggregate);
    let mut seen = 0u64;
    // Statements are fingerprinted on the log parser threads; the aggregation (a hash
    // lookup and a few counters per sample) runs on this one.
    let stats = read_paths_map_until(
        paths,
        opts,
        cancel,
        |s: Sample| {
            let a = analyze(&s.query);
            (s, a)
        },
        |(s, a)| {
            agg.add_analyzed(&s, &a);
            seen += 1;
            if seen.is_multiple_of(PROGRESS_EVERY) {
                progress(seen, agg.fingerprints());
            }
        },
    )?;
    agg.add_temp_files(&stats.temp_files);
    let files = paths
        .iter()
        .map(|p| p.as_ref().display().to_string())
        .collect();
    Ok((agg.finish(files), stats))
}

#[cfg(test)]
mod tests {
    use super::from_logs;
    use crate::workload::log::LogOptions;
    use crate::workload::AggregateOptions;

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
}
