//! Each managed platform's server log, written by a real server configured with the
//! platform's `log_line_prefix` (UTC, every statement with its duration, auto_explain),
//! read by the workload and plan readers with the platform's prefix
//! (`LogOptions::with_platform`, what `--platform` does) — and refused when read with
//! another platform's prefix.
//!
//! Cloud SQL's log reaches users as a Cloud Logging export, which cannot be produced
//! here: `pgsage_testkit::cloud_logging` converts the real server's lines into one (one
//! entry per record or per line, with or without the payload's own time, an array or
//! one entry a line). Only the wrapping is made up; every payload is the server's.

// A test's failure is a panic; unwrap says so without ceremony.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use pgsage::knowledge::platform_logs;
use pgsage::plan::from_log::plans_in_log_files;
use pgsage::snapshot::Platform;
use pgsage::workload::log::{read_paths, LogFormat, LogOptions, LogStats};
use pgsage::workload::{from_log_files, Sample};
use pgsage_testkit::cloud_logging::{export, ExportOptions, Split};
use pgsage_testkit::{require_server_with, test_majors, wait_until, ServerOptions, TestServer};

/// The platforms whose prefixes differ (Aurora has RDS's, AlloyDB Cloud SQL's).
const PLATFORMS: [Platform; 3] = [
    Platform::AzureFlexibleServer,
    Platform::AwsRds,
    Platform::GcpCloudSql,
];

fn prefix_of(p: Platform) -> &'static str {
    platform_logs::of(p).unwrap().log_line_prefix
}

/// Whether the platform's prefix has the user and database (Azure's default has not).
fn names_user_and_database(p: Platform) -> bool {
    let prefix = prefix_of(p);
    prefix.contains("%u") && prefix.contains("%d")
}

/// A server's log, with the window in which its statements ran.
struct Written {
    /// Kept for its directory (and the log in it) until the test ends.
    _server: TestServer,
    log: PathBuf,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

const ORDERS_RUNS: usize = 3;

/// Starts a server logging as `platform` does, runs the statements (three as `clerk` in
/// `shop`, one auto_explain plan as the superuser) and waits for them in its log.
fn write_log(major: u32, platform: Platform) -> Option<Written> {
    let settings = [
        "logging_collector = on".to_string(),
        "log_directory = 'pglog'".into(),
        "log_filename = 'platform.log'".into(),
        "log_rotation_age = 0".into(),
        "log_rotation_size = 0".into(),
        "log_destination = 'stderr'".into(),
        format!("log_line_prefix = '{}'", prefix_of(platform)),
        "log_min_duration_statement = 0".into(),
        "log_timezone = 'UTC'".into(),
        "lc_messages = 'C'".into(),
        "autovacuum = off".into(),
        "jit = off".into(),
    ];
    let mut opts = ServerOptions::new(major);
    for s in &settings {
        opts = opts.conf(s);
    }
    let server = require_server_with(opts)?;
    server.create_database_without_extensions("shop").unwrap();
    server.create_role("clerk", "clerk-pw", &[]).unwrap();
    server
        .execute(
            "shop",
            "CREATE TABLE orders (id int PRIMARY KEY, qty int NOT NULL);
             INSERT INTO orders SELECT g, g % 7 FROM generate_series(1, 300) g;
             ANALYZE orders;
             GRANT SELECT ON orders TO clerk;",
        )
        .unwrap();
    let from = Utc::now() - TimeDelta::seconds(1);
    let mut clerk =
        postgres::Client::connect(&server.dsn_as("clerk", "clerk-pw", "shop"), postgres::NoTls)
            .unwrap();
    for i in 0..ORDERS_RUNS {
        clerk
            .batch_execute(&format!(
                "SELECT /*pl:orders*/ count(*) FROM orders WHERE qty > {i}"
            ))
            .unwrap();
    }
    drop(clerk);
    let mut admin = server.client("shop").unwrap();
    admin
        .batch_execute(
            "LOAD 'auto_explain'; SET auto_explain.log_min_duration = 0;
             SELECT /*pl:explained*/ sum(qty) FROM orders WHERE id < 100;
             SET auto_explain.log_min_duration = -1;
             SELECT /*pl:end*/ 1",
        )
        .unwrap();
    let to = Utc::now() + TimeDelta::seconds(1);
    let log = server.data_dir().join("pglog").join("platform.log");
    let written = wait_until(Duration::from_secs(20), || {
        std::fs::read_to_string(&log).is_ok_and(|t| t.contains("pl:end"))
    });
    assert!(
        written,
        "pg{major} {platform}: the log never showed the last statement"
    );
    Some(Written {
        _server: server,
        log,
        from,
        to,
    })
}

fn samples(path: &Path, opts: &LogOptions) -> (Vec<Sample>, LogStats) {
    let mut out = Vec::new();
    let stats = read_paths(&[path], opts, |s| out.push(s)).unwrap();
    (out, stats)
}

fn orders(samples: &[Sample]) -> Vec<&Sample> {
    samples
        .iter()
        .filter(|s| s.query.contains("pl:orders"))
        .collect()
}

/// Reads `path` as `platform`'s log and checks what the prefix carries: the statements
/// with their time, user, database (where the prefix has them), the workload and the
/// auto_explain plan.
fn check_read_as(what: &str, platform: Platform, path: &Path, w: &Written) {
    let opts = LogOptions::default().with_platform(Some(platform));
    let (all, stats) = samples(path, &opts);
    let found = orders(&all);
    assert_eq!(
        found.len(),
        ORDERS_RUNS,
        "{what}: {:?}",
        stats.unparsed_examples
    );
    let named = names_user_and_database(platform);
    for s in &found {
        let at = s.at.unwrap_or_else(|| panic!("{what}: no time on {s:?}"));
        assert!(w.from <= at && at <= w.to, "{what}: {at} outside the run");
        assert!(s.duration_ms >= 0.0, "{what}");
        if named {
            assert_eq!(s.user.as_deref(), Some("clerk"), "{what}");
            assert_eq!(s.database.as_deref(), Some("shop"), "{what}");
            assert!(s.pid.is_some(), "{what}");
        } else {
            // Azure's default `%t-%c-`: the time and the session, no names.
            assert_eq!((s.user.as_deref(), s.database.as_deref()), (None, None));
            assert!(s.session.is_some(), "{what}: no session on {s:?}");
        }
    }
    if platform == Platform::AwsRds {
        // `%r`: the client's address without its port.
        assert_eq!(found[0].client.as_deref(), Some("127.0.0.1"), "{what}");
    }

    let never = AtomicBool::new(false);
    let (workload, _) =
        from_log_files(&[path], &opts, 3600, &never).unwrap_or_else(|e| panic!("{what}: {e}"));
    let q = workload
        .queries
        .iter()
        .find(|q| q.query.contains("pl:orders"))
        .unwrap_or_else(|| panic!("{what}: the statement is not in the workload"));
    assert_eq!(q.calls, ORDERS_RUNS as u64, "{what}");
    assert!(!q.buckets.is_empty(), "{what}: no time window");
    if named {
        assert_eq!(q.databases.first().map(|d| d.name.as_str()), Some("shop"));
        assert_eq!(q.users.first().map(|u| u.name.as_str()), Some("clerk"));
    }

    let plans = plans_in_log_files(&[path], &opts).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(plans.unreadable_count, 0, "{what}: {:?}", plans.unreadable);
    let plan = plans
        .plans
        .first()
        .unwrap_or_else(|| panic!("{what}: no auto_explain plan"));
    let at = plan
        .at
        .unwrap_or_else(|| panic!("{what}: the plan has no time"));
    assert!(w.from <= at && at <= w.to, "{what}");
    if named {
        assert_eq!(plan.database.as_deref(), Some("shop"), "{what}");
        assert_eq!(plan.user.as_deref(), Some(pgsage_testkit::SUPERUSER));
    }
}

/// Read with another platform's prefix, the log gives no statement: the workload is an
/// error naming the prefix it was read with.
fn check_refused_as_others(what: &str, platform: Platform, path: &Path) {
    for other in PLATFORMS.into_iter().filter(|o| *o != platform) {
        let opts = LogOptions::default().with_platform(Some(other));
        let (all, _) = samples(path, &opts);
        assert!(
            orders(&all).is_empty(),
            "{what}: read as {other}'s log, it still gave the statements"
        );
        let err = from_log_files(&[path], &opts, 3600, &AtomicBool::new(false))
            .expect_err("no statement read with another platform's prefix")
            .to_string();
        assert!(err.contains(prefix_of(other)), "{what} as {other}: {err}");
    }
}

/// The oldest and the newest major the test kit offers.
fn ends() -> Vec<u32> {
    let majors = test_majors();
    let mut ends: Vec<u32> = [majors.first(), majors.last()]
        .into_iter()
        .flatten()
        .copied()
        .collect();
    ends.dedup();
    ends
}

#[test]
fn each_platforms_log_is_read_with_its_prefix_and_refused_with_another() {
    for major in ends() {
        for platform in PLATFORMS {
            let Some(w) = write_log(major, platform) else {
                continue;
            };
            let what = format!("pg{major} {platform}");
            check_read_as(&what, platform, &w.log, &w);
            check_refused_as_others(&what, platform, &w.log);

            // Without a platform, the prefix is detected, and it is the platform's.
            let (all, stats) = samples(&w.log, &LogOptions::default());
            assert_eq!(orders(&all).len(), ORDERS_RUNS, "{what}: detected");
            assert_eq!(
                stats.inputs[0].prefix.as_deref(),
                Some(prefix_of(platform)),
                "{what}: detected prefix"
            );
        }
    }
}

/// Cloud SQL's log as users get it: a Cloud Logging export of the real server's lines,
/// in every shape the export takes, read like the plain log; a truncated export keeps
/// the entries before the cut and says where it stopped.
#[test]
fn a_cloud_logging_export_of_cloud_sqls_log_is_read_like_the_log() {
    for major in ends() {
        let Some(w) = write_log(major, Platform::GcpCloudSql) else {
            continue;
        };
        let log = std::fs::read_to_string(&w.log).unwrap();
        let dir = tempfile::tempdir().unwrap();
        for split in [Split::PerRecord, Split::PerLine] {
            for untimed in [false, true] {
                for ndjson in [false, true] {
                    let what =
                        format!("pg{major} cloud sql {split:?} untimed={untimed} ndjson={ndjson}");
                    let opts = ExportOptions {
                        split,
                        untimed,
                        ndjson,
                    };
                    let path = dir.path().join("cloudsql.json");
                    std::fs::write(&path, export(&log, opts).unwrap()).unwrap();
                    check_read_as(&what, Platform::GcpCloudSql, &path, &w);
                    let (all, stats) = samples(&path, &LogOptions::default());
                    assert_eq!(stats.inputs[0].format, LogFormat::CloudLogging, "{what}");
                    assert_eq!(orders(&all).len(), ORDERS_RUNS, "{what}: detected");
                    assert!(
                        stats.input_errors.is_empty(),
                        "{what}: {:?}",
                        stats.input_errors
                    );
                    check_refused_as_others(&what, Platform::GcpCloudSql, &path);
                }
            }
        }

        // Newest first (gcloud logging read's default order): the statements logged with
        // their duration, and the plans whole in one entry, are still read; the order
        // is reported, since statements whose duration is logged apart would not be.
        let mut entries: Vec<serde_json::Value> = serde_json::from_str(
            &export(
                &log,
                ExportOptions {
                    split: Split::PerRecord,
                    untimed: false,
                    ndjson: false,
                },
            )
            .unwrap(),
        )
        .unwrap();
        entries.reverse();
        let path = dir.path().join("newest-first.json");
        std::fs::write(&path, serde_json::to_string(&entries).unwrap()).unwrap();
        let opts = LogOptions::default().with_platform(Some(Platform::GcpCloudSql));
        let (all, stats) = samples(&path, &opts);
        assert_eq!(orders(&all).len(), ORDERS_RUNS, "pg{major} newest first");
        assert!(
            stats
                .input_errors
                .iter()
                .any(|e| e.contains("newest first")),
            "pg{major}: {:?}",
            stats.input_errors
        );
        let plans = plans_in_log_files(&[&path], &opts).unwrap();
        assert_eq!(plans.plans.len(), 1, "pg{major} newest first: the plan");

        // Cut in the middle of an entry: what came before is read, the cut is reported.
        let whole = export(
            &log,
            ExportOptions {
                split: Split::PerRecord,
                untimed: false,
                ndjson: false,
            },
        )
        .unwrap();
        // Three bytes into the second run's statement: the first run's entry is whole.
        let first = whole.find("pl:orders").unwrap();
        let second = first + 1 + whole[first + 1..].find("pl:orders").unwrap();
        let cut = second + 3;
        let path = dir.path().join("cut.json");
        std::fs::write(&path, &whole[..cut]).unwrap();
        let (all, stats) = samples(
            &path,
            &LogOptions::default().with_platform(Some(Platform::GcpCloudSql)),
        );
        assert_eq!(orders(&all).len(), 1, "pg{major}: the entry before the cut");
        assert!(
            stats
                .input_errors
                .iter()
                .any(|e| e.contains("Cloud Logging export, line")
                    && e.contains("ends inside an entry")),
            "pg{major}: {:?}",
            stats.input_errors
        );
    }
}
