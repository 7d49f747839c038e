//! `$orderby`: placeholder until the parser lands.
use super::error::QueryError;
use super::model::SortKey;

/// Parses and validates an `$orderby` value.
pub fn parse_orderby(text: &str) -> Result<Vec<SortKey>, QueryError> {
    let _ = text;
    Err(QueryError::OrderBy {
        message: "not implemented yet".into(),
        position: 0,
    })
}
