//! [`SqliteStore`]: the storage traits over a small pool of connections. Each operation is a
//! synchronous function over one connection, run on a blocking thread by the pool. Every write
//! is one `BEGIN IMMEDIATE` transaction: it holds the database's write lock from its first
//! read, so no other writer — in this process or another — can come between a check and the
//! change it guards.

mod key_cache;
mod page_cache;
mod pool;

use std::fmt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use dam_core::store::{
    ImagePage, ImageStore, KeyStore, ListQuery, PoolStatus, SeedStore, StoreError,
};
use dam_core::{Fixture, Image, ImageId, ImageStatus, KeyDigest, Reference, TenantId, Timestamp};
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, TransactionBehavior};

use crate::config::SqliteOptions;
use crate::error::{AdapterError, OpError};
use crate::row::{invalid, query_images, tags_column};
use crate::schema;
use crate::sql::{self, ListStatements, IMAGE_COLUMNS, TENANT_SCOPE};
use key_cache::KeyCache;
#[cfg(feature = "metrics")]
pub use page_cache::describe_metrics;
use page_cache::page_key;
pub use page_cache::LIST_CACHE_LOOKUPS;
use pool::{Pool, Slot, Source};

/// The SQLite store. Cheap to share as `Arc<SqliteStore>`; every method is tenant-scoped.
pub struct SqliteStore {
    writer: Arc<Pool>,
    readers: Arc<Pool>,
    /// Inserts and deletes so far, to refresh the planner's statistics now and then.
    writes: AtomicU64,
    /// Key digests and their owners, found lately.
    keys: KeyCache,
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
    /// migrates its schema to [`crate::SCHEMA_VERSION`]. This blocks briefly on the disk; call it at
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
        let writer = Pool::new(writer_source, 1, &options, Some(conn), 0);
        let reader_source = Source::File {
            path,
            read_only: true,
        };
        // Readers never write, so each may keep the pages it read (see `page_cache`).
        let readers = Pool::new(
            reader_source,
            options.readers,
            &options,
            None,
            options.list_cache_pages,
        );
        Ok(SqliteStore {
            writer: Arc::new(writer),
            readers: Arc::new(readers),
            writes: AtomicU64::new(0),
            keys: KeyCache::new(options.key_cache_ttl),
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
        // The one connection writes too, and its own writes do not move its data version:
        // it keeps no pages.
        let pool = Arc::new(Pool::new(Source::Memory, 1, &options, Some(conn), 0));
        Ok(SqliteStore {
            writer: Arc::clone(&pool),
            readers: pool,
            writes: AtomicU64::new(0),
            keys: KeyCache::new(options.key_cache_ttl),
        })
    }

    /// Pages of lists served from the reader connections' caches, and pages read past them,
    /// since the store opened (over the connections idle now).
    pub fn list_cache_counts(&self) -> (u64, u64) {
        self.readers.cache_counts()
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
            .run_slot(move |slot| list(slot, &statements, &query))
            .await?)
    }

    async fn get(&self, tenant: &TenantId, id: ImageId) -> Result<Option<Image>, StoreError> {
        let tenant = tenant.as_str().to_string();
        Ok(self
            .readers
            .run(move |conn| get(conn, &tenant, id.get()))
            .await?)
    }

    async fn insert(&self, tenant: &TenantId, image: Image) -> Result<Image, StoreError> {
        let tenant = tenant.as_str().to_string();
        let refresh = self.count_write();
        Ok(self
            .writer
            .run(move |conn| {
                let inserted = insert(conn, &tenant, image);
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
            .run(move |conn| set_status(conn, &tenant, id.get(), status, at))
            .await?)
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(self
            .readers
            .run(|conn| {
                conn.prepare_cached("SELECT 1")?.query_row([], |_| Ok(()))?;
                Ok(())
            })
            .await?)
    }

    async fn delete(&self, tenant: &TenantId, id: ImageId) -> Result<(), StoreError> {
        let tenant = tenant.as_str().to_string();
        let refresh = self.count_write();
        Ok(self
            .writer
            .run(move |conn| {
                let deleted = delete(conn, &tenant, id.get());
                if refresh {
                    schema::optimize(conn);
                }
                deleted
            })
            .await?)
    }

    /// `writer` (one connection) and `readers`; an in-memory database has one pool, `shared`.
    fn pools(&self) -> Vec<PoolStatus> {
        if Arc::ptr_eq(&self.writer, &self.readers) {
            vec![self.writer.status("shared")]
        } else {
            vec![self.writer.status("writer"), self.readers.status("readers")]
        }
    }
}

#[async_trait]
impl SeedStore for SqliteStore {
    async fn load_fixture(&self, fixture: &Fixture) -> Result<(), StoreError> {
        let fixture = fixture.clone();
        let loaded = self
            .writer
            .run(move |conn| load_fixture(conn, &fixture))
            .await;
        self.keys.clear();
        Ok(loaded?)
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.readers.run(is_empty).await?)
    }
}

#[async_trait]
impl KeyStore for SqliteStore {
    async fn tenant_for_key(&self, digest: &KeyDigest) -> Result<Option<TenantId>, StoreError> {
        if let Some(tenant) = self.keys.get(digest) {
            return Ok(Some(tenant));
        }
        let digest = *digest;
        let owner = self
            .readers
            .run(move |conn| tenant_for_key(conn, &digest))
            .await?;
        if let Some(tenant) = &owner {
            self.keys.put(digest, tenant.clone());
        }
        Ok(owner)
    }
}

// ----- the operations, each over one connection -----

/// One page of a list, and the count when asked, from one snapshot of the database: the
/// page the connection kept, when the database has not changed since it read it.
pub(crate) fn list(
    slot: &mut Slot,
    statements: &ListStatements,
    query: &ListQuery,
) -> Result<ImagePage, OpError> {
    let tx = slot.conn.transaction()?;
    let mut keep = None;
    if slot.pages.is_enabled() {
        // The first statement of the transaction: it takes the snapshot the page is read from.
        let version: i64 = tx
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |row| row.get(0))?;
        let key = page_key(statements);
        if let Some(page) = slot.pages.get(version, &key) {
            tx.finish()?;
            return Ok(page);
        }
        keep = Some((version, key));
    }
    let page = read_page(&tx, statements, query)?;
    tx.finish()?;
    if let Some((version, key)) = keep {
        slot.pages.put(version, key, &page);
    }
    Ok(page)
}

/// The page and the count of a list, in the transaction `tx`.
fn read_page(
    tx: &Connection,
    statements: &ListStatements,
    query: &ListQuery,
) -> Result<ImagePage, OpError> {
    let page = &statements.page;
    let rows = query_images(tx, &page.text, params_from_iter(page.params.iter()))?;
    let fetched = rows.len();
    let (items, has_more) = query.split_page(rows);
    let total = match (&statements.count, query.total_from_fetched(fetched)) {
        (None, _) => None,
        // The last page (or the only one) tells the count: no second pass over the matches.
        (Some(_), Some(total)) => Some(total),
        (Some(count), None) => {
            let mut stmt = tx.prepare_cached(&count.text)?;
            let n: i64 = stmt.query_row(params_from_iter(count.params.iter()), |r| r.get(0))?;
            Some(u64::try_from(n).unwrap_or(0))
        }
    };
    Ok(ImagePage {
        items,
        total,
        has_more,
    })
}

fn select_one(conn: &Connection, tenant: &str, id: i64) -> Result<Option<Image>, AdapterError> {
    let sql = format!("SELECT {IMAGE_COLUMNS} FROM images WHERE {TENANT_SCOPE} AND images.id = ?");
    Ok(query_images(conn, &sql, params![tenant, id])?.pop())
}

/// One image of the tenant.
pub(crate) fn get(conn: &mut Connection, tenant: &str, id: i64) -> Result<Option<Image>, OpError> {
    Ok(select_one(conn, tenant, id)?)
}

/// The row id of a tenant, created when missing.
fn ensure_tenant(conn: &Connection, tenant: &str) -> Result<i64, AdapterError> {
    conn.prepare_cached("INSERT OR IGNORE INTO tenants (name) VALUES (?)")?
        .execute([tenant])?;
    let id = conn
        .prepare_cached("SELECT id FROM tenants WHERE name = ?")?
        .query_row([tenant], |row| row.get(0))?;
    Ok(id)
}

fn has_reference(conn: &Connection, tenant_id: i64, reference: &str) -> Result<bool, AdapterError> {
    let found = conn
        .prepare_cached("SELECT 1 FROM images WHERE tenant_id = ? AND reference = ?")?
        .query_row(params![tenant_id, reference], |_| Ok(()))
        .optional()?;
    Ok(found.is_some())
}

fn reference_conflict(tenant: &str, reference: &Reference) -> StoreError {
    StoreError::Conflict(format!(
        "tenant '{tenant}' already has reference '{}'",
        reference.as_str()
    ))
}

/// Writes an image under `id`, its tags both in its `tags` column (read with it) and in
/// `image_tags` (which filters search).
fn write_image(
    conn: &Connection,
    tenant_id: i64,
    id: i64,
    image: &Image,
) -> Result<(), AdapterError> {
    conn.prepare_cached(
        "INSERT INTO images (id, tenant_id, reference, file_type, status, num_links, created_on, \
         modified_on, original_url, thumbnail_url, thumbnail_medium_url, thumbnail_preview_url, \
         width, height, size_in_bytes, tags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        id,
        tenant_id,
        image.reference.as_str(),
        image.file_type.as_str(),
        image.status.code(),
        image.num_links,
        image.created_on.unix_seconds(),
        image.modified_on.unix_seconds(),
        image.original_url,
        image.thumbnail_url,
        image.thumbnail_medium_url,
        image.thumbnail_preview_url,
        image.width,
        image.height,
        image.size_in_bytes,
        tags_column(&image.tags),
    ])?;
    let mut stmt =
        conn.prepare_cached("INSERT INTO image_tags (image_id, position, tag) VALUES (?, ?, ?)")?;
    for (position, tag) in (0_i64..).zip(&image.tags) {
        stmt.execute(params![id, position, tag])?;
    }
    Ok(())
}

/// The largest id the store has ever held: the recorded maximum, or a larger id present in
/// `images` should the record ever lag behind.
fn max_ever(conn: &Connection) -> Result<i64, AdapterError> {
    let max = conn
        .prepare_cached(
            "SELECT max((SELECT value FROM meta WHERE key = 'max_image_id'), \
             coalesce((SELECT max(id) FROM images), 0))",
        )?
        .query_row([], |row| row.get(0))?;
    Ok(max)
}

fn record_max(conn: &Connection, id: i64) -> Result<(), AdapterError> {
    conn.prepare_cached("UPDATE meta SET value = max(value, ?) WHERE key = 'max_image_id'")?
        .execute([id])?;
    Ok(())
}

/// Adds an image with the next id (greater than every id ever held).
pub(crate) fn insert(
    conn: &mut Connection,
    tenant: &str,
    mut image: Image,
) -> Result<Image, OpError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let tenant_id = ensure_tenant(&tx, tenant)?;
    if has_reference(&tx, tenant_id, image.reference.as_str())? {
        return Err(reference_conflict(tenant, &image.reference).into());
    }
    let next = max_ever(&tx)?
        .checked_add(1)
        .ok_or(AdapterError::IdsExhausted)?;
    image.id = ImageId::new(next).map_err(invalid("id"))?;
    write_image(&tx, tenant_id, next, &image)?;
    record_max(&tx, next)?;
    tx.commit()?;
    Ok(image)
}

/// Sets the status and `modifiedOn` (never before `createdOn`), in one write transaction.
pub(crate) fn set_status(
    conn: &mut Connection,
    tenant: &str,
    id: i64,
    status: ImageStatus,
    at: Timestamp,
) -> Result<Image, OpError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let sql = format!(
        "UPDATE images SET status = ?, modified_on = max(?, created_on) \
         WHERE {TENANT_SCOPE} AND images.id = ?"
    );
    let changed =
        tx.prepare_cached(&sql)?
            .execute(params![status.code(), at.unix_seconds(), tenant, id])?;
    if changed == 0 {
        return Err(StoreError::NotFound.into());
    }
    let image = select_one(&tx, tenant, id)?.ok_or(StoreError::NotFound)?;
    tx.commit()?;
    Ok(image)
}

/// Deletes an image unless it is being processed; the check and the delete share one write
/// transaction.
pub(crate) fn delete(conn: &mut Connection, tenant: &str, id: i64) -> Result<(), OpError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let sql = format!("SELECT images.status FROM images WHERE {TENANT_SCOPE} AND images.id = ?");
    let status: Option<String> = tx
        .prepare_cached(&sql)?
        .query_row(params![tenant, id], |row| row.get(0))
        .optional()?;
    let Some(code) = status else {
        return Err(StoreError::NotFound.into());
    };
    let status = ImageStatus::from_code(&code).map_err(invalid("status"))?;
    if status.is_processing() {
        return Err(StoreError::BeingProcessed.into());
    }
    // Tags go with the image (ON DELETE CASCADE); the id stays recorded as held.
    record_max(&tx, id)?;
    tx.prepare_cached("DELETE FROM images WHERE id = ?")?
        .execute([id])?;
    tx.commit()?;
    Ok(())
}

/// Loads a fixture in one transaction: any clash rolls everything back.
pub(crate) fn load_fixture(conn: &mut Connection, fixture: &Fixture) -> Result<(), OpError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut max_id = 0;
    for data in &fixture.tenants {
        let tenant = data.tenant.as_str();
        let tenant_id = ensure_tenant(&tx, tenant)?;
        for (i, digest) in data.keys.iter().enumerate() {
            if let Some(owner) = key_owner(&tx, digest)? {
                // Names the key by its position: never the key, never its digest.
                return Err(StoreError::Conflict(format!(
                    "API key #{} of tenant '{tenant}' is already held by tenant '{owner}'",
                    i + 1
                ))
                .into());
            }
            tx.prepare_cached("INSERT INTO api_keys (digest, tenant_id) VALUES (?, ?)")?
                .execute(params![digest.as_bytes().as_slice(), tenant_id])?;
        }
        for image in &data.images {
            let id = image.id.get();
            let held = tx
                .prepare_cached("SELECT 1 FROM images WHERE id = ?")?
                .query_row([id], |_| Ok(()))
                .optional()?;
            if held.is_some() {
                return Err(StoreError::Conflict(format!("image id {id} is already held")).into());
            }
            if has_reference(&tx, tenant_id, image.reference.as_str())? {
                return Err(reference_conflict(tenant, &image.reference).into());
            }
            write_image(&tx, tenant_id, id, image)?;
            max_id = max_id.max(id);
        }
    }
    record_max(&tx, max_id)?;
    tx.commit()?;
    // A bulk load changes the table's size the most: gather statistics for the planner now.
    schema::optimize(conn);
    Ok(())
}

fn key_owner(conn: &Connection, digest: &KeyDigest) -> Result<Option<String>, AdapterError> {
    let owner = conn
        .prepare_cached(
            "SELECT tenants.name FROM api_keys JOIN tenants ON tenants.id = api_keys.tenant_id \
             WHERE api_keys.digest = ?",
        )?
        .query_row([digest.as_bytes().as_slice()], |row| row.get(0))
        .optional()?;
    Ok(owner)
}

/// Whether no image is stored.
pub(crate) fn is_empty(conn: &mut Connection) -> Result<bool, OpError> {
    let any: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM images)")?
        .query_row([], |row| row.get(0))?;
    Ok(!any)
}

/// The tenant owning a key digest.
pub(crate) fn tenant_for_key(
    conn: &mut Connection,
    digest: &KeyDigest,
) -> Result<Option<TenantId>, OpError> {
    match key_owner(conn, digest)? {
        None => Ok(None),
        Some(name) => Ok(Some(TenantId::new(name).map_err(invalid("tenants.name"))?)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dam_core::query::parse_query_string;
    use dam_core::{FileType, TenantData};
    use rusqlite::StatementStatus;

    /// A list statement, once cached, runs again without being compiled again — even with
    /// statistics, where SQLite would otherwise re-prepare a statement whose plan looked at a
    /// bound value (every page's `LIMIT ?`) each time it is bound anew.
    #[test]
    fn a_cached_list_statement_is_not_compiled_again_when_bound_anew() {
        let dir = tempfile::tempdir().unwrap();
        let options = SqliteOptions::default();
        let source = Source::File {
            path: dir.path().join("dam.sqlite3"),
            read_only: false,
        };
        let mut conn = Pool::open(&source, options.busy_timeout).unwrap();
        schema::enable_wal(&conn).unwrap();
        schema::migrate(&mut conn).unwrap();
        // No page cache: each list runs its statements.
        let mut slot = Slot {
            conn,
            pages: page_cache::PageCache::new(0),
        };
        let tenant = TenantId::new("t").unwrap();
        let images = (1..=300)
            .map(|n| {
                let mut image = Image::new(
                    ImageId::new(n).unwrap(),
                    Reference::new(format!("img-{n}.jpg")).unwrap(),
                    FileType::new(if n % 3 == 0 { "png" } else { "jpg" }).unwrap(),
                    ImageStatus::ALL[usize::try_from(n).unwrap() % 5],
                    Timestamp::from_unix_seconds(1_700_000_000 + n).unwrap(),
                );
                image.num_links = n % 7;
                image
            })
            .collect();
        let fixture = Fixture {
            tenants: vec![TenantData {
                tenant: tenant.clone(),
                keys: Vec::new(),
                images,
            }],
        };
        // The load gathers the statistics (`sqlite_stat1`, `sqlite_stat4`) the planner uses.
        load_fixture(&mut slot.conn, &fixture).unwrap();
        for text in [
            "$top=10",
            "$filter=status%20eq%20'Ok'%20and%20numLinks%20ge%203&$top=7",
            "$filter=fileType%20eq%20'png'&$orderby=createdOn%20desc&$top=5&$skip=2&$count=true",
        ] {
            let query = parse_query_string(Some(text)).unwrap().page_query();
            let statements = sql::list_statements(tenant.as_str(), &query);
            for _ in 0..3 {
                list(&mut slot, &statements, &query).unwrap();
            }
            let page = slot.conn.prepare_cached(&statements.page.text).unwrap();
            assert_eq!(page.get_status(StatementStatus::RePrepare), 0, "{text}");
        }
    }
}
