//! `store_list`: one list query over a deterministic store, through the SQLite adapter, through
//! the same SQL written by hand with rusqlite on the same file (the baseline), and through the
//! memory adapter on the same data; then delete throughput.
//!
//! The query: `$filter=fileType eq 'jpg' and status in ('Ok','Re') and numLinks ge 3`,
//! `$orderby=createdOn desc`, `$top=100`, first page and `$skip=10000`.
//!
//! 100 000 images in 10 tenants by default; `DAM_BENCH_IMAGES=1000000` for a million. Before
//! the criterion runs, each case prints the medians of 200 alternating adapter and hand-written
//! runs and their ratio, which a shared machine's drifting load skews less.

use std::hint::black_box;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant as Clock};

use criterion::{criterion_group, criterion_main, Criterion};
use dam_benches::store_data::{fixture, image_count, interleaved_medians, query, tenant};
use dam_core::store::{ImageStore, SeedStore};
use dam_core::{FileType, Image, ImageId, ImageStatus, Reference, TenantId, Timestamp};
use dam_store_memory::MemoryStore;
use dam_store_sqlite::{SqliteOptions, SqliteStore};
use rusqlite::Connection;

/// The same query written by hand against the adapter's schema: constants inline, the
/// tenant's row id known, tags read per image.
fn hand_written(conn: &Connection, tenant_id: i64, skip: i64) -> (Vec<Image>, bool) {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, reference, file_type, status, num_links, created_on, modified_on, \
             original_url, thumbnail_url, thumbnail_medium_url, thumbnail_preview_url, width, \
             height, size_in_bytes FROM images \
             WHERE tenant_id = ?1 AND file_type = 'jpg' AND status IN ('Ok', 'Re') \
             AND num_links >= 3 ORDER BY created_on DESC, id LIMIT 101 OFFSET ?2",
        )
        .expect("prepare");
    let mut images: Vec<Image> = stmt
        .query_map([tenant_id, skip], |row| {
            let ts = |s: i64| Timestamp::from_unix_seconds(s).expect("valid time");
            let mut image = Image::new(
                ImageId::new(row.get(0)?).expect("id"),
                Reference::new(row.get::<_, String>(1)?).expect("reference"),
                FileType::new(row.get::<_, String>(2)?).expect("type"),
                ImageStatus::from_code(&row.get::<_, String>(3)?).expect("status"),
                ts(row.get(5)?),
            );
            image.num_links = row.get(4)?;
            image.modified_on = ts(row.get(6)?);
            image.original_url = row.get(7)?;
            image.thumbnail_url = row.get(8)?;
            image.thumbnail_medium_url = row.get(9)?;
            image.thumbnail_preview_url = row.get(10)?;
            image.width = row.get(11)?;
            image.height = row.get(12)?;
            image.size_in_bytes = row.get(13)?;
            Ok(image)
        })
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    let mut tags = conn
        .prepare_cached("SELECT tag FROM image_tags WHERE image_id = ? ORDER BY position")
        .expect("prepare");
    for image in &mut images {
        image.tags = tags
            .query_map([image.id.get()], |row| row.get(0))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows");
    }
    let has_more = images.len() > 100;
    images.truncate(100);
    (images, has_more)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

fn open(path: &Path) -> SqliteStore {
    // The page cache off: every run reads its page, as the hand-written query it is compared
    // with does.
    SqliteStore::open_with(path, SqliteOptions::default().list_cache_pages(0)).expect("open")
}

fn bench_list(c: &mut Criterion) {
    let count = image_count();
    let rt = runtime();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.sqlite");
    let data = fixture(count, 1, 42);
    let loading = Clock::now();
    let sqlite = open(&path);
    rt.block_on(sqlite.load_fixture(&data)).expect("load");
    eprintln!(
        "store_list: {count} images loaded into SQLite in {:?}",
        loading.elapsed()
    );
    let memory = MemoryStore::new();
    rt.block_on(memory.load_fixture(&data)).expect("load");
    drop(data);

    let baseline = Connection::open(&path).expect("open baseline");
    let t = tenant(3);
    let tenant_id: i64 = baseline
        .query_row("SELECT id FROM tenants WHERE name = ?", [t.as_str()], |r| {
            r.get(0)
        })
        .expect("tenant");

    let mut group = c.benchmark_group("store_list");
    for (name, skip) in [("first_page", 0_u64), ("skip_10000", 10_000)] {
        let q = query(skip);
        // All three answer alike.
        let from_sqlite = rt.block_on(sqlite.list(&t, &q)).expect("list");
        let from_memory = rt.block_on(memory.list(&t, &q)).expect("list");
        let (by_hand, more) = hand_written(&baseline, tenant_id, skip as i64);
        assert_eq!(from_sqlite.items, from_memory.items);
        assert_eq!(from_sqlite.items, by_hand);
        assert_eq!(from_sqlite.has_more, more);
        eprintln!("store_list/{name}: {} items, more: {more}", by_hand.len());
        let (adapter, manual) = interleaved_medians(
            200,
            || {
                black_box(rt.block_on(sqlite.list(&t, &q)).expect("list"));
            },
            || {
                black_box(hand_written(&baseline, tenant_id, skip as i64));
            },
        );
        eprintln!(
            "store_list/{name}: interleaved medians of 200: sqlite_adapter {adapter:?}, \
             hand_written {manual:?}, ratio {:.2}",
            adapter.as_secs_f64() / manual.as_secs_f64()
        );

        group.bench_function(format!("sqlite_adapter/{name}"), |b| {
            b.iter(|| black_box(rt.block_on(sqlite.list(&t, black_box(&q))).expect("list")))
        });
        group.bench_function(format!("hand_written/{name}"), |b| {
            b.iter(|| black_box(hand_written(&baseline, tenant_id, black_box(skip as i64))))
        });
        group.bench_function(format!("memory_adapter/{name}"), |b| {
            b.iter(|| black_box(rt.block_on(memory.list(&t, black_box(&q))).expect("list")))
        });
    }
    group.finish();
}

/// Deletes per second: each iteration deletes one image that is not being processed. The
/// store is refilled (untimed) when it runs out.
fn bench_delete(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("temp dir");
    let batch = 20_000;
    let mut round = 0_u64;
    let mut group = c.benchmark_group("store_delete");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(3));

    let refill = |round: u64| {
        let path = dir.path().join(format!("delete-{round}.sqlite"));
        let store = Arc::new(open(&path));
        let data = fixture(batch, 1, round);
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
        (store, victims)
    };
    let (mut store, mut victims) = refill(round);

    group.bench_function("sqlite_adapter", |b| {
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            for _ in 0..iters {
                if victims.is_empty() {
                    round += 1;
                    (store, victims) = refill(round);
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
