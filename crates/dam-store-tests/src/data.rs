//! Test-data builders: images, tenants, fixtures and the kit's standard fixture.
//!
//! Adapter authors may reuse these in their own tests. Every builder takes plain values and
//! panics on an invalid one (these are test helpers: a bad literal is a bug in the test).
//!
//! ```
//! use dam_core::ImageStatus;
//! use dam_store_tests::data::{image, tenant, fixture};
//!
//! let f = fixture([tenant("acme", &["acme-key"], [
//!     image(1, "a.jpg").status(ImageStatus::Updating).tags(&["red"]).build(),
//!     image(2, "b.png").file_type("png").num_links(3).build(),
//! ])]);
//! assert_eq!(f.tenants[0].images.len(), 2);
//! ```

use dam_core::query::Instant;
use dam_core::{
    FileType, Fixture, Image, ImageId, ImageStatus, KeyDigest, Reference, TenantData, TenantId,
    Timestamp,
};

/// A tenant id from a literal name.
///
/// # Panics
/// When the name is not a valid tenant name.
pub fn tenant_id(name: &str) -> TenantId {
    TenantId::new(name).unwrap_or_else(|e| panic!("bad tenant name {name:?}: {e}"))
}

/// An image id from a literal.
///
/// # Panics
/// When `id < 1`.
pub fn id(id: i64) -> ImageId {
    ImageId::new(id).unwrap_or_else(|e| panic!("bad image id {id}: {e}"))
}

/// A timestamp from `YYYY-MM-DDTHH:MM:SS`.
///
/// # Panics
/// When the text is not a valid timestamp.
pub fn ts(text: &str) -> Timestamp {
    Timestamp::parse(text).unwrap_or_else(|e| panic!("bad timestamp {text:?}: {e}"))
}

/// The exact instant of a timestamp plus `nanos` nanoseconds (a filter literal with a
/// fraction).
///
/// # Panics
/// When the text is not a valid timestamp.
pub fn instant(text: &str, nanos: u32) -> Instant {
    Instant {
        seconds: ts(text).unix_seconds(),
        nanos,
    }
}

/// Builds one [`Image`]; start with [`image`].
#[derive(Debug, Clone)]
pub struct ImageBuilder {
    image: Image,
}

/// A builder for an image with the given id and reference and the defaults of contract §7:
/// file type `jpg`, status `Ok`, created and modified `2024-01-01T00:00:00`, no tags, null
/// URLs, zero numbers.
///
/// # Panics
/// When the id or the reference is invalid.
pub fn image(image_id: i64, reference: &str) -> ImageBuilder {
    let reference =
        Reference::new(reference).unwrap_or_else(|e| panic!("bad reference {reference:?}: {e}"));
    ImageBuilder {
        image: Image::new(
            id(image_id),
            reference,
            file_type("jpg"),
            ImageStatus::Ready,
            ts("2024-01-01T00:00:00"),
        ),
    }
}

fn file_type(text: &str) -> FileType {
    FileType::new(text).unwrap_or_else(|e| panic!("bad file type {text:?}: {e}"))
}

impl ImageBuilder {
    /// Sets `fileType`.
    ///
    /// # Panics
    /// When the file type is invalid.
    pub fn file_type(mut self, text: &str) -> Self {
        self.image.file_type = file_type(text);
        self
    }

    /// Sets `status`.
    pub fn status(mut self, status: ImageStatus) -> Self {
        self.image.status = status;
        self
    }

    /// Sets `numLinks`.
    pub fn num_links(mut self, n: i64) -> Self {
        self.image.num_links = n;
        self
    }

    /// Sets `createdOn` and `modifiedOn` to the same instant.
    pub fn created(mut self, text: &str) -> Self {
        self.image.created_on = ts(text);
        self.image.modified_on = ts(text);
        self
    }

    /// Sets `modifiedOn` (call after [`ImageBuilder::created`]).
    pub fn modified(mut self, text: &str) -> Self {
        self.image.modified_on = ts(text);
        self
    }

    /// Sets `tags`.
    pub fn tags(mut self, tags: &[&str]) -> Self {
        self.image.tags = tags.iter().map(|t| t.to_string()).collect();
        self
    }

    /// Sets `originalUrl`.
    pub fn original_url(mut self, url: Option<&str>) -> Self {
        self.image.original_url = url.map(str::to_string);
        self
    }

    /// Sets `thumbnailUrl`.
    pub fn thumbnail_url(mut self, url: Option<&str>) -> Self {
        self.image.thumbnail_url = url.map(str::to_string);
        self
    }

    /// Sets `thumbnailMediumUrl`.
    pub fn thumbnail_medium_url(mut self, url: Option<&str>) -> Self {
        self.image.thumbnail_medium_url = url.map(str::to_string);
        self
    }

    /// Sets `thumbnailPreviewUrl`.
    pub fn thumbnail_preview_url(mut self, url: Option<&str>) -> Self {
        self.image.thumbnail_preview_url = url.map(str::to_string);
        self
    }

    /// Sets `width` and `height`.
    pub fn size(mut self, width: i64, height: i64) -> Self {
        self.image.width = width;
        self.image.height = height;
        self
    }

    /// Sets `sizeInBytes`.
    pub fn bytes(mut self, n: i64) -> Self {
        self.image.size_in_bytes = n;
        self
    }

    /// The image.
    ///
    /// # Panics
    /// When the image breaks a rule of contract §1 (e.g. `modifiedOn` before `createdOn`).
    pub fn build(self) -> Image {
        if let Err(e) = self.image.validate() {
            panic!("invalid test image {}: {e}", self.image.id);
        }
        self.image
    }
}

/// One tenant of a fixture: its name, the clear-text keys (stored as digests) and its images.
pub fn tenant(name: &str, keys: &[&str], images: impl IntoIterator<Item = Image>) -> TenantData {
    TenantData {
        tenant: tenant_id(name),
        keys: keys.iter().map(|k| KeyDigest::of(k)).collect(),
        images: images.into_iter().collect(),
    }
}

/// A fixture of the given tenants.
pub fn fixture(tenants: impl IntoIterator<Item = TenantData>) -> Fixture {
    Fixture {
        tenants: tenants.into_iter().collect(),
    }
}

/// The tenant of the standard fixture whose images most checks list.
pub const ACME: &str = "acme";
/// A second tenant of the standard fixture, holding look-alike images (one shares a reference
/// with `acme`) so that a leak between tenants shows.
pub const GLOBEX: &str = "globex";
/// A tenant of the standard fixture with a key but no images.
pub const INITECH: &str = "initech";
/// A tenant no fixture names.
pub const NOBODY: &str = "nobody";
/// The keys of the standard fixture, by tenant.
pub const KEYS: [(&str, &str); 4] = [
    (ACME, "acme-key-1"),
    (ACME, "acme-key-2"),
    (GLOBEX, "globex-key"),
    (INITECH, "initech-key"),
];
/// The largest id of the standard fixture (a `globex` image).
pub const MAX_FIXTURE_ID: i64 = 1000;

/// The standard fixture the conformance checks run on.
///
/// `acme` holds 20 images with gaps in their ids, every status, references with `%`, `_`,
/// `'`, `\`, spaces, mixed case and non-ASCII letters, ties on every sortable field, null and
/// non-null URLs, and tags (including none). `globex` holds 6 images with values `acme` never
/// uses (`numLinks` 999, file type `bmp`, tag `globex-only`), one of them sharing a reference
/// with `acme`; its largest id is [`MAX_FIXTURE_ID`]. `initech` has a key and no images.
pub fn standard_fixture() -> Fixture {
    use ImageStatus::*;
    let acme = vec![
        image(1, "product-main-front.jpg")
            .num_links(3)
            .created("2024-04-05T08:44:33")
            .tags(&["red", "sale"])
            .original_url(Some("https://cdn.example/o/1.jpg"))
            .thumbnail_url(Some("https://cdn.example/t/1.jpg"))
            .thumbnail_medium_url(Some("https://cdn.example/m/1.jpg"))
            .thumbnail_preview_url(Some("https://cdn.example/p/1.jpg"))
            .size(1200, 800)
            .bytes(123_456)
            .build(),
        image(2, "100%_cotton.png")
            .file_type("png")
            .status(Void)
            .created("2024-01-01T00:00:00")
            .tags(&["50%", "a_b"])
            .build(),
        image(3, "100x-cotton.png")
            .file_type("png")
            .status(Void)
            .created("2024-01-01T00:00:00")
            .modified("2024-01-01T00:00:01")
            .tags(&["red"])
            .build(),
        image(5, "O'Brien.jpg")
            .num_links(1)
            .created("2024-01-01T00:00:00")
            .tags(&["o'k"])
            .original_url(Some("https://cdn.example/o/O'Brien.jpg"))
            .size(800, 800)
            .bytes(1)
            .build(),
        image(6, r"back\slash.gif")
            .file_type("gif")
            .status(Error)
            .created("2023-12-31T23:59:59")
            .tags(&[r"back\"])
            .original_url(Some(r"https://cdn.example/o/back\slash.gif"))
            .build(),
        image(7, "Logo.PNG")
            .file_type("png")
            .num_links(3)
            .created("2024-04-05T08:44:33")
            .modified("2024-06-01T12:00:00")
            .tags(&["Red"])
            .original_url(Some("https://cdn.example/o/Logo.PNG"))
            .thumbnail_url(Some("https://cdn.example/t/Logo.PNG"))
            .size(64, 64)
            .bytes(2048)
            .build(),
        image(8, "logo.png")
            .file_type("png")
            .num_links(3)
            .created("2024-04-05T08:44:33")
            .modified("2024-06-01T12:00:00")
            .tags(&["red", "red"])
            .original_url(Some("https://cdn.example/o/logo.png"))
            .size(64, 32)
            .bytes(2048)
            .build(),
        image(9, "Ünïcödé-ß.webp")
            .file_type("webp")
            .status(Updating)
            .created("2024-02-29T12:00:00")
            .tags(&["ünï"])
            .original_url(Some("https://cdn.example/o/Ünïcödé-ß.webp"))
            .size(10, 20)
            .bytes(99)
            .build(),
        image(10, "ünïcödé-ss.webp")
            .file_type("webp")
            .status(Reprocessing)
            .created("2024-02-29T12:00:00")
            .modified("2024-02-29T12:00:00")
            .size(20, 10)
            .bytes(99)
            .build(),
        image(11, "a b c.tif")
            .file_type("tif")
            .num_links(2)
            .created("2024-03-01T00:00:00")
            .tags(&["with space", "red"])
            .thumbnail_url(Some("https://cdn.example/t/a b c.tif"))
            .build(),
        image(12, "zebra.svg")
            .file_type("svg")
            .status(Updating)
            .num_links(7)
            .created("2024-05-05T05:05:05")
            .build(),
        image(14, "yak.jpg")
            .status(Reprocessing)
            .num_links(7)
            .created("2024-05-05T05:05:05")
            .tags(&["sale"])
            .build(),
        image(15, "error.jpg")
            .status(Error)
            .created("2024-05-05T05:05:05")
            .modified("2024-05-05T05:05:06")
            .tags(&["sale", "red"])
            .build(),
        image(16, "Zeta.jpg")
            .num_links(0)
            .created("2022-01-01T00:00:00")
            .original_url(Some(""))
            .size(5, 5)
            .bytes(5)
            .build(),
        image(17, "émile.jpg")
            .num_links(4)
            .created("2022-01-01T00:00:00")
            .modified("2025-01-01T00:00:00")
            .tags(&["é"])
            .original_url(Some("https://cdn.example/o/émile.jpg"))
            .thumbnail_url(Some("https://cdn.example/o/émile.jpg"))
            .build(),
        image(18, "_under.jpg")
            .num_links(1)
            .created("2024-01-01T00:00:00")
            .modified("2024-01-01T00:00:00")
            .tags(&["_"])
            .build(),
        image(19, "%.jpg")
            .num_links(1)
            .created("2024-01-01T00:00:00")
            .tags(&["%"])
            .build(),
        image(21, "日本語.jpg")
            .status(Void)
            .created("2024-07-07T07:07:07")
            .tags(&["日本"])
            .thumbnail_preview_url(Some("https://cdn.example/p/日本語.jpg"))
            .build(),
        image(22, "emoji-😀.png")
            .file_type("png")
            .created("2024-07-07T07:07:07")
            .size(i64::from(u32::MAX), 1)
            .bytes(i64::MAX)
            .build(),
        image(23, "'quoted'.jpg")
            .file_type("jpeg")
            .created("2024-07-07T07:07:07")
            .tags(&["'"])
            .build(),
    ];
    let globex = vec![
        image(100, "product-main-front.jpg")
            .file_type("bmp")
            .num_links(999)
            .created("2024-04-05T08:44:33")
            .tags(&["globex-only", "red"])
            .original_url(Some("https://cdn.example/globex/1.jpg"))
            .build(),
        image(101, "globex-processing.jpg")
            .file_type("bmp")
            .status(Updating)
            .num_links(999)
            .build(),
        image(102, "globex-void.jpg")
            .file_type("bmp")
            .status(Void)
            .num_links(999)
            .build(),
        image(103, "100%_globex.png")
            .file_type("bmp")
            .num_links(999)
            .tags(&["globex-only"])
            .build(),
        image(104, "Logo-globex.PNG")
            .file_type("bmp")
            .status(Error)
            .num_links(999)
            .build(),
        image(MAX_FIXTURE_ID, "globex-last.jpg")
            .file_type("bmp")
            .num_links(999)
            .build(),
    ];
    fixture([
        tenant(ACME, &["acme-key-1", "acme-key-2"], acme),
        tenant(GLOBEX, &["globex-key"], globex),
        tenant(INITECH, &["initech-key"], []),
    ])
}

/// The images of one tenant of a fixture (empty when the fixture does not name it).
pub fn images_of<'a>(fixture: &'a Fixture, tenant: &str) -> &'a [Image] {
    fixture
        .tenants
        .iter()
        .find(|t| t.tenant.as_str() == tenant)
        .map_or(&[], |t| t.images.as_slice())
}
