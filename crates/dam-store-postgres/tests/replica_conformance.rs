//! The PostgreSQL store with a read replica against the conformance kit: every behaviour of
//! `dam-store-tests`, with lists answered by the hot standby of `DAM_TEST_POSTGRES_REPLICA_URL`
//! whenever it has replayed the writes before them. Skipped (said) without the variable; under
//! `CI=true` a standby that is named but does not answer fails them.

mod common;

use std::sync::Arc;

use common::{replica_urls, TestStore, TestStoreExt};

macro_rules! gated_conformance {
    ($($check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(4)
                    .enable_all()
                    .build()
                    .unwrap();
                let Some((url, replica)) = runtime.block_on(replica_urls()) else {
                    return;
                };
                runtime.block_on(dam_store_tests::conformance::$check(move || {
                    let (url, replica) = (url.clone(), replica.clone());
                    async move { Arc::new(TestStore::with_replica(&url, &replica, |c| c).await) }
                }));
            }
        )*
    };
}

dam_store_tests::for_each_check!(gated_conformance);
