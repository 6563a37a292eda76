//! Entry points for front ends other than the CLI (the Python package), so that they stay
//! thin: configuration lookup, host facts from user input, filtered audits and a
//! collection that can be cancelled from another thread.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::config::{RuleConfig, UserConfig};
use crate::report::{Report, ReportFilter, Severity};
use crate::snapshot::{Fact, HostFacts, StorageKind};
use crate::{CollectOptions, ConnectOptions, Error, Result, Snapshot, Source};

/// How often a cancellable collection looks at its flag.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// The configuration the CLI's `--config` gives: the shipped packs overridden by `path`;
/// without a path, by `./pgsage.toml` when that file exists.
pub fn load_config(path: Option<&Path>) -> Result<RuleConfig> {
    match path {
        Some(p) => RuleConfig::load(p),
        None if Path::new("pgsage.toml").is_file() => RuleConfig::load("pgsage.toml"),
        None => RuleConfig::shipped(),
    }
}

/// The shipped packs overridden by a user configuration given as JSON with the shape of
/// `pgsage.toml` (`{"rules": {"VAC001": {"params": {...}}}, "host": {...}, ...}`);
/// `origin` names it in errors.
pub fn config_from_json(json: &str, origin: &str) -> Result<RuleConfig> {
    let user: UserConfig = serde_json::from_str(json).map_err(|e| Error::Config {
        origin: Some(origin.to_owned()),
        problem: e.to_string(),
    })?;
    let mut config = RuleConfig::shipped()?;
    config.apply(user, origin)?;
    Ok(config)
}

/// Host facts given by the user (`source` is recorded with each, e.g. `flag`), checked
/// like the CLI's `--ram`, `--cpus` and `--storage`.
pub fn host_facts(
    ram: Option<&str>,
    cpus: Option<f64>,
    storage: Option<&str>,
    source: &str,
) -> Result<HostFacts> {
    let invalid = |what: &str, problem: String| Error::InvalidValue {
        what: what.to_owned(),
        problem,
    };
    let ram_bytes = ram
        .map(|r| crate::host::parse_size(r).map_err(|p| invalid("ram", p)))
        .transpose()?;
    if let Some(c) = cpus {
        if c.is_nan() || c <= 0.0 {
            return Err(invalid("cpus", format!("{c} is not greater than 0")));
        }
    }
    let storage = storage
        .map(|s| s.parse::<StorageKind>().map_err(|p| invalid("storage", p)))
        .transpose()?;
    Ok(HostFacts {
        ram_bytes: ram_bytes.map(|v| Fact::new(v, source)),
        cpus: cpus.map(|v| Fact::new(v, source)),
        storage: storage.map(|v| Fact::new(v, source)),
    })
}

/// Parses a severity name (`info`, `warning`, `critical`).
pub fn parse_severity(text: &str) -> Result<Severity> {
    text.parse().map_err(|problem| Error::InvalidValue {
        what: "severity".into(),
        problem,
    })
}

/// An error naming the known packs when one of `packs` is not among them.
pub fn check_packs(config: &RuleConfig, packs: &[String]) -> Result<()> {
    for p in packs {
        if !config.packs.iter().any(|k| &k.name == p) {
            let known: Vec<_> = config.packs.iter().map(|k| k.name.as_str()).collect();
            return Err(Error::InvalidValue {
                what: "packs".into(),
                problem: format!("unknown pack `{p}` (known: {})", known.join(", ")),
            });
        }
    }
    Ok(())
}

/// Audits like `pgsage audit --pack … --min-severity …`: unknown packs are errors, and
/// the report keeps only the findings of `packs` (all when empty) at or above
/// `min_severity`.
pub fn audit_filtered(
    snapshot: &Snapshot,
    config: &RuleConfig,
    source: Source,
    packs: &[String],
    min_severity: Option<Severity>,
) -> Result<Report> {
    check_packs(config, packs)?;
    let mut report = crate::audit_from(snapshot, config, source);
    report.filter(&ReportFilter {
        packs: packs.to_vec(),
        min_severity,
    });
    Ok(report)
}

/// [`crate::collect_snapshot_with`] that gives up as soon as `cancel` becomes true (checked
/// every 50 ms), returning an [`Error::Io`] of kind `Interrupted`. For callers that wait
/// on another thread and must stay responsive (Ctrl-C in Python).
pub fn collect_snapshot_cancellable(
    options: &ConnectOptions,
    collect: &CollectOptions,
    cancel: &AtomicBool,
) -> Result<Snapshot> {
    let runtime = crate::collect::blocking_runtime()?;
    runtime.block_on(async {
        let work = crate::collect::connect_and_collect(options, collect);
        let cancelled = async {
            while !cancel.load(Ordering::Relaxed) {
                tokio::time::sleep(CANCEL_POLL).await;
            }
        };
        tokio::select! {
            result = work => result,
            () = cancelled => Err(Error::Io {
                context: "collecting".into(),
                source: std::io::Error::new(std::io::ErrorKind::Interrupted, "cancelled"),
            }),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::Instant;

    #[test]
    fn json_config_overrides_like_toml() {
        let config = config_from_json(
            r#"{"rules": {"VAC001": {"severity": "critical", "params": {"min_dead_tuples": 7}}},
                "packs": {"disabled": ["memory"]}}"#,
            "<dict>",
        )
        .expect("valid");
        assert_eq!(
            config.rules["VAC001"].severity_override,
            Some(Severity::Critical)
        );
        assert!(!config.is_enabled("MEM001"));
        let err = config_from_json(r#"{"rules": {"NOPE1": {}}}"#, "<dict>")
            .expect_err("unknown rule")
            .to_string();
        assert!(
            err.contains("unknown rule `NOPE1`") && err.contains("<dict>"),
            "{err}"
        );
    }

    #[test]
    fn host_facts_are_checked() {
        let h = host_facts(Some("2GiB"), Some(2.0), Some("ssd"), "python").expect("valid");
        assert_eq!(
            h.ram_bytes.map(|f| (f.value, f.source)),
            Some((2 << 30, "python".into()))
        );
        assert!(host_facts(Some("lots"), None, None, "x").is_err());
        assert!(host_facts(None, Some(0.0), None, "x").is_err());
        assert!(host_facts(None, None, Some("floppy"), "x").is_err());
    }

    #[test]
    fn cancelling_stops_a_collection_that_hangs() {
        // Accepts connections and never answers.
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let cancel = AtomicBool::new(false);
        let started = Instant::now();
        let result = std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(300));
                cancel.store(true, Ordering::Relaxed);
            });
            let mut options = ConnectOptions::new(format!(
                "host=127.0.0.1 port={port} user=x dbname=x sslmode=disable"
            ));
            options.connect_timeout = Duration::from_secs(60);
            collect_snapshot_cancellable(&options, &CollectOptions::default(), &cancel)
        });
        drop(listener);
        match result {
            Err(Error::Io { source, .. }) => {
                assert_eq!(source.kind(), std::io::ErrorKind::Interrupted)
            }
            other => panic!("expected a cancellation, got {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
