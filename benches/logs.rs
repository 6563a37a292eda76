//! Log reading speed.
//!
//! - `cargo bench -p pgsage --bench logs`: criterion, on a ~64 MiB stderr log built in
//!   memory by replicating the pg17 corpus log (`testdata/logs/pg17/default.log`) with
//!   varied constants, read with 1 and 2 threads, and read + fingerprint.
//! - `PGSAGE_LOG_BENCH_FILE=big.log PGSAGE_LOG_BENCH_THREADS=2 cargo bench -p pgsage
//!   --bench logs`: one timed pass over a file (made by `scripts/make-big-log.py`),
//!   printing MB/s, samples/s and peak RSS (the format and prefix detected).
//!
//! The criterion group also times the whole workload (`workload::from_logs`: reading,
//! fingerprints, aggregation) on the same log written to a temporary file.
//! `scripts/bench-logs.sh` times the `pgsage workload` command itself on 1 GiB logs of
//! four shapes, pgBadger beside it. Figures in docs/performance.md.

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, Criterion, Throughput};
use pgsage::workload::fingerprint::fingerprint;
use pgsage::workload::log::{read, read_map, read_paths_map, LogOptions};
use pgsage::workload::{from_logs, AggregateOptions};

/// The corpus log replicated with other pids and constants, to about `bytes`.
fn replicated(bytes: usize) -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/logs/pg17/default.log"
    );
    let text = std::fs::read_to_string(path).expect("corpus log");
    let mut out = Vec::with_capacity(bytes + text.len());
    let mut copy = 0u64;
    while out.len() < bytes {
        // Change every "= <digits>" constant and the pids ("[1234]").
        let mut rest = text.as_str();
        while let Some(i) = rest.find(['[', '=']) {
            out.extend_from_slice(&rest.as_bytes()[..=i]);
            rest = &rest[i + 1..];
            let digits_at = rest.len() - rest.trim_start_matches(' ').len();
            let n = rest[digits_at..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            if n > 0 {
                out.extend_from_slice(&rest.as_bytes()[..digits_at]);
                let v: u64 = rest[digits_at..digits_at + n].parse().unwrap_or(0);
                let v = if rest.as_bytes().get(digits_at + n) == Some(&b']') {
                    v + copy % 500 * 100
                } else {
                    (v * 7919 + copy * 104_729) % 100_000
                };
                out.extend_from_slice(v.to_string().as_bytes());
                rest = &rest[digits_at + n..];
            }
        }
        out.extend_from_slice(rest.as_bytes());
        copy += 1;
    }
    out
}

fn opts(threads: usize) -> LogOptions {
    LogOptions {
        prefix: Some("%m [%p] ".into()),
        threads,
        ..LogOptions::default()
    }
}

fn bench(c: &mut Criterion) {
    let data = replicated(64 << 20);
    let mut g = c.benchmark_group("log");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(data.len() as u64));
    for threads in [1, 2] {
        g.bench_function(format!("read stderr, {threads} thread(s)"), |b| {
            b.iter(|| {
                let mut n = 0u64;
                read(&data[..], "bench", &opts(threads), |s| {
                    n += black_box(s).duration_ms as u64;
                })
                .expect("read");
                n
            })
        });
        g.bench_function(format!("read + fingerprint, {threads} thread(s)"), |b| {
            b.iter(|| {
                // Fingerprints computed on the parser threads.
                let mut n = 0u64;
                read_map(
                    &data[..],
                    "bench",
                    &opts(threads),
                    |s| fingerprint(&s.query).0,
                    |f| n ^= f,
                )
                .expect("read");
                n
            })
        });
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.log");
    std::fs::write(&path, &data).expect("write the log");
    for threads in [1, 2] {
        g.bench_function(format!("workload (from_logs), {threads} thread(s)"), |b| {
            b.iter(|| {
                let (w, _) = from_logs(
                    &[&path],
                    &opts(threads),
                    AggregateOptions::default(),
                    None,
                    |_, _| {},
                )
                .expect("workload");
                w.totals.calls
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);

/// Peak resident set size of this process, from /proc (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// One pass over a file: `PGSAGE_LOG_BENCH_FILE`, `PGSAGE_LOG_BENCH_THREADS` (default
/// 1), `PGSAGE_LOG_BENCH_FINGERPRINT=1` to fingerprint each sample too.
fn file_pass(path: &str) {
    let threads: usize = std::env::var("PGSAGE_LOG_BENCH_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(1);
    let with_fp = std::env::var("PGSAGE_LOG_BENCH_FINGERPRINT").as_deref() == Ok("1");
    let start = Instant::now();
    let mut fp = 0u64;
    let detect = LogOptions {
        threads,
        ..LogOptions::default()
    };
    let stats = read_paths_map(
        &[path],
        &detect,
        |s| if with_fp { fingerprint(&s.query).0 } else { 0 },
        |f| fp = fp.wrapping_add(f),
    )
    .expect("read");
    let secs = start.elapsed().as_secs_f64();
    let mb = stats.bytes as f64 / 1e6;
    println!(
        "file={path} threads={threads} fingerprint={with_fp} bytes={} lines={} samples={} \
         unparsed={} seconds={secs:.2} MB/s={:.1} samples/s={:.0} peak_rss_MiB={:.0} ({fp:x})",
        stats.bytes,
        stats.lines,
        stats.samples,
        stats.unparsed_lines,
        mb / secs,
        stats.samples as f64 / secs,
        peak_rss_mib().unwrap_or(f64::NAN),
    );
}

fn main() {
    if let Ok(path) = std::env::var("PGSAGE_LOG_BENCH_FILE") {
        file_pass(&path);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
