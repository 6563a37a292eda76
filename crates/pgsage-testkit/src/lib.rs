//! Test support for pgsage: throwaway **real** PostgreSQL servers, no mocks.
//!
//! ```no_run
//! use pgsage_testkit::{require_server, test_majors};
//!
//! for major in test_majors() {
//!     // None (with a SKIP line) when the binaries are missing on a dev machine;
//!     // a panic under CI, where every version must be tested.
//!     let Some(server) = require_server(major) else { continue };
//!     server.create_database("app").unwrap();
//!     server.execute("app", "CREATE TABLE t (id int)").unwrap();
//!     let n = server.query_scalar_i64("app", "SELECT count(*) FROM t").unwrap();
//!     assert_eq!(n, 0);
//! } // dropping the server stops it and deletes its directory
//! ```
//!
//! Binaries are looked up per major (see [`bin_dir`]): `/usr/lib/postgresql/<major>/bin`
//! first, then the cache filled by `scripts/fetch-postgres.sh`. See `docs/testing.md`.
//! When the tests run as root, servers run as the OS user [`SERVER_OS_USER`], created
//! on first use.
#![deny(missing_docs)]

mod binaries;
pub mod cloud_logging;
pub mod demo;
mod error;
pub mod modules;
pub mod platforms;
pub mod scenario;
mod server;
mod silent;
mod standby;
mod user;

use std::time::{Duration, Instant};

pub use binaries::{available_majors, bin_dir, CACHE_ENV, SUPPORTED_MAJORS};
pub use error::TestkitError;
pub use server::{
    quote_ident, quote_literal, ServerOptions, TestServer, HOST, NO_TEMPLATE_ENV, SCRATCH_ENV,
    SUPERUSER,
};
pub use silent::SilentServer;
pub use standby::{Standby, StandbyOptions};
pub use user::SERVER_OS_USER;

/// Set to `1` to make [`require_server`] panic instead of skipping when binaries are
/// missing (also implied by `CI=true`).
pub const REQUIRE_ALL_ENV: &str = "PGSAGE_REQUIRE_ALL_VERSIONS";

/// Comma-separated majors that [`test_majors`] limits itself to, e.g. `15,17`.
pub const TEST_MAJORS_ENV: &str = "PGSAGE_TEST_MAJORS";

/// Polls `f` until it returns true or `timeout` passes; returns whether it did.
///
/// Polls immediately, then with a short, growing pause (5 ms up to 100 ms).
pub fn wait_until(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(5);
    loop {
        if f() {
            return true;
        }
        let now = Instant::now();
        if now >= deadline {
            return false;
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(100));
    }
}

/// The majors tests should iterate over: [`SUPPORTED_MAJORS`], or the list in
/// `PGSAGE_TEST_MAJORS` (e.g. `15,17`) when set. Pair with [`require_server`], which
/// skips or panics for majors whose binaries are missing.
pub fn test_majors() -> Vec<u32> {
    match std::env::var(TEST_MAJORS_ENV) {
        Ok(list) if !list.trim().is_empty() => list
            .split([',', ' '])
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("{TEST_MAJORS_ENV}: `{s}` is not a major version"))
            })
            .collect(),
        _ => SUPPORTED_MAJORS.to_vec(),
    }
}

/// Whether missing binaries must fail the test rather than skip it: under CI
/// (`CI=true`/`CI=1`) or with `PGSAGE_REQUIRE_ALL_VERSIONS=1`.
pub fn require_all_versions() -> bool {
    let truthy = |var: &str| {
        std::env::var(var)
            .map(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
            .unwrap_or(false)
    };
    truthy("CI") || truthy(REQUIRE_ALL_ENV)
}

/// Starts a default server of `major` (see [`require_server_with`]).
pub fn require_server(major: u32) -> Option<TestServer> {
    require_server_with(ServerOptions::new(major))
}

/// Starts a server, or skips when its binaries are missing.
///
/// - binaries present: returns the server; panics (with the server log) if it fails
///   to start;
/// - binaries missing and [`require_all_versions`] (CI): panics, naming
///   `scripts/fetch-postgres.sh`;
/// - binaries missing otherwise: prints a `SKIP` line to stderr and returns `None`.
pub fn require_server_with(opts: ServerOptions) -> Option<TestServer> {
    let major = opts.major;
    if bin_dir(major).is_none() {
        let err = binaries::not_found(major);
        if require_all_versions() {
            panic!("PostgreSQL {major} is required (CI or {REQUIRE_ALL_ENV}=1) but missing: {err}");
        }
        eprintln!("SKIP: {err}");
        return None;
    }
    match TestServer::start(opts) {
        Ok(server) => Some(server),
        Err(e) => panic!("starting a PostgreSQL {major} test server failed: {e}"),
    }
}
