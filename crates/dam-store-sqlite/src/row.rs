//! Rows to domain values. A stored value that breaks a domain rule is corrupt data (the file
//! was altered outside the adapter): a backend error, never a panic.

use dam_core::{FileType, Image, ImageId, ImageStatus, Reference, Timestamp, ValueError};
use rusqlite::{Connection, Row};

use crate::error::AdapterError;

pub(crate) fn invalid(column: &'static str) -> impl FnOnce(ValueError) -> AdapterError {
    move |source| AdapterError::InvalidRow { column, source }
}

/// An image from a row of [`crate::sql::IMAGE_COLUMNS`]. A value that breaks the
/// domain's rules is an error (the file was altered outside the adapter), never a panic.
pub(crate) fn read_image(row: &Row<'_>) -> Result<Image, AdapterError> {
    let id = ImageId::new(row.get(0)?).map_err(invalid("id"))?;
    let reference = Reference::new(row.get::<_, String>(1)?).map_err(invalid("reference"))?;
    let file_type = FileType::new(row.get::<_, String>(2)?).map_err(invalid("file_type"))?;
    let status = match row.get_ref(3)?.as_str() {
        Ok(code) => ImageStatus::from_code(code).map_err(invalid("status"))?,
        Err(_) => return Err(AdapterError::InvalidColumn { column: "status" }),
    };
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
        tags: read_tags(row, 14)?,
        original_url: row.get(7)?,
        thumbnail_url: row.get(8)?,
        thumbnail_medium_url: row.get(9)?,
        thumbnail_preview_url: row.get(10)?,
        width: row.get(11)?,
        height: row.get(12)?,
        size_in_bytes: row.get(13)?,
    })
}

/// The tags of an image from the `tags` column: NULL when it has none, else a JSON array of
/// strings. Anything else is corrupt data: an error, never a panic.
fn read_tags(row: &Row<'_>, index: usize) -> Result<Vec<String>, AdapterError> {
    let invalid = || AdapterError::InvalidColumn { column: "tags" };
    match row.get_ref(index)?.as_str_or_null() {
        Ok(None) => Ok(Vec::new()),
        Ok(Some(json)) => serde_json::from_str(json).map_err(|_| invalid()),
        Err(_) => Err(invalid()),
    }
}

/// The `tags` column of an image: NULL when it has none, else its tags as a JSON array.
pub(crate) fn tags_column(tags: &[String]) -> Option<String> {
    if tags.is_empty() {
        None
    } else {
        // Serializing strings cannot fail.
        serde_json::to_string(tags).ok()
    }
}

/// Runs a page or lookup statement (of [`crate::sql::IMAGE_COLUMNS`]) and reads its images.
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
    Ok(images)
}
