//! In-process requests: a router answers through tower's `oneshot`, no socket involved.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::Request;
use axum::Router;
use http_body_util::BodyExt;
use tower::ServiceExt;

/// One answer, body read in full (status, header fields and body).
#[allow(unused_imports)] // each test binary uses a part
pub use dam_store_tests::reply::{ids, Reply as Answer, TYPE_BASE};

/// Sends one request with these headers and an empty body.
pub async fn send(app: &Router, method: &str, target: &str, headers: &[(&str, String)]) -> Answer {
    send_body(app, method, target, headers, Body::empty()).await
}

/// Sends one request with a body.
pub async fn send_body(
    app: &Router,
    method: &str,
    target: &str,
    headers: &[(&str, String)],
    body: Body,
) -> Answer {
    let mut request = Request::builder().method(method).uri(target);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let request = request.body(body).expect("a valid request");
    let response = app.clone().oneshot(request).await.expect("infallible");
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("body").to_bytes().to_vec();
    let headers = parts.headers.iter().map(|(name, value)| {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        (name.as_str().to_string(), value)
    });
    Answer {
        status: parts.status.as_u16(),
        headers: headers.collect(),
        body,
    }
}
