//! The operator's routes (§9.1, §9.2): liveness, readiness and a metrics scrape. None needs a
//! key; each answers `GET` and `HEAD` only (else a 405 problem with `Allow`).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use dam_core::ImageService;
use utoipa::openapi::content::{Content, ContentBuilder};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, Paths};
use utoipa::openapi::response::{ResponseBuilder, ResponsesBuilder};
use utoipa::openapi::schema::{Object, Type};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{OpenApi, OpenApiBuilder, Ref};

use crate::api::{method_not_allowed, ALLOW_LIST};
use crate::base_path::BasePath;
use crate::layers::client_path;
use crate::problem::ProblemResponse;
use crate::DamApi;

/// The media type of the Prometheus text exposition format (§9.2).
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// The body of a healthy probe.
const OK_BODY: &str = "{\"status\":\"ok\"}";

/// What the operator's handlers share.
struct Ops {
    service: ImageService,
    public_base: BasePath,
}

impl DamApi {
    /// The probes: `GET /livez` answers 200 while the process serves requests and touches no
    /// store; `GET /readyz` answers 200 when the store answers within 2 s, else a 503 problem
    /// (slug `unavailable`) that names no cause (the cause is logged). A load balancer takes
    /// the process out of rotation on 503 and back on 200.
    ///
    /// No key is needed; other methods get a 405 problem. Like [`DamApi::router`] it has no
    /// fallback, and mounts by `merge` or `nest` (typically beside DAM's router, so the probes
    /// share its prefix):
    ///
    /// ```
    /// use std::sync::Arc;
    /// use axum::Router;
    /// use dam_axum::DamApi;
    /// use dam_core::ImageService;
    /// use dam_store_memory::MemoryStore;
    ///
    /// let store = Arc::new(MemoryStore::new());
    /// let dam = DamApi::new(ImageService::new(store.clone(), store));
    /// let app: Router = Router::new()
    ///     .nest("/dam", dam.router().merge(dam.ops_router()))
    ///     .fallback(dam.not_found());
    /// ```
    pub fn ops_router<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let ops = self.ops();
        Router::new()
            .route("/livez", get(livez).fallback(get_only))
            .route("/readyz", get(readyz).fallback(get_only))
            .with_state(ops)
    }

    /// `GET /metrics`: the text that `render` returns, as the Prometheus text format
    /// (`text/plain; version=0.0.4`). DAM records its metrics through the `metrics` facade
    /// ([`crate::metrics`]); `render` is the host's exporter, e.g. a
    /// `metrics_exporter_prometheus::PrometheusHandle`'s `render`. No key is needed; other
    /// methods get a 405 problem.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use axum::Router;
    /// use dam_axum::DamApi;
    /// use dam_core::ImageService;
    /// use dam_store_memory::MemoryStore;
    ///
    /// let store = Arc::new(MemoryStore::new());
    /// let dam = DamApi::new(ImageService::new(store.clone(), store));
    /// let app: Router = dam.metrics_router(|| "# no metrics yet\n".to_string());
    /// ```
    pub fn metrics_router<S, F>(&self, render: F) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
        F: Fn() -> String + Clone + Send + Sync + 'static,
    {
        let service = self.service().clone();
        let scrape = move || {
            crate::metrics::record_pools(&service);
            let text = render();
            async move {
                (
                    [(
                        CONTENT_TYPE,
                        HeaderValue::from_static(PROMETHEUS_CONTENT_TYPE),
                    )],
                    text,
                )
            }
        };
        Router::new()
            .route("/metrics", get(scrape).fallback(get_only))
            .with_state(self.ops())
    }

    fn ops(&self) -> Arc<Ops> {
        Arc::new(Ops {
            service: self.service().clone(),
            public_base: self.public_base().clone(),
        })
    }
}

/// `GET /livez`.
async fn livez() -> Response {
    json_ok()
}

/// `GET /readyz`: 200 when the store answers [`ImageService::ready`], else its 503 problem
/// (the cause goes to the log through [`ImageService::problem`], never to the document).
async fn readyz(State(ops): State<Arc<Ops>>, request: Request) -> Response {
    match ops.service.ready().await {
        Ok(()) => json_ok(),
        Err(error) => {
            let (parts, _body) = request.into_parts();
            let instance = ops
                .public_base
                .join(client_path(&parts.extensions, &parts.uri));
            ProblemResponse::from(ops.service.problem(&error, &instance)).into_response()
        }
    }
}

/// The OpenAPI 3.1 paths of the probes ([`DamApi::ops_router`]: `/livez`, `/readyz`) and the
/// scrape ([`DamApi::metrics_router`]: `/metrics`) at the root, to merge into
/// [`crate::openapi`]'s document (whose components it refers to) when a host serves them:
///
/// ```
/// let mut document = dam_axum::openapi();
/// document.merge(dam_axum::ops_openapi());
/// assert!(document.paths.paths.contains_key("/readyz"));
/// ```
pub fn ops_openapi() -> OpenApi {
    let json_ok = |description: &str| {
        let content = ContentBuilder::new()
            .schema(Some(Object::with_type(Type::Object)))
            .example(Some(serde_json::json!({ "status": "ok" })))
            .build();
        ResponseBuilder::new()
            .description(description)
            .content("application/json", content)
            .build()
    };
    let unavailable = ResponseBuilder::new()
        .description("The store does not answer (the cause is in the server's log).")
        .content(
            "application/problem+json",
            Content::new(Some(Ref::from_schema_name("Problem"))),
        )
        .build();
    let scrape = ResponseBuilder::new()
        .description("The metrics of the process's recorder.")
        .content(
            PROMETHEUS_CONTENT_TYPE,
            Content::new(Some(Object::with_type(Type::String))),
        )
        .build();
    let routes = [
        (
            "/livez",
            "livez",
            "Liveness",
            "200 while the process serves requests; touches no store.",
            vec![("200", json_ok("The process serves requests."))],
        ),
        (
            "/readyz",
            "readyz",
            "Readiness",
            "200 when the store answers a trivial query within 2 seconds, else a 503 problem \
             (`unavailable`) that names no cause.",
            vec![("200", json_ok("The store answers.")), ("503", unavailable)],
        ),
        (
            "/metrics",
            "metrics",
            "Metrics",
            "The Prometheus text exposition format (§9.2).",
            vec![("200", scrape)],
        ),
    ];
    let mut paths = Paths::new();
    for (path, id, summary, description, responses) in routes {
        let operation = OperationBuilder::new()
            .operation_id(Some(id))
            .tag(OPERATIONS_TAG)
            .summary(Some(summary))
            .description(Some(description))
            .responses(
                ResponsesBuilder::new()
                    .responses_from_iter(responses)
                    .build(),
            )
            .build();
        paths.add_path_operation(path, vec![HttpMethod::Get], operation);
    }
    let tag = TagBuilder::new()
        .name(OPERATIONS_TAG)
        .description(Some("Serving the API (§9), no key needed"))
        .build();
    OpenApiBuilder::new().paths(paths).tags(Some([tag])).build()
}

/// The tag of the operator's routes in the OpenAPI document.
pub const OPERATIONS_TAG: &str = "operations";

fn json_ok() -> Response {
    (
        [(CONTENT_TYPE, HeaderValue::from_static("application/json"))],
        OK_BODY,
    )
        .into_response()
}

async fn get_only(State(ops): State<Arc<Ops>>, request: Request) -> Response {
    method_not_allowed(&ops.service, &ops.public_base, request, ALLOW_LIST)
}
