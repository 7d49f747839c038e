//! `$orderby` (contract §3): comma-separated `field [asc|desc]` items over the sortable fields.
//!
//! ```text
//! orderby   = item *( "," item )
//! item      = *SP field [ 1*SP ( "asc" / "desc" ) ] *SP
//! ```
//! Items are checked left to right; in each, the number of words, then the field, then the
//! direction, then whether the field was named before.

use super::error::{shorten, QueryError};
use super::model::{Field, SortKey};

/// The longest `$orderby` accepted, in UTF-8 bytes after form decoding. Every sortable field
/// with its direction takes 100 bytes; the limit leaves room for spaces around them.
pub const MAX_ORDERBY_BYTES: usize = 1024;

/// The names of the sortable fields, in the order of §3.
const SORTABLE_NAMES: [&str; 10] = Field::names(Field::SORTABLE);

/// Parses and validates an `$orderby` value (form-decoded) into sort keys, in order.
///
/// Only the space separates words (a tab is part of a word); keywords and field names are
/// case-sensitive. The tie-break by `id` is implicit and not part of the result.
///
/// # Errors
/// A [`QueryError`] naming `$orderby`: longer than [`MAX_ORDERBY_BYTES`]; or, with the
/// 0-based character position of the offending word, an empty item (`numLinks,`), three words, a field that is unknown or not sortable
/// (`tags`, the URL fields), a direction other than `asc`/`desc`, a field named twice.
///
/// ```
/// use dam_core::query::parse_orderby;
/// use dam_core::store::{Field, SortKey};
/// assert_eq!(
///     parse_orderby("modifiedOn desc, numLinks").unwrap(),
///     vec![
///         SortKey { field: Field::ModifiedOn, descending: true },
///         SortKey { field: Field::NumLinks, descending: false },
///     ]
/// );
/// let e = parse_orderby("numLinks,tags").unwrap_err();
/// assert_eq!(e.position(), Some(9));
/// assert!(parse_orderby("id,id").is_err());
/// ```
pub fn parse_orderby(text: &str) -> Result<Vec<SortKey>, QueryError> {
    if text.len() > MAX_ORDERBY_BYTES {
        return Err(QueryError::OrderByTooLong {
            bytes: text.len(),
            limit: MAX_ORDERBY_BYTES,
        });
    }
    let mut keys: Vec<SortKey> = Vec::new();
    let mut item_start = 0;
    for item in text.split(',') {
        let key = sort_key(text, item, item_start)?;
        if keys.iter().any(|k| k.field == key.0.field) {
            return Err(QueryError::OrderByDuplicate {
                field: key.0.field,
                position: key.1,
            });
        }
        keys.push(key.0);
        item_start += item.len() + 1;
    }
    Ok(keys)
}

/// One item starting at byte `start` of `text`: the key and the character position of its
/// field.
fn sort_key(text: &str, item: &str, start: usize) -> Result<(SortKey, usize), QueryError> {
    let position = |offset: usize| char_position(text, start + offset);
    let mut words = words(item);
    let Some((field_at, name)) = words.next() else {
        let spaces = item.len() - item.trim_start_matches(' ').len();
        let found = if start + item.len() < text.len() {
            "','".to_string()
        } else {
            "the end of the value".to_string()
        };
        return Err(QueryError::OrderByEmptyItem {
            position: position(spaces),
            found,
        });
    };
    let direction = words.next();
    if let Some((at, word)) = words.next() {
        return Err(QueryError::OrderByTooManyWords {
            position: position(at),
            found: shorten(word),
        });
    }
    let field = match Field::from_name(name) {
        Some(field) if field.is_sortable() => field,
        Some(field) => {
            return Err(QueryError::OrderByNotSortable {
                field,
                position: position(field_at),
                sortable: &SORTABLE_NAMES,
            })
        }
        None => {
            return Err(QueryError::OrderByUnknownField {
                name: shorten(name),
                position: position(field_at),
                sortable: &SORTABLE_NAMES,
            })
        }
    };
    let descending = match direction {
        None | Some((_, "asc")) => false,
        Some((_, "desc")) => true,
        Some((at, word)) => {
            return Err(QueryError::OrderByDirection {
                position: position(at),
                found: shorten(word),
            })
        }
    };
    Ok((SortKey { field, descending }, position(field_at)))
}

/// The space-separated words of an item, with their byte offsets in it.
fn words(item: &str) -> impl Iterator<Item = (usize, &str)> {
    item.split(' ')
        .scan(0, |offset, word| {
            let at = *offset;
            *offset += word.len() + 1;
            Some((at, word))
        })
        .filter(|(_, word)| !word.is_empty())
}

fn char_position(text: &str, byte: usize) -> usize {
    text.get(..byte)
        .map_or_else(|| text.chars().count(), |prefix| prefix.chars().count())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(field: Field, descending: bool) -> SortKey {
        SortKey { field, descending }
    }

    fn err(text: &str) -> QueryError {
        parse_orderby(text).unwrap_err()
    }

    #[test]
    fn the_value_is_at_most_1024_bytes() {
        let longest = format!("id{}", " ".repeat(MAX_ORDERBY_BYTES - 2));
        assert_eq!(
            parse_orderby(&longest).unwrap(),
            vec![key(Field::Id, false)]
        );
        let e = parse_orderby(&format!("{longest} ")).unwrap_err();
        assert_eq!(
            e,
            QueryError::OrderByTooLong {
                bytes: 1025,
                limit: 1024
            }
        );
        assert_eq!(e.parameter(), "$orderby");
        assert_eq!(e.position(), None);
        assert_eq!(
            e.to_string(),
            "$orderby: the value is 1025 bytes long; at most 1024 bytes are allowed"
        );
    }

    #[test]
    fn items_and_directions() {
        assert_eq!(
            parse_orderby("numLinks").unwrap(),
            vec![key(Field::NumLinks, false)]
        );
        assert_eq!(
            parse_orderby("numLinks asc,createdOn desc").unwrap(),
            vec![key(Field::NumLinks, false), key(Field::CreatedOn, true)]
        );
        assert_eq!(
            parse_orderby("  modifiedOn   desc ,  numLinks  ").unwrap(),
            vec![key(Field::ModifiedOn, true), key(Field::NumLinks, false)]
        );
        let all = SORTABLE_NAMES.join(",");
        assert_eq!(parse_orderby(&all).unwrap().len(), 10);
        for (name, field) in SORTABLE_NAMES.iter().zip(Field::SORTABLE) {
            assert_eq!(field.name(), *name);
        }
    }

    #[test]
    fn each_error_with_its_position() {
        assert_eq!(
            err("numLinks,"),
            QueryError::OrderByEmptyItem {
                position: 9,
                found: "the end of the value".into()
            }
        );
        assert_eq!(
            err(""),
            QueryError::OrderByEmptyItem {
                position: 0,
                found: "the end of the value".into()
            }
        );
        assert_eq!(
            err("id, ,x"),
            QueryError::OrderByEmptyItem {
                position: 4,
                found: "','".into()
            }
        );
        assert_eq!(
            err("numLinks desc asc"),
            QueryError::OrderByTooManyWords {
                position: 14,
                found: "asc".into()
            }
        );
        assert_eq!(
            err("id,tags"),
            QueryError::OrderByNotSortable {
                field: Field::Tags,
                position: 3,
                sortable: &SORTABLE_NAMES
            }
        );
        assert!(matches!(
            err("width,thumbnailUrl desc"),
            QueryError::OrderByNotSortable {
                field: Field::ThumbnailUrl,
                position: 6,
                ..
            }
        ));
        assert!(matches!(
            err("NumLinks"),
            QueryError::OrderByUnknownField { position: 0, .. }
        ));
        assert!(matches!(
            err("numLinks\tdesc"),
            QueryError::OrderByUnknownField { position: 0, .. }
        ));
        assert_eq!(
            err("numLinks sideways"),
            QueryError::OrderByDirection {
                position: 9,
                found: "sideways".into()
            }
        );
        assert_eq!(
            err("numLinks DESC"),
            QueryError::OrderByDirection {
                position: 9,
                found: "DESC".into()
            }
        );
        assert_eq!(
            err("numLinks asc,id,numLinks desc"),
            QueryError::OrderByDuplicate {
                field: Field::NumLinks,
                position: 16
            }
        );
        assert_eq!(
            err("é,x"),
            QueryError::OrderByUnknownField {
                name: "é".into(),
                position: 0,
                sortable: &SORTABLE_NAMES
            }
        );
        assert!(matches!(
            err("id,é é é"),
            QueryError::OrderByTooManyWords { position: 7, .. }
        ));
    }

    #[test]
    fn messages_name_the_parameter_position_and_what_is_allowed() {
        let e = err("id,tags");
        assert_eq!(e.parameter(), "$orderby");
        assert_eq!(e.position(), Some(3));
        let text = e.to_string();
        assert!(
            text.starts_with("$orderby: cannot sort by 'tags' at position 3"),
            "{text}"
        );
        assert!(text.contains("sortable fields are id, reference, fileType, status, numLinks, createdOn, modifiedOn, width, height, sizeInBytes"));
        assert!(err("x sideways").to_string().contains("unknown field 'x'"));
        assert!(err("id up")
            .to_string()
            .contains("expected 'asc' or 'desc' at position 3"));
    }
}
