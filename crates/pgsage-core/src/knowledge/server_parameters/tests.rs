use super::commands::{render, shell_word};
use super::convert::{in_unit, to_provider, BASE_UNITS};
use super::rules::{access, allow_extensions, created_extensions, Access};
use super::SettingChange;
use super::*;
use crate::snapshot::Platform;

fn change(name: &str, value: &str, restart: bool) -> SettingChange {
    SettingChange {
        name: name.to_owned(),
        value: value.to_owned(),
        restart,
    }
}

fn demo() -> Snapshot {
    pgsage_testkit_free::demo()
}

/// The bundled demo snapshot, captured from a real server (no test kit in the core's unit
/// tests).
mod pgsage_testkit_free {
    pub fn demo() -> crate::Snapshot {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../testdata/snapshots/demo.json");
        let text = std::fs::read_to_string(p).expect("demo snapshot");
        crate::Snapshot::from_json(&text).expect("loads")
    }
}

#[test]
fn values_are_converted_to_the_unit_of_the_servers_pg_settings() {
    let snap = demo();
    // Each case: the unit pg_settings gives on the captured server, and the value in it.
    for (name, value) in [
        ("shared_buffers", "4GB"),
        ("work_mem", "20560kB"),
        ("max_wal_size", "8GB"),
        ("checkpoint_timeout", "15min"),
        ("log_min_duration_statement", "1s"),
        ("effective_cache_size", "12GB"),
    ] {
        let row = snap.setting(name).expect("captured");
        let unit = row.unit.clone().expect("a unit");
        let per_unit = crate::snapshot::unit_multiplier(&unit).expect("known unit");
        let c = to_provider(
            Platform::AzureFlexibleServer,
            Some(&snap),
            &change(name, value, false),
        );
        assert_eq!(c.unit.as_deref(), Some(unit.as_str()), "{name}");
        let expected_base = if row.as_bytes().is_some() {
            crate::host::parse_size(value).expect("size") as f64
        } else {
            // time: the test's own reading of the value
            let (n, u) = value.split_at(
                value
                    .find(|c: char| c.is_alphabetic())
                    .unwrap_or(value.len()),
            );
            let n: f64 = n.parse().expect("number");
            n * match u {
                "min" => 60_000.0,
                "s" => 1000.0,
                _ => 1.0,
            }
        };
        let sent: f64 = c.value.parse().expect("a plain number");
        assert_eq!(
            sent * per_unit,
            expected_base,
            "{name} {value} -> {} {unit}",
            c.value
        );
    }
}

#[test]
fn the_fallback_units_are_postgresqls_own() {
    // Every fallback unit equals the unit of a real server's pg_settings row.
    let snap = demo();
    for (name, unit) in BASE_UNITS {
        if let Some(row) = snap.setting(name) {
            assert_eq!(row.unit.as_deref(), Some(*unit), "{name}");
        }
    }
    // And a snapshot without the row still converts.
    let mut bare = snap.clone();
    bare.settings.retain(|s| s.name != "work_mem");
    let c = to_provider(
        Platform::AwsRds,
        Some(&bare),
        &change("work_mem", "64MB", false),
    );
    assert_eq!(c.value, "65536");
}

#[test]
fn booleans_take_each_providers_form() {
    let snap = demo();
    let on = change("log_lock_waits", "on", false);
    assert_eq!(to_provider(Platform::AwsRds, Some(&snap), &on).value, "1");
    assert_eq!(
        to_provider(Platform::AwsAurora, Some(&snap), &on).value,
        "1"
    );
    assert_eq!(
        to_provider(Platform::AzureFlexibleServer, Some(&snap), &on).value,
        "on"
    );
    assert_eq!(
        to_provider(Platform::GcpCloudSql, Some(&snap), &on).value,
        "on"
    );
    let off = change("jit", "off", false);
    assert_eq!(to_provider(Platform::AwsRds, Some(&snap), &off).value, "0");
}

#[test]
fn enums_strings_and_unitless_numbers_pass_unchanged() {
    let snap = demo();
    for (name, value) in [
        ("wal_compression", "lz4"),
        ("random_page_cost", "1.1"),
        ("max_connections", "200"),
        (
            "shared_preload_libraries",
            "pg_stat_statements,auto_explain",
        ),
        ("autovacuum_work_mem", "-1"),
    ] {
        let c = to_provider(Platform::AwsRds, Some(&snap), &change(name, value, false));
        assert_eq!(c.value, value, "{name}");
    }
    assert_eq!(in_unit("4GB", "8kB", true).as_deref(), Some("524288"));
    assert_eq!(in_unit("4GB", "ms", true), None, "memory is not time");
}

#[test]
fn refused_parameters_name_what_to_do_instead() {
    for (platform, name) in [
        (Platform::AzureFlexibleServer, "fsync"),
        (Platform::AzureFlexibleServer, "synchronous_commit"),
        (Platform::AwsAurora, "max_wal_size"),
        (Platform::AwsRds, "wal_level"),
        (Platform::GcpCloudSql, "shared_preload_libraries"),
    ] {
        match access(platform, name) {
            Access::Refused { why, instead } => {
                assert!(!why.is_empty() && !instead.is_empty(), "{platform} {name}")
            }
            Access::Settable(_) => panic!("{platform} lets users set {name}"),
        }
    }
    assert_eq!(
        access(Platform::AwsRds, "max_wal_size"),
        Access::Settable(ParameterGroup::Instance)
    );
    assert_eq!(
        access(Platform::AwsAurora, "autovacuum_naptime"),
        Access::Settable(ParameterGroup::Cluster)
    );
    assert_eq!(
        access(Platform::AwsAurora, "work_mem"),
        Access::Settable(ParameterGroup::Instance)
    );
}

#[test]
fn a_plan_splits_settable_from_refused_and_self_managed_has_none() {
    let snap = demo();
    let changes = [
        change("fsync", "on", false),
        change("work_mem", "16MB", false),
        change("shared_buffers", "4GB", true),
    ];
    assert!(PlatformFix::plan(Platform::SelfManaged, &changes, Some(&snap)).is_none());
    let azure =
        PlatformFix::plan(Platform::AzureFlexibleServer, &changes, Some(&snap)).expect("plan");
    assert_eq!(azure.not_allowed.len(), 1);
    assert_eq!(azure.not_allowed[0].name, "fsync");
    assert_eq!(azure.settings.len(), 2);
    // One command per parameter, then one restart for shared_buffers.
    assert_eq!(azure.commands.len(), 3);
    assert!(azure.commands[2].starts_with("az postgres flexible-server restart"));
    assert!(azure.commands[0].ends_with("--name work_mem --value 16384"));
    assert!(azure.commands[1].ends_with("--name shared_buffers --value 524288"));
}

#[test]
fn rds_batches_parameters_with_their_apply_method_and_reboots_once() {
    let settings: Vec<PlatformSetting> = (0..23)
        .map(|i| PlatformSetting {
            name: format!("p{i}"),
            value: "1".into(),
            provider_value: "1".into(),
            unit: None,
            restart: i == 0,
            group: ParameterGroup::Instance,
        })
        .collect();
    let r = render(Platform::AwsRds, &settings, &[]);
    let modify: Vec<&String> = r
        .commands
        .iter()
        .filter(|c| c.contains("modify-db-parameter-group"))
        .collect();
    assert_eq!(modify.len(), 2, "20 per call");
    assert_eq!(modify[0].matches("ParameterName=").count(), 20);
    // What applies at once first, what waits for the reboot last.
    assert!(modify[0].contains("ParameterName=p1,ParameterValue=1,ApplyMethod=immediate"));
    assert!(modify[1].ends_with("ParameterName=p0,ParameterValue=1,ApplyMethod=pending-reboot"));
    assert_eq!(
        r.commands.last().map(String::as_str),
        Some("aws rds reboot-db-instance --db-instance-identifier <instance>")
    );
    assert!(r.notes.iter().any(|n| n.contains("default group")));
}

#[test]
fn cloud_sql_sets_every_flag_in_one_command_that_keeps_those_set_now() {
    let snap = demo();
    let changes = [
        change("work_mem", "16MB", false),
        change("max_connections", "200", true),
    ];
    let f = PlatformFix::plan(Platform::GcpCloudSql, &changes, Some(&snap)).expect("plan");
    assert_eq!(f.commands.len(), 1);
    assert_eq!(
        f.commands[0],
        "gcloud sql instances patch <instance> --database-flags='<flags set now>,work_mem=16384,max_connections=200'"
    );
    assert!(f.notes[0].contains("replaces every flag"));
    // A value with a comma switches gcloud's delimiter.
    let list = PlatformFix::plan(
        Platform::GcpCloudSql,
        &[
            change("log_line_prefix", "a,b", false),
            change("work_mem", "16MB", false),
        ],
        Some(&snap),
    )
    .expect("plan");
    assert!(list.commands[0]
        .contains("--database-flags='^:^<flags set now>:log_line_prefix=a,b:work_mem=16384'"));
}

#[test]
fn merged_plans_set_each_parameter_once_in_one_gcloud_command() {
    let snap = demo();
    let a = PlatformFix::plan(
        Platform::GcpCloudSql,
        &[change("work_mem", "16MB", false)],
        Some(&snap),
    )
    .expect("plan");
    let b = PlatformFix::plan(
        Platform::GcpCloudSql,
        &[
            change("work_mem", "16MB", false),
            change("jit", "off", false),
        ],
        Some(&snap),
    )
    .expect("plan");
    let m = PlatformFix::merge([&a, &b]).expect("merged");
    assert_eq!(m.settings.len(), 2);
    assert_eq!(m.commands.len(), 1);
    assert!(m.commands[0].contains("work_mem=16384,jit=off"));
}

#[test]
fn shell_words_quote_what_the_shell_would_read() {
    assert_eq!(shell_word("work_mem"), "work_mem");
    assert_eq!(shell_word("<rg>"), "<rg>");
    assert_eq!(shell_word("a b"), "'a b'");
    assert_eq!(shell_word("it's"), r"'it'\''s'");
    assert_eq!(shell_word("x<y"), "'x<y'");
}

#[test]
fn azure_allow_lists_extensions_before_create_extension() {
    let mut snap = demo();
    let wanted = created_extensions(
        "-- then in each database:\nCREATE EXTENSION IF NOT EXISTS pg_stat_statements;\ncreate extension hypopg;",
    );
    assert_eq!(wanted, ["pg_stat_statements", "hypopg"]);
    // Unknown list: kept as a placeholder, never guessed.
    let unknown =
        allow_extensions(Platform::AzureFlexibleServer, Some(&snap), &wanted).expect("change");
    assert_eq!(
        unknown.value,
        "<current azure.extensions>,pg_stat_statements,hypopg"
    );
    snap.provider_settings
        .insert("azure.extensions".into(), "PG_STAT_STATEMENTS".into());
    let known =
        allow_extensions(Platform::AzureFlexibleServer, Some(&snap), &wanted).expect("change");
    assert_eq!(known.value, "pg_stat_statements,hypopg");
    snap.provider_settings.insert(
        "azure.extensions".into(),
        "pg_stat_statements,hypopg".into(),
    );
    assert!(allow_extensions(Platform::AzureFlexibleServer, Some(&snap), &wanted).is_none());
    assert!(allow_extensions(Platform::AwsRds, Some(&snap), &wanted).is_none());
}

#[test]
fn enabling_an_extension_allows_it_first_where_the_platform_has_a_list() {
    let mut snap = demo();
    snap.provider_settings
        .insert("azure.extensions".into(), "pg_stat_statements".into());
    let azure = enable_extension_steps(Platform::AzureFlexibleServer, Some(&snap), "hypopg");
    assert_eq!(azure.len(), 2);
    assert!(azure[0].ends_with("--name azure.extensions --value pg_stat_statements,hypopg"));
    assert_eq!(azure[1], "CREATE EXTENSION hypopg;");
    assert_eq!(
        enable_extension_steps(Platform::AwsRds, Some(&snap), "hypopg"),
        ["CREATE EXTENSION hypopg;"]
    );
    assert_eq!(
        enable_extension_steps(Platform::SelfManaged, None, "hypopg"),
        ["CREATE EXTENSION hypopg;"]
    );
}

#[test]
fn a_providers_own_boolean_keeps_its_form_without_the_servers_row() {
    let snap = demo();
    let bouncer = change("pgbouncer.enabled", "true", false);
    assert!(snap.setting("pgbouncer.enabled").is_none());
    assert_eq!(
        to_provider(Platform::AzureFlexibleServer, Some(&snap), &bouncer).value,
        "true"
    );
    assert_eq!(
        to_provider(
            Platform::AwsRds,
            None,
            &change("log_lock_waits", "on", false)
        )
        .value,
        "1"
    );
}
