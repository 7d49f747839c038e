//! Property runners: a store against the reference semantics on generated data.
//!
//! - [`assert_queries_agree`]: every query, for every tenant, lists what `select` gives.
//! - [`assert_operations_agree`]: a random workload of list/get/delete/set_status/insert from
//!   several tenants behaves exactly like a simple model, so no tenant ever sees, counts,
//!   changes or deletes another's images.
//!
//! Both are `async` and panic on the first disagreement; [`run_differential`] and
//! [`run_workloads`] drive them over generated cases for an adapter's tests.

use std::collections::BTreeMap;
use std::future::Future;

use dam_core::store::{ImageStore, ListQuery, SeedStore, StoreError};
use dam_core::{Fixture, Image, ImageId, TenantId, Timestamp};
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestRunner};

use crate::check::{assert_list_matches, get};
use crate::strategies::{fixture_and_operations, fixture_and_queries, Operation};
use crate::StoreFactory;

/// A tenant name no generated fixture uses.
pub const UNKNOWN_TENANT: &str = "unknown tenant";

fn unknown() -> TenantId {
    crate::data::tenant_id(UNKNOWN_TENANT)
}

/// Asserts that `store` (holding `fixture` and nothing else) answers every query for every
/// tenant of the fixture, and for an unknown tenant, as `select` does over that tenant's
/// images.
pub async fn assert_queries_agree<S: ImageStore + ?Sized>(
    store: &S,
    fixture: &Fixture,
    queries: &[ListQuery],
) {
    for query in queries {
        for data in &fixture.tenants {
            assert_list_matches(store, &data.tenant, &data.images, query).await;
        }
        assert_list_matches(store, &unknown(), &[], query).await;
    }
}

/// What the store should hold: every image with its owner.
#[derive(Debug, Default)]
struct Model {
    images: BTreeMap<ImageId, (TenantId, Image)>,
    max_id: i64,
}

impl Model {
    fn of(fixture: &Fixture) -> Self {
        let mut model = Model::default();
        for data in &fixture.tenants {
            for image in &data.images {
                model.max_id = model.max_id.max(image.id.get());
                model
                    .images
                    .insert(image.id, (data.tenant.clone(), image.clone()));
            }
        }
        model
    }

    fn owned(&self, tenant: &TenantId, id: ImageId) -> Option<&Image> {
        self.images
            .get(&id)
            .filter(|(owner, _)| owner == tenant)
            .map(|(_, image)| image)
    }

    fn images_of(&self, tenant: &TenantId) -> Vec<Image> {
        self.images
            .values()
            .filter(|(owner, _)| owner == tenant)
            .map(|(_, image)| image.clone())
            .collect()
    }
}

/// Runs `operations` on `store` (holding `fixture` and nothing else) and on a model, and
/// asserts after each step that the store answered as the model says: lists match `select`
/// over the tenant's own images, `get`/`delete`/`set_status` of another tenant's image is
/// `None`/`NotFound` and changes nothing, a delete of a processing image is refused, inserted
/// ids are fresh and references unique per tenant. Each list is asked twice, and the last
/// list asked again after every write, so a store that keeps pages (a cache) must serve them
/// unchanged and drop them when a write changes them. Finally every tenant's whole list is
/// checked.
pub async fn assert_operations_agree<S: ImageStore + ?Sized>(
    store: &S,
    fixture: &Fixture,
    operations: &[Operation],
) {
    let mut model = Model::of(fixture);
    let tenants: Vec<TenantId> = fixture
        .tenants
        .iter()
        .map(|t| t.tenant.clone())
        .chain([unknown()])
        .collect();
    let tenant_at = |i: usize| tenants[i.min(tenants.len() - 1)].clone();
    // Later than every generated timestamp, one second per step.
    let mut clock = 1_900_000_000i64;
    // The last list asked: asked again after each write.
    let mut last_list: Option<(TenantId, &ListQuery)> = None;
    for (step, operation) in operations.iter().enumerate() {
        let context = format!("step {step}: {operation:?}");
        match operation {
            Operation::List { tenant, query } => {
                let tenant = tenant_at(*tenant);
                let images = model.images_of(&tenant);
                assert_list_matches(store, &tenant, &images, query).await;
                assert_list_matches(store, &tenant, &images, query).await;
                last_list = Some((tenant, query));
                continue;
            }
            Operation::Get { tenant, id } => {
                let tenant = tenant_at(*tenant);
                let Ok(id) = ImageId::new(*id) else { continue };
                let found = get(store, &tenant, id).await;
                assert_eq!(found.as_ref(), model.owned(&tenant, id), "{context}");
            }
            Operation::Delete { tenant, id } => {
                let tenant = tenant_at(*tenant);
                let Ok(id) = ImageId::new(*id) else { continue };
                let outcome = store.delete(&tenant, id).await;
                match model.owned(&tenant, id).map(|im| im.status.is_processing()) {
                    None => assert!(
                        matches!(outcome, Err(StoreError::NotFound)),
                        "{context}: {outcome:?}"
                    ),
                    Some(true) => assert!(
                        matches!(outcome, Err(StoreError::BeingProcessed)),
                        "{context}: {outcome:?}"
                    ),
                    Some(false) => {
                        assert!(outcome.is_ok(), "{context}: {outcome:?}");
                        model.images.remove(&id);
                    }
                }
            }
            Operation::SetStatus { tenant, id, status } => {
                let tenant = tenant_at(*tenant);
                let Ok(id) = ImageId::new(*id) else { continue };
                clock += 1;
                let Ok(at) = Timestamp::from_unix_seconds(clock) else {
                    continue;
                };
                let outcome = store.set_status(&tenant, id, *status, at).await;
                match model
                    .images
                    .get_mut(&id)
                    .filter(|(owner, _)| *owner == tenant)
                {
                    None => assert!(
                        matches!(outcome, Err(StoreError::NotFound)),
                        "{context}: {outcome:?}"
                    ),
                    Some((_, image)) => {
                        image.status = *status;
                        image.modified_on = at;
                        match outcome {
                            Ok(changed) => assert_eq!(&changed, image, "{context}"),
                            Err(e) => panic!("{context}: {e:?}"),
                        }
                    }
                }
            }
            Operation::Insert { tenant, reference } => {
                let tenant = tenant_at(*tenant);
                let image = crate::data::image(1, reference).build();
                let outcome = store.insert(&tenant, image.clone()).await;
                let taken = model
                    .images_of(&tenant)
                    .iter()
                    .any(|im| im.reference == image.reference);
                match outcome {
                    Err(StoreError::Conflict(_)) if taken => {}
                    Ok(stored) if !taken => {
                        assert!(stored.id.get() > model.max_id, "{context}: id reused");
                        let mut expected = image;
                        expected.id = stored.id;
                        assert_eq!(stored, expected, "{context}");
                        model.max_id = stored.id.get();
                        model.images.insert(stored.id, (tenant, stored));
                    }
                    other => panic!("{context}: taken {taken}, got {other:?}"),
                }
            }
        }
        if let Some((tenant, query)) = &last_list {
            assert_list_matches(store, tenant, &model.images_of(tenant), query).await;
        }
    }
    let everything = ListQuery {
        count: true,
        ..ListQuery::default()
    };
    for tenant in &tenants {
        let images = model.images_of(tenant);
        if images.len() <= 100 {
            assert_list_matches(store, tenant, &images, &everything).await;
        }
    }
}

/// Runs `cases` generated cases of [`assert_queries_agree`]: each asks `fresh` for an empty
/// store, loads a generated multi-tenant fixture into it and checks several generated queries
/// for every tenant against the reference. Panics with the smallest failing case proptest
/// finds.
///
/// `fresh` may hand back the same store each time, emptied (a database schema truncated),
/// so a case costs a fixture load rather than a migration.
///
/// ```
/// use std::sync::Arc;
/// use dam_store_memory::MemoryStore;
/// dam_store_tests::model::run_differential(8, || async { Arc::new(MemoryStore::new()) });
/// ```
pub fn run_differential(cases: u32, fresh: impl StoreFactory) {
    run_loaded(cases, &fixture_and_queries(8), fresh, assert_queries_agree);
}

/// Runs `cases` generated cases of [`assert_operations_agree`] (random multi-tenant
/// workloads), each on a store from `fresh` as [`run_differential`] does.
pub fn run_workloads(cases: u32, fresh: impl StoreFactory) {
    run_loaded(
        cases,
        &fixture_and_operations(24),
        fresh,
        assert_operations_agree,
    );
}

/// Runs `cases` generated cases of `check`, each on a store from `fresh` loaded with the
/// case's fixture.
fn run_loaded<F: StoreFactory, T: std::fmt::Debug>(
    cases: u32,
    strategy: &impl Strategy<Value = (Fixture, Vec<T>)>,
    fresh: F,
    check: impl AsyncFn(&F::Store, &Fixture, &[T]),
) {
    let (fresh, check) = (&fresh, &check);
    run_cases(cases, strategy, |(fixture, items)| async move {
        let store = fresh.create().await;
        if let Err(e) = store.load_fixture(&fixture).await {
            panic!("the store refused a valid fixture: {e:?}");
        }
        check(&*store, &fixture, &items).await;
    });
}

fn run_cases<T, G, Fut>(cases: u32, strategy: &impl Strategy<Value = T>, case: G)
where
    T: std::fmt::Debug,
    G: Fn(T) -> Fut,
    Fut: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("cannot start a tokio runtime: {e}"));
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let outcome = TestRunner::new(config).run(strategy, |value| {
        runtime.block_on(case(value));
        Ok(())
    });
    if let Err(e) = outcome {
        panic!("{e}");
    }
}
