//! The server's metrics exporter (§9.2): a Prometheus recorder, installed once per process as
//! the `metrics` facade's global recorder, whose text `GET /metrics` serves.
//!
//! DAM's crates record through the facade only (`dam_axum::metrics` and the storage
//! metrics); which exporter sees them is the process's choice, and this is the server's.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// How often the recorder's histograms are compacted between scrapes.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The process's Prometheus recorder, installed as the global recorder by the first call;
/// `None` when another recorder was installed first (then `/metrics` shows nothing of DAM's
/// and a warning says why).
pub fn prometheus() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE.get_or_init(install).as_ref()
}

fn install() -> Option<PrometheusHandle> {
    let installed = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Suffix("_duration_seconds".into()),
            &dam_axum::metrics::DURATION_BUCKETS,
        )
        .and_then(PrometheusBuilder::install_recorder);
    match installed {
        Ok(handle) => {
            dam_axum::metrics::describe();
            dam_core::store::describe_store_metrics();
            dam_store_sqlite::describe_metrics();
            Some(handle)
        }
        Err(error) => {
            tracing::warn!(%error, "cannot install the Prometheus recorder; /metrics stays empty");
            None
        }
    }
}

/// The scrape: the Prometheus text of every metric recorded so far.
pub fn render() -> String {
    prometheus()
        .map(PrometheusHandle::render)
        .unwrap_or_default()
}

/// Compacts the recorder's histograms every few seconds, so that memory stays bounded however
/// rarely `/metrics` is scraped. Runs until the runtime stops.
pub fn spawn_upkeep() {
    if let Some(handle) = prometheus() {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(UPKEEP_EVERY);
            loop {
                every.tick().await;
                handle.run_upkeep();
            }
        });
    }
}
