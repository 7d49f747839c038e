//! [`MemoryStore`]: all data behind one lock, so every operation — delete's check-and-remove
//! above all — is atomic with respect to every other.

use std::collections::{BTreeMap, HashMap};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;
use dam_core::store::{
    compare_images, ImagePage, ImageStore, KeyStore, ListQuery, SeedStore, StoreError,
};
use dam_core::{Fixture, Image, ImageId, ImageStatus, KeyDigest, TenantId, Timestamp};

use crate::error::{poisoned, STORE};

#[derive(Default)]
struct Inner {
    /// Images per tenant, by id.
    tenants: HashMap<TenantId, BTreeMap<ImageId, Image>>,
    /// Which tenant owns each id.
    owners: HashMap<ImageId, TenantId>,
    keys: HashMap<KeyDigest, TenantId>,
    /// The largest id the store has ever held (ids are never reused).
    max_id: i64,
}

impl Inner {
    fn has_reference(&self, tenant: &TenantId, reference: &str) -> bool {
        self.tenants
            .get(tenant)
            .is_some_and(|images| images.values().any(|im| im.reference.as_str() == reference))
    }
}

/// The page of the matches of `query` among `images` (with whether more follow) and the number
/// of matches: the same answer as the reference (`dam_core::testing::select`), but only the images
/// up to the end of the page and one more are sorted (a partial selection first), so a first
/// page of a large tenant costs a scan, not a full sort.
fn page<'a>(images: impl Iterator<Item = &'a Image>, query: &ListQuery) -> (Vec<Image>, bool, u64) {
    let condition = query.condition();
    let mut matches: Vec<&Image> = images
        .filter(|im| condition.as_ref().is_none_or(|c| c.matches(im)))
        .collect();
    let total = matches.len() as u64;
    let skip = usize::try_from(query.skip).unwrap_or(usize::MAX);
    if skip >= matches.len() {
        return (Vec::new(), false, total);
    }
    let fetch = usize::try_from(query.fetch_limit()).unwrap_or(usize::MAX);
    let end = skip.saturating_add(fetch);
    let order = |a: &&Image, b: &&Image| compare_images(a, b, &query.order_by);
    if end < matches.len() {
        // everything before index `end` is not after it; then sort just that prefix
        matches.select_nth_unstable_by(end, order);
        matches.truncate(end);
    }
    matches.sort_unstable_by(order);
    let rows = matches[skip..].iter().map(|im| (*im).clone()).collect();
    let (items, has_more) = query.split_page(rows);
    (items, has_more, total)
}

/// The in-memory store.
#[derive(Default)]
pub struct MemoryStore {
    inner: RwLock<Inner>,
}

impl MemoryStore {
    /// An empty store: no tenants, no keys, no images.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    fn read(&self) -> Result<RwLockReadGuard<'_, Inner>, StoreError> {
        self.inner.read().map_err(|_| poisoned())
    }

    fn write(&self) -> Result<RwLockWriteGuard<'_, Inner>, StoreError> {
        self.inner.write().map_err(|_| poisoned())
    }
}

#[async_trait]
impl ImageStore for MemoryStore {
    async fn list(&self, tenant: &TenantId, query: &ListQuery) -> Result<ImagePage, StoreError> {
        let inner = self.read()?;
        let Some(images) = inner.tenants.get(tenant) else {
            return Ok(ImagePage {
                items: Vec::new(),
                total: query.count.then_some(0),
                has_more: false,
            });
        };
        let (items, has_more, total) = page(images.values(), query);
        Ok(ImagePage {
            items,
            total: query.count.then_some(total),
            has_more,
        })
    }

    async fn get(&self, tenant: &TenantId, id: ImageId) -> Result<Option<Image>, StoreError> {
        let inner = self.read()?;
        Ok(inner
            .tenants
            .get(tenant)
            .and_then(|images| images.get(&id))
            .cloned())
    }

    async fn insert(&self, tenant: &TenantId, mut image: Image) -> Result<Image, StoreError> {
        let mut inner = self.write()?;
        if inner.has_reference(tenant, image.reference.as_str()) {
            return Err(StoreError::Conflict(format!(
                "tenant '{tenant}' already has reference '{}'",
                image.reference.as_str()
            )));
        }
        let next = inner
            .max_id
            .checked_add(1)
            .ok_or_else(|| StoreError::backend(STORE, "image ids are exhausted"))?;
        image.id = ImageId::new(next).map_err(|e| StoreError::backend(STORE, e))?;
        inner.max_id = next;
        inner.owners.insert(image.id, tenant.clone());
        inner
            .tenants
            .entry(tenant.clone())
            .or_default()
            .insert(image.id, image.clone());
        Ok(image)
    }

    async fn set_status(
        &self,
        tenant: &TenantId,
        id: ImageId,
        status: ImageStatus,
        at: Timestamp,
    ) -> Result<Image, StoreError> {
        let mut inner = self.write()?;
        let image = inner
            .tenants
            .get_mut(tenant)
            .and_then(|images| images.get_mut(&id))
            .ok_or(StoreError::NotFound)?;
        image.status = status;
        image.modified_on = at.max(image.created_on);
        Ok(image.clone())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.read().map(|_| ())
    }

    async fn delete(&self, tenant: &TenantId, id: ImageId) -> Result<(), StoreError> {
        let mut inner = self.write()?;
        let images = inner.tenants.get_mut(tenant).ok_or(StoreError::NotFound)?;
        match images.get(&id) {
            None => Err(StoreError::NotFound),
            Some(image) if image.status.is_processing() => Err(StoreError::BeingProcessed),
            Some(_) => {
                images.remove(&id);
                inner.owners.remove(&id);
                Ok(())
            }
        }
    }
}

#[async_trait]
impl SeedStore for MemoryStore {
    async fn load_fixture(&self, fixture: &Fixture) -> Result<(), StoreError> {
        let mut inner = self.write()?;
        // Check every clash first, so nothing is half-loaded.
        for data in &fixture.tenants {
            for (i, digest) in data.keys.iter().enumerate() {
                if let Some(owner) = inner.keys.get(digest) {
                    return Err(StoreError::Conflict(format!(
                        "API key #{} of tenant '{}' is already held by tenant '{owner}'",
                        i + 1,
                        data.tenant
                    )));
                }
            }
            for image in &data.images {
                if inner.owners.contains_key(&image.id) {
                    return Err(StoreError::Conflict(format!(
                        "image id {} is already held",
                        image.id
                    )));
                }
                if inner.has_reference(&data.tenant, image.reference.as_str()) {
                    return Err(StoreError::Conflict(format!(
                        "tenant '{}' already has reference '{}'",
                        data.tenant,
                        image.reference.as_str()
                    )));
                }
            }
        }
        for data in &fixture.tenants {
            for digest in &data.keys {
                inner.keys.insert(*digest, data.tenant.clone());
            }
            for image in &data.images {
                inner.max_id = inner.max_id.max(image.id.get());
                inner.owners.insert(image.id, data.tenant.clone());
                inner
                    .tenants
                    .entry(data.tenant.clone())
                    .or_default()
                    .insert(image.id, image.clone());
            }
        }
        Ok(())
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.read()?.owners.is_empty())
    }
}

#[async_trait]
impl KeyStore for MemoryStore {
    async fn tenant_for_key(&self, digest: &KeyDigest) -> Result<Option<TenantId>, StoreError> {
        Ok(self.read()?.keys.get(digest).cloned())
    }
}
