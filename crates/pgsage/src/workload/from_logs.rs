//! The workload of server log files: read (parsed and fingerprinted in parallel),
//! aggregated per fingerprint. The one implementation behind `pgsage workload <logs>` and
//! the index advisor's log source.

use std::path::Path;

use super::fingerprint::analyze;
use super::log::{read_paths_map, LogError, LogOptions, LogStats};
use super::{AggregateOptions, Aggregator, Sample, Workload};

/// How many samples pass between two calls of the progress callback.
const PROGRESS_EVERY: u64 = 0x10000;

/// Reads `paths` (`-` is standard input) and aggregates their samples into a workload;
/// also returns what the readers saw (unparsed lines, input errors). `progress` is called
/// every 65536 samples with the samples read and the distinct fingerprints so far.
pub fn from_logs<P: AsRef<Path>>(
    paths: &[P],
    opts: &LogOptions,
    aggregate: AggregateOptions,
    mut progress: impl FnMut(u64, usize),
) -> Result<(Workload, LogStats), LogError> {
    let mut agg = Aggregator::new(aggregate);
    let mut seen = 0u64;
    // Statements are fingerprinted on the log parser threads; the aggregation (a hash
    // lookup and a few counters per sample) runs on this one.
    let stats = read_paths_map(
        paths,
        opts,
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
}
