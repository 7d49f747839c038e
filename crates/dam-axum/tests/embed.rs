//! The embedding example (`examples/embed.rs`), driven in-process: DAM under `/api/dam` beside
//! the host's routes and fallback, with the host's bearer-token authentication; the same
//! routes merged at the root of a host that has a fallback; and the README showing the
//! example as it is.

#[allow(dead_code)]
#[path = "../examples/embed.rs"]
mod embed;

mod support;

use axum::http::StatusCode;
use axum::Router;
use dam_axum::DamApi;
use support::{send, Answer};

const ACME: &str = "Bearer acme-token";
const GLOBEX: &str = "Bearer globex-token";

async fn nested_app() -> Router {
    embed::app(
        embed::demo_service().await.expect("demo data"),
        embed::demo_tokens().expect("tokens"),
    )
}

async fn get(app: &Router, target: &str, token: Option<&str>) -> Answer {
    send(app, "GET", target, &auth(token)).await
}

fn auth(token: Option<&str>) -> Vec<(&'static str, String)> {
    token
        .map(|t| vec![("authorization", t.to_string())])
        .unwrap_or_default()
}

/// Follows `@nextLink` from `target` to the last page; every link stays under `prefix`.
async fn walk(app: &Router, target: &str, token: &str, prefix: &str) -> Vec<i64> {
    let mut target = target.to_string();
    let mut ids = Vec::new();
    for _ in 0..100 {
        let answer = get(app, &target, Some(token)).await;
        assert_eq!(answer.status, StatusCode::OK, "{target}: {}", answer.text());
        let page = answer.json();
        ids.extend(support::ids(&page));
        match page.get("@nextLink").and_then(|link| link.as_str()) {
            Some(link) => {
                assert!(
                    link.starts_with(&format!("{prefix}/image?")),
                    "{link} leaves {prefix}"
                );
                target = link.to_string();
            }
            None => return ids,
        }
    }
    panic!("more than 100 pages");
}

#[tokio::test]
async fn nested_every_next_link_keeps_the_prefix_through_all_pages() {
    let app = nested_app().await;
    let ids = walk(&app, "/api/dam/image?$top=4&$count=true", ACME, "/api/dam").await;
    assert_eq!(ids, (1..=25).collect::<Vec<_>>());
    let filtered = walk(
        &app,
        "/api/dam/image?$filter=id%20gt%2010&$orderby=id%20desc&$top=3",
        ACME,
        "/api/dam",
    )
    .await;
    assert_eq!(filtered, (11..=25).rev().collect::<Vec<_>>());
    // each token sees its own tenant only
    let globex = walk(&app, "/api/dam/image?$top=2", GLOBEX, "/api/dam").await;
    assert_eq!(globex, [101, 102, 103]);
}

#[tokio::test]
async fn the_custom_resolver_refuses_with_the_contracts_401_problem() {
    let app = nested_app().await;
    for token in [
        None,
        Some("Bearer wrong"),
        Some("acme-token"),
        Some("Basic x"),
    ] {
        let answer = get(&app, "/api/dam/image", token).await;
        let problem = answer.problem(401, "unauthorized", "Unauthorized", "/api/dam/image");
        assert_eq!(problem["detail"], "A valid bearer token is required.");
        let answer = send(&app, "DELETE", "/api/dam/image/1", &auth(token)).await;
        answer.problem(401, "unauthorized", "Unauthorized", "/api/dam/image/1");
    }
    // X-API-KEY means nothing to this host
    let answer = send(
        &app,
        "GET",
        "/api/dam/image",
        &[("x-api-key", "acme".to_string())],
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn nested_problems_carry_the_prefix_and_409_says_when_to_retry() {
    let app = nested_app().await;
    get(&app, "/api/dam/image?$top=101", Some(ACME))
        .await
        .problem(400, "validation", "Bad Request", "/api/dam/image");
    let answer = send(&app, "DELETE", "/api/dam/image/7", &auth(Some(ACME))).await;
    answer.problem(409, "conflict", "Conflict", "/api/dam/image/7");
    assert_eq!(answer.header("retry-after"), Some("5"));
    // another tenant's image is not found; its own is deleted
    let answer = send(&app, "DELETE", "/api/dam/image/1", &auth(Some(GLOBEX))).await;
    answer.problem(404, "not-found", "Not Found", "/api/dam/image/1");
    let answer = send(&app, "DELETE", "/api/dam/image/1", &auth(Some(ACME))).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    let answer = send(&app, "POST", "/api/dam/image", &auth(Some(ACME))).await;
    answer.problem(
        405,
        "method-not-allowed",
        "Method Not Allowed",
        "/api/dam/image",
    );
    assert_eq!(answer.header("allow"), Some("GET, HEAD"));
    // DAM's layers run on DAM's routes: a request id on each answer
    assert!(answer.header("x-request-id").is_some());
}

#[tokio::test]
async fn the_hosts_routes_and_fallback_still_answer() {
    let app = nested_app().await;
    let answer = get(&app, "/", None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.text(), "welcome to the shop");
    for path in [
        "/image",
        "/api/dam",
        "/api/dam/",
        "/api/dam/images",
        "/nowhere",
    ] {
        let answer = get(&app, path, Some(ACME)).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(answer.text(), "nothing here", "{path}");
    }
}

#[tokio::test]
async fn merged_beside_a_host_fallback_the_routes_answer_at_the_root() {
    let dam = DamApi::new(embed::demo_service().await.expect("demo data"))
        .with_tenant_resolver(embed::demo_tokens().expect("tokens"));
    // A host with a fallback of its own: merging DAM's router must not panic.
    let app: Router = Router::new()
        .fallback(|| async { (StatusCode::NOT_FOUND, "nothing here") })
        .merge(dam.router());
    let ids = walk(&app, "/image?$top=10", ACME, "").await;
    assert_eq!(ids.len(), 25);
    get(&app, "/image", None)
        .await
        .problem(401, "unauthorized", "Unauthorized", "/image");
    assert_eq!(get(&app, "/other", None).await.text(), "nothing here");
}

#[test]
fn the_readme_shows_the_example_as_it_is() {
    let readme = include_str!("../../../README.md");
    let example = include_str!("../examples/embed.rs");
    let block = format!("```rust\n{example}```");
    assert!(
        readme.contains(&block),
        "README.md's \"Embedding\" section must hold crates/dam-axum/examples/embed.rs verbatim"
    );
}
