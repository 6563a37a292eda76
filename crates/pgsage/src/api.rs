//! Entry points for front ends other than the CLI (the Python package), so that they stay
//! thin: everything of [`pgsage_core::api`] (configuration lookup, host facts from user
//! input, filtered audits, typed tables, log ingestion that can be cancelled), and a
//! collection that can be cancelled from another thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

pub use pgsage_core::api::*;

use crate::{CollectOptions, ConnectOptions, Error, Result, Snapshot};

/// How often a cancellable collection looks at its flag.
const CANCEL_POLL: Duration = Duration::from_millis(50);

/// [`crate::collect_snapshot_with`] that gives up as soon as `cancel` becomes true (checked
/// every 50 ms), returning [`pgsage_core::Error::Cancelled`]. For callers that wait on
/// another thread and must stay responsive (Ctrl-C in Python).
pub fn collect_snapshot_cancellable(
    options: &ConnectOptions,
    collect: &CollectOptions,
    cancel: &AtomicBool,
) -> Result<Snapshot> {
    let runtime = crate::collect::blocking_runtime()?;
    runtime.block_on(async {
        let work = crate::collect::connect_and_collect(options, collect);
        let cancelled = async {
            while !cancel.load(Ordering::Relaxed) {
                tokio::time::sleep(CANCEL_POLL).await;
            }
        };
        tokio::select! {
            result = work => result,
            () = cancelled => Err(Error::cancelled("collecting")),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::time::Instant;

    #[test]
    fn cancelling_stops_a_collection_that_hangs() {
        // Accepts connections and never answers.
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let cancel = AtomicBool::new(false);
        let started = Instant::now();
        let result = std::thread::scope(|s| {
            s.spawn(|| {
                std::thread::sleep(Duration::from_millis(300));
                cancel.store(true, Ordering::Relaxed);
            });
            let mut options = ConnectOptions::new(format!(
                "host=127.0.0.1 port={port} user=x dbname=x sslmode=disable"
            ));
            options.connect_timeout = Duration::from_secs(60);
            collect_snapshot_cancellable(&options, &CollectOptions::default(), &cancel)
        });
        drop(listener);
        match result {
            Err(Error::Core(pgsage_core::Error::Cancelled { what })) => {
                assert_eq!(what, "collecting")
            }
            other => panic!("expected a cancellation, got {other:?}"),
        }
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
