//! Operating the server (§9.1, §9.2, §9.5) end to end over TCP: the probes and `/metrics`
//! (no key, GET/HEAD only, under the base path too), a scrape parsed after real requests,
//! request ids (kept, made up, unique across servers); in every log line of a request:
//! `request_log.rs`.

mod support;

use dam_axum::BasePath;
use dam_core::ServiceConfig;
use dam_server::AppConfig;
use dam_store_tests::scrape::Scrape;
use support::{request_with, Backend, Reply, TestServer, ACME_KEY};

const PROMETHEUS: &str = "text/plain; version=0.0.4";

fn request_id(reply: &Reply) -> String {
    reply
        .header("x-request-id")
        .expect("an x-request-id on every answer")
        .to_owned()
}

fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

async fn base_path_server(prefix: &str) -> TestServer {
    let app = AppConfig {
        base_path: prefix.parse::<BasePath>().expect("a base path"),
        ..AppConfig::default()
    };
    TestServer::start_app(Backend::Sqlite, ServiceConfig::default(), app).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_and_metrics_answer_without_a_key_under_the_base_path_too() {
    let root = TestServer::start(Backend::Memory).await;
    let prefixed = base_path_server("/dam/v2").await;
    for (server, prefix) in [(&root, ""), (&prefixed, "/dam/v2")] {
        for probe in ["/livez", "/readyz"] {
            let target = format!("{prefix}{probe}");
            let reply = server.get(&target, None).await;
            assert_eq!(
                reply.status,
                200,
                "{target}: {}",
                String::from_utf8_lossy(&reply.body)
            );
            assert_eq!(reply.json()["status"], "ok");
            let head = request_with(server.addr, "HEAD", &target, &[]).await;
            assert_eq!(head.status, 200, "HEAD {target}");
        }
        let target = format!("{prefix}/metrics");
        let reply = server.get(&target, None).await;
        assert_eq!(reply.status, 200, "{target}");
        assert_eq!(reply.header("content-type"), Some(PROMETHEUS));
        for (method, probe) in [
            ("POST", "/livez"),
            ("DELETE", "/livez"),
            ("POST", "/readyz"),
            ("PUT", "/metrics"),
        ] {
            let target = format!("{prefix}{probe}");
            let reply = request_with(server.addr, method, &target, &[]).await;
            reply.problem(405, "method-not-allowed", "Method Not Allowed", &target);
            assert_eq!(
                reply.header("allow"),
                Some("GET, HEAD"),
                "{method} {target}"
            );
        }
    }
    // Under a base path, the prefix-less routes are 404 problems like any other path.
    for target in ["/livez", "/readyz", "/metrics"] {
        prefixed
            .get(target, None)
            .await
            .problem(404, "not-found", "Not Found", target);
    }
    root.stop().await;
    prefixed.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scrape_after_requests_names_routes_and_stores_but_no_request_values() {
    let server = base_path_server("/dam/v2").await;
    let key = Some(ACME_KEY);
    server
        .get(
            "/dam/v2/image?$filter=fileType%20eq%20'jpg'&$top=2&$count=true",
            key,
        )
        .await;
    server.get("/dam/v2/image?$filter=nonsense", key).await;
    server.get("/dam/v2/image", Some("not-a-known-key")).await;
    request_with(
        server.addr,
        "DELETE",
        "/dam/v2/image/5",
        &[("X-API-KEY", ACME_KEY.as_bytes())],
    )
    .await;
    server.get("/dam/v2/image/7", key).await;
    server.get("/private/tenant-acme/12345", None).await;
    server.get("/dam/v2/livez", None).await;

    let reply = server.get("/dam/v2/metrics", None).await;
    assert_eq!(reply.status, 200);
    let text = String::from_utf8(reply.body).expect("UTF-8 text");
    let scrape = Scrape::parse(&text).expect("the Prometheus text format");

    assert_eq!(
        scrape.types["http_server_request_duration_seconds"],
        "histogram"
    );
    assert_eq!(scrape.types["http_server_active_requests"], "gauge");
    let routes: Vec<(String, String, String)> = scrape
        .samples("http_server_request_duration_seconds_count")
        .iter()
        .map(|s| {
            let label = |name| s.label(name).unwrap_or_else(|| panic!("{name} in {s:?}"));
            (
                label("http_request_method").to_owned(),
                label("http_route").to_owned(),
                label("http_response_status_code").to_owned(),
            )
        })
        .collect();
    for expected in [
        ("GET", "/dam/v2/image", "200"),
        ("GET", "/dam/v2/image", "400"),
        ("GET", "/dam/v2/image", "401"),
        ("DELETE", "/dam/v2/image/{id}", "204"),
        ("GET", "/dam/v2/image/{id}", "405"),
        ("GET", "unmatched", "404"),
        ("GET", "/dam/v2/livez", "200"),
    ] {
        let expected = (expected.0.into(), expected.1.into(), expected.2.into());
        assert!(routes.contains(&expected), "{expected:?} not in {routes:?}");
    }
    // Every storage operation of those requests, by store and operation.
    assert_eq!(
        scrape.types["dam_store_operation_duration_seconds"],
        "histogram"
    );
    let operations: Vec<(&str, &str)> = scrape
        .samples("dam_store_operation_duration_seconds_count")
        .iter()
        .filter_map(|s| Some((s.label("store")?, s.label("operation")?)))
        .collect();
    for expected in [
        ("sqlite", "tenant_for_key"),
        ("sqlite", "list"),
        ("sqlite", "delete"),
    ] {
        assert!(
            operations.contains(&expected),
            "{expected:?} not in {operations:?}"
        );
    }
    // The buckets are the OpenTelemetry ones.
    let bounds: Vec<&str> = scrape
        .samples("http_server_request_duration_seconds_bucket")
        .iter()
        .filter(|s| s.label("http_route") == Some("/dam/v2/image"))
        .filter(|s| s.label("http_response_status_code") == Some("401"))
        .filter_map(|s| s.label("le"))
        .collect();
    assert_eq!(
        bounds,
        [
            "0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75", "1", "2.5",
            "5", "7.5", "10", "+Inf"
        ]
    );
    for (name, label, value) in scrape.label_values() {
        for forbidden in [
            ACME_KEY,
            "not-a-known-key",
            "acme",
            "private",
            "12345",
            "jpg",
            "$",
            "?",
        ] {
            assert!(
                !value.contains(forbidden),
                "{name}: {label}={value:?} holds {forbidden:?}"
            );
        }
        // No image id either: a route template's only digits are the base path's `v2`.
        let without_prefix = value.replace("/dam/v2", "");
        if label != "le" && label != "http_response_status_code" {
            assert!(
                !without_prefix.chars().any(|c| c.is_ascii_digit()),
                "{name}: {label}={value:?}"
            );
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_are_kept_when_valid_and_made_up_otherwise() {
    let server = TestServer::start(Backend::Memory).await;
    let longest = "~".repeat(128);
    for id in ["abc-123", "!#$%&'*+-.^_`|~", longest.as_str()] {
        for (method, target) in [("GET", "/image"), ("GET", "/nowhere"), ("GET", "/livez")] {
            let reply = request_with(
                server.addr,
                method,
                target,
                &[("X-Request-Id", id.as_bytes())],
            )
            .await;
            assert_eq!(
                request_id(&reply),
                id,
                "{method} {target} ({})",
                reply.status
            );
        }
    }
    let too_long = "a".repeat(129);
    for id in [
        &b""[..],
        b"has space",
        too_long.as_bytes(),
        "caf\u{e9}".as_bytes(),
        b"\t",
    ] {
        let reply = request_with(server.addr, "GET", "/image", &[("X-Request-Id", id)]).await;
        let made = request_id(&reply);
        assert!(
            is_uuid(&made),
            "{:?} became {made:?}",
            String::from_utf8_lossy(id)
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_ids_differ_across_two_server_instances() {
    let first = TestServer::start(Backend::Memory).await;
    let second = TestServer::start(Backend::Memory).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        for server in [&first, &second] {
            let id = request_id(&server.get("/livez", None).await);
            assert!(is_uuid(&id), "{id}");
            ids.push(id);
        }
    }
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), ids.len(), "{ids:?}");
    first.stop().await;
    second.stop().await;
}
