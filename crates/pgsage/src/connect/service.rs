//! Connection service files (libpq's `pg_service.conf`): `service=erp_prod` in the
//! connection string (or `PGSERVICE`) takes the keys of the `[erp_prod]` section.
//!
//! Where libpq looks, in order: `PGSERVICEFILE` (else `~/.pg_service.conf`), then
//! `PGSYSCONFDIR/pg_service.conf` (else the distributions' system files). The first file
//! holding the section wins. Its keys rank below the connection string's and above the
//! `PG*` variables', as in libpq; a password may be kept there (the file, like
//! `~/.pgpass`, should be readable by its owner only).
//!
//! ```text
//! # ~/.pg_service.conf
//! [erp_prod]
//! host=db1.example.com
//! dbname=erp
//! user=pgsage
//! sslmode=verify-full
//! ```

use std::path::{Path, PathBuf};

use super::dsn::Dsn;
use crate::{Error, Result};

/// The system-wide service files tried when `PGSYSCONFDIR` is unset: libpq's compiled-in
/// `sysconfdir` on Debian/Ubuntu, then on builds installed under `/etc` and `/usr/local`.
const SYSTEM_FILES: &[&str] = &[
    "/etc/postgresql-common/pg_service.conf",
    "/etc/pg_service.conf",
    "/usr/local/etc/pg_service.conf",
];

/// The files searched for a service, in order (those that do not exist are skipped).
pub fn files(env: &dyn Fn(&str) -> Option<String>) -> Vec<PathBuf> {
    let set = |name: &str| env(name).filter(|v| !v.is_empty());
    let mut files = Vec::new();
    match set("PGSERVICEFILE") {
        Some(file) => files.push(PathBuf::from(file)),
        None => {
            if let Some(home) = set("HOME") {
                files.push(Path::new(&home).join(".pg_service.conf"));
            }
        }
    }
    match set("PGSYSCONFDIR") {
        Some(dir) => files.push(Path::new(&dir).join("pg_service.conf")),
        None => files.extend(SYSTEM_FILES.iter().map(PathBuf::from)),
    }
    files
}

/// The keys of service `name`, from the first of `files` that defines it; the file too.
pub fn lookup(name: &str, files: &[PathBuf]) -> Result<(Dsn, PathBuf)> {
    for file in files {
        let text = match std::fs::read_to_string(file) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(Error::InvalidConnectOptions(format!(
                    "service file {}: {e}",
                    file.display()
                )))
            }
        };
        if let Some(dsn) = section(&text, name, file)? {
            return Ok((dsn, file.clone()));
        }
    }
    let searched: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    Err(Error::InvalidConnectOptions(format!(
        "service `{name}` not found (searched {}; PGSERVICEFILE and PGSYSCONFDIR choose the files)",
        searched.join(", ")
    )))
}

/// The keys of `[name]` in a service file's text, if it has that section. Lines are
/// `key=value` (the value is the rest of the line, unquoted) or `[section]`; blank lines
/// and lines starting with `#` are ignored.
fn section(text: &str, name: &str, file: &Path) -> Result<Option<Dsn>> {
    let mut dsn = None::<Dsn>;
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("service file {} line {}: ", file.display(), number + 1);
        if let Some(header) = line.strip_prefix('[') {
            let Some(section) = header.strip_suffix(']') else {
                return Err(Error::InvalidConnectOptions(format!(
                    "{at}a section header must end with `]`"
                )));
            };
            if dsn.is_some() {
                // The service's section ended.
                break;
            }
            if section.trim() == name {
                dsn = Some(Dsn::default());
            }
            continue;
        }
        let Some(current) = dsn.as_mut() else {
            continue;
        };
        let Some((key, value)) = line.split_once('=') else {
            // Not quoting the line: it may be half of a password.
            return Err(Error::InvalidConnectOptions(format!(
                "{at}expected `key=value`"
            )));
        };
        let key = key.trim();
        if key == "service" {
            return Err(Error::InvalidConnectOptions(format!(
                "{at}a service cannot name another service"
            )));
        }
        current.set(key, value.trim(), &at)?;
    }
    Ok(dsn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connect::Password;

    const FILE: &str = "\
# the estate
[erp_prod]
host=db1.example.com
port = 6432
dbname=erp
user=pgsage
password=s3cret with spaces

[erp_test]
host=db2
";

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).expect("write");
        path
    }

    #[test]
    fn reads_the_named_section_only() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = write(dir.path(), "svc.conf", FILE);
        let (dsn, from) = lookup("erp_prod", std::slice::from_ref(&file)).expect("found");
        assert_eq!(from, file);
        assert_eq!(dsn.host.as_deref(), Some("db1.example.com"));
        assert_eq!(dsn.port, Some(6432));
        assert_eq!(dsn.dbname.as_deref(), Some("erp"));
        assert_eq!(
            dsn.password.as_ref().map(Password::expose),
            Some("s3cret with spaces")
        );
        let (test, _) = lookup("erp_test", &[file]).expect("found");
        assert_eq!(test.host.as_deref(), Some("db2"));
        assert!(test.user.is_none());
    }

    #[test]
    fn the_first_file_with_the_service_wins_and_a_missing_one_is_named() {
        let dir = tempfile::tempdir().expect("tmp");
        let user = write(dir.path(), "user.conf", "[erp_test]\nhost=mine\n");
        let system = write(dir.path(), "system.conf", FILE);
        let missing = dir.path().join("absent.conf");
        let files = vec![missing, user.clone(), system.clone()];
        assert_eq!(
            lookup("erp_test", &files).expect("found").0.host.as_deref(),
            Some("mine")
        );
        assert_eq!(lookup("erp_prod", &files).expect("found").1, system);
        let err = lookup("nope", &files).expect_err("not found").to_string();
        assert!(
            err.contains("service `nope` not found") && err.contains("user.conf"),
            "{err}"
        );
    }

    #[test]
    fn errors_name_the_line_and_never_quote_it() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = write(dir.path(), "bad.conf", "[a]\nhost=h\nhunter2\n");
        let err = lookup("a", &[file]).expect_err("bad line").to_string();
        assert!(err.contains("line 3") && !err.contains("hunter2"), "{err}");
        let file = write(dir.path(), "nested.conf", "[a]\nservice=b\n");
        assert!(lookup("a", &[file])
            .expect_err("nested")
            .to_string()
            .contains("another service"));
        let file = write(dir.path(), "typo.conf", "[a]\nsslmod=require\n");
        assert!(lookup("a", &[file])
            .expect_err("typo")
            .to_string()
            .contains("sslmod"));
    }

    #[test]
    fn files_follow_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let f = files(&env(&[("HOME", "/home/a")]));
        assert_eq!(f[0], PathBuf::from("/home/a/.pg_service.conf"));
        assert_eq!(f[1], PathBuf::from(SYSTEM_FILES[0]));
        let f = files(&env(&[
            ("HOME", "/home/a"),
            ("PGSERVICEFILE", "/x.conf"),
            ("PGSYSCONFDIR", "/etc/pg"),
        ]));
        assert_eq!(
            f,
            vec![
                PathBuf::from("/x.conf"),
                PathBuf::from("/etc/pg/pg_service.conf")
            ]
        );
    }
}
