//! Lowering: a validated [`Filter`] becomes a storage-ready [`Condition`] that an adapter
//! translates node by node, and sort keys and paging become what a statement needs.

use crate::query::model::{
    CmpOp, Field, FieldType, Filter, Instant, ListQuery, Quantifier, SortKey, StringFunction, Value,
};

/// A literal as stores hold values: datetimes are Unix seconds, statuses their two-letter
/// code, strings free of NUL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Operand {
    /// For integer and datetime fields (whole Unix seconds).
    Integer(i64),
    /// For string, URL and status fields; never holds NUL.
    Text(String),
}

/// The storage-ready form of a validated [`Filter`] ([`Filter::lower`]).
///
/// Every rule of the query language that concerns how values are stored is decided here,
/// once, so an adapter's translator holds only its dialect:
/// - datetime columns hold whole seconds: a literal with a fraction `s + f` (0 < f < 1) is
///   never equal to one, `c > s + f` holds exactly when `c > s` and `c < s + f` exactly when
///   `c ≤ s`; every datetime operand is then an integer of Unix seconds;
/// - stored strings hold no NUL: a literal with one equals nothing, and ordering against
///   `p\0…` is ordering against `p` (`x > p\0…` exactly when `x > p`); a needle or tag with
///   NUL is never found; such values never reach a store;
/// - an empty needle is found in every value;
/// - `in` lists keep only the values that can be equal to a stored one; an empty list is
///   `false`;
/// - a test of a nullable field is `false` where the field is null (two-valued logic, so `not`
///   of it is `true`); each node that reads a nullable column says so (`nullable`);
/// - a tree the validator never produces (a literal of another type, `tags` compared as a
///   whole) lowers to what the reference semantics say of it, never to a panic.
///
/// Each node is one test a store translates on its own (one SQL fragment per node). Every test
/// is two-valued: it holds or it does not, never "unknown".
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Condition {
    /// Holds always (`true`) or never (`false`).
    Constant(bool),
    /// Both hold.
    And(Box<Condition>, Box<Condition>),
    /// Either holds.
    Or(Box<Condition>, Box<Condition>),
    /// The inner condition does not hold.
    Not(Box<Condition>),
    /// `field op operand`, bytewise for text; `false` where the field is null.
    Compare {
        /// Any field but `tags`.
        field: Field,
        /// The operator.
        op: CmpOp,
        /// Of the field's stored type.
        operand: Operand,
        /// The field may be null (guard it so the test is `false` there).
        nullable: bool,
    },
    /// `left op right`, two fields of one stored type; `false` where either is null.
    CompareFields {
        /// Left field.
        left: Field,
        /// The operator.
        op: CmpOp,
        /// Right field.
        right: Field,
        /// Either field may be null.
        nullable: bool,
    },
    /// `field IS NULL` (`negated`: `IS NOT NULL`); `field` is nullable.
    IsNull {
        /// A URL field.
        field: Field,
        /// `IS NOT NULL`.
        negated: bool,
    },
    /// `field` equals one of `operands`; `false` where the field is null.
    In {
        /// Any field but `tags`.
        field: Field,
        /// At least one operand, each of the field's stored type, in the filter's order.
        operands: Vec<Operand>,
        /// The field may be null.
        nullable: bool,
    },
    /// `function(field, needle)`, bytewise and case-sensitive; `false` where the field is null.
    StringCall {
        /// Which function.
        function: StringFunction,
        /// A string or URL field.
        field: Field,
        /// Not empty, without NUL.
        needle: String,
        /// The field may be null.
        nullable: bool,
    },
    /// Some tag (`Any`) or every tag (`All`, so also no tag) equals `value`.
    Tags {
        /// `any` or `all`.
        quantifier: Quantifier,
        /// Without NUL.
        value: String,
    },
    /// The image has no tag.
    NoTags,
}

/// How a field is stored, which decides what it can be compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stored {
    Integer,
    DateTime,
    Text,
    NullableText,
    /// `tags`: no value as a whole.
    Absent,
}

fn stored(field: Field) -> Stored {
    match field.field_type() {
        FieldType::Integer => Stored::Integer,
        FieldType::DateTime => Stored::DateTime,
        FieldType::String | FieldType::Status => Stored::Text,
        FieldType::NullableString => Stored::NullableText,
        FieldType::Tags => Stored::Absent,
    }
}

impl Stored {
    fn is_text(self) -> bool {
        matches!(self, Stored::Text | Stored::NullableText)
    }
}

impl Field {
    /// Whether the field may be null (the URL fields).
    pub fn is_nullable(self) -> bool {
        self.field_type() == FieldType::NullableString
    }
}

/// A literal that can equal a stored value of `kind`: an integer, a whole-second instant or a
/// NUL-free text of the right type.
fn exact_operand(kind: Stored, value: &Value) -> Option<Operand> {
    match (kind, value) {
        (Stored::Integer, Value::Integer(i)) => Some(Operand::Integer(*i)),
        (Stored::DateTime, Value::DateTime(t)) if t.nanos == 0 => Some(Operand::Integer(t.seconds)),
        (k, Value::String(s)) if k.is_text() && !s.contains('\0') => Some(Operand::Text(s.clone())),
        (k, Value::Status(s)) if k.is_text() => Some(Operand::Text(s.code().to_string())),
        _ => None,
    }
}

/// "True" for `field`: where it is not null.
fn wherever_set(field: Field) -> Condition {
    if field.is_nullable() {
        Condition::IsNull {
            field,
            negated: true,
        }
    } else {
        Condition::Constant(true)
    }
}

/// A comparison with a value that lies strictly between two storable ones (`below` being the
/// one under it): never equal, `>`/`≥` it is `> below`, `<`/`≤` it is `≤ below`.
fn between(field: Field, op: CmpOp, below: Operand) -> Condition {
    let op = match op {
        CmpOp::Eq => return Condition::Constant(false),
        CmpOp::Ne => return wherever_set(field),
        CmpOp::Gt | CmpOp::Ge => CmpOp::Gt,
        CmpOp::Lt | CmpOp::Le => CmpOp::Le,
    };
    compare(field, op, below)
}

fn compare(field: Field, op: CmpOp, operand: Operand) -> Condition {
    Condition::Compare {
        field,
        op,
        operand,
        nullable: field.is_nullable(),
    }
}

fn lower_compare(field: Field, op: CmpOp, value: &Value) -> Condition {
    let kind = stored(field);
    if let Some(operand) = exact_operand(kind, value) {
        return compare(field, op, operand);
    }
    match (kind, value) {
        (Stored::DateTime, Value::DateTime(Instant { seconds, .. })) => {
            between(field, op, Operand::Integer(*seconds))
        }
        (k, Value::String(s)) if k.is_text() => {
            let prefix = s.split('\0').next().unwrap_or_default();
            between(field, op, Operand::Text(prefix.to_string()))
        }
        _ => Condition::Constant(false),
    }
}

fn lower_compare_fields(left: Field, op: CmpOp, right: Field) -> Condition {
    let (l, r) = (stored(left), stored(right));
    let comparable = (l == r && l != Stored::Absent) || (l.is_text() && r.is_text());
    if !comparable {
        return Condition::Constant(false);
    }
    Condition::CompareFields {
        left,
        op,
        right,
        nullable: left.is_nullable() || right.is_nullable(),
    }
}

fn lower_is_null(field: Field, negated: bool) -> Condition {
    match stored(field) {
        Stored::NullableText => Condition::IsNull { field, negated },
        // `tags` has no value as a whole: the reference treats it as null.
        Stored::Absent => Condition::Constant(!negated),
        _ => Condition::Constant(negated),
    }
}

fn lower_in(field: Field, values: &[Value]) -> Condition {
    let kind = stored(field);
    let operands: Vec<Operand> = values
        .iter()
        .filter_map(|v| exact_operand(kind, v))
        .collect();
    if operands.is_empty() {
        return Condition::Constant(false);
    }
    Condition::In {
        field,
        operands,
        nullable: field.is_nullable(),
    }
}

fn lower_string_call(function: StringFunction, field: Field, needle: &str) -> Condition {
    if !stored(field).is_text() || needle.contains('\0') {
        return Condition::Constant(false);
    }
    if needle.is_empty() {
        return wherever_set(field);
    }
    Condition::StringCall {
        function,
        field,
        needle: needle.to_string(),
        nullable: field.is_nullable(),
    }
}

fn lower_tags(quantifier: Quantifier, value: &str) -> Condition {
    match (quantifier, value.contains('\0')) {
        (Quantifier::Any, true) => Condition::Constant(false),
        (Quantifier::All, true) => Condition::NoTags,
        (quantifier, false) => Condition::Tags {
            quantifier,
            value: value.to_string(),
        },
    }
}

impl Filter {
    /// The storage-ready form of this filter: same answer on every valid image, in terms a
    /// store can test directly.
    ///
    /// ```
    /// use dam_core::query::parse_filter;
    /// use dam_core::store::{CmpOp, Condition, Field, Operand};
    /// let lowered = parse_filter("createdOn ge 2024-01-01T00:00:00.5Z").unwrap().lower();
    /// assert_eq!(lowered, Condition::Compare {
    ///     field: Field::CreatedOn,
    ///     op: CmpOp::Gt,
    ///     operand: Operand::Integer(1_704_067_200),
    ///     nullable: false,
    /// });
    /// ```
    pub fn lower(&self) -> Condition {
        let boxed = |f: &Filter| Box::new(f.lower());
        match self {
            Filter::And(a, b) => Condition::And(boxed(a), boxed(b)),
            Filter::Or(a, b) => Condition::Or(boxed(a), boxed(b)),
            Filter::Not(inner) => Condition::Not(boxed(inner)),
            Filter::Compare { field, op, value } => lower_compare(*field, *op, value),
            Filter::CompareFields { left, op, right } => lower_compare_fields(*left, *op, *right),
            Filter::IsNull { field, negated } => lower_is_null(*field, *negated),
            Filter::In { field, values } => lower_in(*field, values),
            Filter::StringCall {
                function,
                field,
                needle,
            } => lower_string_call(*function, *field, needle),
            Filter::Tags { quantifier, value } => lower_tags(*quantifier, value),
        }
    }
}

impl ListQuery {
    /// The lowered filter, if any (see [`Filter::lower`]).
    pub fn condition(&self) -> Option<Condition> {
        self.filter.as_ref().map(Filter::lower)
    }

    /// The complete order of a page: the `$orderby` keys that order anything (not `tags`),
    /// up to the first key on `id` (ids are unique, so later keys never decide), ending with
    /// `id` ascending when no key was on `id`.
    ///
    /// ```
    /// use dam_core::store::{Field, ListQuery, SortKey};
    /// let key = |field, descending| SortKey { field, descending };
    /// let query = ListQuery { order_by: vec![key(Field::Width, true)], ..ListQuery::default() };
    /// assert_eq!(query.sort_keys(), vec![key(Field::Width, true), key(Field::Id, false)]);
    /// ```
    pub fn sort_keys(&self) -> Vec<SortKey> {
        let mut keys = Vec::with_capacity(self.order_by.len() + 1);
        for key in &self.order_by {
            if key.field == Field::Tags {
                continue;
            }
            keys.push(*key);
            if key.field == Field::Id {
                return keys;
            }
        }
        keys.push(SortKey {
            field: Field::Id,
            descending: false,
        });
        keys
    }

    /// How many rows a store fetches for a page: one more than `top`, so the extra row tells
    /// whether more matches follow (see [`ListQuery::split_page`]).
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.top) + 1
    }

    /// How many ordered matches a store passes over, as a SQL `OFFSET` takes it.
    pub fn offset(&self) -> i64 {
        i64::try_from(self.skip).unwrap_or(i64::MAX)
    }

    /// Cuts the rows fetched with [`ListQuery::fetch_limit`] to the page, and tells whether
    /// more matches follow it (the page-plus-one rule).
    ///
    /// ```
    /// use dam_core::store::ListQuery;
    /// let query = ListQuery { top: 2, ..ListQuery::default() };
    /// assert_eq!(query.split_page(vec![1, 2, 3]), (vec![1, 2], true));
    /// assert_eq!(query.split_page(vec![1, 2]), (vec![1, 2], false));
    /// ```
    pub fn split_page<T>(&self, mut rows: Vec<T>) -> (Vec<T>, bool) {
        let top = usize::try_from(self.top).unwrap_or(usize::MAX);
        let has_more = rows.len() > top;
        rows.truncate(top);
        (rows, has_more)
    }

    /// The number of matches, when the rows fetched for the page (at most
    /// [`ListQuery::fetch_limit`], from [`ListQuery::offset`] on) tell it: no match follows them,
    /// and they hold a match or start at the first one. A store that gets `Some` here needs no
    /// count of its own; `None` when the page is full or starts past the last match.
    ///
    /// ```
    /// use dam_core::store::ListQuery;
    /// let query = ListQuery { top: 10, skip: 20, count: true, ..ListQuery::default() };
    /// assert_eq!(query.total_from_fetched(4), Some(24)); // the last page: 20 + 4
    /// assert_eq!(query.total_from_fetched(11), None); // more follow: count them
    /// assert_eq!(query.total_from_fetched(0), None); // past the end: how far?
    /// let first = ListQuery { skip: 0, ..query };
    /// assert_eq!(first.total_from_fetched(0), Some(0));
    /// ```
    pub fn total_from_fetched(&self, fetched: usize) -> Option<u64> {
        let top = usize::try_from(self.top).unwrap_or(usize::MAX);
        if fetched > top || (fetched == 0 && self.skip > 0) {
            return None;
        }
        Some(self.skip.saturating_add(u64::try_from(fetched).ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::ImageStatus;

    fn cmp(field: Field, op: CmpOp, value: Value) -> Condition {
        Filter::Compare { field, op, value }.lower()
    }

    fn text(s: &str) -> Value {
        Value::String(s.to_string())
    }

    fn at(seconds: i64, nanos: u32) -> Value {
        Value::DateTime(Instant { seconds, nanos })
    }

    fn lowered(field: Field, op: CmpOp, operand: Operand) -> Condition {
        Condition::Compare {
            field,
            op,
            operand,
            nullable: field.is_nullable(),
        }
    }

    #[test]
    fn fractions_of_a_second_become_whole_second_bounds() {
        let f = Field::ModifiedOn;
        let half = |op| cmp(f, op, at(100, 500_000_000));
        assert_eq!(half(CmpOp::Eq), Condition::Constant(false));
        assert_eq!(half(CmpOp::Ne), Condition::Constant(true));
        for op in [CmpOp::Gt, CmpOp::Ge] {
            assert_eq!(half(op), lowered(f, CmpOp::Gt, Operand::Integer(100)));
        }
        for op in [CmpOp::Lt, CmpOp::Le] {
            assert_eq!(half(op), lowered(f, CmpOp::Le, Operand::Integer(100)));
        }
        for op in CmpOp::ALL {
            assert_eq!(cmp(f, op, at(-5, 0)), lowered(f, op, Operand::Integer(-5)));
        }
    }

    #[test]
    fn nul_literals_never_reach_a_store() {
        let r = Field::Reference;
        assert_eq!(cmp(r, CmpOp::Eq, text("a\0b")), Condition::Constant(false));
        assert_eq!(cmp(r, CmpOp::Ne, text("\0")), Condition::Constant(true));
        let url = Field::OriginalUrl;
        assert_eq!(
            cmp(url, CmpOp::Ne, text("a\0")),
            Condition::IsNull {
                field: url,
                negated: true
            }
        );
        let prefix = || Operand::Text("ab".into());
        assert_eq!(
            cmp(r, CmpOp::Ge, text("ab\0c")),
            lowered(r, CmpOp::Gt, prefix())
        );
        assert_eq!(
            cmp(r, CmpOp::Lt, text("ab\0c")),
            lowered(r, CmpOp::Le, prefix())
        );
        let call = |needle: &str| {
            Filter::StringCall {
                function: StringFunction::Contains,
                field: r,
                needle: needle.into(),
            }
            .lower()
        };
        assert_eq!(call("x\0"), Condition::Constant(false));
        let tags = |quantifier| {
            Filter::Tags {
                quantifier,
                value: "\0".into(),
            }
            .lower()
        };
        assert_eq!(tags(Quantifier::Any), Condition::Constant(false));
        assert_eq!(tags(Quantifier::All), Condition::NoTags);
    }

    #[test]
    fn empty_needles_hold_wherever_the_field_is_set() {
        let call = |field| {
            Filter::StringCall {
                function: StringFunction::EndsWith,
                field,
                needle: String::new(),
            }
            .lower()
        };
        assert_eq!(call(Field::Reference), Condition::Constant(true));
        assert_eq!(
            call(Field::ThumbnailUrl),
            Condition::IsNull {
                field: Field::ThumbnailUrl,
                negated: true
            }
        );
    }

    #[test]
    fn in_lists_keep_only_values_a_store_can_hold() {
        let list = |field, values| Filter::In { field, values }.lower();
        assert_eq!(
            list(Field::CreatedOn, vec![at(1, 1), at(2, 0)]),
            Condition::In {
                field: Field::CreatedOn,
                operands: vec![Operand::Integer(2)],
                nullable: false
            }
        );
        assert_eq!(
            list(Field::OriginalUrl, vec![text("a\0"), text("x")]),
            Condition::In {
                field: Field::OriginalUrl,
                operands: vec![Operand::Text("x".into())],
                nullable: true
            }
        );
        assert_eq!(
            list(Field::CreatedOn, vec![at(1, 1)]),
            Condition::Constant(false)
        );
        assert_eq!(
            list(Field::Status, vec![Value::Status(ImageStatus::Updating)]),
            Condition::In {
                field: Field::Status,
                operands: vec![Operand::Text("Up".into())],
                nullable: false
            }
        );
    }

    #[test]
    fn null_rules_are_explicit() {
        assert_eq!(
            cmp(Field::OriginalUrl, CmpOp::Gt, text("a")),
            Condition::Compare {
                field: Field::OriginalUrl,
                op: CmpOp::Gt,
                operand: Operand::Text("a".into()),
                nullable: true
            }
        );
        let fields = |left, right| {
            Filter::CompareFields {
                left,
                op: CmpOp::Eq,
                right,
            }
            .lower()
        };
        assert_eq!(
            fields(Field::Reference, Field::ThumbnailUrl),
            Condition::CompareFields {
                left: Field::Reference,
                op: CmpOp::Eq,
                right: Field::ThumbnailUrl,
                nullable: true
            }
        );
        let is_null = |field, negated| Filter::IsNull { field, negated }.lower();
        assert_eq!(is_null(Field::Reference, false), Condition::Constant(false));
        assert_eq!(is_null(Field::Tags, false), Condition::Constant(true));
    }

    #[test]
    fn mistyped_trees_lower_to_false() {
        let cases = [
            Filter::Compare {
                field: Field::NumLinks,
                op: CmpOp::Eq,
                value: text("3"),
            },
            Filter::Compare {
                field: Field::Tags,
                op: CmpOp::Eq,
                value: text("x"),
            },
            Filter::CompareFields {
                left: Field::NumLinks,
                op: CmpOp::Eq,
                right: Field::CreatedOn,
            },
            Filter::In {
                field: Field::Width,
                values: vec![Value::Status(ImageStatus::Ready)],
            },
            Filter::StringCall {
                function: StringFunction::Contains,
                field: Field::Width,
                needle: "1".into(),
            },
        ];
        for filter in cases {
            assert_eq!(filter.lower(), Condition::Constant(false), "{filter:?}");
        }
    }

    #[test]
    fn sort_keys_end_with_the_id_once() {
        let key = |field, descending| SortKey { field, descending };
        let keys = |order_by| {
            ListQuery {
                order_by,
                ..ListQuery::default()
            }
            .sort_keys()
        };
        assert_eq!(keys(vec![]), vec![key(Field::Id, false)]);
        assert_eq!(
            keys(vec![key(Field::Tags, false), key(Field::CreatedOn, true)]),
            vec![key(Field::CreatedOn, true), key(Field::Id, false)]
        );
        assert_eq!(
            keys(vec![key(Field::Id, true), key(Field::Width, false)]),
            vec![key(Field::Id, true)]
        );
    }

    #[test]
    fn paging_fetches_one_more_than_the_page() {
        let query = ListQuery {
            top: 0,
            skip: u64::MAX,
            ..ListQuery::default()
        };
        assert_eq!((query.fetch_limit(), query.offset()), (1, i64::MAX));
        assert_eq!(query.split_page(vec!['a']), (vec![], true));
        assert_eq!(query.split_page(Vec::<char>::new()), (vec![], false));
    }
}
