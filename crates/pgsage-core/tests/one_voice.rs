//! One voice: on every captured fixture and the demo snapshot, every server setting an
//! audit fix changes has one value across all findings, and `pgsage tune` (the same
//! snapshot, host facts and profile) recommends that value as a change; the per-table
//! autovacuum settings VAC005 gives a table are those `tune` gives it, and the pool size
//! CON002 suggests is `tune`'s; the audit's fix script sets each setting once, to `tune`'s
//! value. Run with and
//! without host facts and for every profile, since the sized values depend on both.

use std::collections::BTreeMap;
use std::path::PathBuf;

use pgsage_core::snapshot::{Fact, HostFacts, StorageKind};
use pgsage_core::tune::Profile;
use pgsage_core::{audit_and_tune, RuleConfig, Snapshot, Source};

fn snapshots() -> Vec<PathBuf> {
    pgsage_testkit::scenario::captured_snapshots()
}

fn host(ram_gib: u64, cpus: f64, storage: StorageKind) -> HostFacts {
    let fact = |value| Fact {
        value,
        source: "test".to_owned(),
    };
    HostFacts {
        ram_bytes: Some(Fact {
            value: ram_gib << 30,
            source: "test".to_owned(),
        }),
        cpus: Some(fact(cpus)),
        storage: Some(Fact {
            value: storage,
            source: "test".to_owned(),
        }),
        platform: None,
        tier: None,
    }
}

#[test]
fn audit_fixes_and_tune_agree_on_every_setting() {
    // The profile only matters with host facts: every profile on one host, one profile
    // on the others.
    let cases = [
        (HostFacts::default(), Profile::Mixed),
        (host(16, 4.0, StorageKind::Ssd), Profile::Mixed),
        (host(16, 4.0, StorageKind::Ssd), Profile::Oltp),
        (host(16, 4.0, StorageKind::Ssd), Profile::Web),
        (host(16, 4.0, StorageKind::Ssd), Profile::Dw),
        (host(64, 16.0, StorageKind::Hdd), Profile::Mixed),
    ];
    let mut checked_settings = 0;
    let mut checked_tables = 0;
    let mut checked_pools = 0;
    let mut checked_action_settings = 0;
    let mut checked_script_settings = 0;
    let mut problems = Vec::new();
    for path in snapshots() {
        let snapshot = Snapshot::load(&path).expect("fixture loads");
        let name = path.display().to_string();
        for (host, profile) in &cases {
            let profile = *profile;
            {
                let mut config = RuleConfig::shipped().expect("shipped packs");
                config.host = host.clone();
                config.profile = profile;
                let (report, tuning) = audit_and_tune(&snapshot, &config, Source::SnapshotFile);
                let mut values: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
                for f in &report.findings {
                    let Some(fix) = &f.fix else { continue };
                    // Every setting a fix changes is declared, so that it can be checked
                    // here (and rendered per platform).
                    let altered = fix
                        .sql
                        .lines()
                        .filter(|l| l.trim_start().starts_with("ALTER SYSTEM SET"))
                        .count();
                    if altered != fix.settings.len() {
                        problems.push(format!(
                            "{}: fix has {altered} ALTER SYSTEM lines but declares {} settings: {}",
                            f.rule,
                            fix.settings.len(),
                            fix.sql
                        ));
                    }
                    for change in &fix.settings {
                        assert!(
                            fix.sql.contains(&pgsage_core::sql::alter_system(
                                &change.name,
                                &change.value
                            )),
                            "{name}: {} fix SQL does not set {} = {}: {}",
                            f.rule,
                            change.name,
                            change.value,
                            fix.sql
                        );
                        match values.get(change.name.as_str()) {
                            Some((value, rule)) if *value != change.value => problems.push(format!(
                                "{name} ({profile}, ram {:?}): {} sets {} = {} but {rule} sets {value}",
                                host.ram_bytes.as_ref().map(|f| f.value),
                                f.rule,
                                change.name,
                                change.value
                            )),
                            Some(_) => {}
                            None => {
                                values.insert(&change.name, (&change.value, &f.rule));
                            }
                        }
                    }
                }
                // The actions merge the findings' fixes: the same values, each once.
                for action in &report.actions {
                    let Some(fix) = &action.fix else { continue };
                    for line in fix.sql.lines() {
                        let Some((setting, value)) = alter_system_line(line) else {
                            continue;
                        };
                        checked_action_settings += 1;
                        match values.get(setting.as_str()) {
                            Some((v, _)) if *v == value => {}
                            other => problems.push(format!(
                                "{name} ({profile}): action {} sets {setting} = {value}, its findings {:?}",
                                action.id,
                                other.map(|(v, r)| format!("{r}: {v}"))
                            )),
                        }
                    }
                }
                checked_script_settings += script_settings_agree(
                    &format!("{name} ({profile})"),
                    &report,
                    &tuning,
                    &mut problems,
                );
                checked_tables +=
                    per_table_autovacuum_agrees(&name, &report, &tuning, &mut problems);
                for f in report.findings.iter().filter(|f| f.rule == "CON002") {
                    checked_pools += 1;
                    let suggested = f
                        .evidence
                        .get("suggested_pool_size")
                        .and_then(|v| v.as_i64());
                    if suggested.is_none() || suggested != tuning.pool_size {
                        problems.push(format!(
                            "{name} ({profile}): CON002 suggests a pool of {suggested:?}, tune {:?}",
                            tuning.pool_size
                        ));
                    }
                }
                for (setting, (value, rule)) in &values {
                    checked_settings += 1;
                    match tuning.settings.iter().find(|a| a.name == *setting) {
                        Some(a) if a.change && a.recommended == *value => {}
                        Some(a) => problems.push(format!(
                            "{name} ({profile}, ram {:?}): {rule} sets {setting} = {value}, tune says {} (change: {})",
                            host.ram_bytes.as_ref().map(|f| f.value),
                            a.recommended,
                            a.change
                        )),
                        None => problems.push(format!(
                            "{name} ({profile}): {rule} sets {setting} = {value}, tune does not advise it"
                        )),
                    }
                }
            }
        }
    }
    problems.sort();
    problems.dedup();
    assert!(
        problems.is_empty(),
        "{} disagreements:\n{}",
        problems.len(),
        problems.join("\n")
    );
    // The test must have something to check: the fixtures plant settings problems.
    assert!(
        checked_settings > 100,
        "only {checked_settings} settings checked"
    );
    assert!(
        checked_tables > 0,
        "no table advised by both VAC005 and tune"
    );
    assert!(checked_pools > 0, "no CON002 finding to compare");
    assert!(
        checked_action_settings > 100,
        "only {checked_action_settings} action settings checked"
    );
    assert!(
        checked_script_settings > 100,
        "only {checked_script_settings} script settings checked"
    );
}

/// `name` and `value` of an `ALTER SYSTEM SET name = 'value';` line.
fn alter_system_line(line: &str) -> Option<(String, String)> {
    let rest = line.trim().strip_prefix("ALTER SYSTEM SET ")?;
    let (name, value) = rest.split_once(" = ")?;
    let value = value.trim_end_matches(';');
    let value = value
        .strip_prefix('\'')
        .and_then(|v| v.strip_suffix('\''))
        .map_or(value.to_owned(), |v| v.replace("''", "'"));
    Some((name.trim_matches('"').to_owned(), value))
}

/// The audit's fix script (`pgsage audit --script`) sets each server setting once, to the
/// value `tune` recommends. Returns the settings compared.
fn script_settings_agree(
    name: &str,
    report: &pgsage_core::Report,
    tuning: &pgsage_core::tune::TuneReport,
    problems: &mut Vec<String>,
) -> usize {
    use pgsage_core::sql::impact::{statements, Kind};
    let script = pgsage_core::report::render::script(report);
    let mut set: BTreeMap<String, String> = BTreeMap::new();
    // Statements the script runs start a line; commented ones start with `--`.
    for line in script.lines().filter(|l| l.starts_with("ALTER SYSTEM")) {
        for st in statements(line) {
            let Kind::AlterSystem { setting, value } = st.impact.kind else {
                continue;
            };
            let value = value.unwrap_or_default();
            if let Some(before) = set.insert(setting.clone(), value.clone()) {
                problems.push(format!(
                    "{name}: the script sets {setting} twice ({before}, then {value})"
                ));
            }
            match tuning.settings.iter().find(|a| a.name == setting) {
                Some(a) if a.change && a.recommended == value => {}
                Some(a) => problems.push(format!(
                    "{name}: the script sets {setting} = {value}, tune says {} (change: {})",
                    a.recommended, a.change
                )),
                None => problems.push(format!(
                    "{name}: the script sets {setting} = {value}, tune does not advise it"
                )),
            }
        }
    }
    set.len()
}

/// The table and storage parameters of an `ALTER TABLE t SET (a = 1, b = 2);` fix.
fn alter_table_settings(sql: &str) -> Option<(String, BTreeMap<String, String>)> {
    let line = sql.lines().find(|l| l.starts_with("ALTER TABLE "))?;
    let (table, rest) = line["ALTER TABLE ".len()..].split_once(" SET (")?;
    let options = rest.strip_suffix(");")?;
    let settings = options
        .split(", ")
        .filter_map(|o| o.split_once(" = "))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    Some((table.to_owned(), settings))
}

/// Per-table autovacuum settings: a table that both VAC005's fixes and `tune`'s `tables`
/// name gets the same storage parameters from both. Returns the tables compared.
fn per_table_autovacuum_agrees(
    name: &str,
    report: &pgsage_core::Report,
    tuning: &pgsage_core::tune::TuneReport,
    problems: &mut Vec<String>,
) -> usize {
    let mut compared = 0;
    for f in report.findings.iter().filter(|f| f.rule == "VAC005") {
        let Some((table, settings)) = f.fix.as_ref().and_then(|x| alter_table_settings(&x.sql))
        else {
            continue;
        };
        let Some(advice) = tuning.tables.iter().find(|t| t.table == table) else {
            continue;
        };
        compared += 1;
        let tuned: BTreeMap<String, String> = advice.settings.iter().cloned().collect();
        if tuned != settings {
            problems.push(format!(
                "{name}: VAC005 sets {settings:?} on {table}, tune sets {tuned:?}"
            ));
        }
    }
    compared
}

/// A setting's value after `tune`'s advice: its recommendation (changed or kept), else
/// the snapshot's value.
fn tuned_number(
    snapshot: &Snapshot,
    tuning: &pgsage_core::tune::TuneReport,
    setting: &str,
) -> Option<i64> {
    tuning
        .settings
        .iter()
        .find(|a| a.name == setting)
        .and_then(|a| a.recommended.parse::<f64>().ok())
        .or_else(|| snapshot.setting(setting).and_then(|s| s.as_f64()))
        .map(|v| v as i64)
}

/// The connection numbers of the `connections` findings come from one model and agree
/// with `tune`: CON002's max_connections and pool size are `tune`'s, CON001's pool size
/// too, and a CONNECTION LIMIT CON009 suggests is below `tune`'s max_connections minus the
/// reserved slots after the advice, and at least `tune`'s pool size. No CONNECTION LIMIT
/// and no statement or lock timeout is ever suggested for a superuser role (PostgreSQL
/// does not apply a connection limit to superusers).
#[test]
fn connection_numbers_agree_across_findings_and_tune() {
    let cases = [
        (HostFacts::default(), Profile::Mixed),
        (host(16, 4.0, StorageKind::Ssd), Profile::Mixed),
        (host(16, 4.0, StorageKind::Ssd), Profile::Web),
        (host(64, 16.0, StorageKind::Hdd), Profile::Oltp),
    ];
    let mut problems = Vec::new();
    let mut limits_checked = 0;
    let mut superusers_checked = 0;
    for path in snapshots() {
        let snapshot = Snapshot::load(&path).expect("fixture loads");
        let name = path.display().to_string();
        let superuser = |role: &str| {
            snapshot
                .roles
                .iter()
                .any(|r| r.name == role && r.is_superuser)
        };
        // The shipped packs, and the fixture's scenario configuration (whose lowered
        // thresholds make the planted problems count).
        let scenario = path
            .parent()
            .and_then(|d| d.file_name())
            .and_then(|n| n.to_str())
            .and_then(|n| pgsage_testkit::scenario::Scenario::load(n).ok());
        let configs = [None, scenario.as_ref()];
        for ((host, profile), scenario) in cases
            .iter()
            .flat_map(|c| configs.iter().map(move |s| (c, s)))
        {
            let mut config = RuleConfig::shipped().expect("shipped packs");
            if let Some(s) = scenario {
                config
                    .apply_toml(&s.config, &format!("scenario {}", s.name))
                    .expect("scenario config");
            }
            config.host = host.clone();
            config.profile = *profile;
            let (report, tuning) = audit_and_tune(&snapshot, &config, Source::SnapshotFile);
            let at = format!(
                "{name} ({profile}, cpus {:?}, {})",
                host.cpus.as_ref().map(|c| c.value),
                scenario.map_or("shipped packs", |s| s.name.as_str())
            );
            let max_connections = tuned_number(&snapshot, &tuning, "max_connections");
            let reserved = tuned_number(&snapshot, &tuning, "superuser_reserved_connections")
                .unwrap_or(3)
                + snapshot
                    .setting("reserved_connections")
                    .and_then(|s| s.as_f64())
                    .map_or(0, |v| v as i64);
            for f in report.findings.iter().filter(|f| f.rule.starts_with("CON")) {
                let number = |key: &str| {
                    f.evidence.get(key).and_then(|v| {
                        v.as_i64()
                            .or_else(|| v.as_f64().map(|x| x as i64))
                            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                    })
                };
                if let Some(pool) = number("suggested_pool_size") {
                    if Some(pool) != tuning.pool_size {
                        problems.push(format!(
                            "{at}: {} suggests a pool of {pool}, tune {:?}",
                            f.rule, tuning.pool_size
                        ));
                    }
                }
                if f.rule == "CON002" && number("suggested_max_connections") != max_connections {
                    problems.push(format!(
                        "{at}: CON002 suggests max_connections {:?}, tune {max_connections:?}",
                        number("suggested_max_connections")
                    ));
                }
                if let Some(limit) = number("suggested_connection_limit") {
                    limits_checked += 1;
                    let usable = max_connections.map(|m| m - reserved);
                    if usable.is_none_or(|u| limit >= u) {
                        problems.push(format!(
                            "{at}: {} suggests CONNECTION LIMIT {limit} for `{}`, not below tune's max_connections {max_connections:?} minus {reserved} reserved",
                            f.rule, f.object.name
                        ));
                    }
                    if tuning.pool_size.is_some_and(|p| limit < p) {
                        problems.push(format!(
                            "{at}: {} suggests CONNECTION LIMIT {limit} for `{}`, below tune's pool size {:?}",
                            f.rule, f.object.name, tuning.pool_size
                        ));
                    }
                }
                let Some(fix) = &f.fix else { continue };
                for line in fix.sql.lines().filter(|l| l.starts_with("ALTER ROLE ")) {
                    let role = line["ALTER ROLE ".len()..]
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .trim_matches('"');
                    let timeout = line.contains(" SET statement_timeout")
                        || line.contains(" SET lock_timeout");
                    if superuser(role) {
                        superusers_checked += 1;
                        if line.contains("CONNECTION LIMIT") || timeout {
                            problems.push(format!(
                                "{at}: {} suggests `{line}` for superuser `{role}`",
                                f.rule
                            ));
                        }
                    }
                }
            }
            // An application connecting as a superuser is named as such.
            for f in report.findings.iter().filter(|f| {
                f.rule == "CON009"
                    && f.object.kind == pgsage_core::report::ObjectKind::Role
                    && superuser(&f.object.name)
            }) {
                superusers_checked += 1;
                if !f.message.contains("superuser") {
                    problems.push(format!(
                        "{at}: CON009 on superuser `{}` does not say it is one: {}",
                        f.object.name, f.message
                    ));
                }
            }
        }
    }
    problems.sort();
    problems.dedup();
    assert!(
        problems.is_empty(),
        "{} disagreements:\n{}",
        problems.len(),
        problems.join("\n")
    );
    assert!(limits_checked > 0, "no CONNECTION LIMIT to compare");
    assert!(superusers_checked > 0, "no superuser tenant checked");
}

/// On every managed platform, a parameter has one provider value across the findings, the
/// actions and `tune`, and a parameter the platform refuses is refused by all of them:
/// the commands a user reads in the audit and in `tune` never disagree.
#[test]
fn provider_values_agree_across_findings_actions_and_tune() {
    use pgsage_core::knowledge::server_parameters::PlatformFix;
    use pgsage_core::snapshot::Platform;
    let mut checked = 0;
    let mut problems = Vec::new();
    for path in snapshots() {
        let snapshot = Snapshot::load(&path).expect("fixture loads");
        for platform in Platform::ALL.into_iter().filter(|p| p.is_managed()) {
            let mut config = RuleConfig::shipped().expect("shipped packs");
            config.host = HostFacts {
                platform: Some(Fact::new(platform, "test")),
                ..host(16, 4.0, StorageKind::Ssd)
            };
            let (report, tuning) = audit_and_tune(&snapshot, &config, Source::SnapshotFile);
            let plans: Vec<(&str, &PlatformFix)> = report
                .findings
                .iter()
                .filter_map(|f| {
                    f.fix
                        .as_ref()?
                        .platform
                        .as_ref()
                        .map(|p| (f.rule.as_str(), p))
                })
                .chain(
                    report
                        .actions
                        .iter()
                        .filter_map(|a| a.fix.as_ref()?.platform.as_ref().map(|p| ("action", p))),
                )
                .chain(tuning.platform.as_ref().map(|p| ("tune", p)))
                .collect();
            let mut values: BTreeMap<&str, (&str, &str)> = BTreeMap::new();
            let mut refused: BTreeMap<&str, &str> = BTreeMap::new();
            for (who, plan) in &plans {
                assert_eq!(plan.platform, platform);
                for s in &plan.settings {
                    checked += 1;
                    if let Some((other, v)) = values.insert(&s.name, (who, &s.provider_value)) {
                        if v != s.provider_value {
                            problems.push(format!(
                                "{} on {platform}: {} = {v} ({other}) but {} ({who})",
                                path.display(),
                                s.name,
                                s.provider_value
                            ));
                        }
                    }
                    if let Some(r) = refused.get(s.name.as_str()) {
                        problems.push(format!(
                            "{platform}: {} refused by {r}, set by {who}",
                            s.name
                        ));
                    }
                }
                for n in &plan.not_allowed {
                    refused.insert(&n.name, who);
                    if let Some((setter, _)) = values.get(n.name.as_str()) {
                        problems.push(format!(
                            "{platform}: {} set by {setter}, refused by {who}",
                            n.name
                        ));
                    }
                }
            }
            // Every change tune recommends is a command or a refusal.
            if let Some(plan) = &tuning.platform {
                for a in tuning.changes() {
                    let known = plan.settings.iter().any(|s| s.name == a.name)
                        || plan.not_allowed.iter().any(|n| n.name == a.name);
                    if !known {
                        problems.push(format!("{platform}: tune's {} has no command", a.name));
                    }
                }
            } else if tuning.changes().next().is_some() {
                problems.push(format!(
                    "{platform}: tune changes settings without commands"
                ));
            }
        }
    }
    assert!(checked > 100, "only {checked} provider values checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
