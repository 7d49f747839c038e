//! `$skiptoken` (contract §3.1): where the next page starts, written by the server into
//! `@nextLink` and read back from it, with no server-side state.
//!
//! A token names the last image of a page by its sort-key values and id. The page it asks for
//! holds the matches that sort strictly after that image in the list order (`$orderby`, then
//! `id` ascending), so a page costs the same at any depth and deletes or inserts between two
//! requests never repeat an image nor leave out one that still sorts after the previous page.
//!
//! # Format (version 1)
//! The token is the unpadded base64url text (`A–Z a–z 0–9 - _`, nothing to percent-encode) of:
//!
//! | bytes | content |
//! | --- | --- |
//! | 1 | the format version, `1`; any other → 400 |
//! | 8 | the first 8 bytes of SHA-256 over the decoded `$filter` and `$orderby` texts as received (absent and present told apart) |
//! | … | one value per `$orderby` key before `id`, in order: integers and datetimes (Unix seconds) as 8 bytes big-endian; `reference`/`fileType` as a 2-byte big-endian length and UTF-8; `status` as 1 byte (0–4 in code order `Er Ok Re Up Vd`) |
//! | 8 | the image id, big-endian |
//!
//! Nothing else follows. A token is at most [`MAX_SKIPTOKEN_CHARS`] characters. Every value is
//! checked as the image schema checks it (a reference without control characters, a timestamp
//! in years 0001–9999, a positive id…), so a forged token can only position within the
//! caller's own matches, like a genuine one.
//!
//! # Seeking
//! For the keys `k1 d1, …, kn dn, id asc` and the token's values `v1 … vn, vid`, the page's
//! condition is `$filter and k1 ≥ v1 and (k1 ≠ v1 or (k2 ≥ v2 and (k2 ≠ v2 or … (id > vid))))`
//! (`≤`/`<` for `desc` keys): given `k1 ≥ v1`, `k1 ≠ v1` is `k1 > v1`, so this is the usual
//! `(k1 > v1) or (k1 = v1 and …)`, written so that a database reads `k1 ≥ v1` as where an index
//! range scan starts, and estimates the rest as holding almost everywhere (the usual form makes
//! PostgreSQL count the bound twice, guess a hundredth of the rows, and sort them all instead
//! of walking the index). A key after `id` in `$orderby` plays no part (ids are unique).
//! `status` is not ordered by `gt`/`lt` in the filter model: "at or after `Ok`" is
//! `status in ('Ok', 'Re', 'Up', 'Vd')`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use super::error::QueryError;
use super::model::{CmpOp, Field, FieldType, Filter, Instant, SortKey, Value};
use crate::image::{FileType, Image, ImageId, ImageStatus, Reference, Timestamp};

/// The format version this server writes and reads.
pub const SKIPTOKEN_VERSION: u8 = 1;

/// The longest `$skiptoken` accepted, in characters (as decoded from the query string). The
/// longest genuine token (`$orderby` on every sortable field, a reference of 255 four-byte
/// characters and a file type of 32) has 1 624 characters.
pub const MAX_SKIPTOKEN_CHARS: usize = 2048;

const BINDING_BYTES: usize = 8;

/// The last image of a page, as far as the list order sees it: one value per `$orderby` key
/// before `id`, and the id. It travels in `$skiptoken` (format version
/// [`SKIPTOKEN_VERSION`], described in `QUERY.md`, Paging) and becomes a filter condition
/// ([`Position::after`]) that every store translates like any other.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    values: Vec<Value>,
    id: ImageId,
}

/// The `$orderby` keys that decide the order, before the id: the keys up to the first `id`
/// key, and whether the id itself sorts descending (`$orderby=…,id desc`).
fn seek_keys(order_by: &[SortKey]) -> (&[SortKey], bool) {
    match order_by.iter().position(|k| k.field == Field::Id) {
        Some(at) => (&order_by[..at], order_by[at].descending),
        None => (order_by, false),
    }
}

/// The value of a sortable field of an image, typed as the filter model types it.
fn value_of(image: &Image, field: Field) -> Value {
    match field {
        Field::Reference => Value::String(image.reference.as_str().to_string()),
        Field::FileType => Value::String(image.file_type.as_str().to_string()),
        Field::Status => Value::Status(image.status),
        Field::NumLinks => Value::Integer(image.num_links),
        Field::Width => Value::Integer(image.width),
        Field::Height => Value::Integer(image.height),
        Field::SizeInBytes => Value::Integer(image.size_in_bytes),
        Field::CreatedOn => Value::DateTime(Instant::from_seconds(image.created_on.unix_seconds())),
        Field::ModifiedOn => {
            Value::DateTime(Instant::from_seconds(image.modified_on.unix_seconds()))
        }
        // Not sortable (`$orderby` refuses them) or the id, which is kept apart.
        Field::Id
        | Field::OriginalUrl
        | Field::ThumbnailUrl
        | Field::ThumbnailMediumUrl
        | Field::ThumbnailPreviewUrl
        | Field::Tags => Value::Integer(image.id.get()),
    }
}

/// The first bytes of SHA-256 over the `$filter` and `$orderby` texts as received.
fn binding(filter_text: Option<&str>, orderby_text: Option<&str>) -> [u8; BINDING_BYTES] {
    let mut hash = Sha256::new();
    hash.update(b"dam-skiptoken");
    for text in [filter_text, orderby_text] {
        match text {
            Some(text) => {
                hash.update([1]);
                hash.update((text.len() as u64).to_be_bytes());
                hash.update(text.as_bytes());
            }
            None => hash.update([0]),
        }
    }
    let digest = hash.finalize();
    let mut out = [0; BINDING_BYTES];
    out.copy_from_slice(&digest[..BINDING_BYTES]);
    out
}

fn invalid(reason: &'static str) -> QueryError {
    QueryError::InvalidSkipToken { reason }
}

/// Reads the token's bytes front to back; every shortfall is a malformed token.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], QueryError> {
        if self.0.len() < n {
            return Err(invalid("its content is cut short"));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn i64(&mut self) -> Result<i64, QueryError> {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(self.take(8)?);
        Ok(i64::from_be_bytes(bytes))
    }

    fn text(&mut self) -> Result<&'a str, QueryError> {
        let len = self.take(2)?;
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        std::str::from_utf8(self.take(len)?).map_err(|_| invalid("it holds text that is not UTF-8"))
    }
}

impl Position {
    /// The position of `image` under `order_by`: the page after it starts right after it.
    pub fn of(image: &Image, order_by: &[SortKey]) -> Self {
        let (keys, _) = seek_keys(order_by);
        Position {
            values: keys.iter().map(|k| value_of(image, k.field)).collect(),
            id: image.id,
        }
    }

    /// The id of the image at this position.
    pub fn id(&self) -> ImageId {
        self.id
    }

    /// The token for this position, bound to the `$filter` and `$orderby` texts as received
    /// (form-decoded; `None` when the option was absent).
    ///
    /// ```
    /// use dam_core::query::{Position, parse_orderby};
    /// use dam_core::{FileType, Image, ImageId, ImageStatus, Reference, Timestamp};
    /// let image = Image::new(ImageId::new(7).unwrap(), Reference::new("a.jpg").unwrap(),
    ///     FileType::new("jpg").unwrap(), ImageStatus::Ready,
    ///     Timestamp::parse("2024-01-01T00:00:00").unwrap());
    /// let order = parse_orderby("createdOn desc").unwrap();
    /// let token = Position::of(&image, &order).token(None, Some("createdOn desc"));
    /// assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    /// let back = Position::from_token(&token, &order, None, Some("createdOn desc")).unwrap();
    /// assert_eq!(back, Position::of(&image, &order));
    /// assert!(Position::from_token(&token, &order, None, Some("createdOn")).is_err());
    /// ```
    pub fn token(&self, filter_text: Option<&str>, orderby_text: Option<&str>) -> String {
        let mut bytes = Vec::with_capacity(32);
        bytes.push(SKIPTOKEN_VERSION);
        bytes.extend_from_slice(&binding(filter_text, orderby_text));
        for value in &self.values {
            match value {
                Value::Integer(i) => bytes.extend_from_slice(&i.to_be_bytes()),
                Value::DateTime(t) => bytes.extend_from_slice(&t.seconds.to_be_bytes()),
                Value::String(s) => {
                    // References and file types are at most 255 characters: the length fits.
                    let len = u16::try_from(s.len()).unwrap_or(u16::MAX);
                    bytes.extend_from_slice(&len.to_be_bytes());
                    bytes.extend_from_slice(&s.as_bytes()[..usize::from(len)]);
                }
                Value::Status(s) => {
                    let code = ImageStatus::ALL.iter().position(|x| x == s).unwrap_or(0);
                    bytes.push(code as u8);
                }
            }
        }
        bytes.extend_from_slice(&self.id.get().to_be_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Reads a token back, for the `$orderby` keys and the `$filter`/`$orderby` texts of the
    /// request that carries it.
    ///
    /// # Errors
    /// [`QueryError::InvalidSkipToken`] (a 400 naming `$skiptoken`, "invalid or expired"):
    /// empty, longer than [`MAX_SKIPTOKEN_CHARS`], not unpadded base64url, another format
    /// version, written for another `$filter` or `$orderby`, or content that does not decode
    /// into valid values for the keys.
    pub fn from_token(
        token: &str,
        order_by: &[SortKey],
        filter_text: Option<&str>,
        orderby_text: Option<&str>,
    ) -> Result<Self, QueryError> {
        if token.is_empty() {
            return Err(invalid("it is empty"));
        }
        if token.chars().count() > MAX_SKIPTOKEN_CHARS {
            return Err(invalid("it is longer than 2048 characters"));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(token)
            .map_err(|_| invalid("it is not unpadded base64url text"))?;
        let mut reader = Reader(&bytes);
        if reader.take(1)?[0] != SKIPTOKEN_VERSION {
            return Err(invalid("it was written by another version of the format"));
        }
        if reader.take(BINDING_BYTES)? != binding(filter_text, orderby_text) {
            return Err(invalid("it was written for another $filter or $orderby"));
        }
        let (keys, _) = seek_keys(order_by);
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            values.push(read_value(&mut reader, key.field)?);
        }
        let id = ImageId::new(reader.i64()?).map_err(|_| invalid("its image id is not valid"))?;
        if !reader.0.is_empty() {
            return Err(invalid("it holds more than a position"));
        }
        Ok(Position { values, id })
    }

    /// The condition that holds exactly for the images after this position in the order of
    /// `order_by` (then id ascending): the seek condition of `QUERY.md` (Paging),
    /// `k1 ≥ v1 and (k1 ≠ v1 or (k2 ≥ v2 and (k2 ≠ v2 or … (id > vid))))`.
    ///
    /// ```
    /// use dam_core::query::{Position, parse_filter, parse_orderby};
    /// use dam_core::{FileType, Image, ImageId, ImageStatus, Reference, Timestamp};
    /// let image = Image::new(ImageId::new(7).unwrap(), Reference::new("a.jpg").unwrap(),
    ///     FileType::new("jpg").unwrap(), ImageStatus::Ready,
    ///     Timestamp::parse("2024-01-01T00:00:00").unwrap());
    /// let order = parse_orderby("status desc,numLinks").unwrap();
    /// let seek = Position::of(&image, &order).after(&order);
    /// let expected = "status in ('Er', 'Ok') and (status ne 'Ok' \
    ///     or (numLinks ge 0 and (numLinks ne 0 or id gt 7)))";
    /// assert_eq!(seek, parse_filter(expected).unwrap());
    /// ```
    pub fn after(&self, order_by: &[SortKey]) -> Filter {
        let (keys, id_descending) = seek_keys(order_by);
        let id_key = SortKey {
            field: Field::Id,
            descending: id_descending,
        };
        // Innermost first: id after vid; then, key by key outwards,
        // `k ≥ v and (k ≠ v or <the later keys after theirs>)`.
        let mut seek = Filter::Compare {
            field: Field::Id,
            op: beyond(id_key),
            value: Value::Integer(self.id.get()),
        };
        for (key, value) in keys.iter().copied().zip(&self.values).rev() {
            let later = if is_last(key, value) {
                // `k ≥ v` leaves only `k = v`: the later keys decide alone.
                seek
            } else {
                let other = Filter::Compare {
                    field: key.field,
                    op: CmpOp::Ne,
                    value: value.clone(),
                };
                Filter::Or(Box::new(other), Box::new(seek))
            };
            seek = match at_or_after(key, value) {
                Some(bound) => Filter::And(Box::new(bound), Box::new(later)),
                None => later,
            };
        }
        seek
    }
}

/// `gt`, or `lt` for a descending key.
fn beyond(key: SortKey) -> CmpOp {
    if key.descending {
        CmpOp::Lt
    } else {
        CmpOp::Gt
    }
}

/// The statuses on one side of `status` in code order, as an `in` test; `None` when no status
/// is there.
fn statuses(keep: impl Fn(ImageStatus) -> bool) -> Option<Filter> {
    let values: Vec<Value> = ImageStatus::ALL
        .into_iter()
        .filter(|s| keep(*s))
        .map(Value::Status)
        .collect();
    (!values.is_empty()).then_some(Filter::In {
        field: Field::Status,
        values,
    })
}

/// Whether nothing can sort strictly after `value` in the key's direction (a status that is
/// last in it: `Vd` ascending, `Er` descending).
fn is_last(key: SortKey, value: &Value) -> bool {
    match value {
        Value::Status(v) if key.descending => *v == ImageStatus::Error,
        Value::Status(v) => *v == ImageStatus::Void,
        _ => false,
    }
}

/// `key` at or after `value` in its direction; `None` when that holds for every image (a
/// status bound that keeps all five).
fn at_or_after(key: SortKey, value: &Value) -> Option<Filter> {
    if let Value::Status(v) = value {
        let all = if key.descending {
            *v == ImageStatus::Void
        } else {
            *v == ImageStatus::Error
        };
        return (!all)
            .then(|| statuses(|s| if key.descending { s <= *v } else { s >= *v }))
            .flatten();
    }
    let op = if key.descending { CmpOp::Le } else { CmpOp::Ge };
    Some(Filter::Compare {
        field: key.field,
        op,
        value: value.clone(),
    })
}

/// One value of a sortable field, checked as the image schema checks it.
fn read_value(reader: &mut Reader<'_>, field: Field) -> Result<Value, QueryError> {
    let bad = || invalid("it holds a value that no image can have");
    Ok(match field.field_type() {
        FieldType::Integer => Value::Integer(reader.i64()?),
        FieldType::DateTime => {
            let seconds = reader.i64()?;
            Timestamp::from_unix_seconds(seconds).map_err(|_| bad())?;
            Value::DateTime(Instant::from_seconds(seconds))
        }
        FieldType::String => {
            let text = reader.text()?;
            let valid = match field {
                Field::FileType => FileType::new(text).is_ok(),
                _ => Reference::new(text).is_ok(),
            };
            if !valid {
                return Err(bad());
            }
            Value::String(text.to_string())
        }
        FieldType::Status => {
            let code = reader.take(1)?[0];
            Value::Status(*ImageStatus::ALL.get(usize::from(code)).ok_or_else(bad)?)
        }
        // `$orderby` takes none of these.
        FieldType::NullableString | FieldType::Tags => return Err(bad()),
    })
}
