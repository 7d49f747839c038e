//! Translation of the typed query model into SQL.
//!
//! Column names come only from [`Field`] (never from input) and every literal becomes a bound
//! parameter. Each predicate this module emits is two-valued — it yields 0 or 1, never NULL —
//! so `NOT` means exactly what the core's [`Filter::matches`] means. The translation is total:
//! a tree the validator would never produce (a literal of the wrong type, `tags` compared as a
//! whole) translates to what the reference semantics say about it (false), never to a panic.

use dam_core::query::{
    CmpOp, Field, Filter, Instant, ListQuery, Quantifier, SortKey, StringFunction, Value,
};
use rusqlite::types::Value as SqlValue;

/// The columns of `images` an [`dam_core::Image`] is read from, in the order `rows` expects.
pub(crate) const IMAGE_COLUMNS: &str = "images.id, images.reference, images.file_type, \
     images.status, images.num_links, images.created_on, images.modified_on, \
     images.original_url, images.thumbnail_url, images.thumbnail_medium_url, \
     images.thumbnail_preview_url, images.width, images.height, images.size_in_bytes";

/// The restriction of a statement to one tenant's images; binds the tenant name.
pub(crate) const TENANT_SCOPE: &str =
    "images.tenant_id = (SELECT tenants.id FROM tenants WHERE tenants.name = ?)";

/// How a field is stored, which decides how it compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// An INTEGER column.
    Integer,
    /// An INTEGER column of unix seconds.
    DateTime,
    /// A TEXT column that is never NULL (`status` holds its two-letter code).
    Text,
    /// A TEXT column that may be NULL (the URL fields).
    NullableText,
    /// No column: `tags` has a table of its own and no value as a whole.
    Absent,
}

/// The column of a field and how it is stored.
fn column(field: Field) -> (&'static str, Kind) {
    match field {
        Field::Id => ("images.id", Kind::Integer),
        Field::Reference => ("images.reference", Kind::Text),
        Field::FileType => ("images.file_type", Kind::Text),
        Field::Status => ("images.status", Kind::Text),
        Field::NumLinks => ("images.num_links", Kind::Integer),
        Field::CreatedOn => ("images.created_on", Kind::DateTime),
        Field::ModifiedOn => ("images.modified_on", Kind::DateTime),
        Field::OriginalUrl => ("images.original_url", Kind::NullableText),
        Field::ThumbnailUrl => ("images.thumbnail_url", Kind::NullableText),
        Field::ThumbnailMediumUrl => ("images.thumbnail_medium_url", Kind::NullableText),
        Field::ThumbnailPreviewUrl => ("images.thumbnail_preview_url", Kind::NullableText),
        Field::Width => ("images.width", Kind::Integer),
        Field::Height => ("images.height", Kind::Integer),
        Field::SizeInBytes => ("images.size_in_bytes", Kind::Integer),
        Field::Tags => ("NULL", Kind::Absent),
    }
}

/// A literal as the store compares it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Literal<'a> {
    Integer(i64),
    Text(&'a str),
    DateTime(Instant),
}

fn literal(value: &Value) -> Literal<'_> {
    match value {
        Value::Integer(i) => Literal::Integer(*i),
        Value::String(s) => Literal::Text(s),
        Value::Status(s) => Literal::Text(s.code()),
        Value::DateTime(t) => Literal::DateTime(*t),
    }
}

/// Whether a column of `kind` and `literal` are of one type (the reference semantics compare
/// only values of one type; anything else is false).
fn same_type(kind: Kind, literal: &Literal<'_>) -> bool {
    matches!(
        (kind, literal),
        (Kind::Integer, Literal::Integer(_))
            | (Kind::DateTime, Literal::DateTime(_))
            | (Kind::Text | Kind::NullableText, Literal::Text(_))
    )
}

fn operator(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Ne => "<>",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
    }
}

/// A comparison of a whole-second column with an exact instant, as a comparison with whole
/// seconds: `None` when it holds for no second (`eq` a fraction) and `Some(Err(()))` when it
/// holds for every second (`ne` a fraction).
fn whole_seconds(op: CmpOp, at: Instant) -> Option<Result<(CmpOp, i64), ()>> {
    if at.nanos == 0 {
        return Some(Ok((op, at.seconds)));
    }
    // A whole second `c` and `s + f` (0 < f < 1): c > s+f ⟺ c > s, c < s+f ⟺ c ≤ s.
    match op {
        CmpOp::Eq => None,
        CmpOp::Ne => Some(Err(())),
        CmpOp::Gt | CmpOp::Ge => Some(Ok((CmpOp::Gt, at.seconds))),
        CmpOp::Lt | CmpOp::Le => Some(Ok((CmpOp::Le, at.seconds))),
    }
}

/// SQL text with its parameters, bound in order of the `?` placeholders.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Sql {
    /// The text; literals appear only as `?`.
    pub(crate) text: String,
    /// The parameters, in placeholder order.
    pub(crate) params: Vec<SqlValue>,
}

impl Sql {
    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    fn bind(&mut self, value: SqlValue) {
        self.text.push('?');
        self.params.push(value);
    }

    fn bind_literal(&mut self, literal: &Literal<'_>) {
        match literal {
            Literal::Integer(i) => self.bind(SqlValue::Integer(*i)),
            Literal::Text(s) => self.bind(SqlValue::Text((*s).to_string())),
            // Only whole seconds reach here (see `whole_seconds`).
            Literal::DateTime(t) => self.bind(SqlValue::Integer(t.seconds)),
        }
    }

    fn constant(&mut self, truth: bool) {
        self.push(if truth { "1" } else { "0" });
    }

    /// Appends `filter` as a two-valued predicate over the `images` row.
    pub(crate) fn filter(&mut self, filter: &Filter) {
        match filter {
            Filter::And(a, b) => self.binary(a, "AND", b),
            Filter::Or(a, b) => self.binary(a, "OR", b),
            Filter::Not(inner) => {
                self.push("(NOT ");
                self.filter(inner);
                self.push(")");
            }
            Filter::Compare { field, op, value } => self.compare(*field, *op, &literal(value)),
            Filter::CompareFields { left, op, right } => self.compare_fields(*left, *op, *right),
            Filter::IsNull { field, negated } => self.is_null(*field, *negated),
            Filter::In { field, values } => self.is_in(*field, values),
            Filter::StringCall {
                function,
                field,
                needle,
            } => self.string_call(*function, *field, needle),
            Filter::Tags { quantifier, value } => self.tags(*quantifier, value),
        }
    }

    fn binary(&mut self, a: &Filter, op: &str, b: &Filter) {
        self.push("(");
        self.filter(a);
        self.push(" ");
        self.push(op);
        self.push(" ");
        self.filter(b);
        self.push(")");
    }

    /// `col op ?`, guarded so a NULL column gives false rather than NULL.
    fn compare(&mut self, field: Field, op: CmpOp, value: &Literal<'_>) {
        let (col, kind) = column(field);
        if !same_type(kind, value) {
            return self.constant(false);
        }
        let (op, value) = match value {
            Literal::DateTime(at) => match whole_seconds(op, *at) {
                None => return self.constant(false),
                Some(Err(())) => return self.constant(true),
                Some(Ok((op, seconds))) => (op, Literal::DateTime(Instant::from_seconds(seconds))),
            },
            other => (op, other.clone()),
        };
        self.push("(");
        if kind == Kind::NullableText {
            self.push(col);
            self.push(" IS NOT NULL AND ");
        }
        self.push(col);
        self.push(" ");
        self.push(operator(op));
        self.push(" ");
        self.bind_literal(&value);
        self.push(")");
    }

    fn compare_fields(&mut self, left: Field, op: CmpOp, right: Field) {
        let (l, lk) = column(left);
        let (r, rk) = column(right);
        let text = |k: Kind| matches!(k, Kind::Text | Kind::NullableText);
        let comparable = (lk == rk && lk != Kind::Absent) || (text(lk) && text(rk));
        if !comparable {
            return self.constant(false);
        }
        self.push("(");
        for (col, kind) in [(l, lk), (r, rk)] {
            if kind == Kind::NullableText {
                self.push(col);
                self.push(" IS NOT NULL AND ");
            }
        }
        self.push(l);
        self.push(" ");
        self.push(operator(op));
        self.push(" ");
        self.push(r);
        self.push(")");
    }

    fn is_null(&mut self, field: Field, negated: bool) {
        let (col, kind) = column(field);
        match kind {
            Kind::NullableText => {
                self.push("(");
                self.push(col);
                self.push(if negated {
                    " IS NOT NULL)"
                } else {
                    " IS NULL)"
                });
            }
            // `tags` has no value as a whole: the reference treats it as null.
            Kind::Absent => self.constant(!negated),
            _ => self.constant(negated),
        }
    }

    fn is_in(&mut self, field: Field, values: &[Value]) {
        let (col, kind) = column(field);
        // A fraction of a second equals no stored timestamp; other types equal nothing.
        let literals: Vec<Literal<'_>> = values
            .iter()
            .map(literal)
            .filter(|l| same_type(kind, l))
            .filter(|l| !matches!(l, Literal::DateTime(t) if t.nanos != 0))
            .collect();
        if literals.is_empty() {
            return self.constant(false);
        }
        self.push("(");
        if kind == Kind::NullableText {
            self.push(col);
            self.push(" IS NOT NULL AND ");
        }
        self.push(col);
        self.push(" IN (");
        for (i, l) in literals.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind_literal(l);
        }
        self.push("))");
    }

    /// Byte-wise and case-sensitive: the column and the needle are compared as BLOBs, so no
    /// collation, `LIKE` wildcard or NUL byte plays a part.
    fn string_call(&mut self, function: StringFunction, field: Field, needle: &str) {
        let (col, kind) = column(field);
        if !matches!(kind, Kind::Text | Kind::NullableText) {
            return self.constant(false);
        }
        self.push("(");
        if kind == Kind::NullableText {
            self.push(col);
            self.push(" IS NOT NULL AND ");
        }
        // SQLite's string functions answer NULL on some empty values (`substr` of an empty
        // BLOB): COALESCE keeps the test two-valued.
        self.push("COALESCE(");
        let bytes = needle.as_bytes().to_vec();
        match function {
            StringFunction::Contains => {
                self.push("instr(CAST(");
                self.push(col);
                self.push(" AS BLOB), ");
                self.bind(SqlValue::Blob(bytes));
                self.push(") > 0");
            }
            // `instr` finds the first occurrence, so the needle starts the value exactly when
            // it is found at position 1 (an empty needle is found there too).
            StringFunction::StartsWith => {
                self.push("instr(CAST(");
                self.push(col);
                self.push(" AS BLOB), ");
                self.bind(SqlValue::Blob(bytes));
                self.push(") = 1");
            }
            StringFunction::EndsWith if bytes.is_empty() => self.push("1"),
            StringFunction::EndsWith => {
                let len = i64::try_from(bytes.len()).unwrap_or(i64::MAX);
                self.push("substr(CAST(");
                self.push(col);
                self.push(" AS BLOB), ");
                self.bind(SqlValue::Integer(-len));
                self.push(") = ");
                self.bind(SqlValue::Blob(bytes));
            }
        }
        self.push(", 0))");
    }

    fn tags(&mut self, quantifier: Quantifier, value: &str) {
        let (prefix, op) = match quantifier {
            Quantifier::Any => ("EXISTS", "="),
            Quantifier::All => ("NOT EXISTS", "<>"),
        };
        self.push("(");
        self.push(prefix);
        self.push(
            " (SELECT 1 FROM image_tags WHERE image_tags.image_id = images.id AND image_tags.tag ",
        );
        self.push(op);
        self.push(" ");
        self.bind(SqlValue::Text(value.to_string()));
        self.push("))");
    }
}

/// `ORDER BY` for `keys`, then by id ascending. A key on `tags` (which the validator refuses)
/// orders nothing, as in the reference.
pub(crate) fn order_by(keys: &[SortKey]) -> String {
    let mut text = String::from(" ORDER BY ");
    for key in keys {
        let (col, kind) = column(key.field);
        if kind == Kind::Absent {
            continue;
        }
        text.push_str(col);
        text.push_str(if key.descending { " DESC, " } else { " ASC, " });
        if key.field == Field::Id {
            // Ids are unique: later keys, the tie-break included, never decide.
            text.truncate(text.len() - 2);
            return text;
        }
    }
    text.push_str("images.id ASC");
    text
}

/// The statements of one list request: the page (with one row more than `top`, to tell
/// whether more follow) and, when asked, the count.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ListStatements {
    /// `SELECT IMAGE_COLUMNS … LIMIT ? OFFSET ?`.
    pub(crate) page: Sql,
    /// `SELECT COUNT(*) …`, with `query.count`.
    pub(crate) count: Option<Sql>,
}

/// Translates a list request of `tenant`.
pub(crate) fn list_statements(tenant: &str, query: &ListQuery) -> ListStatements {
    let mut condition = Sql::default();
    condition.push(" FROM images WHERE ");
    condition.push(TENANT_SCOPE);
    condition.params.push(SqlValue::Text(tenant.to_string()));
    if let Some(filter) = &query.filter {
        condition.push(" AND ");
        condition.filter(filter);
    }
    let count = query.count.then(|| Sql {
        text: format!("SELECT COUNT(*){}", condition.text),
        params: condition.params.clone(),
    });
    let mut page = Sql {
        text: format!("SELECT {IMAGE_COLUMNS}{}", condition.text),
        params: condition.params,
    };
    page.push(&order_by(&query.order_by));
    page.push(" LIMIT ");
    page.bind(SqlValue::Integer(i64::from(query.top) + 1));
    page.push(" OFFSET ");
    page.bind(SqlValue::Integer(
        i64::try_from(query.skip).unwrap_or(i64::MAX),
    ));
    ListStatements { page, count }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dam_core::ImageStatus;

    fn sql_of(filter: &Filter) -> Sql {
        let mut sql = Sql::default();
        sql.filter(filter);
        sql
    }

    #[test]
    fn literals_are_bound_never_spliced() {
        let needle = "'; DROP TABLE images; -- %_\\";
        for function in [
            StringFunction::Contains,
            StringFunction::StartsWith,
            StringFunction::EndsWith,
        ] {
            let sql = sql_of(&Filter::StringCall {
                function,
                field: Field::Reference,
                needle: needle.into(),
            });
            assert!(!sql.text.contains("DROP"), "{}", sql.text);
            assert!(!sql.text.to_uppercase().contains("LIKE"), "{}", sql.text);
            assert!(sql
                .params
                .contains(&SqlValue::Blob(needle.as_bytes().to_vec())));
        }
        let sql = sql_of(&Filter::Compare {
            field: Field::FileType,
            op: CmpOp::Eq,
            value: Value::String(needle.into()),
        });
        assert_eq!(sql.text, "(images.file_type = ?)");
        assert_eq!(sql.params, vec![SqlValue::Text(needle.into())]);
    }

    #[test]
    fn nullable_fields_are_guarded_so_not_stays_two_valued() {
        let sql = sql_of(&Filter::Not(Box::new(Filter::Compare {
            field: Field::OriginalUrl,
            op: CmpOp::Gt,
            value: Value::String("a".into()),
        })));
        assert_eq!(
            sql.text,
            "(NOT (images.original_url IS NOT NULL AND images.original_url > ?))"
        );
    }

    #[test]
    fn fractions_of_a_second_become_whole_second_bounds() {
        let at = Instant {
            seconds: 100,
            nanos: 500_000_000,
        };
        let case = |op| {
            sql_of(&Filter::Compare {
                field: Field::ModifiedOn,
                op,
                value: Value::DateTime(at),
            })
        };
        assert_eq!(case(CmpOp::Eq).text, "0");
        assert_eq!(case(CmpOp::Ne).text, "1");
        assert_eq!(case(CmpOp::Ge).text, "(images.modified_on > ?)");
        assert_eq!(case(CmpOp::Gt).text, "(images.modified_on > ?)");
        assert_eq!(case(CmpOp::Le).text, "(images.modified_on <= ?)");
        assert_eq!(case(CmpOp::Lt).text, "(images.modified_on <= ?)");
        assert_eq!(case(CmpOp::Lt).params, vec![SqlValue::Integer(100)]);
    }

    #[test]
    fn mistyped_trees_translate_to_false_not_to_a_panic() {
        let cases = [
            Filter::Compare {
                field: Field::NumLinks,
                op: CmpOp::Eq,
                value: Value::String("3".into()),
            },
            Filter::Compare {
                field: Field::Tags,
                op: CmpOp::Eq,
                value: Value::String("x".into()),
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
            Filter::IsNull {
                field: Field::Reference,
                negated: false,
            },
        ];
        for filter in cases {
            assert_eq!(sql_of(&filter).text, "0", "{filter:?}");
        }
    }

    #[test]
    fn order_ends_with_the_id_tie_break_once() {
        let key = |field, descending| SortKey { field, descending };
        assert_eq!(order_by(&[]), " ORDER BY images.id ASC");
        assert_eq!(
            order_by(&[key(Field::CreatedOn, true)]),
            " ORDER BY images.created_on DESC, images.id ASC"
        );
        assert_eq!(
            order_by(&[key(Field::Id, true), key(Field::Width, false)]),
            " ORDER BY images.id DESC"
        );
    }

    #[test]
    fn list_binds_tenant_top_plus_one_and_a_huge_skip() {
        let query = ListQuery {
            top: 100,
            skip: u64::MAX,
            count: true,
            ..ListQuery::default()
        };
        let statements = list_statements("acme", &query);
        assert_eq!(
            statements.page.params,
            vec![
                SqlValue::Text("acme".into()),
                SqlValue::Integer(101),
                SqlValue::Integer(i64::MAX)
            ]
        );
        let count = statements.count.unwrap_or_default();
        assert_eq!(count.params, vec![SqlValue::Text("acme".into())]);
        assert!(count.text.starts_with("SELECT COUNT(*) FROM images WHERE"));
    }
}
