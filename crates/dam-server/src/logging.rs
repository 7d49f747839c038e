//! The binary's logs: `RUST_LOG` (default `info`) to a writer, without the PostgreSQL driver's
//! statement traces.

use tracing::{Level, Metadata, Subscriber};
use tracing_subscriber::filter::filter_fn;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::EnvFilter;

/// The binary's subscriber: plain-text lines to `writer`, filtered by `rust_log` (the value of
/// `RUST_LOG`; `info` when it is unset or invalid), and never the PostgreSQL driver's
/// (`tokio_postgres`) debug or trace events, whatever `rust_log` says.
///
/// Those events print every statement's SQL and its parameters — an API key's digest is the
/// parameter of the key lookup — and contract §2 and §8 "Logs" keep both out of every log
/// line, at every level. The driver's `info` and above (server notices, connection errors)
/// follow `rust_log` as usual.
pub fn log_subscriber<W>(rust_log: Option<&str>, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = rust_log
        .and_then(|directives| EnvFilter::try_new(directives).ok())
        .unwrap_or_else(|| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .finish()
        .with(filter_fn(|meta| !is_driver_detail(meta)))
}

/// A debug or trace event of the PostgreSQL driver.
fn is_driver_detail(meta: &Metadata<'_>) -> bool {
    let target = meta.target();
    let driver = target == "tokio_postgres" || target.starts_with("tokio_postgres::");
    driver && *meta.level() > Level::INFO
}
