//! Contract §6 and §8 "Logs": real storage faults of the SQLite file, driven through the
//! service facade, give a generic 500 whose problem document holds no SQL, path or key, and
//! log the driver's cause without SQL text, the database path, the API key or its digest.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use common::{fixture, image};
use dam_core::store::SeedStore;
use dam_core::{ImageService, ImageStatus};
use dam_store_sqlite::{SqliteOptions, SqliteStore};
use dam_store_tests::faults::{self, Ask};
use dam_store_tests::logs::Logs;
use rusqlite::Connection;

const KEY: &str = "sqlite-secret-key-Zq81";
const FILE: &str = "dam-secret-store.sqlite3";

/// Asks `service` and asserts a generic 500 with a clean document, and the failure logged
/// without SQL, the database's path or file name, the key or its digest (the kit's rule, with
/// this adapter's secrets); returns the log's length before the request.
async fn fails_safely(service: &ImageService, ask: Ask<'_>, logs: &Logs, path: &Path) -> usize {
    let file = path.display().to_string();
    let dir = path
        .parent()
        .map_or(String::new(), |p| p.display().to_string());
    let extra = [file.as_str(), &dir, FILE];
    faults::assert_ask_fails_safely(service, ask, logs, "sqlite", KEY, &extra).await
}

fn db(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join(FILE)
}

/// A store at `path` with tenant `t` (key [`KEY`]) holding images 1..=3, image 2 processing.
async fn seeded(path: &Path, options: SqliteOptions) -> Arc<SqliteStore> {
    let store = SqliteStore::open_with(path, options).unwrap();
    let mut images: Vec<_> = (1..=3).map(|n| image(n, &format!("img-{n}.jpg"))).collect();
    images[1].status = ImageStatus::Updating;
    images[0].tags = vec!["red".into()];
    store
        .load_fixture(&fixture(vec![("t", vec![KEY], images)]))
        .await
        .unwrap();
    Arc::new(store)
}

/// A seeded store ([`seeded`]) in a new temporary directory: the directory (removed when
/// dropped), the database file and the store.
async fn seeded_in_temp_dir(
    options: SqliteOptions,
) -> (tempfile::TempDir, PathBuf, Arc<SqliteStore>) {
    let dir = tempfile::tempdir().unwrap();
    let path = db(&dir);
    let store = seeded(&path, options).await;
    (dir, path, store)
}

/// Keys served by a healthy store of their own, so a fault of the image tables is reached.
async fn healthy_keys() -> Arc<SqliteStore> {
    let keys = SqliteStore::open_in_memory().unwrap();
    keys.load_fixture(&fixture(vec![("t", vec![KEY], vec![])]))
        .await
        .unwrap();
    Arc::new(keys)
}

/// Another process changes the file under the store.
fn tamper(path: &Path, sql: &str) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(sql).unwrap();
}

#[tokio::test]
async fn dropped_tables_give_clean_500s_and_clean_logs() {
    let (logs, _guard) = Logs::capture("trace");
    let (_dir, path, store) = seeded_in_temp_dir(SqliteOptions::default()).await;
    let service = ImageService::new(store.clone(), healthy_keys().await);
    // Healthy first: the list works.
    let page = service
        .list_images(Some(KEY.as_bytes()), Some("$count=true"), "/image")
        .await
        .unwrap();
    assert_eq!(page.count, Some(3));

    // A column gone. The driver reports it with the statement's text and an offset, when a
    // fresh connection prepares the statement (a store opened after the change).
    tamper(&path, "ALTER TABLE images RENAME COLUMN num_links TO gone;");
    let reopened = Arc::new(SqliteStore::open(&path).unwrap());
    let fresh = ImageService::new(reopened, healthy_keys().await);
    for (service, query) in [(&service, "$orderby=numLinks"), (&fresh, "$top=1")] {
        fails_safely(service, Ask::List(Some(query)), &logs, &path).await;
    }

    tamper(
        &path,
        "PRAGMA foreign_keys = OFF; DROP TABLE image_tags; DROP TABLE images;",
    );
    let queries = [
        None,
        Some("$filter=reference eq 'img-1.jpg' and tags/any(t: t eq 'red')&$count=true"),
        Some("$orderby=createdOn desc&$top=1&$skip=1"),
    ];
    for query in queries {
        fails_safely(&service, Ask::List(query), &logs, &path).await;
    }
    fails_safely(&service, Ask::Delete("1"), &logs, &path).await;

    // The key table too: authentication itself fails.
    tamper(&path, "DROP TABLE api_keys;");
    let service = ImageService::new(store.clone(), store);
    fails_safely(&service, Ask::List(None), &logs, &path).await;
}

#[tokio::test]
async fn a_lock_held_past_the_busy_timeout_gives_a_clean_500_and_clean_logs() {
    let (logs, _guard) = Logs::capture("trace");
    let (_dir, path, store) =
        seeded_in_temp_dir(SqliteOptions::default().busy_timeout(Duration::from_millis(100))).await;
    let service = ImageService::new(store.clone(), store);
    let held = Connection::open(&path).unwrap();
    held.execute_batch("BEGIN IMMEDIATE; UPDATE meta SET value = value;")
        .unwrap();
    let mark = fails_safely(&service, Ask::Delete("1"), &logs, &path).await;
    assert!(logs.text()[mark..].contains("locked"), "{}", logs.text());
    drop(held);
    // The lock gone, the same request succeeds: the 500 was the fault, nothing else.
    service
        .delete_image(Some(KEY.as_bytes()), "1", "/image/1")
        .await
        .unwrap();
}

#[tokio::test]
async fn a_corrupt_row_gives_a_clean_500_and_clean_logs() {
    let (logs, _guard) = Logs::capture("trace");
    let (_dir, path, store) = seeded_in_temp_dir(SqliteOptions::default()).await;
    let service = ImageService::new(store.clone(), store);
    // A value the domain refuses, written behind the adapter's back.
    tamper(
        &path,
        "PRAGMA ignore_check_constraints = ON; UPDATE images SET reference = '' WHERE id = 3;",
    );
    fails_safely(&service, Ask::List(None), &logs, &path).await;
}

#[tokio::test]
async fn a_status_that_is_not_text_gives_a_clean_500_and_clean_logs() {
    let (logs, _guard) = Logs::capture("trace");
    let (_dir, path, store) = seeded_in_temp_dir(SqliteOptions::default()).await;
    let service = ImageService::new(store.clone(), store);
    // `Ok` as a BLOB: the column's TEXT affinity would turn a number into text.
    tamper(
        &path,
        "PRAGMA ignore_check_constraints = ON; UPDATE images SET status = x'4f6b' WHERE id = 3;",
    );
    let mark = fails_safely(&service, Ask::List(None), &logs, &path).await;
    assert!(
        logs.text()[mark..].contains("stored column status holds a value of the wrong kind"),
        "{}",
        logs.text()
    );
}

#[tokio::test]
async fn a_corrupt_tags_column_gives_a_clean_500_and_clean_logs() {
    // Not JSON, JSON that is not an array of strings, and a value of the wrong type.
    for value in ["'red'", "'[\"red\", 7]'", "'{}'", "x'00ff'", "42"] {
        let (logs, _guard) = Logs::capture("trace");
        let (_dir, path, store) = seeded_in_temp_dir(SqliteOptions::default()).await;
        let service = ImageService::new(store.clone(), store);
        tamper(
            &path,
            &format!("UPDATE images SET tags = {value} WHERE id = 3;"),
        );
        let mark = fails_safely(&service, Ask::List(None), &logs, &path).await;
        assert!(
            logs.text()[mark..].contains("stored column tags holds a value of the wrong kind"),
            "{value}: {}",
            logs.text()
        );
    }
}

#[tokio::test]
async fn a_file_gone_under_a_running_store_gives_a_clean_500_and_clean_logs() {
    let (logs, _guard) = Logs::capture("trace");
    // Loading writes through the writer only: no reader connection is open yet.
    let (dir, path, store) = seeded_in_temp_dir(SqliteOptions::default()).await;
    let service = ImageService::new(store, healthy_keys().await);
    // An operator (or a cleanup job) removes the directory under the running store; readers,
    // opened on demand, now fail to open the file.
    std::fs::remove_dir_all(dir.path()).unwrap();
    let mark = fails_safely(&service, Ask::List(None), &logs, &path).await;
    assert!(
        logs.text()[mark..].contains("unable to open"),
        "{}",
        logs.text()
    );
}
