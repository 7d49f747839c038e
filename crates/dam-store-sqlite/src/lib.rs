//! A SQLite [`ImageStore`] and [`KeyStore`] for DAM Core.
//!
//! One database file in WAL mode holds tenants, API key digests (SHA-256, never the key),
//! images and their tags. The adapter creates and migrates its schema itself, versioned with
//! `PRAGMA user_version`. Statements run on tokio's blocking threads over a small pool of the
//! adapter's own connections: one writer and a few readers, which WAL lets read while the
//! writer writes.
//!
//! `$filter` and `$orderby` are translated to SQL with every literal a bound parameter, and
//! with exactly the semantics of the core's reference ([`dam_core::query::select`]):
//! case-sensitive, byte-wise string tests (no `LIKE`), code-point order, exact datetime
//! fractions, and two-valued logic over the nullable URL fields. Every write is one
//! `BEGIN IMMEDIATE` transaction, so a delete's check and removal cannot be separated.
//!
//! Any storage fault — a missing directory, a file that is not a database, a lock held past
//! the busy timeout — is a [`StoreError::Backend`], never a panic; its source is for logs.
//!
//! ```
//! use std::sync::Arc;
//! use dam_core::{Fixture, ImageService, ImageStore};
//! use dam_store_sqlite::{SqliteOptions, SqliteStore};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let dir = std::env::temp_dir().join(format!("dam-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let options = SqliteOptions::default().readers(2);
//! let store = Arc::new(SqliteStore::open_with(dir.join("dam.sqlite"), options)?);
//! let fixture = Fixture::from_json(r#"{ "tenants": [ { "name": "acme", "apiKeys": ["acme-key"],
//!   "images": [ { "id": 1, "reference": "a.jpg", "fileType": "jpg", "status": "Ok",
//!   "createdOn": "2024-04-05T08:44:33" } ] } ] }"#)?;
//! if store.is_empty().await? {
//!     store.load_fixture(&fixture).await?;
//! }
//! let service = ImageService::new(store.clone(), store);
//! let page = service
//!     .list_images(Some(b"acme-key"), Some("$count=true"), "/image")
//!     .await
//!     .map_err(|p| p.detail)?;
//! assert_eq!(page.count, Some(1));
//! # drop(service);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(())
//! # })
//! # }
//! ```
//!
//! `§N` in this crate's documentation and code refers to section N of the API contract,
//! [`docs/API.md`](https://github.com/dam-core/dam-core/blob/main/docs/API.md).

// The README's examples run as doctests, so they cannot rot.
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod error;
mod ops;
mod pool;
mod schema;
mod sql;

use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use dam_core::query::ListQuery;
use dam_core::{
    Fixture, Image, ImageId, ImagePage, ImageStatus, ImageStore, KeyDigest, KeyStore, StoreError,
    TenantId, Timestamp,
};
use rusqlite::Connection;

use crate::error::AdapterError;
use crate::pool::{Pool, Source};

/// The schema version this adapter creates (`PRAGMA user_version` of its files).
pub const SCHEMA_VERSION: i64 = schema::SCHEMA_VERSION;

/// Settings of a [`SqliteStore`].
///
/// ```
/// use std::time::Duration;
/// use dam_store_sqlite::SqliteOptions;
/// let options = SqliteOptions::default().readers(8).busy_timeout(Duration::from_secs(2));
/// assert_eq!(options.readers, 8);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SqliteOptions {
    /// How many connections may read at once (at least one; default 4). Writes go through one
    /// connection of their own.
    pub readers: usize,
    /// How long a statement waits for a lock another connection or process holds before it
    /// fails with [`StoreError::Backend`] (default 5 s).
    pub busy_timeout: Duration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            readers: 4,
            busy_timeout: Duration::from_secs(5),
        }
    }
}

impl SqliteOptions {
    /// Sets [`SqliteOptions::readers`].
    pub fn readers(mut self, readers: usize) -> Self {
        self.readers = readers;
        self
    }

    /// Sets [`SqliteOptions::busy_timeout`].
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }
}

/// The SQLite store. Cheap to share as `Arc<SqliteStore>`; every method is tenant-scoped.
pub struct SqliteStore {
    writer: Arc<Pool>,
    readers: Arc<Pool>,
    /// Inserts and deletes so far, to refresh the planner's statistics now and then.
    writes: AtomicU64,
}

/// Inserts and deletes between two refreshes of the planner's statistics (a store that starts
/// empty and fills up through the API gets them too, not only at the next start).
const WRITES_PER_OPTIMIZE: u64 = 10_000;

impl fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteStore").finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens (creating it if needed) the database file at `path` with default options, and
    /// migrates its schema. See [`SqliteStore::open_with`].
    ///
    /// Errors: [`StoreError::Backend`].
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        SqliteStore::open_with(path, SqliteOptions::default())
    }

    /// Opens (creating it if needed) the database file at `path`, switches it to WAL mode and
    /// migrates its schema to [`SCHEMA_VERSION`]. This blocks briefly on the disk; call it at
    /// start-up (or from `spawn_blocking`).
    ///
    /// Errors: [`StoreError::Backend`] when the directory is missing or unwritable, the file is
    /// not a database of this adapter (or of a newer version), or another process holds the
    /// database locked past the busy timeout. A file that cannot be opened is left untouched.
    pub fn open_with(path: impl AsRef<Path>, options: SqliteOptions) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let writer_source = Source::File {
            path: path.clone(),
            read_only: false,
        };
        let mut conn = Pool::open(&writer_source, options.busy_timeout)?;
        schema::enable_wal(&conn)?;
        schema::migrate(&mut conn)?;
        schema::optimize(&conn);
        let writer = Pool::new(writer_source, 1, options.busy_timeout, Some(conn));
        let reader_source = Source::File {
            path,
            read_only: true,
        };
        let readers = Pool::new(reader_source, options.readers, options.busy_timeout, None);
        Ok(SqliteStore {
            writer: Arc::new(writer),
            readers: Arc::new(readers),
            writes: AtomicU64::new(0),
        })
    }

    /// A new, empty store in memory (for tests): one connection serves reads and writes, and
    /// the data goes when the store is dropped.
    ///
    /// Errors: [`StoreError::Backend`].
    pub fn open_in_memory() -> Result<Self, StoreError> {
        let options = SqliteOptions::default();
        let mut conn = Connection::open_in_memory().map_err(AdapterError::from)?;
        schema::configure(&conn, options.busy_timeout)?;
        schema::migrate(&mut conn)?;
        let pool = Arc::new(Pool::new(
            Source::Memory,
            1,
            options.busy_timeout,
            Some(conn),
        ));
        Ok(SqliteStore {
            writer: Arc::clone(&pool),
            readers: pool,
            writes: AtomicU64::new(0),
        })
    }

    /// Counts a write; true when this one should refresh the statistics after it.
    fn count_write(&self) -> bool {
        self.writes.fetch_add(1, Ordering::Relaxed) % WRITES_PER_OPTIMIZE == WRITES_PER_OPTIMIZE - 1
    }
}

#[async_trait]
impl ImageStore for SqliteStore {
    async fn list(&self, tenant: &TenantId, query: &ListQuery) -> Result<ImagePage, StoreError> {
        let statements = sql::list_statements(tenant.as_str(), query);
        let query = query.clone();
        Ok(self
            .readers
            .run(move |conn| ops::list(conn, &statements, &query))
            .await?)
    }

    async fn get(&self, tenant: &TenantId, id: ImageId) -> Result<Option<Image>, StoreError> {
        let tenant = tenant.as_str().to_string();
        Ok(self
            .readers
            .run(move |conn| ops::get(conn, &tenant, id.get()))
            .await?)
    }

    async fn insert(&self, tenant: &TenantId, image: Image) -> Result<Image, StoreError> {
        let tenant = tenant.as_str().to_string();
        let refresh = self.count_write();
        Ok(self
            .writer
            .run(move |conn| {
                let inserted = ops::insert(conn, &tenant, image);
                if refresh {
                    schema::optimize(conn);
                }
                inserted
            })
            .await?)
    }

    async fn set_status(
        &self,
        tenant: &TenantId,
        id: ImageId,
        status: ImageStatus,
        at: Timestamp,
    ) -> Result<Image, StoreError> {
        let tenant = tenant.as_str().to_string();
        Ok(self
            .writer
            .run(move |conn| ops::set_status(conn, &tenant, id.get(), status, at))
            .await?)
    }

    async fn delete(&self, tenant: &TenantId, id: ImageId) -> Result<(), StoreError> {
        let tenant = tenant.as_str().to_string();
        let refresh = self.count_write();
        Ok(self
            .writer
            .run(move |conn| {
                let deleted = ops::delete(conn, &tenant, id.get());
                if refresh {
                    schema::optimize(conn);
                }
                deleted
            })
            .await?)
    }

    async fn load_fixture(&self, fixture: &Fixture) -> Result<(), StoreError> {
        let fixture = fixture.clone();
        Ok(self
            .writer
            .run(move |conn| ops::load_fixture(conn, &fixture))
            .await?)
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.readers.run(ops::is_empty).await?)
    }
}

#[async_trait]
impl KeyStore for SqliteStore {
    async fn tenant_for_key(&self, digest: &KeyDigest) -> Result<Option<TenantId>, StoreError> {
        let digest = *digest;
        Ok(self
            .readers
            .run(move |conn| ops::tenant_for_key(conn, &digest))
            .await?)
    }
}
