//! `store_list_postgres`: the list query of `store_list` through the PostgreSQL adapter and
//! through the same query written by hand with tokio-postgres (the baseline: one statement
//! prepared once, constants inline, on one connection), on the same generated data; then
//! delete throughput.
//!
//! The query: `$filter=fileType eq 'jpg' and status in ('Ok','Re') and numLinks ge 3`,
//! `$orderby=createdOn desc`, `$top=100`, first page and `$skip=10000`.
//!
//! Needs `DAM_TEST_POSTGRES_URL` (e.g. `postgres://postgres@127.0.0.1:5432/test`); without it
//! the bench says so and measures nothing. The data goes into schemas of the bench's own
//! (`dam_bench_<pid>`, `dam_bench_delete_<pid>`), dropped at the end, even on a panic.
//! 100 000 images in 10 tenants by default; `DAM_BENCH_IMAGES=1000000` for a million. Before
//! the criterion runs, each case prints the medians of 200 alternating adapter and
//! hand-written runs and their ratio.

use std::hint::black_box;
use std::time::{Duration, Instant as Clock};

use criterion::{criterion_group, criterion_main, Criterion};
use dam_benches::store_data::{fixture, image_count, interleaved_medians, query, tenant};
use dam_core::store::{ImageStore, SeedStore};
use dam_core::{FileType, Image, ImageId, ImageStatus, Reference, TenantId, Timestamp};
use dam_store_postgres::{PostgresConfig, PostgresStore};
use tokio_postgres::{Client, NoTls, Row, Statement};

const URL_VAR: &str = "DAM_TEST_POSTGRES_URL";

fn database_url() -> Option<String> {
    let url = std::env::var(URL_VAR).ok().filter(|u| !u.trim().is_empty());
    if url.is_none() {
        eprintln!("store_list_postgres: skipped, {URL_VAR} is not set");
    }
    url
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A plain connection (its driver task on `rt`) whose `search_path` is `schema`.
fn connect(rt: &tokio::runtime::Runtime, url: &str, schema: &str) -> Client {
    rt.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, NoTls)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {URL_VAR} does not answer: {e}"));
        tokio::spawn(async move {
            let _ = connection.await;
        });
        client
            .batch_execute(&format!("SET search_path = {schema}"))
            .await
            .expect("search_path");
        client
    })
}

/// Drops its schema when dropped, from a thread and runtime of its own (so it works while a
/// panic unwinds).
struct Schema {
    url: String,
    name: String,
}

impl Schema {
    fn new(url: &str, what: &str) -> Schema {
        Schema {
            url: url.to_string(),
            name: format!("dam_bench_{what}{}", std::process::id()),
        }
    }

    /// A store in this schema (created and migrated).
    fn store(&self, rt: &tokio::runtime::Runtime) -> PostgresStore {
        let config = PostgresConfig::new(&self.url)
            .expect("a PostgreSQL URL")
            .with_schema(&self.name)
            .expect("a valid schema name")
            // Loading a million images takes minutes, beyond the default bound.
            .with_timeout(Duration::from_secs(600));
        rt.block_on(PostgresStore::connect(config))
            .unwrap_or_else(|e| panic!("PostgreSQL at {URL_VAR} does not answer: {e:?}"))
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        let url = self.url.clone();
        let sql = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name);
        let worker = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async {
                let (client, connection) = tokio_postgres::connect(&url, NoTls).await?;
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                client.batch_execute(&sql).await
            })
        });
        match worker.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("store_list_postgres: could not drop the schema: {e}"),
            Err(_) => eprintln!("store_list_postgres: could not drop the schema"),
        }
    }
}

/// The same query written by hand against the adapter's table: constants inline, tags in the
/// row, prepared once.
const HAND_WRITTEN: &str = "SELECT id, reference, file_type, status, num_links, created_on, \
     modified_on, tags, original_url, thumbnail_url, thumbnail_medium_url, \
     thumbnail_preview_url, width, height, size_in_bytes FROM dam_images \
     WHERE tenant = $1 AND file_type = 'jpg' AND status IN ('Ok', 'Re') AND num_links >= 3 \
     ORDER BY created_on DESC, id LIMIT 101 OFFSET $2";

fn image_of(row: &Row) -> Image {
    let ts = |s: i64| Timestamp::from_unix_seconds(s).expect("valid time");
    let mut image = Image::new(
        ImageId::new(row.get(0)).expect("id"),
        Reference::new(row.get::<_, String>(1)).expect("reference"),
        FileType::new(row.get::<_, String>(2)).expect("type"),
        ImageStatus::from_code(row.get::<_, &str>(3)).expect("status"),
        ts(row.get(5)),
    );
    image.num_links = row.get(4);
    image.modified_on = ts(row.get(6));
    image.tags = row.get(7);
    image.original_url = row.get(8);
    image.thumbnail_url = row.get(9);
    image.thumbnail_medium_url = row.get(10);
    image.thumbnail_preview_url = row.get(11);
    image.width = row.get(12);
    image.height = row.get(13);
    image.size_in_bytes = row.get(14);
    image
}

async fn hand_written(
    client: &Client,
    statement: &Statement,
    tenant: &str,
    skip: i64,
) -> (Vec<Image>, bool) {
    let rows = client
        .query(statement, &[&tenant, &skip])
        .await
        .expect("query");
    let mut images: Vec<Image> = rows.iter().map(image_of).collect();
    let has_more = images.len() > 100;
    images.truncate(100);
    (images, has_more)
}

fn bench_list(c: &mut Criterion) {
    let Some(url) = database_url() else { return };
    let count = image_count();
    let rt = runtime();
    let schema = Schema::new(&url, "");
    let store = schema.store(&rt);
    let data = fixture(count, 1, 42);
    let loading = Clock::now();
    rt.block_on(store.load_fixture(&data)).expect("load");
    drop(data);
    let client = connect(&rt, &url, &schema.name);
    // What autovacuum would do after a bulk load, done now so that it does not happen during
    // the measurements: statistics for the planner, the visibility map for index-only scans.
    rt.block_on(client.batch_execute("VACUUM ANALYZE dam_images"))
        .expect("vacuum");
    eprintln!(
        "store_list_postgres: {count} images loaded into PostgreSQL in {:?}",
        loading.elapsed()
    );
    let statement = rt.block_on(client.prepare(HAND_WRITTEN)).expect("prepare");
    let t = tenant(3);

    let mut group = c.benchmark_group("store_list_postgres");
    for (name, skip) in [("first_page", 0_u64), ("skip_10000", 10_000)] {
        let q = query(skip);
        let by_store = rt.block_on(store.list(&t, &q)).expect("list");
        let (by_hand, more) =
            rt.block_on(hand_written(&client, &statement, t.as_str(), skip as i64));
        assert_eq!(by_store.items, by_hand);
        assert_eq!(by_store.has_more, more);
        eprintln!(
            "store_list_postgres/{name}: {} items, more: {more}",
            by_hand.len()
        );
        let (adapter, manual) = interleaved_medians(
            200,
            || {
                black_box(rt.block_on(store.list(&t, &q)).expect("list"));
            },
            || {
                black_box(rt.block_on(hand_written(&client, &statement, t.as_str(), skip as i64)));
            },
        );
        eprintln!(
            "store_list_postgres/{name}: interleaved medians of 200: postgres_adapter \
             {adapter:?}, hand_written {manual:?}, ratio {:.2}",
            adapter.as_secs_f64() / manual.as_secs_f64()
        );

        group.bench_function(format!("postgres_adapter/{name}"), |b| {
            b.iter(|| black_box(rt.block_on(store.list(&t, black_box(&q))).expect("list")))
        });
        group.bench_function(format!("hand_written/{name}"), |b| {
            b.iter(|| {
                black_box(rt.block_on(hand_written(
                    &client,
                    &statement,
                    t.as_str(),
                    black_box(skip as i64),
                )))
            })
        });
    }
    group.finish();
    drop(store);
    drop(client);
}

/// Deletes per second: each iteration deletes one image that is not being processed. More
/// images are loaded (untimed, with new ids) when the victims run out.
fn bench_delete(c: &mut Criterion) {
    let Some(url) = database_url() else { return };
    let rt = runtime();
    let schema = Schema::new(&url, "delete_");
    let store = schema.store(&rt);
    let batch = 20_000;
    let mut round = 0_u64;
    let refill = |round: u64| {
        let data = fixture(batch, 1 + round as i64 * batch as i64, round);
        rt.block_on(store.load_fixture(&data)).expect("load");
        let victims: Vec<(TenantId, ImageId)> = data
            .tenants
            .iter()
            .flat_map(|t| {
                t.images
                    .iter()
                    .filter(|im| !im.status.is_processing())
                    .map(|im| (t.tenant.clone(), im.id))
            })
            .collect();
        victims
    };
    let mut victims = refill(round);
    let mut group = c.benchmark_group("store_delete_postgres");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(3));
    group.bench_function("postgres_adapter", |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            for _ in 0..iters {
                if victims.is_empty() {
                    round += 1;
                    victims = refill(round);
                }
                let (t, id) = victims.pop().expect("a victim");
                let started = Clock::now();
                rt.block_on(store.delete(&t, id)).expect("delete");
                elapsed += started.elapsed();
            }
            elapsed
        })
    });
    group.finish();
}

criterion_group!(benches, bench_list, bench_delete);
criterion_main!(benches);
