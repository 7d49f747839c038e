//! The reader connections' cache of list pages: a page asked again is served from it, and
//! any change committed to the file — by this store, by another store on it, by another
//! process — is seen by the very next list.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{fixture, image, tenant};
use dam_core::query::parse_query_string;
use dam_core::store::{ImagePage, ImageStore, ListQuery, SeedStore};
use dam_core::{ImageId, ImageStatus, Timestamp};
use dam_store_sqlite::{SqliteOptions, SqliteStore};

fn db(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("dam.sqlite")
}

fn id(n: i64) -> ImageId {
    ImageId::new(n).unwrap()
}

/// One reader, so that every list goes through the same connection and its cache.
fn one_reader() -> SqliteOptions {
    SqliteOptions::default().readers(1)
}

/// A store at `path` holding images 1..=5 of tenant `t`, and image 6 of tenant `u`.
async fn seeded(path: &Path, options: SqliteOptions) -> SqliteStore {
    let store = SqliteStore::open_with(path, options).unwrap();
    let images = (1..=5).map(|n| image(n, &format!("img-{n}.jpg"))).collect();
    store
        .load_fixture(&fixture(vec![
            ("t", vec!["k"], images),
            ("u", vec!["l"], vec![image(6, "img-6.jpg")]),
        ]))
        .await
        .unwrap();
    store
}

fn query(text: &str) -> ListQuery {
    parse_query_string(Some(text)).unwrap().page_query()
}

async fn page(store: &SqliteStore, tenant_name: &str, text: &str) -> ImagePage {
    store
        .list(&tenant(tenant_name), &query(text))
        .await
        .unwrap()
}

fn ids(page: &ImagePage) -> Vec<i64> {
    page.items.iter().map(|im| im.id.get()).collect()
}

/// Lists `text` of tenant `t` twice on a store that has served no list yet, and checks that
/// both give `expected` and the second came from the cache.
async fn list_twice_cached(store: &SqliteStore, text: &str, expected: &[i64]) {
    for _ in 0..2 {
        assert_eq!(ids(&page(store, "t", text).await), expected);
    }
    assert_eq!(store.list_cache_counts(), (1, 1));
}

#[tokio::test]
async fn a_list_asked_again_is_served_from_the_cache_and_equal() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(&db(&dir), one_reader()).await;
    let first = page(&store, "t", "$top=2&$count=true").await;
    assert_eq!(store.list_cache_counts(), (0, 1));
    let again = page(&store, "t", "$top=2&$count=true").await;
    assert_eq!(store.list_cache_counts(), (1, 1));
    assert_eq!(again, first);
    assert_eq!(
        (ids(&again), again.total, again.has_more),
        (vec![1, 2], Some(5), true)
    );
    // Another tenant, another page, another filter: each read, none served for another.
    assert_eq!(ids(&page(&store, "u", "$top=2&$count=true").await), vec![6]);
    assert_eq!(
        ids(&page(&store, "t", "$top=3&$count=true").await),
        vec![1, 2, 3]
    );
    assert_eq!(ids(&page(&store, "t", "$top=2&$skip=2").await), vec![3, 4]);
    assert_eq!(store.list_cache_counts(), (1, 4));
}

#[tokio::test]
async fn the_stores_own_writes_are_seen_by_the_next_list() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(&db(&dir), one_reader()).await;
    let t = tenant("t");
    assert_eq!(ids(&page(&store, "t", "").await), vec![1, 2, 3, 4, 5]);
    store.delete(&t, id(2)).await.unwrap();
    assert_eq!(ids(&page(&store, "t", "").await), vec![1, 3, 4, 5]);
    let at = Timestamp::from_unix_seconds(1_800_000_000).unwrap();
    store
        .set_status(&t, id(3), ImageStatus::Updating, at)
        .await
        .unwrap();
    let listed = page(&store, "t", "").await;
    assert_eq!(listed.items[1].status, ImageStatus::Updating);
    assert_eq!(listed.items[1].modified_on, at);
    let added = store.insert(&t, image(1, "new.jpg")).await.unwrap();
    assert_eq!(
        ids(&page(&store, "t", "").await),
        vec![1, 3, 4, 5, added.id.get()]
    );
    assert_eq!(store.list_cache_counts().0, 0, "no page was served stale");
}

#[tokio::test]
async fn a_change_by_another_store_on_the_file_is_seen_by_the_next_list() {
    let dir = tempfile::tempdir().unwrap();
    let cached = seeded(&db(&dir), one_reader()).await;
    let other = SqliteStore::open(db(&dir)).unwrap();
    let t = tenant("t");
    list_twice_cached(&cached, "$top=3", &[1, 2, 3]).await;
    other.delete(&t, id(2)).await.unwrap();
    assert_eq!(ids(&page(&cached, "t", "$top=3").await), vec![1, 3, 4]);
    let at = Timestamp::from_unix_seconds(1_800_000_000).unwrap();
    other
        .set_status(&t, id(1), ImageStatus::Reprocessing, at)
        .await
        .unwrap();
    let listed = page(&cached, "t", "$top=3").await;
    assert_eq!(listed.items[0].status, ImageStatus::Reprocessing);
    assert_eq!(cached.list_cache_counts(), (1, 3));
}

/// The environment variable that makes [`child_deletes_an_image`] act: the database file.
const CHILD_DB: &str = "DAM_LIST_CACHE_CHILD_DB";

/// Run by [`a_change_by_another_process_is_seen_by_the_next_list`] in a process of its own
/// (this test binary again); without the variable it does nothing.
#[tokio::test]
async fn child_deletes_an_image() {
    let Ok(path) = std::env::var(CHILD_DB) else {
        return;
    };
    let store = SqliteStore::open(path).unwrap();
    store.delete(&tenant("t"), id(4)).await.unwrap();
}

#[tokio::test]
async fn a_change_by_another_process_is_seen_by_the_next_list() {
    let dir = tempfile::tempdir().unwrap();
    let cached = seeded(&db(&dir), one_reader()).await;
    list_twice_cached(&cached, "", &[1, 2, 3, 4, 5]).await;
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child_deletes_an_image", "--test-threads", "1"])
        .env(CHILD_DB, db(&dir))
        .status()
        .unwrap();
    assert!(status.success(), "the child process failed: {status}");
    assert_eq!(ids(&page(&cached, "t", "").await), vec![1, 2, 3, 5]);
    assert_eq!(cached.list_cache_counts(), (1, 2));
}

#[tokio::test]
async fn with_no_pages_kept_every_list_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let store = seeded(&db(&dir), one_reader().list_cache_pages(0)).await;
    for _ in 0..3 {
        assert_eq!(ids(&page(&store, "t", "$top=1").await), vec![1]);
    }
    assert_eq!(store.list_cache_counts(), (0, 0));
}

#[tokio::test]
async fn an_in_memory_store_keeps_no_pages() {
    let store = SqliteStore::open_in_memory().unwrap();
    store
        .load_fixture(&fixture(vec![("t", vec!["k"], vec![image(1, "a.jpg")])]))
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(ids(&page(&store, "t", "").await), vec![1]);
    }
    store.delete(&tenant("t"), id(1)).await.unwrap();
    assert_eq!(ids(&page(&store, "t", "").await), Vec::<i64>::new());
    assert_eq!(store.list_cache_counts(), (0, 0));
}
