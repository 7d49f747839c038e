//! Rows to domain values. A stored value that breaks a domain rule is corrupt data (the file
//! was altered outside the adapter): a backend error, never a panic.

use std::collections::HashMap;

use dam_core::{FileType, Image, ImageId, ImageStatus, Reference, Timestamp, ValueError};
use rusqlite::{Connection, Row};

use crate::error::AdapterError;

pub(crate) fn invalid(column: &'static str) -> impl FnOnce(ValueError) -> AdapterError {
    move |source| AdapterError::InvalidRow { column, source }
}

/// An image from a row of [`crate::sql::IMAGE_COLUMNS`], without its tags. A value that breaks the
/// domain's rules is an error (the file was altered outside the adapter), never a panic.
pub(crate) fn read_image(row: &Row<'_>) -> Result<Image, AdapterError> {
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
pub(crate) fn attach_tags(conn: &Connection, images: &mut [Image]) -> Result<(), AdapterError> {
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
pub(crate) fn query_images(
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
