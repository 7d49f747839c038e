//! `$filter` (contract §5, §8): words ([`lexer`]), then the grammar ([`syntax`]), which hands
//! each comparison, `in` and call to the names-and-types check ([`validate`]) as it reads it
//! and builds the typed [`Filter`]; [`print`] writes a filter back as canonical text.

mod calendar;
mod lexer;
mod print;
mod syntax;
mod validate;

#[cfg(test)]
mod tests;

use super::error::QueryError;
use super::model::Filter;
use lexer::LexError;

/// The longest `$filter` accepted, in UTF-8 bytes of the form-decoded value.
pub const MAX_FILTER_BYTES: usize = 4096;
/// The deepest nesting: one level per parenthesised group, `not`, or `any`/`all` body.
pub const MAX_DEPTH: usize = 32;
/// The most nodes: comparisons, `in`, calls, lambdas, `and`, `or` and `not` (not `in` items).
pub const MAX_NODES: usize = 256;
/// The most items of one `in` list.
pub const MAX_IN_ITEMS: usize = 100;
/// The longest string literal, in UTF-8 bytes after `''` unescaping.
pub const MAX_STRING_BYTES: usize = 1024;

/// Parses and validates a `$filter` value (form-decoded) into a typed [`Filter`].
///
/// # Grammar
/// ```text
/// expr       = or
/// or         = and *( "or" and )
/// and        = unary *( "and" unary )
/// unary      = "not" unary / primary
/// primary    = "(" expr ")" / comparison / in / call / any
/// comparison = operand ( "eq" / "ne" / "gt" / "ge" / "lt" / "le" ) operand
/// in         = field "in" "(" literal *( "," literal ) ")"
/// call       = ( "contains" / "startswith" / "endswith" ) "(" field "," string ")"
/// any        = "tags/any(" name ":" name "eq" string ")"   ; also tags/all(…)
/// operand    = field / literal
/// literal    = string / integer / datetime / "null"
/// string     = "'" *( any char except "'" / "''" ) "'"
/// integer    = [ "-" ] 1*DIGIT                             ; 64-bit signed
/// datetime   = YYYY-MM-DD [ "T" hh:mm [ ":" ss [ "." 1*9DIGIT ] ] [ "Z" / ("+" / "-") hh:mm ] ]
/// ```
/// `not` binds to the primary after it, then `and`, then `or`: `not a and b` is
/// `(not a) and b`, `a or b and c` is `a or (b and c)`. Only the space separates words, and a
/// word ends at a space, at one of `( ) , : /` or at the end (`1and x` is an error,
/// `notnumLinks` a name). Keywords are lower-case; field names case-sensitive. A datetime
/// without zone is UTC. See `QUERY.md` for the full table of rules.
///
/// # Limits
/// [`MAX_FILTER_BYTES`], [`MAX_DEPTH`], [`MAX_NODES`], [`MAX_IN_ITEMS`], [`MAX_STRING_BYTES`];
/// nesting is refused by counting before recursing, so no input can exhaust the stack.
///
/// # Errors
/// A [`QueryError`] naming `$filter`, the 0-based character position of the offending token
/// (where one applies) and what was expected. Words are checked first over the whole value,
/// then the grammar, then names and types, in reading order.
///
/// # Examples
/// ```
/// use dam_core::query::{Filter, Value, parse_filter};
/// use dam_core::store::{CmpOp, Field};
///
/// let f = parse_filter("5 lt numLinks").unwrap();
/// assert_eq!(f, Filter::Compare { field: Field::NumLinks, op: CmpOp::Gt, value: Value::Integer(5) });
///
/// let f = parse_filter("not numLinks eq 0 and contains(reference,'logo')").unwrap();
/// assert!(matches!(f, Filter::And(..)));
/// assert_eq!(f.to_string(), "not numLinks eq 0 and contains(reference, 'logo')");
///
/// let e = parse_filter("numLinks 5").unwrap_err();
/// assert_eq!(e.position(), Some(9));
/// assert!(e.to_string().starts_with("$filter: expected a comparison operator after 'numLinks' at position 9"));
/// ```
pub fn parse_filter(text: &str) -> Result<Filter, QueryError> {
    if text.len() > MAX_FILTER_BYTES {
        return Err(QueryError::FilterTooLong {
            bytes: text.len(),
            limit: MAX_FILTER_BYTES,
        });
    }
    parse_filter_unbounded(text)
}

/// [`parse_filter`] without the length limit: every other limit still holds, so even a huge
/// value is refused cheaply (100 000 `(` give the nesting error).
pub(crate) fn parse_filter_unbounded(text: &str) -> Result<Filter, QueryError> {
    if text.trim_start_matches(' ').is_empty() {
        return Err(QueryError::EmptyFilter {
            position: char_position(text, text.len()),
        });
    }
    let tokens = lexer::tokenize(text).map_err(|e| lex_error(text, e))?;
    syntax::parse(text, &tokens)
}

/// The character position of a byte offset (offsets always fall on character boundaries).
pub(super) fn char_position(src: &str, byte: usize) -> usize {
    match src.get(..byte) {
        Some(prefix) => prefix.chars().count(),
        None => src.chars().count(),
    }
}

fn lex_error(src: &str, e: LexError) -> QueryError {
    let pos = |byte| char_position(src, byte);
    let text = |from: usize, to: usize| super::error::shorten(src.get(from..to).unwrap_or(""));
    match e {
        LexError::UnexpectedCharacter { at, character } => QueryError::UnexpectedCharacter {
            character,
            position: pos(at),
        },
        LexError::MissingSeparator {
            at,
            word,
            character,
        } => QueryError::MissingSeparator {
            word: text(word, at),
            character,
            position: pos(at),
        },
        LexError::UnterminatedString { at } => QueryError::UnterminatedString { position: pos(at) },
        LexError::StringTooLong { at, bytes } => QueryError::StringTooLong {
            position: pos(at),
            bytes,
            limit: MAX_STRING_BYTES,
        },
        LexError::IntegerOutOfRange { at, end } => QueryError::IntegerOutOfRange {
            literal: text(at, end),
            position: pos(at),
        },
        LexError::InvalidDateTime { at, end, reason } => QueryError::InvalidDateTime {
            literal: text(at, end),
            position: pos(at),
            reason,
        },
    }
}
