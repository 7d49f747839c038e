//! Every cross-cutting concern of the HTTP face, configured in one place: the body limit
//! (413), the time limit (503), panic catching (500), the guarantee that every error answer is
//! a problem document, the HTTP metrics, and the request log with its request id.
//!
//! They are separate from the routes: a host applies them to DAM's router only, to its whole
//! application, or not at all.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{OriginalUri, Request, State};
use axum::http::header::ALLOW;
use axum::http::{Extensions, HeaderName, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tracing::Instrument;

use crate::base_path::BasePath;
use crate::problem::{is_problem, ProblemResponse};
use crate::request_id::{RequestId, REQUEST_ID_HEADER};

/// The longest path written to a request log line, in bytes; longer paths are cut.
const LOGGED_PATH_MAX: usize = 200;

/// The limits that the layers enforce on a request that reached the application.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpLimits {
    /// Longest request body accepted (the API takes none; 413 problem above this).
    pub max_body_bytes: usize,
    /// Time the application has to answer a request (503 problem after it).
    pub request_timeout: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max_body_bytes: 64 * 1024,
            request_timeout: Duration::from_secs(30),
        }
    }
}

impl HttpLimits {
    /// The default limits with another body limit.
    pub fn with_max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// The default limits with another time limit.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }
}

/// The layers, ready to wrap a router: [`HttpLayers::apply`].
///
/// ```
/// use std::sync::Arc;
/// use axum::{routing::get, Router};
/// use dam_axum::{HttpLayers, HttpLimits};
///
/// let app: Router = Router::new().route("/hello", get(|| async { "hi" }));
/// let app = HttpLayers::new("https://example.org/errors")
///     .with_limits(HttpLimits::default().with_max_body_bytes(1024))
///     .apply(app);
/// ```
#[derive(Debug, Clone)]
pub struct HttpLayers {
    limits: HttpLimits,
    type_base: Arc<str>,
    public_base: BasePath,
}

impl HttpLayers {
    /// The layers with the default limits; problems they make have `type` under `type_base`.
    pub fn new(type_base: &str) -> Self {
        HttpLayers {
            limits: HttpLimits::default(),
            type_base: Arc::from(type_base),
            public_base: BasePath::root(),
        }
    }

    /// Other limits.
    pub fn with_limits(mut self, limits: HttpLimits) -> Self {
        self.limits = limits;
        self
    }

    /// A prefix that a proxy in front strips off: the `instance` of the problems the layers
    /// make starts with it.
    pub fn with_public_base_path(mut self, base: BasePath) -> Self {
        self.public_base = base;
        self
    }

    /// Wraps `router`'s routes (and its fallback, if it has one) in the layers, outermost
    /// first: request log and id, metrics ([`crate::metrics`]), the problem guarantee, panic
    /// catching, the time limit, the body limit.
    pub fn apply<S>(&self, router: Router<S>) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let context = Arc::new(Context {
            type_base: self.type_base.clone(),
            public_base: self.public_base.clone(),
        });
        // `Router::layer` wraps outside what is already there, so the innermost comes first.
        router
            .layer(RequestBodyLimitLayer::new(self.limits.max_body_bytes))
            .layer(TimeoutLayer::with_status_code(
                StatusCode::SERVICE_UNAVAILABLE,
                self.limits.request_timeout,
            ))
            .layer(CatchPanicLayer::new())
            .layer(middleware::from_fn_with_state(context, ensure_problem))
            .layer(middleware::from_fn(crate::metrics::record))
            .layer(middleware::from_fn(log_request))
    }
}

struct Context {
    type_base: Arc<str>,
    public_base: BasePath,
}

/// The path the client asked for: inside a nested router the request's URI has lost the
/// prefix, [`OriginalUri`] has not.
pub(crate) fn client_path<'a>(extensions: &'a Extensions, uri: &'a Uri) -> &'a str {
    extensions
        .get::<OriginalUri>()
        .map_or_else(|| uri.path(), |original| original.path())
}

/// Any error response that is not yet a problem document (a layer's own refusal: 413 from the
/// body limit, 503 from the time limit, 500 from a caught panic) becomes one, so no client
/// ever sees another error body.
async fn ensure_problem(
    State(context): State<Arc<Context>>,
    request: Request,
    next: Next,
) -> Response {
    let instance = context
        .public_base
        .join(client_path(request.extensions(), request.uri()));
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_problem(&response) {
        return response;
    }
    let allow = response.headers().get(ALLOW).cloned();
    let mut problem =
        ProblemResponse::for_status(status, &context.type_base, &instance).into_response();
    if let Some(allow) = allow {
        problem.headers_mut().insert(ALLOW, allow);
    }
    problem
}

/// One log line per request: method, path, status, latency and the request id
/// ([`RequestId`]), which is also the `X-Request-Id` response header, a field of every line
/// logged while the request runs, and an extension of the request for the handlers.
///
/// Deliberately absent: headers (credentials travel in them) and the query string.
async fn log_request(mut request: Request, next: Next) -> Response {
    let id = RequestId::from_headers(request.headers());
    request.extensions_mut().insert(id.clone());
    let method = request.method().clone();
    let path = truncated(
        client_path(request.extensions(), request.uri()),
        LOGGED_PATH_MAX,
    )
    .to_owned();
    let span = tracing::info_span!("request", request_id = %id);
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
    if let Some(value) = id.header_value() {
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
