//! A TCP server that never answers: a hung PostgreSQL, for timeout tests.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::server::HOST;
use crate::TestkitError;

/// Listens on 127.0.0.1 (random port), accepts every connection and never sends a
/// byte, holding the connections open until dropped. Runs in a background thread.
#[derive(Debug)]
pub struct SilentServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl SilentServer {
    /// Binds a random port and starts accepting.
    pub fn start() -> Result<SilentServer, TestkitError> {
        let listener = TcpListener::bind((HOST, 0))
            .map_err(|e| TestkitError::io("binding the silent server", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| TestkitError::io("reading the silent server's address", e))?;
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let thread = {
            let stop = Arc::clone(&stop);
            let accepted = Arc::clone(&accepted);
            std::thread::Builder::new()
                .name(format!("silent-server-{}", addr.port()))
                .spawn(move || {
                    let mut held: Vec<TcpStream> = Vec::new();
                    for conn in listener.incoming() {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        if let Ok(stream) = conn {
                            accepted.fetch_add(1, Ordering::SeqCst);
                            held.push(stream);
                        }
                    }
                    // Dropping `held` closes the connections.
                })
                .map_err(|e| TestkitError::io("spawning the silent server thread", e))?
        };
        Ok(SilentServer {
            addr,
            stop,
            accepted,
            thread: Some(thread),
        })
    }

    /// The host: `127.0.0.1`.
    pub fn host(&self) -> &str {
        HOST
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The socket address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A key=value connection string pointing at it (any connect attempt will hang
    /// until the client's own timeout).
    pub fn dsn(&self, database: &str) -> String {
        format!(
            "host={HOST} port={} user=postgres dbname={database} sslmode=disable",
            self.addr.port()
        )
    }

    /// How many connections it has accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the blocking accept() so the thread sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
