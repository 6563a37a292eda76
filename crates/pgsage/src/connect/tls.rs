//! TLS the libpq way, on `native-tls`.
//!
//! tokio-postgres only knows `disable`, `prefer` and `require`, and leaves certificate
//! checking to the TLS connector. So the six libpq modes map onto a driver mode plus a
//! verification level that decides how the `native-tls` connector is built:
//!
//! | `sslmode`     | driver    | verification                                            |
//! |---------------|-----------|---------------------------------------------------------|
//! | `disable`     | disable   | –                                                       |
//! | `allow`       | prefer    | none                                                    |
//! | `prefer`      | prefer    | none                                                    |
//! | `require`     | require   | none, or chain when a root certificate is configured    |
//! | `verify-ca`   | require   | chain (sslrootcert, else the system roots), any name    |
//! | `verify-full` | require   | chain and host name                                     |

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use postgres_native_tls::{MakeTlsConnector, TlsConnector, TlsStream};
use tokio_postgres::config::SslMode as DriverSslMode;
use tokio_postgres::tls::{MakeTlsConnect, TlsConnect};
use tokio_postgres::Socket;

use crate::{Error, Result};

/// libpq's `sslmode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SslMode {
    /// Plain TCP only.
    Disable,
    /// libpq tries plain first, then TLS; pgsage treats it as `prefer`.
    Allow,
    /// Try TLS, fall back to plain when the server has no TLS (the default). No
    /// certificate checks: protects against eavesdropping only.
    #[default]
    Prefer,
    /// TLS or fail, without checking the certificate, unless a root certificate is
    /// configured: then like `verify-ca` (as libpq does).
    Require,
    /// TLS, and the server certificate must chain to a trusted root; any host name.
    VerifyCa,
    /// TLS, trusted chain, and the certificate must name the host connected to.
    VerifyFull,
}

impl SslMode {
    /// The libpq spelling, e.g. `verify-full`.
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Allow => "allow",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

impl fmt::Display for SslMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for SslMode {
    type Err = pgsage_core::ParseValueError;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(match s {
            "disable" => SslMode::Disable,
            "allow" => SslMode::Allow,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            _ => {
                return Err(pgsage_core::ParseValueError::new(
                    "sslmode",
                    s,
                    "disable, allow, prefer, require, verify-ca or verify-full",
                ))
            }
        })
    }
}

/// Where the trusted root certificates for server verification come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCert {
    /// A PEM file with one or more certificates (`sslrootcert=/path/ca.pem`); only these
    /// are trusted.
    File(PathBuf),
    /// The operating system's trust store (`sslrootcert=system`, as in libpq 16+).
    System,
}

impl RootCert {
    /// `sslrootcert`'s value: `system` or a file.
    pub(crate) fn parse(value: &str) -> RootCert {
        if value == "system" {
            RootCert::System
        } else {
            RootCert::File(PathBuf::from(value))
        }
    }
}

/// How much of the server certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verify {
    /// Nothing: encryption only.
    None,
    /// The chain, not the host name.
    Chain,
    /// The chain and the host name.
    Full,
}

/// The driver's mode and the verification level for a libpq mode.
pub(crate) fn plan(mode: SslMode, root: Option<&RootCert>) -> (DriverSslMode, Verify) {
    match mode {
        SslMode::Disable => (DriverSslMode::Disable, Verify::None),
        SslMode::Allow | SslMode::Prefer => (DriverSslMode::Prefer, Verify::None),
        SslMode::Require if root.is_some() => (DriverSslMode::Require, Verify::Chain),
        SslMode::Require => (DriverSslMode::Require, Verify::None),
        SslMode::VerifyCa => (DriverSslMode::Require, Verify::Chain),
        SslMode::VerifyFull => (DriverSslMode::Require, Verify::Full),
    }
}

/// Builds the connector for a verification level. With a root certificate file, only
/// its certificates are trusted; otherwise (or with `system`) the system's roots.
pub(crate) fn connector(verify: Verify, root: Option<&RootCert>) -> Result<TrackingTls> {
    let mut builder = native_tls::TlsConnector::builder();
    match verify {
        Verify::None => {
            builder
                .danger_accept_invalid_certs(true)
                .danger_accept_invalid_hostnames(true);
        }
        Verify::Chain | Verify::Full => {
            if let Some(RootCert::File(path)) = root {
                builder.disable_built_in_roots(true);
                for cert in read_certificates(path)? {
                    builder.add_root_certificate(cert);
                }
            }
            builder.danger_accept_invalid_hostnames(verify == Verify::Chain);
        }
    }
    let connector = builder
        .build()
        .map_err(|e| Error::Tls(format!("building the TLS connector: {e}")))?;
    Ok(TrackingTls {
        inner: MakeTlsConnector::new(connector),
        used: Arc::new(AtomicBool::new(false)),
    })
}

/// Reads every PEM certificate in `path` (a CA bundle may hold several).
fn read_certificates(path: &Path) -> Result<Vec<native_tls::Certificate>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Tls(format!("reading sslrootcert {}: {e}", path.display())))?;
    let certs = pem_blocks(&text)
        .into_iter()
        .map(|block| {
            native_tls::Certificate::from_pem(block.as_bytes()).map_err(|e| {
                Error::Tls(format!(
                    "sslrootcert {}: invalid certificate: {e}",
                    path.display()
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    if certs.is_empty() {
        return Err(Error::Tls(format!(
            "sslrootcert {}: no PEM certificate (-----BEGIN CERTIFICATE-----) found",
            path.display()
        )));
    }
    Ok(certs)
}

/// The `-----BEGIN CERTIFICATE-----` … `-----END CERTIFICATE-----` blocks of a PEM text.
fn pem_blocks(text: &str) -> Vec<&str> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(BEGIN) {
        let Some(len) = rest[start..].find(END) else {
            break;
        };
        let end = start + len + END.len();
        blocks.push(&rest[start..end]);
        rest = &rest[end..];
    }
    blocks
}

/// A `native-tls` connector that records whether a TLS handshake completed, so the
/// session can say whether it is encrypted (with `prefer` the server decides).
#[derive(Clone)]
pub(crate) struct TrackingTls {
    inner: MakeTlsConnector,
    used: Arc<AtomicBool>,
}

/// The TLS connector of one [`super::ConnectParams`], built on first use and shared by
/// every clone of them: building one loads the system's root certificates (about 30 ms),
/// which an estate's hundreds of connections (`--all-databases`, a fleet) would otherwise
/// pay each.
#[derive(Clone, Default)]
pub struct TlsCache(Arc<std::sync::Mutex<Option<CachedTls>>>);

type CachedTls = ((Verify, Option<RootCert>), TrackingTls);

impl fmt::Debug for TlsCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TlsCache")
    }
}

impl TlsCache {
    /// A connector for `verify` and `root` (built once per combination), with its own
    /// record of whether the handshake happened.
    pub(crate) fn connector(&self, verify: Verify, root: Option<&RootCert>) -> Result<TrackingTls> {
        let key = (verify, root.cloned());
        // A poisoned lock only means another thread panicked while building: build again.
        let mut cached = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((k, tls)) = cached.as_ref() {
            if *k == key {
                return Ok(tls.fresh());
            }
        }
        let tls = connector(verify, root)?;
        *cached = Some((key, tls.clone()));
        Ok(tls.fresh())
    }
}

impl TrackingTls {
    /// The same connector with a record of its own.
    fn fresh(&self) -> TrackingTls {
        TrackingTls {
            inner: self.inner.clone(),
            used: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Whether a handshake through this connector has succeeded.
    pub(crate) fn used(&self) -> bool {
        self.used.load(Ordering::SeqCst)
    }
}

impl MakeTlsConnect<Socket> for TrackingTls {
    type Stream = TlsStream<Socket>;
    type TlsConnect = TrackingConnect;
    type Error = native_tls::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<TrackingConnect, native_tls::Error> {
        let inner = MakeTlsConnect::<Socket>::make_tls_connect(&mut self.inner, domain)?;
        Ok(TrackingConnect {
            inner,
            used: Arc::clone(&self.used),
        })
    }
}

/// One handshake of a [`TrackingTls`].
pub(crate) struct TrackingConnect {
    inner: TlsConnector,
    used: Arc<AtomicBool>,
}

impl TlsConnect<Socket> for TrackingConnect {
    type Stream = TlsStream<Socket>;
    type Error = native_tls::Error;
    type Future =
        Pin<Box<dyn Future<Output = Result<TlsStream<Socket>, native_tls::Error>> + Send>>;

    fn connect(self, stream: Socket) -> Self::Future {
        let TrackingConnect { inner, used } = self;
        Box::pin(async move {
            let stream = inner.connect(stream).await?;
            used.store(true, Ordering::SeqCst);
            Ok(stream)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_print() {
        for m in [
            SslMode::Disable,
            SslMode::Allow,
            SslMode::Prefer,
            SslMode::Require,
            SslMode::VerifyCa,
            SslMode::VerifyFull,
        ] {
            assert_eq!(m.as_str().parse::<SslMode>(), Ok(m));
        }
        assert!("verify_full".parse::<SslMode>().is_err());
        assert_eq!(SslMode::default(), SslMode::Prefer);
    }

    #[test]
    fn plans() {
        let root = RootCert::File("/ca.pem".into());
        assert_eq!(
            plan(SslMode::Disable, None),
            (DriverSslMode::Disable, Verify::None)
        );
        assert_eq!(
            plan(SslMode::Allow, None),
            (DriverSslMode::Prefer, Verify::None)
        );
        assert_eq!(
            plan(SslMode::Prefer, Some(&root)),
            (DriverSslMode::Prefer, Verify::None)
        );
        assert_eq!(
            plan(SslMode::Require, None),
            (DriverSslMode::Require, Verify::None)
        );
        assert_eq!(
            plan(SslMode::Require, Some(&root)),
            (DriverSslMode::Require, Verify::Chain)
        );
        assert_eq!(
            plan(SslMode::VerifyCa, None),
            (DriverSslMode::Require, Verify::Chain)
        );
        assert_eq!(
            plan(SslMode::VerifyFull, None),
            (DriverSslMode::Require, Verify::Full)
        );
    }

    #[test]
    fn pem_bundle_split() {
        let text = "junk\n-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n\
                    -----BEGIN CERTIFICATE-----\nBBB\n-----END CERTIFICATE-----\n\
                    -----BEGIN CERTIFICATE-----\nunterminated";
        let blocks = pem_blocks(text);
        assert_eq!(blocks.len(), 2);
        assert!(blocks[0].contains("AAA") && blocks[1].contains("BBB"));
    }

    #[test]
    fn missing_or_empty_root_file_is_a_tls_error() {
        let missing = RootCert::File("/nonexistent/ca.pem".into());
        assert!(matches!(
            connector(Verify::Full, Some(&missing)),
            Err(Error::Tls(_))
        ));
        let dir = tempfile::tempdir().expect("tempdir");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "nothing here").expect("write");
        let Err(Error::Tls(msg)) = connector(Verify::Chain, Some(&RootCert::File(empty))) else {
            panic!("expected a TLS error");
        };
        assert!(msg.contains("no PEM certificate"), "{msg}");
    }
}
