//! The HTML pages (`--format html`) in a real browser: headless Chromium opens each page
//! the CLI wrote from its file:// URL (scripts/browser-check.py drives it over the DevTools
//! protocol). Every page: no console error or warning, no exception, no request (neither
//! with the page's Content-Security-Policy nor with it off), no dialog, and its buttons
//! run without error. The demo's audit page: every action and finding of the same
//! command's JSON is in the DOM, under its action, and the counts shown are the JSON's; its
//! screenshot is a real render. A snapshot captured from a real server with HTML and
//! script in its names (`testdata/snapshots/hostile.json`) renders them as text.
//!
//! Without Chromium the tests are skipped, and fail under `CI=true`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::browser::{self, assert_clean, matched, text};
use common::{pgsage, stderr, stdout};
use pgsage_testkit::scenario::repo_root;
use serde_json::Value;

fn testdata(path: &str) -> String {
    repo_root()
        .join("testdata")
        .join(path)
        .display()
        .to_string()
}

/// Runs `pgsage` with `args` plus `--format html` and writes the page to `page`; returns
/// the same command's `--format json` output.
fn page_and_json(page: &Path, args: &[&str], writes_output: bool) -> Value {
    let mut html_args: Vec<&str> = args.to_vec();
    html_args.extend(["--format", "html"]);
    let page_arg = page.display().to_string();
    if writes_output {
        html_args.extend(["-o", &page_arg]);
    }
    let out = pgsage(&html_args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    if !writes_output {
        std::fs::write(page, &out.stdout).expect("write page");
    }
    let mut json_args: Vec<&str> = args.to_vec();
    json_args.extend(["--format", "json"]);
    let out = pgsage(&json_args);
    // `--fail-on` is not given: a report with findings still exits 0.
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    serde_json::from_str(&stdout(&out)).expect("JSON output")
}

/// The page of each command, and what its text must hold (from the JSON).
struct Page {
    path: PathBuf,
    json: Value,
    expected_text: Vec<String>,
}

fn pages(dir: &Path) -> BTreeMap<&'static str, Page> {
    let demo = common::demo();
    let plan = testdata("plans/pg17/row_misestimate.json");
    let log = testdata("logs/pg17/default.log");
    let indexed = testdata("fixtures/indexing/missing_index.json");
    let commands: [(&str, Vec<&str>, bool); 5] = [
        ("audit", vec!["audit", "--snapshot", &demo], true),
        ("tune", vec!["tune", "--snapshot", &demo], false),
        ("plan", vec!["plan", &plan], false),
        ("workload", vec!["workload", &log], true),
        ("indexes", vec!["indexes", "--snapshot", &indexed], true),
    ];
    let mut pages = BTreeMap::new();
    for (name, args, writes_output) in commands {
        let path = dir.join(format!("{name}.html"));
        let json = page_and_json(&path, &args, writes_output);
        let strings = |v: &Value, pointer: &str, field: &str| -> Vec<String> {
            v.pointer(pointer)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x[field].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let expected_text = match name {
            "tune" => strings(&json, "/settings", "name"),
            "plan" => json
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|r| strings(r, "/findings", "rule"))
                .collect(),
            "workload" => strings(&json, "/workload/queries", "fingerprint"),
            "indexes" => strings(&json, "/recommendations", "table"),
            _ => Vec::new(),
        };
        if name != "audit" {
            assert!(
                !expected_text.is_empty(),
                "{name}: the JSON gives nothing to look for on the page"
            );
        }
        pages.insert(
            name,
            Page {
                path,
                json,
                expected_text,
            },
        );
    }
    pages
}

/// A page with nothing on it: what an empty render's screenshot weighs.
fn blank_page(dir: &Path) -> PathBuf {
    let path = dir.join("blank.html");
    std::fs::write(&path, "<!DOCTYPE html><title>blank</title>").expect("blank page");
    path
}

#[test]
fn every_page_in_a_browser() {
    if !browser::available() {
        return;
    }
    let dir = browser::output_dir("pages");
    let pages = pages(&dir);
    let audit = &pages["audit"];
    let actions = audit.json["actions"].as_array().expect("actions");
    // One selector per action: the findings shown under it.
    let under_action: Vec<String> = actions
        .iter()
        .map(|a| {
            let id = a["id"].as_str().expect("action id");
            format!("[id=\"action-{id}\"] [data-finding]")
        })
        .collect();
    let mut options = vec![
        "--screenshot-dir",
        dir.to_str().expect("UTF-8 path"),
        "--query",
        "[id]",
        "--query",
        "[data-count]",
        "--query",
        "[data-action]",
    ];
    for q in &under_action {
        options.extend(["--query", q]);
    }
    let mut paths: Vec<PathBuf> = pages.values().map(|p| p.path.clone()).collect();
    paths.push(blank_page(&dir));
    let seen = browser::check(&paths, &options);
    let by_page: BTreeMap<&str, &Value> = pages
        .keys()
        .copied()
        .zip(seen.iter())
        .collect::<BTreeMap<_, _>>();

    for (name, page) in &pages {
        let s = by_page[name];
        assert_clean(s);
        let text = text(s);
        for expected in &page.expected_text {
            assert!(
                text.contains(expected.as_str()),
                "{name}: `{expected}` from the JSON is not on the page"
            );
        }
    }

    let s = by_page["audit"];
    // Every action and every finding of the JSON has its element, and nothing else does.
    let ids: BTreeSet<&str> = matched(s, "[id]")
        .iter()
        .filter_map(|e| e["attrs"]["id"].as_str())
        .collect();
    let action_ids: BTreeSet<String> = actions
        .iter()
        .map(|a| format!("action-{}", a["id"].as_str().expect("id")))
        .collect();
    let finding_count = audit.json["findings"].as_array().expect("findings").len();
    let finding_ids: BTreeSet<String> =
        (0..finding_count).map(|i| format!("finding-{i}")).collect();
    let on_page = |prefix: &str| -> BTreeSet<String> {
        ids.iter()
            .filter(|id| id.starts_with(prefix))
            .map(|id| id.to_string())
            .collect()
    };
    assert_eq!(on_page("action-"), action_ids, "the actions on the page");
    assert_eq!(on_page("finding-"), finding_ids, "the findings on the page");
    assert!(
        !action_ids.is_empty() && finding_count > 0,
        "the demo has findings"
    );

    // Each action's rank, and the findings shown under it, are the JSON's.
    let ranks: BTreeMap<String, String> = matched(s, "[data-action]")
        .iter()
        .map(|e| {
            (
                e["attrs"]["data-action"].as_str().unwrap_or("").to_owned(),
                e["attrs"]["data-rank"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    for (a, selector) in actions.iter().zip(&under_action) {
        let id = a["id"].as_str().expect("id");
        assert_eq!(
            ranks.get(id).map(String::as_str),
            Some(a["rank"].to_string().as_str()),
            "rank of {id}"
        );
        let shown: BTreeSet<String> = matched(s, selector)
            .iter()
            .filter_map(|e| e["attrs"]["data-finding"].as_str().map(str::to_owned))
            .collect();
        let expected: BTreeSet<String> = a["findings"]
            .as_array()
            .expect("action findings")
            .iter()
            .map(Value::to_string)
            .collect();
        assert_eq!(shown, expected, "findings under action {id}");
    }

    // The counts shown are the JSON summary's.
    let counts: BTreeMap<&str, &str> = matched(s, "[data-count]")
        .iter()
        .filter_map(|e| Some((e["attrs"]["data-count"].as_str()?, e["text"].as_str()?)))
        .collect();
    for severity in ["critical", "warning", "info"] {
        let shown = counts
            .get(severity)
            .unwrap_or_else(|| panic!("no {severity} count on the page"));
        let number: String = shown.chars().take_while(char::is_ascii_digit).collect();
        assert_eq!(
            number,
            audit.json["summary"][severity].to_string(),
            "{severity} count: `{shown}`"
        );
    }

    // The screenshot is a real render: a page's width, taller than a screen, many colours
    // with no single one covering it, and far heavier than a blank page's.
    let shot = &s["screenshot"];
    let blank = &seen.last().expect("blank page")["screenshot"];
    let number = |v: &Value, k: &str| v[k].as_f64().unwrap_or_else(|| panic!("{k}: {v}"));
    assert!(number(shot, "width") >= 1000.0, "{shot}");
    assert!(number(shot, "height") > 2000.0, "{shot}");
    assert!(
        number(shot, "bytes") > 20.0 * number(blank, "bytes"),
        "demo {shot} against blank {blank}"
    );
    assert!(number(shot, "colours") > 100.0, "{shot}");
    assert!(number(shot, "most_common_colour_share") < 0.9, "{shot}");
    assert_eq!(
        number(blank, "colours"),
        1.0,
        "the blank page is one colour: {blank}"
    );
    eprintln!("screenshot of the demo: {}", shot["path"]);

    // With the Content-Security-Policy off nothing is requested either (the page refers to
    // nothing outside itself), and every button runs without error.
    let again = browser::check(
        &paths[..pages.len()],
        &[
            "--bypass-csp",
            "--click",
            "button.show-all",
            "--click",
            "button.copy",
        ],
    );
    for s in &again {
        assert_clean(s);
    }
}

/// What the hostile snapshot's names and texts hold (crates/pgsage/tests/hostile_capture.rs):
/// the table, the role and an application are named by the first, the key column, an
/// index and the other application by the second, the other column and index by the
/// third; the query texts hold them too.
const HOSTILE: &[&str] = &[
    "<script>alert(1)</script>",
    "\"><img src=x onerror=alert(1)>",
    "&amp; 'single' \"double\"",
];

/// The captured sessions are seconds old: these thresholds let the report name them (their
/// role, application and query text).
const HOSTILE_CONFIG: &str = "\
[audit]
min_stats_age_hours = 0
[rules.CON004.params]
min_age_seconds = 1
[rules.CON005.params]
min_age_seconds = 1
";

/// Whether any string in `v` contains `needle`.
fn holds(v: &Value, needle: &str) -> bool {
    match v {
        Value::String(s) => s.contains(needle),
        Value::Array(a) => a.iter().any(|x| holds(x, needle)),
        Value::Object(o) => o.values().any(|x| holds(x, needle)),
        _ => false,
    }
}

#[test]
fn hostile_names_are_text() {
    if !browser::available() {
        return;
    }
    let dir = browser::output_dir("hostile");
    let snapshot = testdata("snapshots/hostile.json");
    let path = dir.join("hostile.html");
    let config = dir.join("pgsage.toml");
    std::fs::write(&config, HOSTILE_CONFIG).expect("config");
    let config = config.display().to_string();
    let json = page_and_json(
        &path,
        &["audit", "--snapshot", &snapshot, "--config", &config],
        true,
    );
    // The report holds them (so the page must show them)...
    for h in HOSTILE {
        assert!(holds(&json, h), "the hostile report does not hold `{h}`");
    }
    for options in [&[][..], &["--bypass-csp"][..]] {
        let mut options = options.to_vec();
        options.extend([
            "--query",
            "img",
            "--query",
            "script",
            "--query",
            "[onerror]",
        ]);
        let seen = browser::check(std::slice::from_ref(&path), &options);
        let s = &seen[0];
        assert_clean(s);
        // No message at all: an alert() reaching the console is already too much.
        let console = s["console"].as_array().expect("console");
        assert!(console.is_empty(), "console: {console:#?}");
        assert!(matched(s, "img").is_empty(), "an <img> in the DOM");
        assert!(
            matched(s, "[onerror]").is_empty(),
            "an onerror attribute in the DOM"
        );
        // The page's own script, nothing else.
        assert_eq!(
            matched(s, "script").len(),
            1,
            "scripts: {:#?}",
            matched(s, "script")
        );
        // ...as text.
        let text = text(s);
        for h in HOSTILE {
            assert!(text.contains(h), "`{h}` is not on the page as text");
        }
    }
}
