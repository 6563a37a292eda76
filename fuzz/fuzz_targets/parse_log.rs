//! The log readers on arbitrary bytes, in every format and with several prefixes: no
//! panic (a parser panic would show as an "internal error" input error, which the
//! readers otherwise swallow), and for stderr and jsonlog the same samples whatever the
//! chunk size and the number of threads.
#![no_main]

use libfuzzer_sys::fuzz_target;
use pgsage_core::workload::log::{read, LogFormat, LogOptions};

fuzz_target!(|input: &[u8]| {
    // The first two bytes choose the format and the prefix, so that each run reads the
    // input once per chunking instead of 16 times (about 20x more inputs per second than
    // reading every combination, and libFuzzer learns which choices reach new code).
    let [choice_format, choice_prefix, data @ ..] = input else {
        return;
    };
    let format = [
        None,
        Some(LogFormat::Stderr),
        Some(LogFormat::Csv),
        Some(LogFormat::Json),
        Some(LogFormat::CloudLogging),
    ][usize::from(*choice_format % 5)];
    let prefix = [
        None,
        Some("%m [%p] %q%u@%d "),
        Some("%t:%r:%-10u@%d:[%p]:%e "),
        Some("%a%u%d"),
        Some("%m [%p]: [%l-1] db=%d,user=%u "),
    ][usize::from(*choice_prefix % 5)];
    let mut base: Option<Vec<String>> = None;
    // One thread with small chunks exercises the same record-boundary cuts as several
    // threads (the chunker is the same), without a thread pool per input.
    for chunk_bytes in [1 << 20, 37, 101] {
        let opts = LogOptions {
            format,
            prefix: prefix.map(str::to_string),
            threads: 1,
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
        // csvlog chunks are cut before lines that look like a record start, which a
        // quoted multi-line field can hold too: only stderr and jsonlog chunking is
        // exact on arbitrary input.
        let exact = matches!(
            format,
            Some(LogFormat::Stderr | LogFormat::Json | LogFormat::CloudLogging)
        );
        match &base {
            None => base = Some(samples),
            Some(b) if exact => assert_eq!(b, &samples),
            Some(_) => {}
        }
    }
});
