//! The log readers on arbitrary bytes, in every format and with several prefixes: no
//! panic (a parser panic would show as an "internal error" input error, which the
//! readers otherwise swallow), and for stderr and jsonlog the same samples whatever the
//! chunk size and the number of threads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgsage::workload::log::{read, LogFormat, LogOptions};

fuzz_target!(|data: &[u8]| {
    let formats = [
        None,
        Some(LogFormat::Stderr),
        Some(LogFormat::Csv),
        Some(LogFormat::Json),
    ];
    let prefixes = [
        None,
        Some("%m [%p] %q%u@%d "),
        Some("%t:%r:%-10u@%d:[%p]:%e "),
        Some("%a%u%d"),
    ];
    for format in formats {
        for prefix in prefixes {
            let mut base: Option<Vec<String>> = None;
            for (threads, chunk_bytes) in [(1, 1 << 20), (1, 37), (2, 101)] {
                let opts = LogOptions {
                    format,
                    prefix: prefix.map(str::to_string),
                    threads,
                    chunk_bytes,
                    ..LogOptions::default()
                };
                let mut samples = Vec::new();
                let stats = read(data, "fuzz", &opts, |s| {
                    samples.push(serde_json::to_string(&s).unwrap_or_default())
                })
                .expect("reading from memory cannot fail");
                assert!(
                    !stats
                        .input_errors
                        .iter()
                        .any(|e| e.contains("internal error")),
                    "{:?}",
                    stats.input_errors
                );
                assert_eq!(stats.samples as usize, samples.len());
                samples.sort();
                // csvlog chunks are cut before lines that look like a record start,
                // which a quoted multi-line field can hold too: only stderr and
                // jsonlog chunking is exact on arbitrary input.
                let exact = matches!(format, Some(LogFormat::Stderr | LogFormat::Json));
                match &base {
                    None => base = Some(samples),
                    Some(b) if exact => assert_eq!(b, &samples),
                    Some(_) => {}
                }
            }
        }
    }
});
