//! The PostgreSQL adapter against a real server: schema and migrations, writes, the
//! translation of filters, concurrency between independent stores (as two processes would
//! be), and connection faults. Each test has a schema of its own; without
//! `DAM_TEST_POSTGRES_URL` each says it was skipped (and fails under `CI=true`).

mod common;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{admin, config, database_url, unique_schema, Schema, TestStore, TestStoreExt};
use dam_core::query::{Filter, Instant as At, Value};
use dam_core::store::{
    CmpOp, Field, ImageStore, KeyStore, ListQuery, Quantifier, SeedStore, SortKey, StoreError,
    StringFunction,
};
use dam_core::testing::select;
use dam_core::{
    FileType, Fixture, Image, ImageId, ImageStatus, KeyDigest, Reference, TenantId, Timestamp,
};
use dam_store_postgres::{PostgresConfig, PostgresStore};
use dam_store_tests::data;

fn tenant(name: &str) -> TenantId {
    data::tenant_id(name)
}

fn id(n: i64) -> ImageId {
    ImageId::new(n).unwrap()
}

fn ts(seconds: i64) -> Timestamp {
    Timestamp::from_unix_seconds(seconds).unwrap()
}

fn image(n: i64, reference: &str) -> Image {
    Image::new(
        id(n),
        Reference::new(reference).unwrap(),
        FileType::new("jpg").unwrap(),
        ImageStatus::Ready,
        ts(1_700_000_000),
    )
}

/// A fixture of (name, clear-text keys, images) tenants, built by the kit.
fn fixture(tenants: Vec<(&str, Vec<&str>, Vec<Image>)>) -> Fixture {
    let tenants = tenants.into_iter();
    data::fixture(tenants.map(|(name, keys, images)| data::tenant(name, &keys, images)))
}

fn query(filter: Option<Filter>) -> ListQuery {
    ListQuery {
        filter,
        ..ListQuery::default()
    }
}

async fn ids_of(store: &impl ImageStore, who: &TenantId, q: &ListQuery) -> Vec<i64> {
    let page = store.list(who, q).await.unwrap();
    page.items.iter().map(|im| im.id.get()).collect()
}

/// Asserts the store lists what the reference semantics select over `images`.
async fn assert_reference(
    store: &impl ImageStore,
    who: &TenantId,
    images: &[Image],
    q: &ListQuery,
) {
    let page = store.list(who, q).await.unwrap();
    let (expected, total) = select(images, q);
    assert_eq!(page.items, expected, "query: {q:?}");
    if q.count {
        assert_eq!(page.total, Some(total), "query: {q:?}");
    }
    let shown = q.skip.saturating_add(expected.len() as u64);
    assert_eq!(page.has_more, total > shown, "query: {q:?}");
}

#[tokio::test]
async fn migrations_are_versioned_and_idempotent() {
    let Some(store) = TestStore::fresh().await else {
        return;
    };
    // Three more processes starting together on the same schema.
    let (a, b, c) = tokio::join!(store.second(), store.second(), store.second());
    drop((a, b, c));
    let versions: Vec<i32> = store
        .column("SELECT version FROM {schema}.dam_migrations")
        .await;
    assert_eq!(
        versions,
        (1..=PostgresStore::schema_version()).collect::<Vec<_>>()
    );
    assert!(store.is_empty().await.unwrap());
}

#[tokio::test]
async fn a_newer_schema_is_refused() {
    let Some(store) = TestStore::fresh().await else {
        return;
    };
    let db = admin(store.url()).await;
    db.execute(
        &format!(
            "INSERT INTO {}.dam_migrations (version, name) VALUES (9999, 'future')",
            store.schema()
        ),
        &[],
    )
    .await
    .unwrap();
    let result = PostgresStore::connect(config(store.url(), store.schema())).await;
    assert!(matches!(result, Err(StoreError::Backend { .. })));
}

/// The names of `dam_images`' indexes in `schema`, sorted.
async fn index_names(db: &tokio_postgres::Client, schema: &str) -> Vec<String> {
    let rows = db
        .query(
            "SELECT indexname::text FROM pg_indexes
             WHERE schemaname = $1 AND tablename = 'dam_images' ORDER BY 1",
            &[&schema],
        )
        .await
        .unwrap();
    rows.iter().map(|r| r.get(0)).collect()
}

/// A database that a version 1 build filled is migrated when the current build opens it:
/// the rows, keys and id counter stay, the list indexes are replaced.
#[tokio::test]
async fn a_version_1_database_migrates_keeping_its_rows() {
    let Some(url) = database_url() else {
        return;
    };
    let schema = unique_schema();
    let _cleanup = Schema {
        url: url.clone(),
        name: schema.clone(),
    };
    PostgresStore::migrate_to_version(&config(&url, &schema), 1)
        .await
        .unwrap();
    let db = admin(&url).await;
    // Rows as version 1 stored them, written by hand.
    db.batch_execute(&format!(
        "SET search_path = {schema};
         INSERT INTO dam_images (id, tenant, reference, file_type, status, num_links,
             created_on, modified_on, tags, original_url, width, height, size_in_bytes)
         VALUES (3, 'acme', 'a.jpg', 'jpg', 'Ok', 2, 1700000000, 1700000100, '{{red,big}}',
                 'https://x/a.jpg', 10, 20, 30),
                (5, 'acme', 'b.png', 'png', 'Up', 0, 1700000500, 1700000500, '{{}}',
                 NULL, 1, 2, 3),
                (7, 'other', 'a.jpg', 'jpg', 'Ok', 1, 1700000200, 1700000200, '{{}}',
                 NULL, 1, 1, 1);
         INSERT INTO dam_api_keys (digest, tenant) VALUES (sha256('acme-key'), 'acme');
         UPDATE dam_id_counter SET max_id = 9;"
    ))
    .await
    .unwrap();
    let before = index_names(&db, &schema).await;
    assert!(before.contains(&"dam_images_by_created_on".to_string()));

    let store = PostgresStore::connect(config(&url, &schema)).await.unwrap();

    let rows = db
        .query(
            &format!("SELECT version FROM {schema}.dam_migrations ORDER BY 1"),
            &[],
        )
        .await
        .unwrap();
    let versions: Vec<i32> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(versions, vec![1, 2]);
    let after = index_names(&db, &schema).await;
    assert!(
        after.iter().all(|name| !name.starts_with("dam_images_by_")),
        "{after:?}"
    );
    for name in [
        "dam_images_list_id",
        "dam_images_list_reference",
        "dam_images_list_created_on",
        "dam_images_list_status_desc",
    ] {
        assert!(
            after.contains(&name.to_string()),
            "{name} missing: {after:?}"
        );
    }

    let acme = tenant("acme");
    let newest_first = ListQuery {
        order_by: vec![SortKey {
            field: Field::CreatedOn,
            descending: true,
        }],
        count: true,
        ..ListQuery::default()
    };
    let page = store.list(&acme, &newest_first).await.unwrap();
    let mut a = image(3, "a.jpg");
    a.num_links = 2;
    a.modified_on = ts(1_700_000_100);
    a.tags = vec!["red".into(), "big".into()];
    a.original_url = Some("https://x/a.jpg".into());
    (a.width, a.height, a.size_in_bytes) = (10, 20, 30);
    let mut b = Image::new(
        id(5),
        Reference::new("b.png").unwrap(),
        FileType::new("png").unwrap(),
        ImageStatus::Updating,
        ts(1_700_000_500),
    );
    (b.width, b.height, b.size_in_bytes) = (1, 2, 3);
    assert_eq!(page.items, vec![b, a]);
    assert_eq!(page.total, Some(2));
    assert_eq!(
        store
            .tenant_for_key(&KeyDigest::of("acme-key"))
            .await
            .unwrap(),
        Some(acme.clone())
    );
    let added = store.insert(&acme, image(1, "c.jpg")).await.unwrap();
    assert_eq!(added.id, id(10));
}

/// Right after a fixture load the planner has statistics: the load ran `ANALYZE` (autovacuum
/// is off for these tables, so nothing else could have).
#[tokio::test]
async fn a_fixture_load_leaves_statistics() {
    let Some(store) = TestStore::fresh().await else {
        return;
    };
    let db = admin(store.url()).await;
    let schema = store.schema();
    db.batch_execute(&format!(
        "ALTER TABLE {schema}.dam_images SET (autovacuum_enabled = false);
         ALTER TABLE {schema}.dam_api_keys SET (autovacuum_enabled = false);"
    ))
    .await
    .unwrap();
    let db = &db;
    let statistics = || async move {
        let row = db
            .query_one(
                "SELECT c.reltuples::float8, s.last_analyze IS NOT NULL
                 FROM pg_class c
                 JOIN pg_namespace n ON n.oid = c.relnamespace
                 JOIN pg_stat_user_tables s ON s.relid = c.oid
                 WHERE n.nspname = $1 AND c.relname = 'dam_images'",
                &[&schema],
            )
            .await
            .unwrap();
        (row.get::<_, f64>(0), row.get::<_, bool>(1))
    };
    // -1: never analyzed nor vacuumed.
    assert_eq!(statistics().await, (-1.0, false));
    let images: Vec<Image> = (1..=300).map(|n| image(n, &format!("{n}.jpg"))).collect();
    store
        .load_fixture(&fixture(vec![("acme", vec!["k"], images)]))
        .await
        .unwrap();
    assert_eq!(statistics().await, (300.0, true));
}

/// Every sortable field, either way, is read from an index in list order (`field [DESC], id`),
/// the `$skiptoken` seek too: never a sort of the tenant's rows, even with sorting priced out.
/// Descending fields whose values seldom repeat may sort each group of equal values on the
/// id as they are read (an incremental sort); those with a handful of values may not.
#[tokio::test]
async fn pages_are_read_from_an_index_in_list_order() {
    let Some(store) = TestStore::fresh().await else {
        return;
    };
    let images: Vec<Image> = (1..=500)
        .map(|n| {
            let mut im = image(n, &format!("{n}.jpg"));
            im.file_type = FileType::new(["jpg", "png", "gif"][n as usize % 3]).unwrap();
            im.status = ImageStatus::ALL[n as usize % 5];
            im.num_links = n % 10;
            im.created_on = ts(1_700_000_000 + (n * 7919) % 100_000);
            im.modified_on = ts(1_700_100_000 + n);
            (im.width, im.height, im.size_in_bytes) = (n % 700, n % 300, n * 13 % 10_000);
            im
        })
        .collect();
    store
        .load_fixture(&fixture(vec![("acme", vec![], images)]))
        .await
        .unwrap();
    let db = admin(store.url()).await;
    db.batch_execute(&format!(
        "SET search_path = {}; SET enable_sort = off; SET enable_seqscan = off;
         SET enable_bitmapscan = off;",
        store.schema()
    ))
    .await
    .unwrap();
    let few_values = ["file_type", "status", "num_links"];
    let columns = [
        "id",
        "reference",
        "file_type",
        "status",
        "num_links",
        "created_on",
        "modified_on",
        "width",
        "height",
        "size_in_bytes",
    ];
    for column in columns {
        for direction in ["", " DESC"] {
            let order = if column == "id" {
                format!("id{direction}")
            } else {
                format!("{column}{direction}, id")
            };
            let plan = explain(
                &db,
                &format!(
                    "SELECT * FROM dam_images WHERE tenant = 'acme' AND file_type = 'jpg'
                     ORDER BY {order} LIMIT 101"
                ),
            )
            .await;
            let full_sort = plan.lines().any(|line| {
                line.trim_start()
                    .trim_start_matches("->")
                    .trim_start()
                    .starts_with("Sort  (")
            });
            assert!(!full_sort, "ORDER BY {order}:\n{plan}");
            if few_values.contains(&column) || column == "id" {
                assert!(!plan.contains("Sort"), "ORDER BY {order}:\n{plan}");
            }
        }
    }
    // The seek after (created_on, id) for `createdOn desc`, as the core writes it: a range
    // of the scan in list order.
    let plan = explain(
        &db,
        "SELECT * FROM dam_images WHERE tenant = 'acme' AND file_type = 'jpg'
         AND created_on <= 1700050000 AND (created_on <> 1700050000 OR id > 50)
         ORDER BY created_on DESC, id LIMIT 101",
    )
    .await;
    assert!(plan.contains("dam_images_list_created_on"), "{plan}");
    assert!(plan.contains("created_on <= "), "{plan}");
    // The filter on an indexed field is tested in the index, before any row is read.
    let in_index = |line: &str| line.contains("Index Cond") && line.contains("file_type");
    assert!(plan.lines().any(in_index), "{plan}");
}

/// The plan of `sql`, one line per node.
async fn explain(db: &tokio_postgres::Client, sql: &str) -> String {
    let rows = db.query(&format!("EXPLAIN {sql}"), &[]).await.unwrap();
    rows.iter()
        .map(|r| r.get::<_, String>(0))
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test]
async fn fixture_round_trips_and_keys_are_digests() {
    let Some(store) = TestStore::fresh().await else {
        return;
    };
    let mut full = image(7, "héllo wörld 😀.png");
    full.file_type = FileType::new("png").unwrap();
    full.status = ImageStatus::Updating;
    full.num_links = 3;
    full.modified_on = ts(1_800_000_000);
    full.tags = vec!["b".into(), "a".into(), "b".into(), "ü".into()];
    full.original_url = Some("https://cdn.example/o/7".into());
    full.thumbnail_preview_url = Some(String::new());
    full.width = 640;
    full.height = 480;
    full.size_in_bytes = i64::MAX;
    let first = image(1, "a.jpg");
    let f = fixture(vec![
        (
            "acme",
            vec!["acme-key-1", "acme-key-2"],
            vec![first.clone(), full.clone()],
        ),
        ("other", vec!["other-key"], vec![image(3, "a.jpg")]),
    ]);
    store.load_fixture(&f).await.unwrap();
    assert!(!store.is_empty().await.unwrap());
    let acme = tenant("acme");
    assert_eq!(store.get(&acme, id(7)).await.unwrap(), Some(full.clone()));
    assert_eq!(store.get(&acme, id(3)).await.unwrap(), None);
    let page = store.list(&acme, &ListQuery::default()).await.unwrap();
    assert_eq!(page.items, vec![first, full]);

    for (key, owner) in [
        ("acme-key-1", "acme"),
        ("acme-key-2", "acme"),
        ("other-key", "other"),
    ] {
        let found = store.tenant_for_key(&KeyDigest::of(key)).await.unwrap();
        assert_eq!(found, Some(tenant(owner)));
    }
    assert_eq!(
        store.tenant_for_key(&KeyDigest::of("nope")).await.unwrap(),
        None
    );
    // Only digests are stored.
    let stored: Vec<Vec<u8>> = store
        .column("SELECT digest FROM {schema}.dam_api_keys")
        .await;
    assert_eq!(stored.len(), 3);
    assert!(stored.contains(&KeyDigest::of("acme-key-1").as_bytes().to_vec()));
}

#[tokio::test]
async fn fixture_clashes_name_the_culprit_and_load_nothing() {
    let Some(store) = TestStore::fresh().await else {
        return;
    };
    let f = fixture(vec![("acme", vec!["secret-key"], vec![image(5, "a.jpg")])]);
    store.load_fixture(&f).await.unwrap();

    let cases = [
        (
            fixture(vec![(
                "b",
                vec![],
                vec![image(6, "x.jpg"), image(5, "y.jpg")],
            )]),
            "image id 5 is already held",
        ),
        (
            fixture(vec![(
                "acme",
                vec![],
                vec![image(6, "x.jpg"), image(8, "a.jpg")],
            )]),
            "tenant 'acme' already has reference 'a.jpg'",
        ),
        (
            fixture(vec![(
                "b",
                vec!["fresh", "secret-key"],
                vec![image(6, "x.jpg")],
            )]),
            "API key #2 of tenant 'b' is already held by tenant 'acme'",
        ),
    ];
    for (clash, expected) in cases {
        match store.load_fixture(&clash).await {
            Err(StoreError::Conflict(message)) => {
                assert_eq!(message, expected);
                assert!(!message.contains("secret-key"));
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
    }
    // Nothing of the refused fixtures is there.
    assert_eq!(store.get(&tenant("b"), id(6)).await.unwrap(), None);
    assert_eq!(store.get(&tenant("acme"), id(6)).await.unwrap(), None);
    assert_eq!(
        store.tenant_for_key(&KeyDigest::of("fresh")).await.unwrap(),
        None
    );
    // And the refused ids did not move the counter past what a fixture loaded.
    let inserted = store
        .insert(&tenant("acme"), image(1, "n.jpg"))
        .await
        .unwrap();
    assert_eq!(inserted.id.get(), 6);
}

#[tokio::test]
async fn insert_assigns_ids_above_every_id_ever_held() {
    let Some(store) = TestStore::fresh().await else {
        return;
    };
    let acme = tenant("acme");
    let a = store.insert(&acme, image(99, "a.jpg")).await.unwrap();
    assert_eq!(a.id.get(), 1);
    store
        .load_fixture(&fixture(vec![(
            "other",
            vec![],
            vec![image(1000, "z.jpg")],
        )]))
        .await
        .unwrap();
    let b = store.insert(&acme, image(1, "b.jpg")).await.unwrap();
    assert_eq!(b.id.get(), 1001);
    store.delete(&acme, b.id).await.unwrap();
    let c = store.insert(&acme, image(1, "c.jpg")).await.unwrap();
    assert_eq!(c.id.get(), 1002);
    // A clashing reference is refused and burns no id.
    let clash = store.insert(&acme, image(1, "a.jpg")).await;
    assert!(matches!(clash, Err(StoreError::Conflict(m)) if m.contains("'a.jpg'")));
    // The same reference in another tenant is fine.
    let d = store
        .insert(&tenant("other"), image(1, "a.jpg"))
        .await
        .unwrap();
    assert_eq!(d.id.get(), 1003);
    assert_eq!(store.get(&acme, c.id).await.unwrap(), Some(c));
}

/// A fresh store and two more on its schema, as two other processes would have; `None`
/// without a database.
async fn two_processes() -> Option<(TestStore, [Arc<PostgresStore>; 2])> {
    let store = TestStore::fresh().await?;
    let (a, b) = tokio::join!(store.second(), store.second());
    Some((store, [Arc::new(a), Arc::new(b)]))
}

/// Loads acme's images 1..=60 into `store`; returns the tenant and the images.
async fn sixty_images(store: &TestStore) -> (TenantId, Vec<Image>) {
    let images: Vec<Image> = (1..=60).map(|n| image(n, &format!("{n}.jpg"))).collect();
    load_acme(store, &images).await;
    (tenant("acme"), images)
}

/// Loads `images` into `store` as tenant acme's (without keys).
async fn load_acme(store: &(impl SeedStore + ?Sized), images: &[Image]) {
    let fixture = fixture(vec![("acme", vec![], images.to_vec())]);
    store.load_fixture(&fixture).await.unwrap();
}

#[tokio::test]
async fn concurrent_inserts_from_two_stores_get_distinct_ids() {
    let Some((_schema_kept, [other, mine])) = two_processes().await else {
        return;
    };
    let acme = tenant("acme");
    let mut tasks = Vec::new();
    for i in 0..40 {
        let s = if i % 2 == 0 {
            other.clone()
        } else {
            mine.clone()
        };
        let acme = acme.clone();
        tasks.push(tokio::spawn(async move {
            s.insert(&acme, image(1, &format!("{i}.jpg"))).await
        }));
    }
    let mut ids = Vec::new();
    for t in tasks {
        ids.push(t.await.unwrap().unwrap().id.get());
    }
    ids.sort_unstable();
    assert_eq!(ids, (1..=40).collect::<Vec<_>>());
}

#[tokio::test]
async fn delete_and_set_status_follow_the_lock() {
    let Some(store) = TestStore::fresh().await else {
        return;
    };
    let acme = tenant("acme");
    let mut images = Vec::new();
    for (n, status) in ImageStatus::ALL.into_iter().enumerate() {
        let mut im = image(n as i64 + 1, &format!("{n}.jpg"));
        im.status = status;
        images.push(im);
    }
    load_acme(&store, &images).await;
    for im in &images {
        let result = store.delete(&acme, im.id).await;
        if im.status.is_processing() {
            assert!(
                matches!(result, Err(StoreError::BeingProcessed)),
                "{:?}",
                im.status
            );
            assert!(store.get(&acme, im.id).await.unwrap().is_some());
        } else {
            assert!(result.is_ok(), "{:?}: {result:?}", im.status);
            assert!(matches!(
                store.delete(&acme, im.id).await,
                Err(StoreError::NotFound)
            ));
        }
    }
    // Another tenant's image is missing, for delete and for set_status.
    let locked = images[3].id; // Up
    assert!(matches!(
        store.delete(&tenant("other"), locked).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .set_status(&tenant("other"), locked, ImageStatus::Ready, ts(1))
            .await,
        Err(StoreError::NotFound)
    ));
    // set_status unlocks, moves modifiedOn (never before createdOn), then delete succeeds.
    let later = ts(1_900_000_000);
    let updated = store
        .set_status(&acme, locked, ImageStatus::Ready, later)
        .await
        .unwrap();
    assert_eq!(
        (updated.status, updated.modified_on),
        (ImageStatus::Ready, later)
    );
    let early = store
        .set_status(&acme, locked, ImageStatus::Void, ts(5))
        .await
        .unwrap();
    assert_eq!(early.modified_on, early.created_on);
    store.delete(&acme, locked).await.unwrap();
    assert!(matches!(
        store
            .set_status(&acme, locked, ImageStatus::Ready, later)
            .await,
        Err(StoreError::NotFound)
    ));
}

/// Runs `each` at once for every one of acme's sixty images, on two more stores of a fresh
/// schema (two other processes); returns the store and the outcomes, by image.
async fn race<T, Fut>(
    each: impl Fn([Arc<PostgresStore>; 2], TenantId, ImageId) -> Fut,
) -> Option<(TestStore, Vec<(ImageId, T)>)>
where
    T: Send + 'static,
    Fut: Future<Output = T> + Send + 'static,
{
    let (store, processes) = two_processes().await?;
    let (acme, images) = sixty_images(&store).await;
    let tasks: Vec<_> = images
        .iter()
        .map(|im| tokio::spawn(each(processes.clone(), acme.clone(), im.id)))
        .collect();
    let mut outcomes = Vec::new();
    for (im, task) in images.iter().zip(tasks) {
        outcomes.push((im.id, task.await.unwrap()));
    }
    Some((store, outcomes))
}

#[tokio::test]
async fn two_stores_racing_deletes_give_one_success() {
    let Some((store, outcomes)) = race(|[a, b], acme, id| async move {
        let (first, second) = tokio::join!(a.delete(&acme, id), b.delete(&acme, id));
        [first, second]
    })
    .await
    else {
        return;
    };
    for (im_id, results) in &outcomes {
        let wins = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "{im_id}: {results:?}");
        for result in results {
            assert!(
                matches!(result, Ok(()) | Err(StoreError::NotFound)),
                "unexpected {result:?}"
            );
        }
    }
    assert_eq!(outcomes.len(), 60);
    assert!(store.is_empty().await.unwrap());
}

#[tokio::test]
async fn deletes_racing_a_lock_never_delete_a_processing_image() {
    let Some((store, outcomes)) = race(|[deleter, worker], acme, id| async move {
        let updating = ts(1_800_000_000);
        tokio::join!(
            deleter.delete(&acme, id),
            worker.set_status(&acme, id, ImageStatus::Updating, updating)
        )
    })
    .await
    else {
        return;
    };
    let acme = tenant("acme");
    for (im_id, (deleted, locked)) in outcomes {
        match (&deleted, &locked) {
            // The delete came first: the lock finds nothing.
            (Ok(()), Err(StoreError::NotFound)) => {
                assert_eq!(store.get(&acme, im_id).await.unwrap(), None);
            }
            // The lock came first: the delete is refused and the image stays, locked.
            (Err(StoreError::BeingProcessed), Ok(image)) => {
                assert_eq!(image.status, ImageStatus::Updating);
                let kept = store.get(&acme, im_id).await.unwrap().unwrap();
                assert_eq!(kept.status, ImageStatus::Updating);
            }
            _ => panic!("impossible interleaving for {im_id}: {deleted:?} / {locked:?}"),
        }
    }
}

/// Filters at the edges of the semantics, each checked against the reference.
#[tokio::test]
async fn filters_match_the_reference_semantics() {
    let Some(store) = TestStore::fresh().await else {
        return;
    };
    let who = tenant("acme");
    let mut images = Vec::new();
    let references = [
        "a%b.jpg", "a_b.jpg", "ab.jpg", "A.jpg", "é.jpg", "z.jpg", "😀.jpg", "ö.jpg",
    ];
    for (n, reference) in references.iter().enumerate() {
        let mut im = image(n as i64 + 1, reference);
        im.status = ImageStatus::ALL[n % 5];
        im.created_on = ts(1_700_000_000 + n as i64);
        im.modified_on = ts(1_700_000_000 + 2 * n as i64);
        im.num_links = (n as i64) % 3;
        im.original_url = (n % 2 == 0).then(|| format!("https://x/{reference}"));
        im.thumbnail_url = (n % 3 == 0).then(|| format!("https://x/{reference}"));
        im.tags = match n % 4 {
            0 => vec![],
            1 => vec!["red".into()],
            2 => vec!["red".into(), "blue".into()],
            _ => vec!["red".into(), "red".into()],
        };
        images.push(im);
    }
    load_acme(&store, &images).await;
    let s = |v: &str| Value::String(v.to_string());
    let cmp = |field, op, value| Filter::Compare { field, op, value };
    let call = |function, field, needle: &str| Filter::StringCall {
        function,
        field,
        needle: needle.to_string(),
    };
    let not = |f| Filter::Not(Box::new(f));
    let filters = vec![
        call(StringFunction::Contains, Field::Reference, "%"),
        call(StringFunction::Contains, Field::Reference, "_"),
        call(StringFunction::StartsWith, Field::Reference, "a_"),
        call(StringFunction::EndsWith, Field::Reference, "😀.jpg"),
        call(StringFunction::EndsWith, Field::OriginalUrl, ".jpg"),
        not(call(StringFunction::EndsWith, Field::OriginalUrl, ".jpg")),
        call(StringFunction::Contains, Field::Reference, ""),
        cmp(Field::Reference, CmpOp::Gt, s("z")),
        cmp(Field::Reference, CmpOp::Lt, s("a")),
        cmp(Field::Reference, CmpOp::Ge, s("é")),
        cmp(Field::Reference, CmpOp::Eq, s("A.JPG")),
        cmp(Field::Reference, CmpOp::Eq, s("ab.jpg\0")),
        cmp(Field::Reference, CmpOp::Ne, s("ab.jpg\0")),
        cmp(Field::Reference, CmpOp::Gt, s("ab.jpg\0")),
        cmp(Field::Reference, CmpOp::Le, s("ab.jpg\0")),
        cmp(Field::OriginalUrl, CmpOp::Ne, s("\0")),
        not(cmp(Field::OriginalUrl, CmpOp::Eq, s("https://x/a%b.jpg"))),
        not(cmp(Field::ThumbnailUrl, CmpOp::Lt, s("https://x/b"))),
        Filter::IsNull {
            field: Field::ThumbnailUrl,
            negated: false,
        },
        not(Filter::IsNull {
            field: Field::ThumbnailUrl,
            negated: true,
        }),
        Filter::CompareFields {
            left: Field::OriginalUrl,
            op: CmpOp::Eq,
            right: Field::ThumbnailUrl,
        },
        not(Filter::CompareFields {
            left: Field::OriginalUrl,
            op: CmpOp::Eq,
            right: Field::ThumbnailUrl,
        }),
        Filter::CompareFields {
            left: Field::ModifiedOn,
            op: CmpOp::Gt,
            right: Field::CreatedOn,
        },
        cmp(
            Field::CreatedOn,
            CmpOp::Ge,
            Value::DateTime(At {
                seconds: 1_700_000_002,
                nanos: 500_000_000,
            }),
        ),
        cmp(
            Field::CreatedOn,
            CmpOp::Le,
            Value::DateTime(At {
                seconds: 1_700_000_002,
                nanos: 500_000_000,
            }),
        ),
        cmp(
            Field::CreatedOn,
            CmpOp::Ne,
            Value::DateTime(At {
                seconds: 1_700_000_002,
                nanos: 1,
            }),
        ),
        cmp(
            Field::CreatedOn,
            CmpOp::Eq,
            Value::DateTime(At::from_seconds(1_700_000_002)),
        ),
        cmp(Field::Status, CmpOp::Ne, Value::Status(ImageStatus::Ready)),
        Filter::In {
            field: Field::Status,
            values: vec![
                Value::Status(ImageStatus::Updating),
                Value::Status(ImageStatus::Reprocessing),
            ],
        },
        Filter::In {
            field: Field::OriginalUrl,
            values: vec![s("https://x/ab.jpg"), s("\0")],
        },
        not(Filter::In {
            field: Field::OriginalUrl,
            values: vec![s("https://x/ab.jpg")],
        }),
        Filter::In {
            field: Field::NumLinks,
            values: vec![Value::Integer(0), Value::Integer(2)],
        },
        Filter::Tags {
            quantifier: Quantifier::Any,
            value: "red".into(),
        },
        Filter::Tags {
            quantifier: Quantifier::All,
            value: "red".into(),
        },
        not(Filter::Tags {
            quantifier: Quantifier::All,
            value: "red".into(),
        }),
        Filter::Tags {
            quantifier: Quantifier::All,
            value: "\0".into(),
        },
        Filter::Or(
            Box::new(cmp(Field::Id, CmpOp::Eq, Value::Integer(1))),
            Box::new(Filter::And(
                Box::new(cmp(Field::Width, CmpOp::Eq, Value::Integer(0))),
                Box::new(cmp(Field::Id, CmpOp::Gt, Value::Integer(6))),
            )),
        ),
    ];
    for filter in filters {
        assert_reference(&store, &who, &images, &query(Some(filter))).await;
    }
    // Orders: strings by code point, status by code, descending keys keep the id ascending.
    for field in [
        Field::Reference,
        Field::Status,
        Field::NumLinks,
        Field::ModifiedOn,
    ] {
        for descending in [false, true] {
            let q = ListQuery {
                order_by: vec![SortKey { field, descending }],
                count: true,
                ..ListQuery::default()
            };
            assert_reference(&store, &who, &images, &q).await;
        }
    }
}

#[tokio::test]
async fn paging_count_and_has_more() {
    let Some(store) = TestStore::fresh().await else {
        return;
    };
    let who = tenant("acme");
    let images: Vec<Image> = (1..=25).map(|n| image(n, &format!("{n:02}.jpg"))).collect();
    load_acme(&store, &images).await;
    for (top, skip) in [
        (10, 0),
        (10, 20),
        (10, 25),
        (0, 0),
        (0, 25),
        (100, 0),
        (5, u64::MAX),
    ] {
        let q = ListQuery {
            top,
            skip,
            count: true,
            ..ListQuery::default()
        };
        assert_reference(&store, &who, &images, &q).await;
    }
    let counted = ListQuery {
        count: true,
        ..ListQuery::default()
    };
    let empty = store.list(&tenant("nobody"), &counted).await.unwrap();
    assert_eq!(
        (empty.items.len(), empty.total, empty.has_more),
        (0, Some(0), false)
    );
    assert_eq!(
        ids_of(
            &*store,
            &who,
            &ListQuery {
                top: 2,
                skip: 3,
                ..ListQuery::default()
            }
        )
        .await,
        vec![4, 5]
    );
}

#[tokio::test]
async fn a_closed_port_fails_fast_with_a_backend_error() {
    let Some(_) = database_url() else {
        return;
    };
    // A port nothing listens on: bind one, then free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap();
    let config = PostgresConfig::new(&format!("postgres://postgres@127.0.0.1:{port}/test"))
        .unwrap()
        .with_schema(&unique_schema())
        .unwrap()
        .with_timeout(Duration::from_secs(2));
    let started = Instant::now();
    let result = PostgresStore::connect(config).await;
    assert!(
        matches!(
            result,
            Err(StoreError::Backend {
                store: "postgres",
                ..
            })
        ),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn the_pool_recovers_from_killed_connections() {
    let Some(url) = database_url() else {
        return;
    };
    // The application name tells this store's connections apart from every other test's.
    let store = TestStore::tagged(&url, |c| c).await;
    let schema = store.schema().to_string();
    let who = tenant("acme");
    load_acme(&store, &[image(1, "a.jpg")]).await;
    let db = admin(&url).await;
    for _ in 0..2 {
        let killed = db
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                &[&schema],
            )
            .await
            .unwrap();
        assert!(!killed.is_empty());
        // Terminating is asynchronous: wait until the server has let the sessions go.
        common::wait_for_sessions(&db, &schema, false).await;
        // The next call may fail (as a backend error, never a panic or a hang) …
        match store.get(&who, id(1)).await {
            Ok(_) | Err(StoreError::Backend { .. }) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
        // … and the one after it succeeds on a fresh connection.
        assert!(store.get(&who, id(1)).await.unwrap().is_some());
    }
}

#[tokio::test]
async fn a_blocked_statement_times_out_and_the_pool_waits_no_longer() {
    let Some(url) = database_url() else {
        return;
    };
    // The store's connections carry the schema as their application name, so the test can
    // see when the server has given up on the blocked statement.
    let store = TestStore::tagged(&url, |c| {
        c.with_pool_size(1)
            .unwrap()
            .with_timeout(Duration::from_millis(1500))
            .with_wait_timeout(Duration::from_millis(200))
    })
    .await;
    let store = Arc::new(store);
    let schema = store.schema().to_string();
    let who = tenant("acme");
    load_acme(&*store, &[image(1, "a.jpg")]).await;
    // Another session locks the row, so the store's delete waits on it.
    let held = common::hold_row(&url, &schema, 1).await;
    let started = Instant::now();
    let blocked = {
        let (store, who) = (store.clone(), who.clone());
        tokio::spawn(async move { store.delete(&who, id(1)).await })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    // The only pooled connection is busy: waiting for it ends in a backend error.
    let waiting = store.get(&who, id(1)).await;
    assert!(
        matches!(waiting, Err(StoreError::Backend { .. })),
        "{waiting:?}"
    );
    let blocked = blocked.await.unwrap();
    assert!(
        matches!(blocked, Err(StoreError::Backend { .. })),
        "{blocked:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    // The store gave up first; the server ends the abandoned delete a moment later.
    common::release_after_abandoned(held, &url, &schema).await;
    // The server gave up on the delete too: the image is still there.
    assert!(store.get(&who, id(1)).await.unwrap().is_some());
}

/// Inserts, status changes and deletes leave exactly the pages the contract says.
#[tokio::test]
async fn writes_leave_the_expected_pages() {
    let Some(store) = TestStore::fresh().await else {
        return;
    };
    let acme = tenant("acme");
    let f = fixture(vec![(
        "acme",
        vec!["k"],
        (1..=5)
            .map(|n| image(n * 10, &format!("{n}.jpg")))
            .collect(),
    )]);
    store.load_fixture(&f).await.unwrap();
    let inserted = store.insert(&acme, image(1, "new.jpg")).await.unwrap();
    assert_eq!(
        inserted.id,
        id(51),
        "the next id after the largest ever held"
    );
    store
        .set_status(&acme, id(20), ImageStatus::Reprocessing, ts(1_800_000_000))
        .await
        .unwrap();
    store.delete(&acme, id(30)).await.unwrap();
    let q = ListQuery {
        count: true,
        ..ListQuery::default()
    };
    let page = store.list(&acme, &q).await.unwrap();
    let ids: Vec<i64> = page.items.iter().map(|im| im.id.get()).collect();
    assert_eq!(ids, vec![10, 20, 40, 50, 51]);
    assert_eq!((page.total, page.has_more), (Some(5), false));
    let changed = &page.items[1];
    assert_eq!(changed.status, ImageStatus::Reprocessing);
    assert_eq!(changed.modified_on, ts(1_800_000_000));
    assert_eq!(page.items[4], inserted);
}

/// The pool gauges' source: the primary's pool, its connection idle again after a list.
#[tokio::test]
async fn pools_report_the_primary_pool() {
    let Some(store) = TestStore::fresh().await else {
        return;
    };
    let own = store.second().await;
    own.list(&tenant("acme"), &query(None)).await.unwrap();
    let pools = own.pools();
    assert_eq!(pools.len(), 1, "{pools:?}");
    let primary = &pools[0];
    assert_eq!((primary.store, primary.pool), ("postgres", "primary"));
    assert!(primary.max_size >= 1, "{primary:?}");
    assert!(primary.size >= 1, "a connection was opened: {primary:?}");
    assert_eq!(primary.available, primary.size, "all idle: {primary:?}");
    assert_eq!((primary.in_use(), primary.waiting), (0, 0), "{primary:?}");
}
