//! End-to-end checks of contract §2–§4, §6 and §8 ("Outside the two operations") over real
//! TCP, against a server started in this process on port 0, once per store.

mod support;

use std::num::NonZeroU32;

use dam_axum::BasePath;
use dam_core::ServiceConfig;
use dam_server::AppConfig;
use support::{ids, request, Backend, Reply, TestServer, ACME_IDS, ACME_KEY, GLOBEX_KEY};

const UNAUTHORIZED: (u16, &str, &str) = (401, "unauthorized", "Unauthorized");
const VALIDATION: (u16, &str, &str) = (400, "validation", "Bad Request");
const NOT_FOUND: (u16, &str, &str) = (404, "not-found", "Not Found");

fn expect(reply: &Reply, kind: (u16, &str, &str), instance: &str) -> serde_json::Value {
    reply.problem(kind.0, kind.1, kind.2, instance)
}

/// §2: no key, an empty one, only white space, or one that no tenant owns → 401.
async fn missing_empty_blank_or_unknown_key_is_401(backend: Backend) {
    let s = TestServer::start(backend).await;
    for key in [
        None,
        Some(""),
        Some("   "),
        Some("no-such-key"),
        Some("acme-key-"),
    ] {
        let r = s.get("/image", key).await;
        let p = expect(&r, UNAUTHORIZED, "/image");
        if let Some(k) = key.filter(|k| k.len() >= 8) {
            assert!(!r.body.windows(k.len()).any(|w| w == k.as_bytes()), "{p}");
        }
        expect(&s.delete("1", key).await, UNAUTHORIZED, "/image/1");
    }
    // nothing was deleted by the refused requests
    let page = s.get("/image", Some(ACME_KEY)).await.json();
    assert_eq!(ids(&page), ACME_IDS);
    s.stop().await;
}

/// §2 decision: a present but malformed key → 400 (257 characters, a space or tab inside,
/// non-ASCII), never echoing the key.
async fn malformed_key_is_400(backend: Backend) {
    let s = TestServer::start(backend).await;
    let long = "k".repeat(257);
    let cases: [&[u8]; 4] = [
        long.as_bytes(),
        b"acme key-1",
        b"acme\tkey-1",
        "acmé-key-1".as_bytes(),
    ];
    for key in cases {
        let r = request(s.addr, "GET", "/image", Some(key)).await;
        let p = expect(&r, VALIDATION, "/image");
        assert!(
            p["detail"].as_str().unwrap_or("").contains("X-API-KEY"),
            "{p}"
        );
        assert!(!String::from_utf8_lossy(&r.body).contains(&long));
        let r = request(s.addr, "DELETE", "/image/1", Some(key)).await;
        expect(&r, VALIDATION, "/image/1");
    }
    // 256 characters is still well-formed: unknown, so 401
    let r = s.get("/image", Some(&"k".repeat(256))).await;
    expect(&r, UNAUTHORIZED, "/image");
    s.stop().await;
}

/// The key header's name is case-insensitive; the key's value is not.
async fn key_header_name_is_case_insensitive(backend: Backend) {
    let s = TestServer::start(backend).await;
    for name in ["x-api-key", "X-Api-Key", "X-API-KEY"] {
        let head = format!(
            "GET /image?$count=true HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{name}: {ACME_KEY}\r\n\r\n"
        );
        let r = support::raw(s.addr, head.as_bytes()).await;
        assert_eq!(r.status, 200, "{name}");
        assert_eq!(r.json()["@count"], 7);
    }
    expect(
        &s.get("/image", Some("ACME-KEY-1")).await,
        UNAUTHORIZED,
        "/image",
    );
    s.stop().await;
}

/// §2 order of checks: the key (401/400) before the request's values (400), those before
/// existence (404), that before the lock (409).
async fn checks_come_in_the_contract_order(backend: Backend) {
    let s = TestServer::start(backend).await;
    expect(
        &s.get("/image?$top=101", None).await,
        UNAUTHORIZED,
        "/image",
    );
    expect(
        &s.get("/image?$top=abc", Some("unknown-key")).await,
        UNAUTHORIZED,
        "/image",
    );
    let r = s.get("/image?$select=id", Some("bad key")).await;
    let p = expect(&r, VALIDATION, "/image");
    assert!(
        p["detail"].as_str().unwrap_or("").contains("X-API-KEY"),
        "{p}"
    );
    expect(&s.delete("abc", None).await, UNAUTHORIZED, "/image/abc");
    expect(
        &s.delete("999999", Some("unknown-key")).await,
        UNAUTHORIZED,
        "/image/999999",
    );
    expect(
        &s.delete("0999999", Some(ACME_KEY)).await,
        VALIDATION,
        "/image/0999999",
    );
    // another tenant's processing image: 404, not 409
    expect(
        &s.delete("101", Some(ACME_KEY)).await,
        NOT_FOUND,
        "/image/101",
    );
    s.stop().await;
}

/// acme's ids, following `@nextLink` from `first` (with `$count=true`) to the last page; every
/// page counts all 7 and every link stays under `prefix`.
async fn walk(s: &TestServer, first: &str, prefix: &str) -> Vec<i64> {
    let mut target = first.to_string();
    let mut seen = Vec::new();
    for _ in 0..10 {
        let page = s.get(&target, Some(ACME_KEY)).await.json();
        assert_eq!(page["@count"], 7, "{page}");
        seen.extend(ids(&page));
        match page.get("@nextLink").and_then(|l| l.as_str()) {
            Some(link) => {
                assert!(link.starts_with(&format!("{prefix}/image?")), "{link}");
                target = link.to_string();
            }
            None => break,
        }
    }
    seen
}

/// §3: 200 `application/json` with `items`, `@count` with `$count=true`, `@nextLink` while
/// more follow; following the links pages through every image once, in id order.
async fn list_pages_through_every_image(backend: Backend) {
    let s = TestServer::start(backend).await;
    let r = s.get("/image", Some(ACME_KEY)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let page = r.json();
    assert_eq!(ids(&page), ACME_IDS);
    assert!(
        page.get("@count").is_none() && page.get("@nextLink").is_none(),
        "{page}"
    );
    let first = &page["items"][0];
    assert_eq!(first["reference"], "a.jpg");
    assert_eq!(first["createdOn"], "2024-04-05T08:44:33");
    assert_eq!(first["modifiedOn"], "2024-04-05T08:44:33");
    assert_eq!(first["tags"], serde_json::json!(["red"]));
    assert_eq!(first["thumbnailUrl"], serde_json::Value::Null);
    assert_eq!(first.as_object().map(|o| o.len()), Some(15));

    let seen = walk(&s, "/image?$top=3&$count=true", "").await;
    assert_eq!(seen, ACME_IDS);
    let page = s
        .get("/image?$top=0&$count=true", Some(ACME_KEY))
        .await
        .json();
    assert_eq!(ids(&page), Vec::<i64>::new());
    assert_eq!(page["@count"], 7);
    assert!(page.get("@nextLink").is_none());
    // each tenant sees only its own
    let page = s.get("/image", Some(GLOBEX_KEY)).await.json();
    assert_eq!(ids(&page), [100, 101, 102]);
    s.stop().await;
}

/// §3.1: `@nextLink` carries `$skiptoken` (never `$skip`) and keeps the options; following it
/// walks every page in list order, a delete between pages neither repeats nor drops an image,
/// and a token that the server did not write for this request is a 400 naming `$skiptoken`.
async fn next_links_walk_every_page_by_skiptoken(backend: Backend) {
    let s = TestServer::start(backend).await;
    let mut target =
        "/image?$filter=numLinks%20ge%200&$orderby=createdOn+desc&$top=2&$count=true&$skip=0"
            .to_string();
    let mut seen = Vec::new();
    let mut links = Vec::new();
    for page_number in 0..10 {
        let reply = s.get(&target, Some(ACME_KEY)).await;
        assert_eq!(reply.status, 200, "{target}");
        let page = reply.json();
        let expected_count = if page_number == 0 { 7 } else { 6 };
        assert_eq!(page["@count"], expected_count, "{page}");
        seen.extend(ids(&page));
        if page_number == 0 {
            // the next page's first image goes before it is fetched
            assert_eq!(s.delete("5", Some(ACME_KEY)).await.status, 204);
        }
        match page.get("@nextLink").and_then(|l| l.as_str()) {
            Some(link) => {
                let (head, token) = link.split_once("&$skiptoken=").expect("a token");
                assert_eq!(
                    head,
                    "/image?$filter=numLinks%20ge%200&$orderby=createdOn%20desc&$count=true&$top=2"
                );
                assert!(
                    token
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
                    "{token}"
                );
                links.push(link.to_string());
                target = link.to_string();
            }
            None => break,
        }
    }
    assert_eq!(seen, [7, 6, 4, 3, 2, 1]);
    assert_eq!(links.len(), 2);
    // the same link again (a retry, another process) gives the same page
    let again = s.get(&links[1], Some(ACME_KEY)).await.json();
    assert_eq!(ids(&again), [2, 1]);
    // bad tokens
    let (head, token) = links[0].split_once("&$skiptoken=").expect("a token");
    for (target, detail) in [
        (
            format!("{head}&$skiptoken=x{token}"),
            "$skiptoken is invalid or expired: ",
        ),
        (
            format!("/image?$orderby=createdOn%20asc&$skiptoken={token}"),
            "$skiptoken is invalid or expired: it was written for another $filter or $orderby",
        ),
        (
            format!("{head}&$skiptoken={token}&$skip=2"),
            "$skiptoken cannot be combined with $skip",
        ),
    ] {
        let r = s.get(&target, Some(ACME_KEY)).await;
        let p = expect(&r, VALIDATION, "/image");
        assert!(
            p["detail"].as_str().unwrap_or("").starts_with(detail),
            "{target}: {p}"
        );
        assert_eq!(p["errors"][0]["parameter"], "$skiptoken", "{p}");
    }
    s.stop().await;
}

/// §3: bad options are 400 problems naming the option; never clamped.
async fn bad_options_are_400(backend: Backend) {
    let s = TestServer::start(backend).await;
    for (query, name) in [
        ("$top=101", "$top"),
        ("$top=-1", "$top"),
        ("$top=abc", "$top"),
        ("$top=1.5", "$top"),
        ("$skip=-1", "$skip"),
        ("$count=yes", "$count"),
        ("$select=id", "$select"),
        ("$top=1&$top=2", "$top"),
        ("$orderby=tags", "$orderby"),
        ("$top=%ZZ", ""),
    ] {
        let r = s.get(&format!("/image?{query}"), Some(ACME_KEY)).await;
        let p = expect(&r, VALIDATION, "/image");
        assert!(
            p["detail"].as_str().unwrap_or("").contains(name),
            "{query}: {p}"
        );
    }
    s.stop().await;
}

/// §8: a 60 000-character `$filter` reaches the application (hyper's limits let it through)
/// and is refused with a 400 problem; the server goes on answering.
async fn huge_filter_reaches_the_app_and_is_400(backend: Backend) {
    let s = TestServer::start(backend).await;
    let target = format!("/image?$filter={}", "(".repeat(60_000));
    expect(&s.get(&target, Some(ACME_KEY)).await, VALIDATION, "/image");
    assert_eq!(s.get("/image?$top=1", Some(ACME_KEY)).await.status, 200);
    s.stop().await;
}

/// §8: what hyper refuses before the application (a target over 65 534 bytes, headers over
/// the limit) is 414/431, and the server goes on answering.
async fn oversized_targets_and_headers_are_refused_by_hyper(backend: Backend) {
    let s = TestServer::start(backend).await;
    let target = format!("/image?$filter={}", "(".repeat(70_000));
    assert_eq!(s.get(&target, Some(ACME_KEY)).await.status, 414);
    let head = format!(
        "GET /image HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Padding: {}\r\n\r\n",
        "p".repeat(200 * 1024)
    );
    assert_eq!(support::raw(s.addr, head.as_bytes()).await.status, 431);
    assert_eq!(s.get("/image?$top=1", Some(ACME_KEY)).await.status, 200);
    s.stop().await;
}

/// §4: 204 with no body, then 404, and the image is gone from the list.
async fn delete_is_204_then_404(backend: Backend) {
    let s = TestServer::start(backend).await;
    for id in ["1", "2", "5"] {
        let r = s.delete(id, Some(ACME_KEY)).await;
        assert_eq!(r.status, 204, "{id}");
        assert!(r.body.is_empty(), "{id}");
        assert_eq!(r.header("content-type"), None);
        let p = expect(
            &s.delete(id, Some(ACME_KEY)).await,
            NOT_FOUND,
            &format!("/image/{id}"),
        );
        assert!(p["detail"].as_str().unwrap_or("").contains(id), "{p}");
    }
    let page = s.get("/image?$count=true", Some(ACME_KEY)).await.json();
    assert_eq!(ids(&page), [3, 4, 6, 7]);
    s.stop().await;
}

/// §4: 409 while the image is being processed (`Up`, `Re`); the image stays.
async fn delete_of_a_processing_image_is_409(backend: Backend) {
    let s = TestServer::start(backend).await;
    for id in ["3", "4"] {
        let r = s.delete(id, Some(ACME_KEY)).await;
        expect(&r, (409, "conflict", "Conflict"), &format!("/image/{id}"));
    }
    let page = s.get("/image", Some(ACME_KEY)).await.json();
    assert_eq!(ids(&page), ACME_IDS);
    s.stop().await;
}

/// §2/§4: another tenant's image answers exactly like a missing one, and is kept.
async fn other_tenants_image_is_404_like_a_missing_one(backend: Backend) {
    let s = TestServer::start(backend).await;
    let theirs = expect(
        &s.delete("100", Some(ACME_KEY)).await,
        NOT_FOUND,
        "/image/100",
    );
    let never = expect(
        &s.delete("999", Some(ACME_KEY)).await,
        NOT_FOUND,
        "/image/999",
    );
    let masked = |p: &serde_json::Value, id: &str| {
        let mut p = p.clone();
        p["detail"] = p["detail"]
            .as_str()
            .unwrap_or("")
            .replace(id, "{id}")
            .into();
        p["instance"] = serde_json::Value::Null;
        p
    };
    assert_eq!(masked(&theirs, "100"), masked(&never, "999"));
    let page = s.get("/image", Some(GLOBEX_KEY)).await.json();
    assert_eq!(ids(&page), [100, 101, 102]);
    s.stop().await;
}

/// §4: an id that is not 1..=i64::MAX in plain digits is 400, taken as received (a percent
/// escape is not decoded into digits).
async fn invalid_ids_are_400(backend: Backend) {
    let s = TestServer::start(backend).await;
    for raw in [
        "0",
        "-1",
        "+1",
        "01",
        "1.5",
        "1e3",
        "abc",
        "2x",
        "%201",
        "%31",
        "%EF%BC%91",
        "9223372036854775808",
        "18446744073709551616",
    ] {
        let r = s.delete(raw, Some(ACME_KEY)).await;
        let p = expect(&r, VALIDATION, &format!("/image/{raw}"));
        assert!(
            p["detail"]
                .as_str()
                .unwrap_or("")
                .contains("invalid image identifier"),
            "{raw}: {p}"
        );
    }
    expect(
        &s.delete("9223372036854775807", Some(ACME_KEY)).await,
        NOT_FOUND,
        "/image/9223372036854775807",
    );
    s.stop().await;
}

/// §8: an unknown path is a 404 problem, key or not; `/image/` and `/image/1/x` included.
async fn unknown_paths_are_404_problems(backend: Backend) {
    let s = TestServer::start(backend).await;
    for path in [
        "/",
        "/images",
        "/image/",
        "/image/1/x",
        "/image//1",
        "/IMAGE",
        "/image%2F1",
    ] {
        for method in ["GET", "DELETE", "POST"] {
            let r = request(s.addr, method, path, None).await;
            expect(&r, NOT_FOUND, path);
        }
        let r = request(s.addr, "GET", path, Some(ACME_KEY.as_bytes())).await;
        expect(&r, NOT_FOUND, path);
    }
    s.stop().await;
}

/// §8: a known path with another method is a 405 problem with `Allow`; HEAD on `/image` is
/// GET without a body.
async fn other_methods_are_405_with_allow(backend: Backend) {
    let s = TestServer::start(backend).await;
    let cases = [
        ("POST", "/image", "GET, HEAD"),
        ("PUT", "/image", "GET, HEAD"),
        ("DELETE", "/image", "GET, HEAD"),
        ("PATCH", "/image", "GET, HEAD"),
        ("GET", "/image/1", "DELETE"),
        ("HEAD", "/image/1", "DELETE"),
        ("POST", "/image/1", "DELETE"),
        ("PUT", "/image/abc", "DELETE"),
    ];
    for (method, path, allow) in cases {
        let r = request(s.addr, method, path, Some(ACME_KEY.as_bytes())).await;
        assert_eq!(r.status, 405, "{method} {path}");
        assert_eq!(r.header("allow"), Some(allow), "{method} {path}");
        assert_eq!(r.header("content-type"), Some("application/problem+json"));
        if method != "HEAD" {
            let p = r.problem(405, "method-not-allowed", "Method Not Allowed", path);
            assert!(p["detail"].as_str().unwrap_or("").contains(method), "{p}");
        }
    }
    // nothing was deleted through the wrong method
    assert_eq!(ids(&s.get("/image", Some(ACME_KEY)).await.json()), ACME_IDS);
    let r = request(s.addr, "HEAD", "/image", Some(ACME_KEY.as_bytes())).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert!(r.body.is_empty());
    let r = request(s.addr, "HEAD", "/image", None).await;
    assert_eq!(r.status, 401);
    s.stop().await;
}

/// §6: `--problem-type-base` changes the base of every `type`.
async fn problem_type_base_is_configurable(backend: Backend) {
    let config = ServiceConfig {
        problem_type_base: "https://example.org/problems".into(),
    };
    let s = TestServer::start_app(backend, config, AppConfig::default()).await;
    let p = s.get("/image", None).await.json();
    assert_eq!(p["type"], "https://example.org/problems/unauthorized");
    let p = s.get("/nowhere", None).await.json();
    assert_eq!(p["type"], "https://example.org/problems/not-found");
    let p = request(s.addr, "POST", "/image", None).await.json();
    assert_eq!(p["type"], "https://example.org/problems/method-not-allowed");
    s.stop().await;
}

/// §9.5: with a base path every route is under it, `instance` and `@nextLink` carry it, and
/// every other path (the prefix-less `/image` included) is a 404 problem.
async fn served_under_a_base_path(backend: Backend) {
    let app = AppConfig {
        base_path: BasePath::parse("/dam/v2").expect("base path"),
        ..AppConfig::default()
    };
    let s = TestServer::start_app(backend, ServiceConfig::default(), app).await;
    let seen = walk(&s, "/dam/v2/image?$top=3&$count=true", "/dam/v2").await;
    assert_eq!(seen, ACME_IDS);
    expect(
        &s.get("/dam/v2/image", None).await,
        UNAUTHORIZED,
        "/dam/v2/image",
    );
    let r = request(
        s.addr,
        "DELETE",
        "/dam/v2/image/3",
        Some(ACME_KEY.as_bytes()),
    )
    .await;
    r.problem(409, "conflict", "Conflict", "/dam/v2/image/3");
    let r = request(s.addr, "POST", "/dam/v2/image", None).await;
    r.problem(
        405,
        "method-not-allowed",
        "Method Not Allowed",
        "/dam/v2/image",
    );
    for path in [
        "/image",
        "/image/1",
        "/dam/v2",
        "/dam/v2/",
        "/dam/image",
        "/dam/v2x/image",
    ] {
        expect(&s.get(path, Some(ACME_KEY)).await, NOT_FOUND, path);
        let r = request(s.addr, "DELETE", path, Some(ACME_KEY.as_bytes())).await;
        expect(&r, NOT_FOUND, path);
    }
    // nothing was deleted outside the prefix
    let page = s.get("/dam/v2/image", Some(ACME_KEY)).await.json();
    assert_eq!(ids(&page), ACME_IDS);
    s.stop().await;
}

/// §9.4: off by default (no RateLimit fields); with `--rate-limit N` a tenant's first answer
/// says N per second and N - 1 left, and a refusal before the tenant is known says nothing.
async fn the_rate_limit_is_announced_per_tenant(backend: Backend) {
    let s = TestServer::start(backend).await;
    let r = s.get("/image", Some(ACME_KEY)).await;
    assert_eq!(
        (r.header("ratelimit-policy"), r.header("ratelimit")),
        (None, None)
    );
    s.stop().await;
    let app = AppConfig {
        rate_limit: NonZeroU32::new(1000),
        ..AppConfig::default()
    };
    let s = TestServer::start_app(backend, ServiceConfig::default(), app).await;
    for key in [ACME_KEY, GLOBEX_KEY] {
        let r = s.get("/image", Some(key)).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.header("ratelimit-policy"), Some("\"tenant\";q=1000;w=1"));
        assert_eq!(r.header("ratelimit"), Some("\"tenant\";r=999;t=1"));
    }
    let r = s.get("/image", Some("no-such-key")).await;
    assert_eq!((r.status, r.header("ratelimit")), (401, None));
    s.stop().await;
}

/// §4: a 409 carries `Retry-After` in whole seconds, as configured (`--retry-after`).
async fn a_conflict_says_when_to_retry(backend: Backend) {
    let s = TestServer::start(backend).await;
    let r = s.delete("3", Some(ACME_KEY)).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.header("retry-after"), Some("5"));
    s.stop().await;
    let app = AppConfig {
        retry_after: NonZeroU32::new(30).expect("non-zero"),
        ..AppConfig::default()
    };
    let s = TestServer::start_app(backend, ServiceConfig::default(), app).await;
    let r = s.delete("4", Some(ACME_KEY)).await;
    assert_eq!(r.status, 409);
    assert_eq!(r.header("retry-after"), Some("30"));
    s.stop().await;
}

/// §4: concurrent deletes of one image: exactly one 204, the rest 404.
async fn concurrent_deletes_give_one_204(backend: Backend) {
    let s = TestServer::start(backend).await;
    let addr = s.addr;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            tokio::spawn(async move {
                request(addr, "DELETE", "/image/7", Some(ACME_KEY.as_bytes()))
                    .await
                    .status
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.expect("task"));
    }
    statuses.sort_unstable();
    assert_eq!(
        statuses.iter().filter(|&&c| c == 204).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&c| c == 404).count(),
        15,
        "{statuses:?}"
    );
    s.stop().await;
}

macro_rules! suite {
    ($backend_mod:ident, $backend:expr, [$($case:ident),* $(,)?]) => {
        mod $backend_mod {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::$case($backend).await;
                }
            )*
        }
    };
}

macro_rules! all_cases {
    ($backend_mod:ident, $backend:expr) => {
        suite!(
            $backend_mod,
            $backend,
            [
                missing_empty_blank_or_unknown_key_is_401,
                malformed_key_is_400,
                key_header_name_is_case_insensitive,
                checks_come_in_the_contract_order,
                list_pages_through_every_image,
                next_links_walk_every_page_by_skiptoken,
                bad_options_are_400,
                huge_filter_reaches_the_app_and_is_400,
                oversized_targets_and_headers_are_refused_by_hyper,
                delete_is_204_then_404,
                delete_of_a_processing_image_is_409,
                other_tenants_image_is_404_like_a_missing_one,
                invalid_ids_are_400,
                unknown_paths_are_404_problems,
                other_methods_are_405_with_allow,
                served_under_a_base_path,
                a_conflict_says_when_to_retry,
                the_rate_limit_is_announced_per_tenant,
                problem_type_base_is_configurable,
                concurrent_deletes_give_one_204,
            ]
        );
    };
}

all_cases!(memory, crate::Backend::Memory);
all_cases!(sqlite, crate::Backend::Sqlite);
