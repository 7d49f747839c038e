//! The operator's side in-process (§9): the probes and the scrape route (no key, GET/HEAD only),
//! request ids on every answer, and the HTTP metrics with their labels.

mod support;

use std::sync::Arc;

use axum::Router;
use dam_axum::metrics::DURATION_BUCKETS;
use dam_axum::{DamApi, MAX_REQUEST_ID_LEN, PROMETHEUS_CONTENT_TYPE};
use dam_core::store::SeedStore;
use dam_core::{Fixture, ImageService};
use dam_store_memory::MemoryStore;
use dam_store_tests::scrape::Scrape;
use dam_store_tests::wrap::{Faulty, Operation};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
use support::{send, Answer};

const KEY: &str = "acme-key";

/// acme (key `acme-key`) with images 1 and 2.
async fn dam() -> DamApi {
    let fixture = Fixture::from_json(&format!(
        r#"{{ "tenants": [ {{ "name": "acme", "apiKeys": ["{KEY}"], "images": [
            {{ "id": 1, "reference": "a.jpg", "fileType": "jpg", "status": "Ok",
               "createdOn": "2024-04-05T08:44:33" }},
            {{ "id": 2, "reference": "b.jpg", "fileType": "jpg", "status": "Ok",
               "createdOn": "2024-04-05T08:44:33" }} ] }} ] }}"#
    ))
    .expect("fixture");
    let store = Arc::new(MemoryStore::new());
    store.load_fixture(&fixture).await.expect("load");
    DamApi::new(ImageService::new(store.clone(), store))
}

/// DAM's routes and probes nested under `/api/dam` in a host, with the layers and the 404.
fn nested(dam: &DamApi) -> Router {
    let routes = dam.router().merge(dam.ops_router());
    dam.layers().apply(
        Router::new()
            .nest("/api/dam", routes)
            .fallback(dam.not_found()),
    )
}

fn request_id(answer: &Answer) -> &str {
    answer.header("x-request-id").expect("an x-request-id")
}

fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.chars().enumerate().all(|(i, c)| {
            matches!(i, 8 | 13 | 18 | 23) == (c == '-') && (c == '-' || c.is_ascii_hexdigit())
        })
}

#[tokio::test]
async fn livez_answers_get_and_head_without_a_key() {
    let dam = dam().await;
    let app = nested(&dam);
    let answer = send(&app, "GET", "/api/dam/livez", &[]).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.header("content-type"), Some("application/json"));
    assert_eq!(answer.json()["status"], "ok");
    let answer = send(&app, "HEAD", "/api/dam/livez", &[]).await;
    assert_eq!(answer.status, 200);
    assert!(answer.body.is_empty());
    // Outside the mount it is the host's 404.
    send(&app, "GET", "/livez", &[])
        .await
        .problem(404, "not-found", "Not Found", "/livez");
}

#[tokio::test]
async fn readyz_follows_the_store_and_names_no_cause() {
    let store = Arc::new(Faulty::new(Arc::new(MemoryStore::new())));
    let dam = DamApi::new(ImageService::new(store.clone(), store.clone()));
    let app = nested(&dam);
    let answer = send(&app, "GET", "/api/dam/readyz", &[]).await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    assert_eq!(answer.json()["status"], "ok");

    store.fail(&[Operation::Ping]);
    let answer = send(&app, "GET", "/api/dam/readyz", &[]).await;
    let problem = answer.problem(503, "unavailable", "Service Unavailable", "/api/dam/readyz");
    let text = problem.to_string();
    assert!(!text.contains("secret-store"), "no cause in {text}");
    assert!(!text.contains("SELECT"), "no cause in {text}");
    // Liveness never asks the store.
    assert_eq!(send(&app, "GET", "/api/dam/livez", &[]).await.status, 200);

    store.heal();
    assert_eq!(send(&app, "GET", "/api/dam/readyz", &[]).await.status, 200);
    let answer = send(&app, "HEAD", "/api/dam/readyz", &[]).await;
    assert_eq!(answer.status, 200);
    assert!(answer.body.is_empty());
}

#[tokio::test]
async fn probes_and_scrape_refuse_other_methods_with_405_and_allow() {
    let dam = dam().await;
    let app = nested(&dam).merge(dam.metrics_router(String::new));
    for (method, target) in [
        ("POST", "/api/dam/livez"),
        ("DELETE", "/api/dam/livez"),
        ("POST", "/api/dam/readyz"),
        ("PUT", "/metrics"),
    ] {
        let answer = send(&app, method, target, &[]).await;
        answer.problem(405, "method-not-allowed", "Method Not Allowed", target);
        assert_eq!(
            answer.header("allow"),
            Some("GET, HEAD"),
            "{method} {target}"
        );
    }
}

#[tokio::test]
async fn the_scrape_route_serves_the_renderers_text_as_prometheus_text() {
    let dam = dam().await;
    let app: Router = dam.metrics_router(|| "up 1\n".to_string());
    let answer = send(&app, "GET", "/metrics", &[]).await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.header("content-type"), Some(PROMETHEUS_CONTENT_TYPE));
    assert_eq!(answer.text(), "up 1\n");
}

#[tokio::test]
async fn a_valid_request_id_is_echoed_on_every_answer() {
    let dam = dam().await;
    let app = nested(&dam);
    let long = "x".repeat(MAX_REQUEST_ID_LEN);
    for id in ["a", "req-42", "!~{}", long.as_str()] {
        for (method, target, key) in [
            ("GET", "/api/dam/image", Some(KEY)),
            ("GET", "/api/dam/image", None),
            ("GET", "/nowhere", None),
            ("POST", "/api/dam/image", None),
            ("GET", "/api/dam/livez", None),
        ] {
            let mut headers = vec![("x-request-id", id.to_string())];
            headers.extend(key.map(|k| ("x-api-key", k.to_string())));
            let answer = send(&app, method, target, &headers).await;
            assert_eq!(
                request_id(&answer),
                id,
                "{method} {target} {}",
                answer.status
            );
        }
    }
}

#[tokio::test]
async fn an_invalid_request_id_is_replaced_by_a_fresh_uuid() {
    let dam = dam().await;
    let app = nested(&dam);
    let too_long = "x".repeat(MAX_REQUEST_ID_LEN + 1);
    let mut seen = Vec::new();
    for id in ["", "two words", "tab\there", too_long.as_str()] {
        let answer = send(&app, "GET", "/nowhere", &[("x-request-id", id.to_string())]).await;
        let answered = request_id(&answer).to_owned();
        assert!(is_uuid(&answered), "{id:?} became {answered:?}");
        seen.push(answered);
    }
    let answer = send(&app, "GET", "/api/dam/livez", &[]).await;
    seen.push(request_id(&answer).to_owned());
    let mut distinct = seen.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), seen.len(), "{seen:?}");
}

/// The HTTP metrics through a recorder local to this (single-threaded) test.
#[tokio::test]
async fn http_metrics_label_the_route_template_never_the_request() {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Full("http_server_request_duration_seconds".into()),
            &DURATION_BUCKETS,
        )
        .expect("buckets")
        .build_recorder();
    let handle = recorder.handle();
    let _guard = metrics::set_default_local_recorder(&recorder);
    let dam = dam().await;
    let app = nested(&dam);
    let key = [("x-api-key", KEY.to_string())];
    send(
        &app,
        "GET",
        "/api/dam/image?$filter=id%20eq%202&$top=1",
        &key,
    )
    .await;
    send(&app, "DELETE", "/api/dam/image/2", &key).await;
    send(&app, "DELETE", "/api/dam/image/2", &key).await;
    send(&app, "PATCH", "/api/dam/image/1", &key).await;
    send(&app, "BREW", "/api/dam/image", &key).await;
    send(&app, "GET", "/secret-path/12345", &key).await;
    send(&app, "GET", "/api/dam/livez", &[]).await;

    let scrape = Scrape::parse(&handle.render()).expect("a valid scrape");
    let mut seen: Vec<(String, String, String, f64)> = scrape
        .samples("http_server_request_duration_seconds_count")
        .into_iter()
        .map(|s| {
            let label = |name| s.label(name).expect(name).to_owned();
            (
                label("http_request_method"),
                label("http_route"),
                label("http_response_status_code"),
                s.value,
            )
        })
        .collect();
    seen.sort_by(|a, b| a.partial_cmp(b).expect("no NaN"));
    let expected = [
        ("DELETE", "/api/dam/image/{id}", "204", 1.0),
        ("DELETE", "/api/dam/image/{id}", "404", 1.0),
        ("GET", "/api/dam/image", "200", 1.0),
        ("GET", "/api/dam/livez", "200", 1.0),
        ("GET", "unmatched", "404", 1.0),
        ("PATCH", "/api/dam/image/{id}", "405", 1.0),
        ("_OTHER", "/api/dam/image", "405", 1.0),
    ]
    .map(|(m, r, s, n)| (m.to_owned(), r.to_owned(), s.to_owned(), n));
    assert_eq!(seen, expected);
    assert_eq!(
        scrape.types["http_server_request_duration_seconds"],
        "histogram"
    );
    let bounds: Vec<String> = scrape
        .samples("http_server_request_duration_seconds_bucket")
        .iter()
        .filter(|s| s.label("http_route") == Some("unmatched"))
        .map(|s| s.label("le").expect("le").to_owned())
        .collect();
    let otel: Vec<String> = DURATION_BUCKETS.iter().map(f64::to_string).collect();
    assert_eq!(
        bounds[..bounds.len() - 1],
        otel[..],
        "the OpenTelemetry buckets"
    );
    assert_eq!(bounds.last().map(String::as_str), Some("+Inf"));
    for sample in scrape.samples("http_server_active_requests") {
        assert_eq!(sample.value, 0.0, "{sample:?}");
    }
    for (name, label, value) in scrape.label_values() {
        for forbidden in [KEY, "acme", "secret", "12345", "filter", "$top"] {
            assert!(!value.contains(forbidden), "{name} {label}={value:?}");
        }
    }
}
