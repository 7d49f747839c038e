//! The image aggregate and its value types (contract §1).
//!
//! Every value type has a validating constructor: a bad value is a [`ValueError`], never a
//! panic. Serde renders images exactly as the API shows them (camelCase, timestamps as
//! `YYYY-MM-DDTHH:MM:SS`, null URL fields present as `null`).

use std::fmt;

use chrono::NaiveDateTime;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A value that does not satisfy its type's rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ValueError {
    /// An image id must be an integer from 1 to 9223372036854775807.
    #[error("an image id must be an integer from 1 to 9223372036854775807")]
    ImageId,
    /// A tenant name must be 1–128 characters without control characters.
    #[error("a tenant name must be 1 to 128 characters without control characters")]
    TenantId,
    /// A reference must be 1–255 characters without control characters.
    #[error("a reference must be 1 to 255 characters without control characters")]
    Reference,
    /// A file type must be 1–32 characters, without upper-case letters, spaces or controls.
    #[error(
        "a file type must be 1 to 32 characters, lower-case, without spaces or control characters"
    )]
    FileType,
    /// Unknown status code.
    #[error("a status must be one of Vd, Up, Ok, Re, Er")]
    Status,
    /// Not a `YYYY-MM-DDTHH:MM:SS` timestamp.
    #[error("a timestamp must be YYYY-MM-DDTHH:MM:SS (UTC, whole seconds, no zone)")]
    Timestamp,
    /// A count or pixel size below zero.
    #[error("{0} must be an integer >= 0")]
    Negative(&'static str),
    /// `modifiedOn` before `createdOn`.
    #[error("modifiedOn must not be before createdOn")]
    ModifiedBeforeCreated,
    /// A tag longer than 1024 bytes or holding a control character.
    #[error("a tag must be at most 1024 bytes without control characters")]
    Tag,
    /// A URL longer than 2048 bytes or holding a control character.
    #[error("a URL must be at most 2048 bytes without control characters")]
    Url,
}

/// The identifier of an image: a positive 64-bit integer, unique across the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ImageId(i64);

impl ImageId {
    /// The largest id (`i64::MAX`).
    pub const MAX: ImageId = ImageId(i64::MAX);

    /// An id from an integer; it must be ≥ 1.
    ///
    /// ```
    /// use dam_core::ImageId;
    /// assert_eq!(ImageId::new(42).unwrap().get(), 42);
    /// assert!(ImageId::new(0).is_err());
    /// ```
    pub fn new(value: i64) -> Result<Self, ValueError> {
        if value >= 1 {
            Ok(ImageId(value))
        } else {
            Err(ValueError::ImageId)
        }
    }

    /// Parses the `{id}` of `DELETE /image/{id}` (contract §4): decimal digits only, no sign,
    /// spaces, leading zeros or fraction, from 1 to `i64::MAX`. The text is taken as it came in
    /// the path; a percent escape is not digits and is refused.
    ///
    /// ```
    /// use dam_core::ImageId;
    /// assert!(ImageId::parse_strict("9223372036854775807").is_ok());
    /// for bad in ["0", "01", "+1", "-1", " 1", "1.5", "1e3", "9223372036854775808", ""] {
    ///     assert!(ImageId::parse_strict(bad).is_err(), "{bad}");
    /// }
    /// ```
    pub fn parse_strict(text: &str) -> Result<Self, ValueError> {
        let bytes = text.as_bytes();
        if bytes.is_empty()
            || bytes.len() > 19
            || bytes[0] == b'0'
            || !bytes.iter().all(u8::is_ascii_digit)
        {
            return Err(ValueError::ImageId);
        }
        text.parse::<i64>()
            .map_err(|_| ValueError::ImageId)
            .and_then(ImageId::new)
    }

    /// The integer value.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de> Deserialize<'de> for ImageId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = i64::deserialize(d)?;
        ImageId::new(value).map_err(serde::de::Error::custom)
    }
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

/// The tenant an image belongs to, named as in the fixture file (§7).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct TenantId(String);

impl TenantId {
    /// A tenant name: 1–128 characters, no control characters.
    pub fn new(name: impl Into<String>) -> Result<Self, ValueError> {
        let name = name.into();
        let chars = name.chars().count();
        if (1..=128).contains(&chars) && !has_control(&name) {
            Ok(TenantId(name))
        } else {
            Err(ValueError::TenantId)
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An image's file name, unique per tenant: 1–255 characters (Unicode scalar values) without
/// control characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Reference(String);

impl Reference {
    /// Validates a reference.
    ///
    /// ```
    /// use dam_core::Reference;
    /// assert!(Reference::new("product-main-front.jpg").is_ok());
    /// assert!(Reference::new("").is_err());
    /// assert!(Reference::new("tab\there.jpg").is_err());
    /// ```
    pub fn new(text: impl Into<String>) -> Result<Self, ValueError> {
        let text = text.into();
        let chars = text.chars().count();
        if (1..=255).contains(&chars) && !has_control(&text) {
            Ok(Reference(text))
        } else {
            Err(ValueError::Reference)
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Reference {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Reference::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// A lower-case file extension such as `jpg` or `png`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct FileType(String);

impl FileType {
    /// Validates a file type: 1–32 characters, no upper-case letters, spaces or controls.
    pub fn new(text: impl Into<String>) -> Result<Self, ValueError> {
        let text = text.into();
        let chars = text.chars().count();
        let ok = (1..=32).contains(&chars)
            && !text
                .chars()
                .any(|c| c.is_control() || c.is_whitespace() || c.is_uppercase());
        if ok {
            Ok(FileType(text))
        } else {
            Err(ValueError::FileType)
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for FileType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        FileType::new(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// The processing state of an image, with its two-letter code.
///
/// The derived order is the order of the codes as strings (`Er < Ok < Re < Up < Vd`), which
/// is how `$orderby=status` sorts (contract §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ImageStatus {
    /// `Er`: processing failed.
    Error,
    /// `Ok`: processed and ready.
    Ready,
    /// `Re`: reprocessing (locked against deletion).
    Reprocessing,
    /// `Up`: being uploaded or updated (locked against deletion).
    Updating,
    /// `Vd`: registered, processing not started.
    Void,
}

impl ImageStatus {
    /// All statuses, in code order.
    pub const ALL: [ImageStatus; 5] = [
        ImageStatus::Error,
        ImageStatus::Ready,
        ImageStatus::Reprocessing,
        ImageStatus::Updating,
        ImageStatus::Void,
    ];

    /// The two-letter code.
    pub fn code(self) -> &'static str {
        match self {
            ImageStatus::Error => "Er",
            ImageStatus::Ready => "Ok",
            ImageStatus::Reprocessing => "Re",
            ImageStatus::Updating => "Up",
            ImageStatus::Void => "Vd",
        }
    }

    /// The status of a two-letter code (case-sensitive).
    ///
    /// ```
    /// use dam_core::ImageStatus;
    /// assert_eq!(ImageStatus::from_code("Up").unwrap(), ImageStatus::Updating);
    /// assert!(ImageStatus::from_code("up").is_err());
    /// ```
    pub fn from_code(code: &str) -> Result<Self, ValueError> {
        ImageStatus::ALL
            .into_iter()
            .find(|s| s.code() == code)
            .ok_or(ValueError::Status)
    }

    /// Whether the image is being processed and so locked against deletion (`Up`, `Re`).
    pub fn is_processing(self) -> bool {
        matches!(self, ImageStatus::Updating | ImageStatus::Reprocessing)
    }
}

impl fmt::Display for ImageStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for ImageStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for ImageStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        ImageStatus::from_code(&code).map_err(serde::de::Error::custom)
    }
}

/// A UTC instant in whole seconds, rendered `YYYY-MM-DDTHH:MM:SS` (years 0001–9999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    const FORMAT: &'static str = "%Y-%m-%dT%H:%M:%S";
    const MIN: i64 = -62_135_596_800; // 0001-01-01T00:00:00
    const MAX: i64 = 253_402_300_799; // 9999-12-31T23:59:59

    /// Parses exactly `YYYY-MM-DDTHH:MM:SS` (no fraction, no zone).
    ///
    /// ```
    /// use dam_core::Timestamp;
    /// let t = Timestamp::parse("2024-04-05T08:44:33").unwrap();
    /// assert_eq!(t.to_string(), "2024-04-05T08:44:33");
    /// assert!(Timestamp::parse("2024-04-05T08:44:33Z").is_err());
    /// assert!(Timestamp::parse("2024-04-05T08:44:33.5").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let b = text.as_bytes();
        let shape_ok = b.len() == 19
            && b.iter().enumerate().all(|(i, c)| match i {
                4 | 7 => *c == b'-',
                10 => *c == b'T',
                13 | 16 => *c == b':',
                _ => c.is_ascii_digit(),
            });
        if !shape_ok {
            return Err(ValueError::Timestamp);
        }
        let naive =
            NaiveDateTime::parse_from_str(text, Self::FORMAT).map_err(|_| ValueError::Timestamp)?;
        let utc = naive.and_utc();
        // chrono reads second 60 as a leap second (`…:59` plus a fraction); §1's seconds are
        // 00–59 and storage keeps whole seconds, so it is refused rather than folded into 59.
        if utc.timestamp_subsec_nanos() != 0 {
            return Err(ValueError::Timestamp);
        }
        Timestamp::from_unix_seconds(utc.timestamp())
    }

    /// A timestamp from seconds since the Unix epoch (UTC), within years 0001–9999.
    pub fn from_unix_seconds(seconds: i64) -> Result<Self, ValueError> {
        if (Self::MIN..=Self::MAX).contains(&seconds) {
            Ok(Timestamp(seconds))
        } else {
            Err(ValueError::Timestamp)
        }
    }

    /// The current time, truncated to whole seconds.
    pub fn now() -> Self {
        Timestamp(chrono::Utc::now().timestamp().clamp(Self::MIN, Self::MAX))
    }

    /// Seconds since the Unix epoch (UTC).
    pub fn unix_seconds(self) -> i64 {
        self.0
    }
}

impl Timestamp {
    /// `YYYY-MM-DDTHH:MM:SS`, written two digits at a time: every list answer writes two
    /// timestamps an image, and a general-purpose formatter (chrono's `format`) costs several
    /// times this.
    /// The year is within 0001–9999 by construction, so it always takes four digits.
    fn text(self) -> [u8; 19] {
        let days = self.0.div_euclid(86_400);
        let second_of_day = self.0.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        let mut out = *b"0000-00-00T00:00:00";
        // Two digits at a time (years are 1–9999: two pairs).
        let mut put = |at: usize, value: i64| {
            let value = value.rem_euclid(100) as u8;
            out[at] = b'0' + value / 10;
            out[at + 1] = b'0' + value % 10;
        };
        put(0, year / 100);
        put(2, year);
        put(5, month);
        put(8, day);
        put(11, second_of_day / 3600);
        put(14, second_of_day / 60 % 60);
        put(17, second_of_day % 60);
        out
    }
}

/// The proleptic Gregorian (year, month, day) of a day count from 1970-01-01 (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.text();
        // Only ASCII digits and separators were written.
        f.write_str(std::str::from_utf8(&text).map_err(|_| fmt::Error)?)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let text = self.text();
        match std::str::from_utf8(&text) {
            Ok(text) => s.serialize_str(text),
            Err(_) => Err(serde::ser::Error::custom("timestamp text")),
        }
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// One image (contract §1). Serializes to the fifteen camelCase fields of the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Image {
    /// Unique id across the store.
    pub id: ImageId,
    /// File name, unique per tenant.
    pub reference: Reference,
    /// Lower-case file extension.
    pub file_type: FileType,
    /// Processing state.
    pub status: ImageStatus,
    /// How many catalog items link to the image (≥ 0).
    pub num_links: i64,
    /// Creation time.
    pub created_on: Timestamp,
    /// Last modification time (≥ `created_on`).
    pub modified_on: Timestamp,
    /// Free labels, order kept.
    pub tags: Vec<String>,
    /// Where the original is served.
    pub original_url: Option<String>,
    /// Small rendition.
    pub thumbnail_url: Option<String>,
    /// Medium rendition.
    pub thumbnail_medium_url: Option<String>,
    /// Preview rendition.
    pub thumbnail_preview_url: Option<String>,
    /// Pixels (≥ 0).
    pub width: i64,
    /// Pixels (≥ 0).
    pub height: i64,
    /// Size of the original (≥ 0).
    pub size_in_bytes: i64,
}

/// Appends `text` as a JSON string, the same bytes as serde_json writes: most text needs no
/// escape (no control character, quote or backslash) and is copied whole; the rest goes
/// through serde_json.
fn write_json_str(out: &mut Vec<u8>, text: &str) -> serde_json::Result<()> {
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.reserve(text.len() + 2);
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
        Ok(())
    } else {
        serde_json::to_writer(out, text)
    }
}

impl Image {
    /// Appends the image's JSON — the same bytes as `serde_json::to_vec(self)` — to `out`,
    /// field names written as the constants they are (serde escapes each name of each image
    /// anew), values escaped by serde_json.
    pub(crate) fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        let timestamp = |out: &mut Vec<u8>, at: Timestamp| {
            out.push(b'"');
            out.extend_from_slice(&at.text());
            out.push(b'"');
        };
        out.extend_from_slice(b"{\"id\":");
        serde_json::to_writer(&mut *out, &self.id.get())?;
        out.extend_from_slice(b",\"reference\":");
        write_json_str(out, self.reference.as_str())?;
        out.extend_from_slice(b",\"fileType\":");
        write_json_str(out, self.file_type.as_str())?;
        out.extend_from_slice(b",\"status\":\"");
        out.extend_from_slice(self.status.code().as_bytes());
        out.extend_from_slice(b"\",\"numLinks\":");
        serde_json::to_writer(&mut *out, &self.num_links)?;
        out.extend_from_slice(b",\"createdOn\":");
        timestamp(out, self.created_on);
        out.extend_from_slice(b",\"modifiedOn\":");
        timestamp(out, self.modified_on);
        out.extend_from_slice(b",\"tags\":[");
        for (i, tag) in self.tags.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_json_str(out, tag)?;
        }
        out.push(b']');
        for (name, url) in [
            (&b",\"originalUrl\":"[..], &self.original_url),
            (b",\"thumbnailUrl\":", &self.thumbnail_url),
            (b",\"thumbnailMediumUrl\":", &self.thumbnail_medium_url),
            (b",\"thumbnailPreviewUrl\":", &self.thumbnail_preview_url),
        ] {
            out.extend_from_slice(name);
            match url {
                Some(url) => write_json_str(out, url)?,
                None => out.extend_from_slice(b"null"),
            }
        }
        for (name, number) in [
            (&b",\"width\":"[..], self.width),
            (b",\"height\":", self.height),
            (b",\"sizeInBytes\":", self.size_in_bytes),
        ] {
            out.extend_from_slice(name);
            serde_json::to_writer(&mut *out, &number)?;
        }
        out.push(b'}');
        Ok(())
    }

    /// A new image with the defaults of §7: no tags, null URLs, zero sizes,
    /// `modifiedOn = createdOn`.
    pub fn new(
        id: ImageId,
        reference: Reference,
        file_type: FileType,
        status: ImageStatus,
        created_on: Timestamp,
    ) -> Self {
        Image {
            id,
            reference,
            file_type,
            status,
            num_links: 0,
            created_on,
            modified_on: created_on,
            tags: Vec::new(),
            original_url: None,
            thumbnail_url: None,
            thumbnail_medium_url: None,
            thumbnail_preview_url: None,
            width: 0,
            height: 0,
            size_in_bytes: 0,
        }
    }

    /// Checks the rules that span fields or that plain integers cannot carry: non-negative
    /// counts and sizes, `modifiedOn ≥ createdOn`, tag and URL sizes.
    pub fn validate(&self) -> Result<(), ValueError> {
        for (name, value) in [
            ("numLinks", self.num_links),
            ("width", self.width),
            ("height", self.height),
            ("sizeInBytes", self.size_in_bytes),
        ] {
            if value < 0 {
                return Err(ValueError::Negative(name));
            }
        }
        if self.modified_on < self.created_on {
            return Err(ValueError::ModifiedBeforeCreated);
        }
        if self.tags.iter().any(|t| t.len() > 1024 || has_control(t)) {
            return Err(ValueError::Tag);
        }
        let urls = [
            &self.original_url,
            &self.thumbnail_url,
            &self.thumbnail_medium_url,
            &self.thumbnail_preview_url,
        ];
        if urls
            .into_iter()
            .flatten()
            .any(|u| u.len() > 2048 || has_control(u))
        {
            return Err(ValueError::Url);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Image {
        let mut image = Image::new(
            ImageId::new(1).unwrap(),
            Reference::new("a.jpg").unwrap(),
            FileType::new("jpg").unwrap(),
            ImageStatus::Ready,
            Timestamp::parse("2024-04-05T08:44:33").unwrap(),
        );
        image.tags = vec!["red".into()];
        image
    }

    proptest::proptest! {
        /// The digit-by-digit text is chrono's `%Y-%m-%dT%H:%M:%S` over the whole range, and
        /// parses back to the same instant.
        #[test]
        fn timestamp_text_is_chronos_and_round_trips(
            seconds in Timestamp::MIN..=Timestamp::MAX,
        ) {
            let t = Timestamp::from_unix_seconds(seconds).unwrap();
            let chrono_text = chrono::DateTime::from_timestamp(seconds, 0)
                .unwrap()
                .format(Timestamp::FORMAT)
                .to_string();
            proptest::prop_assert_eq!(t.to_string(), chrono_text.clone());
            proptest::prop_assert_eq!(
                serde_json::to_string(&t).unwrap(),
                format!("\"{chrono_text}\"")
            );
            proptest::prop_assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t);
        }
    }

    proptest::prop_compose! {
        fn any_image()(
            id in 1..=i64::MAX,
            reference in "\\PC{1,40}|[a-z\"\\\\\u{0}-\u{1f}\u{7f}\u{e9}\u{1F600}]{1,20}",
            file_type in "[a-z0-9]{1,6}",
            status in 0..5usize,
            num_links in proptest::num::i64::ANY,
            created in Timestamp::MIN..=Timestamp::MAX,
            modified in Timestamp::MIN..=Timestamp::MAX,
            tags in proptest::collection::vec("\\PC{0,12}|[\"\\\\\u{0}-\u{1f}]{1,4}", 0..4),
            urls in proptest::collection::vec(
                proptest::option::of("\\PC{0,30}|[a/\"\\\\\u{0}-\u{1f}\u{7f}]{1,8}"),
                4,
            ),
            sizes in proptest::collection::vec(proptest::num::i64::ANY, 3),
        ) -> Option<Image> {
            let status = [
                ImageStatus::Error,
                ImageStatus::Ready,
                ImageStatus::Reprocessing,
                ImageStatus::Updating,
                ImageStatus::Void,
            ][status];
            let mut image = Image::new(
                ImageId::new(id).ok()?,
                Reference::new(reference).ok()?,
                FileType::new(file_type).ok()?,
                status,
                Timestamp::from_unix_seconds(created).ok()?,
            );
            image.num_links = num_links;
            image.modified_on = Timestamp::from_unix_seconds(modified).ok()?;
            image.tags = tags;
            image.original_url = urls[0].clone();
            image.thumbnail_url = urls[1].clone();
            image.thumbnail_medium_url = urls[2].clone();
            image.thumbnail_preview_url = urls[3].clone();
            (image.width, image.height, image.size_in_bytes) = (sizes[0], sizes[1], sizes[2]);
            Some(image)
        }
    }

    proptest::proptest! {
        /// The hand-written list body is serde's, byte for byte: every field, in order,
        /// strings with quotes, backslashes, control characters and any Unicode escaped alike.
        #[test]
        fn the_written_list_body_is_serdes(
            items in proptest::collection::vec(any_image(), 0..5),
            count in proptest::option::of(proptest::num::u64::ANY),
            next_link in proptest::option::of("\\PC{0,60}"),
        ) {
            let page = crate::ListResponse {
                items: items.into_iter().flatten().collect(),
                count,
                next_link,
            };
            let mut written = Vec::new();
            page.write_json(&mut written).unwrap();
            let serde = serde_json::to_vec(&page).unwrap();
            proptest::prop_assert_eq!(
                String::from_utf8_lossy(&written),
                String::from_utf8_lossy(&serde)
            );
        }
    }

    #[test]
    fn timestamp_text_at_the_edges_of_the_range_and_of_leap_years() {
        for text in [
            "0001-01-01T00:00:00",
            "9999-12-31T23:59:59",
            "1969-12-31T23:59:59",
            "1970-01-01T00:00:00",
            "2000-02-29T12:00:00",
            "1900-02-28T23:59:59",
            "1900-03-01T00:00:00",
            "2024-12-31T23:59:59",
        ] {
            assert_eq!(Timestamp::parse(text).unwrap().to_string(), text);
        }
    }

    #[test]
    fn image_serializes_to_the_fifteen_camel_case_fields() {
        let json = serde_json::to_value(sample()).unwrap();
        let expected = serde_json::json!({
            "id": 1, "reference": "a.jpg", "fileType": "jpg", "status": "Ok", "numLinks": 0,
            "createdOn": "2024-04-05T08:44:33", "modifiedOn": "2024-04-05T08:44:33",
            "tags": ["red"], "originalUrl": null, "thumbnailUrl": null,
            "thumbnailMediumUrl": null, "thumbnailPreviewUrl": null,
            "width": 0, "height": 0, "sizeInBytes": 0
        });
        assert_eq!(json, expected);
    }

    #[test]
    fn status_codes_round_trip_and_sort_as_strings() {
        for status in ImageStatus::ALL {
            assert_eq!(ImageStatus::from_code(status.code()), Ok(status));
        }
        let mut codes: Vec<_> = ImageStatus::ALL.iter().map(|s| s.code()).collect();
        let sorted = codes.clone();
        codes.sort();
        assert_eq!(codes, sorted);
        assert!(ImageStatus::Updating.is_processing());
        assert!(ImageStatus::Reprocessing.is_processing());
        assert!(!ImageStatus::Ready.is_processing());
        assert!(!ImageStatus::Void.is_processing());
        assert!(!ImageStatus::Error.is_processing());
    }

    #[test]
    fn timestamps_refuse_other_shapes_and_impossible_dates() {
        for bad in [
            "2024-02-30T00:00:00",
            "2024-04-05 08:44:33",
            "2024-04-05T24:00:00",
            "2024-4-05T08:44:33",
            "0000-01-01T00:00:00",
            // a leap second: chrono reads it as `…:59` and a fraction, storage has no place for it
            "2016-12-31T23:59:60",
            "2024-04-05T08:44:60",
            "",
        ] {
            assert_eq!(Timestamp::parse(bad), Err(ValueError::Timestamp), "{bad}");
        }
        let t = Timestamp::parse("0001-01-01T00:00:00").unwrap();
        assert_eq!(t.to_string(), "0001-01-01T00:00:00");
        let t = Timestamp::parse("9999-12-31T23:59:59").unwrap();
        assert_eq!(t.to_string(), "9999-12-31T23:59:59");
    }

    #[test]
    fn ids_parse_strictly() {
        assert_eq!(ImageId::parse_strict("1").unwrap().get(), 1);
        assert_eq!(
            ImageId::parse_strict("9223372036854775807").unwrap(),
            ImageId::MAX
        );
        for bad in [
            "0",
            "00",
            "01",
            "-1",
            "+1",
            "1 ",
            "1.0",
            "１",
            "%31",
            "abc",
            "18446744073709551616",
        ] {
            assert!(ImageId::parse_strict(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn validate_refuses_negative_numbers_and_time_travel() {
        let mut image = sample();
        image.num_links = -1;
        assert_eq!(image.validate(), Err(ValueError::Negative("numLinks")));
        let mut image = sample();
        image.modified_on = Timestamp::parse("2024-04-05T08:44:32").unwrap();
        assert_eq!(image.validate(), Err(ValueError::ModifiedBeforeCreated));
        assert_eq!(sample().validate(), Ok(()));
    }
}
