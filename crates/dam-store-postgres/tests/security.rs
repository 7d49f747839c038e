//! Contract §2 and §6/§8 on PostgreSQL: keys are stored only as digests (every column of every
//! table of the schema is scanned as text), and real storage faults driven through the
//! service facade give a generic 500 and log lines without SQL, the URL, the key or its
//! digest. Skipped (said) when `DAM_TEST_POSTGRES_URL` is not set.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{admin, config, database_url, TestStore, TestStoreExt};
use dam_core::store::{KeyStore, SeedStore};
use dam_core::{
    FileType, Fixture, Image, ImageId, ImageService, ImageStatus, KeyDigest, Reference, TenantData,
    TenantId, Timestamp,
};
use dam_store_tests::faults::{self, Ask};
use dam_store_tests::logs::Logs;

/// Everything at every level, except the driver's own debug and trace events, which print every
/// statement and its parameters (a key's digest among them) and which `dam-server` therefore
/// caps at `info` whatever `RUST_LOG` says (`dam_server::log_subscriber`).
const DRIVER_CAPPED: &str = "trace,tokio_postgres=info";

const KEY: &str = "pg-secret-key-Wx73";
const OTHER_KEY: &str = "pg-other-secret-key-Kj02";

fn image(id: i64, reference: &str) -> Image {
    let mut image = Image::new(
        ImageId::new(id).unwrap(),
        Reference::new(reference).unwrap(),
        FileType::new("jpg").unwrap(),
        ImageStatus::Ready,
        Timestamp::from_unix_seconds(1_704_067_200).unwrap(),
    );
    image.tags = vec!["red".into()];
    image
}

fn seed() -> Fixture {
    Fixture {
        tenants: vec![
            TenantData {
                tenant: TenantId::new("acme").unwrap(),
                keys: vec![KeyDigest::of(KEY)],
                images: vec![image(1, "a.jpg"), image(2, "b.jpg")],
            },
            TenantData {
                tenant: TenantId::new("other").unwrap(),
                keys: vec![KeyDigest::of(OTHER_KEY)],
                images: vec![image(3, "a.jpg")],
            },
        ],
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn every_column_of_the_schema_holds_keys_only_as_digests() {
    let Some(store) = TestStore::fresh().await else {
        return;
    };
    store.load_fixture(&seed()).await.unwrap();
    // The keys work, so they were stored in some form.
    let owner = store.tenant_for_key(&KeyDigest::of(KEY)).await.unwrap();
    assert_eq!(owner, Some(TenantId::new("acme").unwrap()));
    let db = admin(store.url()).await;
    let tables: Vec<String> = db
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
            &[&store.schema()],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(tables.contains(&"dam_api_keys".to_string()), "{tables:?}");
    assert!(tables.contains(&"dam_images".to_string()), "{tables:?}");
    // Every row of every table, all columns rendered as text (bytea as \x…).
    let mut dump = String::new();
    for table in &tables {
        let sql = format!("SELECT t::text FROM {{schema}}.{table} AS t");
        for row in store.column::<String>(&sql).await {
            dump.push_str(&row);
            dump.push('\n');
        }
    }
    for key in [KEY, OTHER_KEY] {
        let digest = KeyDigest::of(key);
        // The scan sees the digest column...
        assert!(dump.contains(&digest.to_hex().to_lowercase()), "{dump}");
        // ...and nowhere the key: not as text, not as bytes.
        assert!(
            !dump.contains(key),
            "the key {key} is stored in clear:\n{dump}"
        );
        assert!(!dump.contains(&hex(key.as_bytes())), "{dump}");
    }
}

/// Asks `service` and asserts a generic 500 whose document and the logs since the request
/// hold no SQL, URL, key or digest, the log holding the storage failure at error level (the
/// kit's rule, with this adapter's secrets).
async fn fails_safely(service: &ImageService, ask: Ask<'_>, logs: &Logs, url: &str) {
    let extra = [url, "postgres://"];
    faults::assert_ask_fails_safely(service, ask, logs, "postgres", KEY, &extra).await;
}

#[tokio::test]
async fn storage_faults_give_clean_500s_and_clean_logs() {
    let Some(store) = TestStore::fresh().await else {
        return;
    };
    let (logs, _guard) = Logs::capture(DRIVER_CAPPED);
    store.load_fixture(&seed()).await.unwrap();
    let (url, schema) = (store.url().to_string(), store.schema().to_string());
    let store = Arc::new(store);
    let service = ImageService::new(store.clone(), store.clone());
    let key = Some(KEY.as_bytes());
    assert_eq!(
        service
            .list_images(key, Some("$count=true"), "/image")
            .await
            .unwrap()
            .count,
        Some(2)
    );
    let db = admin(&url).await;

    // A column renamed behind the adapter's back.
    db.batch_execute(&format!(
        "ALTER TABLE {schema}.dam_images RENAME COLUMN num_links TO gone"
    ))
    .await
    .unwrap();
    for query in [None, Some("$filter=numLinks gt 0&$orderby=numLinks desc")] {
        fails_safely(&service, Ask::List(query), &logs, &url).await;
    }
    // The image table gone.
    db.batch_execute(&format!("DROP TABLE {schema}.dam_images"))
        .await
        .unwrap();
    fails_safely(&service, Ask::Delete("1"), &logs, &url).await;
    // The key table gone: authentication itself fails.
    db.batch_execute(&format!("DROP TABLE {schema}.dam_api_keys"))
        .await
        .unwrap();
    fails_safely(&service, Ask::List(None), &logs, &url).await;
}

#[tokio::test]
async fn a_statement_timeout_gives_a_clean_500_and_clean_logs() {
    let Some(url) = database_url() else {
        return;
    };
    let (logs, _guard) = Logs::capture(DRIVER_CAPPED);
    // Set up (migrate, load) with the usual generous timeout: a short one would bound these
    // steps too, and they may take longer than it on a loaded machine.
    let setup = TestStore::create(&url).await;
    setup.load_fixture(&seed()).await.unwrap();
    let schema = setup.schema().to_string();
    // The store under test has a short timeout, and its connections carry the schema as
    // their application name so the test can see when the server has given up on them.
    let tagged = common::tagged_url(&url, &schema);
    let store = common::connect(
        config(&tagged, &schema)
            .with_pool_size(2)
            .unwrap()
            .with_timeout(Duration::from_secs(1)),
    )
    .await;
    let store = Arc::new(store);
    let service = ImageService::new(store.clone(), store);
    // Another session holds the row, so the delete waits past the timeout, however long
    // anything else takes.
    let held = common::hold_row(&url, &schema, 1).await;
    fails_safely(&service, Ask::Delete("1"), &logs, &url).await;
    // The store gave up first; the server ends the abandoned delete a moment later.
    common::release_after_abandoned(held, &url, &schema).await;
    // The lock gone, the same request succeeds on the same pool.
    service
        .delete_image(Some(KEY.as_bytes()), "1", "/image/1")
        .await
        .unwrap();
}
