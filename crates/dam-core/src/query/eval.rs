//! Reference semantics: what a typed filter selects and how sort keys order images. Every
//! storage adapter is judged against these functions.

use std::cmp::Ordering;

use crate::image::Image;
use crate::query::lower::{Condition, Operand};
use crate::query::model::{Field, Filter, Instant, ListQuery, Quantifier, SortKey, Value};
use crate::store::ImagePage;

/// The value of one field of an image, borrowed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum FieldValue<'a> {
    Null,
    Integer(i64),
    Str(&'a str),
    DateTime(Instant),
}

fn opt(value: &Option<String>) -> FieldValue<'_> {
    value.as_deref().map_or(FieldValue::Null, FieldValue::Str)
}

fn field_value(image: &Image, field: Field) -> FieldValue<'_> {
    match field {
        Field::Id => FieldValue::Integer(image.id.get()),
        Field::Reference => FieldValue::Str(image.reference.as_str()),
        Field::FileType => FieldValue::Str(image.file_type.as_str()),
        Field::Status => FieldValue::Str(image.status.code()),
        Field::NumLinks => FieldValue::Integer(image.num_links),
        Field::CreatedOn => {
            FieldValue::DateTime(Instant::from_seconds(image.created_on.unix_seconds()))
        }
        Field::ModifiedOn => {
            FieldValue::DateTime(Instant::from_seconds(image.modified_on.unix_seconds()))
        }
        Field::OriginalUrl => opt(&image.original_url),
        Field::ThumbnailUrl => opt(&image.thumbnail_url),
        Field::ThumbnailMediumUrl => opt(&image.thumbnail_medium_url),
        Field::ThumbnailPreviewUrl => opt(&image.thumbnail_preview_url),
        Field::Width => FieldValue::Integer(image.width),
        Field::Height => FieldValue::Integer(image.height),
        Field::SizeInBytes => FieldValue::Integer(image.size_in_bytes),
        // Tags are never compared as a whole; the validator refuses it.
        Field::Tags => FieldValue::Null,
    }
}

fn literal_value(value: &Value) -> FieldValue<'_> {
    match value {
        Value::Integer(i) => FieldValue::Integer(*i),
        Value::String(s) => FieldValue::Str(s),
        Value::DateTime(t) => FieldValue::DateTime(*t),
        Value::Status(s) => FieldValue::Str(s.code()),
    }
}

/// Compares two non-null values of one type; `None` when either is null (or the types differ,
/// which a validated filter never has).
fn compare(a: &FieldValue<'_>, b: &FieldValue<'_>) -> Option<Ordering> {
    match (a, b) {
        (FieldValue::Integer(x), FieldValue::Integer(y)) => Some(x.cmp(y)),
        (FieldValue::Str(x), FieldValue::Str(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (FieldValue::DateTime(x), FieldValue::DateTime(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

impl Filter {
    /// Whether `image` matches this filter (two-valued logic: a test on a null field is false,
    /// so `not` of it is true).
    ///
    /// ```
    /// use dam_core::query::{parse_filter};
    /// # use dam_core::*;
    /// let image = Image::new(ImageId::new(7).unwrap(), Reference::new("Logo.PNG").unwrap(),
    ///     FileType::new("png").unwrap(), ImageStatus::Ready,
    ///     Timestamp::parse("2024-01-01T00:00:00").unwrap());
    /// assert!(parse_filter("endswith(reference,'.PNG') and id eq 7").unwrap().matches(&image));
    /// assert!(!parse_filter("contains(reference,'png')").unwrap().matches(&image));
    /// ```
    pub fn matches(&self, image: &Image) -> bool {
        match self {
            Filter::And(a, b) => a.matches(image) && b.matches(image),
            Filter::Or(a, b) => a.matches(image) || b.matches(image),
            Filter::Not(inner) => !inner.matches(image),
            Filter::Compare { field, op, value } => {
                compare(&field_value(image, *field), &literal_value(value))
                    .is_some_and(|o| op.holds(o))
            }
            Filter::CompareFields { left, op, right } => {
                compare(&field_value(image, *left), &field_value(image, *right))
                    .is_some_and(|o| op.holds(o))
            }
            Filter::IsNull { field, negated } => {
                (field_value(image, *field) == FieldValue::Null) != *negated
            }
            Filter::In { field, values } => {
                let v = field_value(image, *field);
                values
                    .iter()
                    .any(|lit| compare(&v, &literal_value(lit)) == Some(Ordering::Equal))
            }
            Filter::StringCall {
                function,
                field,
                needle,
            } => match field_value(image, *field) {
                FieldValue::Str(haystack) => function.holds(haystack, needle),
                _ => false,
            },
            Filter::Tags { quantifier, value } => match quantifier {
                Quantifier::Any => image.tags.iter().any(|t| t == value),
                Quantifier::All => image.tags.iter().all(|t| t == value),
            },
        }
    }
}

fn operand_value(operand: &Operand) -> FieldValue<'_> {
    match operand {
        Operand::Integer(i) => FieldValue::Integer(*i),
        Operand::Text(s) => FieldValue::Str(s),
    }
}

/// A field as stores hold it: datetimes as Unix seconds.
fn stored_value(image: &Image, field: Field) -> FieldValue<'_> {
    match field_value(image, field) {
        FieldValue::DateTime(t) => FieldValue::Integer(t.seconds),
        other => other,
    }
}

impl Condition {
    /// Whether `image` meets this lowered filter: for every valid image, the same answer as
    /// the [`Filter::matches`] of the filter it was lowered from.
    pub fn matches(&self, image: &Image) -> bool {
        let holds = |a: &FieldValue<'_>, op: crate::query::CmpOp, b: &FieldValue<'_>| {
            compare(a, b).is_some_and(|o| op.holds(o))
        };
        match self {
            Condition::Constant(truth) => *truth,
            Condition::And(a, b) => a.matches(image) && b.matches(image),
            Condition::Or(a, b) => a.matches(image) || b.matches(image),
            Condition::Not(inner) => !inner.matches(image),
            Condition::Compare {
                field, op, operand, ..
            } => holds(&stored_value(image, *field), *op, &operand_value(operand)),
            Condition::CompareFields {
                left, op, right, ..
            } => holds(
                &stored_value(image, *left),
                *op,
                &stored_value(image, *right),
            ),
            Condition::IsNull { field, negated } => {
                (field_value(image, *field) == FieldValue::Null) != *negated
            }
            Condition::In {
                field, operands, ..
            } => {
                let v = stored_value(image, *field);
                operands
                    .iter()
                    .any(|o| compare(&v, &operand_value(o)) == Some(Ordering::Equal))
            }
            Condition::StringCall {
                function,
                field,
                needle,
                ..
            } => match field_value(image, *field) {
                FieldValue::Str(haystack) => function.holds(haystack, needle),
                _ => false,
            },
            Condition::Tags { quantifier, value } => match quantifier {
                Quantifier::Any => image.tags.iter().any(|t| t == value),
                Quantifier::All => image.tags.iter().all(|t| t == value),
            },
            Condition::NoTags => image.tags.is_empty(),
        }
    }
}

/// The order of two images under `keys`, then by id ascending (the tie-break that makes
/// paging stable).
pub fn compare_images(a: &Image, b: &Image, keys: &[SortKey]) -> Ordering {
    for key in keys {
        let ordering = field_value(a, key.field).cmp(&field_value(b, key.field));
        let ordering = if key.descending {
            ordering.reverse()
        } else {
            ordering
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    a.id.cmp(&b.id)
}

/// The matches of `query` among `images`, in order.
fn ordered_matches<'a>(
    images: impl IntoIterator<Item = &'a Image>,
    query: &ListQuery,
) -> Vec<&'a Image> {
    let mut matches: Vec<&Image> = images
        .into_iter()
        .filter(|im| query.filter.as_ref().is_none_or(|f| f.matches(im)))
        .collect();
    matches.sort_by(|a, b| compare_images(a, b, &query.order_by));
    matches
}

/// The reference answer to a list query over `images` (all of one tenant): the page, and the
/// total number of matches.
pub fn select<'a>(
    images: impl IntoIterator<Item = &'a Image>,
    query: &ListQuery,
) -> (Vec<Image>, u64) {
    let matches = ordered_matches(images, query);
    let total = matches.len() as u64;
    let skip = usize::try_from(query.skip).unwrap_or(usize::MAX);
    let page = matches
        .into_iter()
        .skip(skip)
        .take(query.top as usize)
        .cloned()
        .collect();
    (page, total)
}

/// The reference answer to a list query over `images` (all of one tenant) as a store reports
/// it: the page, the total (with `count`), and whether more matches follow (fetched by the
/// page-plus-one rule of [`ListQuery::split_page`]).
pub fn reference_page<'a>(
    images: impl IntoIterator<Item = &'a Image>,
    query: &ListQuery,
) -> ImagePage {
    let matches = ordered_matches(images, query);
    let total = matches.len() as u64;
    let skip = usize::try_from(query.skip).unwrap_or(usize::MAX);
    let fetch = usize::try_from(query.fetch_limit()).unwrap_or(usize::MAX);
    let rows = matches
        .into_iter()
        .skip(skip)
        .take(fetch)
        .cloned()
        .collect();
    let (items, has_more) = query.split_page(rows);
    ImagePage {
        items,
        total: query.count.then_some(total),
        has_more,
    }
}
