//! The CPU time of the HTTP load harness's five lists on the SQLite store, without HTTP.
//!
//! `cargo run --release -p dam-benches --example sqlite_mix [-- ROUNDS]`
//!
//! A SQLite file in a temporary folder holds 200 images in each of 10 tenants (the size of the
//! harness's tenants). Each list runs ROUNDS times (default 3 000) after a warm-up, one at a
//! time; the figure is the process's CPU time per list (the caller's thread and the blocking
//! thread the store hands the work to), which moves less with the machine's load than wall time.
//!
//! The store's page cache is off, so each list runs its statements; `DAM_LIST_CACHE_PAGES=32`
//! measures it on (every list after the first served from it).
//!
//! Under callgrind (instruction counts, which the machine's load does not move at all), set
//! `DAM_NO_CLOCK=1` and read the inclusive count of `dam_store_sqlite::store::list` per call:
//! `DAM_NO_CLOCK=1 valgrind --tool=callgrind target/release/examples/sqlite_mix 300`.

use std::hint::black_box;
use std::time::Duration;

use dam_benches::store_data::{fixture, tenant};
use dam_benches::{MIX_IMAGES, MIX_LISTS};
use dam_core::query::parse_query_string;
use dam_core::store::{ImageStore, SeedStore};
use dam_store_sqlite::{SqliteOptions, SqliteStore};
use rustix::time::{clock_gettime, ClockId};

/// The process's CPU time; zero under valgrind (`DAM_NO_CLOCK` set), where rustix's vDSO
/// lookup does not run.
fn cpu() -> Duration {
    if std::env::var_os("DAM_NO_CLOCK").is_some() {
        return Duration::ZERO;
    }
    let t = clock_gettime(ClockId::ProcessCPUTime);
    Duration::new(t.tv_sec as u64, t.tv_nsec as u32)
}

fn main() {
    let rounds: u32 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(3_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a runtime");
    let dir = tempfile::tempdir().expect("a temporary folder");
    // The page cache is off unless DAM_LIST_CACHE_PAGES says otherwise: with it, every list
    // after the first is served from it.
    let pages = std::env::var("DAM_LIST_CACHE_PAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let options = SqliteOptions::default().list_cache_pages(pages);
    let store = SqliteStore::open_with(dir.path().join("dam.sqlite3"), options).expect("open");
    runtime
        .block_on(store.load_fixture(&fixture(MIX_IMAGES, 1, 42)))
        .expect("load");
    let t = tenant(3);
    let mut total = Duration::ZERO;
    for (name, text) in MIX_LISTS {
        let query = parse_query_string(Some(text).filter(|t| !t.is_empty()))
            .expect("valid query")
            .page_query();
        let items = runtime.block_on(async {
            let mut items = 0;
            for _ in 0..100 {
                items = store.list(&t, &query).await.expect("list").items.len();
            }
            items
        });
        let start = cpu();
        runtime.block_on(async {
            for _ in 0..rounds {
                black_box(store.list(&t, black_box(&query)).await.expect("list"));
            }
        });
        let per = (cpu() - start) / rounds;
        total += per;
        println!(
            "{name:<16} {items:>4} items  {:>8.1} µs CPU per list",
            per.as_secs_f64() * 1e6
        );
    }
    println!(
        "{:<16} {:>4}        {:>8.1} µs CPU per list",
        "mean",
        "",
        total.as_secs_f64() * 1e6 / 5.0
    );
}
