//! What a deep page costs next to the first one (issue: keyset paging), through the service as
//! the HTTP layer calls it: 200 000 images (or `DAM_BENCH_IMAGES`) in one tenant,
//! `$filter=status eq 'Ok' and numLinks ge 2`, `$orderby=createdOn desc`, `$top=100`; the first
//! page against the page reached by following `@nextLink` 300 times (30 000 matches deep), and,
//! for comparison, the same depth asked with `$skip=30000`. SQLite always; PostgreSQL too when
//! `DAM_TEST_POSTGRES_URL` is set (a schema of its own, dropped at the end).
//!
//! ```sh
//! cargo run --release -p dam-benches --example deep_pages
//! DAM_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test \
//!     cargo run --release -p dam-benches --example deep_pages
//! ```
//!
//! A measurement, never a test: it is not run by `cargo test` or CI.

use std::sync::Arc;
use std::time::Duration;

use dam_benches::store_data::{fixture, interleaved_medians};
use dam_core::store::{ImageStore, KeyStore, SeedStore};
use dam_core::{Fixture, ImageService, KeyDigest, TenantData, TenantId};
use dam_store_postgres::{PostgresConfig, PostgresStore};
use dam_store_sqlite::{SqliteOptions, SqliteStore};

const KEY: &str = "deep-pages-key";
const FIRST: &str =
    "$filter=status%20eq%20'Ok'%20and%20numLinks%20ge%202&$orderby=createdOn%20desc&$top=100";
const DEPTH: usize = 300;
const RUNS: usize = 101;

/// Every generated image in one tenant, owned by [`KEY`].
fn one_tenant(count: usize) -> Fixture {
    let images = fixture(count, 1, 7)
        .tenants
        .into_iter()
        .flat_map(|t| t.images)
        .collect();
    Fixture {
        tenants: vec![TenantData {
            tenant: TenantId::new("deep").expect("tenant"),
            keys: vec![KeyDigest::of(KEY)],
            images,
        }],
    }
}

async fn list(service: &ImageService, query: &str) -> dam_core::ListResponse {
    service
        .list_images(Some(KEY.as_bytes()), Some(query), "/image")
        .await
        .unwrap_or_else(|p| panic!("{query}: {} {}", p.status, p.detail))
}

/// Follows `@nextLink` [`DEPTH`] times from the first page; the query string of the last link.
async fn deep_link(service: &ImageService) -> String {
    let mut query = FIRST.to_string();
    for page in 0..DEPTH {
        let answer = list(service, &query).await;
        let link = answer
            .next_link
            .unwrap_or_else(|| panic!("no @nextLink after page {page}: too few matches"));
        query = link
            .strip_prefix("/image?")
            .expect("a link under /image")
            .to_string();
    }
    query
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn measure<S: ImageStore + KeyStore + 'static>(
    rt: &tokio::runtime::Runtime,
    name: &str,
    store: Arc<S>,
) {
    let service = ImageService::new(store.clone(), store);
    let deep = rt.block_on(deep_link(&service));
    let skip = format!("{FIRST}&$skip={}", DEPTH * 100);
    // The page after 300 links is the page at $skip=30000 (no image changed meanwhile).
    let by_token = rt.block_on(list(&service, &deep));
    let by_skip = rt.block_on(list(&service, &skip));
    assert_eq!(
        by_token.items, by_skip.items,
        "the deep page by token and by $skip"
    );
    assert_eq!(by_token.items.len(), 100, "a full deep page");
    let run = |q: &str| {
        rt.block_on(list(&service, q));
    };
    let (first, deep_time) = interleaved_medians(RUNS, || run(FIRST), || run(&deep));
    let (first_again, skip_time) = interleaved_medians(RUNS, || run(FIRST), || run(&skip));
    println!(
        "{name}: first page {:.0} µs, page {DEPTH} by $skiptoken {:.0} µs ({:.2}×); \
         same depth by $skip {:.0} µs ({:.2}× of {:.0} µs)",
        micros(first),
        micros(deep_time),
        deep_time.as_secs_f64() / first.as_secs_f64(),
        micros(skip_time),
        skip_time.as_secs_f64() / first_again.as_secs_f64(),
        micros(first_again),
    );
}

fn main() {
    let count = std::env::var("DAM_BENCH_IMAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let data = one_tenant(count);
    println!("{count} images in one tenant; {RUNS} interleaved runs, medians");

    let dir = tempfile::tempdir().expect("temp dir");
    // The page cache off: the first page is asked again and again, and must be read each time.
    let options = SqliteOptions::default().list_cache_pages(0);
    let sqlite =
        SqliteStore::open_with(dir.path().join("deep.sqlite3"), options).expect("SQLite store");
    rt.block_on(sqlite.load_fixture(&data)).expect("load");
    measure(&rt, "SQLite", Arc::new(sqlite));

    if let Some(url) = std::env::var("DAM_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        let schema = format!("dam_deep_pages_{}", std::process::id());
        let config = PostgresConfig::new(&url)
            .expect("a PostgreSQL URL")
            .with_schema(&schema)
            .expect("a schema name")
            // the bulk load takes longer than a request may
            .with_timeout(Duration::from_secs(600));
        let store = rt
            .block_on(PostgresStore::connect(config))
            .expect("PostgreSQL store");
        // The load ends with `ANALYZE`: the planner has statistics from the first request.
        rt.block_on(store.load_fixture(&data)).expect("load");
        measure(&rt, "PostgreSQL", Arc::new(store));
        if std::env::var_os("DAM_DEEP_PAGES_KEEP").is_some() {
            println!("kept schema {schema}");
        } else {
            rt.block_on(drop_schema(&url, &schema));
        }
    }
}

async fn admin(url: &str) -> tokio_postgres::Client {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL answers");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    client
}

async fn drop_schema(url: &str, schema: &str) {
    let client = admin(url).await;
    if let Err(e) = client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
        .await
    {
        eprintln!("could not drop {schema}: {e}");
    }
}
