//! Wrapper stores, in the decorator shape of object_store's `ThrottledStore`: each implements
//! the storage traits over another store, adding one behaviour without touching any adapter.
//!
//! - [`Forwarding`]: passes every call through and keeps a guard alive as long as the store
//!   (e.g. a database schema dropped with it) — the base of an adapter's test store.
//! - [`Faulty`]: passes every call through until told to fail some operations; then those
//!   answer [`StoreError::Backend`] with [`INJECTED_CAUSE`], the way a broken disk or a lost
//!   connection would, or never answer, the way a server that accepts connections and then
//!   hangs would. The kit's fault checks use it on every adapter.

use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use dam_core::store::{
    ImagePage, ImageStore, KeyStore, ListQuery, PoolStatus, SeedStore, StoreError,
};
use dam_core::{Fixture, Image, ImageId, ImageStatus, KeyDigest, TenantId, Timestamp};

/// Every call passes to `store`; `guard` lives (and is dropped) with the wrapper.
///
/// ```
/// use std::sync::Arc;
/// use dam_store_memory::MemoryStore;
/// use dam_store_tests::wrap::Forwarding;
///
/// struct Cleanup; // e.g. drops a test's database schema
/// let store = Arc::new(Forwarding::new(MemoryStore::new(), Cleanup));
/// # let _ = store;
/// ```
pub struct Forwarding<S, G = ()> {
    store: S,
    guard: G,
}

impl<S, G> Forwarding<S, G> {
    /// `store`, with `guard` kept alive as long as the wrapper.
    pub fn new(store: S, guard: G) -> Self {
        Forwarding { store, guard }
    }

    /// The wrapped store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The guard.
    pub fn guard(&self) -> &G {
        &self.guard
    }
}

/// The wrapped store's own methods (those beyond the storage traits) are the wrapper's.
impl<S, G> std::ops::Deref for Forwarding<S, G> {
    type Target = S;

    fn deref(&self) -> &S {
        &self.store
    }
}

/// The operations of the storage traits, to choose which ones [`Faulty`] fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// [`ImageStore::list`].
    List,
    /// [`ImageStore::get`].
    Get,
    /// [`ImageStore::insert`].
    Insert,
    /// [`ImageStore::set_status`].
    SetStatus,
    /// [`ImageStore::delete`].
    Delete,
    /// [`ImageStore::ping`].
    Ping,
    /// [`KeyStore::tenant_for_key`].
    TenantForKey,
    /// [`SeedStore::load_fixture`].
    LoadFixture,
    /// [`SeedStore::is_empty`].
    IsEmpty,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Operation; 9] = [
        Operation::List,
        Operation::Get,
        Operation::Insert,
        Operation::SetStatus,
        Operation::Delete,
        Operation::Ping,
        Operation::TenantForKey,
        Operation::LoadFixture,
        Operation::IsEmpty,
    ];
}

/// The cause [`Faulty`] gives its failures: it names a path and a statement, so a check can
/// tell that a log holds it and that a response does not.
pub const INJECTED_CAUSE: &str =
    "injected fault: SELECT * FROM images failed on /var/lib/dam/secret-store.db";

/// The adapter name [`Faulty`]'s failures carry.
pub const FAULTY: &str = "faulty";

/// Passes every call to the wrapped store, except the operations it is told to fail.
///
/// ```
/// use std::sync::Arc;
/// use dam_core::store::{ImageStore, ListQuery, StoreError};
/// use dam_core::TenantId;
/// use dam_store_memory::MemoryStore;
/// use dam_store_tests::wrap::{Faulty, Operation};
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = Faulty::new(Arc::new(MemoryStore::new()));
/// let acme = TenantId::new("acme").unwrap();
/// store.fail(&[Operation::List]);
/// let failed = store.list(&acme, &ListQuery::default()).await;
/// assert!(matches!(failed, Err(StoreError::Backend { .. })));
/// store.heal();
/// assert!(store.list(&acme, &ListQuery::default()).await.is_ok());
/// # });
/// ```
pub struct Faulty<S: ?Sized> {
    failing: Mutex<Vec<Operation>>,
    hanging: Mutex<Vec<Operation>>,
    inner: Arc<S>,
}

impl<S: ?Sized> Faulty<S> {
    /// A wrapper that fails nothing yet.
    pub fn new(inner: Arc<S>) -> Self {
        Faulty {
            failing: Mutex::new(Vec::new()),
            hanging: Mutex::new(Vec::new()),
            inner,
        }
    }

    /// From now on, `operations` fail (the others pass through).
    pub fn fail(&self, operations: &[Operation]) {
        *self.failing.lock().unwrap_or_else(PoisonError::into_inner) = operations.to_vec();
    }

    /// From now on, `operations` never answer (the others pass through, or fail as told).
    pub fn hang(&self, operations: &[Operation]) {
        *self.hanging.lock().unwrap_or_else(PoisonError::into_inner) = operations.to_vec();
    }

    /// From now on, nothing fails or hangs.
    pub fn heal(&self) {
        self.fail(&[]);
        self.hang(&[]);
    }

    /// The wrapped store.
    pub fn inner(&self) -> &Arc<S> {
        &self.inner
    }

    async fn check(&self, operation: Operation) -> Result<(), StoreError> {
        let listed = |list: &Mutex<Vec<Operation>>| {
            list.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .contains(&operation)
        };
        if listed(&self.hanging) {
            std::future::pending::<()>().await;
        }
        if listed(&self.failing) {
            Err(StoreError::backend(FAULTY, INJECTED_CAUSE))
        } else {
            Ok(())
        }
    }
}

/// Implements the three storage traits for a wrapper: `$before` runs first (and may fail or
/// hold the call), then the call goes to `$inner`.
macro_rules! forward {
    ([$($generics:tt)*] $wrapper:ty, $inner:ident, $before:ident) => {
        #[async_trait]
        impl<$($generics)*> ImageStore for $wrapper {
            async fn list(&self, tenant: &TenantId, query: &ListQuery) -> Result<ImagePage, StoreError> {
                $before(self, Operation::List).await?;
                self.$inner.list(tenant, query).await
            }

            async fn get(&self, tenant: &TenantId, id: ImageId) -> Result<Option<Image>, StoreError> {
                $before(self, Operation::Get).await?;
                self.$inner.get(tenant, id).await
            }

            async fn insert(&self, tenant: &TenantId, image: Image) -> Result<Image, StoreError> {
                $before(self, Operation::Insert).await?;
                self.$inner.insert(tenant, image).await
            }

            async fn set_status(
                &self,
                tenant: &TenantId,
                id: ImageId,
                status: ImageStatus,
                at: Timestamp,
            ) -> Result<Image, StoreError> {
                $before(self, Operation::SetStatus).await?;
                self.$inner.set_status(tenant, id, status, at).await
            }

            async fn ping(&self) -> Result<(), StoreError> {
                $before(self, Operation::Ping).await?;
                self.$inner.ping().await
            }

            async fn delete(&self, tenant: &TenantId, id: ImageId) -> Result<(), StoreError> {
                $before(self, Operation::Delete).await?;
                self.$inner.delete(tenant, id).await
            }

            fn pools(&self) -> Vec<PoolStatus> {
                self.$inner.pools()
            }
        }

        #[async_trait]
        impl<$($generics)*> KeyStore for $wrapper {
            async fn tenant_for_key(&self, digest: &KeyDigest) -> Result<Option<TenantId>, StoreError> {
                $before(self, Operation::TenantForKey).await?;
                self.$inner.tenant_for_key(digest).await
            }
        }

        #[async_trait]
        impl<$($generics)*> SeedStore for $wrapper {
            async fn load_fixture(&self, fixture: &Fixture) -> Result<(), StoreError> {
                $before(self, Operation::LoadFixture).await?;
                self.$inner.load_fixture(fixture).await
            }

            async fn is_empty(&self) -> Result<bool, StoreError> {
                $before(self, Operation::IsEmpty).await?;
                self.$inner.is_empty().await
            }
        }
    };
}

async fn pass<T: ?Sized>(_: &T, _: Operation) -> Result<(), StoreError> {
    Ok(())
}

async fn check<S: ?Sized>(store: &Faulty<S>, operation: Operation) -> Result<(), StoreError> {
    store.check(operation).await
}

forward!([S: ImageStore + KeyStore + SeedStore, G: Send + Sync] Forwarding<S, G>, store, pass);
forward!([S: ImageStore + KeyStore + SeedStore + ?Sized] Faulty<S>, inner, check);
