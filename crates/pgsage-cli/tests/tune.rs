//! `pgsage tune` end to end on the bundled demo snapshot: formats, the script, host
//! facts from flags and the configuration file, and usage errors.

// A test's failure is a panic; unwrap says so without ceremony.
#![allow(clippy::unwrap_used)]

mod common;

use common::{demo, pgsage};

fn ok(args: &[&str]) -> String {
    let o = pgsage(args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).expect("UTF-8")
}

#[test]
fn table_shows_settings_facts_and_the_script() {
    let d = demo();
    let text = ok(&["tune", "--snapshot", &d, "--profile", "oltp"]);
    let ram = format!(
        "- ram {} (from snapshot (flag))",
        pgsage::units::bytes(24u64 << 30)
    );
    for expected in [
        "profile oltp",
        ram.as_str(),
        "shared_buffers",
        "6GB",
        "restart",
        "ALTER SYSTEM SET shared_buffers = '6GB';",
        "SELECT pg_reload_conf();",
    ] {
        assert!(text.contains(expected), "missing {expected} in:\n{text}");
    }
    // Everything but the script (SQL stays on one line) fits in 100 columns.
    let (report, _script) = text.split_once("\nScript:\n").expect("a script section");
    for line in report.lines() {
        assert!(line.chars().count() <= 100, "wider than 100: {line}");
    }
}

#[test]
fn json_follows_the_documented_shape() {
    let d = demo();
    let text = ok(&[
        "tune",
        "--snapshot",
        &d,
        "--profile",
        "web",
        "--format",
        "json",
        "--ram",
        "8GiB",
        "--cpus",
        "8",
        "--storage",
        "hdd",
    ]);
    let v: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(v["profile"], "web");
    let facts = v["facts"].as_array().unwrap();
    let ram = pgsage::units::bytes(8u64 << 30);
    assert!(facts
        .iter()
        .any(|f| f["name"] == "ram" && f["value"] == ram.as_str() && f["source"] == "flag"));
    let settings = v["settings"].as_array().unwrap();
    let get = |n: &str| settings.iter().find(|s| s["name"] == n).unwrap().clone();
    assert_eq!(get("shared_buffers")["recommended"], "2GB");
    assert_eq!(get("random_page_cost")["recommended"], "4");
    assert_eq!(get("shared_buffers")["apply"], "restart");
    for s in settings {
        for key in [
            "name",
            "current",
            "recommended",
            "change",
            "apply",
            "basis",
            "why",
            "evidence",
        ] {
            assert!(s.get(key).is_some(), "{key} missing in {s}");
        }
    }
    assert!(v["notes"].is_array() && v["tables"].is_array());
    assert!(v.get("managed_service").is_some());
}

#[test]
fn markdown_has_the_table_and_the_script() {
    let d = demo();
    let text = ok(&["tune", "--snapshot", &d, "--format", "markdown"]);
    assert!(text.contains("| setting | current | recommended | why | apply |"));
    assert!(text.contains("```sql\n"));
    assert!(
        text.contains("profile mixed"),
        "mixed is the default profile"
    );
}

#[test]
fn script_is_only_valid_alter_system_lines() {
    let d = demo();
    let text = ok(&["tune", "--snapshot", &d, "--profile", "oltp", "--script"]);
    let mut statements = 0;
    for line in text.lines() {
        if line.starts_with("--") {
            continue;
        }
        statements += 1;
        let ok = line == "SELECT pg_reload_conf();"
            || line.starts_with("ALTER TABLE ")
            || (line.starts_with("ALTER SYSTEM SET ")
                && line.ends_with("';")
                && line["ALTER SYSTEM SET ".len()..]
                    .split_once(" = '")
                    .is_some_and(|(name, _)| {
                        !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    }));
        assert!(ok, "not a valid script line: {line}");
    }
    assert!(statements > 2, "{text}");
    assert!(!text.contains("| setting"));
    assert!(text.contains("ALTER SYSTEM SET jit = 'off';"));
}

#[test]
fn connections_flag_and_config_facts() {
    let d = demo();
    let text = ok(&["tune", "--snapshot", &d, "--connections", "77", "--script"]);
    assert!(
        text.contains("ALTER SYSTEM SET max_connections = '77';"),
        "{text}"
    );

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pgsage.toml");
    std::fs::write(
        &config,
        "[host]\nram = \"64GiB\"\ncpus = 16\nstorage = \"nvme\"\n",
    )
    .unwrap();
    let config = config.display().to_string();
    let text = ok(&[
        "tune",
        "--snapshot",
        &d,
        "--config",
        &config,
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ram = v["facts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "ram")
        .unwrap()
        .clone();
    assert_eq!(
        (ram["value"].as_str(), ram["source"].as_str()),
        (
            Some(pgsage::units::bytes(64u64 << 30).as_str()),
            Some("config")
        )
    );
    // A flag wins over the file.
    let text = ok(&[
        "tune",
        "--snapshot",
        &d,
        "--config",
        &config,
        "--ram",
        "32GiB",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ram = v["facts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "ram")
        .unwrap()
        .clone();
    assert_eq!(
        (ram["value"].as_str(), ram["source"].as_str()),
        (
            Some(pgsage::units::bytes(32u64 << 30).as_str()),
            Some("flag")
        )
    );
}

#[test]
fn bad_flags_exit_2() {
    let d = demo();
    for args in [
        vec!["tune", "--snapshot", d.as_str(), "--profile", "desktop"],
        vec!["tune", "--snapshot", d.as_str(), "--format", "xml"],
        vec!["tune", "--snapshot", d.as_str(), "--ram", "lots"],
        vec!["tune", "--snapshot", d.as_str(), "--storage", "tape"],
        vec!["tune", "--snapshot", d.as_str(), "--cpus", "0"],
        vec!["tune", "--snapshot", d.as_str(), "--connections", "0"],
        vec!["tune", "--snapshot", d.as_str(), "--bogus"],
        vec!["tune", "--snapshot", "/nonexistent/snap.json"],
        vec!["tune"],
    ] {
        let o = pgsage(&args);
        assert_eq!(
            o.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(!o.stderr.is_empty(), "{args:?}: no message");
    }
}

/// `--ram 16` meant 16 GiB; read as 16 bytes it sized `shared_buffers = '0kB'`. A RAM
/// without a unit, or below what a PostgreSQL host has, is a usage error naming the flag
/// and an example, from the flag and from `[host]` in the configuration alike.
#[test]
fn ram_without_a_unit_or_absurdly_small_is_refused() {
    let d = demo();
    for ram in ["16", "16384", "64MB"] {
        for args in [
            vec!["tune", "--snapshot", &d, "--ram", ram, "--script"],
            vec!["audit", "--snapshot", &d, "--ram", ram],
        ] {
            let o = pgsage(&args);
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
            assert!(o.stdout.is_empty(), "{args:?} printed a report");
            assert!(err.contains("--ram") && err.contains("16GiB"), "{err}");
        }
        let dir = tempfile::tempdir().unwrap();
        let cfg = dir.path().join("pgsage.toml");
        std::fs::write(&cfg, format!("[host]\nram = \"{ram}\"\n")).unwrap();
        let o = pgsage(&["tune", "--snapshot", &d, "--config", cfg.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "[host] ram = {ram}: {err}");
        assert!(err.contains("host.ram") && err.contains("16GiB"), "{err}");
    }
}

/// Text as an HTML page holds it (maud escapes these four).
fn html_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[test]
fn html_page_written_with_output_holds_every_setting_and_nothing_after_it() {
    let d = demo();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tune.html");
    let o = pgsage(&[
        "tune",
        "--snapshot",
        &d,
        "--format",
        "html",
        "-o",
        &file.display().to_string(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        o.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    // The demo has no sampled interval: the hint goes to standard error, not the page.
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("hint: collect with --interval"), "{err}");
    let page = std::fs::read_to_string(&file).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{}", &page[..100]);
    assert!(
        page.trim_end().ends_with("</html>"),
        "something after </html>"
    );
    assert!(!page.contains("hint:"));

    let json: serde_json::Value =
        serde_json::from_str(&ok(&["tune", "--snapshot", &d, "--format", "json"])).unwrap();
    for s in json["settings"].as_array().unwrap() {
        let name = s["name"].as_str().unwrap();
        assert!(page.contains(&format!("data-setting=\"{name}\"")), "{name}");
        assert!(
            page.contains(&html_text(s["recommended"].as_str().unwrap())),
            "{name}"
        );
    }
    let script = ok(&["tune", "--snapshot", &d, "--script"]);
    assert!(page.contains(&html_text(&script)), "the script, whole");
}

#[test]
fn output_writes_what_standard_output_gets() {
    let d = demo();
    let dir = tempfile::tempdir().unwrap();
    for extra in [
        &["--width", "100"][..],
        &["--format", "markdown"],
        &["--script"],
    ] {
        let file = dir.path().join("out");
        let file_s = file.display().to_string();
        let mut args = vec!["tune", "--snapshot", d.as_str()];
        args.extend_from_slice(extra);
        let printed = ok(&args);
        args.extend_from_slice(&["-o", &file_s]);
        assert_eq!(ok(&args), "", "{extra:?}: nothing on standard output");
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            printed,
            "{extra:?}"
        );
    }
}

#[test]
fn html_page_on_a_managed_platform_has_the_providers_commands() {
    let d = demo();
    let page = ok(&[
        "tune",
        "--snapshot",
        &d,
        "--platform",
        "azure-flexible-server",
        "--format",
        "html",
    ]);
    let json: serde_json::Value = serde_json::from_str(&ok(&[
        "tune",
        "--snapshot",
        &d,
        "--platform",
        "azure-flexible-server",
        "--format",
        "json",
    ]))
    .unwrap();
    let commands = json["platform"]["commands"].as_array().unwrap();
    assert!(!commands.is_empty());
    for c in commands {
        assert!(page.contains(&html_text(c.as_str().unwrap())), "{c}");
    }
    // The demo's fsync = off cannot be changed on Azure: the page says so.
    assert!(page.contains(">not allowed<"));
    for n in json["platform"]["not_allowed"].as_array().unwrap() {
        let name = n["name"].as_str().unwrap();
        assert!(
            page.contains(&format!("data-not-allowed=\"{name}\"")),
            "{name}"
        );
    }
}
