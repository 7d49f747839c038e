//! Errors of the query language: every one is a 400.

/// A query option the API refuses (400). `Display` is the problem's `detail`: it names the
/// parameter, the position where one applies, and what was expected or allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// A `%` not followed by two hex digits in the query string.
    #[error("the query string holds a malformed percent escape in {parameter}")]
    MalformedEscape {
        /// The option (or `query` when the name itself is broken).
        parameter: String,
    },
    /// A name or value that is not UTF-8 once decoded.
    #[error("{parameter}: the value is not valid UTF-8 once decoded")]
    InvalidUtf8 {
        /// The option (or `query`).
        parameter: String,
    },
    /// A query string longer than the API reads.
    #[error("the query string is longer than {limit} bytes")]
    QueryStringTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// A `$` option the API does not support.
    #[error("the query option {name} is not supported; supported options are $filter, $orderby, $top, $skip and $count")]
    UnsupportedOption {
        /// The option name as decoded (shortened if long).
        name: String,
    },
    /// An option given more than once.
    #[error("the query option {name} is given more than once")]
    RepeatedOption {
        /// The option name.
        name: String,
    },
    /// `$top` not an integer from 0 to 100.
    #[error("$top must be an integer from 0 to 100, got '{value}'")]
    InvalidTop {
        /// The value received (shortened if long).
        value: String,
    },
    /// `$skip` not an integer ≥ 0.
    #[error("$skip must be an integer from 0 to 9223372036854775807, got '{value}'")]
    InvalidSkip {
        /// The value received (shortened if long).
        value: String,
    },
    /// `$count` not `true`/`false`.
    #[error("$count must be true or false, got '{value}'")]
    InvalidCount {
        /// The value received (shortened if long).
        value: String,
    },
    /// Placeholder for `$orderby` errors until the parser lands.
    #[error("$orderby: {message} at position {position}")]
    OrderBy {
        /// What was wrong.
        message: String,
        /// Character offset.
        position: usize,
    },
    /// Placeholder for `$filter` errors until the parser lands.
    #[error("$filter: {message} at position {position}")]
    Filter {
        /// What was wrong.
        message: String,
        /// Character offset.
        position: usize,
    },
}

impl QueryError {
    /// The option the error is about (`$filter`, `$top`, …).
    pub fn parameter(&self) -> &str {
        match self {
            QueryError::MalformedEscape { parameter } | QueryError::InvalidUtf8 { parameter } => {
                parameter
            }
            QueryError::UnsupportedOption { name } | QueryError::RepeatedOption { name } => name,
            QueryError::QueryStringTooLong { .. } => "query",
            QueryError::InvalidTop { .. } => "$top",
            QueryError::InvalidSkip { .. } => "$skip",
            QueryError::InvalidCount { .. } => "$count",
            QueryError::OrderBy { .. } => "$orderby",
            QueryError::Filter { .. } => "$filter",
        }
    }

    /// The 0-based character offset into the decoded value, where one applies.
    pub fn position(&self) -> Option<usize> {
        match self {
            QueryError::OrderBy { position, .. } | QueryError::Filter { position, .. } => {
                Some(*position)
            }
            _ => None,
        }
    }
}

/// A value shortened for an error message: at most 64 characters, so that a 400 never echoes
/// a huge input.
pub(crate) fn shorten(value: &str) -> String {
    const MAX: usize = 64;
    if value.chars().count() <= MAX {
        value.to_string()
    } else {
        let mut s: String = value.chars().take(MAX).collect();
        s.push('…');
        s
    }
}
