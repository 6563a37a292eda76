//! Parsing libpq connection strings, both forms:
//!
//! - URL: `postgres://user:pass@host:port/dbname?sslmode=require&application_name=x`
//!   (`postgresql://` too; percent-encoding, `[IPv6]` hosts, a percent-encoded socket
//!   directory as host, and the query keys below);
//! - key=value: `host=db port=5432 dbname='my db' user=bob password='it''s' sslmode=verify-full`
//!   (single-quoted values with `\'` and `\\` escapes, whitespace around `=` allowed).
//!
//! The same keys (libpq's names) are accepted in both forms and validated here, so a
//! typo fails loudly with the key's name instead of being ignored. The password is kept
//! in a [`Password`], whose `Debug` prints `***`, and error messages never quote
//! values that could be (part of) a password.

use std::fmt;
use std::net::IpAddr;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use super::tls::{RootCert, SslMode};
use crate::{Error, Result};

/// A password. `Debug` and `Display` print `***`; [`Password::expose`] gives the text.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Wraps a password.
    pub fn new(password: impl Into<String>) -> Self {
        Password(password.into())
    }

    /// The password itself. Only the driver should need it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// libpq's `channel_binding`: whether SCRAM authentication binds to the TLS channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelBinding {
    /// Never use channel binding.
    Disable,
    /// Use it when the server offers it (the default).
    Prefer,
    /// Fail unless the server authenticates with channel binding (needs TLS).
    Require,
}

impl std::str::FromStr for ChannelBinding {
    type Err = pgsage_core::ParseValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "disable" => Ok(ChannelBinding::Disable),
            "prefer" => Ok(ChannelBinding::Prefer),
            "require" => Ok(ChannelBinding::Require),
            _ => Err(pgsage_core::ParseValueError::new(
                "channel_binding",
                s,
                "disable, prefer or require",
            )),
        }
    }
}

/// What a connection string (or the environment) sets. Every field is optional;
/// [`super::resolve`] fills the gaps.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dsn {
    /// `host`: a host name, an IP address, or a Unix socket directory (starts with `/`).
    pub host: Option<String>,
    /// `hostaddr`: the IP address to connect to, skipping name resolution; `host` is then
    /// only used for TLS verification.
    pub hostaddr: Option<IpAddr>,
    /// `port`.
    pub port: Option<u16>,
    /// `dbname`.
    pub dbname: Option<String>,
    /// `user`.
    pub user: Option<String>,
    /// `password`.
    pub password: Option<Password>,
    /// `passfile`: the password file to use instead of `~/.pgpass`.
    pub passfile: Option<PathBuf>,
    /// `sslmode`.
    pub sslmode: Option<SslMode>,
    /// `sslrootcert`.
    pub sslrootcert: Option<RootCert>,
    /// `application_name`.
    pub application_name: Option<String>,
    /// `fallback_application_name`: used when nothing else sets an application name.
    pub fallback_application_name: Option<String>,
    /// `connect_timeout`, whole seconds; zero (or negative in the text) means no limit.
    pub connect_timeout: Option<Duration>,
    /// `channel_binding`.
    pub channel_binding: Option<ChannelBinding>,
    /// `options`: command-line options sent to the server at startup (`-c name=value`).
    pub options: Option<String>,
    /// `service`: a section of a connection service file ([`super::service`]).
    pub service: Option<String>,
}

/// libpq keys pgsage knows but deliberately does not implement: a clear error beats
/// silently ignoring, say, a client certificate.
const UNSUPPORTED_KEYS: &[&str] = &[
    "client_encoding",
    "gssdelegation",
    "gssencmode",
    "gsslib",
    "keepalives",
    "keepalives_count",
    "keepalives_idle",
    "keepalives_interval",
    "krbsrvname",
    "load_balance_hosts",
    "max_protocol_version",
    "min_protocol_version",
    "replication",
    "require_auth",
    "requiressl",
    "requirepeer",
    "ssl_max_protocol_version",
    "ssl_min_protocol_version",
    "sslcert",
    "sslcertmode",
    "sslcompression",
    "sslcrl",
    "sslcrldir",
    "sslkey",
    "sslnegotiation",
    "sslpassword",
    "sslsni",
    "target_session_attrs",
    "tcp_user_timeout",
];

fn invalid(problem: impl Into<String>) -> Error {
    Error::InvalidConnectOptions(problem.into())
}

impl Dsn {
    /// Parses a connection string, URL or key=value. An empty string sets nothing.
    pub fn parse(s: &str) -> Result<Dsn> {
        let mut dsn = Dsn::default();
        for entry in lex(s)? {
            dsn.set(&entry.key, &entry.value, "")?;
        }
        Ok(dsn)
    }

    /// Sets one libpq key from its text. `origin` prefixes error messages (e.g.
    /// `"PGPORT: "`); values are quoted in errors only when they cannot be a password.
    pub(crate) fn set(&mut self, key: &str, value: &str, origin: &str) -> Result<()> {
        // libpq treats an empty value as "not set".
        let empty = value.is_empty();
        match key {
            "host" => {
                self.host = if empty {
                    None
                } else {
                    Some(single(value, "host", origin)?.to_owned())
                }
            }
            "hostaddr" => {
                self.hostaddr = if empty {
                    None
                } else {
                    let v = single(value, "hostaddr", origin)?;
                    Some(v.parse().map_err(|_| {
                        invalid(format!("{origin}hostaddr `{v}` is not an IP address"))
                    })?)
                }
            }
            "port" => {
                self.port = if empty {
                    None
                } else {
                    Some(parse_port(single(value, "port", origin)?, origin)?)
                }
            }
            "dbname" => self.dbname = non_empty(value),
            "user" => self.user = non_empty(value),
            "password" => self.password = non_empty(value).map(Password),
            "passfile" => self.passfile = non_empty(value).map(PathBuf::from),
            "sslmode" => {
                self.sslmode = if empty {
                    None
                } else {
                    Some(value.parse().map_err(|e| invalid(format!("{origin}{e}")))?)
                }
            }
            "sslrootcert" => self.sslrootcert = non_empty(value).as_deref().map(RootCert::parse),
            "application_name" => self.application_name = non_empty(value),
            "fallback_application_name" => self.fallback_application_name = non_empty(value),
            "connect_timeout" => {
                self.connect_timeout = if empty {
                    None
                } else {
                    Some(parse_timeout(value, origin)?)
                }
            }
            "channel_binding" => {
                self.channel_binding = if empty {
                    None
                } else {
                    Some(value.parse().map_err(|e| invalid(format!("{origin}{e}")))?)
                }
            }
            "options" => self.options = non_empty(value),
            "service" => self.service = non_empty(value),
            _ if UNSUPPORTED_KEYS.contains(&key) => {
                return Err(invalid(format!(
                    "{origin}connection option `{key}` is not supported by pgsage"
                )))
            }
            _ => {
                return Err(invalid(format!(
                    "{origin}unknown connection option `{key}`"
                )))
            }
        }
        Ok(())
    }

    /// Fills every field this one leaves unset from `other` (libpq: the connection
    /// string wins over the environment).
    pub(crate) fn or(self, other: Dsn) -> Dsn {
        Dsn {
            host: self.host.or(other.host),
            hostaddr: self.hostaddr.or(other.hostaddr),
            port: self.port.or(other.port),
            dbname: self.dbname.or(other.dbname),
            user: self.user.or(other.user),
            password: self.password.or(other.password),
            passfile: self.passfile.or(other.passfile),
            sslmode: self.sslmode.or(other.sslmode),
            sslrootcert: self.sslrootcert.or(other.sslrootcert),
            application_name: self.application_name.or(other.application_name),
            fallback_application_name: self
                .fallback_application_name
                .or(other.fallback_application_name),
            connect_timeout: self.connect_timeout.or(other.connect_timeout),
            channel_binding: self.channel_binding.or(other.channel_binding),
            options: self.options.or(other.options),
            service: self.service.or(other.service),
        }
    }
}

/// The keys [`Dsn::set`] accepts.
const SUPPORTED_KEYS: &[&str] = &[
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "passfile",
    "sslmode",
    "sslrootcert",
    "application_name",
    "fallback_application_name",
    "connect_timeout",
    "channel_binding",
    "options",
    "service",
];

fn is_known_key(key: &str) -> bool {
    SUPPORTED_KEYS.contains(&key) || UNSUPPORTED_KEYS.contains(&key)
}

fn non_empty(value: &str) -> Option<String> {
    (!value.is_empty()).then(|| value.to_owned())
}

/// Rejects libpq's comma-separated multi-host lists, which pgsage does not support.
fn single<'a>(value: &'a str, key: &str, origin: &str) -> Result<&'a str> {
    if value.contains(',') {
        Err(invalid(format!(
            "{origin}several values in `{key}={value}`: pgsage connects to one server, give one {key}"
        )))
    } else {
        Ok(value)
    }
}

fn parse_port(value: &str, origin: &str) -> Result<u16> {
    match value.trim().parse::<u16>() {
        Ok(p) if p != 0 => Ok(p),
        _ => Err(invalid(format!(
            "{origin}invalid port `{value}` (expected 1 to 65535)"
        ))),
    }
}

fn parse_timeout(value: &str, origin: &str) -> Result<Duration> {
    let secs: i64 = value.trim().parse().map_err(|_| {
        invalid(format!(
            "{origin}invalid connect_timeout `{value}` (expected whole seconds)"
        ))
    })?;
    Ok(Duration::from_secs(u64::try_from(secs).unwrap_or(0)))
}

/// One `key=value` of a connection string, with where its value was in the text.
#[derive(Debug)]
struct Entry {
    key: String,
    value: String,
    /// Byte range of the value as written (quotes and escapes included).
    span: Range<usize>,
}

/// Whether `s` is in URL form.
fn is_url(s: &str) -> bool {
    url_rest(s).is_some()
}

fn url_rest(s: &str) -> Option<&str> {
    s.strip_prefix("postgresql://")
        .or_else(|| s.strip_prefix("postgres://"))
}

/// Splits a connection string into entries without validating keys or values.
fn lex(s: &str) -> Result<Vec<Entry>> {
    let trimmed_start = s.len() - s.trim_start().len();
    let t = s.trim();
    let mut entries = if is_url(t) {
        lex_url(t)?
    } else {
        lex_key_value(t)?
    };
    for e in &mut entries {
        e.span = e.span.start + trimmed_start..e.span.end + trimmed_start;
    }
    Ok(entries)
}

/// Lexes the key=value form, libpq's rules: keys end at `=` or whitespace, values are
/// single-quoted or end at whitespace, and a backslash escapes the next character.
fn lex_key_value(s: &str) -> Result<Vec<Entry>> {
    let bytes = s.as_bytes();
    let mut i = 0;
    let mut entries = Vec::new();
    let skip_ws = |i: &mut usize| {
        while *i < bytes.len() && bytes[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    loop {
        skip_ws(&mut i);
        if i >= bytes.len() {
            break;
        }
        let key_start = i;
        while i < bytes.len() && bytes[i] != b'=' && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = &s[key_start..i];
        skip_ws(&mut i);
        if i >= bytes.len() || bytes[i] != b'=' {
            // Not quoting the word: a stray word may be half of an unquoted password.
            return Err(invalid(format!(
                "expected `key=value` at character {} of the connection string \
                 (quote values containing spaces: key='a value')",
                key_start + 1
            )));
        }
        if key.is_empty() {
            return Err(invalid(format!(
                "missing key before `=` at character {} of the connection string",
                i + 1
            )));
        }
        i += 1; // '='
        skip_ws(&mut i);
        let value_start = i;
        let mut value = Vec::new();
        if i < bytes.len() && bytes[i] == b'\'' {
            i += 1;
            loop {
                match bytes.get(i) {
                    None => {
                        return Err(invalid(format!(
                            "unterminated quoted value for `{key}` in the connection string"
                        )))
                    }
                    Some(b'\\') if i + 1 < bytes.len() => {
                        value.push(bytes[i + 1]);
                        i += 2;
                    }
                    Some(b'\'') => {
                        i += 1;
                        break;
                    }
                    Some(&b) => {
                        value.push(b);
                        i += 1;
                    }
                }
            }
        } else {
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
                if bytes[i] == b'\\' && i + 1 < bytes.len() {
                    i += 1;
                }
                value.push(bytes[i]);
                i += 1;
            }
        }
        // Escapes only ever drop ASCII backslashes, so this stays valid UTF-8.
        let value = String::from_utf8(value)
            .map_err(|_| invalid(format!("value of `{key}` is not valid UTF-8")))?;
        entries.push(Entry {
            key: key.to_owned(),
            value,
            span: value_start..i,
        });
    }
    Ok(entries)
}

/// Lexes the URL form into the same entries the key=value form gives
/// (`user`, `password`, `host`, `port`, `dbname`, then the query parameters).
fn lex_url(s: &str) -> Result<Vec<Entry>> {
    let Some(rest) = url_rest(s) else {
        return Err(invalid("not a postgres:// URL"));
    };
    let base = s.len() - rest.len();
    let mut entries = Vec::new();

    // Authority ends at the first '/' or '?'; the query at '#' is not libpq syntax,
    // so everything after '?' is query.
    let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let authority = &rest[..auth_end];
    // The last '@' separates the credentials, forgiving an unencoded '@' in a password.
    let (hostport, hostport_off) = match authority.rfind('@') {
        Some(at) => {
            let userinfo = &authority[..at];
            let (user, pass) = match userinfo.find(':') {
                Some(c) => (&userinfo[..c], Some((c + 1, &userinfo[c + 1..]))),
                None => (userinfo, None),
            };
            entries.push(Entry {
                key: "user".into(),
                value: decode(user, "the user name")?,
                span: base..base + user.len(),
            });
            if let Some((off, pass)) = pass {
                entries.push(Entry {
                    key: "password".into(),
                    value: decode(pass, "the password")?,
                    span: base + off..base + off + pass.len(),
                });
            }
            (&authority[at + 1..], at + 1)
        }
        None => (authority, 0),
    };
    let hp_base = base + hostport_off;

    if hostport.contains(',') {
        return Err(invalid(
            "several hosts in the URL: pgsage connects to one server, give one host",
        ));
    }
    let (host, port) = if let Some(after_bracket) = hostport.strip_prefix('[') {
        let close = after_bracket
            .find(']')
            .ok_or_else(|| invalid("missing `]` after the IPv6 address in the URL"))?;
        let host = &after_bracket[..close];
        let after = &after_bracket[close + 1..];
        let port = if let Some(p) = after.strip_prefix(':') {
            Some(p)
        } else if after.is_empty() {
            None
        } else {
            return Err(invalid(format!(
                "unexpected `{after}` after the IPv6 address in the URL"
            )));
        };
        (host, port)
    } else {
        match hostport.rfind(':') {
            // A ':' inside an unbracketed host would be an IPv6 address without brackets.
            Some(c) if !hostport[..c].contains(':') => (&hostport[..c], Some(&hostport[c + 1..])),
            Some(_) => {
                return Err(invalid(
                    "IPv6 addresses in URLs must be in brackets: postgres://[::1]:5432/db",
                ))
            }
            None => (hostport, None),
        }
    };
    if !host.is_empty() {
        entries.push(Entry {
            key: "host".into(),
            value: decode(host, "the host")?,
            span: hp_base..hp_base + hostport.len(),
        });
    }
    if let Some(port) = port {
        if !port.is_empty() {
            entries.push(Entry {
                key: "port".into(),
                value: decode(port, "the port")?,
                span: hp_base..hp_base + hostport.len(),
            });
        }
    }

    let after_auth = &rest[auth_end..];
    let (path, query, query_off) = match after_auth.find('?') {
        Some(q) => (&after_auth[..q], Some(&after_auth[q + 1..]), q + 1),
        None => (after_auth, None, 0),
    };
    let path_base = base + auth_end;
    if let Some(db) = path.strip_prefix('/') {
        if !db.is_empty() {
            entries.push(Entry {
                key: "dbname".into(),
                value: decode(db, "the database name")?,
                span: path_base + 1..path_base + path.len(),
            });
        }
    }
    if let Some(query) = query {
        let mut off = path_base + query_off;
        for param in query.split('&') {
            let start = off;
            off += param.len() + 1;
            if param.is_empty() {
                continue;
            }
            let Some(eq) = param.find('=') else {
                // Quoted only when it is a known key: otherwise it may be the tail of a
                // password containing an unencoded '&'.
                let name = decode(param, "a query parameter")?;
                let shown = if is_known_key(&name) {
                    format!("`{name}`")
                } else {
                    format!("at character {}", start + 1)
                };
                return Err(invalid(format!(
                    "URL query parameter {shown} has no `=value`"
                )));
            };
            let key = decode(&param[..eq], "a query parameter name")?;
            let value = decode(&param[eq + 1..], "a query parameter value")?;
            // libpq maps JDBC's `ssl=true` to `sslmode=require`.
            let (key, value) = if key == "ssl" && value == "true" {
                ("sslmode".to_owned(), "require".to_owned())
            } else {
                (key, value)
            };
            entries.push(Entry {
                key,
                value,
                span: start + eq + 1..start + param.len(),
            });
        }
    }
    Ok(entries)
}

/// Percent-decodes one URL component. `what` names it in errors, whose text never
/// quotes the component (it may be a password).
fn decode(s: &str, what: &str) -> Result<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(0) | None => {
                    return Err(invalid(format!(
                        "invalid percent-encoding in {what} of the URL"
                    )))
                }
                Some(b) => out.push(b),
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| invalid(format!("{what} of the URL is not valid UTF-8")))
}

/// The connection string with its password replaced by `***`, for logs and `Debug`.
///
/// Works on both forms and keeps everything else as written. A string too malformed to
/// find the password in is hidden entirely.
pub fn redact(dsn: &str) -> String {
    let Ok(entries) = lex(dsn) else {
        return "<malformed connection string, hidden>".to_owned();
    };
    let mut spans: Vec<Range<usize>> = entries
        .into_iter()
        .filter(|e| e.key == "password")
        .map(|e| e.span)
        .collect();
    spans.sort_by_key(|r| r.start);
    let mut out = String::with_capacity(dsn.len());
    let mut last = 0;
    for span in spans {
        if span.start < last {
            continue;
        }
        out.push_str(&dsn[last..span.start]);
        out.push_str("***");
        last = span.end;
    }
    out.push_str(&dsn[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Dsn {
        match Dsn::parse(s) {
            Ok(d) => d,
            Err(e) => panic!("parsing {s:?}: {e}"),
        }
    }

    fn err(s: &str) -> String {
        match Dsn::parse(s) {
            Ok(d) => panic!("parsing {s:?} should fail, got {d:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn full_url() {
        let d = parse(
            "postgres://bob:s3cret@db.example.com:6432/app?sslmode=require&application_name=x&connect_timeout=5",
        );
        assert_eq!(d.user.as_deref(), Some("bob"));
        assert_eq!(d.password.as_ref().map(Password::expose), Some("s3cret"));
        assert_eq!(d.host.as_deref(), Some("db.example.com"));
        assert_eq!(d.port, Some(6432));
        assert_eq!(d.dbname.as_deref(), Some("app"));
        assert_eq!(d.sslmode, Some(SslMode::Require));
        assert_eq!(d.application_name.as_deref(), Some("x"));
        assert_eq!(d.connect_timeout, Some(Duration::from_secs(5)));
    }

    #[test]
    fn url_scheme_postgresql_and_minimal_forms() {
        assert_eq!(parse("postgresql://"), Dsn::default());
        assert_eq!(parse("postgres://h").host.as_deref(), Some("h"));
        let d = parse("postgresql:///mydb");
        assert_eq!(d.host, None);
        assert_eq!(d.dbname.as_deref(), Some("mydb"));
        let d = parse("postgres://h:5433");
        assert_eq!((d.host.as_deref(), d.port), (Some("h"), Some(5433)));
        let d = parse("postgres://bob@h/");
        assert_eq!((d.user.as_deref(), d.dbname), (Some("bob"), None));
        let d = parse("postgres://h?dbname=x");
        assert_eq!(d.dbname.as_deref(), Some("x"));
    }

    #[test]
    fn url_percent_decoding() {
        let d = parse("postgres://b%40b:p%40ss%3Aw%2Frd%25@h/my%20db?application_name=a%26b");
        assert_eq!(d.user.as_deref(), Some("b@b"));
        assert_eq!(
            d.password.as_ref().map(Password::expose),
            Some("p@ss:w/rd%")
        );
        assert_eq!(d.dbname.as_deref(), Some("my db"));
        assert_eq!(d.application_name.as_deref(), Some("a&b"));
        // '+' is not a space in libpq URLs.
        assert_eq!(parse("postgres:///a+b").dbname.as_deref(), Some("a+b"));
        // UTF-8 survives.
        assert_eq!(
            parse("postgres:///%C3%A9t%C3%A9").dbname.as_deref(),
            Some("été")
        );
    }

    #[test]
    fn url_unencoded_at_in_password_uses_last_at() {
        let d = parse("postgres://bob:p@ss@h/db");
        assert_eq!(d.password.as_ref().map(Password::expose), Some("p@ss"));
        assert_eq!(d.host.as_deref(), Some("h"));
    }

    #[test]
    fn url_ipv6() {
        let d = parse("postgres://[::1]:5433/db");
        assert_eq!((d.host.as_deref(), d.port), (Some("::1"), Some(5433)));
        let d = parse("postgres://u@[2001:db8::7]/db");
        assert_eq!((d.host.as_deref(), d.port), (Some("2001:db8::7"), None));
        assert!(err("postgres://[::1/db").contains("missing `]`"));
        assert!(err("postgres://::1/db").contains("brackets"));
    }

    #[test]
    fn url_socket_directory_host() {
        let d = parse("postgresql://%2Fvar%2Frun%2Fpostgresql/db");
        assert_eq!(d.host.as_deref(), Some("/var/run/postgresql"));
        let d = parse("postgresql:///db?host=/tmp&port=5433");
        assert_eq!((d.host.as_deref(), d.port), (Some("/tmp"), Some(5433)));
    }

    #[test]
    fn url_jdbc_ssl_true() {
        assert_eq!(
            parse("postgres://h/db?ssl=true").sslmode,
            Some(SslMode::Require)
        );
    }

    #[test]
    fn url_errors() {
        assert!(err("postgres://a,b/db").contains("one host"));
        assert!(err("postgres://a:1,b:2/db").contains("one host"));
        assert!(err("postgres://[::1],[::2]/db").contains("one host"));
        assert!(err("postgres://h:x/db").contains("invalid port `x`"));
        assert!(err("postgres://h:0/db").contains("invalid port"));
        assert!(err("postgres://h:70000/db").contains("invalid port"));
        assert!(err("postgres://h/db?sslmode=maybe").contains("sslmode"));
        assert!(
            err("postgres://h/db?frobnicate=1").contains("unknown connection option `frobnicate`")
        );
        assert!(err("postgres://h/db?sslcert=/x").contains("`sslcert` is not supported"));
        assert!(err("postgres://h/db?sslmode").contains("`sslmode` has no `=value`"));
        let e = err("postgres://h/db?password=a&hunter2");
        assert!(e.contains("no `=value`") && !e.contains("hunter2"), "{e}");
        assert!(err("postgres://h/d%zzb").contains("percent-encoding"));
        assert!(err("postgres://h/d%00b").contains("percent-encoding"));
    }

    #[test]
    fn url_password_errors_do_not_quote_the_password() {
        let e = err("postgres://bob:hunter2%zz@h/db");
        assert!(e.contains("password"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        let e = err("postgres://bob:hunter2%FF@h/db");
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn key_value() {
        let d = parse(
            "host=db.example.com port=6432 dbname=app user=bob password=s3cret sslmode=verify-full \
             sslrootcert=/etc/ca.pem application_name=x connect_timeout=7",
        );
        assert_eq!(d.host.as_deref(), Some("db.example.com"));
        assert_eq!(d.port, Some(6432));
        assert_eq!(d.dbname.as_deref(), Some("app"));
        assert_eq!(d.user.as_deref(), Some("bob"));
        assert_eq!(d.password.as_ref().map(Password::expose), Some("s3cret"));
        assert_eq!(d.sslmode, Some(SslMode::VerifyFull));
        assert_eq!(d.sslrootcert, Some(RootCert::File("/etc/ca.pem".into())));
        assert_eq!(d.application_name.as_deref(), Some("x"));
        assert_eq!(d.connect_timeout, Some(Duration::from_secs(7)));
    }

    #[test]
    fn key_value_quoting_and_whitespace() {
        let d = parse(r"  dbname = 'my db'  password='it\'s a \\ secret' user=a\ b  ");
        assert_eq!(d.dbname.as_deref(), Some("my db"));
        assert_eq!(
            d.password.as_ref().map(Password::expose),
            Some(r"it's a \ secret")
        );
        assert_eq!(d.user.as_deref(), Some("a b"));
        let d = parse("dbname='' user=x");
        assert_eq!(d.dbname, None);
        // Later keys win, as in libpq.
        assert_eq!(parse("port=1 port=2").port, Some(2));
        assert_eq!(
            parse("sslrootcert=system").sslrootcert,
            Some(RootCert::System)
        );
        assert_eq!(parse("").port, None);
        assert_eq!(parse("   ").port, None);
    }

    #[test]
    fn key_value_errors() {
        assert!(err("host=h dbname").contains("expected `key=value` at character 8"));
        assert!(err("=x").contains("missing key"));
        assert!(err("dbname='x").contains("unterminated"));
        assert!(err("host=a,b").contains("one host"));
        assert!(err("hostaddr=a,b").contains("one hostaddr"));
        assert!(err("port=5432,5433").contains("one port"));
        assert!(err("hostaddr=db.example.com").contains("not an IP address"));
        assert!(err("connect_timeout=soon").contains("connect_timeout"));
        assert!(err("colour=blue").contains("unknown connection option `colour`"));
        assert!(err("sslmode=verify_full").contains("sslmode"));
        assert!(err("channel_binding=always").contains("channel_binding"));
    }

    #[test]
    fn key_value_unquoted_password_with_space_is_not_echoed() {
        let e = err("user=bob password=correct horse battery");
        assert!(!e.contains("horse"), "{e}");
        assert!(e.contains("quote values"), "{e}");
    }

    #[test]
    fn timeouts_zero_and_negative_mean_no_limit() {
        assert_eq!(
            parse("connect_timeout=0").connect_timeout,
            Some(Duration::ZERO)
        );
        assert_eq!(
            parse("connect_timeout=-1").connect_timeout,
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn other_keys() {
        let d = parse(
            "hostaddr=127.0.0.1 channel_binding=require options='-c search_path=x' \
             fallback_application_name=f passfile=/p",
        );
        assert_eq!(d.hostaddr, Some(IpAddr::from([127, 0, 0, 1])));
        assert_eq!(d.channel_binding, Some(ChannelBinding::Require));
        assert_eq!(d.options.as_deref(), Some("-c search_path=x"));
        assert_eq!(d.fallback_application_name.as_deref(), Some("f"));
        assert_eq!(d.passfile, Some(PathBuf::from("/p")));
    }

    #[test]
    fn password_debug_is_masked() {
        let d = parse("password=hunter2");
        assert!(!format!("{d:?}").contains("hunter2"));
        assert!(!format!("{}", Password::new("hunter2")).contains("hunter2"));
    }

    #[test]
    fn redact_both_forms() {
        assert_eq!(
            redact("postgres://bob:hunter2@h:5432/db?sslmode=require"),
            "postgres://bob:***@h:5432/db?sslmode=require"
        );
        assert_eq!(redact("postgres://bob@h/db"), "postgres://bob@h/db");
        assert_eq!(
            redact("postgres://h/db?password=hunter2&sslmode=require"),
            "postgres://h/db?password=***&sslmode=require"
        );
        assert_eq!(
            redact("host=h password='hunter 2' user=bob"),
            "host=h password=*** user=bob"
        );
        assert_eq!(
            redact("  password = hunter2 password=x"),
            "  password = *** password=***"
        );
        // Unknown keys are fine: only lexing has to succeed.
        assert_eq!(
            redact("colour=blue password=hunter2"),
            "colour=blue password=***"
        );
        assert!(!redact("password='hunter2").contains("hunter2"));
        assert!(!redact("postgres://bob:hunter2@[::1/db").contains("hunter2"));
    }
}
