//! `recommend` on real snapshots (the demo and the captured fixtures) and on variations
//! of them that plant one measured workload at a time.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use super::*;
use crate::snapshot::{Baseline, Fact, Setting, Statement};

const GB: u64 = 1 << 30;
const MB: u64 = 1 << 20;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

fn demo() -> Snapshot {
    Snapshot::load(testdata().join("snapshots/demo.json")).unwrap()
}

fn fixtures() -> Vec<(PathBuf, Snapshot)> {
    let mut out = Vec::new();
    let mut dirs = vec![testdata().join("fixtures")];
    while let Some(d) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                if let Ok(s) = Snapshot::load(&p) {
                    out.push((p, s));
                }
            }
        }
    }
    out
}

fn advice<'a>(r: &'a TuneReport, name: &str) -> &'a Advice {
    r.settings
        .iter()
        .find(|a| a.name == name)
        .unwrap_or_else(|| panic!("no advice for {name}: {:#?}", r.settings))
}

fn flags(ram: u64, cpus: f64, storage: StorageKind) -> HostFacts {
    HostFacts {
        ram_bytes: Some(Fact::new(ram, "flag")),
        cpus: Some(Fact::new(cpus, "flag")),
        storage: Some(Fact::new(storage, "flag")),
        platform: None,
        tier: None,
    }
}

fn set(s: &mut Snapshot, name: &str, value: &str) {
    match s.settings.iter_mut().find(|x| x.name == name) {
        Some(x) => x.setting = value.into(),
        None => s.settings.push(Setting {
            name: name.into(),
            setting: value.into(),
            unit: None,
            vartype: "string".into(),
            source: "default".into(),
            context: "sighup".into(),
            boot_val: None,
            reset_val: None,
            pending_restart: false,
        }),
    }
}

fn bytes(a: &Advice) -> u64 {
    crate::host::parse_size(&a.recommended).unwrap()
}

#[test]
fn demo_uses_the_snapshots_facts_and_flags_win() {
    let s = demo();
    let r = recommend(&s, &TuneOptions::new(Profile::Oltp));
    let ram = r.facts.iter().find(|f| f.name == "ram").unwrap();
    assert_eq!(
        (ram.value.as_str(), ram.source.as_str()),
        (crate::units::bytes(24 * GB).as_str(), "snapshot (flag)")
    );
    assert_eq!(advice(&r, "shared_buffers").recommended, "6GB");
    assert_eq!(advice(&r, "effective_cache_size").recommended, "18GB");
    assert_eq!(advice(&r, "random_page_cost").recommended, "1.1");
    assert_eq!(advice(&r, "jit").recommended, "off");
    assert_eq!(advice(&r, "shared_buffers").apply, Apply::Restart);
    assert_eq!(advice(&r, "work_mem").apply, Apply::Reload);

    let opts = TuneOptions {
        host: flags(64 * GB, 16.0, StorageKind::Hdd),
        ..TuneOptions::new(Profile::Dw)
    };
    let r = recommend(&s, &opts);
    assert_eq!(
        r.facts.iter().find(|f| f.name == "ram").unwrap().source,
        "flag"
    );
    assert_eq!(advice(&r, "shared_buffers").recommended, "16GB");
    assert_eq!(advice(&r, "random_page_cost").recommended, "4");
    assert_eq!(advice(&r, "default_statistics_target").recommended, "500");
    assert_eq!(advice(&r, "huge_pages").recommended, "try");
    assert!(
        r.settings.iter().all(|a| a.name != "jit"),
        "jit only for oltp/web"
    );
}

#[test]
fn never_recommends_the_current_value_as_a_change() {
    for (path, s) in fixtures()
        .into_iter()
        .chain([(PathBuf::from("demo"), demo())])
    {
        for profile in [Profile::Oltp, Profile::Web, Profile::Mixed, Profile::Dw] {
            let opts = TuneOptions {
                host: flags(16 * GB, 8.0, StorageKind::Ssd),
                ..TuneOptions::new(profile)
            };
            let r = recommend(&s, &opts);
            for a in &r.settings {
                if a.current.as_deref() == Some(a.recommended.as_str()) {
                    assert!(
                        !a.change,
                        "{}: {} shown as a change: {a:?}",
                        path.display(),
                        a.name
                    );
                }
            }
            // The report round-trips through JSON.
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(serde_json::from_str::<TuneReport>(&json).unwrap(), r);
            // Every script line is a comment or a statement.
            for line in r.script().lines() {
                assert!(
                    line.starts_with("--")
                        || (line.starts_with("ALTER SYSTEM SET ") && line.ends_with("';"))
                        || line.starts_with("ALTER TABLE ")
                        || line == "SELECT pg_reload_conf();",
                    "{}: {line}",
                    path.display()
                );
            }
        }
    }
}

#[test]
fn applying_the_advice_leaves_nothing_to_change() {
    let mut s = demo();
    let opts = TuneOptions {
        host: flags(16 * GB, 8.0, StorageKind::Ssd),
        ..TuneOptions::new(Profile::Web)
    };
    let r = recommend(&s, &opts);
    assert!(r.changes().count() > 0);
    for a in r.changes() {
        let x = s.settings.iter_mut().find(|x| x.name == a.name).unwrap();
        match crate::host::parse_size(&a.recommended) {
            Ok(b) if x.unit.is_some() && a.recommended.ends_with('B') => {
                let unit = crate::snapshot::Setting {
                    setting: "1".into(),
                    ..x.clone()
                }
                .as_bytes()
                .unwrap();
                x.setting = format!("{}", b as f64 / unit);
            }
            _ => x.setting = a.recommended.clone(),
        }
    }
    for ta in &r.tables {
        let t = s
            .tables
            .iter_mut()
            .find(|t| t.qualified_name() == ta.table)
            .unwrap();
        t.reloptions
            .extend(ta.settings.iter().map(|(k, v)| format!("{k}={v}")));
    }
    let again = recommend(&s, &opts);
    assert!(again.tables.is_empty(), "{:#?}", again.tables);
    let left: Vec<_> = again
        .changes()
        .map(|a| (&a.name, &a.current, &a.recommended))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(again.script().contains("-- nothing to change"));
}

#[test]
fn without_ram_only_non_memory_advice() {
    let mut s = demo();
    s.host = HostFacts::default();
    let r = recommend(&s, &TuneOptions::new(Profile::Web));
    for name in [
        "shared_buffers",
        "work_mem",
        "effective_cache_size",
        "maintenance_work_mem",
        "wal_buffers",
        "random_page_cost",
        "max_parallel_workers",
    ] {
        assert!(
            r.settings.iter().all(|a| a.name != name),
            "{name} advised without facts"
        );
    }
    use crate::host::MissingFact;
    // The demo snapshot has no baseline: no sampled interval either.
    for fact in MissingFact::ALL {
        assert!(r.missing_facts.contains(&fact), "{:?}", r.missing_facts);
        assert!(
            r.notes.iter().any(|n| n.starts_with(fact.reason())),
            "{:?}",
            r.notes
        );
    }
    assert!(r.notes.iter().all(|n| !n.contains("--")), "{:?}", r.notes);
    assert!(r.facts.is_empty());
    advice(&r, "checkpoint_completion_target");
    advice(&r, "max_wal_size");
}

fn spilling_statement(calls: i64, temp_blks: i64) -> Statement {
    let mut q = demo().statements.unwrap().top[0].clone();
    q.queryid = calls;
    q.calls = calls;
    q.temp_blks_written = temp_blks;
    q
}

#[test]
fn work_mem_rises_to_keep_spills_in_memory_within_the_budget() {
    let mut s = demo();
    let erp = s.databases.iter_mut().find(|d| d.name == "erp").unwrap();
    erp.temp_files = 1000;
    erp.temp_bytes = 1000 * 20 * MB as i64;
    // 90% of spilling calls write ≤ 20MB (2560 blocks), a few write 1GB; the demo's own
    // spilling reports are left out so that these are the only spills.
    let st = s.statements.as_mut().unwrap();
    for q in &mut st.top {
        q.temp_blks_written = 0;
    }
    st.top.push(spilling_statement(900, 900 * 2560));
    st.top.push(spilling_statement(100, 100 * 131072));
    let opts = TuneOptions {
        host: flags(16 * GB, 4.0, StorageKind::Ssd),
        connections: Some(100),
        ..TuneOptions::new(Profile::Oltp)
    };
    let r = recommend(&s, &opts);
    let wm = advice(&r, "work_mem");
    assert_eq!(wm.basis, Basis::Workload, "{wm:#?}");
    assert_eq!(bytes(wm), 40 * MB, "{wm:?}");

    // With 300 connections, 40MB each would let the worst case exceed RAM (what MEM005
    // flags): the recommendation stops below it.
    let crowded = recommend(
        &s,
        &TuneOptions {
            connections: Some(300),
            ..opts.clone()
        },
    );
    let capped = advice(&crowded, "work_mem");
    assert!(bytes(capped) < 40 * MB, "{capped:?}");
    assert!(capped.why.contains("capped at"), "{capped:?}");
    let value = |name: &str| {
        crate::host::parse_size(&advice(&crowded, name).recommended).expect("a size") as f64
    };
    let worst = crate::knowledge::memory::WorstCase {
        shared_buffers: value("shared_buffers"),
        connections: 300.0,
        work_mem: bytes(capped) as f64,
        work_mem_factor: 1.0,
        autovacuum_workers: 3.0,
        autovacuum_mem: value("maintenance_work_mem"),
        maintenance_work_mem: value("maintenance_work_mem"),
    };
    assert!(worst.total() <= (16 * GB) as f64, "{}", worst.total());
    let files = format!("{} temp files", crate::units::count(1000));
    assert!(wm.change && wm.evidence.iter().any(|e| e.contains(&files)));

    // On a small machine the budget caps it.
    let opts = TuneOptions {
        host: flags(GB, 4.0, StorageKind::Ssd),
        ..TuneOptions::new(Profile::Oltp)
    };
    let r = recommend(&s, &opts);
    let wm = advice(&r, "work_mem");
    let budget = (GB - GB / 4) / ((4 + 4) * 3);
    assert!(bytes(wm) <= budget && bytes(wm) >= 4 * MB, "{wm:?}");
    assert!(wm.why.contains("capped at the memory budget"));
}

#[test]
fn max_wal_size_follows_the_measured_wal_rate() {
    let mut s = demo();
    // Independent of what the demo server happened to run with.
    set(&mut s, "checkpoint_timeout", "300");
    set(&mut s, "checkpoint_completion_target", "0.9");
    set(&mut s, "max_wal_size", "1024");
    let at = s.collected_at - chrono::Duration::seconds(60);
    s.wal_lsn_bytes = Some(100 * GB as i64 + 6 * GB as i64);
    s.baseline = Some(Baseline {
        collected_at: at,
        databases: s.databases.clone(),
        checkpointer: s.checkpointer.clone(),
        wal: s.wal.clone(),
        tables: s.tables.clone(),
        indexes: s.indexes.clone(),
        statements: s.statements.clone(),
        wal_lsn_bytes: Some(100 * GB as i64),
    });
    if let Some(c) = s.checkpointer.as_mut() {
        c.checkpoints_req += 5;
    }
    let r = recommend(&s, &TuneOptions::new(Profile::Web));
    let m = advice(&r, "max_wal_size");
    // 6GB/min = 30GB per 5 min; × 1.9 × 1.5 = 85.5GB → 86GB, capped at 64GB.
    assert_eq!(m.recommended, "64GB", "{m:?}");
    assert!(m.why.contains("checkpoint_timeout"), "{m:?}");
    assert_eq!(m.basis, Basis::Workload);
    assert!(
        m.evidence.iter().any(|e| e.contains("5 requested")),
        "{m:?}"
    );

    // A quiet server keeps the profile's value, and a larger current one is fine.
    s.wal_lsn_bytes = Some(100 * GB as i64 + MB as i64);
    let r = recommend(&s, &TuneOptions::new(Profile::Web));
    assert_eq!(advice(&r, "max_wal_size").recommended, "4GB");
    set(&mut s, "max_wal_size", "8192");
    let r = recommend(&s, &TuneOptions::new(Profile::Web));
    assert!(!advice(&r, "max_wal_size").change);
}

#[test]
fn large_tables_get_per_table_autovacuum() {
    let mut s = demo();
    // The demo ERP leaves its 5-million-row journal items table on the default scale
    // factor: it gets its own settings, as in VAC005's finding.
    let r = recommend(&s, &TuneOptions::new(Profile::Oltp));
    let tables: Vec<_> = r.tables.iter().map(|t| t.table.as_str()).collect();
    assert_eq!(tables, ["public.account_move_line"], "{:#?}", r.tables);

    // A server-wide scale factor of 50 is the cause: a note says so instead of one line
    // per table (as VAC005 does).
    set(&mut s, "autovacuum_vacuum_scale_factor", "50");
    let r = recommend(&s, &TuneOptions::new(Profile::Oltp));
    assert!(r.tables.is_empty(), "{:#?}", r.tables);
    assert!(
        r.notes
            .iter()
            .any(|n| n.starts_with("autovacuum_vacuum_scale_factor is 50 server-wide")),
        "{:#?}",
        r.notes
    );

    // One planted table of 50 million rows, the others small.
    set(&mut s, "autovacuum_vacuum_scale_factor", "0.2");
    for t in &mut s.tables {
        t.reltuples = t.reltuples.min(1_000.0);
    }
    let t = &mut s.tables[0];
    t.reltuples = 50_000_000.0;
    t.reloptions.clear();
    let name = t.qualified_name();
    // The demo's counters are minutes old: no churn rate, so the target is by size alone,
    // 1% of 50M rows = 500k dead rows (VAC005's defaults).
    let r = recommend(&s, &TuneOptions::new(Profile::Oltp));
    assert_eq!(r.tables.len(), 1, "{:#?}", r.tables);
    let ta = &r.tables[0];
    assert_eq!(ta.table, name);
    assert_eq!(
        ta.settings,
        [
            ("autovacuum_vacuum_scale_factor".into(), "0.01".into()),
            ("autovacuum_analyze_scale_factor".into(), "0.005".into()),
            (
                "autovacuum_vacuum_insert_scale_factor".into(),
                "0.01".into()
            ),
        ]
    );
    assert_eq!(ta.sql, format!("ALTER TABLE {name} SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_analyze_scale_factor = 0.005, autovacuum_vacuum_insert_scale_factor = 0.01);"));
    assert!(r.script().contains(&ta.sql));

    // The target is VAC005's parameter: a smaller one gives a smaller scale factor.
    let mut opts = TuneOptions::new(Profile::Oltp);
    opts.large_tables.target.max_rows = 100_000.0;
    let r = recommend(&s, &opts);
    assert_eq!(
        r.tables[0].settings[0],
        ("autovacuum_vacuum_scale_factor".into(), "0.002".into())
    );
}

#[test]
fn connections_from_observed_sessions_and_request() {
    let mut s = demo();
    set(&mut s, "max_connections", "1000");
    let opts = TuneOptions {
        host: flags(16 * GB, 4.0, StorageKind::Ssd),
        ..TuneOptions::new(Profile::Web)
    };
    let r = recommend(&s, &opts);
    let mc = advice(&r, "max_connections");
    assert!(mc.change && mc.basis == Basis::Workload, "{mc:?}");
    assert!(crate::host::parse_size(&mc.recommended).unwrap() < 1000);
    assert!(r.notes.iter().any(|n| n.starts_with("connection pool")));

    let r = recommend(
        &s,
        &TuneOptions {
            connections: Some(150),
            ..opts.clone()
        },
    );
    assert_eq!(advice(&r, "max_connections").recommended, "150");
    assert_eq!(advice(&r, "max_connections").apply, Apply::Restart);
}

#[test]
fn managed_services_get_parameters_not_alter_system() {
    let mut s = demo();
    set(&mut s, "azure.extensions", "pg_stat_statements");
    let r = recommend(&s, &TuneOptions::new(Profile::Web));
    assert_eq!(
        r.managed_service.as_deref(),
        Some("Azure Database for PostgreSQL flexible server")
    );
    let script = r.script();
    assert!(!script.contains("ALTER SYSTEM SET"), "{script}");
    // shared_buffers as Azure takes it: a number of 8 kB pages, what pg_settings counts in.
    let sb = advice(&r, "shared_buffers");
    assert!(sb.change, "the demo's shared_buffers is changed");
    let pages = crate::host::parse_size(&sb.recommended).expect("a size") / 8192;
    assert_eq!(
        s.setting("shared_buffers")
            .and_then(|x| x.unit.clone())
            .as_deref(),
        Some("8kB")
    );
    assert!(
        script.contains(&format!(
            "--   az postgres flexible-server parameter set --resource-group <rg> --server-name <server> --name shared_buffers --value {pages}\n"
        )),
        "{script}"
    );
    // shared_buffers needs a restart: the script ends its commands with one.
    assert!(script.contains(
        "--   az postgres flexible-server restart --resource-group <rg> --name <server>"
    ));
    assert!(!script.contains("pg_reload_conf"), "{script}");

    let mut s = demo();
    set(&mut s, "rds.extensions", "x");
    assert_eq!(
        recommend(&s, &TuneOptions::new(Profile::Web))
            .managed_service
            .as_deref(),
        Some("Amazon RDS for PostgreSQL")
    );
}

#[test]
fn renders_every_format() {
    let r = recommend(&demo(), &TuneOptions::new(Profile::Oltp));
    for f in [
        render::TuneFormat::Table,
        render::TuneFormat::Markdown,
        render::TuneFormat::Json,
    ] {
        let mut out = Vec::new();
        render::render(&r, f, Some(100), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("shared_buffers"), "{f:?}");
    }
}

/// The client connections `pgsage tune` counted, from its `max_connections` evidence
/// (`33 client connections open at collection, …`).
fn tune_client_count(report: &TuneReport) -> Option<i64> {
    let advice = report
        .settings
        .iter()
        .find(|a| a.name == "max_connections")?;
    advice.evidence.iter().find_map(|e| {
        let (count, _) = e.split_once(" client connections open at collection")?;
        count.replace(',', "").parse().ok()
    })
}

#[test]
fn audit_and_tune_count_the_same_client_connections() {
    // One snapshot, one count: every audit finding that counts client connections and
    // `pgsage tune` agree (they once differed by pgsage's own session: 33 against 34).
    let config = {
        let mut c = crate::RuleConfig::shipped().unwrap();
        c.host.cpus = Some(Fact {
            value: 4.0,
            source: "test".into(),
        });
        c.host.ram_bytes = Some(Fact {
            value: 16 * GB,
            source: "test".into(),
        });
        c
    };
    let mut snapshots = fixtures();
    snapshots.push((testdata().join("snapshots/demo.json"), demo()));
    let mut compared = 0;
    for (path, snap) in &snapshots {
        let (report, tuning) = crate::audit_and_tune(snap, &config, crate::Source::SnapshotFile);
        let expected = crate::knowledge::connections::Sessions::observe(snap).clients as i64;
        let mut counts: Vec<(String, i64)> = report
            .findings
            .iter()
            .filter_map(|f| {
                let n = f.evidence.get("client_connections")?.as_i64()?;
                Some((f.rule.clone(), n))
            })
            .collect();
        if let Some(n) = tune_client_count(&tuning) {
            counts.push(("tune".into(), n));
        }
        for (who, n) in &counts {
            assert_eq!(
                *n,
                expected,
                "{}: {who} counts {n} client connections, the snapshot has {expected}: {counts:?}",
                path.display()
            );
        }
        if counts.iter().any(|(w, _)| w == "tune") && counts.len() > 1 {
            compared += 1;
        }
    }
    assert!(
        compared > 0,
        "no snapshot where both tune and a rule count connections"
    );
}
