//! `GET /openapi.json` (§9.3): the OpenAPI 3.1 document of every route this server serves,
//! under its base path, without a key.

use std::sync::Arc;

use axum::extract::{OriginalUri, State};
use axum::http::header::{ALLOW, CONTENT_TYPE};
use axum::http::{HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use dam_axum::utoipa::openapi::OpenApi as Document;
use dam_axum::{BasePath, ProblemResponse};
use dam_core::ProblemDetails;
use utoipa::OpenApi;

/// The path of the document, under the base path.
pub const OPENAPI_PATH: &str = "/openapi.json";

/// The methods the document's path answers.
const ALLOW_DOCUMENT: &str = "GET, HEAD";

/// The server's own operations, merged into `dam-axum`'s document.
#[derive(OpenApi)]
#[openapi(
    paths(openapi_document),
    tags((name = "operations", description = "Serving the API (§9), no key needed")),
)]
struct ServerDoc;

/// The document of everything the server serves: DAM's operations and the server's own,
/// under `base`.
pub fn document(base: &BasePath) -> Document {
    let mut document = dam_axum::openapi();
    document.merge(dam_axum::ops_openapi());
    document.merge(ServerDoc::openapi());
    dam_axum::prefix_paths(document, base)
}

struct Served {
    body: Arc<[u8]>,
    type_base: String,
}

/// The route of the document (to nest under the base path with the API's routes): `GET` and
/// `HEAD` answer it, other methods a 405 problem.
pub fn router(base: &BasePath, type_base: &str) -> Router {
    // A document of plain strings and maps always serializes; should it not, the route
    // answers with an empty object rather than failing the server's start.
    let body = document(base).to_json().unwrap_or_else(|error| {
        tracing::error!(%error, "cannot serialize the OpenAPI document");
        "{}".to_string()
    });
    let served = Arc::new(Served {
        body: Arc::from(body.into_bytes()),
        type_base: type_base.to_string(),
    });
    Router::new().route(
        OPENAPI_PATH,
        get(openapi_document)
            .fallback(method_not_allowed)
            .with_state(served),
    )
}

/// `GET /openapi.json`.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openApiDocument",
    tag = "operations",
    summary = "This OpenAPI document",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of every route of the server.", content_type = "application/json", body = Object),
        (status = 500, description = "An internal error.", content_type = "application/problem+json", body = ref("#/components/schemas/Problem")),
        (status = 503, description = "The request took longer than the server's time limit.", content_type = "application/problem+json", body = ref("#/components/schemas/Problem")),
    )
)]
async fn openapi_document(State(served): State<Arc<Served>>) -> Response {
    (
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        served.body.to_vec(),
    )
        .into_response()
}

async fn method_not_allowed(
    State(served): State<Arc<Served>>,
    method: Method,
    OriginalUri(uri): OriginalUri,
) -> Response {
    let problem = ProblemDetails::method_not_allowed(
        &served.type_base,
        uri.path(),
        method.as_str(),
        ALLOW_DOCUMENT,
    );
    ProblemResponse::from(problem)
        .with_header(ALLOW, HeaderValue::from_static(ALLOW_DOCUMENT))
        .into_response()
}
