//! Helpers shared by this crate's integration tests.
#![allow(dead_code)]

use dam_core::{FileType, Fixture, Image, ImageId, ImageStatus, Reference, TenantId, Timestamp};
use dam_store_tests::data;

/// 2024-01-01T00:00:00Z.
pub const T0: i64 = 1_704_067_200;

pub fn tenant(name: &str) -> TenantId {
    data::tenant_id(name)
}

pub fn image(id: i64, reference: &str) -> Image {
    Image::new(
        ImageId::new(id).unwrap(),
        Reference::new(reference).unwrap(),
        FileType::new("jpg").unwrap(),
        ImageStatus::Ready,
        Timestamp::from_unix_seconds(T0).unwrap(),
    )
}

/// A fixture of (name, clear-text keys, images) tenants, built by the kit.
pub fn fixture(tenants: Vec<(&str, Vec<&str>, Vec<Image>)>) -> Fixture {
    let tenants = tenants.into_iter();
    data::fixture(tenants.map(|(name, keys, images)| data::tenant(name, &keys, images)))
}

/// Images whose strings exercise what SQL gets wrong: LIKE wildcards, quotes, backslashes,
/// case, non-ASCII, and null URL fields.
pub fn tricky_images() -> Vec<Image> {
    let references = [
        "100%_real.jpg",
        "100x_real.jpg",
        "100%xreal.jpg",
        "it's.png",
        "back\\slash.gif",
        "Logo.PNG",
        "logo.png",
        "LOGO.png",
        "café.jpg",
        "cafe.jpg",
        "CAFÉ.JPG",
        "日本語.webp",
        "emoji-😀.svg",
        "zeta.tif",
        "Zeta.tif",
        "a",
        "ab",
        "a b",
        "_",
        "%",
    ];
    let types = ["jpg", "png", "gif", "webp", "tif", "svg", "jpeg", "é"];
    let statuses = ImageStatus::ALL;
    let tag_sets: [&[&str]; 6] = [
        &[],
        &["red"],
        &["red", "red"],
        &["red", "Red"],
        &["blue", "100%", "_x"],
        &["it's", "café"],
    ];
    references
        .iter()
        .enumerate()
        .map(|(i, reference)| {
            let n = i as i64;
            let mut im = image(n * 3 + 1, reference);
            im.file_type = FileType::new(types[i % types.len()]).unwrap();
            im.status = statuses[i % statuses.len()];
            im.num_links = (n * 7) % 5;
            im.created_on = Timestamp::from_unix_seconds(T0 + (n % 4)).unwrap();
            im.modified_on = Timestamp::from_unix_seconds(T0 + (n % 4) + (n % 3)).unwrap();
            im.tags = tag_sets[i % tag_sets.len()]
                .iter()
                .map(|t| t.to_string())
                .collect();
            let url =
                |k: usize| (i % k != 0).then(|| format!("https://cdn.example/{}/{reference}", k));
            im.original_url = url(2);
            im.thumbnail_url = url(3);
            im.thumbnail_medium_url = if i % 5 == 0 {
                Some(reference.to_string())
            } else {
                None
            };
            // An empty URL is not a null one: string functions on it must stay two-valued.
            im.thumbnail_preview_url = if i % 4 == 1 {
                Some(String::new())
            } else {
                im.original_url.clone()
            };
            im.width = (n * 13) % 7;
            im.height = (n * 11) % 7;
            im.size_in_bytes = n * 1000;
            im
        })
        .collect()
}
