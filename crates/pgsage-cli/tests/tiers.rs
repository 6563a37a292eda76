//! `--tier` end to end: a managed service's compute size gives the host facts (`--ram`,
//! `--cpus`, `--storage` still win), `[host] tier` in pgsage.toml too, unknown tiers and
//! tiers of another platform exit 2, and `pgsage snapshot --tier` records the facts —
//! on the demo snapshot, and on real servers impersonating Azure (its `azure.*` setting
//! and `azure_pg_admin` role, as crates/pgsage/tests/platform.rs does) and a plain one.

// A test's failure is a panic; unwrap says so without ceremony.
#![allow(clippy::unwrap_used)]

mod common;

use common::{demo, pgsage, stderr};
use pgsage_testkit::{require_server_with, test_majors, ServerOptions};
use serde_json::Value;

fn ok_json(args: &[&str]) -> Value {
    let o = pgsage(args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("JSON")
}

/// `tune --format json`'s facts as `name → (value, source)`.
fn facts(v: &Value) -> Vec<(String, String, String)> {
    v["facts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            (s("name"), s("value"), s("source"))
        })
        .collect()
}

fn fact(v: &Value, name: &str) -> (String, String) {
    facts(v)
        .into_iter()
        .find(|(n, ..)| n == name)
        .map(|(_, value, source)| (value, source))
        .unwrap_or_else(|| panic!("no {name} fact in {v}"))
}

fn recommended(v: &Value) -> Vec<(String, Value)> {
    v["settings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["recommended"].clone(),
            )
        })
        .collect()
}

/// The tier's size is what `tune` sizes for: the same advice as the size given with
/// `--ram 16GiB --cpus 4 --storage san` (the documented Standard_D4ds_v5), and not the
/// 24 GiB the demo snapshot recorded.
#[test]
fn tune_on_the_demo_sizes_from_the_tier() {
    let d = demo();
    let tier = ok_json(&[
        "tune",
        "--snapshot",
        &d,
        "--platform",
        "azure-flexible-server",
        "--tier",
        "Standard_D4ds_v5",
        "--format",
        "json",
    ]);
    let source = "tier Standard_D4ds_v5".to_owned();
    assert_eq!(
        fact(&tier, "ram"),
        (pgsage::units::bytes(16u64 << 30), source.clone())
    );
    assert_eq!(fact(&tier, "cpus"), ("4".to_owned(), source.clone()));
    assert_eq!(fact(&tier, "storage"), ("san".to_owned(), source));

    let explicit = ok_json(&[
        "tune",
        "--snapshot",
        &d,
        "--platform",
        "azure-flexible-server",
        "--ram",
        "16GiB",
        "--cpus",
        "4",
        "--storage",
        "san",
        "--format",
        "json",
    ]);
    assert_eq!(recommended(&tier), recommended(&explicit));
    let recorded = ok_json(&[
        "tune",
        "--snapshot",
        &d,
        "--platform",
        "azure-flexible-server",
        "--format",
        "json",
    ]);
    assert_eq!(fact(&recorded, "ram").0, pgsage::units::bytes(24u64 << 30));
    assert_ne!(
        recommended(&tier),
        recommended(&recorded),
        "the tier is used"
    );
}

#[test]
fn explicit_flags_win_over_the_tier() {
    let d = demo();
    let v = ok_json(&[
        "tune",
        "--snapshot",
        &d,
        "--platform",
        "aws-rds",
        "--tier",
        "db.r6g.xlarge",
        "--ram",
        "8GiB",
        "--storage",
        "ssd",
        "--format",
        "json",
    ]);
    assert_eq!(
        fact(&v, "ram"),
        (pgsage::units::bytes(8u64 << 30), "flag".to_owned())
    );
    assert_eq!(
        fact(&v, "cpus"),
        ("4".to_owned(), "tier db.r6g.xlarge".to_owned())
    );
    assert_eq!(fact(&v, "storage"), ("ssd".to_owned(), "flag".to_owned()));

    // The audit reports the facts with their sources, and the tier as given.
    let report = ok_json(&[
        "audit",
        "--snapshot",
        &d,
        "--platform",
        "aws-rds",
        "--tier",
        "DB.R6G.XLARGE",
        "--format",
        "json",
    ]);
    let host = &report["host"];
    assert_eq!(host["tier"]["value"], "db.r6g.xlarge");
    assert_eq!(host["tier"]["source"], "flag");
    assert_eq!(host["ram_bytes"]["value"], 32u64 << 30);
    let ram_source = host["ram_bytes"]["source"].as_str().unwrap();
    assert!(
        ram_source.starts_with("tier db.r6g.xlarge: ") && ram_source.contains("RDS keeps"),
        "{ram_source}"
    );
}

#[test]
fn the_configurations_tier_gives_facts_and_the_flag_wins() {
    let d = demo();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pgsage.toml");
    std::fs::write(
        &config,
        "[host]\nplatform = \"gcp-cloud-sql\"\ntier = \"db-custom-8-32768\"\n",
    )
    .unwrap();
    let config = config.display().to_string();
    let args = [
        "tune",
        "--snapshot",
        &d,
        "--config",
        &config,
        "--format",
        "json",
    ];
    let v = ok_json(&args);
    assert_eq!(
        fact(&v, "ram"),
        (
            pgsage::units::bytes(32u64 << 30),
            "tier db-custom-8-32768".to_owned()
        )
    );
    assert_eq!(
        fact(&v, "cpus"),
        ("8".to_owned(), "tier db-custom-8-32768".to_owned())
    );
    let flag = ok_json(&[&args[..], &["--tier", "db-custom-2-7680"]].concat());
    assert_eq!(
        fact(&flag, "cpus"),
        ("2".to_owned(), "tier db-custom-2-7680".to_owned())
    );
}

#[test]
fn unknown_tiers_and_tiers_of_another_platform_exit_2() {
    let d = demo();
    let unknown = pgsage(&["tune", "--snapshot", &d, "--tier", "Standard_D4ds_v9"]);
    assert_eq!(unknown.status.code(), Some(2));
    let text = stderr(&unknown);
    for says in [
        "--tier",
        "unknown tier `Standard_D4ds_v9`",
        "Standard_D4ds_v5",
        "db.r6g.large",
        "db-custom-4-16384",
        "--ram",
        "--cpus",
    ] {
        assert!(text.contains(says), "{says} missing in: {text}");
    }
    let bad_custom = pgsage(&["audit", "--snapshot", &d, "--tier", "db-custom-3-12288"]);
    assert_eq!(bad_custom.status.code(), Some(2));
    assert!(
        stderr(&bad_custom).contains("even"),
        "{}",
        stderr(&bad_custom)
    );

    let mismatch = pgsage(&[
        "tune",
        "--snapshot",
        &d,
        "--platform",
        "aws-rds",
        "--tier",
        "Standard_D4ds_v5",
    ]);
    assert_eq!(mismatch.status.code(), Some(2));
    let text = stderr(&mismatch);
    assert!(
        text.contains("Azure Database for PostgreSQL flexible server")
            && text.contains("Amazon RDS for PostgreSQL")
            && text.contains("(flag)"),
        "{text}"
    );
    // Detection counts: the demo server shows no provider, so an Azure tier needs
    // --platform.
    let detected = pgsage(&["audit", "--snapshot", &d, "--tier", "Standard_D4ds_v5"]);
    assert_eq!(detected.status.code(), Some(2));
    let text = stderr(&detected);
    assert!(
        text.contains("self-managed") && text.contains("--platform"),
        "{text}"
    );
}

/// `pgsage snapshot --tier` on real servers: an Azure-like one records the tier's facts
/// (and keeps its detected platform); the same tier on a plain server, or an RDS class on
/// the Azure-like one, exits 2 and writes nothing.
#[test]
fn snapshot_records_the_tiers_facts_on_a_server_of_its_platform() {
    let Some(major) = test_majors().last().copied() else {
        return;
    };
    let azure = ServerOptions::new(major).conf("azure.extensions = 'pg_stat_statements'");
    let Some(azure) = require_server_with(azure) else {
        return;
    };
    azure.create_database("erp").expect("database");
    azure
        .execute("postgres", "CREATE ROLE azure_pg_admin NOLOGIN")
        .expect("provider role");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("erp.json");
    let out_s = out.display().to_string();
    let dsn = azure.dsn("erp");
    let o = pgsage(&[
        "snapshot",
        "--dsn",
        &dsn,
        "--tier",
        "standard_e4ds_v5",
        "--cpus",
        "3",
        "-o",
        &out_s,
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let snap = pgsage::Snapshot::load(&out).expect("written");
    let host = &snap.host;
    let ram = host.ram_bytes.clone().expect("ram");
    assert_eq!(
        (ram.value, ram.source.as_str()),
        (32u64 << 30, "tier Standard_E4ds_v5")
    );
    let cpus = host.cpus.clone().expect("cpus");
    assert_eq!((cpus.value, cpus.source.as_str()), (3.0, "flag"));
    assert_eq!(
        host.tier.as_ref().map(|t| t.value.as_str()),
        Some("Standard_E4ds_v5")
    );
    let platform = host.platform.clone().expect("platform");
    assert_eq!(
        platform.value,
        pgsage::snapshot::Platform::AzureFlexibleServer
    );
    assert!(
        platform.source.starts_with("detected"),
        "{}",
        platform.source
    );
    // Audited later, the recorded facts are used (as the snapshot's).
    let report = ok_json(&["audit", "--snapshot", &out_s, "--format", "json"]);
    assert_eq!(report["host"]["ram_bytes"]["value"], 32u64 << 30);

    // A tier that contradicts the server exits 2 and writes nothing.
    let refused = |dsn: &str, tier: &str, says: &str| {
        let out = dir.path().join(format!("{tier}.json"));
        let o = pgsage(&[
            "snapshot",
            "--dsn",
            dsn,
            "--tier",
            tier,
            "-o",
            &out.display().to_string(),
        ]);
        assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
        assert!(stderr(&o).contains(says), "{}", stderr(&o));
        assert!(!out.exists(), "nothing written");
    };
    refused(&dsn, "db.r6g.large", "azure_pg_admin");

    let Some(plain) = require_server_with(ServerOptions::new(major)) else {
        return;
    };
    plain.create_database("erp").expect("database");
    refused(&plain.dsn("erp"), "Standard_E4ds_v5", "self-managed");
}
