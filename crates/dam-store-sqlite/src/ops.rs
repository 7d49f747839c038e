//! The store's operations, each a synchronous function over one connection (run on a blocking
//! thread by the pool). Every write is one `BEGIN IMMEDIATE` transaction: it holds the
//! database's write lock from its first read, so no other writer — in this process or another —
//! can come between a check and the change it guards.

use std::collections::HashMap;

use dam_core::query::ListQuery;
use dam_core::{
    FileType, Fixture, Image, ImageId, ImagePage, ImageStatus, KeyDigest, Reference, StoreError,
    TenantId, Timestamp, ValueError,
};
use rusqlite::{params, params_from_iter, Connection, OptionalExtension, Row, TransactionBehavior};

use crate::error::{AdapterError, OpError};
use crate::schema;
use crate::sql::{ListStatements, IMAGE_COLUMNS, TENANT_SCOPE};

fn invalid(column: &'static str) -> impl FnOnce(ValueError) -> AdapterError {
    move |source| AdapterError::InvalidRow { column, source }
}

/// An image from a row of [`IMAGE_COLUMNS`], without its tags. A value that breaks the
/// domain's rules is an error (the file was altered outside the adapter), never a panic.
fn read_image(row: &Row<'_>) -> Result<Image, AdapterError> {
    let id = ImageId::new(row.get(0)?).map_err(invalid("id"))?;
    let reference = Reference::new(row.get::<_, String>(1)?).map_err(invalid("reference"))?;
    let file_type = FileType::new(row.get::<_, String>(2)?).map_err(invalid("file_type"))?;
    let status = ImageStatus::from_code(&row.get::<_, String>(3)?).map_err(invalid("status"))?;
    let created_on = Timestamp::from_unix_seconds(row.get(5)?).map_err(invalid("created_on"))?;
    let modified_on = Timestamp::from_unix_seconds(row.get(6)?).map_err(invalid("modified_on"))?;
    Ok(Image {
        id,
        reference,
        file_type,
        status,
        num_links: row.get(4)?,
        created_on,
        modified_on,
        tags: Vec::new(),
        original_url: row.get(7)?,
        thumbnail_url: row.get(8)?,
        thumbnail_medium_url: row.get(9)?,
        thumbnail_preview_url: row.get(10)?,
        width: row.get(11)?,
        height: row.get(12)?,
        size_in_bytes: row.get(13)?,
    })
}

/// Fills in the tags of `images` with one statement, in their stored order.
fn attach_tags(conn: &Connection, images: &mut [Image]) -> Result<(), AdapterError> {
    if images.is_empty() {
        return Ok(());
    }
    // The ids travel as one JSON array of integers, so one cached statement serves every page.
    let ids: Vec<String> = images.iter().map(|im| im.id.get().to_string()).collect();
    let ids = format!("[{}]", ids.join(","));
    let mut stmt = conn.prepare_cached(
        "SELECT image_id, tag FROM image_tags \
         WHERE image_id IN (SELECT value FROM json_each(?)) ORDER BY image_id, position",
    )?;
    let mut tags: HashMap<i64, Vec<String>> = HashMap::new();
    let mut rows = stmt.query([ids])?;
    while let Some(row) = rows.next()? {
        tags.entry(row.get(0)?).or_default().push(row.get(1)?);
    }
    for image in images {
        if let Some(list) = tags.remove(&image.id.get()) {
            image.tags = list;
        }
    }
    Ok(())
}

/// Runs a page or lookup statement and reads its images, tags included.
fn query_images(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> Result<Vec<Image>, AdapterError> {
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query(params)?;
    let mut images = Vec::new();
    while let Some(row) = rows.next()? {
        images.push(read_image(row)?);
    }
    attach_tags(conn, &mut images)?;
    Ok(images)
}

/// One page of a list, and the count when asked, from one snapshot of the database.
pub(crate) fn list(
    conn: &mut Connection,
    statements: &ListStatements,
    query: &ListQuery,
) -> Result<ImagePage, OpError> {
    let tx = conn.transaction()?;
    let page = &statements.page;
    let rows = query_images(&tx, &page.text, params_from_iter(page.params.iter()))?;
    let (items, has_more) = query.split_page(rows);
    let total = match &statements.count {
        None => None,
        Some(count) => {
            let mut stmt = tx.prepare_cached(&count.text)?;
            let n: i64 = stmt.query_row(params_from_iter(count.params.iter()), |r| r.get(0))?;
            Some(u64::try_from(n).unwrap_or(0))
        }
    };
    tx.finish()?;
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

/// Writes an image (and its tags) under `id`.
fn write_image(
    conn: &Connection,
    tenant_id: i64,
    id: i64,
    image: &Image,
) -> Result<(), AdapterError> {
    conn.prepare_cached(
        "INSERT INTO images (id, tenant_id, reference, file_type, status, num_links, created_on, \
         modified_on, original_url, thumbnail_url, thumbnail_medium_url, thumbnail_preview_url, \
         width, height, size_in_bytes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
