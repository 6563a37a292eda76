//! The log readers against the corpus captured from real PostgreSQL 13–18 servers
//! (`testdata/logs/pg<major>/`, made by `scripts/capture-logs.sh`), and against hostile
//! input derived from it.

// A test's failure is a panic; unwrap says so without ceremony.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use pgsage::workload::log::{
    read, read_map, read_paths, read_paths_batches_until, LogFormat, LogOptions, LogStats,
};
use pgsage::workload::{from_logs, AggregateOptions, Aggregator, Sample, SampleKind, Workload};
use serde_json::Value;

fn corpus_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/logs")
}

struct Corpus {
    major: u64,
    dir: PathBuf,
    manifest: Value,
}

fn corpora() -> Vec<Corpus> {
    let mut out = Vec::new();
    for major in 13..=18 {
        let dir = corpus_root().join(format!("pg{major}"));
        let text = std::fs::read_to_string(dir.join("manifest.json"))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        out.push(Corpus {
            major,
            dir,
            manifest: serde_json::from_str(&text).unwrap(),
        });
    }
    out
}

fn configs(c: &Corpus) -> &Vec<Value> {
    c.manifest["configs"].as_array().unwrap()
}

/// (format name, path) of each file of a configuration.
fn files(c: &Corpus, cfg: &Value) -> Vec<(String, PathBuf)> {
    cfg["files"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), c.dir.join(v.as_str().unwrap())))
        .collect()
}

fn opts_for(cfg: &Value, format: &str) -> LogOptions {
    LogOptions {
        prefix: (format == "stderr").then(|| cfg["prefix"].as_str().unwrap().to_string()),
        ..LogOptions::default()
    }
}

fn read_file(path: &Path, opts: &LogOptions) -> (Vec<Sample>, LogStats) {
    let mut samples = Vec::new();
    let stats = read_paths(&[path], opts, |s| samples.push(s)).unwrap();
    (samples, stats)
}

fn marker(query: &str) -> Option<&str> {
    let at = query.find("/*w:")? + 4;
    let end = query[at..].find("*/")? + at;
    Some(&query[at..end])
}

fn kind_name(k: SampleKind) -> &'static str {
    match k {
        SampleKind::Simple => "simple",
        SampleKind::Execute => "execute",
        SampleKind::ParseOrBind => "parse_or_bind",
        SampleKind::AutoExplain => "auto_explain",
    }
}

fn counts(samples: &[Sample]) -> BTreeMap<(String, String), u64> {
    let mut m = BTreeMap::new();
    for s in samples {
        if let Some(mk) = marker(&s.query) {
            if mk != "end" {
                *m.entry((mk.to_string(), kind_name(s.kind).to_string()))
                    .or_default() += 1;
            }
        }
    }
    m
}

fn expected_counts(cfg: &Value) -> BTreeMap<(String, String), u64> {
    cfg["expect"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                (
                    e["marker"].as_str().unwrap().to_string(),
                    e["kind"].as_str().unwrap().to_string(),
                ),
                e["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn every_corpus_file_parses_with_the_expected_samples() {
    let mut checked = 0;
    for c in corpora() {
        for cfg in configs(&c) {
            let name = cfg["name"].as_str().unwrap();
            let prefix = cfg["prefix"].as_str().unwrap();
            for (format, path) in files(&c, cfg) {
                let what = format!("pg{} {name} {format}", c.major);
                let (samples, stats) = read_file(&path, &opts_for(cfg, &format));
                assert_eq!(
                    stats.unparsed_lines, 0,
                    "{what}: {:?}",
                    stats.unparsed_examples
                );
                assert!(
                    stats.input_errors.is_empty(),
                    "{what}: {:?}",
                    stats.input_errors
                );
                assert_eq!(counts(&samples), expected_counts(cfg), "{what}");
                assert_eq!(stats.samples, samples.len() as u64, "{what}");
                let expected_format = match format.as_str() {
                    "csv" => LogFormat::Csv,
                    "json" => LogFormat::Json,
                    _ => LogFormat::Stderr,
                };
                assert_eq!(stats.inputs[0].format, expected_format, "{what}");

                // Errors by SQLSTATE where the log has it.
                let has_code = format != "stderr" || prefix.contains("%e");
                let code = if has_code { "22012" } else { "unknown" };
                assert_eq!(
                    stats.errors_by_sqlstate.get(code),
                    Some(&1),
                    "{what}: {:?}",
                    stats.errors_by_sqlstate
                );
                assert_eq!(stats.messages.errors, 1, "{what}");

                // Temporary files: counted, with bytes, attributed to their statement.
                assert!(stats.temp_files.count >= 1, "{what}");
                assert!(stats.temp_files.bytes > 0, "{what}");
                for t in &stats.temp_files.by_statement {
                    let st = t.statement.as_deref().unwrap_or_default();
                    assert_eq!(marker(st), Some("temp_sort"), "{what}: {t:?}");
                    assert!(t.pid.is_some() == (format != "stderr" || prefix.contains("%p")));
                }
                assert_eq!(
                    stats
                        .temp_files
                        .by_statement
                        .iter()
                        .map(|t| t.count)
                        .sum::<u64>(),
                    stats.temp_files.count
                );
                assert!(stats.messages.checkpoints >= 2, "{what}");
                assert!(stats.messages.connections >= 3, "{what}");
                assert!(stats.messages.disconnections >= 1, "{what}");

                check_samples(&what, &samples, cfg, &format);
                checked += 1;
            }
        }
    }
    assert!(checked >= 6 * 9, "only {checked} files checked");
}

fn check_samples(what: &str, samples: &[Sample], cfg: &Value, format: &str) {
    let prefix = cfg["prefix"].as_str().unwrap();
    let has = |esc: &str| format != "stderr" || prefix.contains(esc);
    for s in samples {
        assert!(s.duration_ms >= 0.0, "{what}");
        assert!(s.at.is_some(), "{what}: no time on {s:?}");
        if marker(&s.query).is_none() {
            continue;
        }
        assert_eq!(s.user.is_some(), has("%u"), "{what}: user of {s:?}");
        assert_eq!(s.database.is_some(), has("%d"), "{what}: database of {s:?}");
        if has("%u") {
            assert_eq!(s.user.as_deref(), Some("postgres"), "{what}");
            assert_eq!(s.database.as_deref(), Some("app"), "{what}");
        }
        assert_eq!(s.pid.is_some(), has("%p"), "{what}: pid of {s:?}");
        assert_eq!(s.session.is_some(), has("%c"), "{what}: session of {s:?}");
        assert_eq!(
            s.client.is_some(),
            has("%h") || has("%r"),
            "{what}: client of {s:?}"
        );
        if let Some(c) = &s.client {
            assert_eq!(c, "127.0.0.1", "{what}");
        }
        if marker(&s.query) == Some("app_select") && has("%a") {
            assert_eq!(s.application.as_deref(), Some("wl_app"), "{what}");
        }
    }
    let by = |m: &str, k: SampleKind| -> Vec<&Sample> {
        samples
            .iter()
            .filter(|s| marker(&s.query) == Some(m) && s.kind == k)
            .collect()
    };
    // Parameters of the extended-protocol executions, in order.
    let params: Vec<Vec<String>> = by("ext_select", SampleKind::Execute)
        .iter()
        .map(|s| s.parameters.clone())
        .collect();
    let want: Vec<Vec<String>> = (1..=3)
        .map(|i| vec![format!("'{i}'"), "'it''s'".to_string()])
        .collect();
    assert_eq!(params, want, "{what}");
    let null = by("ext_null", SampleKind::Execute);
    assert_eq!(null[0].parameters, vec!["NULL".to_string()], "{what}");
    assert!(null[0].query.ends_with("WHERE qty = $1"), "{what}");
    // Multi-line statements keep their lines (and a tab that starts a line).
    let ml = by("multi_line", SampleKind::Simple);
    assert!(
        ml[0]
            .query
            .contains("id,\n       name\n  FROM wl_item\n WHERE qty > 1\n\tORDER BY id"),
        "{what}: {:?}",
        ml[0].query
    );
    assert!(!ml[0].query.ends_with('\n'), "{what}");
    // auto_explain: the explained query and the plan, text and JSON.
    for (m, fmt) in [("explain_text", "text"), ("explain_json", "json")] {
        let ae = by(m, SampleKind::AutoExplain);
        let s = ae[0];
        assert!(s.query.starts_with("SELECT /*w:"), "{what}: {:?}", s.query);
        assert!(!s.query.contains('\n'), "{what}: {:?}", s.query);
        let plan = s.plan.as_deref().unwrap();
        if fmt == "json" {
            let v: Value =
                serde_json::from_str(plan).unwrap_or_else(|e| panic!("{what}: {e}: {plan}"));
            assert!(v["Plan"]["Node Type"].is_string(), "{what}");
        } else {
            assert!(
                plan.starts_with("Query Text: SELECT /*w:explain_text*/"),
                "{what}: {plan}"
            );
            assert!(plan.contains("Seq Scan on wl_item"), "{what}: {plan}");
        }
        let parsed = pgsage::plan::parse_plans(plan);
        if fmt == "json" {
            assert!(parsed.is_ok(), "{what}: {parsed:?}");
        }
    }
}

/// Samples without the fields a format may lack, sorted, for comparing formats.
fn comparable(samples: &[Sample], all_fields: bool) -> Vec<String> {
    let mut v: Vec<String> = samples
        .iter()
        .map(|s| {
            let mut s = s.clone();
            if !all_fields {
                s.user = None;
                s.database = None;
                s.application = None;
                s.client = None;
                s.session = None;
            }
            serde_json::to_string(&s).unwrap()
        })
        .collect();
    v.sort();
    v
}

#[test]
fn the_same_workload_gives_the_same_samples_in_every_format() {
    let mut compared = 0;
    for c in corpora() {
        for cfg in configs(&c) {
            let files = files(&c, cfg);
            if files.len() < 2 {
                continue;
            }
            let read_all: BTreeMap<String, Vec<Sample>> = files
                .iter()
                .map(|(f, p)| (f.clone(), read_file(p, &opts_for(cfg, f)).0))
                .collect();
            let what = format!("pg{} {}", c.major, cfg["name"]);
            let stderr = comparable(&read_all["stderr"], false);
            let csv = comparable(&read_all["csv"], false);
            assert_eq!(stderr, csv, "{what}: stderr vs csvlog");
            if let Some(json) = read_all.get("json") {
                assert_eq!(
                    comparable(json, true),
                    comparable(&read_all["csv"], true),
                    "{what}: jsonlog vs csvlog"
                );
            }
            compared += 1;
        }
    }
    // default and statement_duration on every major.
    assert_eq!(compared, 12);
}

#[test]
fn prefix_is_detected_for_well_known_prefixes() {
    for c in corpora() {
        for cfg in configs(&c) {
            let name = cfg["name"].as_str().unwrap();
            if name == "escapes" {
                continue;
            }
            let path = c.dir.join(cfg["files"]["stderr"].as_str().unwrap());
            let (given, _) = read_file(&path, &opts_for(cfg, "stderr"));
            let (detected, stats) = read_file(&path, &LogOptions::default());
            assert_eq!(
                stats.inputs[0].prefix.as_deref(),
                cfg["prefix"].as_str(),
                "pg{} {name}",
                c.major
            );
            assert_eq!(given, detected, "pg{} {name}", c.major);
        }
    }
}

fn corpus_file(major: u32, config: &str, ext: &str) -> (PathBuf, LogOptions) {
    let dir = corpus_root().join(format!("pg{major}"));
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("manifest.json")).unwrap()).unwrap();
    let cfg = configs(&Corpus {
        major: u64::from(major),
        dir: dir.clone(),
        manifest: manifest.clone(),
    })
    .iter()
    .find(|c| c["name"] == config)
    .unwrap()
    .clone();
    let format = match ext {
        "csv" => "csv",
        "json" => "json",
        _ => "stderr",
    };
    (dir.join(format!("{config}.{ext}")), opts_for(&cfg, format))
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn read_bytes(data: &[u8], opts: &LogOptions) -> (Vec<Sample>, LogStats) {
    let mut samples = Vec::new();
    let stats = read(data, "test", opts, |s| samples.push(s)).unwrap();
    (samples, stats)
}

#[test]
fn gzip_threads_and_tiny_chunks_give_the_same_samples() {
    for (config, ext) in [
        ("statement_duration", "log"),
        ("statement_duration", "csv"),
        ("statement_duration", "json"),
        ("escapes", "log"),
        ("default", "log"),
    ] {
        let (path, opts) = corpus_file(17, config, ext);
        let data = std::fs::read(&path).unwrap();
        let (base, base_stats) = read_bytes(
            &data,
            &LogOptions {
                threads: 1,
                ..opts.clone()
            },
        );
        let base = comparable(&base, true);
        for threads in [1, 2, 4] {
            for chunk in [64, 700, 1 << 20] {
                let o = LogOptions {
                    threads,
                    chunk_bytes: chunk,
                    ..opts.clone()
                };
                let (s, st) = read_bytes(&data, &o);
                let what = format!("{config}.{ext} threads={threads} chunk={chunk}");
                assert_eq!(comparable(&s, true), base, "{what}");
                assert_eq!(st.unparsed_lines, 0, "{what}: {:?}", st.unparsed_examples);
                assert_eq!(st.lines, base_stats.lines, "{what}");
                assert_eq!(st.records, base_stats.records, "{what}");
                assert_eq!(
                    st.statements_without_duration, base_stats.statements_without_duration,
                    "{what}"
                );
            }
        }
        // A map step on the parser threads sees every sample, delivered in order.
        let (plain, _) = read_bytes(
            &data,
            &LogOptions {
                threads: 2,
                ..opts.clone()
            },
        );
        let mut mapped = Vec::new();
        let o = LogOptions {
            threads: 2,
            chunk_bytes: 700,
            ..opts.clone()
        };
        read_map(&data[..], "t", &o, |s| s.query.len(), |n| mapped.push(n)).unwrap();
        let mut lens: Vec<usize> = plain.iter().map(|s| s.query.len()).collect();
        lens.sort_unstable();
        mapped.sort_unstable();
        assert_eq!(mapped, lens, "{config}.{ext} map");
        let (gz, st) = read_bytes(&gzip(&data), &opts);
        assert_eq!(comparable(&gz, true), base, "{config}.{ext} gz");
        assert!(st.inputs[0].gzip);
    }
}

/// `n` copies of the log at `path`, one after the other in a file in `dir`.
fn copies(path: &Path, n: usize, dir: &Path) -> PathBuf {
    let text = std::fs::read(path).unwrap();
    let out = dir.join(path.file_name().unwrap());
    std::fs::write(&out, text.repeat(n)).unwrap();
    out
}

/// The workload of a captured log, read with `threads` parser threads and chunks of
/// `chunk` bytes.
fn workload_of(paths: &[&Path], opts: &LogOptions, threads: usize, chunk: usize) -> Workload {
    let o = LogOptions {
        threads,
        chunk_bytes: chunk,
        ..opts.clone()
    };
    let (w, _) = from_logs(paths, &o, AggregateOptions::default(), None, |_, _| {}).unwrap();
    w
}

/// `pgsage workload` gives exactly the same workload with one parser thread or several:
/// each chunk is aggregated on a parser thread and the chunks' aggregates are merged in
/// input order, so threads change neither the first statement text kept per
/// fingerprint nor the order floating-point sums are added in. The log is read as 60
/// copies in one file (small chunks, at least the 64 KiB the reader fills at a time, split
/// multi-line entries and log_statement/log_duration pairs across chunk boundaries in
/// statement_duration), then once more as a second input, which pairs follow into.
/// Against the samples aggregated one by one, it differs at most in the last bits of the
/// sums.
#[test]
fn a_workload_is_the_same_whatever_the_threads() {
    for c in corpora().iter().filter(|c| c.major >= 17) {
        for cfg in configs(c) {
            for (format, path) in files(c, cfg) {
                let opts = opts_for(cfg, &format);
                let dir = tempfile::tempdir().unwrap();
                let big = copies(&path, 60, dir.path());
                let many = [big.as_path(), path.as_path()];
                for chunk in [700, 4 << 20] {
                    let what = format!("pg{} {} {format} chunk={chunk}", c.major, cfg["name"]);
                    let one = workload_of(&many, &opts, 1, chunk);
                    assert!(one.totals.calls > 0, "{what}");
                    for threads in [2, 3] {
                        let several = workload_of(&many, &opts, threads, chunk);
                        assert!(several == one, "{what} threads={threads}");
                    }
                    let mut agg = Aggregator::new(AggregateOptions::default());
                    let stats = read_paths(&many, &opts, |s| agg.add(&s)).unwrap();
                    agg.add_temp_files(&stats.temp_files);
                    let files = many.iter().map(|p| p.display().to_string()).collect();
                    let by_one = agg.finish(files);
                    assert_eq!(by_one.totals.calls, one.totals.calls, "{what}");
                    assert_eq!(by_one.queries.len(), one.queries.len(), "{what}");
                    let key = |w: &Workload| {
                        let mut v: Vec<_> = w
                            .queries
                            .iter()
                            .map(|q| (q.fingerprint, q.calls, q.query.clone(), q.example.clone()))
                            .collect();
                        v.sort();
                        v
                    };
                    assert_eq!(key(&by_one), key(&one), "{what}");
                    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(1.0);
                    assert!(
                        close(by_one.totals.total_ms, one.totals.total_ms),
                        "{what}: {} vs {}",
                        by_one.totals.total_ms,
                        one.totals.total_ms
                    );
                }
            }
        }
    }
}

/// Batches reach the caller in input order even when later chunks finish first: a batch
/// step that is slow on every other call makes the parser threads finish out of order,
/// and the statements still come out as one thread reads them.
#[test]
fn batches_arrive_in_input_order_whatever_finishes_first() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let (path, opts) = corpus_file(17, "statement_duration", "log");
    // One input (inputs are read one after the other), of about 26 chunks: the reader
    // fills its buffer 64 KiB at a time, so chunks are at least that long.
    let dir = tempfile::tempdir().unwrap();
    let big = copies(&path, 150, dir.path());
    let (one, _) = read_file(&big, &opts);
    let expected: Vec<String> = one.into_iter().map(|s| s.query).collect();
    let many = [big.as_path()];
    let calls = AtomicUsize::new(0);
    let o = LogOptions {
        threads: 3,
        chunk_bytes: 700,
        ..opts
    };
    let mut got = Vec::new();
    read_paths_batches_until(
        &many,
        &o,
        None,
        |samples| {
            if calls.fetch_add(1, Ordering::Relaxed).is_multiple_of(2) {
                std::thread::sleep(std::time::Duration::from_millis(3));
            }
            samples.into_iter().map(|s| s.query).collect::<Vec<_>>()
        },
        |queries| got.extend(queries),
    )
    .unwrap();
    assert!(
        calls.load(Ordering::Relaxed) > 20,
        "too few chunks to test the order"
    );
    assert_eq!(got, expected);
}

#[test]
fn statement_duration_pairs_are_counted() {
    let (path, opts) = corpus_file(16, "statement_duration", "log");
    let (_, st) = read_file(&path, &opts);
    // The failed statement never gets its duration; parse and bind durations have no
    // statement line.
    assert!(st.statements_without_duration >= 1, "{st:?}");
    assert!(st.durations_without_statement >= 2 * 6, "{st:?}");
    assert!(st.messages.logged_statements > 0);
}

#[test]
fn concatenated_files_and_gz_on_disk() {
    let (path, opts) = corpus_file(15, "default", "log");
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("postgresql.log.gz");
    std::fs::write(&gz, gzip(&std::fs::read(&path).unwrap())).unwrap();
    let mut n = 0;
    let st = read_paths(&[&path, &gz], &opts, |_| n += 1).unwrap();
    let (one, _) = read_file(&path, &opts);
    assert_eq!(n, 2 * one.len());
    assert_eq!(st.inputs.len(), 2);
    assert!(st.inputs[1].gzip);
    let err = read_paths(&[dir.path().join("missing.log")], &opts, |_| {}).unwrap_err();
    assert!(err.to_string().contains("missing.log"), "{err}");
}

/// A deterministic byte stream (xorshift), for junk.
fn junk(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

#[test]
fn hostile_input_is_counted_never_fatal() {
    let (path, opts) = corpus_file(17, "default", "log");
    let good = std::fs::read(&path).unwrap();
    let (good_samples, _) = read_bytes(&good, &opts);

    // Binary junk around a real log: the real entries still count.
    for threads in [1, 2] {
        let mut data = junk(300_000, 7);
        data.push(b'\n');
        data.extend_from_slice(&good);
        data.extend(junk(100_000, 11));
        let o = LogOptions {
            threads,
            chunk_bytes: 16 * 1024,
            ..opts.clone()
        };
        let (s, st) = read_bytes(&data, &o);
        assert!(st.unparsed_lines > 0);
        assert!(st.unparsed_examples.len() <= 5);
        assert!(st.invalid_utf8_lines > 0);
        assert!(
            s.len() >= good_samples.len() - 1,
            "{} of {}",
            s.len(),
            good_samples.len()
        );
    }

    // A 1 MB line in the middle.
    let mut data = good.clone();
    let mid = data.len() / 2;
    let mid = mid + data[mid..].iter().position(|b| *b == b'\n').unwrap() + 1;
    let mut long = vec![b'x'; 1 << 20];
    long.push(b'\n');
    data.splice(mid..mid, long);
    let (s, st) = read_bytes(
        &data,
        &LogOptions {
            chunk_bytes: 4096,
            ..opts.clone()
        },
    );
    assert_eq!(st.unparsed_lines, 1);
    assert_eq!(s.len(), good_samples.len());
    assert!(st.unparsed_examples[0].text.len() <= 200);

    // A 1 MB statement: one sample.
    let q = format!(
        "2024-05-01 10:00:00.000 UTC [9] LOG:  duration: 1.000 ms  statement: SELECT '{}'\n",
        "y".repeat(1 << 20)
    );
    let (s, _) = read_bytes(
        q.as_bytes(),
        &LogOptions {
            chunk_bytes: 1000,
            ..opts.clone()
        },
    );
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].query.len(), (1 << 20) + 9);

    // Invalid UTF-8 inside a statement: read lossily.
    let mut data = good.clone();
    let at = find(&data, b"w:simple_select").unwrap();
    data[at + 2] = 0xff;
    let (s, st) = read_bytes(&data, &opts);
    assert_eq!(st.invalid_utf8_lines, 1);
    assert_eq!(s.len(), good_samples.len());
    assert!(s.iter().any(|x| x.query.contains('\u{fffd}')));

    // Truncated gzip: what was read counts, the truncation is reported.
    let gz = gzip(&good);
    let (s, st) = read_bytes(&gz[..gz.len() / 2], &opts);
    assert_eq!(st.input_errors.len(), 1, "{st:?}");
    assert!(!s.is_empty() && s.len() < good_samples.len());

    // Empty input and a lone newline.
    for data in [&b""[..], b"\n", b"\t\t\n"] {
        let (s, _) = read_bytes(data, &opts);
        assert!(s.is_empty());
    }
}

#[test]
fn csv_with_an_unterminated_quote_resynchronises() {
    let (path, opts) = corpus_file(17, "default", "csv");
    let good = std::fs::read(&path).unwrap();
    let (good_samples, _) = read_bytes(&good, &opts);
    let mut data = good.clone();
    // Break the quoting of one record (the first simple_select): drop its closing quote.
    let at = find(&data, b"w:simple_select*/ name FROM wl_item WHERE id = 1\"").unwrap();
    let quote = at + "w:simple_select*/ name FROM wl_item WHERE id = 1".len();
    data.remove(quote);
    for threads in [1, 2] {
        let (s, st) = read_bytes(
            &data,
            &LogOptions {
                threads,
                chunk_bytes: 2048,
                ..opts.clone()
            },
        );
        assert!(st.unparsed_lines >= 1, "{st:?}");
        assert!(
            s.len() >= good_samples.len() - 3,
            "{} of {}",
            s.len(),
            good_samples.len()
        );
    }
    // A file that is one unterminated quote.
    let mut bad = b"2024-05-01 10:00:00.000 UTC,\"postgres".to_vec();
    bad.extend(vec![b'z'; 100_000]);
    let (s, st) = read_bytes(
        &bad,
        &LogOptions {
            format: Some(LogFormat::Csv),
            ..LogOptions::default()
        },
    );
    assert!(s.is_empty());
    assert_eq!(st.unparsed_lines, 1);
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn options_from_a_snapshot() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/snapshots/demo.json");
    let Ok(snap) = pgsage::Snapshot::load(&path) else {
        panic!("demo snapshot {} missing", path.display());
    };
    let opts = LogOptions::from_snapshot(&snap);
    assert_eq!(
        opts.prefix.as_deref(),
        snap.setting("log_line_prefix").map(|s| s.setting.as_str())
    );
    assert_eq!(opts.format, Some(LogFormat::Stderr));
}
