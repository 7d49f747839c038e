//! The PostgreSQL store with a real hot standby (`scripts/pg-standby.sh`): lists after
//! deletes are never stale, a stopped standby or a paused replay sends reads to the primary
//! without an error, and the standby comes back into rotation when it has caught up.
//!
//! These tests stop and pause the one shared standby, so they take turns (one lock) and
//! always put it back: a guard starts it again (and re-runs the script), or resumes its
//! replay, even when a test fails. They read `DAM_TEST_POSTGRES_URL` and
//! `DAM_TEST_POSTGRES_REPLICA_URL`; without them (or without a standby answering) they say
//! they were skipped; under `CI=true` a standby that is named but does not answer fails them.

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use common::{admin, replica_urls, TestStore, TestStoreExt};
use dam_core::query::{Filter, Value};
use dam_core::store::{CmpOp, Field, ImageStore, ListQuery, SeedStore, StoreError};
use dam_core::{
    FileType, Fixture, Image, ImageId, ImageStatus, KeyDigest, Reference, TenantData, TenantId,
    Timestamp,
};
use dam_store_postgres::PostgresConfig;

/// The standby's cluster, as `scripts/pg-standby.sh` creates it.
const CLUSTER: [&str; 2] = ["15", "standby"];

/// One test at a time touches the shared standby.
fn turn() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap()
}

fn tenant() -> TenantId {
    TenantId::new("acme").unwrap()
}

fn id(n: i64) -> ImageId {
    ImageId::new(n).unwrap()
}

/// `count` ready images of tenant `acme`, ids 1..=count.
fn fixture(count: i64) -> Fixture {
    let images = (1..=count)
        .map(|n| {
            Image::new(
                id(n),
                Reference::new(format!("img-{n}.jpg")).unwrap(),
                FileType::new("jpg").unwrap(),
                ImageStatus::Ready,
                Timestamp::from_unix_seconds(1_700_000_000 + n).unwrap(),
            )
        })
        .collect();
    Fixture {
        tenants: vec![TenantData {
            tenant: tenant(),
            keys: vec![KeyDigest::of("acme-key")],
            images,
        }],
    }
}

/// The ids a list of every image of `acme` gives, with the count.
async fn listed(store: &impl ImageStore) -> (Vec<i64>, u64) {
    let query = ListQuery {
        count: true,
        ..ListQuery::default()
    };
    let page = store.list(&tenant(), &query).await.unwrap();
    let ids = page.items.iter().map(|im| im.id.get()).collect();
    (ids, page.total.unwrap())
}

/// Whether a list of exactly image `n` finds it.
async fn finds(store: &impl ImageStore, n: i64) -> bool {
    let query = ListQuery {
        filter: Some(Filter::Compare {
            field: Field::Id,
            op: CmpOp::Eq,
            value: Value::Integer(n),
        }),
        ..ListQuery::default()
    };
    !store
        .list(&tenant(), &query)
        .await
        .unwrap()
        .items
        .is_empty()
}

/// Waits until the store has `want` replicas in rotation; fails the test after about 60 s.
async fn until_in_rotation(store: &TestStore, want: usize) {
    for _ in 0..1200 {
        if store.replica_stats().in_rotation == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the store never had {want} replica(s) in rotation: {:?}",
        store.replica_stats()
    );
}

/// Waits until the standby is back in rotation, then until it answers a list (more than
/// `replica_lists` so far), each list showing exactly `ids`; fails the test when it never does.
async fn back_in_rotation(store: &TestStore, replica_lists: u64, ids: &[i64]) {
    until_in_rotation(store, 1).await;
    for _ in 0..50 {
        let (listed_ids, _) = listed(store).await;
        assert_eq!(listed_ids, ids);
        if store.replica_stats().lists_on_replicas > replica_lists {
            return;
        }
    }
    panic!(
        "the standby answered no list once back: {:?}",
        store.replica_stats()
    );
}

/// Runs `test` with the primary's and the standby's URLs on a runtime of its own, one test
/// at a time (they share the standby); nothing (said) without a standby.
fn with_standby(test: impl AsyncFnOnce(String, String)) {
    let _turn = turn();
    runtime().block_on(async {
        if let Some((url, replica)) = replica_urls().await {
            test(url, replica).await;
        }
    });
}

/// A store with the standby as replica, quick health checks, and `fixture(count)` loaded;
/// returns once the standby is in rotation.
async fn store_with_replica(
    url: &str,
    replica: &str,
    count: i64,
    tune: impl FnOnce(PostgresConfig) -> PostgresConfig,
) -> TestStore {
    let store = TestStore::with_replica(url, replica, |c| {
        tune(c.with_replica_check_interval(Duration::from_millis(50)))
    })
    .await;
    store.load_fixture(&fixture(count)).await.unwrap();
    until_in_rotation(&store, 1).await;
    store
}

#[test]
fn delete_then_list_through_the_replica_is_never_stale() {
    with_standby(async |url, replica| {
        let writer = store_with_replica(&url, &replica, 100, |c| c).await;
        // A second store on the same schema, as another server process would be.
        let reader = common::connect(
            common::config(&url, writer.schema())
                .with_replica(&replica)
                .unwrap(),
        )
        .await;
        let mut remaining: Vec<i64> = (1..=100).collect();
        for n in 1..=80 {
            writer.delete(&tenant(), id(n)).await.unwrap();
            remaining.retain(|&m| m != n);
            // The same process, then another one: neither still shows the image.
            assert!(
                !finds(&writer, n).await,
                "image {n} listed by the writer after its delete"
            );
            let (ids, total) = listed(&reader).await;
            assert_eq!(ids, remaining, "round {n}: a stale list from the reader");
            assert_eq!(total, remaining.len() as u64, "round {n}");
        }
        let (ids, total) = listed(&writer).await;
        assert_eq!((ids, total), (remaining.clone(), 20));
        eprintln!(
            "writer {:?}\n reader {:?}",
            writer.replica_stats(),
            reader.replica_stats()
        );
        // The lists were the replica's to answer: it was in rotation and had replayed.
        let writer_stats = writer.replica_stats();
        let reader_stats = reader.replica_stats();
        assert!(
            writer_stats.lists_on_replicas > 0 && reader_stats.lists_on_replicas > 0,
            "no list was answered by the replica: {writer_stats:?} {reader_stats:?}"
        );
        assert_eq!(writer_stats.in_rotation, 1, "{writer_stats:?}");
    });
}

/// Stops the standby; starts it again (and re-runs `scripts/pg-standby.sh`) when dropped.
struct StoppedStandby;

impl StoppedStandby {
    /// `None` (said) when this user cannot stop it; under `CI=true` that fails.
    fn stop() -> Option<StoppedStandby> {
        let stopped = pg_ctlcluster("stop");
        if !stopped {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("cannot stop the standby with pg_ctlcluster (CI=true)");
            }
            eprintln!("skipped: cannot stop the standby with pg_ctlcluster (needs root)");
            return None;
        }
        Some(StoppedStandby)
    }
}

impl Drop for StoppedStandby {
    fn drop(&mut self) {
        if !pg_ctlcluster("start") {
            eprintln!("could not start the standby again");
        }
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg-standby.sh");
        match Command::new(&script).output() {
            Ok(out) if out.status.success() => {}
            other => eprintln!("{} failed: {other:?}", script.display()),
        }
    }
}

fn pg_ctlcluster(action: &str) -> bool {
    let mut command = Command::new("pg_ctlcluster");
    command.args(["--skip-systemctl-redirect", CLUSTER[0], CLUSTER[1], action]);
    if action == "stop" {
        command.args(["-m", "fast"]);
    }
    command.output().is_ok_and(|out| out.status.success())
}

#[test]
fn a_stopped_standby_sends_reads_to_the_primary_without_error_and_comes_back() {
    with_standby(async |url, replica| {
        let store = store_with_replica(&url, &replica, 40, |c| c).await;
        assert!(!finds(&store, 999).await);
        let before = store.replica_stats();
        assert!(before.lists_on_replicas > 0, "{before:?}");

        let Some(standby) = StoppedStandby::stop() else {
            return;
        };
        // Mid-run: every read and write answers, and reads are the primary's.
        for n in 1..=10 {
            store.delete(&tenant(), id(n)).await.unwrap();
            assert!(!finds(&store, n).await);
            let (ids, total) = listed(&store).await;
            assert_eq!(ids, (n + 1..=40).collect::<Vec<_>>());
            assert_eq!(total, (40 - n) as u64);
        }
        let down = store.replica_stats();
        assert_eq!(down.in_rotation, 0, "{down:?}");
        assert_eq!(down.lists_on_replicas, before.lists_on_replicas, "{down:?}");
        assert!(
            down.lists_on_primary >= before.lists_on_primary + 20,
            "{down:?}"
        );

        // Back up: the health checks bring it into rotation, and it answers lists again.
        drop(standby);
        back_in_rotation(
            &store,
            down.lists_on_replicas,
            &(11..=40).collect::<Vec<_>>(),
        )
        .await;
    });
}

/// Pauses the standby's replay; resumes it when dropped.
struct PausedReplay {
    replica: String,
}

impl PausedReplay {
    async fn pause(replica: &str) -> PausedReplay {
        let guard = PausedReplay {
            replica: replica.to_string(),
        };
        admin(replica)
            .await
            .batch_execute("SELECT pg_wal_replay_pause()")
            .await
            .unwrap();
        guard
    }
}

impl Drop for PausedReplay {
    fn drop(&mut self) {
        let replica = self.replica.clone();
        // From a thread of its own, so it works while a test unwinds inside the runtime.
        let worker = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Err(e) = admin(&replica)
                    .await
                    .batch_execute("SELECT pg_wal_replay_resume()")
                    .await
                {
                    eprintln!("could not resume the standby's replay: {e}");
                }
            });
        });
        let _ = worker.join();
    }
}

#[test]
fn a_paused_replay_sends_reads_to_the_primary_and_writes_do_not_hang() {
    with_standby(async |url, replica| {
        // The whole operation is bounded by 5 s: a write that waited on the paused standby
        // past it would fail with a backend error, not answer Ok.
        let store = store_with_replica(&url, &replica, 40, |c| {
            c.with_timeout(Duration::from_secs(5))
                .with_replica_wait(Duration::from_millis(300))
        })
        .await;
        let before = store.replica_stats();

        let paused = PausedReplay::pause(&replica).await;
        for n in 1..=10 {
            store.delete(&tenant(), id(n)).await.unwrap();
            assert!(!finds(&store, n).await, "image {n} listed after its delete");
        }
        store
            .set_status(
                &tenant(),
                id(20),
                ImageStatus::Updating,
                Timestamp::from_unix_seconds(1_800_000_000).unwrap(),
            )
            .await
            .unwrap();
        assert!(matches!(
            store.delete(&tenant(), id(20)).await,
            Err(StoreError::BeingProcessed)
        ));
        let (ids, total) = listed(&store).await;
        assert_eq!(ids, (11..=40).collect::<Vec<_>>());
        assert_eq!(total, 30);
        let lagging = store.replica_stats();
        assert_eq!(lagging.in_rotation, 0, "{lagging:?}");
        assert_eq!(
            lagging.lists_on_replicas, before.lists_on_replicas,
            "{lagging:?}"
        );

        // Resumed: it catches up, comes back, and answers what the primary holds.
        drop(paused);
        back_in_rotation(
            &store,
            lagging.lists_on_replicas,
            &(11..=40).collect::<Vec<_>>(),
        )
        .await;
    });
}

#[test]
fn without_replicas_the_stats_are_zero() {
    let _turn = turn();
    runtime().block_on(async {
        let Some(store) = TestStore::fresh().await else {
            return;
        };
        store.load_fixture(&fixture(3)).await.unwrap();
        let (ids, _) = listed(&store).await;
        assert_eq!(ids, vec![1, 2, 3]);
        let stats = store.replica_stats();
        assert_eq!(
            (
                stats.replicas,
                stats.in_rotation,
                stats.lists_on_replicas,
                stats.lists_on_primary
            ),
            (0, 0, 0, 0)
        );
    });
}
