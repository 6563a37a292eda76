//! Server log readers: stderr with any `log_line_prefix`, csvlog, jsonlog (15+) and Cloud
//! Logging exports (Cloud SQL, AlloyDB), plain or gzip-compressed, from files or
//! standard input, into [`Sample`]s.
//!
//! ```
//! use pgsage_core::workload::log::{read, LogOptions};
//!
//! let log = "2024-05-01 10:00:00.123 UTC [42] LOG:  duration: 1.500 ms  statement: SELECT 1\n";
//! let mut samples = Vec::new();
//! let stats = read(log.as_bytes(), "-", &LogOptions::default(), |s| samples.push(s))?;
//! assert_eq!(samples[0].query, "SELECT 1");
//! assert_eq!(samples[0].pid, Some(42));
//! assert_eq!(stats.unparsed_lines, 0);
//! # Ok::<(), pgsage_core::workload::log::LogError>(())
//! ```
//!
//! The input is cut into chunks of whole entries that are parsed in parallel (rayon);
//! samples reach the callback on the calling thread, in input order, and nothing holds
//! the whole input. [`read_paths_batches_until`] instead hands each chunk's samples to
//! a step on the parser thread (the workload aggregates there) and only its result to
//! the calling thread. Lines that do not parse are counted in [`LogStats`] (with a few
//! examples), never fatal. See `docs/logs.md`.

mod assemble;
mod cancel;
mod chunk;
mod cloud_logging;
mod csv;
mod error;
mod json;
mod message;
mod pipeline;
mod prefix;
mod severity;
mod stats;
mod stderr;
mod time;

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;
use std::sync::atomic::AtomicBool;

use serde::{Deserialize, Serialize};

use crate::knowledge::platform_logs;
use crate::snapshot::{Platform, Snapshot};
use crate::workload::Sample;

pub use error::LogError;
pub use prefix::{LinePrefix, PrefixFields, PrefixMatch, KNOWN_PREFIXES};
pub use severity::Severity;
pub use stats::{InputInfo, LogStats, MessageCounts, TempFileUse, TempFiles, UnparsedLine};

/// A server log format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// `log_destination = 'stderr'` (also what `pg_ctl -l` and the logging collector
    /// write for it): `log_line_prefix`, then the message.
    Stderr,
    /// `log_destination = 'csvlog'`.
    Csv,
    /// `log_destination = 'jsonlog'` (15+).
    Json,
    /// A Cloud Logging export (Cloud SQL, AlloyDB: `gcloud logging read --format=json`,
    /// an array of entries or one a line): each entry's `textPayload` is a stderr line,
    /// its `log_line_prefix` after the entry's `timestamp`.
    CloudLogging,
}

impl std::str::FromStr for LogFormat {
    type Err = crate::ParseValueError;

    /// `stderr`, `csv` (or `csvlog`), `json` (or `jsonlog`), as `log_destination` names
    /// them, and `cloud-logging`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "stderr" => Ok(LogFormat::Stderr),
            "csv" | "csvlog" => Ok(LogFormat::Csv),
            "json" | "jsonlog" => Ok(LogFormat::Json),
            "cloud-logging" | "cloud_logging" => Ok(LogFormat::CloudLogging),
            other => Err(crate::ParseValueError::new(
                "log format",
                other,
                "stderr, csv, json or cloud-logging",
            )),
        }
    }
}

/// How to read logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogOptions {
    /// The format; `None` detects it from each input's first line.
    pub format: Option<LogFormat>,
    /// The server's `log_line_prefix` (stderr format, and each `textPayload` of a Cloud
    /// Logging export); `None` picks the best match among [`KNOWN_PREFIXES`] on the
    /// first lines, falling back to the default `'%m [%p] '`.
    pub prefix: Option<String>,
    /// Minutes east of UTC for timestamps whose time zone abbreviation is unknown
    /// (set it from `log_timezone` when the zone is not UTC or a common abbreviation).
    pub utc_offset_minutes: Option<i32>,
    /// Parser threads: 0 uses every core; 1 reads, parses and delivers on the calling
    /// thread.
    pub threads: usize,
    /// Target chunk size in bytes.
    pub chunk_bytes: usize,
}

impl Default for LogOptions {
    fn default() -> Self {
        LogOptions {
            format: None,
            prefix: None,
            utc_offset_minutes: None,
            threads: 0,
            chunk_bytes: 4 * 1024 * 1024,
        }
    }
}

impl LogOptions {
    /// These options with what the user said in place of what was read or detected: the
    /// `log_line_prefix` and the format, when given.
    pub fn overridden(mut self, prefix: Option<String>, format: Option<LogFormat>) -> Self {
        if prefix.is_some() {
            self.prefix = prefix;
        }
        if format.is_some() {
            self.format = format;
        }
        self
    }

    /// These options with the platform's `log_line_prefix` when none was read or given
    /// (a snapshot's setting, or the user's, is the server's own and wins): the prefix
    /// is then known rather than detected. A self-managed server (or none) changes
    /// nothing. See [`crate::knowledge::platform_logs`].
    pub fn with_platform(mut self, platform: Option<Platform>) -> Self {
        if self.prefix.is_none() {
            self.prefix = platform
                .and_then(platform_logs::of)
                .map(|l| l.log_line_prefix.to_string());
        }
        self
    }

    /// Options matching a server's logging settings: `log_line_prefix`, and the format
    /// when `log_destination` names exactly one of stderr, csvlog, jsonlog (the files
    /// differ by extension; with several, the format is detected per file).
    /// `log_timezone` gives [`LogOptions::utc_offset_minutes`] when it is a fixed
    /// offset (`UTC`, `Etc/GMT-2`, `+02:00`).
    pub fn from_snapshot(snapshot: &Snapshot) -> LogOptions {
        let value = |n: &str| snapshot.setting(n).map(|s| s.setting.clone());
        let mut opts = LogOptions {
            prefix: value("log_line_prefix"),
            ..LogOptions::default()
        };
        if let Some(dest) = value("log_destination") {
            let kinds: Vec<LogFormat> = dest
                .split(',')
                .filter_map(|d| match d.trim() {
                    "stderr" => Some(LogFormat::Stderr),
                    "csvlog" => Some(LogFormat::Csv),
                    "jsonlog" => Some(LogFormat::Json),
                    _ => None,
                })
                .collect();
            if let [one] = kinds.as_slice() {
                opts.format = Some(*one);
            }
        }
        opts.utc_offset_minutes = value("log_timezone").and_then(|tz| fixed_zone_offset(&tz));
        opts
    }
}

/// Minutes east of UTC for a `log_timezone` value that is a fixed offset.
fn fixed_zone_offset(tz: &str) -> Option<i32> {
    match tz {
        "UTC" | "Etc/UTC" | "GMT" | "Etc/GMT" | "UCT" | "Etc/UCT" | "Zulu" | "Etc/Zulu"
        | "Universal" | "Etc/Universal" => Some(0),
        _ => {
            // POSIX-style Etc/GMT-2 means UTC+2.
            if let Some(h) = tz.strip_prefix("Etc/GMT") {
                return h.parse::<i32>().ok().map(|h| -h * 60);
            }
            time::zone_offset_min(tz)
        }
    }
}

/// Reads log files (`-` is standard input; `.gz` content is detected by its magic
/// bytes, whatever the name) in order, calling `on_sample` for each sample.
/// `log_statement`/`log_duration` pairs are followed from one file to the next, as
/// for rotated files of one server.
pub fn read_paths<P: AsRef<Path>>(
    paths: &[P],
    opts: &LogOptions,
    on_sample: impl FnMut(Sample),
) -> Result<LogStats, LogError> {
    read_paths_map(paths, opts, |s| s, on_sample)
}

/// Like [`read_paths`], with a `map` step that runs on the parser threads, in
/// parallel (fingerprint each sample there, say), before `on_item` receives the
/// results on the calling thread in input order.
pub fn read_paths_map<P: AsRef<Path>, T: Send>(
    paths: &[P],
    opts: &LogOptions,
    map: impl Fn(Sample) -> T + Sync,
    on_item: impl FnMut(T),
) -> Result<LogStats, LogError> {
    read_paths_map_until(paths, opts, None, map, on_item)
}

/// Like [`read_paths_map`], stopped with [`LogError::Cancelled`] soon after another
/// thread sets `cancel` (at the next chunk read; chunks in flight are still delivered).
pub fn read_paths_map_until<P: AsRef<Path>, T: Send>(
    paths: &[P],
    opts: &LogOptions,
    cancel: Option<&AtomicBool>,
    map: impl Fn(Sample) -> T + Sync,
    mut on_item: impl FnMut(T),
) -> Result<LogStats, LogError> {
    read_paths_batches_until(
        paths,
        opts,
        cancel,
        |samples| samples.into_iter().map(&map).collect::<Vec<T>>(),
        |items| items.into_iter().for_each(&mut on_item),
    )
}

/// Reads log files like [`read_paths`], a batch at a time: `batch` runs on the parser
/// threads, in parallel, with the samples of one chunk of the input in order (and, on
/// the calling thread, with the few statements whose `log_duration` line was in the
/// next chunk); `on_batch` receives the results on the calling thread in input order.
///
/// Chunks are cut the same way whatever [`LogOptions::threads`] is, so folding the
/// results in order (aggregating each batch, then merging the aggregates) gives the same
/// result for any number of threads, and the samples never leave the thread that built
/// them. Stopped with [`LogError::Cancelled`] soon after another thread sets `cancel`.
pub fn read_paths_batches_until<P: AsRef<Path>, B: Send>(
    paths: &[P],
    opts: &LogOptions,
    cancel: Option<&AtomicBool>,
    batch: impl Fn(Vec<Sample>) -> B + Sync,
    mut on_batch: impl FnMut(B),
) -> Result<LogStats, LogError> {
    let pool = make_pool(opts)?;
    let mut state = pipeline::State::default();
    for path in paths {
        if cancel::is_set(cancel) {
            return Err(LogError::Cancelled);
        }
        let path = path.as_ref();
        let name = path.to_string_lossy();
        if name == "-" {
            let stdin = io::stdin();
            read_one(
                cancel::Cancellable {
                    inner: stdin.lock(),
                    flag: cancel,
                },
                &name,
                opts,
                pool.as_ref(),
                &mut state,
                &batch,
                &mut on_batch,
            )?;
        } else {
            let file = File::open(path).map_err(|source| LogError::Open {
                path: path.to_path_buf(),
                source,
            })?;
            read_one(
                cancel::Cancellable {
                    inner: file,
                    flag: cancel,
                },
                &name,
                opts,
                pool.as_ref(),
                &mut state,
                &batch,
                &mut on_batch,
            )?;
        }
        if cancel::is_set(cancel) {
            return Err(LogError::Cancelled);
        }
    }
    Ok(state.finish())
}

/// Reads one log from `reader` (`name` labels it in the statistics).
pub fn read(
    reader: impl Read,
    name: &str,
    opts: &LogOptions,
    on_sample: impl FnMut(Sample),
) -> Result<LogStats, LogError> {
    read_map(reader, name, opts, |s| s, on_sample)
}

/// Like [`read`], with a `map` step on the parser threads (see [`read_paths_map`]).
pub fn read_map<T: Send>(
    reader: impl Read,
    name: &str,
    opts: &LogOptions,
    map: impl Fn(Sample) -> T + Sync,
    mut on_item: impl FnMut(T),
) -> Result<LogStats, LogError> {
    let pool = make_pool(opts)?;
    let mut state = pipeline::State::default();
    read_one(
        reader,
        name,
        opts,
        pool.as_ref(),
        &mut state,
        &|samples: Vec<Sample>| samples.into_iter().map(&map).collect::<Vec<T>>(),
        &mut |items: Vec<T>| items.into_iter().for_each(&mut on_item),
    )?;
    Ok(state.finish())
}

fn make_pool(opts: &LogOptions) -> Result<Option<rayon::ThreadPool>, LogError> {
    let threads = if opts.threads == 0 {
        std::thread::available_parallelism().map_or(1, usize::from)
    } else {
        opts.threads
    };
    if threads <= 1 {
        return Ok(None);
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("pgsage-log-{i}"))
        .build()
        .map(Some)
        .map_err(|e| LogError::ThreadPool(e.to_string()))
}

fn read_one<T: Send>(
    mut reader: impl Read,
    name: &str,
    opts: &LogOptions,
    pool: Option<&rayon::ThreadPool>,
    state: &mut pipeline::State,
    batch: &(dyn Fn(Vec<Sample>) -> T + Sync),
    sink: &mut dyn FnMut(T),
) -> Result<(), LogError> {
    let mut magic = [0u8; 2];
    let mut got = 0;
    while got < 2 {
        match reader.read(&mut magic[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(source) => {
                return Err(LogError::Read {
                    name: name.to_string(),
                    source,
                })
            }
        }
    }
    let head = io::Cursor::new(magic[..got].to_vec()).chain(reader);
    if magic[..got] == [0x1f, 0x8b] {
        let gz = flate2::read::MultiGzDecoder::new(io::BufReader::with_capacity(1 << 20, head));
        pipeline::run(gz, name, true, opts, pool, state, batch, sink);
    } else {
        pipeline::run(head, name, false, opts, pool, state, batch, sink);
    }
    Ok(())
}

/// Lines in `b` (a last line without a newline counts).
fn count_lines(b: &[u8]) -> u64 {
    let n = memchr::memchr_iter(b'\n', b).count() as u64;
    n + u64::from(!b.is_empty() && b.last() != Some(&b'\n'))
}

#[cfg(test)]
mod tests {
    use super::{LogFormat, LogOptions};

    #[test]
    fn formats_read_as_log_destination_names_them() {
        assert_eq!("stderr".parse(), Ok(LogFormat::Stderr));
        assert_eq!("csvlog".parse(), Ok(LogFormat::Csv));
        assert_eq!("json".parse(), Ok(LogFormat::Json));
        assert_eq!("cloud-logging".parse(), Ok(LogFormat::CloudLogging));
        let err = "syslog".parse::<LogFormat>().expect_err("not a format");
        assert_eq!(
            err.to_string(),
            "unknown log format `syslog` (expected stderr, csv, json or cloud-logging)"
        );
    }

    #[test]
    fn the_user_overrides_only_what_they_give() {
        let read = LogOptions {
            prefix: Some("%m [%p] ".into()),
            format: Some(LogFormat::Csv),
            utc_offset_minutes: Some(120),
            ..LogOptions::default()
        };
        let kept = read.clone().overridden(None, None);
        assert_eq!(kept, read);
        let given = read.overridden(Some("%t ".into()), None);
        assert_eq!(given.prefix.as_deref(), Some("%t "));
        assert_eq!(given.format, Some(LogFormat::Csv));
        assert_eq!(given.utc_offset_minutes, Some(120));
    }

    /// The platform's prefix fills only what nothing else gave: the server's own setting
    /// (from a snapshot or the user) wins; a self-managed server changes nothing.
    #[test]
    fn the_platform_names_the_prefix_only_when_nothing_else_did() {
        use crate::snapshot::Platform;
        let none = LogOptions::default();
        let rds = none.clone().with_platform(Some(Platform::AwsRds));
        assert_eq!(rds.prefix.as_deref(), Some("%t:%r:%u@%d:[%p]:"));
        let own = LogOptions {
            prefix: Some("%m ".into()),
            ..LogOptions::default()
        };
        let kept = own
            .clone()
            .with_platform(Some(Platform::AzureFlexibleServer));
        assert_eq!(kept, own);
        assert_eq!(
            none.clone().with_platform(Some(Platform::SelfManaged)),
            none
        );
        assert_eq!(none.clone().with_platform(None), none);
    }
}
