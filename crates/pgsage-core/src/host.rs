//! Host facts: the ones users give ([`from_flags`], [`parse_size`]), and reading the
//! local machine's limits (cgroup first, then /proc) when the server runs on the same
//! host.

use serde::{Deserialize, Serialize};

use crate::snapshot::{Fact, HostFacts, StorageKind};
use crate::{Error, Result};

/// Host facts given by the user (`--ram`, `--cpus`, `--storage`; the Python package's
/// `ram`, `cpus`, `storage`), each recorded with `source` (`flag`). A RAM size that
/// [`parse_ram`] refuses (no unit, unparsable, below [`MIN_RAM_BYTES`]), a CPU count not
/// above 0 or an unknown storage kind is an [`Error::InvalidValue`] for
/// `ram`, `cpus` or `storage`.
pub fn from_flags(
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
        .map(|r| parse_ram(r).map_err(|p| invalid("ram", p)))
        .transpose()?;
    if let Some(c) = cpus {
        if c.is_nan() || c <= 0.0 {
            return Err(invalid("cpus", format!("{c} is not greater than 0")));
        }
    }
    let storage = storage
        .map(|s| {
            s.parse::<StorageKind>()
                .map_err(|p| invalid("storage", p.to_string()))
        })
        .transpose()?;
    Ok(HostFacts {
        ram_bytes: ram_bytes.map(|v| Fact::new(v, source)),
        cpus: cpus.map(|v| Fact::new(v, source)),
        storage: storage.map(|v| Fact::new(v, source)),
        platform: None,
        tier: None,
    })
}

/// A fact the library needed and did not have, named in skip reasons
/// ([`crate::report::SkippedRule::missing_fact`]) and in `pgsage tune`'s report
/// ([`crate::tune::TuneReport::missing_facts`]). Library messages name the fact, never a
/// front end's flag: each front end says how to give it (the CLI's `--ram`, `--cpus`,
/// `--storage`, `--interval`; Python's keyword arguments).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MissingFact {
    /// The host's RAM.
    Ram,
    /// The host's CPU count.
    Cpus,
    /// The kind of storage under the data directory (hdd, ssd, nvme, san).
    Storage,
    /// A sampled interval (two samples some time apart): without one, rates come from
    /// counters since the statistics reset.
    Interval,
}

impl MissingFact {
    /// Every fact, in order.
    pub const ALL: [MissingFact; 4] = [
        MissingFact::Ram,
        MissingFact::Cpus,
        MissingFact::Storage,
        MissingFact::Interval,
    ];

    /// `ram`, `cpus`, `storage` or `interval`: the stable name (as in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            MissingFact::Ram => "ram",
            MissingFact::Cpus => "cpus",
            MissingFact::Storage => "storage",
            MissingFact::Interval => "interval",
        }
    }

    /// What is unknown, as a skip reason says it: `host RAM unknown`.
    pub fn reason(self) -> &'static str {
        match self {
            MissingFact::Ram => "host RAM unknown",
            MissingFact::Cpus => "host CPU count unknown",
            MissingFact::Storage => "storage kind unknown",
            MissingFact::Interval => {
                "no sampled interval: rates come from counters since the statistics reset"
            }
        }
    }

    /// Whether it is a fact about the host (RAM, CPUs, storage) rather than about the
    /// collection.
    pub fn is_host_fact(self) -> bool {
        !matches!(self, MissingFact::Interval)
    }

    /// The fact a reason names, when the reason is exactly [`MissingFact::reason`].
    pub fn from_reason(reason: &str) -> Option<MissingFact> {
        MissingFact::ALL.into_iter().find(|f| f.reason() == reason)
    }
}

impl std::fmt::Display for MissingFact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The least RAM [`parse_ram`] accepts: 256 MiB. PostgreSQL's own defaults
/// (`shared_buffers` 128MB, `maintenance_work_mem` 64MB, `effective_cache_size` 4GB)
/// already assume more than that, so the sizing formulas (a quarter of RAM for
/// `shared_buffers`, …) would recommend less than the defaults below it; a host that
/// small is not one anybody tunes, and a value below it is almost always a mistyped unit
/// (`16MB` for `16GB`). Refusing it beats sizing a server for a RAM it does not have.
pub const MIN_RAM_BYTES: u64 = 256 << 20;

/// Parses the host's RAM (`--ram`, `[host] ram`, Python's `ram`): a [`parse_size`] size
/// that names its unit (`16` alone is 16 GiB to a person and 16 bytes to a parser, so it
/// is refused rather than guessed) and is at least [`MIN_RAM_BYTES`].
pub fn parse_ram(text: &str) -> Result<u64, String> {
    let t = text.trim();
    if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return Err(format!(
            "`{t}` has no unit: write the RAM with one, e.g. 16GiB or 512MB"
        ));
    }
    let bytes = parse_size(text).map_err(|p| format!("{p}; RAM is written like 16GiB"))?;
    if bytes < MIN_RAM_BYTES {
        return Err(format!(
            "`{t}` is less than the {} a PostgreSQL host worth tuning has; \
             RAM is written like 16GiB",
            crate::units::bytes(MIN_RAM_BYTES)
        ));
    }
    Ok(bytes)
}

/// Parses a size like `24GiB`, `512MB`, `1.5 TB`, `1073741824` into bytes (binary multiples:
/// `GB` and `GiB` both mean 2^30, as in PostgreSQL).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num
        .parse()
        .map_err(|_| format!("`{text}` is not a size (e.g. 24GiB, 512MB)"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0f64.powi(4),
        other => return Err(format!("unknown size unit `{other}` in `{text}`")),
    };
    let bytes = value * mult;
    if !(1.0..1e18).contains(&bytes) {
        return Err(format!("`{text}` is not a plausible size"));
    }
    Ok(bytes as u64)
}

/// Reads this machine's memory and CPU limits: cgroup v2 limits first (containers),
/// then `/proc/meminfo` and the CPU count. Only meaningful when the audited server runs here.
pub fn probe_local() -> HostFacts {
    let mut facts = HostFacts::default();
    if let Some(limit) =
        read_trimmed("/sys/fs/cgroup/memory.max").and_then(|s| s.parse::<u64>().ok())
    {
        facts.ram_bytes = Some(Fact {
            value: limit,
            source: "cgroup".into(),
        });
    }
    if let Some(cpus) = read_trimmed("/sys/fs/cgroup/cpu.max").and_then(|s| parse_cpu_max(&s)) {
        facts.cpus = Some(Fact {
            value: cpus,
            source: "cgroup".into(),
        });
    }
    if facts.ram_bytes.is_none() {
        facts.ram_bytes = read_trimmed("/proc/meminfo")
            .and_then(|m| parse_meminfo_total(&m))
            .map(|value| Fact {
                value,
                source: "proc".into(),
            });
    }
    if facts.cpus.is_none() {
        facts.cpus = std::thread::available_parallelism().ok().map(|n| Fact {
            value: n.get() as f64,
            source: "proc".into(),
        });
    }
    facts
}

/// Whether a connection target is this machine: a Unix socket directory or a loopback
/// address.
pub fn is_local(host: &str) -> bool {
    host.starts_with('/')
        || host == "localhost"
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn read_trimmed(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
}

/// `cpu.max` is `max 100000` (no limit) or `200000 100000` (2 CPUs).
fn parse_cpu_max(text: &str) -> Option<f64> {
    let mut parts = text.split_whitespace();
    let quota: f64 = parts.next()?.parse().ok()?;
    let period: f64 = parts.next()?.parse().ok()?;
    (period > 0.0).then(|| quota / period)
}

fn parse_meminfo_total(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_facts_round_trip_through_their_reason_and_name() {
        for f in MissingFact::ALL {
            assert_eq!(MissingFact::from_reason(f.reason()), Some(f));
            assert!(!f.reason().contains("--"), "{}", f.reason());
            let json = serde_json::to_string(&f).expect("serializes");
            assert_eq!(json, format!("\"{}\"", f.as_str()));
        }
        assert_eq!(MissingFact::from_reason("host RAM unknown: more"), None);
    }

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("24GiB"), Ok(24 << 30));
        assert_eq!(parse_size("512MB"), Ok(512 << 20));
        assert_eq!(parse_size("1.5 GB"), Ok(3 << 29));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("").is_err());
    }

    /// `--ram 16` meant 16 GiB, not 16 bytes: a RAM size without a unit, or one no
    /// server worth tuning runs on, is an error naming an example, never a tiny RAM that
    /// sizes `shared_buffers` to 0kB.
    #[test]
    fn ram_needs_a_unit_and_a_plausible_size() {
        for text in ["16", "16384", " 64 ", "100MB", "16kB", "255MiB"] {
            let err = parse_ram(text).expect_err(text);
            assert!(err.contains("16GiB"), "{text}: {err}");
            let err = from_flags(Some(text), None, None, "flag")
                .expect_err(text)
                .to_string();
            assert!(
                err.contains("ram") && err.contains("16GiB"),
                "{text}: {err}"
            );
        }
        assert!(parse_ram("16").expect_err("no unit").contains("unit"));
        assert_eq!(parse_ram("16GiB"), Ok(16 << 30));
        assert_eq!(parse_ram("256MB"), Ok(256 << 20));
        assert_eq!(parse_ram("0.5 TB"), Ok(1 << 39));
        assert!(parse_ram("lots").is_err());
    }

    #[test]
    fn local_targets() {
        assert!(is_local("/var/run/postgresql"));
        assert!(is_local("127.0.0.1") && is_local("::1") && is_local("localhost"));
        assert!(!is_local("db.example.com") && !is_local("10.0.0.5"));
    }

    #[test]
    fn probing_this_machine_finds_memory_and_cpus() {
        let facts = probe_local();
        assert!(facts.ram_bytes.is_some_and(|f| f.value > 0));
        assert!(facts.cpus.is_some_and(|f| f.value > 0.0));
        assert!(facts.storage.is_none(), "storage is never guessed");
    }

    #[test]
    fn cgroup_and_proc_formats_parse() {
        assert_eq!(parse_cpu_max("200000 100000"), Some(2.0));
        assert_eq!(parse_cpu_max("max 100000"), None);
        assert_eq!(
            parse_meminfo_total("MemTotal:       24576000 kB\nMemFree: 1 kB"),
            Some(24_576_000 * 1024)
        );
    }

    #[test]
    fn facts_from_flags_are_checked() {
        let h = from_flags(Some("2GiB"), Some(2.0), Some("ssd"), "python").expect("valid");
        assert_eq!(
            h.ram_bytes.map(|f| (f.value, f.source)),
            Some((2 << 30, "python".into()))
        );
        assert!(from_flags(Some("lots"), None, None, "x").is_err());
        assert!(from_flags(None, Some(0.0), None, "x").is_err());
        assert!(from_flags(None, None, Some("floppy"), "x").is_err());
    }
}
