//! Atomicity under concurrency: deletes against deletes, deletes against status changes,
//! inserts against inserts. Tasks run on the runtime's worker threads, released together by a
//! barrier.

use std::collections::HashSet;
use std::sync::Arc;

use dam_core::ImageStatus;

use dam_core::store::{ImageStore, StoreError};
use tokio::sync::Barrier;

use super::{acme, standard};
use crate::check::get;
use crate::data::{id, image, ts};
use crate::StoreFactory;

const TASKS: usize = 20;
const ROUNDS: usize = 60;
/// How long one side of a race waits on staggered rounds, so that both orders (and a lock
/// landing inside a non-atomic delete) occur whatever the scheduler does.
const STAGGER: std::time::Duration = std::time::Duration::from_millis(5);

/// 20 tasks delete one image at once: exactly one succeeds, the others get `NotFound`.
/// Repeated for several images.
pub async fn concurrent_deletes_one_wins<F: StoreFactory>(factory: F) {
    let (store, _) = standard(&factory).await;
    for target in [1, 2, 5, 6, 16] {
        let barrier = Arc::new(Barrier::new(TASKS));
        let mut tasks = Vec::new();
        for _ in 0..TASKS {
            let store = Arc::clone(&store);
            let barrier = Arc::clone(&barrier);
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                store.delete(&acme(), id(target)).await
            }));
        }
        let mut deleted = 0;
        for task in tasks {
            match task.await {
                Ok(Ok(())) => deleted += 1,
                Ok(Err(StoreError::NotFound)) => {}
                Ok(Err(e)) => panic!("concurrent delete of {target}: {e:?}"),
                Err(e) => panic!("delete task failed: {e}"),
            }
        }
        assert_eq!(
            deleted, 1,
            "{TASKS} deletes of {target}: {deleted} succeeded"
        );
        assert_eq!(get(&*store, &acme(), id(target)).await, None);
    }
}

/// A delete racing a status change to `Up` never deletes a processing image: either the
/// delete came first (it succeeded, the status change found nothing) or the status change
/// came first (it succeeded, the delete was refused and the image is kept, `Up`). Never both
/// succeed. Run for many rounds.
pub async fn delete_racing_set_status<F: StoreFactory>(factory: F) {
    let store = factory.create().await;
    let tenant = acme();
    let mut delete_first = 0;
    let mut lock_first = 0;
    for round in 0..ROUNDS {
        let fresh = image(1, &format!("race-{round}.jpg")).build();
        let stored = match store.insert(&tenant, fresh).await {
            Ok(stored) => stored,
            Err(e) => panic!("insert failed: {e:?}"),
        };
        let barrier = Arc::new(Barrier::new(2));
        let deleter = {
            let (store, barrier, tenant) = (Arc::clone(&store), Arc::clone(&barrier), acme());
            tokio::spawn(async move {
                barrier.wait().await;
                if round % 3 == 2 {
                    // let the lock go first: a delete that comes second must see it
                    tokio::time::sleep(STAGGER).await;
                }
                store.delete(&tenant, stored.id).await
            })
        };
        let locker = {
            let (store, barrier, tenant) = (Arc::clone(&store), Arc::clone(&barrier), acme());
            tokio::spawn(async move {
                barrier.wait().await;
                if round % 3 == 1 {
                    // let the delete start first: a lock that lands in the middle of a
                    // check-then-delete must not let the delete through
                    tokio::time::sleep(STAGGER).await;
                }
                let at = ts("2030-01-01T00:00:00");
                store
                    .set_status(&tenant, stored.id, ImageStatus::Updating, at)
                    .await
            })
        };
        let (deleted, locked) = match (deleter.await, locker.await) {
            (Ok(d), Ok(l)) => (d, l),
            (d, l) => panic!("race tasks failed: {d:?} {l:?}"),
        };
        let now = get(&*store, &tenant, stored.id).await;
        match (&deleted, &locked) {
            (Ok(()), Err(StoreError::NotFound)) => {
                assert_eq!(now, None, "round {round}: deleted image still readable");
                delete_first += 1;
            }
            (Err(StoreError::BeingProcessed), Ok(changed)) => {
                assert_eq!(changed.status, ImageStatus::Updating);
                let status = now.map(|im| im.status);
                assert_eq!(status, Some(ImageStatus::Updating), "round {round}");
                lock_first += 1;
            }
            _ => panic!(
                "round {round}: delete {deleted:?} and set_status(Up) {locked:?} cannot both \
                 describe one order of the two operations"
            ),
        }
    }
    assert_eq!(delete_first + lock_first, ROUNDS);
}

/// Concurrent inserts of distinct references get distinct ids; concurrent inserts of one
/// reference into one tenant store it exactly once (the others get `Conflict`).
pub async fn concurrent_inserts<F: StoreFactory>(factory: F) {
    let (store, _) = standard(&factory).await;
    let barrier = Arc::new(Barrier::new(TASKS));
    let mut tasks = Vec::new();
    for n in 0..TASKS {
        let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            store
                .insert(&acme(), image(1, &format!("parallel-{n}.jpg")).build())
                .await
        }));
    }
    let mut ids = HashSet::new();
    for task in tasks {
        match task.await {
            Ok(Ok(stored)) => {
                assert!(stored.id.get() > crate::data::MAX_FIXTURE_ID);
                assert!(ids.insert(stored.id), "id {} handed out twice", stored.id);
            }
            other => panic!("concurrent insert failed: {other:?}"),
        }
    }
    let barrier = Arc::new(Barrier::new(TASKS));
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let (store, barrier) = (Arc::clone(&store), Arc::clone(&barrier));
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            store
                .insert(&acme(), image(1, "contested.jpg").build())
                .await
        }));
    }
    let mut stored = 0;
    for task in tasks {
        match task.await {
            Ok(Ok(_)) => stored += 1,
            Ok(Err(StoreError::Conflict(_))) => {}
            other => panic!("concurrent insert of one reference: {other:?}"),
        }
    }
    assert_eq!(stored, 1, "one reference stored {stored} times");
}
