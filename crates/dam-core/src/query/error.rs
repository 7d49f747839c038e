//! Errors of the query language: every one is a 400.

use super::model::{CmpOp, Field, StringFunction};

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
    #[error("the query option {name} is not supported; supported options are $filter, $orderby, $top, $skip, $count and $skiptoken")]
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
    // ----- $skiptoken ----------------------------------------------------------------------
    /// A `$skiptoken` that this server did not write for this request: it does not decode,
    /// another format version wrote it, or it was written for another `$filter`/`$orderby`.
    #[error("$skiptoken is invalid or expired: {reason}; follow @nextLink as the server wrote it")]
    InvalidSkipToken {
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `$skiptoken` together with `$skip` (a token already says where the page starts).
    #[error("$skiptoken cannot be combined with $skip; follow @nextLink as the server wrote it")]
    SkipTokenWithSkip,

    // ----- $orderby -------------------------------------------------------------------------
    /// An `$orderby` item with no field: `numLinks,`, `,id` or an empty value.
    #[error("$orderby: expected a field name at position {position}, found {found}")]
    OrderByEmptyItem {
        /// Where the field was expected.
        position: usize,
        /// What stood there (`','` or `the end of the value`).
        found: String,
    },
    /// An `$orderby` item of more than two words: `numLinks desc asc`.
    #[error("$orderby: expected ',' or the end of the value after the direction at position {position}, found '{found}'")]
    OrderByTooManyWords {
        /// The third word.
        position: usize,
        /// That word (shortened).
        found: String,
    },
    /// An `$orderby` field that the schema does not have (names are case-sensitive).
    #[error("$orderby: unknown field '{name}' at position {position}; sortable fields are {}", .sortable.join(", "))]
    OrderByUnknownField {
        /// The name as given (shortened).
        name: String,
        /// Where it starts.
        position: usize,
        /// The fields `$orderby` takes.
        sortable: &'static [&'static str],
    },
    /// A field that exists but cannot be sorted on (`tags`, the URL fields).
    #[error("$orderby: cannot sort by '{field}' at position {position}; sortable fields are {}", .sortable.join(", "))]
    OrderByNotSortable {
        /// The field.
        field: Field,
        /// Where it starts.
        position: usize,
        /// The fields `$orderby` takes.
        sortable: &'static [&'static str],
    },
    /// A direction other than `asc` or `desc` (case-sensitive).
    #[error("$orderby: expected 'asc' or 'desc' at position {position}, found '{found}'")]
    OrderByDirection {
        /// Where the direction starts.
        position: usize,
        /// The word given (shortened).
        found: String,
    },
    /// A field named twice in `$orderby`.
    #[error("$orderby: '{field}' is named twice; its second mention is at position {position}")]
    OrderByDuplicate {
        /// The field.
        field: Field,
        /// The second mention.
        position: usize,
    },

    // ----- $filter: the value as a whole ----------------------------------------------------
    /// An empty or blank `$filter`.
    #[error("$filter: the value is empty; expected an expression at position {position}")]
    EmptyFilter {
        /// The end of the value (0 when empty, its length when blank).
        position: usize,
    },
    /// An `$orderby` longer than the limit, counted in UTF-8 bytes after form decoding.
    #[error("$orderby: the value is {bytes} bytes long; at most {limit} bytes are allowed")]
    OrderByTooLong {
        /// The value's length in bytes.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// A `$filter` longer than the limit, counted in UTF-8 bytes after form decoding.
    #[error("$filter: the value is {bytes} bytes long; at most {limit} bytes are allowed")]
    FilterTooLong {
        /// The value's length in bytes.
        bytes: usize,
        /// The limit.
        limit: usize,
    },

    // ----- $filter: words ---------------------------------------------------------------------
    /// A character that starts no word and is no punctuation (a tab, `=`, `.`, `"` …).
    #[error("$filter: unexpected character {character:?} at position {position}; expected a name, a literal, a space or one of ( ) , : /")]
    UnexpectedCharacter {
        /// The character.
        character: char,
        /// Where it is.
        position: usize,
    },
    /// A word followed by a character that cannot end it: `1and`, `'a'and`, `numLinks==5`.
    #[error("$filter: expected a space or one of ( ) , : / after '{word}' at position {position}, found {character:?}")]
    MissingSeparator {
        /// The word (shortened).
        word: String,
        /// The character after it.
        character: char,
        /// Where that character is.
        position: usize,
    },
    /// A string literal without its closing quote.
    #[error("$filter: the string literal starting at position {position} has no closing quote (write '' for a quote inside it)")]
    UnterminatedString {
        /// The opening quote.
        position: usize,
    },
    /// A string literal longer than the limit once `''` is unescaped, in UTF-8 bytes.
    #[error("$filter: the string literal at position {position} holds {bytes} bytes; at most {limit} are allowed")]
    StringTooLong {
        /// The opening quote.
        position: usize,
        /// Its length in bytes after unescaping.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// An integer literal outside the 64-bit signed range.
    #[error("$filter: the integer {literal} at position {position} is out of range; expected -9223372036854775808 to 9223372036854775807")]
    IntegerOutOfRange {
        /// The literal (shortened).
        literal: String,
        /// Where it starts.
        position: usize,
    },
    /// A datetime literal whose values are impossible (month 13, 2023-02-29, 25:00 …).
    #[error("$filter: invalid datetime {literal} at position {position}: {reason}")]
    InvalidDateTime {
        /// The literal.
        literal: String,
        /// Where it starts.
        position: usize,
        /// What is wrong with it.
        reason: &'static str,
    },

    // ----- $filter: grammar -------------------------------------------------------------------
    /// A token that the grammar does not allow where it stands.
    #[error("$filter: expected {expected} at position {position}, found {found}")]
    Syntax {
        /// Where the unexpected token starts.
        position: usize,
        /// What the grammar allows there.
        expected: String,
        /// The token found (quoted, shortened) or `the end of the filter`.
        found: String,
    },
    /// `field in ()`.
    #[error("$filter: an 'in' list needs at least one literal; expected a literal at position {position}, found ')'")]
    EmptyInList {
        /// The `)`.
        position: usize,
    },
    /// Nesting deeper than the limit (parentheses, `not`, `any`/`all` bodies).
    #[error("$filter: nesting deeper than {limit} levels at position {position}")]
    TooDeep {
        /// The token after the opener that went one level too deep.
        position: usize,
        /// The limit.
        limit: usize,
    },
    /// More nodes than the limit (comparisons, `in`, calls, lambdas, `and`, `or`, `not`).
    #[error("$filter: more than {limit} nodes (comparisons, in, functions, any/all, and, or, not); the limit was passed before position {position}")]
    TooManyNodes {
        /// The token after the node that passed the limit.
        position: usize,
        /// The limit.
        limit: usize,
    },
    /// An `in` list with more items than the limit.
    #[error("$filter: the 'in' list of '{field}' at position {position} has {items} items; at most {limit} are allowed")]
    InListTooLong {
        /// The field on the left of `in` (shortened).
        field: String,
        /// Where that field starts.
        position: usize,
        /// The number of items.
        items: usize,
        /// The limit.
        limit: usize,
    },
    /// `tags/any(x: …)` whose body names another variable.
    #[error("$filter: expected the lambda variable '{variable}' at position {position}, found '{found}'")]
    LambdaVariable {
        /// The variable declared before `:`.
        variable: String,
        /// The name found in the body.
        found: String,
        /// Where it starts.
        position: usize,
    },
    /// An operator other than `eq` in a `tags/any`/`tags/all` body.
    #[error("$filter: only 'eq' is allowed inside tags/any and tags/all, found '{found}' at position {position}")]
    LambdaOperator {
        /// The operator found (shortened).
        found: String,
        /// Where it starts.
        position: usize,
    },
    /// A `tags/any`/`tags/all` body comparing with something else than a string.
    #[error("$filter: tags are compared with a string literal in tags/any and tags/all, found {found} after the 'eq' at position {position}")]
    LambdaValue {
        /// What was found (`an integer`, `null` …).
        found: &'static str,
        /// The `eq`.
        position: usize,
    },

    // ----- $filter: names and types -----------------------------------------------------------
    /// A name that is no field of the schema (names are case-sensitive).
    #[error("$filter: unknown field '{name}' at position {position}; valid fields are {}", .valid.join(", "))]
    UnknownField {
        /// The name as given (shortened).
        name: String,
        /// Where it starts.
        position: usize,
        /// Every field `$filter` knows.
        valid: &'static [&'static str],
    },
    /// A literal or field of the wrong type for the field it is compared with.
    #[error("$filter: {field} takes {expected}, found {found} at position {position}")]
    TypeMismatch {
        /// The field.
        field: Field,
        /// What it takes ([`FieldType::describe`](crate::query::FieldType::describe)).
        expected: &'static str,
        /// What was given (`a string`, `the field createdOn` …).
        found: String,
        /// Where the field (or, for two fields, the second one) starts.
        position: usize,
    },
    /// A comparison of two literals: `1 eq 1`.
    #[error("$filter: a comparison needs a field on one side, found two literals at position {position}")]
    ComparisonWithoutField {
        /// The left literal.
        position: usize,
    },
    /// `null` where it is not allowed: with a field that is never null, or with an ordering.
    #[error("$filter: '{field} {} null' is not allowed at position {position}; only the URL fields (originalUrl, thumbnailUrl, thumbnailMediumUrl, thumbnailPreviewUrl) are compared with null, and only with eq or ne", .operator.keyword())]
    NullNotAllowed {
        /// The field.
        field: Field,
        /// The operator.
        operator: CmpOp,
        /// Where the field starts.
        position: usize,
    },
    /// `null` inside an `in` list.
    #[error("$filter: null is not allowed in the 'in' list of {field} at position {position}; use '{field} eq null'")]
    NullInList {
        /// The field.
        field: Field,
        /// Where the field starts.
        position: usize,
    },
    /// `gt`, `ge`, `lt` or `le` on `status`.
    #[error("$filter: status takes only eq, ne and in, found '{}' at position {position}", .operator.keyword())]
    OrderingOnStatus {
        /// The operator.
        operator: CmpOp,
        /// Where `status` starts.
        position: usize,
    },
    /// `tags` outside `tags/any(…)` and `tags/all(…)`.
    #[error("$filter: tags can only be tested with tags/any(t: t eq '…') or tags/all(t: t eq '…'), at position {position}")]
    TagsOutsideLambda {
        /// Where `tags` starts.
        position: usize,
    },
    /// `contains`/`startswith`/`endswith` on a field that is not a string.
    #[error("$filter: {} takes a string field (reference, fileType or a URL field), found {field} at position {position}", .function.name())]
    StringFunctionField {
        /// The function.
        function: StringFunction,
        /// The field given.
        field: Field,
        /// Where the field starts.
        position: usize,
    },
    /// `contains`/`startswith`/`endswith` whose second argument is not a string literal.
    #[error("$filter: {}({field}, …) takes a string literal as its second argument, found {found} (field at position {position})", .function.name())]
    StringFunctionArgument {
        /// The function.
        function: StringFunction,
        /// The field given.
        field: Field,
        /// What the second argument was.
        found: String,
        /// Where the field starts.
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
            QueryError::InvalidSkipToken { .. } | QueryError::SkipTokenWithSkip => "$skiptoken",
            QueryError::OrderByEmptyItem { .. }
            | QueryError::OrderByTooManyWords { .. }
            | QueryError::OrderByUnknownField { .. }
            | QueryError::OrderByNotSortable { .. }
            | QueryError::OrderByDirection { .. }
            | QueryError::OrderByDuplicate { .. }
            | QueryError::OrderByTooLong { .. } => "$orderby",
            QueryError::EmptyFilter { .. }
            | QueryError::FilterTooLong { .. }
            | QueryError::UnexpectedCharacter { .. }
            | QueryError::MissingSeparator { .. }
            | QueryError::UnterminatedString { .. }
            | QueryError::StringTooLong { .. }
            | QueryError::IntegerOutOfRange { .. }
            | QueryError::InvalidDateTime { .. }
            | QueryError::Syntax { .. }
            | QueryError::EmptyInList { .. }
            | QueryError::TooDeep { .. }
            | QueryError::TooManyNodes { .. }
            | QueryError::InListTooLong { .. }
            | QueryError::LambdaVariable { .. }
            | QueryError::LambdaOperator { .. }
            | QueryError::LambdaValue { .. }
            | QueryError::UnknownField { .. }
            | QueryError::TypeMismatch { .. }
            | QueryError::ComparisonWithoutField { .. }
            | QueryError::NullNotAllowed { .. }
            | QueryError::NullInList { .. }
            | QueryError::OrderingOnStatus { .. }
            | QueryError::TagsOutsideLambda { .. }
            | QueryError::StringFunctionField { .. }
            | QueryError::StringFunctionArgument { .. } => "$filter",
        }
    }

    /// The 0-based character offset into the decoded value, where one applies.
    pub fn position(&self) -> Option<usize> {
        match self {
            QueryError::MalformedEscape { .. }
            | QueryError::InvalidUtf8 { .. }
            | QueryError::QueryStringTooLong { .. }
            | QueryError::UnsupportedOption { .. }
            | QueryError::RepeatedOption { .. }
            | QueryError::InvalidTop { .. }
            | QueryError::InvalidSkip { .. }
            | QueryError::InvalidCount { .. }
            | QueryError::InvalidSkipToken { .. }
            | QueryError::SkipTokenWithSkip
            | QueryError::FilterTooLong { .. }
            | QueryError::OrderByTooLong { .. } => None,
            QueryError::OrderByEmptyItem { position, .. }
            | QueryError::OrderByTooManyWords { position, .. }
            | QueryError::OrderByUnknownField { position, .. }
            | QueryError::OrderByNotSortable { position, .. }
            | QueryError::OrderByDirection { position, .. }
            | QueryError::OrderByDuplicate { position, .. }
            | QueryError::EmptyFilter { position }
            | QueryError::UnexpectedCharacter { position, .. }
            | QueryError::MissingSeparator { position, .. }
            | QueryError::UnterminatedString { position }
            | QueryError::StringTooLong { position, .. }
            | QueryError::IntegerOutOfRange { position, .. }
            | QueryError::InvalidDateTime { position, .. }
            | QueryError::Syntax { position, .. }
            | QueryError::EmptyInList { position }
            | QueryError::TooDeep { position, .. }
            | QueryError::TooManyNodes { position, .. }
            | QueryError::InListTooLong { position, .. }
            | QueryError::LambdaVariable { position, .. }
            | QueryError::LambdaOperator { position, .. }
            | QueryError::LambdaValue { position, .. }
            | QueryError::UnknownField { position, .. }
            | QueryError::TypeMismatch { position, .. }
            | QueryError::ComparisonWithoutField { position }
            | QueryError::NullNotAllowed { position, .. }
            | QueryError::NullInList { position, .. }
            | QueryError::OrderingOnStatus { position, .. }
            | QueryError::TagsOutsideLambda { position }
            | QueryError::StringFunctionField { position, .. }
            | QueryError::StringFunctionArgument { position, .. } => Some(*position),
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
