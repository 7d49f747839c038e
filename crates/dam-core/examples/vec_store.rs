//! The smallest complete storage adapter: every image in one `Vec` behind a lock. It shows
//! the whole surface an adapter author meets — `dam_core::store` and the conformance kit —
//! and `cargo test` builds it, so it cannot rot. Run it with
//! `cargo run -p dam-core --example vec_store`: it runs two of the kit's checks against it.
//!
//! A SQL adapter would translate `query.condition()` (one fragment per node), `sort_keys()`,
//! `fetch_limit()` and `offset()` instead of evaluating them.

use std::sync::{Arc, Mutex, MutexGuard};

use async_trait::async_trait;
use dam_core::store::{
    compare_images, ImagePage, ImageStore, KeyStore, ListQuery, SeedStore, StoreError,
};
use dam_core::{Fixture, Image, ImageId, ImageStatus, KeyDigest, TenantId, Timestamp};

#[derive(Default)]
struct Data {
    images: Vec<(TenantId, Image)>,
    keys: Vec<(KeyDigest, TenantId)>,
    max_id: i64,
}

/// Every image of every tenant in one vector.
#[derive(Default)]
pub struct VecStore(Mutex<Data>);

impl VecStore {
    fn data(&self) -> Result<MutexGuard<'_, Data>, StoreError> {
        self.0
            .lock()
            .map_err(|_| StoreError::backend("vec", "the lock is poisoned"))
    }
}

#[async_trait]
impl ImageStore for VecStore {
    async fn list(&self, tenant: &TenantId, query: &ListQuery) -> Result<ImagePage, StoreError> {
        let data = self.data()?;
        let condition = query.condition();
        let mut matches: Vec<&Image> = data
            .images
            .iter()
            .filter(|(t, im)| t == tenant && condition.as_ref().is_none_or(|c| c.matches(im)))
            .map(|(_, im)| im)
            .collect();
        matches.sort_by(|a, b| compare_images(a, b, &query.order_by));
        let total = matches.len() as u64;
        let rows = matches
            .into_iter()
            .skip(usize::try_from(query.offset()).unwrap_or(usize::MAX))
            .take(usize::try_from(query.fetch_limit()).unwrap_or(usize::MAX))
            .cloned()
            .collect();
        let (items, has_more) = query.split_page(rows);
        Ok(ImagePage {
            items,
            total: query.count.then_some(total),
            has_more,
        })
    }

    async fn get(&self, tenant: &TenantId, id: ImageId) -> Result<Option<Image>, StoreError> {
        let data = self.data()?;
        let found = data
            .images
            .iter()
            .find(|(t, im)| t == tenant && im.id == id);
        Ok(found.map(|(_, im)| im.clone()))
    }

    async fn insert(&self, tenant: &TenantId, mut image: Image) -> Result<Image, StoreError> {
        let mut data = self.data()?;
        if data
            .images
            .iter()
            .any(|(t, im)| t == tenant && im.reference == image.reference)
        {
            return Err(StoreError::Conflict("the reference is taken".into()));
        }
        data.max_id += 1;
        image.id = ImageId::new(data.max_id).map_err(|e| StoreError::backend("vec", e))?;
        data.images.push((tenant.clone(), image.clone()));
        Ok(image)
    }

    async fn set_status(
        &self,
        tenant: &TenantId,
        id: ImageId,
        status: ImageStatus,
        at: Timestamp,
    ) -> Result<Image, StoreError> {
        let mut data = self.data()?;
        let (_, image) = data
            .images
            .iter_mut()
            .find(|(t, im)| t == tenant && im.id == id)
            .ok_or(StoreError::NotFound)?;
        image.status = status;
        image.modified_on = at.max(image.created_on);
        Ok(image.clone())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.data().map(|_| ())
    }

    async fn delete(&self, tenant: &TenantId, id: ImageId) -> Result<(), StoreError> {
        let mut data = self.data()?;
        let at = data
            .images
            .iter()
            .position(|(t, im)| t == tenant && im.id == id)
            .ok_or(StoreError::NotFound)?;
        if data.images[at].1.status.is_processing() {
            return Err(StoreError::BeingProcessed);
        }
        data.images.remove(at);
        Ok(())
    }
}

#[async_trait]
impl KeyStore for VecStore {
    async fn tenant_for_key(&self, digest: &KeyDigest) -> Result<Option<TenantId>, StoreError> {
        let data = self.data()?;
        Ok(data
            .keys
            .iter()
            .find(|(d, _)| d == digest)
            .map(|(_, t)| t.clone()))
    }
}

#[async_trait]
impl SeedStore for VecStore {
    async fn load_fixture(&self, fixture: &Fixture) -> Result<(), StoreError> {
        let mut data = self.data()?;
        // All or nothing: every clash is found before anything is written.
        for tenant in &fixture.tenants {
            if tenant
                .keys
                .iter()
                .any(|k| data.keys.iter().any(|(d, _)| d == k))
            {
                return Err(StoreError::Conflict(format!(
                    "a key of tenant '{}' is held",
                    tenant.tenant
                )));
            }
            for image in &tenant.images {
                let clash = data.images.iter().any(|(t, im)| {
                    im.id == image.id || (t == &tenant.tenant && im.reference == image.reference)
                });
                if clash {
                    return Err(StoreError::Conflict(format!("image {} clashes", image.id)));
                }
            }
        }
        for tenant in &fixture.tenants {
            for digest in &tenant.keys {
                data.keys.push((*digest, tenant.tenant.clone()));
            }
            for image in &tenant.images {
                data.max_id = data.max_id.max(image.id.get());
                data.images.push((tenant.tenant.clone(), image.clone()));
            }
        }
        Ok(())
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.data()?.images.is_empty())
    }
}

fn main() {
    let factory = || async { Arc::new(VecStore::default()) };
    dam_store_tests::block_on(async {
        dam_store_tests::conformance::list_top_skip_and_has_more(factory).await;
        dam_store_tests::conformance::delete_by_status(factory).await;
    });
    println!("VecStore passed the checks it ran; `conformance_suite!` runs them all.");
}
