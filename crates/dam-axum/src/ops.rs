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

use crate::api::{method_not_allowed, ALLOW_LIST};
use crate::base_path::BasePath;
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
        let scrape = move || {
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
