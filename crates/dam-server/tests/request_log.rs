//! Every log line of a request names its request id (§9.2), through the server over TCP. In a
//! test binary of its own: `tracing` caches per call site whether anyone listens, and tests
//! on other threads logging with no subscriber at all could make this thread's capture miss
//! an event.

mod support;

use std::sync::Arc;

use dam_core::store::{MockImageStore, SeedStore, StoreError};
use dam_core::{Fixture, ImageService};
use dam_server::AppConfig;
use dam_store_memory::MemoryStore;
use dam_store_tests::logs::Logs;
use support::{request_with, Reply, Scratch, TestServer, ACME_KEY, FIXTURE};

fn request_id(reply: &Reply) -> String {
    reply
        .header("x-request-id")
        .expect("an x-request-id on every answer")
        .to_owned()
}

/// A store whose every list fails, beside a memory store that knows the keys.
async fn failing_service() -> ImageService {
    let keys = Arc::new(MemoryStore::new());
    keys.load_fixture(&Fixture::from_json(FIXTURE).expect("fixture"))
        .await
        .expect("load");
    let mut images = MockImageStore::new();
    images
        .expect_list()
        .returning(|_, _| Err(StoreError::backend("mock", "the disk is on fire")));
    ImageService::new(Arc::new(images), keys)
}

// Current-thread: the server's tasks log on this thread, where the capture is.
#[tokio::test]
async fn every_log_line_of_a_request_names_its_id() {
    let (logs, _guard) = Logs::capture("info");
    let server = TestServer::serve(
        failing_service().await,
        AppConfig::default(),
        Scratch::new("logs"),
    )
    .await;
    let headers = [
        ("X-API-KEY", ACME_KEY.as_bytes()),
        ("X-Request-Id", b"trace-me-42".as_slice()),
    ];
    let reply = request_with(server.addr, "GET", "/image", &headers).await;
    reply.problem(500, "internal", "Internal Server Error", "/image");
    assert_eq!(request_id(&reply), "trace-me-42");
    let other = server.get("/livez", None).await;
    let other_id = request_id(&other);
    server.stop().await;

    let text = logs.text();
    let failure: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("the disk is on fire"))
        .collect();
    assert!(!failure.is_empty(), "the cause is logged:\n{text}");
    let ours: Vec<&str> = text.lines().filter(|l| l.contains("trace-me-42")).collect();
    assert!(ours.len() >= 2, "the failure and the request line:\n{text}");
    for line in text.lines().filter(|l| l.contains("path=/image")) {
        assert!(line.contains("request_id=trace-me-42"), "{line}");
    }
    for line in failure {
        assert!(line.contains("request_id=trace-me-42"), "{line}");
    }
    assert!(
        text.lines()
            .any(|l| l.contains("path=/livez") && l.contains(&format!("request_id={other_id}"))),
        "{text}"
    );
    assert!(!text.contains(ACME_KEY), "no key in the logs");
}
