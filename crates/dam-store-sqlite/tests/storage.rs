//! The database file: schema migrations, reopening, key digests, and storage faults (each a
//! `StoreError::Backend`, never a panic, and never a loss of what was stored).

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{fixture, image, tenant};
use dam_core::store::{ImageStore, KeyStore, ListQuery, SeedStore, StoreError};
use dam_core::{ImageId, ImageStatus, KeyDigest, Timestamp};
use dam_store_sqlite::{SqliteOptions, SqliteStore, SCHEMA_VERSION};
use rusqlite::Connection;

fn is_backend<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(
        result,
        Err(StoreError::Backend {
            store: "sqlite",
            ..
        })
    )
}

fn id(n: i64) -> ImageId {
    ImageId::new(n).unwrap()
}

fn db(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("dam.sqlite")
}

/// A store at `path` holding images 1..=5 of tenant `t` (image 3 being processed) and key `k`.
async fn seeded(path: &Path, options: SqliteOptions) -> SqliteStore {
    let store = SqliteStore::open_with(path, options).unwrap();
    let mut images: Vec<_> = (1..=5).map(|n| image(n, &format!("img-{n}.jpg"))).collect();
    images[2].status = ImageStatus::Updating;
    images[0].tags = vec!["red".into(), "blue".into()];
    store
        .load_fixture(&fixture(vec![("t", vec!["k"], images)]))
        .await
        .unwrap();
    store
}

async fn ids(store: &SqliteStore) -> Vec<i64> {
    let page = store
        .list(&tenant("t"), &ListQuery::default())
        .await
        .unwrap();
    page.items.iter().map(|im| im.id.get()).collect()
}

#[tokio::test]
async fn a_new_file_gets_the_schema_version_and_wal_mode() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(db(&dir)).unwrap();
    assert!(store.is_empty().await.unwrap());
    let conn = Connection::open(db(&dir)).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn reopening_keeps_data_and_never_reuses_ids() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = seeded(&db(&dir), SqliteOptions::default()).await;
        store.delete(&tenant("t"), id(5)).await.unwrap();
    }
    let store = SqliteStore::open(db(&dir)).unwrap();
    assert_eq!(ids(&store).await, vec![1, 2, 3, 4]);
    let first = store.get(&tenant("t"), id(1)).await.unwrap().unwrap();
    assert_eq!(first.tags, vec!["red", "blue"]);
    assert_eq!(
        KeyStore::tenant_for_key(&store, &KeyDigest::of("k"))
            .await
            .unwrap(),
        Some(tenant("t"))
    );
    // 5 was held and deleted: the next id is 6, and after deleting 6, 7.
    let six = store
        .insert(&tenant("t"), image(1, "new.jpg"))
        .await
        .unwrap();
    assert_eq!(six.id.get(), 6);
    store.delete(&tenant("t"), six.id).await.unwrap();
    drop(store);
    let store = SqliteStore::open(db(&dir)).unwrap();
    let seven = store
        .insert(&tenant("u"), image(1, "new.jpg"))
        .await
        .unwrap();
    assert_eq!(seven.id.get(), 7);
}

#[tokio::test]
async fn a_file_of_a_newer_schema_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    drop(seeded(&db(&dir), SqliteOptions::default()).await);
    let conn = Connection::open(db(&dir)).unwrap();
    conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
        .unwrap();
    drop(conn);
    assert!(is_backend(SqliteStore::open(db(&dir))));
    let conn = Connection::open(db(&dir)).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM images", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 5);
}

/// Whether the file at `path` has an index named `name`.
fn has_index(conn: &Connection, name: &str) -> bool {
    conn.query_row(
        "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = ?",
        [name],
        |r| r.get::<_, i64>(0),
    )
    .unwrap()
        == 1
}

#[tokio::test]
async fn a_version_1_file_is_upgraded_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let before = seeded(&db(&dir), SqliteOptions::default()).await;
    let listed = before
        .list(&tenant("t"), &ListQuery::default())
        .await
        .unwrap()
        .items;
    drop(before);
    // Version 2 only adds the newest-first index, version 3 the `tags` column: without them
    // (and the index's statistics), the file is a version 1 file.
    let conn = Connection::open(db(&dir)).unwrap();
    conn.execute_batch(
        "DROP INDEX images_by_created_on_desc; DROP TABLE IF EXISTS sqlite_stat1; \
         ALTER TABLE images DROP COLUMN tags; PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(conn);

    let store = SqliteStore::open(db(&dir)).unwrap();
    assert_eq!(ids(&store).await, vec![1, 2, 3, 4, 5]);
    // The upgrade copied each image's tags, in their order, into the new column.
    let upgraded = store
        .list(&tenant("t"), &ListQuery::default())
        .await
        .unwrap()
        .items;
    assert_eq!(upgraded, listed);
    assert_eq!(upgraded[0].tags, ["red", "blue"]);
    assert!(upgraded[1].tags.is_empty());
    let conn = Connection::open(db(&dir)).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    assert!(has_index(&conn, "images_by_created_on_desc"));
    // Opening gathered the planner's statistics for the new index.
    let analyzed: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_stat1 WHERE idx = 'images_by_created_on_desc'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(analyzed, 1);
}

#[tokio::test]
async fn a_newest_first_page_is_read_in_index_order_after_a_load() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(db(&dir)).unwrap();
    let images = |tenant: i64| -> Vec<_> {
        (1..=2_000)
            .map(|n| {
                let mut im = image(tenant * 10_000 + n, &format!("img-{n}.jpg"));
                im.num_links = n % 10;
                im.created_on = Timestamp::from_unix_seconds(common::T0 + n * 7 % 1000).unwrap();
                im.modified_on = im.created_on;
                im
            })
            .collect()
    };
    store
        .load_fixture(&fixture(vec![
            ("t", vec![], images(1)),
            ("u", vec![], images(2)),
        ]))
        .await
        .unwrap();
    // The statistics the load gathered let the planner prefer the index in list order over
    // a sort of the rows a filter column's index would give.
    let conn = Connection::open(db(&dir)).unwrap();
    let plan: Vec<String> = conn
        .prepare(
            "EXPLAIN QUERY PLAN SELECT images.id FROM images \
             WHERE images.tenant_id = (SELECT id FROM tenants WHERE name = ?) \
             AND images.file_type = ? AND images.status IN (?, ?) AND images.num_links >= ? \
             ORDER BY images.created_on DESC, images.id ASC LIMIT ? OFFSET ?",
        )
        .unwrap()
        .query_map(rusqlite::params!["t", "jpg", "Ok", "Re", 3, 101, 0], |r| {
            r.get(3)
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        plan.iter()
            .any(|step| step.contains("images_by_created_on_desc")),
        "{plan:?}"
    );
    assert!(
        !plan.iter().any(|step| step.contains("TEMP B-TREE")),
        "{plan:?}"
    );
}

#[tokio::test]
async fn keys_are_stored_only_as_digests() {
    let dir = tempfile::tempdir().unwrap();
    let key = "very-secret-api-key-4711";
    {
        let store = SqliteStore::open(db(&dir)).unwrap();
        store
            .load_fixture(&fixture(vec![("acme", vec![key], vec![image(1, "a.jpg")])]))
            .await
            .unwrap();
        // A clash names the key by position, never by value or digest.
        let err = store
            .load_fixture(&fixture(vec![("other", vec![key], vec![])]))
            .await
            .unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, StoreError::Conflict(_)), "{message}");
        assert!(!message.contains(key), "{message}");
        assert!(
            !message.contains(&KeyDigest::of(key).to_hex()[..8]),
            "{message}"
        );
        assert_eq!(
            store.tenant_for_key(&KeyDigest::of(key)).await.unwrap(),
            Some(tenant("acme"))
        );
    }
    // Everything the adapter wrote: the database and any journal beside it.
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        bytes.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(contains(KeyDigest::of(key).as_bytes()));
    assert!(!contains(key.as_bytes()));
    assert!(!contains(KeyDigest::of(key).to_hex().as_bytes()));
}

#[test]
fn a_missing_or_unusable_directory_is_a_backend_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir
        .path()
        .join("no")
        .join("such")
        .join("dir")
        .join("dam.sqlite");
    assert!(is_backend(SqliteStore::open(&missing)));
    assert!(!missing.parent().unwrap().exists());
    // The path is a directory.
    assert!(is_backend(SqliteStore::open(dir.path())));
    // The parent is a file.
    let file = dir.path().join("plain-file");
    std::fs::write(&file, b"not a directory").unwrap();
    assert!(is_backend(SqliteStore::open(file.join("dam.sqlite"))));
}

#[tokio::test]
async fn garbage_over_the_whole_file_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    drop(seeded(&db(&dir), SqliteOptions::default()).await);
    let len = std::fs::metadata(db(&dir)).unwrap().len() as usize;
    let garbage: Vec<u8> = (0..len).map(|i| (i * 131 % 251) as u8).collect();
    std::fs::write(db(&dir), &garbage).unwrap();
    assert!(is_backend(SqliteStore::open(db(&dir))));
    assert_eq!(std::fs::read(db(&dir)).unwrap(), garbage);
}

#[tokio::test]
async fn garbage_inside_the_file_is_a_backend_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    drop(seeded(&db(&dir), SqliteOptions::default()).await);
    let mut bytes = std::fs::read(db(&dir)).unwrap();
    // Keep the header and the schema page; overwrite every table and index page.
    let page = 4096;
    assert!(bytes.len() > 2 * page);
    for (i, b) in bytes.iter_mut().enumerate().skip(page) {
        *b = (i * 7 % 253) as u8;
    }
    std::fs::write(db(&dir), &bytes).unwrap();
    let store = match SqliteStore::open(db(&dir)) {
        Ok(store) => store,
        Err(e) => {
            assert!(matches!(e, StoreError::Backend { .. }), "{e:?}");
            return;
        }
    };
    assert!(is_backend(
        store.list(&tenant("t"), &ListQuery::default()).await
    ));
    assert!(is_backend(store.get(&tenant("t"), id(1)).await));
    assert!(is_backend(store.delete(&tenant("t"), id(1)).await));
    assert!(is_backend(store.tenant_for_key(&KeyDigest::of("k")).await));
}

/// Another process's connection holds the write lock, inside a transaction it never ends.
fn lock(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE; UPDATE meta SET value = value;")
        .unwrap();
    conn
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_held_past_the_busy_timeout_is_a_backend_error_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let timeout = Duration::from_millis(200);
    let options = SqliteOptions::default().busy_timeout(timeout);
    let store = seeded(&db(&dir), options.clone()).await;
    let before = ids(&store).await;
    let held = lock(&db(&dir));

    let started = Instant::now();
    let t = tenant("t");
    assert!(is_backend(store.delete(&t, id(1)).await));
    assert!(started.elapsed() >= timeout);
    assert!(is_backend(store.delete(&t, id(3)).await));
    assert!(is_backend(store.insert(&t, image(1, "x.jpg")).await));
    let at = Timestamp::now();
    assert!(is_backend(
        store.set_status(&t, id(2), ImageStatus::Void, at).await
    ));
    let more = fixture(vec![("t", vec![], vec![image(9, "nine.jpg")])]);
    assert!(is_backend(store.load_fixture(&more).await));
    // WAL lets readers go on while a writer holds the lock.
    assert_eq!(ids(&store).await, before);
    assert!(is_backend(SqliteStore::open_with(
        db(&dir),
        options.clone()
    )));
    // The lock goes; everything that was there still is, and nothing half-written shows.
    drop(held);
    assert_eq!(ids(&store).await, before);
    let first = store.get(&t, id(1)).await.unwrap().unwrap();
    assert_eq!(first.tags, vec!["red", "blue"]);
    assert_eq!(first.status, ImageStatus::Ready);
    // And the store works again.
    store.delete(&t, id(1)).await.unwrap();
    assert!(matches!(
        store.delete(&t, id(3)).await,
        Err(StoreError::BeingProcessed)
    ));
    let next = store.insert(&t, image(1, "x.jpg")).await.unwrap();
    assert_eq!(next.id.get(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stores_on_one_file_delete_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let a = seeded(&db(&dir), SqliteOptions::default()).await;
    let b = SqliteStore::open(db(&dir)).unwrap();
    let t = tenant("t");
    for n in [1, 2, 4, 5] {
        let (x, y) = tokio::join!(a.delete(&t, id(n)), b.delete(&t, id(n)));
        let oks = [&x, &y].iter().filter(|r| r.is_ok()).count();
        let missing = [&x, &y]
            .iter()
            .filter(|r| matches!(r, Err(StoreError::NotFound)))
            .count();
        assert_eq!((oks, missing), (1, 1), "{x:?} {y:?}");
    }
    assert_eq!(ids(&b).await, vec![3]);
}

/// The key cache: a key removed behind the store's back (another process, by hand) is still
/// honoured for at most the cache's time to live, then refused; with the cache off, at once.
#[tokio::test]
async fn a_removed_key_is_refused_once_the_key_cache_expires() {
    let dir = tempfile::tempdir().unwrap();
    let ttl = Duration::from_millis(300);
    let store = seeded(&db(&dir), SqliteOptions::default().key_cache_ttl(ttl)).await;
    let uncached = SqliteStore::open_with(
        db(&dir),
        SqliteOptions::default().key_cache_ttl(Duration::ZERO),
    )
    .unwrap();
    let k = KeyDigest::of("k");
    assert_eq!(store.tenant_for_key(&k).await.unwrap(), Some(tenant("t")));
    assert_eq!(
        uncached.tenant_for_key(&k).await.unwrap(),
        Some(tenant("t"))
    );
    let removed = Instant::now();
    Connection::open(db(&dir))
        .unwrap()
        .execute("DELETE FROM api_keys", [])
        .unwrap();
    assert_eq!(uncached.tenant_for_key(&k).await.unwrap(), None);
    let cached = store.tenant_for_key(&k).await.unwrap();
    if removed.elapsed() < ttl {
        assert_eq!(cached, Some(tenant("t")), "still cached");
    }
    tokio::time::sleep(ttl).await;
    assert_eq!(store.tenant_for_key(&k).await.unwrap(), None, "expired");
}
