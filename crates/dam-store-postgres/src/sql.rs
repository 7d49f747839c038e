//! The dialect: a lowered [`Condition`] and the page's sort keys as PostgreSQL SQL, with every
//! value a bound parameter.
//!
//! The core decides every storage rule ([`dam_core::query::Filter::lower`]: whole-second
//! bounds, NUL-bearing literals, pruned `in` lists, null rules); this module only spells each
//! node as one fragment:
//! - a test of a nullable (URL) column is wrapped in `COALESCE(…, false)`, so it is false
//!   where the column is null and `NOT` of it is true;
//! - strings compare under `COLLATE "C"` (bytes of UTF-8, so code-point order);
//! - `contains`/`startswith`/`endswith` use `strpos`, `starts_with` and `right`, never `LIKE`,
//!   so `%` and `_` in a needle are plain characters.

use std::fmt::Write;

use dam_core::store::{CmpOp, Condition, Field, ListQuery, Operand, Quantifier, StringFunction};
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

    /// The parameters, in placeholder order, as [`tokio_postgres::Client::query`] takes them
    /// for a statement prepared with [`SqlBuilder::types`].
    pub(crate) fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.params.iter().map(Param::as_sql).collect()
    }

    /// The parameters' types, in placeholder order.
    pub(crate) fn types(&self) -> Vec<Type> {
        self.params.iter().map(Param::pg_type).collect()
    }

    /// Appends a boolean SQL expression for a lowered condition; never NULL.
    pub(crate) fn push_condition(&mut self, condition: &Condition) {
        match condition {
            Condition::Constant(truth) => {
                self.push(if *truth { "TRUE" } else { "FALSE" });
            }
            Condition::And(a, b) => self.push_binary(a, " AND ", b),
            Condition::Or(a, b) => self.push_binary(a, " OR ", b),
            Condition::Not(inner) => {
                self.push("(NOT ");
                self.push_condition(inner);
                self.push(")");
            }
            Condition::Compare {
                field,
                op,
                operand,
                nullable,
            } => self.push_test(*nullable, |b| {
                b.push(column(*field))
                    .push(" ")
                    .push(operator(*op))
                    .push(" ");
                b.push_operand(operand);
            }),
            Condition::CompareFields {
                left,
                op,
                right,
                nullable,
            } => {
                let test = format!("{} {} {}", column(*left), operator(*op), column(*right));
                self.push_test(*nullable, |b| {
                    b.push(&test);
                });
            }
            Condition::IsNull { field, negated } => {
                self.push("(").push(column(*field));
                self.push(if *negated {
                    " IS NOT NULL)"
                } else {
                    " IS NULL)"
                });
            }
            Condition::In {
                field,
                operands,
                nullable,
            } => self.push_in(*field, operands, *nullable),
            Condition::StringCall {
                function,
                field,
                needle,
                nullable,
            } => self.push_string_call(*function, *field, needle, *nullable),
            Condition::Tags { quantifier, value } => {
                let all = match quantifier {
                    Quantifier::Any => "ANY",
                    Quantifier::All => "ALL",
                };
                self.push("(");
                self.bind(Param::Text(value.clone()))
                    .push("::text = ")
                    .push(all)
                    .push("(tags))");
            }
            Condition::NoTags => {
                self.push("(cardinality(tags) = 0)");
            }
        }
    }

    fn push_binary(&mut self, a: &Condition, op: &str, b: &Condition) {
        self.push("(");
        self.push_condition(a);
        self.push(op);
        self.push_condition(b);
        self.push(")");
    }

    /// Appends `test`, wrapped in `COALESCE(…, false)` when it reads a nullable column.
    fn push_test(&mut self, nullable: bool, test: impl FnOnce(&mut Self)) {
        self.push(if nullable { "COALESCE((" } else { "(" });
        test(self);
        self.push(if nullable { "), false)" } else { ")" });
    }

    fn push_operand(&mut self, operand: &Operand) {
        match operand {
            Operand::Integer(v) => {
                self.bind(Param::Int(*v)).push("::bigint");
            }
            Operand::Text(v) => {
                self.bind(Param::Text(v.clone()))
                    .push("::text COLLATE \"C\"");
            }
        }
    }

    /// `field in (…)` as `= ANY($n)` with one array parameter.
    fn push_in(&mut self, field: Field, operands: &[Operand], nullable: bool) {
        let mut ints = Vec::new();
        let mut texts = Vec::new();
        for operand in operands {
            match operand {
                Operand::Integer(v) => ints.push(*v),
                Operand::Text(s) => texts.push(s.clone()),
            }
        }
        self.push_test(nullable, |b| {
            b.push(column(field)).push(" = ANY(");
            if texts.is_empty() {
                b.bind(Param::Ints(ints)).push("::bigint[])");
            } else {
                b.bind(Param::Texts(texts)).push("::text[])");
            }
        });
    }

    fn push_string_call(
        &mut self,
        function: StringFunction,
        field: Field,
        needle: &str,
        nullable: bool,
    ) {
        let col = column(field);
        self.push_test(nullable, |b| match function {
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

    /// Appends ` ORDER BY` the page's complete sort keys ([`ListQuery::sort_keys`]).
    pub(crate) fn push_order_by(&mut self, query: &ListQuery) {
        let keys: Vec<String> = query
            .sort_keys()
            .iter()
            .map(|key| {
                let direction = if key.descending { " DESC" } else { "" };
                format!("{}{direction}", column(key.field))
            })
            .collect();
        self.push(" ORDER BY ").push(&keys.join(", "));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dam_core::query::{Filter, Instant, Value};
    use dam_core::store::SortKey;
    use dam_core::ImageStatus;

    fn translate(filter: Filter) -> (String, Vec<Param>) {
        let mut b = SqlBuilder::new();
        b.push_condition(&filter.lower());
        (b.sql, b.params)
    }

    fn cmp(field: Field, op: CmpOp, value: Value) -> Filter {
        Filter::Compare { field, op, value }
    }

    fn text(s: &str) -> Value {
        Value::String(s.to_string())
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
    fn nul_literals_never_reach_the_server() {
        let (sql, params) = translate(cmp(Field::Reference, CmpOp::Eq, text("a\0b")));
        assert_eq!((sql.as_str(), params.len()), ("FALSE", 0));
        let (sql, _) = translate(Filter::Tags {
            quantifier: dam_core::store::Quantifier::All,
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
    fn fractional_instants_are_whole_second_bounds() {
        let at = |seconds, nanos| Value::DateTime(Instant { seconds, nanos });
        let (sql, params) = translate(cmp(Field::ModifiedOn, CmpOp::Ge, at(1_704_067_200, 5)));
        assert_eq!(sql, "(modified_on > $1::bigint)");
        assert_eq!(params, vec![Param::Int(1_704_067_200)]);
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
        let key = |field, descending| SortKey { field, descending };
        b.push_order_by(&ListQuery {
            order_by: vec![key(Field::Status, true), key(Field::NumLinks, false)],
            ..ListQuery::default()
        });
        assert_eq!(b.sql(), " ORDER BY status DESC, num_links, id");
    }
}
