//! Property runners: a store against the reference semantics on generated data.
//!
//! - [`assert_queries_agree`]: every query, for every tenant, lists what `select` gives.
//! - [`assert_operations_agree`]: a random workload of list/get/delete/set_status/insert from
//!   several tenants behaves exactly like a simple model, so no tenant ever sees, counts,
//!   changes or deletes another's images.
//!
//! Both are `async` and panic on the first disagreement; drive them from a proptest with a
//! runtime (see `tests/properties.rs` of this crate).

use std::collections::BTreeMap;

use dam_core::store::{ImageStore, ListQuery, StoreError};
use dam_core::{Fixture, Image, ImageId, TenantId, Timestamp};

use crate::check::{assert_list_matches, get};
use crate::strategies::Operation;

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
/// ids are fresh and references unique per tenant. Finally every tenant's whole list is
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
    for (step, operation) in operations.iter().enumerate() {
        let context = format!("step {step}: {operation:?}");
        match operation {
            Operation::List { tenant, query } => {
                let tenant = tenant_at(*tenant);
                assert_list_matches(store, &tenant, &model.images_of(&tenant), query).await;
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
