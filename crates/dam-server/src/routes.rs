//! The routes: thin handlers that hand the raw request values to the service and map its
//! answer to a response.
//!
//! Handlers take the path, query string and id segment from the URI themselves, still encoded:
//! the service decides what they mean, and axum's decoding extractors (and their plain-text
//! rejections) are not used.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::Router;
use dam_core::{ImageService, ProblemDetails};

use crate::layers::{self, Limits};
use crate::response::{json, ApiError};

/// The header that carries the API key (matched case-insensitively, as all header names).
const API_KEY_HEADER: &str = "x-api-key";

/// The methods `/image` answers (HEAD is GET without a body).
const ALLOW_LIST: &str = "GET, HEAD";
/// The methods `/image/{id}` answers.
const ALLOW_DELETE: &str = "DELETE";

#[derive(Clone)]
struct AppState {
    service: ImageService,
    type_base: Arc<str>,
}

/// The whole application: the two routes, the problem answers for unknown paths (404) and
/// other methods (405, with `Allow`), and the layers of [`Limits`] (body size, time, request
/// logs with a request id).
pub fn router(service: ImageService, limits: &Limits) -> Router {
    let type_base: Arc<str> = Arc::from(service.config().problem_type_base.as_str());
    let state = AppState { service, type_base };
    let routes = Router::new()
        .route("/image", get(list_images).fallback(list_method_not_allowed))
        .route(
            "/image/{id}",
            delete(delete_image).fallback(delete_method_not_allowed),
        )
        .fallback(unknown_path)
        .with_state(state.clone());
    layers::apply(routes, limits, state.type_base)
}

/// `GET /image`.
async fn list_images(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let key = api_key(&headers);
    let path = uri.path();
    match state
        .service
        .list_images(key.as_deref(), uri.query(), path)
        .await
    {
        Ok(page) => json(&page, &state.type_base, path),
        Err(problem) => ApiError::from(problem).into_response(),
    }
}

/// `DELETE /image/{id}`; the id is the raw segment, not percent-decoded.
async fn delete_image(State(state): State<AppState>, uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path();
    let Some(raw_id) = path.strip_prefix("/image/") else {
        return ApiError::from(ProblemDetails::unknown_path(&state.type_base, path))
            .into_response();
    };
    let key = api_key(&headers);
    match state
        .service
        .delete_image(key.as_deref(), raw_id, path)
        .await
    {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(problem) => ApiError::from(problem).into_response(),
    }
}

async fn list_method_not_allowed(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
) -> ApiError {
    method_not_allowed(&state, &method, &uri, ALLOW_LIST)
}

async fn delete_method_not_allowed(
    State(state): State<AppState>,
    method: Method,
    uri: Uri,
) -> ApiError {
    method_not_allowed(&state, &method, &uri, ALLOW_DELETE)
}

fn method_not_allowed(
    state: &AppState,
    method: &Method,
    uri: &Uri,
    allow: &'static str,
) -> ApiError {
    ApiError {
        problem: ProblemDetails::method_not_allowed(
            &state.type_base,
            uri.path(),
            method.as_str(),
            allow,
        ),
        allow: Some(allow),
    }
}

async fn unknown_path(State(state): State<AppState>, uri: Uri) -> ApiError {
    ProblemDetails::unknown_path(&state.type_base, uri.path()).into()
}

/// The raw `X-API-KEY` value. A repeated header is one value joined with `", "` (RFC 9110
/// §5.3), which is not a well-formed key, so the service refuses it with a 400.
fn api_key(headers: &HeaderMap) -> Option<Vec<u8>> {
    let mut values = headers.get_all(API_KEY_HEADER).iter();
    let first = values.next()?;
    let mut key = first.as_bytes().to_vec();
    for more in values {
        key.extend_from_slice(b", ");
        key.extend_from_slice(more.as_bytes());
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_key_header_is_found_whatever_its_case_and_repeats_are_joined() {
        let mut headers = HeaderMap::new();
        assert_eq!(api_key(&headers), None);
        headers.append("X-Api-Key", HeaderValue::from_static("k1"));
        assert_eq!(api_key(&headers), Some(b"k1".to_vec()));
        headers.append("x-api-key", HeaderValue::from_static("k2"));
        assert_eq!(api_key(&headers), Some(b"k1, k2".to_vec()));
    }
}
