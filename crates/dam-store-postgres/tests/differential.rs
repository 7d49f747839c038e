//! Differential property tests with the kit's generators: on generated multi-tenant fixtures
//! and valid queries, the PostgreSQL store, the memory store and the reference
//! (`dam_core::testing::select`) give the same pages; and a random workload of reads and writes
//! from several tenants behaves as the kit's model says.
//!
//! One schema serves every case (emptied in between), so a case costs a fixture load and the
//! queries, not a migration. `PROPTEST_CASES` sets the number of cases (default 64).

mod common;

use common::{admin, database_url, TestStore};
use dam_core::store::SeedStore;
use dam_store_memory::MemoryStore;
use dam_store_tests::check::list;
use dam_store_tests::model::{assert_operations_agree, assert_queries_agree};
use dam_store_tests::strategies::{fixture_and_operations, fixture_and_queries};
use proptest::test_runner::{Config, TestCaseError, TestRunner};

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Empties the store's schema and resets its id counter, as a fresh store would be.
async fn reset(db: &tokio_postgres::Client, schema: &str) {
    db.batch_execute(&format!(
        "TRUNCATE {schema}.dam_images, {schema}.dam_api_keys;
         UPDATE {schema}.dam_id_counter SET max_id = 0;"
    ))
    .await
    .unwrap();
}

#[test]
fn postgres_memory_and_reference_agree() {
    let Some(url) = database_url() else {
        return;
    };
    let rt = runtime();
    let store = rt.block_on(TestStore::create(&url));
    let db = rt.block_on(admin(&url));
    let mut runner = TestRunner::new(Config::with_cases(cases()));
    let outcome = runner.run(&fixture_and_queries(8), |(fixture, queries)| {
        rt.block_on(async {
            reset(&db, &store.schema).await;
            let memory = MemoryStore::new();
            store.load_fixture(&fixture).await.unwrap();
            memory.load_fixture(&fixture).await.unwrap();
            assert_queries_agree(&*store, &fixture, &queries).await;
            for query in &queries {
                for data in &fixture.tenants {
                    let a = list(&*store, &data.tenant, query).await;
                    let b = list(&memory, &data.tenant, query).await;
                    if a != b {
                        return Err(TestCaseError::fail(format!(
                            "tenant '{}', query {query:?}: postgres {a:?}, memory {b:?}",
                            data.tenant
                        )));
                    }
                }
            }
            Ok(())
        })
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
}

#[test]
fn random_workloads_behave_as_the_model() {
    let Some(url) = database_url() else {
        return;
    };
    let rt = runtime();
    let store = rt.block_on(TestStore::create(&url));
    let db = rt.block_on(admin(&url));
    let mut runner = TestRunner::new(Config::with_cases(cases()));
    let outcome = runner.run(&fixture_and_operations(24), |(fixture, operations)| {
        rt.block_on(async {
            reset(&db, &store.schema).await;
            store.load_fixture(&fixture).await.unwrap();
            assert_operations_agree(&*store, &fixture, &operations).await;
        });
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
}
