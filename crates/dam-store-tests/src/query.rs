//! Short constructors for typed filters and list queries, so a check reads like the `$filter`
//! it stands for.
//!
//! ```
//! use dam_core::store::{CmpOp, Field};
//! use dam_store_tests::query::{and, cmp, int, list, not, null, ListQueryExt};
//!
//! // $filter=numLinks gt 2 and not (originalUrl eq null)&$orderby=id desc&$top=5&$count=true
//! let q = list()
//!     .filter(and(cmp(Field::NumLinks, CmpOp::Gt, int(2)), not(null(Field::OriginalUrl))))
//!     .desc(Field::Id)
//!     .top(5)
//!     .count();
//! assert_eq!(q.top, 5);
//! ```

use dam_core::query::{Filter, Instant, Value};

use dam_core::store::{CmpOp, Field, ListQuery, Quantifier, SortKey, StringFunction};
use dam_core::ImageStatus;

/// `a and b`.
pub fn and(a: Filter, b: Filter) -> Filter {
    Filter::And(Box::new(a), Box::new(b))
}

/// `a or b`.
pub fn or(a: Filter, b: Filter) -> Filter {
    Filter::Or(Box::new(a), Box::new(b))
}

/// `not f`.
pub fn not(f: Filter) -> Filter {
    Filter::Not(Box::new(f))
}

/// `field op value`.
pub fn cmp(field: Field, op: CmpOp, value: Value) -> Filter {
    Filter::Compare { field, op, value }
}

/// `left op right` (two fields of one type).
pub fn cmp_fields(left: Field, op: CmpOp, right: Field) -> Filter {
    Filter::CompareFields { left, op, right }
}

/// `field eq null`.
pub fn null(field: Field) -> Filter {
    Filter::IsNull {
        field,
        negated: false,
    }
}

/// `field ne null`.
pub fn not_null(field: Field) -> Filter {
    Filter::IsNull {
        field,
        negated: true,
    }
}

/// `field in (values…)`.
pub fn is_in(field: Field, values: impl IntoIterator<Item = Value>) -> Filter {
    Filter::In {
        field,
        values: values.into_iter().collect(),
    }
}

/// `contains(field, needle)`, `startswith(…)` or `endswith(…)`.
pub fn call(function: StringFunction, field: Field, needle: &str) -> Filter {
    Filter::StringCall {
        function,
        field,
        needle: needle.to_string(),
    }
}

/// `tags/any(t: t eq value)`.
pub fn any_tag(value: &str) -> Filter {
    Filter::Tags {
        quantifier: Quantifier::Any,
        value: value.to_string(),
    }
}

/// `tags/all(t: t eq value)`.
pub fn all_tags(value: &str) -> Filter {
    Filter::Tags {
        quantifier: Quantifier::All,
        value: value.to_string(),
    }
}

/// An integer literal.
pub fn int(i: i64) -> Value {
    Value::Integer(i)
}

/// A string literal.
pub fn string(s: &str) -> Value {
    Value::String(s.to_string())
}

/// A status literal.
pub fn status(s: ImageStatus) -> Value {
    Value::Status(s)
}

/// A datetime literal: a `YYYY-MM-DDTHH:MM:SS` timestamp plus `nanos` nanoseconds.
///
/// # Panics
/// When the text is not a valid timestamp.
pub fn datetime(text: &str, nanos: u32) -> Value {
    Value::DateTime(crate::data::instant(text, nanos))
}

/// A datetime literal from an exact instant.
pub fn at(instant: Instant) -> Value {
    Value::DateTime(instant)
}

/// The default query (`$top=100`, no filter, order by id); refine it with the builder
/// methods of [`ListQueryExt`].
pub fn list() -> ListQuery {
    ListQuery::default()
}

/// Builder methods on [`ListQuery`].
pub trait ListQueryExt {
    /// Sets `$filter`.
    fn filter(self, filter: Filter) -> Self;
    /// Adds `field asc` to `$orderby`.
    fn asc(self, field: Field) -> Self;
    /// Adds `field desc` to `$orderby`.
    fn desc(self, field: Field) -> Self;
    /// Sets `$top`.
    fn top(self, top: u32) -> Self;
    /// Sets `$skip`.
    fn skip(self, skip: u64) -> Self;
    /// Sets `$count=true`.
    fn count(self) -> Self;
}

impl ListQueryExt for ListQuery {
    fn filter(mut self, filter: Filter) -> Self {
        self.filter = Some(filter);
        self
    }

    fn asc(mut self, field: Field) -> Self {
        self.order_by.push(SortKey {
            field,
            descending: false,
        });
        self
    }

    fn desc(mut self, field: Field) -> Self {
        self.order_by.push(SortKey {
            field,
            descending: true,
        });
        self
    }

    fn top(mut self, top: u32) -> Self {
        self.top = top;
        self
    }

    fn skip(mut self, skip: u64) -> Self {
        self.skip = skip;
        self
    }

    fn count(mut self) -> Self {
        self.count = true;
        self
    }
}
