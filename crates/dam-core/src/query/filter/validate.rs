//! Meaning: resolves names against the image schema and checks types (contract §5), turning
//! what the grammar read into the typed [`Filter`] that stores trust. Comparisons with the
//! literal on the left are turned around (`5 lt numLinks` → `numLinks gt 5`, `null eq
//! originalUrl` → `originalUrl eq null`).
//!
//! The parser ([`super::syntax`]) hands each comparison, `in` and call to the [`Checker`] as
//! soon as it has read it, so in reading order; it keeps the first error and reports it only
//! once the grammar holds for the whole value (a syntax error anywhere comes first).

use super::char_position;
use super::syntax::{Literal, LiteralValue, Name, Operand};
use crate::image::ImageStatus;
use crate::query::error::{shorten, QueryError};
use crate::query::model::{CmpOp, Field, FieldType, Filter, StringFunction, Value};

/// Every field name, for the unknown-field error.
const FIELD_NAMES: [&str; 15] = Field::names(Field::ALL);

/// Checks the primaries of a `$filter` value (`src`) and builds their typed filters.
pub(super) struct Checker<'s> {
    src: &'s str,
}

impl<'s> Checker<'s> {
    pub(super) fn new(src: &'s str) -> Self {
        Checker { src }
    }

    fn position(&self, at: usize) -> usize {
        char_position(self.src, at)
    }

    pub(super) fn call(
        &self,
        function: StringFunction,
        name: &Name<'_>,
        argument: &Operand<'_>,
    ) -> Result<Filter, QueryError> {
        let field = self.field(name)?;
        if !matches!(
            field.field_type(),
            FieldType::String | FieldType::NullableString
        ) {
            return Err(QueryError::StringFunctionField {
                function,
                field,
                position: self.position(name.at),
            });
        }
        match argument {
            Operand::Literal(Literal {
                value: LiteralValue::String(needle),
                ..
            }) => Ok(Filter::StringCall {
                function,
                field,
                needle: needle.to_string(),
            }),
            other => Err(QueryError::StringFunctionArgument {
                function,
                field,
                found: describe_operand(other),
                position: self.position(name.at),
            }),
        }
    }

    /// A known field (case-sensitive).
    fn field(&self, name: &Name<'_>) -> Result<Field, QueryError> {
        Field::from_name(name.text).ok_or_else(|| QueryError::UnknownField {
            name: shorten(name.text),
            position: self.position(name.at),
            valid: &FIELD_NAMES,
        })
    }

    /// A field that may be compared: known, and not `tags`.
    fn comparable_field(&self, name: &Name<'_>) -> Result<Field, QueryError> {
        let field = self.field(name)?;
        if field == Field::Tags {
            return Err(QueryError::TagsOutsideLambda {
                position: self.position(name.at),
            });
        }
        Ok(field)
    }

    pub(super) fn comparison(
        &self,
        left: &Operand<'_>,
        op: CmpOp,
        right: &Operand<'_>,
    ) -> Result<Filter, QueryError> {
        // The field comes first; a literal on the left swaps the operator.
        let (name, op, other) = match (left, right) {
            (Operand::Field(name), other) => (name, op, other),
            (literal @ Operand::Literal(_), Operand::Field(name)) => (name, op.flip(), literal),
            (Operand::Literal(literal), Operand::Literal(_)) => {
                return Err(QueryError::ComparisonWithoutField {
                    position: self.position(literal.at),
                })
            }
        };
        let field = self.comparable_field(name)?;
        // Counted only for an error: it walks the text up to the name.
        let position = || self.position(name.at);
        if field == Field::Status && op.is_ordering() {
            return Err(QueryError::OrderingOnStatus {
                operator: op,
                position: position(),
            });
        }
        match other {
            Operand::Field(right_name) => {
                let right = self.field(right_name)?;
                if !field.field_type().comparable_with(right.field_type()) {
                    return Err(QueryError::TypeMismatch {
                        field,
                        expected: field.field_type().describe(),
                        found: format!("the field {right} ({})", right.field_type().describe()),
                        position: self.position(right_name.at),
                    });
                }
                Ok(Filter::CompareFields {
                    left: field,
                    op,
                    right,
                })
            }
            Operand::Literal(Literal {
                value: LiteralValue::Null,
                ..
            }) => {
                if field.field_type() != FieldType::NullableString || op.is_ordering() {
                    return Err(QueryError::NullNotAllowed {
                        field,
                        operator: op,
                        position: position(),
                    });
                }
                Ok(Filter::IsNull {
                    field,
                    negated: op == CmpOp::Ne,
                })
            }
            Operand::Literal(literal) => Ok(Filter::Compare {
                field,
                op,
                value: typed_value(field, &literal.value).map_err(|found| {
                    QueryError::TypeMismatch {
                        field,
                        expected: field.field_type().describe(),
                        found,
                        position: position(),
                    }
                })?,
            }),
        }
    }

    pub(super) fn in_list(
        &self,
        name: &Name<'_>,
        items: &[Literal<'_>],
    ) -> Result<Filter, QueryError> {
        let field = self.comparable_field(name)?;
        let position = || self.position(name.at);
        let mut values = Vec::with_capacity(items.len());
        for item in items {
            values.push(match &item.value {
                LiteralValue::Null => {
                    return Err(QueryError::NullInList {
                        field,
                        position: position(),
                    })
                }
                value => typed_value(field, value).map_err(|found| QueryError::TypeMismatch {
                    field,
                    expected: field.field_type().describe(),
                    found,
                    position: position(),
                })?,
            });
        }
        Ok(Filter::In { field, values })
    }
}

/// The literal as a value of `field`'s type, or how the error names what was given.
fn typed_value(field: Field, literal: &LiteralValue<'_>) -> Result<Value, String> {
    match (field.field_type(), literal) {
        (FieldType::Integer, LiteralValue::Integer(i)) => Ok(Value::Integer(*i)),
        (FieldType::DateTime, LiteralValue::DateTime(t)) => Ok(Value::DateTime(*t)),
        (FieldType::String | FieldType::NullableString, LiteralValue::String(s)) => {
            Ok(Value::String(s.to_string()))
        }
        (FieldType::Status, LiteralValue::String(s)) => ImageStatus::from_code(s)
            .map(Value::Status)
            .map_err(|_| format!("'{}'", shorten(s))),
        (_, other) => Err(other.describe().to_string()),
    }
}

fn describe_operand(operand: &Operand<'_>) -> String {
    match operand {
        Operand::Field(name) => format!("the field {}", shorten(name.text)),
        Operand::Literal(literal) => literal.value.describe().to_string(),
    }
}
