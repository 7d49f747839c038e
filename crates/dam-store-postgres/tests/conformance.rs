//! The PostgreSQL store against the conformance kit: every behaviour of `dam-store-tests`,
//! each on a fresh store in a schema of its own.
//!
//! These tests must say they were skipped when `DAM_TEST_POSTGRES_URL` is unset (and fail
//! under `CI=true`), so the kit's one list of checks (`for_each_check!`) is expanded here
//! behind that gate rather than through `conformance_suite!`.

mod common;

use std::sync::Arc;

use common::{database_url, TestStore, TestStoreExt};

macro_rules! gated_conformance {
    ($($check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                let Some(url) = database_url() else {
                    return;
                };
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(4)
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(dam_store_tests::conformance::$check(move || {
                    let url = url.clone();
                    async move { Arc::new(TestStore::create(&url).await) }
                }));
            }
        )*
    };
}

dam_store_tests::for_each_check!(gated_conformance);
