//! Helpers shared by the CLI's end-to-end tests: run the built `pgsage` binary in a
//! clean environment, and find the bundled demo snapshot.

#![allow(dead_code)] // each test file uses a subset

pub mod browser;

use std::process::{Command, Output};

use pgsage_testkit::scenario::repo_root;

/// Runs `pgsage` with `args`, without colour and without libpq target variables.
pub fn pgsage(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pgsage"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("PGHOST")
        .env_remove("PGDATABASE")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("run pgsage")
}

/// Path of `testdata/snapshots/demo.json`.
pub fn demo() -> String {
    repo_root()
        .join("testdata/snapshots/demo.json")
        .display()
        .to_string()
}

/// Standard output as text.
pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs `pgsage` like [`pgsage`], with `input` on its standard input.
pub fn pgsage_with_stdin(args: &[&str], input: &[u8]) -> Output {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_pgsage"))
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("PGHOST")
        .env_remove("PGDATABASE")
        .current_dir(std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run pgsage");
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(input).expect("write stdin");
    }
    child.wait_with_output().expect("wait for pgsage")
}
