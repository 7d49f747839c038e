//! The two shapes an answer takes: a JSON body, or an RFC 9457 problem (§6). Every
//! error of the HTTP face becomes a response here and nowhere else.

use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use dam_core::{ProblemDetails, ProblemKind, PROBLEM_CONTENT_TYPE};

/// The detail of a 500, the same whatever went wrong.
pub(crate) const INTERNAL_DETAIL: &str =
    "The request could not be completed because of an internal error.";

/// A problem answer: the document as `application/problem+json` with its status, plus any
/// headers that go with it (`Allow` of a 405, `Retry-After` of a 409).
///
/// ```
/// use axum::response::IntoResponse;
/// use dam_axum::ProblemResponse;
///
/// let response = ProblemResponse::not_found("https://example.org/errors", "/nowhere").into_response();
/// assert_eq!(response.status(), 404);
/// assert_eq!(response.headers()["content-type"], "application/problem+json");
/// ```
#[derive(Debug, Clone)]
pub struct ProblemResponse {
    problem: ProblemDetails,
    headers: HeaderMap,
}

impl From<ProblemDetails> for ProblemResponse {
    fn from(problem: ProblemDetails) -> Self {
        ProblemResponse {
            problem,
            headers: HeaderMap::new(),
        }
    }
}

impl ProblemResponse {
    /// The problem document.
    pub fn problem(&self) -> &ProblemDetails {
        &self.problem
    }

    /// Adds a header to the answer.
    pub fn with_header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// The 404 for a path outside the API (§8): no key needed.
    pub fn not_found(type_base: &str, instance: &str) -> Self {
        ProblemDetails::unknown_path(type_base, instance).into()
    }

    /// The 500, with a generic detail only.
    pub fn internal(type_base: &str, instance: &str) -> Self {
        ProblemDetails::new(ProblemKind::Internal, type_base, INTERNAL_DETAIL, instance).into()
    }

    /// The 429 of a tenant past its rate limit of `per_second` requests per second (§9.4).
    pub fn too_many_requests(type_base: &str, instance: &str, per_second: u32) -> Self {
        let status = StatusCode::TOO_MANY_REQUESTS;
        let mut response = ProblemResponse::for_status(status, type_base, instance);
        response.problem.detail = format!(
            "Too many requests: the limit is {per_second} per second for each tenant. Retry \
             after the number of seconds in Retry-After."
        );
        response
    }

    /// A problem for a status that the service itself never answers with (the HTTP layer's
    /// own refusals: 413, 503, …), named after the status's reason phrase.
    pub fn for_status(status: StatusCode, type_base: &str, instance: &str) -> Self {
        let known = match status.as_u16() {
            400 => Some(ProblemKind::Validation),
            401 => Some(ProblemKind::Unauthorized),
            404 => Some(ProblemKind::NotFound),
            405 => Some(ProblemKind::MethodNotAllowed),
            409 => Some(ProblemKind::Conflict),
            500 => Some(ProblemKind::Internal),
            _ => None,
        };
        if let Some(kind) = known {
            let detail = match kind {
                ProblemKind::Internal => INTERNAL_DETAIL,
                _ => "The request was refused by the HTTP layer.",
            };
            return ProblemDetails::new(kind, type_base, detail, instance).into();
        }
        let title = status.canonical_reason().unwrap_or("Error");
        // §6 names the 503's slug `unavailable`; others follow their reason phrase
        // (`payload-too-large`, `too-many-requests`).
        let slug = match status {
            StatusCode::SERVICE_UNAVAILABLE => "unavailable".to_string(),
            _ => title.to_ascii_lowercase().replace(' ', "-"),
        };
        let detail = match status {
            StatusCode::PAYLOAD_TOO_LARGE => "The request body is too large.",
            StatusCode::SERVICE_UNAVAILABLE => {
                "The request took too long to complete. Retry later."
            }
            _ => "The request was refused by the HTTP layer.",
        };
        ProblemDetails {
            problem_type: format!("{}/{}", type_base.trim_end_matches('/'), slug),
            title: title.to_string(),
            status: status.as_u16(),
            detail: detail.to_string(),
            instance: instance.to_string(),
            errors: None,
        }
        .into()
    }
}

impl IntoResponse for ProblemResponse {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = match serde_json::to_vec(&self.problem) {
            Ok(body) => (status, body).into_response(),
            // A struct of strings always serializes; should it not, the status still tells.
            Err(_) => status.into_response(),
        };
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(PROBLEM_CONTENT_TYPE));
        headers.extend(self.headers);
        response
    }
}

/// A 200 `application/json` response whose body `write` writes, or a 500 problem if it cannot.
/// The body is written once into a buffer of `capacity` bytes (an estimate: a good one spares
/// the copies of a growing buffer), which becomes the response's body as it is.
pub(crate) fn json(
    write: impl FnOnce(&mut Vec<u8>) -> serde_json::Result<()>,
    capacity: usize,
    type_base: &str,
    instance: &str,
) -> Response {
    let mut bytes = Vec::with_capacity(capacity);
    match write(&mut bytes).map(|()| bytes) {
        Ok(bytes) => (
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            bytes,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot serialize a response body");
            ProblemResponse::internal(type_base, instance).into_response()
        }
    }
}

/// Whether a response already carries a problem document.
pub(crate) fn is_problem(response: &Response) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(PROBLEM_CONTENT_TYPE))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::RETRY_AFTER;

    #[test]
    fn layer_statuses_get_a_slug_from_their_reason_phrase() {
        let e = ProblemResponse::for_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            "https://x/errors/",
            "/image",
        );
        assert_eq!(e.problem.problem_type, "https://x/errors/payload-too-large");
        assert_eq!(e.problem.title, "Payload Too Large");
        assert_eq!(e.problem.status, 413);
        let e = ProblemResponse::for_status(StatusCode::INTERNAL_SERVER_ERROR, "https://x", "/i");
        assert_eq!(e.problem.problem_type, "https://x/internal");
        assert_eq!(e.problem.title, "Internal Server Error");
    }

    #[test]
    fn extra_headers_go_out_with_the_problem() {
        let response = ProblemResponse::internal("https://x", "/image/1")
            .with_header(RETRY_AFTER, HeaderValue::from_static("5"))
            .into_response();
        assert_eq!(response.status(), 500);
        assert_eq!(response.headers()[RETRY_AFTER], "5");
        assert_eq!(response.headers()[CONTENT_TYPE], PROBLEM_CONTENT_TYPE);
    }
}
