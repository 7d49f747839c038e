//! `$filter`: placeholder until the nom parser lands.
use super::error::QueryError;
use super::model::Filter;

/// Parses and validates a `$filter` value.
pub fn parse_filter(text: &str) -> Result<Filter, QueryError> {
    let _ = text;
    Err(QueryError::Filter {
        message: "not implemented yet".into(),
        position: 0,
    })
}
