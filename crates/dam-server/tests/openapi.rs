//! §9.3: `GET /openapi.json` serves the OpenAPI 3.1 document without a key, under the base
//! path too, and the checked-in copy `docs/openapi.json` is exactly what the server serves.
//!
//! After a change to the API, regenerate the copy with
//! `DAM_UPDATE_OPENAPI=1 cargo test -p dam-server --test openapi` and review its diff.

mod support;

use std::path::PathBuf;

use dam_axum::BasePath;
use dam_core::ServiceConfig;
use dam_server::AppConfig;
use serde_json::Value;
use support::{request, Backend, TestServer};

/// The checked-in copy, from the workspace root.
fn checked_in() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

/// The document as the copy holds it: pretty-printed, keys in a stable order, a final newline.
fn pretty(document: &Value) -> String {
    let mut text = serde_json::to_string_pretty(document).expect("a JSON value prints");
    text.push('\n');
    text
}

#[tokio::test]
async fn the_checked_in_document_is_the_served_one() {
    let s = TestServer::start(Backend::Memory).await;
    let r = s.get("/openapi.json", None).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let served = pretty(&r.json());
    s.stop().await;
    let path = checked_in();
    if std::env::var_os("DAM_UPDATE_OPENAPI").is_some_and(|v| v == "1") {
        std::fs::write(&path, &served).expect("write docs/openapi.json");
        return;
    }
    let copy = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        copy == served,
        "docs/openapi.json differs from the served document; regenerate it with \
         DAM_UPDATE_OPENAPI=1 cargo test -p dam-server --test openapi and review the diff"
    );
}

#[tokio::test]
async fn the_document_describes_every_route_its_parameters_and_answers() {
    let s = TestServer::start(Backend::Memory).await;
    let doc = s.get("/openapi.json", None).await.json();
    s.stop().await;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    let mut routes: Vec<(&str, Vec<&str>)> = paths
        .iter()
        .map(|(path, item)| {
            let methods = item.as_object().expect("path item").keys();
            (path.as_str(), methods.map(String::as_str).collect())
        })
        .collect();
    routes.sort();
    assert_eq!(
        routes,
        [
            ("/image", vec!["get", "head"]),
            ("/image/{id}", vec!["delete"]),
            ("/livez", vec!["get"]),
            ("/metrics", vec!["get"]),
            ("/openapi.json", vec!["get"]),
            ("/readyz", vec!["get"]),
        ]
    );
    let list = &doc["paths"]["/image"]["get"];
    let param = |name: &str| {
        list["parameters"]
            .as_array()
            .expect("parameters")
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} is documented"))["schema"]
            .clone()
    };
    assert_eq!(param("$top")["minimum"], 0);
    assert_eq!(param("$top")["maximum"], 100);
    assert_eq!(param("$skip")["minimum"], 0);
    assert_eq!(param("$skip")["format"], "int64");
    assert_eq!(param("$count")["type"], "boolean");
    assert_eq!(param("$filter")["maxLength"], 4096);
    assert!(param("$orderby")["pattern"].is_string());
    assert_eq!(param("$orderby")["maxLength"], 1024);
    assert_eq!(param("$skiptoken")["type"], "string");
    let statuses = |op: &Value| -> Vec<String> {
        op["responses"]
            .as_object()
            .expect("responses")
            .keys()
            .cloned()
            .collect()
    };
    assert_eq!(
        statuses(list),
        ["200", "400", "401", "413", "429", "500", "503"]
    );
    let delete = &doc["paths"]["/image/{id}"]["delete"];
    assert_eq!(
        statuses(delete),
        ["204", "400", "401", "404", "409", "413", "429", "500", "503"]
    );
    for op in [list, delete] {
        assert_eq!(op["security"], serde_json::json!([{ "apiKey": [] }]));
        assert!(op["responses"]["429"]["headers"]["Retry-After"].is_object());
        for (status, answer) in op["responses"].as_object().expect("responses") {
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    answer["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{status}"
                );
            }
        }
    }
    assert!(delete["responses"]["409"]["headers"]["Retry-After"].is_object());
    assert_eq!(
        list["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ImageList"
    );
    assert_eq!(
        doc["components"]["securitySchemes"]["apiKey"],
        serde_json::json!({ "type": "apiKey", "in": "header", "name": "X-API-KEY",
            "description": "The tenant's API key: 1–256 visible ASCII characters." })
    );
    for operator in ["/openapi.json", "/livez", "/readyz", "/metrics"] {
        assert!(
            doc["paths"][operator]["get"]["security"].is_null(),
            "{operator}"
        );
    }
    let readyz = &doc["paths"]["/readyz"]["get"]["responses"];
    assert_eq!(
        readyz["503"]["content"]["application/problem+json"]["schema"]["$ref"],
        "#/components/schemas/Problem"
    );
}

/// Under `--base-path` every path of the document is under the prefix, and so is the
/// document itself; other methods are 405 problems with `Allow`.
#[tokio::test]
async fn the_document_follows_the_base_path() {
    let app = AppConfig {
        base_path: BasePath::parse("/dam/v2").expect("base path"),
        ..AppConfig::default()
    };
    let s = TestServer::start_app(Backend::Memory, ServiceConfig::default(), app).await;
    let doc = s.get("/dam/v2/openapi.json", None).await.json();
    let mut paths: Vec<&String> = doc["paths"].as_object().expect("paths").keys().collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/dam/v2/image",
            "/dam/v2/image/{id}",
            "/dam/v2/livez",
            "/dam/v2/metrics",
            "/dam/v2/openapi.json",
            "/dam/v2/readyz"
        ]
    );
    assert_eq!(s.get("/openapi.json", None).await.status, 404);
    let r = request(s.addr, "POST", "/dam/v2/openapi.json", None).await;
    r.problem(
        405,
        "method-not-allowed",
        "Method Not Allowed",
        "/dam/v2/openapi.json",
    );
    assert_eq!(r.header("allow"), Some("GET, HEAD"));
    s.stop().await;
}
