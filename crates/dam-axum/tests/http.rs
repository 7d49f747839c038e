//! The HTTP face in-process: the default `X-API-KEY` resolution, the other resolvers and their
//! refusals, the public base path, `Retry-After`, and the layers' own answers (413, 503, 500),
//! every one a problem document.

mod support;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::Request;
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use dam_axum::{
    async_trait, BasePath, DamApi, HttpLimits, Refusal, TenantFromExtensions, TenantResolver,
};
use dam_core::store::SeedStore;
use dam_core::{Fixture, ImageService, TenantId};
use dam_store_memory::MemoryStore;
use support::{ids, send, send_body, Answer};

const KEY: &str = "acme-key";

/// acme (key `acme-key`): ids 1–5, 3 being processed.
async fn service() -> ImageService {
    let images: Vec<String> = (1..=5)
        .map(|id| {
            let status = if id == 3 { "Up" } else { "Ok" };
            format!(
                r#"{{ "id": {id}, "reference": "{id}.jpg", "fileType": "jpg",
                "status": "{status}", "createdOn": "2024-04-05T08:44:33" }}"#
            )
        })
        .collect();
    let fixture = Fixture::from_json(&format!(
        r#"{{ "tenants": [ {{ "name": "acme", "apiKeys": ["{KEY}"], "images": [{}] }} ] }}"#,
        images.join(",")
    ))
    .expect("fixture");
    let store = Arc::new(MemoryStore::new());
    store.load_fixture(&fixture).await.expect("load");
    ImageService::new(store.clone(), store)
}

/// DAM at the root with its layers and 404 fallback, as a server mounts it.
fn standalone(dam: &DamApi) -> Router {
    dam.layers()
        .apply(Router::new().merge(dam.router()).fallback(dam.not_found()))
}

fn key(value: &str) -> Vec<(&'static str, String)> {
    vec![("x-api-key", value.to_string())]
}

async fn get_with_key(app: &Router, target: &str) -> Answer {
    send(app, "GET", target, &key(KEY)).await
}

#[tokio::test]
async fn the_default_resolver_follows_the_contracts_key_rules() {
    let app = standalone(&DamApi::new(service().await));
    for headers in [vec![], key(""), key("   "), key("unknown-key")] {
        send(&app, "GET", "/image", &headers).await.problem(
            401,
            "unauthorized",
            "Unauthorized",
            "/image",
        );
        send(&app, "DELETE", "/image/1", &headers).await.problem(
            401,
            "unauthorized",
            "Unauthorized",
            "/image/1",
        );
    }
    let answer = send(&app, "GET", "/image", &key("acme key")).await;
    let problem = answer.problem(400, "validation", "Bad Request", "/image");
    assert_eq!(problem["errors"][0]["parameter"], "X-API-KEY");
    // a repeated header is one malformed value
    let twice = [
        ("x-api-key", KEY.to_string()),
        ("x-api-key", KEY.to_string()),
    ];
    assert_eq!(send(&app, "GET", "/image", &twice).await.status, 400);
    let answer = get_with_key(&app, "/image?$count=true").await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(ids(&answer.json()), [1, 2, 3, 4, 5]);
    // HEAD is GET without a body
    let answer = send(&app, "HEAD", "/image", &key(KEY)).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert!(answer.body.is_empty());
}

#[tokio::test]
async fn unknown_paths_and_other_methods_are_problems() {
    let app = standalone(&DamApi::new(service().await));
    for path in ["/", "/images", "/image/", "/image/1/x", "/IMAGE"] {
        send(&app, "GET", path, &[])
            .await
            .problem(404, "not-found", "Not Found", path);
    }
    for (method, path, allow) in [
        ("POST", "/image", "GET, HEAD"),
        ("DELETE", "/image", "GET, HEAD"),
        ("GET", "/image/1", "DELETE"),
        ("PUT", "/image/abc", "DELETE"),
    ] {
        let answer = send(&app, method, path, &key(KEY)).await;
        let problem = answer.problem(405, "method-not-allowed", "Method Not Allowed", path);
        assert_eq!(answer.header("allow"), Some(allow));
        assert!(problem["detail"].as_str().unwrap_or("").contains(method));
    }
}

#[tokio::test]
async fn a_conflict_carries_retry_after_default_5_or_as_configured() {
    let app = standalone(&DamApi::new(service().await));
    let answer = send(&app, "DELETE", "/image/3", &key(KEY)).await;
    answer.problem(409, "conflict", "Conflict", "/image/3");
    assert_eq!(answer.header("retry-after"), Some("5"));
    let seconds = NonZeroU32::new(17).expect("non-zero");
    let app = standalone(&DamApi::new(service().await).with_retry_after(seconds));
    let answer = send(&app, "DELETE", "/image/3", &key(KEY)).await;
    assert_eq!(answer.status, StatusCode::CONFLICT);
    assert_eq!(answer.header("retry-after"), Some("17"));
    // only a 409 says when to retry
    let answer = send(&app, "DELETE", "/image/9", &key(KEY)).await;
    assert_eq!(answer.status, StatusCode::NOT_FOUND);
    assert_eq!(answer.header("retry-after"), None);
}

#[tokio::test]
async fn a_public_base_path_prefixes_instance_next_link_and_the_404() {
    let base = BasePath::parse("/dam/v2").expect("base path");
    let dam = DamApi::new(service().await).with_public_base_path(base);
    // the proxy strips /dam/v2: the application sees /image
    let app = standalone(&dam);
    let page = get_with_key(&app, "/image?$top=2").await.json();
    let link = page["@nextLink"].as_str().expect("a link");
    assert!(
        link.starts_with("/dam/v2/image?$top=2&$skiptoken="),
        "{link}"
    );
    get_with_key(&app, "/image?$top=x").await.problem(
        400,
        "validation",
        "Bad Request",
        "/dam/v2/image",
    );
    send(&app, "DELETE", "/image/3", &key(KEY)).await.problem(
        409,
        "conflict",
        "Conflict",
        "/dam/v2/image/3",
    );
    send(&app, "GET", "/other", &[])
        .await
        .problem(404, "not-found", "Not Found", "/dam/v2/other");
}

#[tokio::test]
async fn nested_twice_the_whole_prefix_is_kept() {
    let dam = DamApi::new(service().await);
    let app: Router = Router::new().nest("/a", Router::new().nest("/b", dam.router()));
    let page = get_with_key(&app, "/a/b/image?$top=4").await.json();
    let link = page["@nextLink"].as_str().expect("a link");
    assert!(link.starts_with("/a/b/image?$top=4&$skiptoken="), "{link}");
    send(&app, "DELETE", "/a/b/image/x", &key(KEY))
        .await
        .problem(400, "validation", "Bad Request", "/a/b/image/x");
}

/// The host's authentication middleware: `x-user: acme` → tenant acme.
async fn host_auth(mut request: Request, next: Next) -> Response {
    let tenant = request
        .headers()
        .get("x-user")
        .and_then(|v| v.to_str().ok())
        .and_then(|name| TenantId::new(name).ok());
    if let Some(tenant) = tenant {
        request.extensions_mut().insert(tenant);
    }
    next.run(request).await
}

#[tokio::test]
async fn a_tenant_from_the_hosts_middleware_is_used_and_its_absence_is_401() {
    let dam = DamApi::new(service().await).with_tenant_resolver(TenantFromExtensions);
    let with_middleware: Router = dam.router().layer(middleware::from_fn(host_auth));
    let user = [("x-user", "acme".to_string())];
    let answer = send(&with_middleware, "GET", "/image", &user).await;
    assert_eq!(ids(&answer.json()), [1, 2, 3, 4, 5]);
    let answer = send(&with_middleware, "DELETE", "/image/1", &user).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    // the key means nothing here
    send(&with_middleware, "GET", "/image", &key(KEY))
        .await
        .problem(401, "unauthorized", "Unauthorized", "/image");
    // the middleware forgotten: every request refused, none served by default
    let without: Router = dam.router();
    send(&without, "GET", "/image", &user).await.problem(
        401,
        "unauthorized",
        "Unauthorized",
        "/image",
    );
}

/// Refuses by the `x-case` header: malformed, failed, or unauthorized.
struct Strict;

#[async_trait]
impl TenantResolver for Strict {
    async fn resolve(&self, request: &Parts) -> Result<TenantId, Refusal> {
        let case = request.headers.get("x-case").and_then(|v| v.to_str().ok());
        Err(match case {
            Some("malformed") => Refusal::Malformed {
                parameter: "Authorization".into(),
                detail: "The Authorization header is not a bearer token.".into(),
            },
            Some("failed") => Refusal::Failed("session store at 10.0.0.7 unreachable".into()),
            _ => Refusal::unauthorized("Sign in first."),
        })
    }
}

#[tokio::test]
async fn each_refusal_is_its_problem_and_a_failure_leaks_nothing() {
    let app = standalone(&DamApi::new(service().await).with_tenant_resolver(Strict));
    let case = |c: &str| vec![("x-case", c.to_string())];
    let answer = send(&app, "GET", "/image?$top=999", &case("malformed")).await;
    let problem = answer.problem(400, "validation", "Bad Request", "/image");
    assert_eq!(problem["errors"][0]["parameter"], "Authorization");
    let answer = send(&app, "DELETE", "/image/1", &case("failed")).await;
    answer.problem(500, "internal", "Internal Server Error", "/image/1");
    assert!(!answer.text().contains("10.0.0.7"), "{}", answer.text());
    let answer = send(&app, "GET", "/image", &case("none")).await;
    let problem = answer.problem(401, "unauthorized", "Unauthorized", "/image");
    assert_eq!(problem["detail"], "Sign in first.");
}

#[tokio::test]
async fn a_body_over_the_limit_is_a_413_problem_and_deletes_nothing() {
    let dam = DamApi::new(service().await);
    let app = dam
        .layers()
        .with_limits(HttpLimits::default().with_max_body_bytes(16))
        .apply(dam.router());
    let headers = [
        ("x-api-key", KEY.to_string()),
        ("content-length", "100".to_string()),
    ];
    let answer = send_body(
        &app,
        "DELETE",
        "/image/1",
        &headers,
        Body::from("x".repeat(100)),
    )
    .await;
    answer.problem(413, "payload-too-large", "Payload Too Large", "/image/1");
    assert!(answer.header("x-request-id").is_some());
    assert_eq!(
        ids(&get_with_key(&app, "/image").await.json()),
        [1, 2, 3, 4, 5]
    );
}

#[tokio::test]
async fn a_timeout_and_a_panic_in_the_hosts_routes_are_problems_too() {
    let dam = DamApi::new(service().await);
    let host: Router = Router::new()
        .route("/never", get(std::future::pending::<()>))
        .route(
            "/panics",
            get(|| async {
                panic!("a bug in the host");
                #[allow(unreachable_code)]
                ()
            }),
        )
        .merge(dam.router());
    let app = dam
        .layers()
        .with_limits(HttpLimits::default().with_request_timeout(Duration::from_millis(20)))
        .apply(host);
    let answer = send(&app, "GET", "/never", &[]).await;
    let problem = answer.problem(503, "unavailable", "Service Unavailable", "/never");
    assert!(problem["detail"]
        .as_str()
        .unwrap_or("")
        .contains("Retry later"));
    let answer = send(&app, "GET", "/panics", &[]).await;
    answer.problem(500, "internal", "Internal Server Error", "/panics");
    assert!(!answer.text().contains("a bug"));
}

#[tokio::test]
async fn an_extractors_plain_text_rejection_in_the_hosts_routes_is_a_problem() {
    let dam = DamApi::new(service().await);
    let host: Router = Router::new()
        .route(
            "/n/{n}",
            get(|axum::extract::Path(n): axum::extract::Path<u32>| async move { n.to_string() }),
        )
        .route(
            "/json",
            axum::routing::post(|axum::Json(v): axum::Json<serde_json::Value>| async move {
                v.to_string()
            }),
        )
        .merge(dam.router());
    let app = dam.layers().apply(host);
    // axum answers these with text/plain bodies; the layers turn them into problems
    let answer = send(&app, "GET", "/n/abc", &[]).await;
    answer.problem(400, "validation", "Bad Request", "/n/abc");
    assert!(!answer.text().contains("Invalid URL"));
    let answer = send(&app, "POST", "/json", &[]).await;
    answer.problem(
        415,
        "unsupported-media-type",
        "Unsupported Media Type",
        "/json",
    );
    let answer = send_body(
        &app,
        "POST",
        "/json",
        &[("content-type", "application/json".to_string())],
        Body::from("{not json"),
    )
    .await;
    answer.problem(400, "validation", "Bad Request", "/json");
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
}
