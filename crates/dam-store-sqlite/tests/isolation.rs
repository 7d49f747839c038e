//! Property test: random multi-tenant fixtures and random workloads (list with random
//! filters, get, delete, set_status, insert) from every tenant behave on SQLite exactly like
//! the kit's model, so no tenant ever sees, counts, changes or deletes another's images.

use dam_core::store::SeedStore;
use dam_store_sqlite::SqliteStore;
use dam_store_tests::model::assert_operations_agree;
use dam_store_tests::strategies::fixture_and_operations;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_workloads_never_cross_tenants((fixture, operations) in fixture_and_operations(30)) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let store = SqliteStore::open_in_memory().unwrap();
            store.load_fixture(&fixture).await.unwrap();
            assert_operations_agree(&store, &fixture, &operations).await;
        });
    }
}
