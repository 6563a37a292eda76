//! Starts a throwaway PostgreSQL server for tests written in other languages (the Python
//! package's pytest suite), prints how to reach it as one JSON line on stdout, and keeps
//! it alive until stdin closes; then stops it and removes its directory.
//!
//! ```sh
//! cargo run -q -p pgsage-testkit --example pg_server -- [MAJOR]
//! ```
//!
//! MAJOR defaults to the newest version whose binaries are found. The server has a
//! database `app` (with `pg_stat_statements`) and a `monitor` role (password `monitor`,
//! granted `pg_monitor`). The line is
//! `{"major": 17, "port": 5432, "dsn": "...", "url": "...", "monitor_dsn": "..."}`
//! (superuser `dsn`/`url` trusted from 127.0.0.1). SQL in the environment variable
//! `PGSAGE_PG_SERVER_SQL` is run in `app` as the superuser before the line is printed.
//! Errors go to stderr with exit code 2; 3 means no binaries were found for the
//! requested version.

use std::io::{Read, Write};
use std::process::ExitCode;

use pgsage_testkit::{available_majors, ServerOptions, TestServer};

/// SQL to run in `app` after setup.
const SETUP_SQL_ENV: &str = "PGSAGE_PG_SERVER_SQL";

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn main() -> ExitCode {
    let requested = std::env::args().nth(1);
    let major = match requested.as_deref().map(str::parse::<u32>) {
        Some(Ok(m)) => m,
        Some(Err(_)) => {
            eprintln!(
                "pg_server: `{}` is not a major version",
                requested.unwrap_or_default()
            );
            return ExitCode::from(2);
        }
        None => match available_majors().last() {
            Some(m) => *m,
            None => {
                eprintln!(
                    "pg_server: no PostgreSQL binaries found (run scripts/fetch-postgres.sh)"
                );
                return ExitCode::from(3);
            }
        },
    };
    if !available_majors().contains(&major) {
        eprintln!(
            "pg_server: no binaries for PostgreSQL {major} (run scripts/fetch-postgres.sh {major})"
        );
        return ExitCode::from(3);
    }
    let server = match TestServer::start(ServerOptions::new(major)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("pg_server: starting PostgreSQL {major}: {e}");
            return ExitCode::from(2);
        }
    };
    let setup = server
        .create_database("app")
        .and_then(|()| server.create_role("monitor", "monitor", &["pg_monitor"]))
        .and_then(|()| match std::env::var(SETUP_SQL_ENV) {
            Ok(sql) if !sql.trim().is_empty() => server.execute("app", &sql),
            _ => Ok(()),
        });
    if let Err(e) = setup {
        eprintln!("pg_server: setting up PostgreSQL {major}: {e}");
        return ExitCode::from(2);
    }
    let line = format!(
        "{{\"major\": {major}, \"port\": {}, \"dsn\": {}, \"url\": {}, \"monitor_dsn\": {}}}",
        server.port(),
        json_string(&server.dsn("app")),
        json_string(&server.url("app")),
        json_string(&server.dsn_as("monitor", "monitor", "app")),
    );
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{line}")
        .and_then(|()| stdout.flush())
        .is_err()
    {
        return ExitCode::from(2);
    }
    drop(stdout);
    // Wait for stdin to close (the test process ended or closed the pipe).
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    drop(server);
    ExitCode::SUCCESS
}
