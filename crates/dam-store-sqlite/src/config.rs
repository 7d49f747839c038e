//! The settings of a [`crate::SqliteStore`].

use std::time::Duration;

/// Settings of a [`crate::SqliteStore`].
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
    /// fails with [`dam_core::store::StoreError::Backend`] (default 5 s).
    pub busy_timeout: Duration,
    /// How long an operation waits for a free connection of the pool before it fails with
    /// [`dam_core::store::StoreError::Backend`] (default 5 s), so a burst of requests past the
    /// pool's size gets an answer instead of a queue without end.
    pub acquire_timeout: Duration,
    /// How long the owner of an API key, once found, is remembered (default 1 s; zero turns
    /// the cache off): a request with a key seen within that time goes once to a blocking
    /// thread instead of twice. At most 1024 keys are kept, and only keys that have an owner.
    /// The owner of a key never changes; a key removed by another process (or by hand) is
    /// still accepted here for at most this long.
    pub key_cache_ttl: Duration,
    /// How many pages of lists each reader connection keeps (default 32; zero turns the cache
    /// off). A page is served again only while the database file is unchanged since it was
    /// read — SQLite's `PRAGMA data_version` tells, for changes by this store, another store
    /// or another process alike — so a kept page is never stale; any committed change empties
    /// the caches. It pays off where reads outnumber writes. Each reader keeps at most 8 MiB of
    /// pages (images of any size), the pages used least lately going first. An in-memory store
    /// keeps none.
    pub list_cache_pages: usize,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        SqliteOptions {
            readers: 4,
            busy_timeout: Duration::from_secs(5),
            acquire_timeout: Duration::from_secs(5),
            key_cache_ttl: Duration::from_secs(1),
            list_cache_pages: 32,
        }
    }
}

impl SqliteOptions {
    /// Sets [`SqliteOptions::readers`].
    pub fn readers(mut self, readers: usize) -> Self {
        self.readers = readers;
        self
    }

    /// Sets [`SqliteOptions::acquire_timeout`].
    pub fn acquire_timeout(mut self, timeout: Duration) -> Self {
        self.acquire_timeout = timeout;
        self
    }

    /// Sets [`SqliteOptions::key_cache_ttl`].
    pub fn key_cache_ttl(mut self, ttl: Duration) -> Self {
        self.key_cache_ttl = ttl;
        self
    }

    /// Sets [`SqliteOptions::list_cache_pages`].
    pub fn list_cache_pages(mut self, pages: usize) -> Self {
        self.list_cache_pages = pages;
        self
    }

    /// Sets [`SqliteOptions::busy_timeout`].
    pub fn busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }
}
