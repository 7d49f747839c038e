//! The typed filter and sort keys, translated to SQL with every value a bound parameter.
//!
//! The translation keeps the core's reference semantics (`dam_core::query::select`) exactly:
//! - two-valued logic: every test on a nullable (URL) column is wrapped in
//!   `COALESCE(…, false)`, so a test on a null field is false and `NOT` of it is true;
//! - strings compare under `COLLATE "C"` (bytes of UTF-8, so code-point order);
//! - `contains`/`startswith`/`endswith` use `strpos`, `starts_with` and `right`, never `LIKE`,
//!   so `%` and `_` in a needle are plain characters;
//! - a datetime literal with a fraction is compared exactly against whole-second columns;
//! - PostgreSQL text cannot hold NUL, and no stored string holds one: a literal with NUL is
//!   decided here (it equals nothing; ordering against it is ordering against its part before
//!   the NUL) and never sent to the server.

use std::fmt::Write;

use dam_core::query::{
    CmpOp, Field, FieldType, Filter, Instant, Quantifier, SortKey, StringFunction, Value,
};
use tokio_postgres::types::{ToSql, Type};

/// A bound parameter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Param {
    /// `bigint`
    Int(i64),
    /// `text`
    Text(String),
    /// `bigint[]`
    Ints(Vec<i64>),
    /// `text[]`
    Texts(Vec<String>),
}

impl Param {
    fn as_sql(&self) -> &(dyn ToSql + Sync) {
        match self {
            Param::Int(v) => v,
            Param::Text(v) => v,
            Param::Ints(v) => v,
            Param::Texts(v) => v,
        }
    }

    /// The type the placeholder is declared with (the SQL casts it to that type too).
    fn pg_type(&self) -> Type {
        match self {
            Param::Int(_) => Type::INT8,
            Param::Text(_) => Type::TEXT,
            Param::Ints(_) => Type::INT8_ARRAY,
            Param::Texts(_) => Type::TEXT_ARRAY,
        }
    }
}

/// SQL text being built, with its parameters.
#[derive(Debug, Default)]
pub(crate) struct SqlBuilder {
    sql: String,
    params: Vec<Param>,
}

/// The column of a field.
pub(crate) fn column(field: Field) -> &'static str {
    match field {
        Field::Id => "id",
        Field::Reference => "reference",
        Field::FileType => "file_type",
        Field::Status => "status",
        Field::NumLinks => "num_links",
        Field::CreatedOn => "created_on",
        Field::ModifiedOn => "modified_on",
        Field::OriginalUrl => "original_url",
        Field::ThumbnailUrl => "thumbnail_url",
        Field::ThumbnailMediumUrl => "thumbnail_medium_url",
        Field::ThumbnailPreviewUrl => "thumbnail_preview_url",
        Field::Width => "width",
        Field::Height => "height",
        Field::SizeInBytes => "size_in_bytes",
        Field::Tags => "tags",
    }
}

fn nullable(field: Field) -> bool {
    field.field_type() == FieldType::NullableString
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

/// A literal reduced to what the server can be sent, or a constant answer.
enum Operand {
    Int(i64),
    Text(String),
}

impl SqlBuilder {
    /// An empty builder.
    pub(crate) fn new() -> Self {
        SqlBuilder::default()
    }

    /// Appends SQL text.
    pub(crate) fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Binds a parameter and appends its placeholder (`$n`).
    pub(crate) fn bind(&mut self, param: Param) -> &mut Self {
        self.params.push(param);
        // Writing to a String cannot fail.
        let _ = write!(self.sql, "${}", self.params.len());
        self
    }

    /// The SQL text.
    pub(crate) fn sql(&self) -> &str {
        &self.sql
    }

    /// The parameters, in placeholder order, each with its type, as
    /// [`tokio_postgres::Client::query_typed`] takes them.
    pub(crate) fn typed_params(&self) -> Vec<(&(dyn ToSql + Sync), Type)> {
        self.params
            .iter()
            .map(|p| (p.as_sql(), p.pg_type()))
            .collect()
    }

    /// Appends a boolean SQL expression equivalent to `filter`; never NULL.
    pub(crate) fn push_filter(&mut self, filter: &Filter) {
        match filter {
            Filter::And(a, b) => {
                self.push("(");
                self.push_filter(a);
                self.push(" AND ");
                self.push_filter(b);
                self.push(")");
            }
            Filter::Or(a, b) => {
                self.push("(");
                self.push_filter(a);
                self.push(" OR ");
                self.push_filter(b);
                self.push(")");
            }
            Filter::Not(inner) => {
                self.push("(NOT ");
                self.push_filter(inner);
                self.push(")");
            }
            Filter::Compare { field, op, value } => self.push_compare(*field, *op, value),
            Filter::CompareFields { left, op, right } => {
                let test = format!("{} {} {}", column(*left), operator(*op), column(*right));
                self.push_test(nullable(*left) || nullable(*right), |b| {
                    b.push(&test);
                });
            }
            Filter::IsNull { field, negated } => {
                self.push("(").push(column(*field));
                self.push(if *negated {
                    " IS NOT NULL)"
                } else {
                    " IS NULL)"
                });
            }
            Filter::In { field, values } => self.push_in(*field, values),
            Filter::StringCall {
                function,
                field,
                needle,
            } => self.push_string_call(*function, *field, needle),
            Filter::Tags { quantifier, value } => self.push_tags(*quantifier, value),
        }
    }

    /// Appends `test`, wrapped in `COALESCE(…, false)` when it reads a nullable column.
    fn push_test(&mut self, nullable: bool, test: impl FnOnce(&mut Self)) {
        self.push(if nullable { "COALESCE((" } else { "(" });
        test(self);
        self.push(if nullable { "), false)" } else { ")" });
    }

    fn push_operand(&mut self, operand: Operand) {
        match operand {
            Operand::Int(v) => {
                self.bind(Param::Int(v)).push("::bigint");
            }
            Operand::Text(v) => {
                self.bind(Param::Text(v)).push("::text COLLATE \"C\"");
            }
        }
    }

    /// `column op operand`, with the null rule of the column.
    fn push_simple(&mut self, field: Field, op: CmpOp, operand: Operand) {
        self.push_test(nullable(field), |b| {
            b.push(column(field)).push(" ").push(operator(op)).push(" ");
            b.push_operand(operand);
        });
    }

    /// A constant answer for a non-null field; for a nullable one, `true` holds only where the
    /// field is not null (a test on a null field is false).
    fn push_constant(&mut self, field: Field, answer: bool) {
        match (answer, nullable(field)) {
            (false, _) => self.push("FALSE"),
            (true, false) => self.push("TRUE"),
            (true, true) => self.push("(").push(column(field)).push(" IS NOT NULL)"),
        };
    }

    fn push_compare(&mut self, field: Field, op: CmpOp, value: &Value) {
        match value {
            Value::Integer(v) => self.push_simple(field, op, Operand::Int(*v)),
            Value::Status(s) => self.push_simple(field, op, Operand::Text(s.code().to_string())),
            Value::DateTime(instant) => self.push_datetime(field, op, *instant),
            Value::String(s) => match s.find('\0') {
                None => self.push_simple(field, op, Operand::Text(s.clone())),
                Some(nul) => {
                    // Stored strings hold no NUL. Against `p\0…` (p without NUL), a stored x
                    // is never equal, and x > `p\0…` exactly when x > p (bytewise).
                    let prefix = s[..nul].to_string();
                    match op {
                        CmpOp::Eq => self.push_constant(field, false),
                        CmpOp::Ne => self.push_constant(field, true),
                        CmpOp::Gt | CmpOp::Ge => {
                            self.push_simple(field, CmpOp::Gt, Operand::Text(prefix))
                        }
                        CmpOp::Lt | CmpOp::Le => {
                            self.push_simple(field, CmpOp::Le, Operand::Text(prefix))
                        }
                    }
                }
            },
        }
    }

    /// Whole-second column against an exact instant: with a fraction `s + f` (0 < f < 1), a
    /// second c is never equal, c > s + f exactly when c > s, and c < s + f exactly when c ≤ s.
    fn push_datetime(&mut self, field: Field, op: CmpOp, instant: Instant) {
        if instant.nanos == 0 {
            return self.push_simple(field, op, Operand::Int(instant.seconds));
        }
        match op {
            CmpOp::Eq => self.push_constant(field, false),
            CmpOp::Ne => self.push_constant(field, true),
            CmpOp::Gt | CmpOp::Ge => {
                self.push_simple(field, CmpOp::Gt, Operand::Int(instant.seconds))
            }
            CmpOp::Lt | CmpOp::Le => {
                self.push_simple(field, CmpOp::Le, Operand::Int(instant.seconds))
            }
        }
    }

    /// `field in (…)` as `= ANY($n)` with one array parameter; values that can equal nothing
    /// (a string with NUL, an instant with a fraction) are left out.
    fn push_in(&mut self, field: Field, values: &[Value]) {
        let mut ints = Vec::new();
        let mut texts = Vec::new();
        for value in values {
            match value {
                Value::Integer(v) => ints.push(*v),
                Value::DateTime(i) if i.nanos == 0 => ints.push(i.seconds),
                Value::DateTime(_) => {}
                Value::String(s) if s.contains('\0') => {}
                Value::String(s) => texts.push(s.clone()),
                Value::Status(s) => texts.push(s.code().to_string()),
            }
        }
        if ints.is_empty() && texts.is_empty() {
            self.push("FALSE");
            return;
        }
        self.push_test(nullable(field), |b| {
            b.push(column(field)).push(" = ANY(");
            if texts.is_empty() {
                b.bind(Param::Ints(ints)).push("::bigint[])");
            } else {
                b.bind(Param::Texts(texts)).push("::text[])");
            }
        });
    }

    fn push_string_call(&mut self, function: StringFunction, field: Field, needle: &str) {
        if needle.contains('\0') {
            self.push("FALSE");
            return;
        }
        let col = column(field);
        self.push_test(nullable(field), |b| match function {
            StringFunction::Contains => {
                b.push("strpos(").push(col).push(", ");
                b.bind(Param::Text(needle.to_string())).push("::text) > 0");
            }
            StringFunction::StartsWith => {
                b.push("starts_with(").push(col).push(", ");
                b.bind(Param::Text(needle.to_string())).push("::text)");
            }
            StringFunction::EndsWith => {
                // `right` counts characters; comparing the whole tail with the needle makes
                // that exact on UTF-8.
                b.bind(Param::Text(needle.to_string())).push("::text");
                let n = b.params.len();
                let _ = write!(b.sql, " = right({col}, char_length(${n}::text))");
            }
        });
    }

    fn push_tags(&mut self, quantifier: Quantifier, value: &str) {
        let nul = value.contains('\0');
        match (quantifier, nul) {
            (Quantifier::Any, true) => {
                self.push("FALSE");
            }
            (Quantifier::All, true) => {
                self.push("(cardinality(tags) = 0)");
            }
            (Quantifier::Any, false) => {
                self.push("(");
                self.bind(Param::Text(value.to_string()))
                    .push("::text = ANY(tags))");
            }
            (Quantifier::All, false) => {
                self.push("(");
                self.bind(Param::Text(value.to_string()))
                    .push("::text = ALL(tags))");
            }
        }
    }

    /// Appends ` ORDER BY` the keys, then id ascending.
    pub(crate) fn push_order_by(&mut self, keys: &[SortKey]) {
        self.push(" ORDER BY ");
        for key in keys {
            self.push(column(key.field));
            self.push(if key.descending { " DESC, " } else { ", " });
        }
        self.push("id");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dam_core::ImageStatus;

    fn translate(filter: Filter) -> (String, Vec<Param>) {
        let mut b = SqlBuilder::new();
        b.push_filter(&filter);
        (b.sql, b.params)
    }

    fn cmp(field: Field, op: CmpOp, value: Value) -> Filter {
        Filter::Compare { field, op, value }
    }

    fn text(s: &str) -> Value {
        Value::String(s.to_string())
    }

    fn at(seconds: i64, nanos: u32) -> Value {
        Value::DateTime(Instant { seconds, nanos })
    }

    #[test]
    fn every_value_is_a_parameter() {
        let filter = Filter::And(
            Box::new(cmp(Field::Reference, CmpOp::Eq, text("x' or 1=1 --"))),
            Box::new(cmp(Field::NumLinks, CmpOp::Gt, Value::Integer(5))),
        );
        let (sql, params) = translate(filter);
        assert_eq!(
            sql,
            "((reference = $1::text COLLATE \"C\") AND (num_links > $2::bigint))"
        );
        assert_eq!(
            params,
            vec![Param::Text("x' or 1=1 --".into()), Param::Int(5)]
        );
        let (sql, params) = translate(cmp(
            Field::Status,
            CmpOp::Ne,
            Value::Status(ImageStatus::Updating),
        ));
        assert_eq!(sql, "(status <> $1::text COLLATE \"C\")");
        assert_eq!(params, vec![Param::Text("Up".into())]);
    }

    #[test]
    fn nullable_fields_use_two_valued_logic() {
        let filter = Filter::Not(Box::new(cmp(Field::OriginalUrl, CmpOp::Eq, text("a"))));
        let (sql, _) = translate(filter);
        assert_eq!(
            sql,
            "(NOT COALESCE((original_url = $1::text COLLATE \"C\"), false))"
        );
        let (sql, _) = translate(Filter::CompareFields {
            left: Field::ThumbnailUrl,
            op: CmpOp::Eq,
            right: Field::OriginalUrl,
        });
        assert_eq!(sql, "COALESCE((thumbnail_url = original_url), false)");
    }

    #[test]
    fn nul_literals_are_decided_locally() {
        let (sql, params) = translate(cmp(Field::Reference, CmpOp::Eq, text("a\0b")));
        assert_eq!((sql.as_str(), params.len()), ("FALSE", 0));
        let (sql, _) = translate(cmp(Field::OriginalUrl, CmpOp::Ne, text("a\0")));
        assert_eq!(sql, "(original_url IS NOT NULL)");
        let (sql, _) = translate(cmp(Field::Reference, CmpOp::Ne, text("\0")));
        assert_eq!(sql, "TRUE");
        let (sql, params) = translate(cmp(Field::Reference, CmpOp::Ge, text("ab\0c")));
        assert_eq!(sql, "(reference > $1::text COLLATE \"C\")");
        assert_eq!(params, vec![Param::Text("ab".into())]);
        let (sql, _) = translate(cmp(Field::Reference, CmpOp::Lt, text("ab\0c")));
        assert_eq!(sql, "(reference <= $1::text COLLATE \"C\")");
        let (sql, _) = translate(Filter::StringCall {
            function: StringFunction::Contains,
            field: Field::Reference,
            needle: "\0".into(),
        });
        assert_eq!(sql, "FALSE");
        let (sql, _) = translate(Filter::Tags {
            quantifier: Quantifier::All,
            value: "\0".into(),
        });
        assert_eq!(sql, "(cardinality(tags) = 0)");
        let (sql, params) = translate(Filter::In {
            field: Field::FileType,
            values: vec![text("a\0"), text("jpg")],
        });
        assert_eq!(sql, "(file_type = ANY($1::text[]))");
        assert_eq!(params, vec![Param::Texts(vec!["jpg".into()])]);
        for sql in [&sql, &format!("{params:?}")] {
            assert!(!sql.contains('\0'));
        }
    }

    #[test]
    fn fractional_instants_compare_exactly() {
        let (sql, params) = translate(cmp(Field::ModifiedOn, CmpOp::Ge, at(1_704_067_200, 5)));
        assert_eq!(sql, "(modified_on > $1::bigint)");
        assert_eq!(params, vec![Param::Int(1_704_067_200)]);
        let (sql, _) = translate(cmp(Field::CreatedOn, CmpOp::Eq, at(0, 500_000_000)));
        assert_eq!(sql, "FALSE");
        let (sql, _) = translate(cmp(Field::CreatedOn, CmpOp::Lt, at(0, 1)));
        assert_eq!(sql, "(created_on <= $1::bigint)");
        let (sql, _) = translate(cmp(Field::CreatedOn, CmpOp::Lt, at(0, 0)));
        assert_eq!(sql, "(created_on < $1::bigint)");
        let (sql, params) = translate(Filter::In {
            field: Field::CreatedOn,
            values: vec![at(1, 1), at(2, 0)],
        });
        assert_eq!(sql, "(created_on = ANY($1::bigint[]))");
        assert_eq!(params, vec![Param::Ints(vec![2])]);
    }

    #[test]
    fn string_functions_avoid_like() {
        let (sql, _) = translate(Filter::StringCall {
            function: StringFunction::EndsWith,
            field: Field::ThumbnailUrl,
            needle: "%_".into(),
        });
        assert_eq!(
            sql,
            "COALESCE(($1::text = right(thumbnail_url, char_length($1::text))), false)"
        );
        let (sql, _) = translate(Filter::StringCall {
            function: StringFunction::StartsWith,
            field: Field::Reference,
            needle: "a".into(),
        });
        assert_eq!(sql, "(starts_with(reference, $1::text))");
    }

    #[test]
    fn order_by_ends_with_the_id() {
        let mut b = SqlBuilder::new();
        b.push_order_by(&[
            SortKey {
                field: Field::Status,
                descending: true,
            },
            SortKey {
                field: Field::NumLinks,
                descending: false,
            },
        ]);
        assert_eq!(b.sql(), " ORDER BY status DESC, num_links, id");
    }
}
