//! The two routes of the API (§3, §4) with their 405 answers, as a router to mount in
//! any application, and the 404 answer for a host's fallback.
//!
//! Handlers take the path, query string and id segment from the URI themselves, still encoded:
//! the service decides what they mean, and axum's decoding extractors (and their plain-text
//! rejections) are not used.

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{ALLOW, RETRY_AFTER};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, MethodRouter};
use axum::Router;
use dam_core::{ImageService, ProblemDetails, TenantId};

use crate::base_path::BasePath;
use crate::layers::{client_path, HttpLayers};
use crate::openapi::{DeleteAnswers, ListAnswers, ListOptions};
use crate::problem::{json, ProblemResponse};
use crate::rate_limit::{Charge, RateLimit};
use crate::tenant::{ApiKeyResolver, TenantResolver};

/// The methods `/image` answers (HEAD is GET without a body).
pub(crate) const ALLOW_LIST: &str = "GET, HEAD";
/// The methods `/image/{id}` answers.
const ALLOW_DELETE: &str = "DELETE";
/// The default `Retry-After` of a 409, in seconds (§4).
pub const DEFAULT_RETRY_AFTER: NonZeroU32 = match NonZeroU32::new(5) {
    Some(seconds) => seconds,
    None => NonZeroU32::MIN,
};

/// DAM's HTTP face, configured: the service, how tenants are resolved, the public base path
/// and the `Retry-After` of a 409. [`DamApi::router`] gives the routes to mount.
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
/// // Mounted under a prefix, beside the host's own routes and fallback:
/// let app: Router = Router::new()
///     .nest("/api/dam", dam.router())
///     .fallback(|| async { "the host's own 404" });
/// ```
#[derive(Clone)]
pub struct DamApi {
    service: ImageService,
    resolver: Arc<dyn TenantResolver>,
    public_base: BasePath,
    retry_after: NonZeroU32,
    rate_limit: Option<RateLimit>,
}

impl DamApi {
    /// The API over `service`, tenants resolved by `X-API-KEY` ([`ApiKeyResolver`]), no public
    /// base path, `Retry-After: 5`.
    pub fn new(service: ImageService) -> Self {
        DamApi {
            resolver: Arc::new(ApiKeyResolver::new(service.clone())),
            service,
            public_base: BasePath::root(),
            retry_after: DEFAULT_RETRY_AFTER,
            rate_limit: None,
        }
    }

    /// Tenants resolved by `resolver` instead of `X-API-KEY`.
    pub fn with_tenant_resolver(self, resolver: impl TenantResolver) -> Self {
        self.with_shared_tenant_resolver(Arc::new(resolver))
    }

    /// Tenants resolved by a resolver that is shared with other parts of the host.
    pub fn with_shared_tenant_resolver(mut self, resolver: Arc<dyn TenantResolver>) -> Self {
        self.resolver = resolver;
        self
    }

    /// A prefix that a proxy in front of this application strips off before the request
    /// arrives: `instance` and `@nextLink` start with it, followed by the path the request
    /// arrived with. Not needed when the router is nested (the nest's prefix is kept anyway).
    pub fn with_public_base_path(mut self, base: BasePath) -> Self {
        self.public_base = base;
        self
    }

    /// The `Retry-After` of a 409, in whole seconds (default 5).
    pub fn with_retry_after(mut self, seconds: NonZeroU32) -> Self {
        self.retry_after = seconds;
        self
    }

    /// Limits each tenant's requests (§9.4), checked right after the tenant is resolved: past
    /// the limit a 429 problem with `Retry-After`; with it, every answer to a request whose
    /// tenant is known carries `RateLimit-Policy` and `RateLimit`. Refusals before a tenant is
    /// known (401, a malformed key's 400) are not charged. The limit holds per process: each
    /// server process behind a balancer counts on its own.
    pub fn with_rate_limit(mut self, limit: RateLimit) -> Self {
        self.rate_limit = Some(limit);
        self
    }

    /// The OpenAPI 3.1 document of [`DamApi::router`]'s routes, under the public base path
    /// (see [`crate::openapi`]).
    pub fn openapi(&self) -> utoipa::openapi::OpenApi {
        crate::openapi::prefix_paths(crate::openapi::openapi(), &self.public_base)
    }

    /// The service.
    pub fn service(&self) -> &ImageService {
        &self.service
    }

    /// The public base path ([`DamApi::with_public_base_path`]).
    pub fn public_base(&self) -> &BasePath {
        &self.public_base
    }

    /// The base of every problem's `type` (the service's).
    pub fn type_base(&self) -> &str {
        &self.service.config().problem_type_base
    }

    /// The routes `GET`/`HEAD /image` and `DELETE /image/{id}`, each answering other methods
    /// with a 405 problem and `Allow`; DAM's own state is applied, so the router fits a host
    /// of any state `S`. It has **no fallback**: `host.merge(router)` works when the host has
    /// one, and so does `host.nest("/prefix", router)`. Unknown paths are the host's to
    /// answer (e.g. with [`DamApi::not_found`]).
    ///
    /// No layer is applied: see [`DamApi::layers`].
    pub fn router<S>(&self) -> Router<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let shared = Arc::new(Shared {
            service: self.service.clone(),
            resolver: self.resolver.clone(),
            public_base: self.public_base.clone(),
            retry_after: HeaderValue::from(self.retry_after.get()),
            rate_limit: self.rate_limit.clone(),
        });
        Router::new()
            .route("/image", get(list_images).fallback(list_method_not_allowed))
            .route(
                "/image/{id}",
                delete(delete_image).fallback(delete_method_not_allowed),
            )
            .with_state(shared)
    }

    /// A handler that answers any request with the 404 problem of §8, for a host's
    /// (or server's) fallback: `host.fallback(dam.not_found())`.
    pub fn not_found<S>(&self) -> MethodRouter<S>
    where
        S: Clone + Send + Sync + 'static,
    {
        let type_base: Arc<str> = Arc::from(self.type_base());
        let public_base = self.public_base.clone();
        any(move |request: Request| {
            let instance = public_base.join(client_path(request.extensions(), request.uri()));
            let response = ProblemResponse::not_found(&type_base, &instance);
            async move { response }
        })
    }

    /// DAM's layers (body limit, time limit, panics, problem answers, request log) with the
    /// default limits and this API's problem `type` base and public base path; apply them to
    /// DAM's router, to the whole application, or not at all.
    pub fn layers(&self) -> HttpLayers {
        HttpLayers::new(self.type_base()).with_public_base_path(self.public_base.clone())
    }
}

/// [`DamApi::new`]`(service).router()`: the routes with `X-API-KEY` authentication.
pub fn router<S>(service: ImageService) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    DamApi::new(service).router()
}

/// What the handlers share.
struct Shared {
    service: ImageService,
    resolver: Arc<dyn TenantResolver>,
    public_base: BasePath,
    retry_after: HeaderValue,
    rate_limit: Option<RateLimit>,
}

/// A request past authentication and the rate limit.
struct Admitted {
    parts: Parts,
    /// The path the client used, under the public base path.
    instance: String,
    tenant: TenantId,
    charge: Charge,
}

impl Shared {
    /// The path the client used, under the public base path.
    fn instance(&self, request: &Parts) -> String {
        self.public_base
            .join(client_path(&request.extensions, &request.uri))
    }

    /// Authenticates the request, then charges it to the tenant's rate limit (§2: right after
    /// authentication): the admitted request, or the answer that refuses it.
    async fn admit(&self, request: Request) -> Result<Admitted, Response> {
        let (parts, _body) = request.into_parts();
        let instance = self.instance(&parts);
        let tenant = match self.resolver.resolve(&parts).await {
            Ok(tenant) => tenant,
            Err(refusal) => return Err(self.answer(refusal.to_problem(&self.service, &instance))),
        };
        let charge = Charge::of(self.rate_limit.as_ref(), &tenant);
        if let Some(retry_after) = charge.refused_for() {
            return Err(self.too_many_requests(charge, &instance, retry_after));
        }
        Ok(Admitted {
            parts,
            instance,
            tenant,
            charge,
        })
    }

    /// Admits the request ([`Shared::admit`]) and answers it with `operation`'s response or
    /// its problem, stamped with the request's charge.
    async fn serve(
        &self,
        request: Request,
        operation: impl AsyncFnOnce(&Admitted) -> Result<Response, ProblemDetails>,
    ) -> Response {
        let admitted = match self.admit(request).await {
            Ok(admitted) => admitted,
            Err(refused) => return refused,
        };
        let result = operation(&admitted).await;
        admitted
            .charge
            .stamp(result.unwrap_or_else(|problem| self.answer(problem)))
    }

    /// The 429 of a charge past the limit, with `Retry-After` and the limit's fields.
    fn too_many_requests(&self, charge: Charge, instance: &str, retry_after: u64) -> Response {
        let per_second = self
            .rate_limit
            .as_ref()
            .map_or(0, |limit| limit.quota().get());
        let response = ProblemResponse::too_many_requests(
            &self.service.config().problem_type_base,
            instance,
            per_second,
        )
        .with_header(RETRY_AFTER, HeaderValue::from(retry_after));
        charge.stamp(response.into_response())
    }

    /// A problem from the service, with `Retry-After` when it is a 409.
    fn answer(&self, problem: ProblemDetails) -> Response {
        let conflict = problem.status == StatusCode::CONFLICT.as_u16();
        let mut response = ProblemResponse::from(problem);
        if conflict {
            response = response.with_header(RETRY_AFTER, self.retry_after.clone());
        }
        response.into_response()
    }
}

/// A list body's bytes besides its items (`@count`, `@nextLink` with its token), and per item
/// (fifteen fields, two timestamps, a few tags and URLs): the first guess of the buffer.
const LIST_BODY_BASE: usize = 512;
const LIST_BODY_PER_ITEM: usize = 512;

/// `GET /image`.
#[utoipa::path(
    get,
    path = "/image",
    operation_id = "listImages",
    tag = "images",
    summary = "List the tenant's images",
    description = "A page of the caller's images that match `$filter`, in the order of `$orderby` then `id`; `@nextLink` leads to the next page.",
    params(ListOptions),
    responses(ListAnswers),
    security(("apiKey" = []))
)]
async fn list_images(State(api): State<Arc<Shared>>, request: Request) -> Response {
    api.serve(request, async |admitted| {
        let (tenant, instance) = (&admitted.tenant, &admitted.instance);
        let query = admitted.parts.uri.query();
        let service = &api.service;
        let page = service
            .list_images_for_tenant(tenant, query, instance)
            .await?;
        Ok(json(
            |out| page.write_json(out),
            LIST_BODY_BASE + LIST_BODY_PER_ITEM * page.items.len(),
            &service.config().problem_type_base,
            instance,
        ))
    })
    .await
}

/// `DELETE /image/{id}`; the id is the raw last segment, not percent-decoded.
#[utoipa::path(
    delete,
    path = "/image/{id}",
    operation_id = "deleteImage",
    tag = "images",
    summary = "Delete one of the tenant's images",
    description = "Deletes the image unless it is being processed (`Up`, `Re`); the check and the deletion are one atomic step.",
    params(("id" = i64, Path, minimum = 1, description = "The image id: a decimal integer from 1 to 9223372036854775807, digits only (no sign, leading zeros or fraction).")),
    responses(DeleteAnswers),
    security(("apiKey" = []))
)]
async fn delete_image(State(api): State<Arc<Shared>>, request: Request) -> Response {
    api.serve(request, async |admitted| {
        // The route is `/image/{id}`: the id is the one segment after the last `/`.
        let raw_id = admitted.parts.uri.path().rsplit('/').next();
        api.service
            .delete_image_for_tenant(
                &admitted.tenant,
                raw_id.unwrap_or_default(),
                &admitted.instance,
            )
            .await?;
        Ok(StatusCode::NO_CONTENT.into_response())
    })
    .await
}

async fn list_method_not_allowed(State(api): State<Arc<Shared>>, request: Request) -> Response {
    method_not_allowed(&api.service, &api.public_base, request, ALLOW_LIST)
}

async fn delete_method_not_allowed(State(api): State<Arc<Shared>>, request: Request) -> Response {
    method_not_allowed(&api.service, &api.public_base, request, ALLOW_DELETE)
}

/// The 405 problem of §8 with `Allow`, for a route that answers only `allow`.
pub(crate) fn method_not_allowed(
    service: &ImageService,
    public_base: &BasePath,
    request: Request,
    allow: &'static str,
) -> Response {
    let (parts, _body) = request.into_parts();
    let method: &Method = &parts.method;
    let problem = ProblemDetails::method_not_allowed(
        &service.config().problem_type_base,
        &public_base.join(client_path(&parts.extensions, &parts.uri)),
        method.as_str(),
        allow,
    );
    ProblemResponse::from(problem)
        .with_header(ALLOW, HeaderValue::from_static(allow))
        .into_response()
}
