//! `MeteredStore` (feature `metrics`): a store that forwards every operation unchanged (the
//! conformance kit passes through it), recording each one's duration and each backend failure
//! by store and operation, and nothing of the request in a label.

use std::sync::Arc;

use dam_core::store::{MeteredStore, MockImageStore, StoreError};
use dam_core::{Fixture, ImageService, ServiceConfig};
use dam_store_memory::MemoryStore;
use dam_store_tests::scrape::Scrape;
use metrics_exporter_prometheus::PrometheusBuilder;

mod conformance {
    use dam_core::store::MeteredStore;
    use dam_store_memory::MemoryStore;

    dam_store_tests::conformance_suite!(MeteredStore::new("memory", MemoryStore::new()));
}

const KEY: &str = "acme-key-1";

fn fixture() -> Fixture {
    Fixture::from_json(&format!(
        r#"{{ "tenants": [ {{ "name": "acme", "apiKeys": ["{KEY}"], "images": [
            {{ "id": 41, "reference": "a.jpg", "fileType": "jpg", "status": "Ok",
               "createdOn": "2024-04-05T08:44:33" }} ] }} ] }}"#
    ))
    .expect("fixture")
}

/// `(operation, value)` pairs of one metric.
type PerOperation = Vec<(String, f64)>;

/// `(operation, count)` of the duration histogram, and `(operation, value)` of the failure
/// counter, for `store`.
fn recorded(scrape: &Scrape, store: &str) -> (PerOperation, PerOperation) {
    let of = |name: &str| {
        let mut found: Vec<(String, f64)> = scrape
            .samples(name)
            .iter()
            .filter(|s| s.label("store") == Some(store))
            .map(|s| (s.label("operation").expect("operation").to_owned(), s.value))
            .collect();
        found.sort_by(|a, b| a.0.cmp(&b.0));
        found
    };
    (
        of("dam_store_operation_duration_seconds_count"),
        of("dam_store_operation_errors_total"),
    )
}

// Current-thread: the local recorder belongs to this thread.
#[tokio::test]
async fn each_operation_is_timed_and_each_backend_failure_counted() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let _guard = metrics::set_default_local_recorder(&recorder);

    let memory = Arc::new(MeteredStore::new("memory", MemoryStore::new()));
    use dam_core::store::SeedStore;
    memory.load_fixture(&fixture()).await.expect("load");
    assert!(!memory.is_empty().await.expect("is_empty"));
    let mut failing = MockImageStore::new();
    failing
        .expect_list()
        .returning(|_, _| Err(StoreError::backend("mock", "the disk is on fire")));
    let failing = Arc::new(MeteredStore::new("mock", failing));

    let working = ImageService::new(memory.clone(), memory.clone());
    let broken = ImageService::with_config(failing, memory, ServiceConfig::default());
    assert!(working
        .list_images(Some(KEY.as_bytes()), Some("$filter=id%20eq%2041"), "/image")
        .await
        .is_ok());
    // A missing image is an answer (404), not a failure.
    assert!(working
        .delete_image(Some(KEY.as_bytes()), "999", "/image/999")
        .await
        .is_err());
    assert!(working
        .delete_image(Some(KEY.as_bytes()), "41", "/image/41")
        .await
        .is_ok());
    assert!(broken
        .list_images(Some(KEY.as_bytes()), None, "/image")
        .await
        .is_err());

    let scrape = Scrape::parse(&handle.render()).expect("a valid scrape");
    let (durations, failures) = recorded(&scrape, "memory");
    assert_eq!(
        durations,
        [
            ("delete".to_owned(), 2.0),
            ("is_empty".to_owned(), 1.0),
            ("list".to_owned(), 1.0),
            ("load_fixture".to_owned(), 1.0),
            ("tenant_for_key".to_owned(), 4.0),
        ]
    );
    assert_eq!(failures, []);
    let (durations, failures) = recorded(&scrape, "mock");
    assert_eq!(durations, [("list".to_owned(), 1.0)]);
    assert_eq!(failures, [("list".to_owned(), 1.0)]);
    // Numbers of the exporter's own (`quantile`, `le`) aside, a label is a store or operation.
    for (name, label, value) in scrape.label_values() {
        if label == "quantile" || label == "le" {
            continue;
        }
        assert!(label == "store" || label == "operation", "{name}: {label}");
        for forbidden in [KEY, "acme", "41", "999", "fire", "filter"] {
            assert!(!value.contains(forbidden), "{name}: {label}={value:?}");
        }
    }
}
