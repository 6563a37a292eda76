//! Opens pages in headless Chromium through `scripts/browser-check.py` (DevTools protocol
//! on a pipe) and hands back what the browser saw: console messages, requests, dialogs,
//! the DOM, screenshots.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use pgsage_testkit::scenario::repo_root;
use serde_json::Value;

/// The whole check (browser start, every page, screenshots) must end within this; a hung
/// browser fails the test instead of hanging CI. The script also times out each step.
const CHECK_DEADLINE: Duration = Duration::from_secs(90);

/// Where the pages and screenshots of the browser tests go (under `target/`, out of the
/// repository).
pub fn output_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("html-browser")
        .join(name);
    std::fs::create_dir_all(&dir).expect("output directory");
    dir
}

fn on_path(program: &str) -> bool {
    if program.contains('/') {
        return Path::new(program).is_file();
    }
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(program).is_file()))
}

/// The browser to use: `$PGSAGE_CHROMIUM`, else `chromium` on the PATH.
fn chromium() -> String {
    std::env::var("PGSAGE_CHROMIUM").unwrap_or_else(|_| "chromium".into())
}

/// Whether the browser and Python are here. Without them the test is skipped on a
/// developer's machine and fails under `CI=true` (`.ci/run` installs Chromium).
pub fn available() -> bool {
    let missing: Vec<String> = [chromium(), "python3".into()]
        .into_iter()
        .filter(|p| !on_path(p))
        .collect();
    if missing.is_empty() {
        return true;
    }
    let what = format!(
        "the browser tests need {} (apt-get install chromium; .ci/run installs it)",
        missing.join(" and ")
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{what}");
    }
    eprintln!("SKIP: {what}");
    false
}

/// Runs the check on `pages` with the script's `options` (`--query`, `--click`,
/// `--screenshot-dir`, `--bypass-csp`); the report of each page, in order.
pub fn check(pages: &[PathBuf], options: &[&str]) -> Vec<Value> {
    let script = repo_root().join("scripts/browser-check.py");
    let mut child = Command::new("python3")
        .arg(script)
        .args(["--chromium", &chromium(), "--timeout", "20"])
        .args(options)
        .args(pages)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start scripts/browser-check.py");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    // Read while it runs: a large report would otherwise fill the pipe and block it.
    let out = std::thread::spawn(move || {
        let mut s = Vec::new();
        stdout.read_to_end(&mut s).map(|_| s)
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        stderr.read_to_string(&mut s).map(|_| s)
    });
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the browser check") {
            break status;
        }
        if started.elapsed() > CHECK_DEADLINE {
            // The script's Chromium dies with it (PR_SET_PDEATHSIG).
            child.kill().ok();
            child.wait().ok();
            panic!(
                "the browser check did not end in {} s",
                CHECK_DEADLINE.as_secs()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = out.join().expect("stdout reader").expect("read stdout");
    let err = err.join().expect("stderr reader").expect("read stderr");
    assert!(
        status.success(),
        "the browser check failed ({status}):\n{err}"
    );
    let report: Value = serde_json::from_slice(&out).expect("the browser check's JSON");
    let pages_seen = report["pages"].as_array().expect("pages").clone();
    assert_eq!(pages_seen.len(), pages.len(), "one report per page");
    pages_seen
}

/// The console messages at warning or error level, and the uncaught exceptions.
pub fn console_problems(page: &Value) -> Vec<&Value> {
    page["console"]
        .as_array()
        .expect("console")
        .iter()
        .filter(|m| {
            matches!(
                m["level"].as_str(),
                Some("error" | "warning" | "warn" | "assert")
            ) || m["source"] == "exception"
        })
        .collect()
}

/// Asserts what every page must do in a browser: no console error or warning, no
/// exception, no request, no dialog.
pub fn assert_clean(page: &Value) {
    let name = page["page"].as_str().unwrap_or("?");
    let problems = console_problems(page);
    assert!(problems.is_empty(), "{name}: console: {problems:#?}");
    let requests = page["requests"].as_array().expect("requests");
    assert!(requests.is_empty(), "{name}: requests: {requests:#?}");
    let dialogs = page["dialogs"].as_array().expect("dialogs");
    assert!(dialogs.is_empty(), "{name}: dialogs: {dialogs:#?}");
}

/// The elements a `--query` selector matched.
pub fn matched<'a>(page: &'a Value, selector: &str) -> &'a [Value] {
    page["queries"][selector]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_else(|| panic!("no result for --query {selector}"))
}

/// The body's text as the DOM holds it (hidden parts included).
pub fn text(page: &Value) -> &str {
    page["text"].as_str().expect("text")
}
