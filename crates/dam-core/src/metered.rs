//! [`MeteredStore`]: any store, with a duration histogram and a failure counter per storage
//! operation (§9.2), recorded through the [`metrics`] facade (cargo feature `metrics`).

use std::time::Instant;

use async_trait::async_trait;
use metrics::{counter, describe_counter, describe_histogram, histogram, Unit};

use crate::auth::KeyDigest;
use crate::fixture::Fixture;
use crate::image::{Image, ImageId, ImageStatus, TenantId, Timestamp};
use crate::store::{ImagePage, ImageStore, KeyStore, ListQuery, PoolStatus, SeedStore, StoreError};

/// Histogram of the duration of each storage operation, in seconds; labels `store` and
/// `operation`.
pub const STORE_OPERATION_DURATION: &str = "dam_store_operation_duration_seconds";
/// Counter of the storage operations that failed ([`StoreError::Backend`]: what answers 500);
/// labels `store` and `operation`. A missing image, a conflict or an image being processed is
/// an answer, not a failure.
pub const STORE_OPERATION_ERRORS: &str = "dam_store_operation_errors_total";

/// Gives the recorder installed now the unit and description of the storage metrics
/// (exporters print them, e.g. as Prometheus `# HELP`). Optional; call it after installing a
/// recorder.
pub fn describe_store_metrics() {
    describe_histogram!(
        STORE_OPERATION_DURATION,
        Unit::Seconds,
        "Duration of storage operations."
    );
    describe_counter!(
        STORE_OPERATION_ERRORS,
        Unit::Count,
        "Storage operations that failed (a backend failure)."
    );
}

/// A store that records, for each operation, its duration and whether it failed, labelled by
/// the store's name (`store`) and the operation's (`operation`: the trait method's name, e.g.
/// `list`, `delete`, `tenant_for_key`). No label holds a tenant, key, digest, id or query.
///
/// It implements each storage trait that the wrapped store implements, so it goes wherever
/// the store went:
///
/// ```
/// use std::sync::Arc;
/// use dam_core::store::MeteredStore;
/// use dam_core::ImageService;
/// use dam_store_memory::MemoryStore;
///
/// let store = Arc::new(MeteredStore::new("memory", MemoryStore::new()));
/// let service = ImageService::new(store.clone(), store);
/// ```
///
/// Recording costs next to nothing while no recorder is installed; with one (e.g.
/// `metrics-exporter-prometheus`), the duration histogram's buckets are set there.
#[derive(Debug)]
pub struct MeteredStore<S> {
    name: &'static str,
    inner: S,
}

impl<S> MeteredStore<S> {
    /// `inner`, its operations recorded with the label `store` = `name`.
    pub fn new(name: &'static str, inner: S) -> Self {
        MeteredStore { name, inner }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Runs one operation, recording its duration — also when the caller gives up on it (a
    /// request's time limit) — and its failure.
    async fn measured<T>(
        &self,
        operation: &'static str,
        call: impl std::future::Future<Output = Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        let _timer = Timer {
            store: self.name,
            operation,
            started: Instant::now(),
        };
        let result = call.await;
        if let Err(StoreError::Backend { .. }) = &result {
            counter!(STORE_OPERATION_ERRORS, "store" => self.name, "operation" => operation)
                .increment(1);
        }
        result
    }
}

/// Records an operation's duration when it ends, finished or abandoned.
struct Timer {
    store: &'static str,
    operation: &'static str,
    started: Instant,
}

impl Drop for Timer {
    fn drop(&mut self) {
        histogram!(STORE_OPERATION_DURATION, "store" => self.store, "operation" => self.operation)
            .record(self.started.elapsed().as_secs_f64());
    }
}

#[async_trait]
impl<S: ImageStore> ImageStore for MeteredStore<S> {
    async fn list(&self, tenant: &TenantId, query: &ListQuery) -> Result<ImagePage, StoreError> {
        self.measured("list", self.inner.list(tenant, query)).await
    }

    async fn get(&self, tenant: &TenantId, id: ImageId) -> Result<Option<Image>, StoreError> {
        self.measured("get", self.inner.get(tenant, id)).await
    }

    async fn insert(&self, tenant: &TenantId, image: Image) -> Result<Image, StoreError> {
        self.measured("insert", self.inner.insert(tenant, image))
            .await
    }

    async fn set_status(
        &self,
        tenant: &TenantId,
        id: ImageId,
        status: ImageStatus,
        at: Timestamp,
    ) -> Result<Image, StoreError> {
        self.measured("set_status", self.inner.set_status(tenant, id, status, at))
            .await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.measured("ping", self.inner.ping()).await
    }

    async fn delete(&self, tenant: &TenantId, id: ImageId) -> Result<(), StoreError> {
        self.measured("delete", self.inner.delete(tenant, id)).await
    }

    fn pools(&self) -> Vec<PoolStatus> {
        self.inner.pools()
    }
}

#[async_trait]
impl<S: KeyStore> KeyStore for MeteredStore<S> {
    async fn tenant_for_key(&self, digest: &KeyDigest) -> Result<Option<TenantId>, StoreError> {
        self.measured("tenant_for_key", self.inner.tenant_for_key(digest))
            .await
    }
}

#[async_trait]
impl<S: SeedStore> SeedStore for MeteredStore<S> {
    async fn load_fixture(&self, fixture: &Fixture) -> Result<(), StoreError> {
        self.measured("load_fixture", self.inner.load_fixture(fixture))
            .await
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        self.measured("is_empty", self.inner.is_empty()).await
    }
}
