//! Every cross-cutting concern of the HTTP layer, configured in one place: size and time
//! limits, the request log with its request id, and the guarantee that every error response
//! is a problem document.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::header::ALLOW;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tracing::Instrument;

use crate::response::{is_problem, ApiError};

/// The header that carries the request id of a response (also in every log line of the
/// request).
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The longest path written to a request log line, in bytes; longer paths are cut.
const LOGGED_PATH_MAX: usize = 200;

/// Size and time limits of the HTTP layer.
///
/// The request target and headers are limited by hyper: a request line plus headers longer
/// than [`Limits::max_head_bytes`] is answered 431 by hyper itself, and a target longer than
/// 65 534 bytes (the `http` crate's URI limit) 414 — both before the application sees the
/// request (contract §8). Everything below those sizes reaches the application, so a
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
        Limits {
            max_body_bytes: 64 * 1024,
            max_head_bytes: 128 * 1024,
            max_headers: 100,
            header_read_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Wraps the routes in the layers, outermost first: request log and id, the problem
/// guarantee, panic catching, the time limit, the body limit.
pub(crate) fn apply(routes: Router, limits: &Limits, type_base: Arc<str>) -> Router {
    // `Router::layer` wraps outside what is already there, so the innermost comes first.
    routes
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            limits.request_timeout,
        ))
        .layer(CatchPanicLayer::new())
        .layer(middleware::from_fn_with_state(type_base, ensure_problem))
        .layer(middleware::from_fn(log_request))
}

/// Any error response that is not yet a problem document (a layer's own refusal: 413 from the
/// body limit, 503 from the time limit, 500 from a caught panic) becomes one, so no client
/// ever sees another error body.
async fn ensure_problem(
    State(type_base): State<Arc<str>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_problem(&response) {
        return response;
    }
    let allow = response.headers().get(ALLOW).cloned();
    let mut problem = ApiError::for_status(status, &type_base, &path).into_response();
    if let Some(allow) = allow {
        problem.headers_mut().insert(ALLOW, allow);
    }
    problem
}

static NEXT_REQUEST_ID: AtomicU64 = AtomicU64::new(1);

/// One log line per request: method, path, status, latency and a request id, which is also
/// the `x-request-id` response header and a field of every line logged while the request runs.
///
/// Deliberately absent: headers (the API key travels in one) and the query string.
async fn log_request(request: Request, next: Next) -> Response {
    let id = NEXT_REQUEST_ID.fetch_add(1, Ordering::Relaxed);
    let method = request.method().clone();
    let path = truncated(request.uri().path(), LOGGED_PATH_MAX).to_owned();
    let span = tracing::info_span!("request", request_id = id);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    let status = response.status().as_u16();
    span.in_scope(|| {
        if status >= 500 {
            tracing::warn!(%method, %path, status, latency_us, "request");
        } else {
            tracing::info!(%method, %path, status, latency_us, "request");
        }
    });
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        response
            .headers_mut()
            .insert(HeaderName::from_static(REQUEST_ID_HEADER), value);
    }
    response
}

/// The longest prefix of `text` of at most `max` bytes that ends on a character boundary.
fn truncated(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_whole_characters() {
        assert_eq!(truncated("/image/1", 200), "/image/1");
        assert_eq!(truncated("abcdef", 3), "abc");
        assert_eq!(truncated("aé", 2), "a");
    }
}
