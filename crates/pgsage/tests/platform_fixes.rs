//! Setting fixes rendered for each managed platform, on real servers impersonating it
//! (its custom settings in postgresql.conf, its administration roles created) with
//! problems planted that pgsage fixes with server parameters: the audit's actions, its
//! `--script` and `tune`'s script hold no `ALTER SYSTEM`, only the provider's commands;
//! each value is in the unit the server's own `pg_settings` counts in (converted by the
//! server itself, as the oracle); the parameters the platform refuses are marked; and
//! every command passes the provider's own CLI parser (azure-cli, awscli from PyPI, in
//! the virtualenv `scripts/test.sh` prepares) or, for gcloud, its documented grammar.
//! The self-managed twin keeps `ALTER SYSTEM`.

use std::io::Write;
use std::process::{Command, Stdio};

use pgsage::knowledge::server_parameters::{PlatformFix, PlatformSetting};
use pgsage::snapshot::{Fact, HostFacts, Platform, StorageKind};
use pgsage::{audit_and_tune, CollectOptions, ConnectOptions, RuleConfig, Source};
use pgsage_testkit::platforms::ALL;
use pgsage_testkit::{require_server_with, test_majors, ServerOptions, TestServer};

/// Problems fixed with server parameters: durability off (refused where the platform
/// keeps it on), logging off (reload), storage costs for SSD (reload), memory far below
/// the host's (restart).
const PLANTED: &[&str] = &[
    "fsync = off",
    "log_lock_waits = off",
    "random_page_cost = 4",
    "shared_buffers = 16MB",
    "log_min_duration_statement = -1",
];

fn host() -> HostFacts {
    HostFacts {
        ram_bytes: Some(Fact::new(8u64 << 30, "flag")),
        cpus: Some(Fact::new(4.0, "flag")),
        storage: Some(Fact::new(StorageKind::Ssd, "flag")),
        platform: None,
        tier: None,
    }
}

/// What the server itself makes of `value` in `unit`: bytes or milliseconds per unit and
/// in the value (PostgreSQL parses both), so the test does not convert with the code it
/// checks.
fn server_amount(server: &TestServer, value: &str, unit: &str) -> (f64, f64) {
    let one = if unit.starts_with(|c: char| c.is_ascii_digit()) {
        unit.to_owned()
    } else {
        format!("1{unit}")
    };
    let memory = unit.ends_with('B');
    let sql = |v: &str| {
        if memory {
            format!("SELECT pg_size_bytes('{v}')")
        } else {
            format!("SELECT (extract(epoch FROM interval '{v}') * 1000)::bigint")
        }
    };
    let per_unit = server
        .query_scalar_i64("postgres", &sql(&one))
        .expect("unit") as f64;
    let amount = server
        .query_scalar_i64("postgres", &sql(value))
        .expect("value") as f64;
    (per_unit, amount)
}

fn server_unit(server: &TestServer, name: &str) -> Option<String> {
    let mut client = server.client("postgres").expect("client");
    client
        .query_opt("SELECT unit FROM pg_settings WHERE name = $1", &[&name])
        .expect("pg_settings")
        .and_then(|row| row.get::<_, Option<String>>(0))
}

/// The provider CLIs' verdict on each command ([`scripts/check-provider-commands.py`]).
fn check_commands(commands: &[String]) -> Vec<serde_json::Value> {
    let python = match std::env::var("PGSAGE_PROVIDER_CLI_PYTHON") {
        Ok(p) => p,
        Err(_) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!(
                "PGSAGE_PROVIDER_CLI_PYTHON is not set: scripts/test.sh prepares the provider CLIs"
            )
        }
        Err(_) => {
            eprintln!("skipping the provider CLI check: PGSAGE_PROVIDER_CLI_PYTHON not set");
            return Vec::new();
        }
    };
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../scripts/check-provider-commands.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("checker");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(serde_json::to_string(commands).expect("json").as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("checker output");
    assert!(out.status.success(), "the checker failed");
    serde_json::from_slice(&out.stdout).expect("checker json")
}

/// The value the provider's CLI received for `s`, as the checker read it back.
fn parsed_value(result: &serde_json::Value, s: &PlatformSetting) -> Option<String> {
    let p = result.get("parameters")?.get(&s.name)?;
    p.as_str()
        .or_else(|| p.get("value").and_then(|v| v.as_str()))
        .map(str::to_owned)
}

#[test]
fn setting_fixes_are_the_platforms_commands_in_its_units() {
    let majors = test_majors();
    let Some(&major) = majors.last() else { return };
    for p in ALL {
        let platform: Platform = p.platform.parse().expect("a platform pgsage knows");
        let opts = PLANTED
            .iter()
            .fold(p.options(ServerOptions::new(major)), |o, line| o.conf(line));
        let Some(server) = require_server_with(opts) else {
            return;
        };
        server.create_database("app").expect("database");
        p.create_roles(&server).expect("provider roles");
        let snap = pgsage::collect_snapshot_with(
            &ConnectOptions::new(server.dsn("app")),
            &CollectOptions {
                host_facts: host(),
                probe_local_host: false,
                ..CollectOptions::default()
            },
        )
        .expect("collect");
        let mut config = RuleConfig::shipped().expect("packs");
        config.min_stats_age_seconds = 0.0;
        let (report, tune) = audit_and_tune(&snap, &config, Source::Live);
        assert_eq!(
            report.target.platform.as_ref().map(|f| f.value),
            Some(platform)
        );
        let script = pgsage::report::render::script::script(&report);
        let tune_script = tune.script();
        let plans: Vec<&PlatformFix> = report
            .actions
            .iter()
            .filter_map(|a| a.fix.as_ref().and_then(|f| f.platform.as_ref()))
            .chain(tune.platform.as_ref())
            .collect();

        if platform == Platform::SelfManaged {
            // The twin: ALTER SYSTEM as before, no provider commands.
            assert!(plans.is_empty());
            assert!(
                script.contains("ALTER SYSTEM SET log_lock_waits = 'on';"),
                "{script}"
            );
            assert!(tune_script.contains("ALTER SYSTEM SET"), "{tune_script}");
            continue;
        }
        // No ALTER SYSTEM anywhere a statement runs: only in comments.
        for (what, text) in [("script", &script), ("tune script", &tune_script)] {
            for line in text.lines().filter(|l| !l.trim_start().starts_with("--")) {
                assert!(
                    !line.contains("ALTER SYSTEM"),
                    "{}: {what}: {line}",
                    platform
                );
                assert!(
                    !line.contains("pg_reload_conf"),
                    "{}: {what}: {line}",
                    platform
                );
            }
        }
        for a in &report.actions {
            if let Some(f) = &a.fix {
                assert!(
                    !f.sql.contains("ALTER SYSTEM SET"),
                    "{}: {}",
                    platform,
                    f.sql
                );
            }
        }
        // Every setting change of the findings is a provider setting or a refusal.
        for f in &report.findings {
            let Some(fix) = &f.fix else { continue };
            for change in &fix.settings {
                let plan = fix.platform.as_ref().expect("a platform plan");
                let settable = plan.settings.iter().any(|s| s.name == change.name);
                let refused = plan.not_allowed.iter().any(|n| n.name == change.name);
                assert!(settable ^ refused, "{}: {}", platform, change.name);
            }
        }
        // fsync: Azure, Aurora and Cloud SQL refuse it; RDS takes it, as a 1.
        let fsync_refused = plans
            .iter()
            .any(|f| f.not_allowed.iter().any(|n| n.name == "fsync"));
        let fsync_set = plans
            .iter()
            .flat_map(|f| &f.settings)
            .find(|s| s.name == "fsync");
        match platform {
            Platform::AwsRds => {
                assert!(!fsync_refused);
                assert_eq!(fsync_set.map(|s| s.provider_value.as_str()), Some("1"));
            }
            _ => {
                assert!(fsync_refused, "{}", platform);
                assert!(fsync_set.is_none());
                assert!(script.contains("-- Not allowed on"), "{script}");
            }
        }
        // Units: the server's own, and the value the server reads in the ALTER SYSTEM form.
        let settings: Vec<&PlatformSetting> = plans.iter().flat_map(|f| &f.settings).collect();
        assert!(
            settings.iter().any(|s| s.name == "shared_buffers"),
            "{}",
            platform
        );
        for s in &settings {
            let unit = server_unit(&server, &s.name);
            assert_eq!(s.unit, unit, "{}: {}", platform, s.name);
            if let Some(unit) = unit.filter(|_| s.value.contains(char::is_alphabetic)) {
                let (per_unit, amount) = server_amount(&server, &s.value, &unit);
                let sent: f64 = s.provider_value.parse().expect("a number");
                assert_eq!(
                    sent * per_unit,
                    amount,
                    "{}: {} {}",
                    platform,
                    s.name,
                    s.value
                );
            }
        }
        // Restart-only parameters end with the platform's restart.
        let restart_cmd = match platform {
            Platform::AzureFlexibleServer => Some("az postgres flexible-server restart"),
            Platform::AwsRds | Platform::AwsAurora => Some("aws rds reboot-db-instance"),
            _ => None,
        };
        if let Some(cmd) = restart_cmd {
            assert!(tune_script.contains(cmd), "{tune_script}");
        }
        // Every command passes the provider's parser, and the values arrive intact.
        let commands: Vec<String> = plans.iter().flat_map(|f| f.commands.clone()).collect();
        for result in check_commands(&commands) {
            assert_eq!(result["ok"], true, "{}: {result}", platform);
            let command = result["command"].as_str().unwrap_or("");
            for s in &settings {
                if command.contains(&format!("{}=", s.name))
                    || command.contains(&format!("--name {} ", s.name))
                {
                    assert_eq!(
                        parsed_value(&result, s).as_deref(),
                        Some(s.provider_value.as_str()),
                        "{}: {command}",
                        platform
                    );
                }
            }
        }
    }
}
