//! What an adapter author needs: the storage traits, their one error type, and the validated
//! query a store receives with its storage-ready form.
//!
//! An adapter implements [`ImageStore`] (images of tenants), [`KeyStore`] (API key digests to
//! tenants) and [`SeedStore`] (fixture loading, for tests and demos), then runs the
//! conformance kit (`dam-store-tests`) against itself. Stores receive only validated values:
//! a store never parses request text. A SQL adapter translates [`ListQuery::condition`] (a
//! [`Condition`], one SQL fragment per node), [`ListQuery::sort_keys`] and the paging of
//! [`ListQuery::fetch_limit`], [`ListQuery::offset`] and [`ListQuery::split_page`]; an
//! in-memory one evaluates [`Condition::matches`] and orders with [`compare_images`].

use async_trait::async_trait;

use crate::auth::KeyDigest;
use crate::fixture::Fixture;
use crate::image::{Image, ImageId, ImageStatus, TenantId, Timestamp};

pub use crate::query::eval::compare_images;
pub use crate::query::lower::{Condition, Operand};
pub use crate::query::model::{CmpOp, Field, ListQuery, Quantifier, SortKey, StringFunction};

#[cfg(feature = "metrics")]
pub use crate::metered::{
    describe_store_metrics, MeteredStore, STORE_OPERATION_DURATION, STORE_OPERATION_ERRORS,
};

/// The error of every store operation. Callers match on meaning, never on a backend's error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// No image with that id for that tenant (another tenant's image included).
    #[error("image not found")]
    NotFound,
    /// The image is being processed (`Up`/`Re`): a delete is refused.
    #[error("image is being processed")]
    BeingProcessed,
    /// A write would break a uniqueness rule (a fixture's id, reference, tenant or key already
    /// held). The message names the culprit; it never holds a key.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The backend failed (I/O, driver, corrupt data, timeout). The source is for logs only.
    #[error("storage failure in {store}")]
    Backend {
        /// The adapter's name (`sqlite`, `memory`, …).
        store: &'static str,
        /// The driver's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
}

impl StoreError {
    /// A backend failure of `store` caused by `source`.
    pub fn backend(
        store: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Self {
        StoreError::Backend {
            store,
            source: source.into(),
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImagePage {
    /// At most `top` images, in order.
    pub items: Vec<Image>,
    /// The number of all matches, when the query asked for `count`.
    pub total: Option<u64>,
    /// Whether more matches follow this page (for `@nextLink`).
    pub has_more: bool,
}

/// The images of all tenants.
///
/// Every method is scoped to one tenant: another tenant's image behaves exactly as a missing
/// one. Implementations are `Send + Sync` and used as `Arc<dyn ImageStore>`.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait ImageStore: Send + Sync {
    /// The tenant's images that match `query.filter`, ordered by `query.order_by` then by id
    /// ascending, `query.skip` passed over, at most `query.top` returned; `total` set when
    /// `query.count`; `has_more` when matches follow the page.
    ///
    /// Errors: [`StoreError::Backend`].
    async fn list(&self, tenant: &TenantId, query: &ListQuery) -> Result<ImagePage, StoreError>;

    /// One image of the tenant, if it exists.
    ///
    /// Errors: [`StoreError::Backend`].
    async fn get(&self, tenant: &TenantId, id: ImageId) -> Result<Option<Image>, StoreError>;

    /// Adds an image to the tenant, with an id the store assigns: greater than every id the
    /// store has ever held. `image.id` is ignored; the stored image is returned.
    ///
    /// Errors: [`StoreError::Conflict`] when the tenant already has the reference;
    /// [`StoreError::Backend`].
    async fn insert(&self, tenant: &TenantId, image: Image) -> Result<Image, StoreError>;

    /// Sets the status of an image (what a processing workflow uses to lock and unlock it) and
    /// its `modifiedOn` to `at`, atomically with respect to [`ImageStore::delete`].
    ///
    /// Errors: [`StoreError::NotFound`]; [`StoreError::Backend`].
    async fn set_status(
        &self,
        tenant: &TenantId,
        id: ImageId,
        status: ImageStatus,
        at: Timestamp,
    ) -> Result<Image, StoreError>;

    /// Whether the store answers: a trivial query that reads no tenant's data (`SELECT 1`, a
    /// look at the lock). The service bounds it in time ([`crate::ImageService::ready`]).
    ///
    /// Errors: [`StoreError::Backend`] when the store cannot answer.
    async fn ping(&self) -> Result<(), StoreError>;

    /// Deletes an image in one atomic step: check and delete cannot be separated by a status
    /// change or another delete.
    ///
    /// Errors: [`StoreError::NotFound`] (missing, already deleted, or another tenant's);
    /// [`StoreError::BeingProcessed`] (status `Up`/`Re`, image kept); [`StoreError::Backend`].
    async fn delete(&self, tenant: &TenantId, id: ImageId) -> Result<(), StoreError>;

    /// The state of the store's connection pools now, one entry a pool, for the pool gauges
    /// of an exporter (§9.2). Cheap and non-blocking: counters read, no query. A store without
    /// a pool (the default) has none.
    fn pools(&self) -> Vec<PoolStatus> {
        Vec::new()
    }
}

/// One connection pool of a store, as [`ImageStore::pools`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolStatus {
    /// The adapter's name (`sqlite`, `postgres`, …).
    pub store: &'static str,
    /// Which of the store's pools (`writer`, `readers`, `primary`, …).
    pub pool: &'static str,
    /// The most connections the pool opens.
    pub max_size: usize,
    /// Connections open now, in use or idle.
    pub size: usize,
    /// Open connections that wait idle for an operation.
    pub available: usize,
    /// Operations waiting for a connection.
    pub waiting: usize,
}

impl PoolStatus {
    /// The pool `pool` of the adapter `store`: at most `max_size` connections, `size` open of
    /// which `available` are idle, `waiting` operations queued for one.
    pub fn new(
        store: &'static str,
        pool: &'static str,
        max_size: usize,
        size: usize,
        available: usize,
        waiting: usize,
    ) -> Self {
        PoolStatus {
            store,
            pool,
            max_size,
            size,
            available,
            waiting,
        }
    }

    /// Open connections running an operation now: `size - available`.
    pub fn in_use(&self) -> usize {
        self.size.saturating_sub(self.available)
    }
}

/// API key digests and the tenants that own them. Keys are never stored in clear.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// The tenant that owns the key with this digest, if any.
    ///
    /// Errors: [`StoreError::Backend`].
    async fn tenant_for_key(&self, digest: &KeyDigest) -> Result<Option<TenantId>, StoreError>;
}

/// Seeding: loading a fixture into a store and telling whether it holds any image (what a
/// `--demo` start-up, tests and benchmarks use). Kept apart from [`ImageStore`], which serves
/// requests.
#[cfg_attr(feature = "mock", mockall::automock)]
#[async_trait]
pub trait SeedStore: Send + Sync {
    /// Loads a validated fixture, all or nothing: tenants, key digests and images with their
    /// given ids.
    ///
    /// Errors: [`StoreError::Conflict`] naming the clash when the store already holds one of
    /// its ids, a reference of one of its tenants, or one of its keys (nothing is loaded);
    /// [`StoreError::Backend`].
    async fn load_fixture(&self, fixture: &Fixture) -> Result<(), StoreError>;

    /// Whether the store holds no image at all.
    ///
    /// Errors: [`StoreError::Backend`].
    async fn is_empty(&self) -> Result<bool, StoreError>;
}
