//! The dialect: a lowered [`Condition`] and the page's sort keys as SQLite SQL.
//!
//! The core decides every storage rule ([`dam_core::query::Filter::lower`]); this module only
//! spells each node as one SQL fragment. Column names come only from [`Field`] (never from
//! input) and every literal becomes a bound parameter. Each fragment is two-valued — it yields
//! 0 or 1, never NULL — so `NOT` means exactly what the core's reference means.

use dam_core::store::{
    CmpOp, Condition, Field, ListQuery, Operand, Quantifier, SortKey, StringFunction,
};
use rusqlite::types::Value as SqlValue;

/// The columns of `images` an [`dam_core::Image`] is read from, in the order `row` expects.
pub(crate) const IMAGE_COLUMNS: &str = "images.id, images.reference, images.file_type, \
     images.status, images.num_links, images.created_on, images.modified_on, \
     images.original_url, images.thumbnail_url, images.thumbnail_medium_url, \
     images.thumbnail_preview_url, images.width, images.height, images.size_in_bytes, \
     images.tags";

/// The restriction of a statement to one tenant's images; binds the tenant name.
pub(crate) const TENANT_SCOPE: &str =
    "images.tenant_id = (SELECT tenants.id FROM tenants WHERE tenants.name = ?)";

/// The column of a field (`tags` has a table of its own and never reaches here as a column).
fn column(field: Field) -> &'static str {
    match field {
        Field::Id => "images.id",
        Field::Reference => "images.reference",
        Field::FileType => "images.file_type",
        Field::Status => "images.status",
        Field::NumLinks => "images.num_links",
        Field::CreatedOn => "images.created_on",
        Field::ModifiedOn => "images.modified_on",
        Field::OriginalUrl => "images.original_url",
        Field::ThumbnailUrl => "images.thumbnail_url",
        Field::ThumbnailMediumUrl => "images.thumbnail_medium_url",
        Field::ThumbnailPreviewUrl => "images.thumbnail_preview_url",
        Field::Width => "images.width",
        Field::Height => "images.height",
        Field::SizeInBytes => "images.size_in_bytes",
        Field::Tags => "NULL",
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

    fn bind_operand(&mut self, operand: &Operand) {
        match operand {
            Operand::Integer(i) => self.bind(SqlValue::Integer(*i)),
            Operand::Text(s) => self.bind(SqlValue::Text(s.clone())),
        }
    }

    /// `(col IS NOT NULL AND ` before a test of a nullable column, so it gives 0, not NULL.
    fn open(&mut self, guarded: &[Field]) {
        self.push("(");
        for field in guarded.iter().filter(|f| f.is_nullable()) {
            self.push(column(*field));
            self.push(" IS NOT NULL AND ");
        }
    }

    /// Appends `condition` as a two-valued predicate over the `images` row.
    pub(crate) fn condition(&mut self, condition: &Condition) {
        match condition {
            Condition::Constant(truth) => self.push(if *truth { "1" } else { "0" }),
            Condition::And(a, b) => self.binary(a, "AND", b),
            Condition::Or(a, b) => self.binary(a, "OR", b),
            Condition::Not(inner) => {
                self.push("(NOT ");
                self.condition(inner);
                self.push(")");
            }
            Condition::Compare {
                field, op, operand, ..
            } => {
                self.open(&[*field]);
                self.push(column(*field));
                self.push(" ");
                self.push(operator(*op));
                self.push(" ");
                self.bind_operand(operand);
                self.push(")");
            }
            Condition::CompareFields {
                left, op, right, ..
            } => {
                self.open(&[*left, *right]);
                self.push(column(*left));
                self.push(" ");
                self.push(operator(*op));
                self.push(" ");
                self.push(column(*right));
                self.push(")");
            }
            Condition::IsNull { field, negated } => {
                self.push("(");
                self.push(column(*field));
                self.push(if *negated {
                    " IS NOT NULL)"
                } else {
                    " IS NULL)"
                });
            }
            Condition::In {
                field, operands, ..
            } => {
                self.open(&[*field]);
                self.push(column(*field));
                self.push(" IN (");
                for (i, operand) in operands.iter().enumerate() {
                    if i > 0 {
                        self.push(", ");
                    }
                    self.bind_operand(operand);
                }
                self.push("))");
            }
            Condition::StringCall {
                function,
                field,
                needle,
                ..
            } => self.string_call(*function, *field, needle),
            Condition::Tags { quantifier, value } => self.tags(*quantifier, value),
            Condition::NoTags => self.push(
                "(NOT EXISTS (SELECT 1 FROM image_tags WHERE image_tags.image_id = images.id))",
            ),
        }
    }

    fn binary(&mut self, a: &Condition, op: &str, b: &Condition) {
        self.push("(");
        self.condition(a);
        self.push(" ");
        self.push(op);
        self.push(" ");
        self.condition(b);
        self.push(")");
    }

    /// Byte-wise and case-sensitive: the column and the needle are compared as BLOBs, so no
    /// collation or `LIKE` wildcard plays a part.
    fn string_call(&mut self, function: StringFunction, field: Field, needle: &str) {
        let col = column(field);
        let bytes = needle.as_bytes().to_vec();
        self.open(&[field]);
        // SQLite's string functions answer NULL on some empty values (`substr` of an empty
        // BLOB): COALESCE keeps the test two-valued.
        self.push("COALESCE(");
        match function {
            StringFunction::Contains => {
                self.push("instr(CAST(");
                self.push(col);
                self.push(" AS BLOB), ");
                self.bind(SqlValue::Blob(bytes));
                self.push(") > 0");
            }
            // `instr` finds the first occurrence, so the needle starts the value exactly when
            // it is found at position 1.
            StringFunction::StartsWith => {
                self.push("instr(CAST(");
                self.push(col);
                self.push(" AS BLOB), ");
                self.bind(SqlValue::Blob(bytes));
                self.push(") = 1");
            }
            // The needle is never empty (the core decides that case), so `substr` of the tail
            // is never asked for zero bytes, where it would answer NULL.
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

/// `ORDER BY` the page's complete sort keys ([`ListQuery::sort_keys`]).
pub(crate) fn order_by(keys: &[SortKey]) -> String {
    let keys: Vec<String> = keys
        .iter()
        .map(|key| {
            let direction = if key.descending { "DESC" } else { "ASC" };
            format!("{} {direction}", column(key.field))
        })
        .collect();
    format!(" ORDER BY {}", keys.join(", "))
}

/// The statements of one list request: the page (with [`ListQuery::fetch_limit`] rows) and,
/// when asked, the count.
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
    if let Some(lowered) = query.condition() {
        condition.push(" AND ");
        condition.condition(&lowered);
    }
    let count = query.count.then(|| Sql {
        text: format!("SELECT COUNT(*){}", condition.text),
        params: condition.params.clone(),
    });
    let mut page = Sql {
        text: format!("SELECT {IMAGE_COLUMNS}{}", condition.text),
        params: condition.params,
    };
    page.push(&order_by(&query.sort_keys()));
    page.push(" LIMIT ");
    page.bind(SqlValue::Integer(query.fetch_limit()));
    page.push(" OFFSET ");
    page.bind(SqlValue::Integer(query.offset()));
    ListStatements { page, count }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dam_core::query::{Filter, Instant, Value};

    fn sql_of(filter: &Filter) -> Sql {
        let mut sql = Sql::default();
        sql.condition(&filter.lower());
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
    fn each_lowered_node_is_one_fragment() {
        let at = Instant {
            seconds: 100,
            nanos: 500_000_000,
        };
        let sql = sql_of(&Filter::Compare {
            field: Field::ModifiedOn,
            op: CmpOp::Lt,
            value: Value::DateTime(at),
        });
        assert_eq!(sql.text, "(images.modified_on <= ?)");
        assert_eq!(sql.params, vec![SqlValue::Integer(100)]);
        let mut sql = Sql::default();
        sql.condition(&Condition::Constant(false));
        sql.condition(&Condition::NoTags);
        assert_eq!(
            sql.text,
            "0(NOT EXISTS (SELECT 1 FROM image_tags WHERE image_tags.image_id = images.id))"
        );
    }

    #[test]
    fn order_by_spells_every_key() {
        let key = |field, descending| SortKey { field, descending };
        assert_eq!(
            order_by(&[key(Field::CreatedOn, true), key(Field::Id, false)]),
            " ORDER BY images.created_on DESC, images.id ASC"
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
