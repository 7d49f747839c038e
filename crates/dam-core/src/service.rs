//! The service facade: what an HTTP layer calls. It authenticates, parses and validates, asks
//! the store, and answers with a response body or a [`ProblemDetails`].

use std::sync::Arc;

use serde::Serialize;

use crate::auth::ApiKey;
use crate::error::{error_chain, DamError};
use crate::image::{Image, ImageId, ImageStatus, TenantId, Timestamp};
use crate::problem::{ProblemDetails, DEFAULT_TYPE_BASE};
use crate::query::parse_query_string;
use crate::store::{ImageStore, KeyStore, PoolStatus, StoreError};

/// How long [`ImageService::ready`] waits for the store's answer.
pub const READY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Settings of the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceConfig {
    /// The base of every problem's `type` (default `https://api2.saleslayer.com/errors`).
    pub problem_type_base: String,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            problem_type_base: DEFAULT_TYPE_BASE.to_string(),
        }
    }
}

/// The 200 body of `GET /image` (§3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ListResponse {
    /// The page.
    pub items: Vec<Image>,
    /// The number of all matches, with `$count=true`.
    #[serde(rename = "@count", skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    /// The next page, when more matches follow.
    #[serde(rename = "@nextLink", skip_serializing_if = "Option::is_none")]
    pub next_link: Option<String>,
}

impl ListResponse {
    /// The JSON body — the same bytes as `serde_json::to_vec(self)` — appended to `out`, with
    /// each image's field names written as constants rather than escaped anew: what a list
    /// answer spends most of its time on, after the store.
    ///
    /// ```
    /// use dam_core::ListResponse;
    /// let page = ListResponse { items: Vec::new(), count: Some(0), next_link: None };
    /// let mut body = Vec::new();
    /// page.write_json(&mut body).unwrap();
    /// assert_eq!(body, serde_json::to_vec(&page).unwrap());
    /// ```
    ///
    /// Errors: none in practice (writing to a `Vec` does not fail); serde_json's error type.
    pub fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        out.extend_from_slice(b"{\"items\":[");
        for (i, image) in self.items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            image.write_json(out)?;
        }
        out.push(b']');
        if let Some(count) = self.count {
            out.extend_from_slice(b",\"@count\":");
            serde_json::to_writer(&mut *out, &count)?;
        }
        if let Some(link) = &self.next_link {
            out.extend_from_slice(b",\"@nextLink\":");
            serde_json::to_writer(&mut *out, link)?;
        }
        out.push(b'}');
        Ok(())
    }
}

/// The DAM image API over any store.
///
/// ```
/// use std::sync::Arc;
/// use dam_core::{Fixture, ImageService};
/// use dam_core::store::SeedStore;
/// use dam_store_memory::MemoryStore;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let store = Arc::new(MemoryStore::new());
/// let fixture = Fixture::from_json(r#"{ "tenants": [ { "name": "acme", "apiKeys": ["acme-key"],
///   "images": [ { "id": 1, "reference": "a.jpg", "fileType": "jpg", "status": "Ok",
///   "createdOn": "2024-04-05T08:44:33" } ] } ] }"#).unwrap();
/// store.load_fixture(&fixture).await.unwrap();
/// let service = ImageService::new(store.clone(), store);
///
/// let page = service
///     .list_images(Some(b"acme-key"), Some("$filter=fileType%20eq%20'jpg'&$count=true"), "/image")
///     .await
///     .unwrap();
/// assert_eq!(page.count, Some(1));
///
/// let problem = service.delete_image(None, "1", "/image/1").await.unwrap_err();
/// assert_eq!(problem.status, 401);
/// service.delete_image(Some(b"acme-key"), "1", "/image/1").await.unwrap();
/// # });
/// ```
#[derive(Clone)]
pub struct ImageService {
    images: Arc<dyn ImageStore>,
    keys: Arc<dyn KeyStore>,
    config: ServiceConfig,
}

impl ImageService {
    /// A service over an image store and a key store (often the same adapter) with the
    /// default configuration.
    pub fn new(images: Arc<dyn ImageStore>, keys: Arc<dyn KeyStore>) -> Self {
        ImageService::with_config(images, keys, ServiceConfig::default())
    }

    /// A service with the given configuration.
    pub fn with_config(
        images: Arc<dyn ImageStore>,
        keys: Arc<dyn KeyStore>,
        config: ServiceConfig,
    ) -> Self {
        ImageService {
            images,
            keys,
            config,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ServiceConfig {
        &self.config
    }

    /// `GET /image`: `api_key` is the raw `X-API-KEY` value, `raw_query` the query string as
    /// received (still encoded), `path` the request path: the problem's `instance`, and the
    /// collection path that `@nextLink` starts with.
    ///
    /// Key resolution ([`ImageService::authenticate`]) followed by
    /// [`ImageService::list_images_for_tenant`]. Checks in the order of §2: the key
    /// (401/400), then the options (400); a storage failure is a 500 whose detail says nothing
    /// of its cause.
    pub async fn list_images(
        &self,
        api_key: Option<&[u8]>,
        raw_query: Option<&str>,
        path: &str,
    ) -> Result<ListResponse, ProblemDetails> {
        self.list_inner(api_key, raw_query, path)
            .await
            .map_err(|e| self.problem(&e, path))
    }

    /// `DELETE /image/{id}`: `raw_id` is the path segment as received (not decoded).
    ///
    /// Key resolution ([`ImageService::authenticate`]) followed by
    /// [`ImageService::delete_image_for_tenant`]. Checks in the order of §2: the key
    /// (401/400), the id (400), existence in the caller's tenant (404), the processing lock
    /// (409); the check and the delete are one atomic step of the store.
    pub async fn delete_image(
        &self,
        api_key: Option<&[u8]>,
        raw_id: &str,
        path: &str,
    ) -> Result<(), ProblemDetails> {
        self.delete_inner(api_key, raw_id)
            .await
            .map_err(|e| self.problem(&e, path))
    }

    /// `GET /image` for a tenant that the caller has already resolved (its own
    /// authentication: bearer tokens, sessions, mTLS, …). `raw_query` is the query string as
    /// received (still encoded); `collection_path` is the path the client used for the
    /// collection, e.g. `/api/dam/image`: it is the problem's `instance`, and `@nextLink` is
    /// `collection_path` followed by `?` and the next page's options.
    ///
    /// Checks in the order of §2 after authentication: the options (400); a storage failure
    /// is a 500 whose detail says nothing of its cause (the cause is logged).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use dam_core::{Fixture, ImageService, TenantId};
    /// use dam_core::store::SeedStore;
    /// use dam_store_memory::MemoryStore;
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = Arc::new(MemoryStore::new());
    /// let fixture = Fixture::from_json(r#"{ "tenants": [ { "name": "acme", "apiKeys": [],
    ///   "images": [
    ///     { "id": 1, "reference": "a.jpg", "fileType": "jpg", "status": "Ok", "createdOn": "2024-04-05T08:44:33" },
    ///     { "id": 2, "reference": "b.jpg", "fileType": "jpg", "status": "Ok", "createdOn": "2024-04-05T08:44:33" } ] } ] }"#).unwrap();
    /// store.load_fixture(&fixture).await.unwrap();
    /// let service = ImageService::new(store.clone(), store);
    ///
    /// let acme = TenantId::new("acme").unwrap();
    /// let page = service
    ///     .list_images_for_tenant(&acme, Some("$top=1"), "/api/dam/image")
    ///     .await
    ///     .unwrap();
    /// let link = page.next_link.unwrap();
    /// assert!(link.starts_with("/api/dam/image?$top=1&$skiptoken="), "{link}");
    ///
    /// let problem = service
    ///     .list_images_for_tenant(&acme, Some("$top=101"), "/api/dam/image")
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!((problem.status, problem.instance.as_str()), (400, "/api/dam/image"));
    /// # });
    /// ```
    pub async fn list_images_for_tenant(
        &self,
        tenant: &TenantId,
        raw_query: Option<&str>,
        collection_path: &str,
    ) -> Result<ListResponse, ProblemDetails> {
        self.list_for(tenant, raw_query, collection_path)
            .await
            .map_err(|e| self.problem(&e, collection_path))
    }

    /// `DELETE /image/{id}` for a tenant that the caller has already resolved. `raw_id` is
    /// the id's path segment as received (not decoded); `path` the request path (the
    /// problem's `instance`).
    ///
    /// Checks in the order of §2 after authentication: the id (400), existence in `tenant`
    /// (404: another tenant's image answers exactly like a missing one), the processing lock
    /// (409); the check and the delete are one atomic step of the store.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use dam_core::store::SeedStore;
    /// use dam_core::{Fixture, ImageService, TenantId};
    /// use dam_store_memory::MemoryStore;
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = Arc::new(MemoryStore::new());
    /// let fixture = Fixture::from_json(r#"{ "tenants": [ { "name": "acme", "apiKeys": [],
    ///   "images": [ { "id": 1, "reference": "a.jpg", "fileType": "jpg", "status": "Ok",
    ///   "createdOn": "2024-04-05T08:44:33" } ] } ] }"#).unwrap();
    /// store.load_fixture(&fixture).await.unwrap();
    /// let service = ImageService::new(store.clone(), store);
    ///
    /// let acme = TenantId::new("acme").unwrap();
    /// service.delete_image_for_tenant(&acme, "1", "/api/dam/image/1").await.unwrap();
    /// let again = service.delete_image_for_tenant(&acme, "1", "/api/dam/image/1").await;
    /// assert_eq!(again.unwrap_err().status, 404);
    /// # });
    /// ```
    pub async fn delete_image_for_tenant(
        &self,
        tenant: &TenantId,
        raw_id: &str,
        path: &str,
    ) -> Result<(), ProblemDetails> {
        self.delete_for(tenant, raw_id)
            .await
            .map_err(|e| self.problem(&e, path))
    }

    /// Resolves a raw key to its tenant, as every request does first.
    pub async fn authenticate(&self, api_key: Option<&[u8]>) -> Result<TenantId, DamError> {
        let key = ApiKey::from_header(api_key)?;
        match self.keys.tenant_for_key(&key.digest()).await? {
            Some(tenant) => Ok(tenant),
            None => Err(DamError::UnknownApiKey),
        }
    }

    /// Changes an image's status (the processing workflow's lock and unlock), setting
    /// `modifiedOn` to now. Tenant-scoped and atomic with respect to delete.
    pub async fn set_status(
        &self,
        tenant: &TenantId,
        id: ImageId,
        status: ImageStatus,
    ) -> Result<Image, DamError> {
        self.images
            .set_status(tenant, id, status, Timestamp::now())
            .await
            .map_err(|e| match e {
                StoreError::NotFound => DamError::ImageNotFound { id },
                other => DamError::Storage(other),
            })
    }

    /// Whether the service can serve: the store answers [`ImageStore::ping`] within
    /// [`READY_TIMEOUT`]. Otherwise [`DamError::Unavailable`], a 503 whose detail names no
    /// cause; [`ImageService::problem`] turns it into its document and logs the cause. Runs
    /// on a tokio runtime with its timer enabled (`enable_time`, or `enable_all`).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use dam_core::ImageService;
    /// use dam_store_memory::MemoryStore;
    ///
    /// # tokio::runtime::Runtime::new().unwrap().block_on(async {
    /// let store = Arc::new(MemoryStore::new());
    /// let service = ImageService::new(store.clone(), store);
    /// assert!(service.ready().await.is_ok());
    /// # });
    /// ```
    pub async fn ready(&self) -> Result<(), DamError> {
        match tokio::time::timeout(READY_TIMEOUT, self.images.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(cause)) => Err(DamError::Unavailable(cause)),
            Err(_) => Err(DamError::Unavailable(StoreError::backend(
                "store",
                format!("no answer to a ping within {READY_TIMEOUT:?}"),
            ))),
        }
    }

    /// The state of the image store's connection pools ([`ImageStore::pools`]), for an
    /// exporter's pool gauges.
    pub fn pools(&self) -> Vec<PoolStatus> {
        self.images.pools()
    }

    /// The problem document of an error for `path`; storage failures (500) and an unreachable
    /// store (503) are logged here, at error level, with their cause, which never reaches the
    /// document.
    pub fn problem(&self, error: &DamError, path: &str) -> ProblemDetails {
        match error {
            DamError::Storage(cause) => {
                tracing::error!(error = %error_chain(cause), "storage failure");
            }
            DamError::Unavailable(cause) => {
                tracing::error!(error = %error_chain(cause), "storage unavailable");
            }
            _ => {}
        }
        error.to_problem(&self.config.problem_type_base, path)
    }

    pub(crate) async fn list_inner(
        &self,
        api_key: Option<&[u8]>,
        raw_query: Option<&str>,
        collection_path: &str,
    ) -> Result<ListResponse, DamError> {
        let tenant = self.authenticate(api_key).await?;
        self.list_for(&tenant, raw_query, collection_path).await
    }

    pub(crate) async fn delete_inner(
        &self,
        api_key: Option<&[u8]>,
        raw_id: &str,
    ) -> Result<(), DamError> {
        let tenant = self.authenticate(api_key).await?;
        self.delete_for(&tenant, raw_id).await
    }

    async fn list_for(
        &self,
        tenant: &TenantId,
        raw_query: Option<&str>,
        collection_path: &str,
    ) -> Result<ListResponse, DamError> {
        let request = parse_query_string(raw_query)?;
        let page = self.images.list(tenant, &request.page_query()).await?;
        // After a `$skiptoken` the page's query holds the seek condition, so the count of
        // every match of `$filter` takes a query of its own (only then).
        let count = match request.count_query() {
            Some(query) => self.images.list(tenant, &query).await?.total,
            None if request.query.count => page.total,
            None => None,
        };
        let next_link = match page.items.last() {
            Some(last) if page.has_more => request.next_link(collection_path, last),
            _ => None,
        };
        Ok(ListResponse {
            items: page.items,
            count,
            next_link,
        })
    }

    async fn delete_for(&self, tenant: &TenantId, raw_id: &str) -> Result<(), DamError> {
        let id = ImageId::parse_strict(raw_id).map_err(|_| DamError::InvalidImageId)?;
        self.images.delete(tenant, id).await.map_err(|e| match e {
            StoreError::NotFound => DamError::ImageNotFound { id },
            StoreError::BeingProcessed => DamError::ImageBeingProcessed { id },
            other => DamError::Storage(other),
        })
    }
}
