//! Capturing `tracing` output in a test, to assert what is (and is never) logged: contract §8
//! keeps keys, digests, SQL and paths out of every log line.
//!
//! ```
//! use dam_store_tests::logs::Logs;
//!
//! let (logs, guard) = Logs::capture("trace");
//! tracing::error!(cause = "disk full", "storage failure");
//! drop(guard);
//! assert!(logs.text().contains("storage failure"));
//! ```

use std::io::Write;
use std::sync::{Arc, Mutex};

use tracing_subscriber::util::SubscriberInitExt;

/// Everything a test's subscriber writes. Clones share one buffer, so a clone can be handed to
/// a subscriber as its writer (`move || logs.clone()`).
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Captures this thread's `tracing` output until the guard drops, filtered by `directives`
    /// (`RUST_LOG` syntax, e.g. `"trace"` or `"trace,tokio_postgres=info"`), without colours.
    /// Run the code under test on a current-thread runtime so that it logs on this thread.
    pub fn capture(directives: &str) -> (Logs, tracing::subscriber::DefaultGuard) {
        let logs = Logs::default();
        let writer = logs.clone();
        let guard = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(directives))
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .finish()
            .set_default();
        (logs, guard)
    }

    /// What was written so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}
