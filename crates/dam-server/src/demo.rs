//! The `--demo` data set: one tenant, API key [`DEMO_API_KEY`], [`DEMO_IMAGES`] images with
//! varied types, statuses, links, dates, tags and sizes, so every query option has something
//! to show. Built in code, the same on every run.

use dam_core::{Fixture, FixtureError, Timestamp};
use serde_json::{json, Value};

/// The demo tenant's API key.
pub const DEMO_API_KEY: &str = "demo-key";
/// The demo tenant's name.
pub const DEMO_TENANT: &str = "demo";
/// How many images the demo tenant has (ids 1 to this).
pub const DEMO_IMAGES: usize = 50;

const PRODUCTS: [&str; 10] = [
    "chair", "lamp", "sofa", "table", "rug", "mirror", "vase", "shelf", "stool", "clock",
];
const VIEWS: [&str; 5] = ["main-front", "side", "back", "detail", "lifestyle"];
const FILE_TYPES: [&str; 6] = ["jpg", "png", "webp", "jpg", "gif", "tif"];
const COLOURS: [&str; 6] = ["red", "blue", "green", "black", "white", "oak"];
const ROOMS: [&str; 4] = ["living", "bedroom", "office", "kitchen"];
/// 2024-01-05T09:00:00 UTC.
const FIRST_CREATED: i64 = 1_704_445_200;

/// The demo fixture.
///
/// ```
/// let fixture = dam_server::demo::fixture().unwrap();
/// assert_eq!(fixture.tenants[0].images.len(), dam_server::demo::DEMO_IMAGES);
/// ```
pub fn fixture() -> Result<Fixture, FixtureError> {
    let images: Vec<Value> = (0..DEMO_IMAGES).map(image).collect();
    let document = json!({
        "tenants": [ { "name": DEMO_TENANT, "apiKeys": [DEMO_API_KEY], "images": images } ]
    });
    Fixture::from_json(&document.to_string())
}

/// The `i`-th demo image (0-based), as fixture JSON.
fn image(i: usize) -> Value {
    let product = PRODUCTS[i % PRODUCTS.len()];
    let view = VIEWS[(i / PRODUCTS.len()) % VIEWS.len()];
    let file_type = FILE_TYPES[(i * 7 + i / 3) % FILE_TYPES.len()];
    let reference = format!("{product}-{view}.{file_type}");
    // Mostly ready, with a few of every other state (Up and Re are locked against deletion).
    let status = match i % 10 {
        3 => "Vd",
        5 => "Up",
        7 if i % 20 == 7 => "Re",
        7 => "Er",
        _ => "Ok",
    };
    let step = i64::try_from(i).unwrap_or(0);
    let created = FIRST_CREATED + step * 311_027 + (step * step % 17) * 3_607;
    let modified = created + (step % 4) * 86_400 + (step % 3) * 1_234;
    let mut tags = vec![COLOURS[(i * 5) % COLOURS.len()].to_string()];
    if i % 3 != 0 {
        tags.push(ROOMS[i % ROOMS.len()].to_string());
    }
    if i % 7 == 0 {
        tags.push("featured".to_string());
    }
    if i % 11 == 4 {
        tags.clear();
    }
    let base = format!("https://cdn.example.com/demo/{reference}");
    let processed = status == "Ok" || status == "Re";
    let (width, height) = if processed {
        (800 + (step % 9) * 200, 600 + (step % 5) * 150)
    } else {
        (0, 0)
    };
    let rendition = |size: &str| processed.then(|| format!("{base}?size={size}"));
    json!({
        "id": i + 1,
        "reference": reference,
        "fileType": file_type,
        "status": status,
        "numLinks": (step * 13) % 17,
        "createdOn": rendered(created),
        "modifiedOn": rendered(modified),
        "tags": tags,
        "originalUrl": (status != "Vd").then_some(base.clone()),
        "thumbnailUrl": rendition("small"),
        "thumbnailMediumUrl": rendition("medium"),
        "thumbnailPreviewUrl": rendition("preview"),
        "width": width,
        "height": height,
        "sizeInBytes": if status == "Vd" { 0 } else { 40_000 + step * step * 1_931 },
    })
}

/// A Unix time in the API's timestamp format (the demo's dates are all valid).
fn rendered(seconds: i64) -> Value {
    match Timestamp::from_unix_seconds(seconds) {
        Ok(t) => serde_json::to_value(t).unwrap_or(Value::Null),
        Err(_) => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dam_core::ImageStatus;
    use std::collections::HashSet;

    #[test]
    fn the_demo_is_valid_deterministic_and_varied() {
        let a = fixture().unwrap();
        assert_eq!(a, fixture().unwrap());
        let images = &a.tenants[0].images;
        assert_eq!(images.len(), DEMO_IMAGES);
        let statuses: HashSet<_> = images.iter().map(|im| im.status).collect();
        assert_eq!(statuses.len(), ImageStatus::ALL.len());
        let types: HashSet<_> = images.iter().map(|im| im.file_type.as_str()).collect();
        assert!(types.len() >= 4);
        assert!(images.iter().any(|im| im.tags.is_empty()));
        assert!(images.iter().any(|im| im.original_url.is_none()));
        let references: HashSet<_> = images.iter().map(|im| im.reference.as_str()).collect();
        assert_eq!(references.len(), DEMO_IMAGES);
    }
}
