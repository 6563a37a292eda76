//! The libpq environment and defaults: turning [`ConnectOptions`] into complete
//! [`ConnectParams`].
//!
//! Precedence, per setting: the connection string, then the `PG*` variable, then the
//! default. The environment is read through a lookup function so tests never touch the
//! process environment.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::dsn::{ChannelBinding, Dsn};
use super::pgpass::{self, PassFile};
use super::service;
use super::tls::{RootCert, SslMode};
use super::{ConnectOptions, ConnectParams, PasswordSource, Target};
use crate::{Error, Result};

/// The socket directory used when no host is given, if it exists (Debian and Red Hat
/// builds of libpq use it; upstream's is `/tmp`).
pub const DEFAULT_SOCKET_DIR: &str = "/var/run/postgresql";

/// The port used when none is given.
pub const DEFAULT_PORT: u16 = 5432;

/// The environment variables read, with the connection-string key each one fills.
pub const ENV_VARS: &[(&str, &str)] = &[
    ("PGHOST", "host"),
    ("PGHOSTADDR", "hostaddr"),
    ("PGPORT", "port"),
    ("PGDATABASE", "dbname"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGPASSFILE", "passfile"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGAPPNAME", "application_name"),
    ("PGCONNECT_TIMEOUT", "connect_timeout"),
    ("PGCHANNELBINDING", "channel_binding"),
    ("PGOPTIONS", "options"),
    ("PGSERVICE", "service"),
];

/// What the `PG*` variables set. Empty variables count as unset.
pub fn dsn_from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<Dsn> {
    let mut dsn = Dsn::default();
    for (var, key) in ENV_VARS {
        if let Some(value) = env(var).filter(|v| !v.is_empty()) {
            dsn.set(key, &value, &format!("{var}: "))?;
        }
    }
    Ok(dsn)
}

/// Resolves `options` against the process environment, `~/.pgpass` and the defaults.
pub fn resolve(options: &ConnectOptions) -> Result<ConnectParams> {
    resolve_with_env(options, |name| std::env::var(name).ok())
}

/// Resolves `options` with `env` standing in for the process environment (`PG*`
/// variables, plus `HOME` for `~/.pgpass` and `~/.postgresql/root.crt`, and
/// `USER`/`LOGNAME` for the default user).
pub fn resolve_with_env(
    options: &ConnectOptions,
    env: impl Fn(&str) -> Option<String>,
) -> Result<ConnectParams> {
    resolve_inner(options, &env, Path::new(DEFAULT_SOCKET_DIR).is_dir())
}

pub(crate) fn resolve_inner(
    options: &ConnectOptions,
    env: &dyn Fn(&str) -> Option<String>,
    default_socket_dir_exists: bool,
) -> Result<ConnectParams> {
    let given = match &options.dsn {
        Some(s) => Dsn::parse(s)?,
        None => Dsn::default(),
    };
    let from_env = dsn_from_env(env)?;
    // libpq: a service's keys rank below the connection string's, above the variables'.
    let service = match given.service.as_ref().or(from_env.service.as_ref()) {
        Some(name) => Some(service::lookup(name, &service::files(env))?),
        None => None,
    };
    let mut password_source = if given.password.is_some() {
        Some(PasswordSource::ConnectionString)
    } else if let Some((_, file)) = service.as_ref().filter(|(d, _)| d.password.is_some()) {
        Some(PasswordSource::ServiceFile(file.clone()))
    } else if from_env.password.is_some() {
        Some(PasswordSource::Environment)
    } else {
        None
    };
    let d = match service {
        Some((from_service, _)) => given.or(from_service).or(from_env),
        None => given.or(from_env),
    };
    let mut notes = Vec::new();

    let hostaddr: Option<IpAddr> = d.hostaddr;
    let host = match (d.host, hostaddr) {
        (Some(h), _) => h,
        // Without a host name, TLS (and the report) use the address.
        (None, Some(addr)) => addr.to_string(),
        (None, None) if default_socket_dir_exists => DEFAULT_SOCKET_DIR.to_owned(),
        (None, None) => "localhost".to_owned(),
    };
    let unix_socket = hostaddr.is_none() && host.starts_with('/');
    let port = d.port.unwrap_or(DEFAULT_PORT);
    let user = d
        .user
        .or_else(|| env("USER").filter(|u| !u.is_empty()))
        .or_else(|| env("LOGNAME").filter(|u| !u.is_empty()))
        .ok_or_else(|| {
            Error::InvalidConnectOptions(
                "no user name: set `user` in the connection string or PGUSER".into(),
            )
        })?;
    let database = d.dbname.unwrap_or_else(|| user.clone());

    let home = env("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
    let mut password = d.password;
    if password.is_none() {
        let file = d
            .passfile
            .or_else(|| home.as_ref().map(|h| h.join(".pgpass")));
        if let Some(file) = file {
            match pgpass::read(&file) {
                PassFile::Missing => {}
                PassFile::Ignored(note) => notes.push(note),
                PassFile::Contents(text) => {
                    let lookup = pgpass::Lookup {
                        host: pgpass_host(&host, unix_socket),
                        port: &port.to_string(),
                        database: &database,
                        user: &user,
                    };
                    if let Some(found) = pgpass::find(&text, lookup) {
                        password = Some(super::Password::new(found));
                        password_source = Some(PasswordSource::PassFile(file));
                    }
                }
            }
        }
    }

    // libpq: with no sslrootcert, ~/.postgresql/root.crt is used when it exists.
    let sslrootcert = d.sslrootcert.or_else(|| {
        let default = home.as_ref()?.join(".postgresql").join("root.crt");
        default.is_file().then_some(RootCert::File(default))
    });
    let mut sslmode = match (&sslrootcert, d.sslmode) {
        // libpq 16+: the system store only makes sense with full verification.
        (Some(RootCert::System), None) => SslMode::VerifyFull,
        (Some(RootCert::System), Some(mode)) if mode != SslMode::VerifyFull => {
            return Err(Error::InvalidConnectOptions(format!(
                "sslrootcert=system requires sslmode=verify-full, not `{mode}`"
            )))
        }
        (_, mode) => mode.unwrap_or_default(),
    };
    if unix_socket && sslmode != SslMode::Disable {
        // The server never offers TLS on Unix sockets; libpq ignores sslmode there.
        if matches!(
            sslmode,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull
        ) {
            notes.push(format!(
                "sslmode={sslmode} ignored: {host} is a Unix-domain socket, which is local and never encrypted"
            ));
        }
        sslmode = SslMode::Disable;
    }

    let application_name = d
        .application_name
        .or(d.fallback_application_name)
        .unwrap_or_else(|| options.application_name.clone());
    let connect_timeout = d.connect_timeout.unwrap_or(options.connect_timeout);

    Ok(ConnectParams {
        target: Target {
            host,
            port,
            database,
            user,
        },
        hostaddr,
        password,
        password_source,
        sslmode,
        sslrootcert,
        channel_binding: d.channel_binding.unwrap_or(ChannelBinding::Prefer),
        options: d.options,
        application_name,
        connect_timeout: (!connect_timeout.is_zero()).then_some(connect_timeout),
        statement_timeout: options.statement_timeout,
        lock_timeout: options.lock_timeout,
        idle_in_transaction_timeout: options.idle_in_transaction_timeout,
        notes,
        tls_cache: Default::default(),
    })
}

/// The host name a `.pgpass` line must carry: libpq uses `localhost` for the default
/// socket directory.
fn pgpass_host(host: &str, unix_socket: bool) -> &str {
    if unix_socket && matches!(host, DEFAULT_SOCKET_DIR | "/run/postgresql" | "/tmp") {
        "localhost"
    } else {
        host
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::time::Duration;

    use super::*;
    use crate::connect::Password;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn resolve(dsn: Option<&str>, env: &[(&str, &str)]) -> ConnectParams {
        let options = ConnectOptions {
            dsn: dsn.map(str::to_owned),
            ..Default::default()
        };
        match resolve_inner(&options, &env_of(env), false) {
            Ok(p) => p,
            Err(e) => panic!("resolving {dsn:?}: {e}"),
        }
    }

    fn resolve_err(dsn: Option<&str>, env: &[(&str, &str)]) -> String {
        let options = ConnectOptions {
            dsn: dsn.map(str::to_owned),
            ..Default::default()
        };
        match resolve_inner(&options, &env_of(env), false) {
            Ok(p) => panic!("resolving {dsn:?} should fail, got {p:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn defaults() {
        let p = resolve(None, &[("USER", "alice")]);
        assert_eq!(
            p.target,
            Target {
                host: "localhost".into(),
                port: 5432,
                database: "alice".into(),
                user: "alice".into()
            }
        );
        assert_eq!(p.sslmode, SslMode::Prefer);
        assert_eq!(p.application_name, "pgsage");
        assert_eq!(p.connect_timeout, Some(Duration::from_secs(10)));
        assert!(p.password.is_none() && p.password_source.is_none());
        assert_eq!(p.channel_binding, ChannelBinding::Prefer);
    }

    #[test]
    fn default_host_is_the_socket_directory_when_it_exists() {
        let options = ConnectOptions::default();
        let p = resolve_inner(&options, &env_of(&[("USER", "alice")]), true).expect("resolve");
        assert_eq!(p.target.host, DEFAULT_SOCKET_DIR);
        // No TLS over a Unix socket.
        assert_eq!(p.sslmode, SslMode::Disable);
    }

    #[test]
    fn no_user_anywhere_is_an_error() {
        assert!(resolve_err(None, &[]).contains("PGUSER"));
        assert_eq!(resolve(None, &[("LOGNAME", "lg")]).target.user, "lg");
    }

    #[test]
    fn env_fills_what_the_dsn_leaves_unset() {
        let env = [
            ("PGHOST", "envhost"),
            ("PGPORT", "6000"),
            ("PGUSER", "envuser"),
            ("PGPASSWORD", "envpw"),
            ("PGDATABASE", "envdb"),
            ("PGSSLMODE", "require"),
            ("PGAPPNAME", "envapp"),
            ("PGCONNECT_TIMEOUT", "3"),
            ("USER", "osuser"),
        ];
        let p = resolve(None, &env);
        assert_eq!(p.target.to_string(), "envuser@envhost:6000/envdb");
        assert_eq!(p.password.as_ref().map(Password::expose), Some("envpw"));
        assert_eq!(p.password_source, Some(PasswordSource::Environment));
        assert_eq!(p.sslmode, SslMode::Require);
        assert_eq!(p.application_name, "envapp");
        assert_eq!(p.connect_timeout, Some(Duration::from_secs(3)));

        let p = resolve(
            Some(
                "host=h user=u password=dsnpw sslmode=disable connect_timeout=0 application_name=a",
            ),
            &env,
        );
        assert_eq!(p.target.to_string(), "u@h:6000/envdb");
        assert_eq!(p.password.as_ref().map(Password::expose), Some("dsnpw"));
        assert_eq!(p.password_source, Some(PasswordSource::ConnectionString));
        assert_eq!(p.sslmode, SslMode::Disable);
        assert_eq!(p.application_name, "a");
        // connect_timeout=0: no limit, as in libpq.
        assert_eq!(p.connect_timeout, None);
    }

    #[test]
    fn empty_env_values_are_unset_and_bad_ones_name_the_variable() {
        let p = resolve(None, &[("PGHOST", ""), ("USER", "u")]);
        assert_eq!(p.target.host, "localhost");
        let e = resolve_err(None, &[("PGPORT", "fivefour"), ("USER", "u")]);
        assert!(e.contains("PGPORT: invalid port `fivefour`"), "{e}");
        let e = resolve_err(None, &[("PGSSLMODE", "on"), ("USER", "u")]);
        assert!(e.contains("PGSSLMODE"), "{e}");
    }

    #[test]
    fn application_name_precedence() {
        let p = resolve(Some("fallback_application_name=fb"), &[("USER", "u")]);
        assert_eq!(p.application_name, "fb");
        let p = resolve(
            Some("fallback_application_name=fb"),
            &[("USER", "u"), ("PGAPPNAME", "env")],
        );
        assert_eq!(p.application_name, "env");
    }

    #[test]
    fn hostaddr_without_host_is_used_as_host() {
        let p = resolve(Some("hostaddr=10.0.0.5"), &[("USER", "u")]);
        assert_eq!(p.target.host, "10.0.0.5");
        assert_eq!(p.hostaddr, Some(IpAddr::from([10, 0, 0, 5])));
    }

    #[test]
    fn unix_socket_host_disables_tls_with_a_note_when_tls_was_demanded() {
        let p = resolve(Some("host=/tmp sslmode=require"), &[("USER", "u")]);
        assert_eq!(p.sslmode, SslMode::Disable);
        assert!(p.notes.iter().any(|n| n.contains("Unix-domain socket")));
        let p = resolve(Some("host=/tmp"), &[("USER", "u")]);
        assert!(p.notes.is_empty());
    }

    #[test]
    fn sslrootcert_system() {
        let p = resolve(Some("host=h sslrootcert=system"), &[("USER", "u")]);
        assert_eq!(p.sslmode, SslMode::VerifyFull);
        assert_eq!(p.sslrootcert, Some(RootCert::System));
        let e = resolve_err(
            Some("host=h sslrootcert=system sslmode=require"),
            &[("USER", "u")],
        );
        assert!(e.contains("verify-full"), "{e}");
    }

    #[cfg(unix)]
    fn write_private(path: &Path, text: &str, mode: u32) {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(path, text).expect("write");
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }

    #[cfg(unix)]
    #[test]
    fn pgpass_from_home_and_pgpassfile() {
        let home = tempfile::tempdir().expect("tempdir");
        let home_str = home.path().to_string_lossy().to_string();
        write_private(
            &home.path().join(".pgpass"),
            "db:5432:app:bob:frompgpass\nlocalhost:*:*:bob:sock\n",
            0o600,
        );
        let env = [("HOME", home_str.as_str()), ("USER", "bob")];
        let p = resolve(Some("host=db dbname=app"), &env);
        assert_eq!(
            p.password.as_ref().map(Password::expose),
            Some("frompgpass")
        );
        assert_eq!(
            p.password_source,
            Some(PasswordSource::PassFile(home.path().join(".pgpass")))
        );
        // The default socket directory matches `localhost` lines.
        let options = ConnectOptions::new("dbname=app");
        let p = resolve_inner(&options, &env_of(&env), true).expect("resolve");
        assert_eq!(p.password.as_ref().map(Password::expose), Some("sock"));
        // A given password wins over the file.
        let p = resolve(Some("host=db dbname=app password=given"), &env);
        assert_eq!(p.password.as_ref().map(Password::expose), Some("given"));
        // No matching line.
        let p = resolve(Some("host=other dbname=app"), &env);
        assert!(p.password.is_none());

        // PGPASSFILE points elsewhere; passfile= in the DSN beats it.
        let other = home.path().join("other");
        write_private(&other, "*:*:*:*:fromother\n", 0o600);
        let other_str = other.to_string_lossy().to_string();
        let env2 = [
            ("HOME", home_str.as_str()),
            ("USER", "bob"),
            ("PGPASSFILE", &other_str),
        ];
        let p = resolve(Some("host=db dbname=app"), &env2);
        assert_eq!(p.password.as_ref().map(Password::expose), Some("fromother"));
        let p = resolve(
            Some(&format!(
                "host=db dbname=app passfile={}",
                home.path().join(".pgpass").display()
            )),
            &env2,
        );
        assert_eq!(
            p.password.as_ref().map(Password::expose),
            Some("frompgpass")
        );
    }

    #[cfg(unix)]
    #[test]
    fn pgpass_with_loose_permissions_is_ignored_with_a_note() {
        let home = tempfile::tempdir().expect("tempdir");
        let home_str = home.path().to_string_lossy().to_string();
        write_private(&home.path().join(".pgpass"), "*:*:*:*:pw\n", 0o644);
        let p = resolve(None, &[("HOME", home_str.as_str()), ("USER", "bob")]);
        assert!(p.password.is_none());
        assert_eq!(p.notes.len(), 1);
        assert!(
            p.notes[0].contains("group or world access"),
            "{:?}",
            p.notes
        );
    }

    #[test]
    fn default_root_certificate_turns_require_into_verification() {
        let home = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(home.path().join(".postgresql")).expect("mkdir");
        let root = home.path().join(".postgresql").join("root.crt");
        std::fs::write(&root, "x").expect("write");
        let home_str = home.path().to_string_lossy().to_string();
        let p = resolve(
            Some("host=h sslmode=require"),
            &[("HOME", &home_str), ("USER", "u")],
        );
        assert_eq!(p.sslrootcert, Some(RootCert::File(root)));
    }

    #[test]
    fn a_service_ranks_between_the_connection_string_and_the_environment() {
        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("services.conf");
        std::fs::write(
            &file,
            "[erp]\nhost=svc-host\nport=6000\ndbname=svc-db\nuser=svc-user\npassword=svc-pw\n",
        )
        .expect("write");
        let file_str = file.display().to_string();
        let env = [
            ("PGSERVICEFILE", file_str.as_str()),
            ("PGHOST", "env-host"),
            ("PGSSLMODE", "require"),
            ("PGPASSWORD", "env-pw"),
            ("USER", "u"),
        ];
        let p = resolve(Some("service=erp dbname=dsn-db"), &env);
        assert_eq!(p.target.to_string(), "svc-user@svc-host:6000/dsn-db");
        assert_eq!(p.sslmode, SslMode::Require, "what the service leaves unset");
        assert_eq!(p.password.as_ref().map(Password::expose), Some("svc-pw"));
        assert_eq!(p.password_source, Some(PasswordSource::ServiceFile(file)));
        // PGSERVICE names it too.
        let mut with_pgservice = env.to_vec();
        with_pgservice.push(("PGSERVICE", "erp"));
        assert_eq!(resolve(None, &with_pgservice).target.host, "svc-host");
        let err = resolve_err(Some("service=nope"), &env);
        assert!(err.contains("service `nope` not found"), "{err}");
    }
}
