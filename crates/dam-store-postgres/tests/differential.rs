//! Differential property tests with the kit's runners: on generated multi-tenant fixtures
//! and valid queries, the PostgreSQL store gives the reference's pages (`dam_core::testing`);
//! and a random workload of reads and writes from several tenants behaves as the kit's model
//! says.
//!
//! One schema serves every case (emptied in between), so a case costs a fixture load and the
//! queries, not a migration. `PROPTEST_CASES` sets the number of cases (default 64).

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use common::{admin, database_url, TestStore, TestStoreExt};
use dam_store_tests::model::{run_differential, run_workloads};
use tokio::sync::OnceCell;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(64)
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

/// One store (and an admin connection), made on the runner's runtime at the first case.
type Shared = OnceCell<(Arc<TestStore>, tokio_postgres::Client)>;

async fn emptied(shared: &Shared, url: &str) -> Arc<TestStore> {
    let (store, db) = shared
        .get_or_init(|| async { (Arc::new(TestStore::create(url).await), admin(url).await) })
        .await;
    reset(db, store.schema()).await;
    Arc::clone(store)
}

/// Runs `runner` with the number of cases and a factory of emptied stores on one schema;
/// nothing (said) without a database.
fn on_postgres(runner: impl for<'a> FnOnce(u32, &'a dyn Fn() -> Emptied<'a>)) {
    let Some(url) = database_url() else {
        return;
    };
    let shared = Shared::new();
    runner(cases(), &|| Box::pin(emptied(&shared, &url)));
}

type Emptied<'a> = Pin<Box<dyn Future<Output = Arc<TestStore>> + 'a>>;

#[test]
fn postgres_and_reference_agree() {
    on_postgres(|cases, fresh| run_differential(cases, fresh));
}

#[test]
fn random_workloads_behave_as_the_model() {
    on_postgres(|cases, fresh| run_workloads(cases, fresh));
}
