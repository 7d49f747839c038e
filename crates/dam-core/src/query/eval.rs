//! Evaluation over images: what a lowered condition selects and how sort keys order images
//! (what an in-memory store uses), and the helpers of the reference semantics in
//! [`crate::testing`].

use std::cmp::Ordering;

use crate::image::Image;
use crate::query::lower::{Condition, Operand};
use crate::query::model::{CmpOp, Field, Instant, Quantifier, SortKey, StringFunction};

/// The value of one field of an image, borrowed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum FieldValue<'a> {
    Null,
    Integer(i64),
    Str(&'a str),
    DateTime(Instant),
}

fn opt(value: &Option<String>) -> FieldValue<'_> {
    value.as_deref().map_or(FieldValue::Null, FieldValue::Str)
}

pub(crate) fn field_value(image: &Image, field: Field) -> FieldValue<'_> {
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

/// A literal as a field value (for the reference semantics of [`crate::testing`]).
#[cfg(feature = "testing")]
pub(crate) fn literal_value(value: &crate::query::model::Value) -> FieldValue<'_> {
    use crate::query::model::Value;
    match value {
        Value::Integer(i) => FieldValue::Integer(*i),
        Value::String(s) => FieldValue::Str(s),
        Value::DateTime(t) => FieldValue::DateTime(*t),
        Value::Status(s) => FieldValue::Str(s.code()),
    }
}

/// Compares two non-null values of one type; `None` when either is null (or the types differ,
/// which a validated filter never has).
pub(crate) fn compare(a: &FieldValue<'_>, b: &FieldValue<'_>) -> Option<Ordering> {
    match (a, b) {
        (FieldValue::Integer(x), FieldValue::Integer(y)) => Some(x.cmp(y)),
        (FieldValue::Str(x), FieldValue::Str(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (FieldValue::DateTime(x), FieldValue::DateTime(y)) => Some(x.cmp(y)),
        _ => None,
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

/// Whether `op` holds between `a` and `b` (false when either is null).
pub(crate) fn holds(a: &FieldValue<'_>, op: CmpOp, b: &FieldValue<'_>) -> bool {
    compare(a, b).is_some_and(|o| op.holds(o))
}

/// Whether `value` equals one of `candidates` (false when it is null).
pub(crate) fn equals_any<'a>(
    value: &FieldValue<'_>,
    candidates: impl IntoIterator<Item = FieldValue<'a>>,
) -> bool {
    candidates
        .into_iter()
        .any(|c| compare(value, &c) == Some(Ordering::Equal))
}

/// Whether `field` of `image` is null (not null, when `negated`).
pub(crate) fn null_holds(image: &Image, field: Field, negated: bool) -> bool {
    (field_value(image, field) == FieldValue::Null) != negated
}

/// Whether `function` holds of `field` of `image` with `needle` (false on a null field).
pub(crate) fn string_call_holds(
    image: &Image,
    function: StringFunction,
    field: Field,
    needle: &str,
) -> bool {
    match field_value(image, field) {
        FieldValue::Str(haystack) => function.holds(haystack, needle),
        _ => false,
    }
}

/// Whether any (or all) of the image's tags equal `value`.
pub(crate) fn tags_hold(image: &Image, quantifier: Quantifier, value: &str) -> bool {
    match quantifier {
        Quantifier::Any => image.tags.iter().any(|t| t == value),
        Quantifier::All => image.tags.iter().all(|t| t == value),
    }
}

impl Condition {
    /// Whether `image` meets this lowered filter: for every valid image, the same answer as
    /// the reference `Filter::matches` (feature `testing`) of the filter it was lowered from.
    pub fn matches(&self, image: &Image) -> bool {
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
            Condition::IsNull { field, negated } => null_holds(image, *field, *negated),
            Condition::In {
                field, operands, ..
            } => equals_any(
                &stored_value(image, *field),
                operands.iter().map(operand_value),
            ),
            Condition::StringCall {
                function,
                field,
                needle,
                ..
            } => string_call_holds(image, *function, *field, needle),
            Condition::Tags { quantifier, value } => tags_hold(image, *quantifier, value),
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
