//! The two shapes a response takes: a JSON body, or an RFC 9457 problem. Every error of the
//! server becomes a response here and nowhere else.

use axum::http::header::{ALLOW, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use dam_core::problem::{ProblemKind, CONTENT_TYPE as PROBLEM_CONTENT_TYPE};
use dam_core::ProblemDetails;
use serde::Serialize;

/// The detail of a 500, the same whatever went wrong.
const INTERNAL_DETAIL: &str = "The request could not be completed because of an internal error.";

/// An error answer: a problem document, plus the `Allow` header of a 405.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// The problem document; its `status` is the HTTP status.
    pub problem: ProblemDetails,
    /// The `Allow` header value (405 only).
    pub allow: Option<&'static str>,
}

impl From<ProblemDetails> for ApiError {
    fn from(problem: ProblemDetails) -> Self {
        ApiError {
            problem,
            allow: None,
        }
    }
}

impl ApiError {
    /// The 500 problem, with a generic detail only.
    pub fn internal(type_base: &str, instance: &str) -> Self {
        ProblemDetails::new(ProblemKind::Internal, type_base, INTERNAL_DETAIL, instance).into()
    }

    /// A problem for a status that the service itself never answers with (the HTTP layer's
    /// own refusals: 408, 413, 503, …), named after the status's reason phrase.
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
        let slug = title.to_ascii_lowercase().replace(' ', "-");
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

impl IntoResponse for ApiError {
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
        if let Some(allow) = self.allow {
            headers.insert(ALLOW, HeaderValue::from_static(allow));
        }
        response
    }
}

/// A 200 `application/json` response, or a 500 problem if the body cannot be serialized.
pub(crate) fn json<T: Serialize>(body: &T, type_base: &str, instance: &str) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => (
            [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
            bytes,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(%error, "cannot serialize a response body");
            ApiError::internal(type_base, instance).into_response()
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

    #[test]
    fn layer_statuses_get_a_slug_from_their_reason_phrase() {
        let e = ApiError::for_status(StatusCode::PAYLOAD_TOO_LARGE, "https://x/errors/", "/image");
        assert_eq!(e.problem.problem_type, "https://x/errors/payload-too-large");
        assert_eq!(e.problem.title, "Payload Too Large");
        assert_eq!(e.problem.status, 413);
        let e = ApiError::for_status(StatusCode::INTERNAL_SERVER_ERROR, "https://x", "/image");
        assert_eq!(e.problem.problem_type, "https://x/internal");
        assert_eq!(e.problem.title, "Internal Server Error");
    }
}
