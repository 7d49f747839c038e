//! The fixture loader: never panics; an accepted fixture loads into an empty store, and a
//! second load of the same fixture is refused without changing what the store holds.
#![no_main]
use dam_core::store::{ImageStore, ListQuery, SeedStore};
use dam_core::Fixture;
use dam_store_memory::MemoryStore;
use libfuzzer_sys::fuzz_target;

async fn count(store: &MemoryStore, fixture: &Fixture) -> u64 {
    let mut n = 0;
    for t in &fixture.tenants {
        let q = ListQuery { count: true, top: 0, ..ListQuery::default() };
        n += store.list(&t.tenant, &q).await.expect("list").total.unwrap_or(0);
    }
    n
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(fixture) = Fixture::from_json(text) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    rt.block_on(async {
        let store = MemoryStore::new();
        store.load_fixture(&fixture).await.expect("a valid fixture loads into an empty store");
        let images: usize = fixture.tenants.iter().map(|t| t.images.len()).sum();
        assert_eq!(count(&store, &fixture).await, images as u64);
        if images > 0 || fixture.tenants.iter().any(|t| !t.keys.is_empty()) {
            assert!(store.load_fixture(&fixture).await.is_err(), "a clash must be refused");
        }
        assert_eq!(count(&store, &fixture).await, images as u64);
    });
});
