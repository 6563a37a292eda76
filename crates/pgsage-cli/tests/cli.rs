//! The `pgsage` binary end to end: formats, filters, exit codes and bad input, on the
//! bundled demo snapshot (captured from a real server) and on live throwaway servers.

mod common;

use std::path::PathBuf;

use common::{demo, pgsage, stderr, stdout};
use pgsage_testkit::{require_server, SilentServer};

fn json_report(args: &[&str]) -> serde_json::Value {
    let o = pgsage(args);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("JSON report")
}

#[test]
fn demo_audit_leads_with_the_ranked_actions_and_shows_every_finding() {
    let report = json_report(&["audit", "--snapshot", &demo(), "--format", "json"]);
    let actions = report["actions"].as_array().expect("actions");
    assert!(!actions.is_empty());
    let o = pgsage(&["audit", "--snapshot", &demo()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    // The first screen: the top actions, in rank order.
    let first_screen: String = text.lines().take(40).collect::<Vec<_>>().join(" ");
    let squeeze = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let first_screen = squeeze(&first_screen);
    let mut at = 0;
    for a in actions.iter().take(10) {
        let title = squeeze(a["title"].as_str().expect("title"));
        let found = first_screen[at..].find(&title).unwrap_or_else(|| {
            panic!("action {title:?} not on the first screen in order:\n{text}")
        });
        at += found + title.len();
    }
    // Every finding is shown, under its action.
    let whole = squeeze(&text);
    for f in report["findings"].as_array().expect("findings") {
        let object = match f["object"]["schema"].as_str() {
            Some(schema) => format!("{schema}.{}", f["object"]["name"].as_str().unwrap_or("")),
            None => f["object"]["name"].as_str().unwrap_or("").to_owned(),
        };
        let head = format!(
            "{} {} `{object}`",
            f["rule"].as_str().unwrap_or(""),
            squeeze(f["title"].as_str().unwrap_or(""))
        );
        assert!(whole.contains(&head), "finding {head:?} not shown");
    }
    // Lines fit in 100 columns, except SQL, which is printed whole to be copied.
    let sql: Vec<String> = actions
        .iter()
        .filter_map(|a| a["fix"]["sql"].as_str())
        .flat_map(|s| s.lines().map(str::to_owned).collect::<Vec<_>>())
        .collect();
    for line in text.lines() {
        if line.chars().count() > 100 {
            assert!(
                sql.iter().any(|s| line.trim() == s.trim()),
                "line wider than 100 columns: {line}"
            );
        }
    }
}

#[test]
fn a_width_of_zero_is_refused() {
    let o = pgsage(&["audit", "--snapshot", &demo(), "--width", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--width"), "{}", stderr(&o));
}

#[test]
fn json_report_follows_the_documented_contract() {
    let r = json_report(&["audit", "--snapshot", &demo(), "--format", "json"]);
    assert_eq!(r["schema_version"], 1);
    assert_eq!(r["tool"]["name"], "pgsage");
    assert_eq!(r["target"]["source"], "snapshot");
    assert!(r["target"]["server_version_num"].as_i64().unwrap_or(0) >= 130000);
    let findings = r["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    let count = |sev: &str| findings.iter().filter(|f| f["severity"] == sev).count() as u64;
    for sev in ["critical", "warning", "info"] {
        assert_eq!(
            r["summary"][sev].as_u64(),
            Some(count(sev)),
            "summary.{sev}"
        );
    }
    for f in findings {
        for key in [
            "rule",
            "pack",
            "severity",
            "title",
            "object",
            "message",
            "evidence",
            "recommendation",
            "confidence",
        ] {
            assert!(!f[key].is_null(), "finding lacks {key}: {f}");
        }
        assert!(f["object"]["kind"].is_string() && f["object"]["name"].is_string());
    }
    // Worst first.
    let rank = |s: &serde_json::Value| match s.as_str() {
        Some("critical") => 2,
        Some("warning") => 1,
        _ => 0,
    };
    let ranks: Vec<_> = findings.iter().map(|f| rank(&f["severity"])).collect();
    assert!(ranks.windows(2).all(|w| w[0] >= w[1]), "{ranks:?}");
}

#[test]
fn same_snapshot_gives_byte_identical_json() {
    let a = pgsage(&["audit", "--snapshot", &demo(), "--format", "json"]);
    let b = pgsage(&["audit", "--snapshot", &demo(), "--format", "json"]);
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn markdown_has_a_section_per_action() {
    let report = json_report(&["audit", "--snapshot", &demo(), "--format", "json"]);
    let o = pgsage(&["audit", "--snapshot", &demo(), "--format", "markdown"]);
    assert_eq!(o.status.code(), Some(0));
    let md = stdout(&o);
    assert!(md.starts_with("# pgsage audit"));
    for a in report["actions"].as_array().expect("actions") {
        let heading = format!("## {}. {}", a["rank"], a["title"].as_str().expect("title"));
        assert!(md.contains(&heading), "no section {heading:?}");
        if let Some(sql) = a["fix"]["sql"].as_str() {
            assert!(
                md.contains(&format!("```sql\n{sql}\n```")),
                "fix of {heading} not whole"
            );
        }
    }
}

#[test]
fn filters_and_fail_on_gate_ci() {
    let r = json_report(&[
        "audit",
        "--snapshot",
        &demo(),
        "--format",
        "json",
        "--pack",
        "vacuum",
    ]);
    let findings = r["findings"].as_array().expect("findings");
    assert!(!findings.is_empty());
    assert!(findings.iter().all(|f| f["pack"] == "vacuum"));

    let r = json_report(&[
        "audit",
        "--snapshot",
        &demo(),
        "--format",
        "json",
        "--min-severity",
        "critical",
    ]);
    assert!(r["findings"]
        .as_array()
        .expect("f")
        .iter()
        .all(|f| f["severity"] == "critical"));

    let o = pgsage(&["audit", "--snapshot", &demo(), "--fail-on", "warning"]);
    assert_eq!(o.status.code(), Some(1), "demo has warnings");
    let o = pgsage(&[
        "audit",
        "--snapshot",
        &demo(),
        "--pack",
        "indexing",
        "--fail-on",
        "critical",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn host_flags_override_and_are_reported() {
    let r = json_report(&[
        "audit",
        "--snapshot",
        &demo(),
        "--format",
        "json",
        "--ram",
        "1GiB",
    ]);
    assert_eq!(r["host"]["ram_bytes"]["value"], 1u64 << 30);
    assert_eq!(r["host"]["ram_bytes"]["source"], "flag");
}

/// Without host facts the library's skips name the missing facts (`missing_fact` in
/// JSON, no flags in the reasons); the CLI adds one hint line naming its flags.
#[test]
fn unknown_host_facts_get_a_hint_naming_the_flags() {
    let dir = tempfile::tempdir().expect("tmp");
    let mut snap: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(demo()).expect("demo")).expect("JSON");
    snap["host"] = serde_json::json!({});
    let path = dir.path().join("no-facts.json");
    std::fs::write(&path, snap.to_string()).expect("write");
    let path = path.display().to_string();

    let r = json_report(&["audit", "--snapshot", &path, "--format", "json"]);
    let skipped = r["skipped"].as_array().expect("skipped");
    for fact in ["ram", "cpus", "storage"] {
        assert!(
            skipped.iter().any(|s| s["missing_fact"] == fact),
            "{fact}: {skipped:#?}"
        );
    }
    assert!(
        skipped
            .iter()
            .all(|s| !s["reason"].as_str().unwrap_or("").contains("--")),
        "{skipped:#?}"
    );

    let text = stdout(&pgsage(&["audit", "--snapshot", &path]));
    let hint = text
        .lines()
        .find(|l| l.starts_with("hint: pass --ram"))
        .unwrap_or_else(|| panic!("no hint in:\n{text}"));
    for flag in ["--ram", "--cpus", "--storage", "[host]"] {
        assert!(hint.contains(flag), "{hint}");
    }
    let with_facts = stdout(&pgsage(&[
        "audit",
        "--snapshot",
        &path,
        "--ram",
        "16GiB",
        "--cpus",
        "4",
        "--storage",
        "ssd",
    ]));
    assert!(!with_facts.contains("hint: pass"), "{with_facts}");

    let tune = stdout(&pgsage(&["tune", "--snapshot", &path]));
    assert!(
        tune.contains("hint: pass --ram SIZE --cpus N --storage KIND"),
        "{tune}"
    );
    assert!(tune.contains("--interval"), "{tune}");
}

#[test]
fn config_file_overrides_and_suppresses() {
    let dir = tempfile::tempdir().expect("tmp");
    let cfg = dir.path().join("pgsage.toml");
    std::fs::write(
        &cfg,
        "[rules.VAC001]\nenabled = false\n[[suppress]]\nrule = \"IDX001\"\nobject = \"*.sale_order_*\"\nreason = \"accepted\"\n",
    )
    .expect("write config");
    let r = json_report(&[
        "audit",
        "--snapshot",
        &demo(),
        "--format",
        "json",
        "--config",
        &cfg.display().to_string(),
    ]);
    let findings = r["findings"].as_array().expect("f");
    assert!(findings
        .iter()
        .all(|f| f["rule"] != "VAC001" && f["rule"] != "IDX001"));
    assert!(r["suppressed"].as_array().is_some_and(|s| !s.is_empty()));

    std::fs::write(&cfg, "[rules.VAC001.params]\nno_such_param = 1\n").expect("write");
    let o = pgsage(&[
        "audit",
        "--snapshot",
        &demo(),
        "--config",
        &cfg.display().to_string(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no_such_param"), "{}", stderr(&o));
}

#[test]
fn bad_snapshot_files_give_clear_errors_and_exit_2() {
    let dir = tempfile::tempdir().expect("tmp");
    let text = std::fs::read_to_string(demo()).expect("demo");
    // Whatever the demo's layout (it is stored compact): the same snapshot from the future.
    let mut future: serde_json::Value = serde_json::from_str(&text).expect("demo JSON");
    future["snapshot_version"] = 99.into();
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "truncated.json",
            text[..text.len() / 2].to_owned(),
            "truncated",
        ),
        ("corrupt.json", text.replacen('{', "{{", 1), "corrupt"),
        ("future.json", future.to_string(), "newer pgsage"),
        ("empty.json", String::new(), "empty"),
        (
            "other.json",
            "{\"hello\": 1}".to_owned(),
            "not a pgsage snapshot",
        ),
    ];
    for (name, body, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, body).expect("write");
        let o = pgsage(&["audit", "--snapshot", &path.display().to_string()]);
        assert_eq!(o.status.code(), Some(2), "{name}");
        let err = stderr(&o);
        assert!(
            err.contains(name) && err.contains(expected),
            "{name}: {err}"
        );
    }
    let o = pgsage(&["audit", "--snapshot", "/nonexistent/snap.json"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["audit"],
        vec!["audit", "--snapshot", "x.json", "--format", "yaml"],
        vec!["audit", "--snapshot", "x.json", "--pack", "nopack"],
        vec!["audit", "--snapshot", "x.json", "--ram", "lots"],
        vec!["rule", "ZZZ999"],
        vec!["frobnicate"],
    ] {
        let o = pgsage(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn rule_docs_are_printed() {
    let o = pgsage(&["rule", "vac001"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(
        text.contains("# VAC001")
            && text.contains("## How to fix")
            && text.contains("min_dead_tuples")
    );
    let o = pgsage(&["rules"]);
    let list = stdout(&o);
    for id in ["CON001", "IDX001", "MEM001", "VAC001"] {
        assert!(list.contains(id));
    }
}

/// The cells of a Markdown table row (`| a | b\\|c |`), trimmed and unescaped; `None` for
/// a line that is not a table row.
fn markdown_row(line: &str) -> Option<Vec<String>> {
    let inner = line.trim().strip_prefix('|')?.strip_suffix('|')?;
    let mut cells = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                chars.next();
                cells.last_mut()?.push('|');
            }
            '|' => cells.push(String::new()),
            c => cells.last_mut()?.push(c),
        }
    }
    Some(cells.iter().map(|c| c.trim().to_owned()).collect())
}

#[test]
fn rules_as_markdown_is_a_table_of_the_catalogue() {
    let catalogue = json_report(&["rules", "--format", "json"]);
    let catalogue = catalogue.as_array().expect("catalogue");
    let o = pgsage(&["rules", "--format", "markdown"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = stdout(&o);
    let rows: Vec<Vec<String>> = md.lines().filter_map(markdown_row).collect();
    let (header, rows) = rows.split_first().expect("a table header");
    let (separator, rows) = rows.split_first().expect("a separator row");
    assert!(
        separator.len() == header.len()
            && separator
                .iter()
                .all(|c| !c.is_empty() && c.chars().all(|ch| ch == '-' || ch == ':')),
        "{separator:?}"
    );
    let column = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no {name} column in {header:?}"))
    };
    assert_eq!(rows.len(), catalogue.len(), "{md}");
    for rule in catalogue {
        let id = rule["id"].as_str().expect("id");
        let row = rows
            .iter()
            .find(|r| r[column("id")] == id)
            .unwrap_or_else(|| panic!("no row for {id} in:\n{md}"));
        assert_eq!(row.len(), header.len(), "{row:?}");
        for key in ["pack", "severity", "title"] {
            assert_eq!(
                Some(row[column(key)].as_str()),
                rule[key].as_str(),
                "{id} {key}"
            );
        }
    }
}

#[test]
fn one_rule_as_markdown_or_json() {
    let doc = json_report(&["rules", "VAC001", "--format", "json"]);
    assert_eq!(doc["id"], "VAC001");
    let o = pgsage(&["rules", "VAC001", "--format", "markdown"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let md = stdout(&o);
    assert_eq!(md, stdout(&pgsage(&["rule", "VAC001"])));
    assert!(md.starts_with("# VAC001 "), "{md}");
    assert!(
        md.contains(doc["doc"].as_str().expect("doc").trim()),
        "{md}"
    );
}

/// The choices clap lists after rejecting a value (`[possible values: a, b]`).
fn possible_values(err: &str) -> Vec<String> {
    let list = err
        .split_once("[possible values: ")
        .and_then(|(_, rest)| rest.split_once(']'))
        .map_or("", |(list, _)| list);
    list.split(',')
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect()
}

#[test]
fn unknown_choices_are_usage_errors_listing_the_possible_values() {
    let demo = demo();
    let formats = ["table", "json", "markdown", "html"];
    let severities = ["info", "warning", "critical"];
    let log_formats = ["stderr", "csv", "json", "cloud-logging"];
    let cases: Vec<(Vec<&str>, &[&str])> = vec![
        (vec!["audit", "--snapshot", &demo, "--format"], &formats),
        (vec!["rules", "--format"], &formats),
        (vec!["rules", "VAC001", "--format"], &formats),
        (vec!["tune", "--snapshot", &demo, "--format"], &formats),
        (vec!["workload", "--snapshot", &demo, "--format"], &formats),
        (vec!["plan", "plan.json", "--format"], &formats),
        (vec!["indexes", "--snapshot", &demo, "--format"], &formats),
        (
            vec!["audit", "--snapshot", &demo, "--min-severity"],
            &severities,
        ),
        (vec!["audit", "--snapshot", &demo, "--fail-on"], &severities),
        (vec!["plan", "plan.json", "--min-severity"], &severities),
        (vec!["plan", "plan.json", "--fail-on"], &severities),
        (
            vec!["workload", "--snapshot", &demo, "--fail-on"],
            &severities,
        ),
        (
            vec!["indexes", "--snapshot", &demo, "--fail-on"],
            &severities,
        ),
        (
            vec!["audit", "--snapshot", &demo, "--storage"],
            &["hdd", "ssd", "nvme", "san"],
        ),
        (
            vec!["tune", "--snapshot", &demo, "--profile"],
            &["oltp", "web", "mixed", "dw"],
        ),
        (
            vec!["workload", "--snapshot", &demo, "--by"],
            &["total", "mean", "calls", "temp"],
        ),
        (vec!["workload", "pg.log", "--log-format"], &log_formats),
        (vec!["indexes", "pg.log", "--log-format"], &log_formats),
    ];
    for (mut args, choices) in cases {
        args.push("yaml");
        let o = pgsage(&args);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(o.stdout.is_empty(), "{args:?}: {}", stdout(&o));
        assert!(err.contains("'yaml'"), "{args:?}: {err}");
        assert_eq!(possible_values(&err), choices, "{args:?}: {err}");
    }
}

#[test]
fn choices_keep_their_short_spellings() {
    let demo = demo();
    let long = pgsage(&["audit", "--snapshot", &demo, "--format", "markdown"]);
    let short = pgsage(&["audit", "--snapshot", &demo, "--format", "md"]);
    assert_eq!(short.status.code(), Some(0), "{}", stderr(&short));
    assert_eq!(long.stdout, short.stdout);
    for severity in ["WARN", "Warning"] {
        let o = pgsage(&["audit", "--snapshot", &demo, "--fail-on", severity]);
        assert_eq!(o.status.code(), Some(1), "{severity}: {}", stderr(&o));
    }
}

#[test]
fn redact_hashes_names_and_keeps_findings() {
    let dir = tempfile::tempdir().expect("tmp");
    let out: PathBuf = dir.path().join("shared.json");
    let o = pgsage(&["redact", &demo(), "-o", &out.display().to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let snap: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("redacted")).expect("json");
    assert_eq!(snap["redacted"], true);
    assert!(snap["server"]["user"]
        .as_str()
        .is_some_and(|u| u.starts_with("user-")));
    let users: Vec<_> = snap["activity"]
        .as_array()
        .expect("activity")
        .iter()
        .filter_map(|b| b["user"].as_str())
        .collect();
    assert!(
        !users.is_empty() && users.iter().all(|u| u.starts_with("user-")),
        "{users:?}"
    );
    let a = json_report(&["audit", "--snapshot", &demo(), "--format", "json"]);
    let b = json_report(&[
        "audit",
        "--snapshot",
        &out.display().to_string(),
        "--format",
        "json",
    ]);
    assert_eq!(a["summary"], b["summary"]);
}

#[test]
fn live_snapshot_then_offline_audit_matches_live_audit() {
    let Some(server) = require_server(15) else {
        return;
    };
    server.create_database("erp").expect("db");
    server
        .execute(
            "erp",
            "CREATE TABLE t (id int); CREATE INDEX t_a ON t (id); CREATE INDEX t_b ON t (id);",
        )
        .expect("plant");
    let dir = tempfile::tempdir().expect("tmp");
    let snap = dir.path().join("erp.json");
    let dsn = server.dsn("erp");
    let o = pgsage(&["snapshot", "--dsn", &dsn, "-o", &snap.display().to_string()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let offline = json_report(&[
        "audit",
        "--snapshot",
        &snap.display().to_string(),
        "--format",
        "json",
    ]);
    let live = json_report(&["audit", "--dsn", &dsn, "--format", "json"]);
    assert_eq!(live["target"]["source"], "live");
    // The server is on this machine: RAM and CPUs were read locally, and said so.
    let ram_source = live["host"]["ram_bytes"]["source"].as_str().unwrap_or("");
    assert!(matches!(ram_source, "proc" | "cgroup"), "{}", live["host"]);
    let nolocal = json_report(&[
        "audit",
        "--dsn",
        &dsn,
        "--format",
        "json",
        "--no-local-facts",
    ]);
    assert!(
        nolocal["host"]["ram_bytes"].is_null(),
        "{}",
        nolocal["host"]
    );
    assert!(nolocal["skipped"]
        .as_array()
        .is_some_and(|s| s.iter().any(|r| r["rule"] == "MEM001")));
    let ids = |r: &serde_json::Value| -> Vec<(String, String)> {
        r["findings"]
            .as_array()
            .expect("f")
            .iter()
            .map(|f| (f["rule"].to_string(), f["object"]["name"].to_string()))
            .collect()
    };
    assert_eq!(ids(&offline), ids(&live));
    assert!(ids(&live)
        .iter()
        .any(|(r, n)| r == "\"IDX001\"" && n == "\"t_b\""));
}

#[test]
fn unreachable_and_hung_servers_exit_2_with_a_clear_error() {
    // A closed port.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let dsn = format!("host=127.0.0.1 port={port} user=x dbname=x sslmode=disable");
    let o = pgsage(&["audit", "--dsn", &dsn]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("127.0.0.1"), "{}", stderr(&o));

    // A server that accepts and never answers.
    let silent = SilentServer::start().expect("silent server");
    let dsn = format!(
        "host=127.0.0.1 port={} user=x dbname=x sslmode=disable password=sekrit",
        silent.port()
    );
    let started = std::time::Instant::now();
    let o = pgsage(&["audit", "--dsn", &dsn, "--connect-timeout", "2s"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        started.elapsed().as_secs() < 20,
        "did not time out promptly"
    );
    let err = stderr(&o);
    assert!(
        err.contains("no answer") || err.contains("timed out") || err.contains("timeout"),
        "{err}"
    );
    assert!(!err.contains("sekrit"), "password leaked: {err}");
}

#[test]
fn wrong_password_exits_2_without_leaking_it() {
    let Some(server) = require_server(15) else {
        return;
    };
    server
        .create_role("monitor", "right-pw", &["pg_monitor"])
        .expect("role");
    let dsn = format!(
        "host=127.0.0.1 port={} user=monitor password=wrong-pw dbname=postgres sslmode=disable",
        server.port()
    );
    let o = pgsage(&["audit", "--dsn", &dsn]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(
        err.contains("password authentication failed") || err.contains("28P01"),
        "{err}"
    );
    assert!(!err.contains("wrong-pw"), "password leaked: {err}");
}

#[test]
fn the_platform_is_shown_first_and_can_be_named() {
    let detected = stdout(&pgsage(&["audit", "--snapshot", &demo()]));
    let first: Vec<&str> = detected.lines().take(4).collect();
    assert!(
        first
            .iter()
            .any(|l| l.starts_with("Platform: self-managed (detected")),
        "{first:?}"
    );
    let named = stdout(&pgsage(&[
        "audit",
        "--snapshot",
        &demo(),
        "--platform",
        "aws-rds",
    ]));
    assert!(
        named.contains("Platform: Amazon RDS for PostgreSQL (flag)"),
        "{}",
        named.lines().take(5).collect::<Vec<_>>().join("\n")
    );
    let report = json_report(&[
        "audit",
        "--snapshot",
        &demo(),
        "--format",
        "json",
        "--platform",
        "aws-rds",
    ]);
    assert_eq!(report["target"]["platform"]["value"], "aws-rds");
    let wrong = pgsage(&["audit", "--snapshot", &demo(), "--platform", "heroku"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert!(
        stderr(&wrong).contains("azure-flexible-server"),
        "{}",
        stderr(&wrong)
    );
}

#[test]
fn html_output_is_one_page_with_nothing_after_it() {
    let demo = demo();
    let data = |rel: &str| {
        pgsage_testkit::scenario::repo_root()
            .join("testdata")
            .join(rel)
            .display()
            .to_string()
    };
    let plan = data("plans/pg17/fk_trigger_delete.json");
    let log = data("logs/pg17/default.log");
    let runs: Vec<Vec<&str>> = vec![
        vec!["audit", "--snapshot", &demo],
        vec!["tune", "--snapshot", &demo],
        vec!["indexes", "--snapshot", &demo],
        vec!["workload", "--snapshot", &demo],
        vec!["workload", &log],
        vec!["plan", &plan],
        vec!["rules"],
        vec!["rules", "VAC001"],
    ];
    for mut args in runs {
        args.extend(["--format", "html"]);
        let o = pgsage(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        let page = stdout(&o);
        assert!(page.starts_with("<!DOCTYPE html>"), "{args:?}");
        assert!(
            page.trim_end().ends_with("</html>"),
            "{args:?}: something after </html>: {}",
            &page[page.rfind("</html>").unwrap_or(0)..]
        );
        assert_eq!(page.matches("</html>").count(), 1, "{args:?}");
    }
}
