use super::*;

const GIB_F: f64 = GIB as f64;

fn gib(t: &Tier) -> f64 {
    t.ram_bytes as f64 / GIB_F
}

fn fixture(path: &str) -> Snapshot {
    let p = pgsage_testkit::scenario::repo_root()
        .join("testdata")
        .join(path);
    Snapshot::load(&p).expect("snapshot")
}

/// Rows re-typed from the providers' tables (not from ours): name, vCPUs, GiB.
#[test]
fn documented_rows_give_their_vcpus_and_memory() {
    let rows: &[(&str, Option<f64>, f64)] = &[
        // learn.microsoft.com …/compute-storage/concepts-compute
        ("Standard_B1ms", Some(1.0), 2.0),
        ("Standard_B2s", Some(2.0), 4.0),
        ("Standard_B2ms", Some(2.0), 8.0),
        ("Standard_D2ds_v4", Some(2.0), 8.0),
        ("Standard_D4ds_v5", Some(4.0), 16.0),
        ("Standard_D64ds_v4", Some(64.0), 256.0),
        ("Standard_D96ads_v5", Some(96.0), 384.0),
        ("Standard_E2ds_v5", Some(2.0), 16.0),
        ("Standard_E20ds_v4", Some(20.0), 160.0),
        // The service's size, not the VM's (504 GiB): the capability API says 6,912 MB
        // per vCore.
        ("Standard_E64ds_v4", Some(64.0), 432.0),
        ("Standard_E64ds_v5", Some(64.0), 512.0),
        ("Standard_E96ds_v6", Some(96.0), 768.0),
        ("Standard_E96ads_v6", Some(96.0), 672.0),
        ("Standard_E192ds_v6", Some(192.0), 1832.0),
        // docs.aws.amazon.com …/Concepts.DBInstanceClass.Summary.html
        ("db.t3.micro", Some(2.0), 1.0),
        ("db.t4g.medium", Some(2.0), 4.0),
        ("db.m5.large", Some(2.0), 8.0),
        ("db.m6g.xlarge", Some(4.0), 16.0),
        ("db.m6i.32xlarge", Some(128.0), 512.0),
        ("db.r5.24xlarge", Some(96.0), 768.0),
        ("db.r6g.large", Some(2.0), 16.0),
        ("db.r6i.4xlarge", Some(16.0), 128.0),
        ("db.x2g.16xlarge", Some(64.0), 1024.0),
        // cloud.google.com/sql/docs/postgres/machine-series-overview, …/faq
        ("db-perf-optimized-N-2", Some(2.0), 16.0),
        ("db-perf-optimized-N-80", Some(80.0), 640.0),
        ("db-f1-micro", None, 0.6),
        ("db-g1-small", None, 1.7),
    ];
    for (name, vcpus, memory) in rows {
        let t = lookup(name).expect(name);
        assert_eq!(t.name, *name);
        assert_eq!(t.vcpus, *vcpus, "{name}");
        assert!((gib(&t) - memory).abs() < 0.01, "{name}: {} GiB", gib(&t));
    }
}

/// Checks of every row that do not trust the typed numbers: the per-vCore memory Azure
/// states for each tier ("General Purpose: 4 GiB", "Memory Optimized: 6.75 GiB to 9.5
/// GiB"), and the vCPUs an AWS size name means (large 2, xlarge 4, Nxlarge 4·N) with the
/// memory per vCPU of each family.
#[test]
fn every_row_keeps_its_familys_proportions() {
    for t in listed() {
        let vcpus = t.vcpus.unwrap_or(0.0);
        let per_vcpu = gib(&t) / vcpus;
        let bare = t.name.trim_start_matches(AZURE_PREFIX);
        if t.platforms == [Platform::AzureFlexibleServer] {
            match bare.as_bytes()[0] {
                b'B' => assert!((1.0..=4.0).contains(&per_vcpu), "{}", t.name),
                b'D' => assert_eq!(per_vcpu, 4.0, "{}", t.name),
                b'E' => assert!((6.75..=9.55).contains(&per_vcpu), "{}", t.name),
                _ => panic!("unexpected Azure SKU {}", t.name),
            }
            let digits: String = bare[1..].chars().take_while(char::is_ascii_digit).collect();
            assert_eq!(
                digits.parse::<f64>().ok(),
                t.vcpus,
                "{}: the name's vCores",
                t.name
            );
        } else if t.name.starts_with("db.") {
            let (family, size) = t.name[3..].split_once('.').expect("db.family.size");
            if !family.starts_with('t') {
                let expected = match size {
                    "large" => 2.0,
                    "xlarge" => 4.0,
                    s => 4.0 * s.trim_end_matches("xlarge").parse::<f64>().expect(s),
                };
                assert_eq!(vcpus, expected, "{}", t.name);
                let ratio = match &family[..1] {
                    "m" => 4.0,
                    "r" => 8.0,
                    "x" => 16.0,
                    other => panic!("unexpected family {other}"),
                };
                assert_eq!(per_vcpu, ratio, "{}", t.name);
            }
        }
    }
}

#[test]
fn names_are_unique_and_found_in_any_case() {
    let all = listed();
    let mut names: Vec<String> = all.iter().map(|t| t.name.to_ascii_lowercase()).collect();
    names.sort();
    let before = names.len();
    names.dedup();
    assert_eq!(names.len(), before, "a tier listed twice");
    for t in &all {
        assert_eq!(lookup(&t.name.to_ascii_uppercase()).expect(&t.name), *t);
    }
    let bare = lookup(" d4ds_v5 ").expect("without Standard_");
    assert_eq!(bare.name, "Standard_D4ds_v5");
}

#[test]
fn aurora_runs_on_the_classes_its_guide_lists() {
    let on = |name: &str| lookup(name).expect(name).platforms;
    assert_eq!(on("db.r6g.large"), [Platform::AwsRds, Platform::AwsAurora]);
    assert_eq!(on("db.t4g.medium"), [Platform::AwsRds, Platform::AwsAurora]);
    assert_eq!(on("db.m5.large"), [Platform::AwsRds]);
    assert_eq!(on("db.t3.micro"), [Platform::AwsRds]);
    assert_eq!(on("Standard_B2s"), [Platform::AzureFlexibleServer]);
    assert_eq!(on("db-custom-2-7680"), [Platform::GcpCloudSql]);
}

/// `db-custom-<vCPUs>-<MiB>`: the name is the size, within Cloud SQL's limits.
#[test]
fn cloud_sql_custom_types_give_the_size_they_name() {
    for (vcpus, mib) in [(1u32, 3840u64), (2, 7680), (4, 16384), (96, 96 * 6656)] {
        let t = lookup(&format!("DB-CUSTOM-{vcpus}-{mib}")).expect("valid");
        assert_eq!(t.name, format!("db-custom-{vcpus}-{mib}"));
        assert_eq!(t.vcpus, Some(f64::from(vcpus)));
        assert_eq!(t.ram_bytes, mib * 1024 * 1024);
        assert_eq!(t.storage, None, "SSD or HDD is chosen apart");
    }
    for (name, says) in [
        ("db-custom-3-12288", "even"),
        ("db-custom-98-200704", "up to 96"),
        ("db-custom-0-3840", "even"),
        ("db-custom-2-3584", "at least 3840"),
        ("db-custom-4-16000", "multiple of 256"),
        ("db-custom-2-16384", "6.5 GiB per vCPU"),
        ("db-custom-8-7168", "0.9"),
        ("db-custom-4", "db-custom-<vCPUs>-<memory MiB>"),
        ("db-custom-four-16384", "db-custom-<vCPUs>-<memory MiB>"),
    ] {
        let err = lookup(name).expect_err(name).to_string();
        assert!(err.contains(says) && err.contains("tier"), "{name}: {err}");
    }
}

#[test]
fn unknown_tiers_say_how_to_name_one() {
    for name in [
        "Standard_D4ds_v9",
        "db.r7g.large",
        "db-perf-optimized-N-6",
        "db-n1-standard-2",
        "large",
        "",
    ] {
        let err = lookup(name).expect_err(name).to_string();
        assert!(
            err.starts_with("invalid value for tier")
                && err.contains(&format!("`{}`", name.trim()))
                && err.contains("Standard_D4ds_v5")
                && err.contains("db.r6g.large")
                && err.contains("db-custom-4-16384")
                && err.contains("RAM and CPUs"),
            "{name}: {err}"
        );
    }
}

#[test]
fn a_tiers_facts_name_it_and_explicit_facts_win() {
    let explicit = crate::host::from_flags(Some("12GiB"), None, None, "flag").expect("valid");
    let h = with_tier(explicit, Some("db.r6g.xlarge"), "flag").expect("known tier");
    let ram = h.ram_bytes.expect("ram");
    assert_eq!((ram.value, ram.source.as_str()), (12 << 30, "flag"));
    let cpus = h.cpus.expect("cpus");
    assert_eq!(
        (cpus.value, cpus.source.as_str()),
        (4.0, "tier db.r6g.xlarge")
    );
    assert_eq!(h.storage.map(|s| s.value), Some(StorageKind::San));
    let tier = h.tier.expect("tier recorded");
    assert_eq!(
        (tier.value.as_str(), tier.source.as_str()),
        ("db.r6g.xlarge", "flag")
    );

    let rds = facts(&lookup("db.r6g.xlarge").expect("known"), "config");
    let source = rds.ram_bytes.expect("ram").source;
    assert!(source.starts_with("tier db.r6g.xlarge: ") && source.contains("RDS keeps"));
    let azure = facts(&lookup("Standard_D4ds_v5").expect("known"), "config");
    assert_eq!(
        azure.ram_bytes.expect("ram").source,
        "tier Standard_D4ds_v5"
    );

    let none = with_tier(HostFacts::default(), None, "flag").expect("no tier");
    assert_eq!(none, HostFacts::default());
}

#[test]
fn a_tier_of_another_platform_is_an_error() {
    let given = |p: Platform| HostFacts {
        platform: Some(Fact::new(p, "flag")),
        ..HostFacts::default()
    };
    let err = with_tier(
        given(Platform::GcpCloudSql),
        Some("Standard_D4ds_v5"),
        "flag",
    )
    .expect_err("Azure tier on Cloud SQL")
    .to_string();
    assert!(
        err.contains("Standard_D4ds_v5")
            && err.contains("Azure Database for PostgreSQL flexible server")
            && err.contains("Google Cloud SQL")
            && err.contains("(flag)"),
        "{err}"
    );
    with_tier(given(Platform::AwsAurora), Some("db.r6g.large"), "flag").expect("Aurora class");
    with_tier(given(Platform::AwsAurora), Some("db.m5.large"), "flag")
        .expect_err("not an Aurora class");

    // Detection counts too: the demo is a self-managed server.
    let demo = fixture("snapshots/demo.json");
    let tier = with_tier(HostFacts::default(), Some("Standard_D4ds_v5"), "flag").expect("known");
    let err = check_snapshot(&demo, &tier)
        .expect_err("self-managed")
        .to_string();
    assert!(
        err.contains("self-managed") && err.contains("detected"),
        "{err}"
    );
    let on_azure = with_tier(
        given(Platform::AzureFlexibleServer),
        Some("D4ds_v5"),
        "flag",
    )
    .expect("Azure tier on Azure");
    check_snapshot(&demo, &on_azure).expect("the given platform wins over detection");

    // A tier the snapshot recorded is checked as well; one no longer known is left be.
    let mut recorded = demo.clone();
    recorded.host.tier = Some(Fact::new("db.r6g.large".to_owned(), "flag"));
    check_snapshot(&recorded, &given(Platform::AzureFlexibleServer)).expect_err("RDS class");
    recorded.host.tier = Some(Fact::new("db.r1.retired".to_owned(), "flag"));
    check_snapshot(&recorded, &HostFacts::default()).expect("unknown recorded tier");
}

#[test]
fn generated_tiers_doc_is_current() {
    let path = pgsage_testkit::scenario::repo_root().join("docs/tiers.md");
    let text = catalogue_markdown();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &text).expect("write docs/tiers.md");
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == text,
        "docs/tiers.md is stale: run scripts/generate-docs.sh"
    );
}
