//! A small pool of connections, each used by one blocking task at a time.
//!
//! rusqlite connections are synchronous, so every statement runs on tokio's blocking threads
//! (`spawn_blocking`) and the runtime's workers never wait on the disk. A semaphore bounds the
//! connections in use; idle ones wait in a vector. A connection is opened when none is idle, so
//! one lost to a panicking task is replaced — except for an in-memory database, which would
//! come back empty and is reported lost instead.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use dam_core::store::PoolStatus;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::Semaphore;

use crate::config::SqliteOptions;
use crate::error::{AdapterError, OpError};
use crate::schema;

use super::page_cache::PageCache;

/// How the pool opens a connection.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// A database file.
    File {
        path: PathBuf,
        /// Connections that only read (`PRAGMA query_only`).
        read_only: bool,
    },
    /// The one in-memory database, which lives as long as its connection.
    Memory,
}

/// A connection of a pool, with the pages of lists it has read.
pub(crate) struct Slot {
    pub(crate) conn: Connection,
    pub(crate) pages: PageCache,
}

/// Connections to one database.
pub(crate) struct Pool {
    source: Source,
    busy_timeout: Duration,
    /// How long `run` waits for a free connection.
    acquire_timeout: Duration,
    idle: Mutex<Vec<Slot>>,
    /// How many pages of lists each connection keeps (zero: none).
    cache_pages: usize,
    permits: Arc<Semaphore>,
    /// The most connections in use at once.
    size: usize,
    /// Operations waiting for a permit now.
    waiting: AtomicUsize,
}

/// Counts an operation as waiting for a connection while it lives.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Waiting(counter)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Pool {
    /// A pool of at most `size` connections (at least one), holding `first` if given, each
    /// keeping up to `cache_pages` pages of lists (only connections that never write may keep
    /// any: see [`PageCache`]).
    pub(crate) fn new(
        source: Source,
        size: usize,
        options: &SqliteOptions,
        first: Option<Connection>,
        cache_pages: usize,
    ) -> Self {
        let first = first.map(|conn| Slot {
            conn,
            pages: PageCache::new(cache_pages),
        });
        Pool {
            source,
            busy_timeout: options.busy_timeout,
            acquire_timeout: options.acquire_timeout,
            idle: Mutex::new(first.into_iter().collect()),
            cache_pages,
            permits: Arc::new(Semaphore::new(size.max(1))),
            size: size.max(1),
            waiting: AtomicUsize::new(0),
        }
    }

    /// The pool's state now, as the adapter `pool` of the store: in use are the connections
    /// whose operation holds a permit, idle the connections kept for the next one.
    pub(crate) fn status(&self, pool: &'static str) -> PoolStatus {
        let in_use = self.size.saturating_sub(self.permits.available_permits());
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        PoolStatus::new(
            crate::error::STORE,
            pool,
            self.size,
            in_use + idle,
            idle,
            self.waiting.load(Ordering::Relaxed),
        )
    }

    /// Opens a connection to `source` with the adapter's settings.
    pub(crate) fn open(
        source: &Source,
        busy_timeout: Duration,
    ) -> Result<Connection, AdapterError> {
        match source {
            Source::Memory => Err(AdapterError::MemoryLost),
            Source::File { path, read_only } => {
                // Only the writer may create the file; a reader finds it or fails.
                let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
                if !*read_only {
                    flags |= OpenFlags::SQLITE_OPEN_CREATE;
                }
                let conn =
                    Connection::open_with_flags(path, flags).map_err(|e| without_path(e, path))?;
                schema::configure(&conn, busy_timeout)?;
                if *read_only {
                    conn.pragma_update(None, "query_only", true)?;
                }
                Ok(conn)
            }
        }
    }

    fn take(&self) -> Option<Slot> {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    fn give_back(&self, slot: Slot) {
        // A connection left inside a transaction (its rollback failed) is not reused.
        if slot.conn.is_autocommit() {
            self.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(slot);
        }
    }

    /// Pages of lists served from the connections' caches and read past them, over the
    /// connections idle now.
    pub(crate) fn cache_counts(&self) -> (u64, u64) {
        let idle = self.idle.lock().unwrap_or_else(PoisonError::into_inner);
        idle.iter().fold((0, 0), |(hits, misses), slot| {
            let (h, m) = slot.pages.counts();
            (hits + h, misses + m)
        })
    }

    /// Runs `work` with a connection on a blocking thread: [`Pool::run_slot`] without the
    /// connection's cache.
    pub(crate) async fn run<T, F>(self: &Arc<Self>, work: F) -> Result<T, OpError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<T, OpError> + Send + 'static,
    {
        self.run_slot(move |slot| work(&mut slot.conn)).await
    }

    /// Runs `work` with a connection (and its cache) on a blocking thread. The work completes
    /// even when the caller stops waiting, so a transaction is either committed or rolled
    /// back, never left half-done.
    pub(crate) async fn run_slot<T, F>(self: &Arc<Self>, work: F) -> Result<T, OpError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Slot) -> Result<T, OpError> + Send + 'static,
    {
        let acquire = Arc::clone(&self.permits).acquire_owned();
        let counted = Waiting::new(&self.waiting);
        let permit = match tokio::time::timeout(self.acquire_timeout, acquire).await {
            Ok(permit) => permit.map_err(|_| AdapterError::PoolClosed)?,
            Err(_) => return Err(AdapterError::PoolTimeout(self.acquire_timeout).into()),
        };
        drop(counted);
        let pool = Arc::clone(self);
        let task = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut slot = match pool.take() {
                Some(slot) => slot,
                None => Slot {
                    conn: Pool::open(&pool.source, pool.busy_timeout)?,
                    pages: PageCache::new(pool.cache_pages),
                },
            };
            let result = work(&mut slot);
            pool.give_back(slot);
            result
        });
        task.await.map_err(AdapterError::Task)?
    }
}

/// rusqlite names the file in an open error (`unable to open database file: /path`); readers
/// open on demand, so that error can reach a request's log line, which must not hold a path
/// (contract §6, §8). The caller that chose the path names it where it should (start-up).
fn without_path(error: rusqlite::Error, path: &Path) -> rusqlite::Error {
    match error {
        rusqlite::Error::SqliteFailure(code, Some(msg)) => {
            let shown = path.to_string_lossy();
            let msg = if shown.is_empty() {
                msg
            } else {
                msg.replace(shown.as_ref(), "the database file")
            };
            rusqlite::Error::SqliteFailure(code, Some(msg))
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With every connection taken, an operation waits at most the acquire timeout, then fails
    /// with a backend error; once a connection is free again, operations run.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn waiting_for_a_connection_is_bounded() {
        let options = SqliteOptions::default().acquire_timeout(Duration::from_millis(20));
        let first = Connection::open_in_memory().unwrap();
        let pool = Arc::new(Pool::new(Source::Memory, 1, &options, Some(first), 0));
        let (release, released) = std::sync::mpsc::channel::<()>();
        let (taken, is_taken) = tokio::sync::oneshot::channel::<()>();
        let holder = {
            let pool = Arc::clone(&pool);
            tokio::spawn(async move {
                pool.run(move |_| {
                    let _ = taken.send(());
                    let _ = released.recv();
                    Ok(())
                })
                .await
            })
        };
        is_taken.await.unwrap();
        let status = pool.status("test");
        assert_eq!(
            (status.in_use(), status.available, status.waiting),
            (1, 0, 0)
        );
        let waiter = {
            let pool = Arc::clone(&pool);
            tokio::spawn(async move { pool.run(|_| Ok(())).await })
        };
        while pool.status("test").waiting == 0 {
            tokio::task::yield_now().await;
        }
        let waited = waiter.await.unwrap();
        assert_eq!(
            pool.status("test").waiting,
            0,
            "a timed-out waiter is not counted"
        );
        assert!(
            matches!(waited, Err(OpError::Adapter(AdapterError::PoolTimeout(_)))),
            "{waited:?}"
        );
        let error = dam_core::store::StoreError::from(waited.unwrap_err());
        assert!(matches!(error, dam_core::store::StoreError::Backend { .. }));
        release.send(()).unwrap();
        holder.await.unwrap().unwrap();
        assert!(pool.run(|_| Ok(())).await.is_ok());
        let status = pool.status("test");
        assert_eq!(
            (
                status.max_size,
                status.size,
                status.in_use(),
                status.available
            ),
            (1, 1, 0, 1)
        );
    }
}
