//! HTTP metrics (§9.2), recorded through the [`metrics`] facade: whatever recorder the process
//! installed sees them (a Prometheus exporter, an OpenTelemetry bridge, a test's recorder); with
//! none installed, recording costs next to nothing.
//!
//! | name | kind | labels |
//! | --- | --- | --- |
//! | [`HTTP_REQUEST_DURATION`] `http_server_request_duration_seconds` | histogram (seconds) | `http_request_method`, `http_route`, `http_response_status_code` |
//! | [`HTTP_ACTIVE_REQUESTS`] `http_server_active_requests` | gauge | `http_request_method` |
//!
//! The names, labels and buckets ([`DURATION_BUCKETS`]) are those of the OpenTelemetry
//! semantic conventions for HTTP servers, with `.` written `_`. `http_route` is the route
//! template (`/image/{id}`, with the prefix of a nest), or [`UNMATCHED_ROUTE`] when no route
//! matched; a method outside the standard ones is `_OTHER`. No label holds a request's path,
//! query string, key, tenant or id.
//!
//! An embedder exports them with its own recorder; for Prometheus, e.g. with
//! `metrics-exporter-prometheus`, the histogram buckets are set where the recorder is built:
//!
//! ```
//! use axum::{routing::get, Router};
//! use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let handle = PrometheusBuilder::new()
//!     .set_buckets_for_metric(
//!         Matcher::Suffix("_duration_seconds".into()),
//!         &dam_axum::metrics::DURATION_BUCKETS,
//!     )?
//!     .install_recorder()?;
//! dam_axum::metrics::describe();
//! // The host's scrape route (keep running `handle.run_upkeep()` every few seconds too).
//! let scrape: Router = Router::new().route("/metrics", get(move || async move { handle.render() }));
//! # Ok(())
//! # }
//! ```

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use dam_core::store::PoolStatus;
use dam_core::ImageService;
use metrics::{describe_gauge, describe_histogram, gauge, histogram, Gauge, Unit};

/// Histogram of the time from a request's arrival to its response's head, in seconds.
pub const HTTP_REQUEST_DURATION: &str = "http_server_request_duration_seconds";
/// Gauge of the requests being answered.
pub const HTTP_ACTIVE_REQUESTS: &str = "http_server_active_requests";
/// The `http_route` of a request that matched no route (a 404).
pub const UNMATCHED_ROUTE: &str = "unmatched";
/// The `http_request_method` of a method outside the standard ones.
pub const OTHER_METHOD: &str = "_OTHER";

/// A pool gauge: its name, its description, and how it reads a [`PoolStatus`].
pub type PoolGauge = (&'static str, &'static str, fn(&PoolStatus) -> usize);

/// Gauges of the store's connection pools (labels `store`, `pool`), set from
/// [`ImageService::pools`] by [`record_pools`] — at each scrape of
/// [`crate::DamApi::metrics_router`]: `(name, description, value)`.
pub const POOL_GAUGES: [PoolGauge; 5] = [
    (
        "dam_store_pool_max_size",
        "The most connections the pool opens.",
        |p| p.max_size,
    ),
    (
        "dam_store_pool_size",
        "Connections open now, in use or idle.",
        |p| p.size,
    ),
    (
        "dam_store_pool_available",
        "Open connections idle now.",
        |p| p.available,
    ),
    (
        "dam_store_pool_in_use",
        "Connections running an operation now.",
        PoolStatus::in_use,
    ),
    (
        "dam_store_pool_waiting",
        "Operations waiting for a connection now.",
        |p| p.waiting,
    ),
];

/// Sets the pool gauges ([`POOL_GAUGES`]) from the service's store, now. The scrape route of
/// [`crate::DamApi::metrics_router`] calls it before rendering; a host that scrapes through its
/// own route calls it there. A store without pools (memory) sets none.
pub fn record_pools(service: &ImageService) {
    for status in service.pools() {
        for (name, _, value) in POOL_GAUGES {
            gauge!(name, "store" => status.store, "pool" => status.pool).set(value(&status) as f64);
        }
    }
}

/// The bucket bounds of the duration histograms, in seconds: the OpenTelemetry semantic
/// conventions' advice for `http.server.request.duration`.
pub const DURATION_BUCKETS: [f64; 14] = [
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// Gives the recorder installed now the unit and description of each HTTP metric (exporters
/// print them, e.g. as Prometheus `# HELP`). Optional; call it after installing a recorder.
pub fn describe() {
    describe_histogram!(
        HTTP_REQUEST_DURATION,
        Unit::Seconds,
        "Duration of HTTP server requests."
    );
    describe_gauge!(
        HTTP_ACTIVE_REQUESTS,
        Unit::Count,
        "Number of active HTTP server requests."
    );
    for (name, description, _) in POOL_GAUGES {
        describe_gauge!(name, Unit::Count, description);
    }
}

/// The `http_request_method` label: a standard method's name, else [`OTHER_METHOD`], so that a
/// client cannot make up label values.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::CONNECT,
        Method::OPTIONS,
        Method::TRACE,
        Method::PATCH,
    ];
    KNOWN
        .iter()
        .find(|known| *known == method)
        .map_or(OTHER_METHOD, |known| known.as_str())
}

/// Decrements the active-requests gauge when the request ends, answered or abandoned.
struct Active(Gauge);

impl Active {
    fn start(gauge: Gauge) -> Self {
        gauge.increment(1.0);
        Active(gauge)
    }
}

impl Drop for Active {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

/// The middleware of [`HttpLayers`](crate::HttpLayers): records each request's duration and
/// the number of requests in flight.
pub(crate) async fn record(request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED_ROUTE.to_owned(), |p| p.as_str().to_owned());
    let _active = Active::start(gauge!(HTTP_ACTIVE_REQUESTS, "http_request_method" => method));
    let started = Instant::now();
    let response = next.run(request).await;
    histogram!(
        HTTP_REQUEST_DURATION,
        "http_request_method" => method,
        "http_route" => route,
        "http_response_status_code" => response.status().as_str().to_owned(),
    )
    .record(started.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_standard_methods_name_themselves() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::DELETE), "DELETE");
        let made_up = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&made_up), OTHER_METHOD);
    }
}
