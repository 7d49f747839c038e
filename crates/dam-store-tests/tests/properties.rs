//! The kit's property runners against the memory store: generated fixtures and queries agree
//! with the reference, and random multi-tenant workloads never cross tenants.

use dam_core::store::SeedStore;
use dam_store_memory::MemoryStore;
use dam_store_tests::model::{assert_operations_agree, assert_queries_agree};
use dam_store_tests::strategies::{fixture_and_operations, fixture_and_queries};
use proptest::prelude::*;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn generated_queries_agree_with_the_reference((fixture, queries) in fixture_and_queries(6)) {
        runtime().block_on(async {
            let store = MemoryStore::new();
            store.load_fixture(&fixture).await.unwrap();
            assert_queries_agree(&store, &fixture, &queries).await;
        });
    }

    #[test]
    fn random_workloads_never_cross_tenants((fixture, operations) in fixture_and_operations(30)) {
        runtime().block_on(async {
            let store = MemoryStore::new();
            store.load_fixture(&fixture).await.unwrap();
            assert_operations_agree(&store, &fixture, &operations).await;
        });
    }
}
