//! The validated query model that the service hands to stores: a typed filter tree, sort keys,
//! `$top`, `$skip` and `$count`. Stores trust it: every field is known, every literal has the
//! field's type, and every limit of §5 holds.

use std::cmp::Ordering;
use std::fmt;

use crate::image::ImageStatus;

/// `$top` when the request does not give one, and its maximum.
pub const MAX_TOP: u32 = 100;

/// A field of the image schema, as named in `$filter` and `$orderby` (case-sensitive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// `id` (integer).
    Id,
    /// `reference` (string).
    Reference,
    /// `fileType` (string).
    FileType,
    /// `status` (one of the five codes).
    Status,
    /// `numLinks` (integer).
    NumLinks,
    /// `createdOn` (datetime).
    CreatedOn,
    /// `modifiedOn` (datetime).
    ModifiedOn,
    /// `originalUrl` (string or null).
    OriginalUrl,
    /// `thumbnailUrl` (string or null).
    ThumbnailUrl,
    /// `thumbnailMediumUrl` (string or null).
    ThumbnailMediumUrl,
    /// `thumbnailPreviewUrl` (string or null).
    ThumbnailPreviewUrl,
    /// `width` (integer).
    Width,
    /// `height` (integer).
    Height,
    /// `sizeInBytes` (integer).
    SizeInBytes,
    /// `tags` (only inside `tags/any(…)` and `tags/all(…)`).
    Tags,
}

/// The type of a field, which decides the literals and operators it takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    /// 64-bit signed integer.
    Integer,
    /// An instant (timestamps are whole seconds; literals may carry fractions).
    DateTime,
    /// A string, never null.
    String,
    /// A string that may be null (the URL fields).
    NullableString,
    /// A status code.
    Status,
    /// The tag list.
    Tags,
}

impl FieldType {
    /// What a 400 says the field takes.
    pub fn describe(self) -> &'static str {
        match self {
            FieldType::Integer => "an integer",
            FieldType::DateTime => "a datetime",
            FieldType::String => "a string",
            FieldType::NullableString => "a string or null",
            FieldType::Status => "one of the status codes 'Vd', 'Up', 'Ok', 'Re', 'Er'",
            FieldType::Tags => "tags/any(t: t eq '…') or tags/all(t: t eq '…')",
        }
    }

    /// Whether two field types can be compared with each other (URL fields are strings).
    pub fn comparable_with(self, other: FieldType) -> bool {
        let base = |t: FieldType| match t {
            FieldType::NullableString => FieldType::String,
            t => t,
        };
        base(self) == base(other) && self != FieldType::Tags
    }
}

impl Field {
    /// Every field, in the order of §1.
    pub const ALL: [Field; 15] = [
        Field::Id,
        Field::Reference,
        Field::FileType,
        Field::Status,
        Field::NumLinks,
        Field::CreatedOn,
        Field::ModifiedOn,
        Field::Tags,
        Field::OriginalUrl,
        Field::ThumbnailUrl,
        Field::ThumbnailMediumUrl,
        Field::ThumbnailPreviewUrl,
        Field::Width,
        Field::Height,
        Field::SizeInBytes,
    ];

    /// The fields `$orderby` takes, in the order of §3.
    pub const SORTABLE: [Field; 10] = [
        Field::Id,
        Field::Reference,
        Field::FileType,
        Field::Status,
        Field::NumLinks,
        Field::CreatedOn,
        Field::ModifiedOn,
        Field::Width,
        Field::Height,
        Field::SizeInBytes,
    ];

    /// The API name (camelCase).
    pub const fn name(self) -> &'static str {
        match self {
            Field::Id => "id",
            Field::Reference => "reference",
            Field::FileType => "fileType",
            Field::Status => "status",
            Field::NumLinks => "numLinks",
            Field::CreatedOn => "createdOn",
            Field::ModifiedOn => "modifiedOn",
            Field::OriginalUrl => "originalUrl",
            Field::ThumbnailUrl => "thumbnailUrl",
            Field::ThumbnailMediumUrl => "thumbnailMediumUrl",
            Field::ThumbnailPreviewUrl => "thumbnailPreviewUrl",
            Field::Width => "width",
            Field::Height => "height",
            Field::SizeInBytes => "sizeInBytes",
            Field::Tags => "tags",
        }
    }

    /// The field of an API name (case-sensitive).
    pub fn from_name(name: &str) -> Option<Field> {
        // The names of `Field::name`, as a match: the parser looks up every field it reads.
        Some(match name {
            "id" => Field::Id,
            "reference" => Field::Reference,
            "fileType" => Field::FileType,
            "status" => Field::Status,
            "numLinks" => Field::NumLinks,
            "createdOn" => Field::CreatedOn,
            "modifiedOn" => Field::ModifiedOn,
            "originalUrl" => Field::OriginalUrl,
            "thumbnailUrl" => Field::ThumbnailUrl,
            "thumbnailMediumUrl" => Field::ThumbnailMediumUrl,
            "thumbnailPreviewUrl" => Field::ThumbnailPreviewUrl,
            "width" => Field::Width,
            "height" => Field::Height,
            "sizeInBytes" => Field::SizeInBytes,
            "tags" => Field::Tags,
            _ => return None,
        })
    }

    /// The field's type.
    pub fn field_type(self) -> FieldType {
        match self {
            Field::Id | Field::NumLinks | Field::Width | Field::Height | Field::SizeInBytes => {
                FieldType::Integer
            }
            Field::CreatedOn | Field::ModifiedOn => FieldType::DateTime,
            Field::Reference | Field::FileType => FieldType::String,
            Field::OriginalUrl
            | Field::ThumbnailUrl
            | Field::ThumbnailMediumUrl
            | Field::ThumbnailPreviewUrl => FieldType::NullableString,
            Field::Status => FieldType::Status,
            Field::Tags => FieldType::Tags,
        }
    }

    /// The API names of `fields`, in their order (for messages that list them).
    pub const fn names<const N: usize>(fields: [Field; N]) -> [&'static str; N] {
        let mut names = [""; N];
        let mut i = 0;
        while i < N {
            names[i] = fields[i].name();
            i += 1;
        }
        names
    }

    /// Whether `$orderby` takes this field.
    pub fn is_sortable(self) -> bool {
        Field::SORTABLE.contains(&self)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `gt`
    Gt,
    /// `ge`
    Ge,
    /// `lt`
    Lt,
    /// `le`
    Le,
}

impl CmpOp {
    /// All operators.
    pub const ALL: [CmpOp; 6] = [
        CmpOp::Eq,
        CmpOp::Ne,
        CmpOp::Gt,
        CmpOp::Ge,
        CmpOp::Lt,
        CmpOp::Le,
    ];

    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            CmpOp::Eq => "eq",
            CmpOp::Ne => "ne",
            CmpOp::Gt => "gt",
            CmpOp::Ge => "ge",
            CmpOp::Lt => "lt",
            CmpOp::Le => "le",
        }
    }

    /// The operator of a keyword.
    pub fn from_keyword(word: &str) -> Option<CmpOp> {
        CmpOp::ALL.into_iter().find(|op| op.keyword() == word)
    }

    /// The operator with its operands swapped: `5 lt x` is `x gt 5`.
    pub fn flip(self) -> CmpOp {
        match self {
            CmpOp::Eq => CmpOp::Eq,
            CmpOp::Ne => CmpOp::Ne,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
        }
    }

    /// Whether this is an ordering (`gt`, `ge`, `lt`, `le`).
    pub fn is_ordering(self) -> bool {
        !matches!(self, CmpOp::Eq | CmpOp::Ne)
    }

    /// Whether `ordering` (left compared with right) satisfies the operator.
    pub fn holds(self, ordering: Ordering) -> bool {
        match self {
            CmpOp::Eq => ordering == Ordering::Equal,
            CmpOp::Ne => ordering != Ordering::Equal,
            CmpOp::Gt => ordering == Ordering::Greater,
            CmpOp::Ge => ordering != Ordering::Less,
            CmpOp::Lt => ordering == Ordering::Less,
            CmpOp::Le => ordering != Ordering::Greater,
        }
    }
}

/// An exact UTC instant from a datetime literal: seconds since the Unix epoch and nanoseconds.
/// Fractions count (`…00.500` is after `…00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Instant {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    pub seconds: i64,
    /// Nanoseconds within the second (0..1e9).
    pub nanos: u32,
}

impl Instant {
    /// A whole-second instant.
    pub fn from_seconds(seconds: i64) -> Self {
        Instant { seconds, nanos: 0 }
    }
}

/// A typed literal: it always has the type of the field it is compared with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Value {
    /// For integer fields.
    Integer(i64),
    /// For string and URL fields (any character, NUL included).
    String(String),
    /// For datetime fields.
    DateTime(Instant),
    /// For `status`.
    Status(ImageStatus),
}

/// `contains`, `startswith`, `endswith`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StringFunction {
    /// `contains(field, 's')`
    Contains,
    /// `startswith(field, 's')`
    StartsWith,
    /// `endswith(field, 's')`
    EndsWith,
}

impl StringFunction {
    /// The function name.
    pub fn name(self) -> &'static str {
        match self {
            StringFunction::Contains => "contains",
            StringFunction::StartsWith => "startswith",
            StringFunction::EndsWith => "endswith",
        }
    }

    /// The function of a name.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            StringFunction::Contains,
            StringFunction::StartsWith,
            StringFunction::EndsWith,
        ]
        .into_iter()
        .find(|f| f.name() == name)
    }

    /// Whether `haystack` satisfies the function with `needle` (case-sensitive, byte-wise).
    pub fn holds(self, haystack: &str, needle: &str) -> bool {
        match self {
            StringFunction::Contains => haystack.contains(needle),
            StringFunction::StartsWith => haystack.starts_with(needle),
            StringFunction::EndsWith => haystack.ends_with(needle),
        }
    }
}

/// `tags/any(…)` or `tags/all(…)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quantifier {
    /// True when some tag equals the value (false without tags).
    Any,
    /// True when every tag equals the value (true without tags).
    All,
}

impl Quantifier {
    /// `any` or `all`.
    pub fn name(self) -> &'static str {
        match self {
            Quantifier::Any => "any",
            Quantifier::All => "all",
        }
    }
}

/// A validated, typed `$filter`. Literals that stood on the left of a comparison are moved to
/// the right (with the operator flipped), so a store sees one shape per kind of test.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Filter {
    /// Both hold.
    And(Box<Filter>, Box<Filter>),
    /// Either holds.
    Or(Box<Filter>, Box<Filter>),
    /// The inner filter does not hold.
    Not(Box<Filter>),
    /// `field op value`; false when the field is null.
    Compare {
        /// Any field but `tags`.
        field: Field,
        /// The operator (`eq`/`ne` only for `status`).
        op: CmpOp,
        /// Of the field's type.
        value: Value,
    },
    /// `left op right`, two fields of one type; false when either is null.
    CompareFields {
        /// Left field.
        left: Field,
        /// The operator.
        op: CmpOp,
        /// Right field, of the left one's type.
        right: Field,
    },
    /// `field eq null` (`negated` false) or `field ne null` (`negated` true); URL fields only.
    IsNull {
        /// A URL field.
        field: Field,
        /// `ne null`.
        negated: bool,
    },
    /// `field in (v1, v2, …)`; false when the field is null.
    In {
        /// Any field but `tags`.
        field: Field,
        /// 1..=100 values of the field's type.
        values: Vec<Value>,
    },
    /// `function(field, 'needle')`; false when the field is null.
    StringCall {
        /// Which function.
        function: StringFunction,
        /// A string or URL field.
        field: Field,
        /// The needle.
        needle: String,
    },
    /// `tags/any(t: t eq 'value')` or `tags/all(t: t eq 'value')`.
    Tags {
        /// `any` or `all`.
        quantifier: Quantifier,
        /// The tag compared with.
        value: String,
    },
}

/// One `$orderby` key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SortKey {
    /// A sortable field.
    pub field: Field,
    /// `desc`.
    pub descending: bool,
}

/// A validated list request: what stores receive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// `$filter`, if given.
    pub filter: Option<Filter>,
    /// `$orderby` keys (distinct fields); the id tie-break is implicit and always last.
    pub order_by: Vec<SortKey>,
    /// Page size, 0..=100.
    pub top: u32,
    /// Matches to pass over, 0..=`i64::MAX`.
    pub skip: u64,
    /// Whether the total number of matches is wanted.
    pub count: bool,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            filter: None,
            order_by: Vec::new(),
            top: MAX_TOP,
            skip: 0,
            count: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_name_reads_every_name_and_only_those() {
        for field in Field::ALL {
            assert_eq!(Field::from_name(field.name()), Some(field));
        }
        for name in ["", "Id", "numlinks", "tag", "tagss", "status "] {
            assert_eq!(Field::from_name(name), None, "{name:?}");
        }
    }
}
