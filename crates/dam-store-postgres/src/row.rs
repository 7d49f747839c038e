//! Rows to domain values. A row that breaks a domain rule is corrupt data: a backend error,
//! never a panic.

use dam_core::{FileType, Image, ImageId, ImageStatus, Reference, Timestamp};
use tokio_postgres::Row;

use crate::error::RowError;

/// The columns of an image, in the order [`image_from_row`] reads them.
pub(crate) const IMAGE_COLUMNS: &str = "id, reference, file_type, status, num_links, \
     created_on, modified_on, tags, original_url, thumbnail_url, thumbnail_medium_url, \
     thumbnail_preview_url, width, height, size_in_bytes";

/// The image of a row selected with [`IMAGE_COLUMNS`].
pub(crate) fn image_from_row(row: &Row) -> Result<Image, RowError> {
    let id: i64 = row.try_get(0)?;
    let corrupt = |reason: String| RowError::Corrupt { id, reason };
    let image = Image {
        id: ImageId::new(id).map_err(|e| corrupt(e.to_string()))?,
        reference: Reference::new(row.try_get::<_, String>(1)?)
            .map_err(|e| corrupt(e.to_string()))?,
        file_type: FileType::new(row.try_get::<_, String>(2)?)
            .map_err(|e| corrupt(e.to_string()))?,
        status: ImageStatus::from_code(row.try_get::<_, &str>(3)?)
            .map_err(|e| corrupt(e.to_string()))?,
        num_links: row.try_get(4)?,
        created_on: Timestamp::from_unix_seconds(row.try_get(5)?)
            .map_err(|e| corrupt(e.to_string()))?,
        modified_on: Timestamp::from_unix_seconds(row.try_get(6)?)
            .map_err(|e| corrupt(e.to_string()))?,
        tags: row.try_get(7)?,
        original_url: row.try_get(8)?,
        thumbnail_url: row.try_get(9)?,
        thumbnail_medium_url: row.try_get(10)?,
        thumbnail_preview_url: row.try_get(11)?,
        width: row.try_get(12)?,
        height: row.try_get(13)?,
        size_in_bytes: row.try_get(14)?,
    };
    image.validate().map_err(|e| corrupt(e.to_string()))?;
    Ok(image)
}
