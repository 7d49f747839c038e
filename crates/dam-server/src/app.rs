//! The server's application: DAM's routes from `dam-axum`, under the base path, with the
//! server's own 404 for every other path and DAM's layers around everything.

use std::num::NonZeroU32;
use std::time::Duration;

use axum::Router;
use dam_axum::{BasePath, DamApi, HttpLimits, RateLimit, DEFAULT_RETRY_AFTER};
use dam_core::ImageService;

use crate::openapi;

/// Size and time limits of the server.
///
/// The request target and headers are limited by hyper: a request line plus headers longer
/// than [`Limits::max_head_bytes`] is answered 431 by hyper itself, and a target longer than
/// 65 534 bytes (the `http` crate's URI limit) 414 — both before the application sees the
/// request (§8). Everything below those sizes reaches the application, so a
/// 60 000-character `$filter` is refused by the query parser with a 400 problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest request body accepted (the API takes none; 413 above this).
    pub max_body_bytes: usize,
    /// Hyper's read buffer: the longest request line plus headers.
    pub max_head_bytes: usize,
    /// Most header fields in one request.
    pub max_headers: usize,
    /// Time a client has to send its request line and headers.
    pub header_read_timeout: Duration,
    /// Time the application has to answer a request (503 problem after it).
    pub request_timeout: Duration,
    /// Time open connections get to finish their requests after a shutdown signal.
    pub shutdown_grace: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        let http = HttpLimits::default();
        Limits {
            max_body_bytes: http.max_body_bytes,
            max_head_bytes: 128 * 1024,
            max_headers: 100,
            header_read_timeout: Duration::from_secs(10),
            request_timeout: http.request_timeout,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

impl Limits {
    /// The part that DAM's layers enforce.
    pub fn http(&self) -> HttpLimits {
        HttpLimits::default()
            .with_max_body_bytes(self.max_body_bytes)
            .with_request_timeout(self.request_timeout)
    }
}

/// How the application answers, beside the service's own configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppConfig {
    /// Every route under this prefix (§9.5); the root by default.
    pub base_path: BasePath,
    /// The `Retry-After` of a 409, in seconds.
    pub retry_after: NonZeroU32,
    /// Size and time limits.
    pub limits: Limits,
    /// Requests per second (and burst) of each tenant (§9.4), per process; `None`: no limit.
    pub rate_limit: Option<NonZeroU32>,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            base_path: BasePath::root(),
            retry_after: DEFAULT_RETRY_AFTER,
            limits: Limits::default(),
            rate_limit: None,
        }
    }
}

/// The whole application: the two routes, `/openapi.json`, the probes (`/livez`, `/readyz`)
/// and `/metrics` (the process's Prometheus recorder, [`crate::metrics`]) under
/// `config.base_path`, the 404 problem for every other path (the prefix-less `/image`
/// included), and DAM's layers around all of it. The first call installs the process's
/// Prometheus recorder.
pub fn app(service: ImageService, config: &AppConfig) -> Router {
    // Installed now, so that requests are counted before the first scrape.
    crate::metrics::prometheus();
    let mut dam = DamApi::new(service).with_retry_after(config.retry_after);
    if let Some(n) = config.rate_limit {
        dam = dam.with_rate_limit(RateLimit::per_second(n));
    }
    let served = dam
        .router()
        .merge(openapi::router(&config.base_path, dam.type_base()))
        .merge(dam.ops_router())
        .merge(dam.metrics_router(crate::metrics::render));
    let routes = if config.base_path.is_root() {
        served
    } else {
        Router::new().nest(config.base_path.as_str(), served)
    };
    let app = routes.fallback(dam.not_found());
    dam.layers().with_limits(config.limits.http()).apply(app)
}

/// The application at the root with the default `Retry-After` and these limits.
pub fn router(service: ImageService, limits: &Limits) -> Router {
    app(
        service,
        &AppConfig {
            limits: limits.clone(),
            ..AppConfig::default()
        },
    )
}
