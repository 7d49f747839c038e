//! Storage failures through the service, on the adapter wrapped in [`Faulty`].

use std::sync::Arc;

use dam_core::store::ImageStore;
use dam_core::{ImageService, ProblemKind};

use super::standard;
use crate::data::KEYS;
use crate::logs::Logs;
use crate::wrap::{Faulty, Operation, FAULTY, INJECTED_CAUSE};
use crate::StoreFactory;

/// A storage failure of any operation a request makes (key look-up, list, delete) answers a
/// generic 500 whose document names no cause, and logs the cause once at error level; once the
/// store heals, the same requests succeed.
pub async fn storage_failures_are_clean_500s<F: StoreFactory>(factory: F) {
    let (store, _) = standard(&factory).await;
    let faulty = Arc::new(Faulty::new(store));
    let service = ImageService::new(faulty.clone(), faulty.clone());
    let (tenant_key, key) = (KEYS[0].0, KEYS[0].1);
    let (logs, _guard) = Logs::capture("info");
    for operation in [Operation::TenantForKey, Operation::List, Operation::Delete] {
        faulty.fail(&[operation]);
        let mark = logs.text().len();
        let problem = if operation == Operation::Delete {
            service
                .delete_image(Some(key.as_bytes()), "1", "/image/1")
                .await
                .err()
        } else {
            service
                .list_images(Some(key.as_bytes()), None, "/image")
                .await
                .err()
        };
        let Some(problem) = problem else {
            panic!("{operation:?} failed in the store of tenant {tenant_key}, yet the request succeeded");
        };
        assert_eq!(
            problem.status,
            ProblemKind::Internal.status(),
            "{operation:?}: {problem:?}"
        );
        crate::faults::assert_generic_500(&problem, FAULTY, key, &[INJECTED_CAUSE]);
        let new = logs.text().split_off(mark);
        assert_eq!(
            new.lines().filter(|l| l.contains("ERROR")).count(),
            1,
            "{operation:?}: one error line with the cause:\n{new}"
        );
        assert!(
            new.contains("ERROR") && new.contains(INJECTED_CAUSE),
            "{operation:?}:\n{new}"
        );
    }
    faulty.heal();
    let healed = service
        .list_images(Some(key.as_bytes()), None, "/image")
        .await;
    assert!(healed.is_ok(), "after healing: {healed:?}");
}

/// A store that answers pings makes the service ready; one whose ping fails makes
/// [`ImageService::ready`] a 503 `unavailable` problem whose document names no cause, and the
/// cause is logged once at error level where the error becomes that document.
pub async fn ready_follows_ping<F: StoreFactory>(factory: F) {
    let store = factory.create().await;
    if let Err(e) = store.ping().await {
        panic!("a fresh store does not answer a ping: {e:?}");
    }
    let faulty = Arc::new(Faulty::new(store));
    let service = ImageService::new(faulty.clone(), faulty.clone());
    assert!(
        service.ready().await.is_ok(),
        "a store that answers is ready"
    );
    faulty.fail(&[Operation::Ping]);
    let (logs, _guard) = Logs::capture("info");
    let Err(error) = service.ready().await else {
        panic!("a store whose ping fails is reported ready");
    };
    let problem = service.problem(&error, "/ready");
    assert_eq!(
        (problem.status, problem.title.as_str()),
        (503, ProblemKind::Unavailable.title())
    );
    assert!(
        problem.problem_type.ends_with("/unavailable"),
        "{problem:?}"
    );
    crate::faults::assert_generic_503(&problem, FAULTY, &[INJECTED_CAUSE]);
    let text = logs.text();
    assert_eq!(
        text.lines().filter(|l| l.contains("ERROR")).count(),
        1,
        "one error line with the cause:\n{text}"
    );
    assert!(
        text.contains(INJECTED_CAUSE),
        "the cause is logged:\n{text}"
    );
    faulty.heal();
    assert!(
        service.ready().await.is_ok(),
        "ready again once the store answers"
    );
}
