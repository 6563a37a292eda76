//! Running servers as an unprivileged OS user when the tests run as root.
//!
//! `initdb` and `postgres` refuse to run as root. When the test process is root (CI
//! containers, this project's dev machines) the testkit creates, once, a system user
//! `pgsage-test` and runs `initdb`/`pg_ctl` under its uid/gid.

use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use crate::TestkitError;

/// The OS user servers run as when the tests run as root.
pub const SERVER_OS_USER: &str = "pgsage-test";

/// Identity a server runs as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RunAs {
    pub uid: u32,
    pub gid: u32,
}

impl RunAs {
    pub(crate) fn apply(self, cmd: &mut Command) {
        // std drops supplementary groups (setgroups(0)) when root sets a uid.
        cmd.uid(self.uid).gid(self.gid);
    }

    pub(crate) fn chown(self, path: &Path) -> Result<(), TestkitError> {
        std::os::unix::fs::chown(path, Some(self.uid), Some(self.gid))
            .map_err(|e| TestkitError::io(format!("chown {}", path.display()), e))
    }
}

/// `None` when not root (servers run as the current user), else the `pgsage-test` ids.
pub(crate) fn run_as() -> Result<Option<RunAs>, TestkitError> {
    static CELL: OnceLock<Result<Option<RunAs>, String>> = OnceLock::new();
    CELL.get_or_init(|| {
        if !is_root() {
            return Ok(None);
        }
        ensure_user().map(Some)
    })
    .clone()
    .map_err(|message| TestkitError::User {
        user: SERVER_OS_USER.to_string(),
        message,
    })
}

fn is_root() -> bool {
    // /proc/self resolves to /proc/<pid>, owned by the process's effective uid.
    match std::fs::metadata("/proc/self") {
        Ok(m) => m.uid() == 0,
        Err(_) => Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false),
    }
}

fn lookup() -> Option<RunAs> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut f = line.split(':');
        if f.next()? != SERVER_OS_USER {
            return None;
        }
        let _password = f.next()?;
        let uid = f.next()?.parse().ok()?;
        let gid = f.next()?.parse().ok()?;
        Some(RunAs { uid, gid })
    })
}

fn ensure_user() -> Result<RunAs, String> {
    let mut last_error = String::new();
    // Several test processes may race to create the user; useradd locks /etc/passwd
    // and fails (rather than waits) when another holds the lock, so retry briefly.
    for attempt in 0..20u64 {
        if let Some(ids) = lookup() {
            return Ok(ids);
        }
        let out = Command::new("useradd")
            .args([
                "--system",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                "--user-group",
                SERVER_OS_USER,
            ])
            .output()
            .map_err(|e| format!("running useradd: {e}"))?;
        if out.status.success() {
            continue;
        }
        last_error = format!(
            "useradd exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
        std::thread::sleep(Duration::from_millis(50 + 25 * attempt));
    }
    lookup().ok_or(last_error)
}

/// Checks that every directory leading to `path` is traversable by others, so the
/// unprivileged server user can reach binaries and libraries under it.
pub(crate) fn check_traversable(path: &Path) -> Result<(), TestkitError> {
    for dir in path.ancestors() {
        if dir.as_os_str().is_empty() {
            continue;
        }
        let meta = std::fs::metadata(dir)
            .map_err(|e| TestkitError::io(format!("stat {}", dir.display()), e))?;
        if meta.is_dir() && meta.mode() & 0o001 == 0 {
            return Err(TestkitError::User {
                user: SERVER_OS_USER.to_string(),
                message: format!(
                    "{} is not searchable by other users, so the server (running as \
                     {SERVER_OS_USER}) cannot reach {}; `chmod o+x` it or set \
                     PGSAGE_PG_CACHE to a world-readable location",
                    dir.display(),
                    path.display()
                ),
            });
        }
    }
    Ok(())
}
