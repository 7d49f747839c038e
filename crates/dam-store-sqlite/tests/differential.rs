//! Differential property test: on generated multi-tenant fixtures and generated valid queries,
//! the SQLite store, the memory store and the reference (`dam_core::testing::select`) give the
//! same ids, order, totals and `has_more`.
//!
//! Each case loads one fixture into a fresh store of each kind and runs several queries for
//! every tenant, so 1 000 cases cover several thousand queries in seconds.

use dam_core::store::SeedStore;
use dam_store_memory::MemoryStore;
use dam_store_sqlite::SqliteStore;
use dam_store_tests::model::assert_queries_agree;
use dam_store_tests::strategies::fixture_and_queries;
use proptest::prelude::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 1000,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn sqlite_memory_and_reference_agree((fixture, queries) in fixture_and_queries(8)) {
        runtime().block_on(async {
            let sqlite = SqliteStore::open_in_memory().unwrap();
            let memory = MemoryStore::new();
            sqlite.load_fixture(&fixture).await.unwrap();
            memory.load_fixture(&fixture).await.unwrap();
            // Each against the reference, hence against each other.
            assert_queries_agree(&sqlite, &fixture, &queries).await;
            assert_queries_agree(&memory, &fixture, &queries).await;
        });
    }
}
