//! Contract §2 and §8 "Logs": the binary's log filter keeps the PostgreSQL driver's debug and
//! trace events (every statement's SQL and parameters, a key's digest among them) out, at
//! every `RUST_LOG`, and lets everything else through as asked.

use dam_store_tests::logs::Logs;

/// What the binary would log under `RUST_LOG=rust_log` for a few events like the driver's
/// and the service's.
fn logged(rust_log: Option<&str>) -> String {
    let logs = Logs::default();
    let writer = logs.clone();
    let subscriber = dam_server::log_subscriber(rust_log, move || writer.clone());
    tracing::subscriber::with_default(subscriber, || {
        tracing::debug!(target: "tokio_postgres::prepare", "preparing query s1: SELECT tenant FROM dam_api_keys WHERE digest = $1");
        tracing::debug!(target: "tokio_postgres::query", "executing statement s1 with parameters: [[179, 206]]");
        tracing::trace!(target: "tokio_postgres::connection", "poll_read: waiting on response");
        tracing::info!(target: "tokio_postgres::connection", "NOTICE: relation exists, skipping");
        tracing::error!(target: "dam_core::service", "storage failure");
        tracing::debug!(target: "dam_server::layers", "request detail");
    });
    logs.text()
}

#[test]
fn the_driver_never_logs_statements_or_parameters() {
    for rust_log in [
        None,
        Some("trace"),
        Some("debug"),
        Some("tokio_postgres=trace"),
        Some("tokio_postgres::query=debug,trace"),
        Some("not a [valid filter"),
    ] {
        let text = logged(rust_log);
        assert!(!text.contains("SELECT"), "{rust_log:?}: {text}");
        assert!(!text.contains("parameters"), "{rust_log:?}: {text}");
        assert!(!text.contains("poll_read"), "{rust_log:?}: {text}");
        // The driver's notices, and the service's errors, follow RUST_LOG.
        assert!(text.contains("NOTICE"), "{rust_log:?}: {text}");
        if rust_log != Some("tokio_postgres=trace") {
            assert!(text.contains("storage failure"), "{rust_log:?}: {text}");
        }
    }
}

#[test]
fn everything_else_follows_rust_log() {
    assert!(logged(Some("trace")).contains("request detail"));
    assert!(logged(Some("dam_server=debug")).contains("request detail"));
    // The default is info.
    assert!(!logged(None).contains("request detail"));
    assert!(!logged(Some("not a [valid filter")).contains("request detail"));
    assert!(!logged(Some("error")).contains("NOTICE"));
}
