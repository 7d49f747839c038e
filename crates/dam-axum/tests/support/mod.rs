//! In-process requests: a router answers through tower's `oneshot`, no socket involved.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

pub const TYPE_BASE: &str = "https://api2.saleslayer.com/errors";

/// One answer, body read in full.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{} body is not JSON ({e}): {}", self.status, self.text()))
    }

    /// Asserts an RFC 9457 problem (§6) and returns it.
    pub fn problem(&self, status: u16, slug: &str, title: &str, instance: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "status; body {}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "content type of a {status}"
        );
        let p = self.json();
        assert_eq!(p["type"], format!("{TYPE_BASE}/{slug}"), "{p}");
        assert_eq!(p["title"], title, "{p}");
        assert_eq!(p["status"], status, "{p}");
        assert_eq!(p["instance"], instance, "{p}");
        let detail = p["detail"].as_str().expect("detail is a string");
        assert!(!detail.trim().is_empty());
        p
    }
}

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
    Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// The ids of a list page's items.
pub fn ids(page: &Value) -> Vec<i64> {
    page["items"]
        .as_array()
        .expect("items array")
        .iter()
        .map(|im| im["id"].as_i64().expect("integer id"))
        .collect()
}
