//! The query string of `GET /image`: form decoding, the option rules of §3, and `@nextLink`.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::error::{shorten, QueryError};
use super::filter::parse_filter;
use super::model::{ListQuery, MAX_TOP};
use super::orderby::parse_orderby;

/// Everything but the unreserved characters of RFC 3986 is escaped in a `@nextLink`.
const NEXT_LINK_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The options this API supports, in the order in which their errors are reported.
const SUPPORTED: [&str; 5] = ["$top", "$skip", "$count", "$orderby", "$filter"];

/// The longest query string accepted, in bytes, before any decoding. It bounds the work done
/// on a hostile request; `$filter` itself has its own, smaller limit.
pub const MAX_QUERY_STRING_BYTES: usize = 64 * 1024;

/// A decoded, validated list request: the [`ListQuery`] for the store and the texts needed to
/// build the next page's link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    /// The validated query.
    pub query: ListQuery,
    filter_text: Option<String>,
    orderby_text: Option<String>,
    count_text: Option<String>,
}

impl ListRequest {
    /// The `@nextLink` of the page after this one: `/image?` with `$filter`, `$orderby` and
    /// `$count` as received (percent-encoded again) and the next `$top`/`$skip`.
    ///
    /// `None` when there is no next page to link to: with `$top=0`, or when the next `$skip`
    /// would pass the largest one accepted (`i64::MAX`), which no store can reach.
    ///
    /// ```
    /// use dam_core::query::parse_query_string;
    /// let req = parse_query_string(Some("$top=2&$skip=4&$count=true&x=1")).unwrap();
    /// assert_eq!(req.next_link().unwrap(), "/image?$count=true&$top=2&$skip=6");
    /// let last = parse_query_string(Some("$top=2&$skip=9223372036854775807")).unwrap();
    /// assert_eq!(last.next_link(), None);
    /// ```
    pub fn next_link(&self) -> Option<String> {
        self.next_link_from("/image")
    }

    /// The `@nextLink` of the page after this one under `collection_path`, the path the client
    /// used for the collection (`/api/dam/image` when the API is mounted under `/api/dam`):
    /// `collection_path`, `?`, then the options as [`ListRequest::next_link`] writes them.
    ///
    /// ```
    /// use dam_core::query::parse_query_string;
    /// let req = parse_query_string(Some("$top=2")).unwrap();
    /// assert_eq!(req.next_link_from("/api/dam/image").unwrap(), "/api/dam/image?$top=2&$skip=2");
    /// ```
    pub fn next_link_from(&self, collection_path: &str) -> Option<String> {
        let next_skip = self
            .query
            .skip
            .checked_add(u64::from(self.query.top))
            .filter(|n| *n <= i64::MAX as u64)?;
        if self.query.top == 0 {
            return None;
        }
        let mut link = String::with_capacity(collection_path.len() + 64);
        link.push_str(collection_path);
        link.push('?');
        for (name, value) in [
            ("$filter", &self.filter_text),
            ("$orderby", &self.orderby_text),
            ("$count", &self.count_text),
        ] {
            if let Some(value) = value {
                link.push_str(name);
                link.push('=');
                link.extend(utf8_percent_encode(value, NEXT_LINK_ESCAPES));
                link.push('&');
            }
        }
        link.push_str(&format!("$top={}&$skip={}", self.query.top, next_skip));
        Some(link)
    }
}

/// Decodes one form-encoded component: `+` is a space, `%XX` a byte; the result must be UTF-8.
fn form_decode(raw: &str, parameter: &str) -> Result<String, QueryError> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' => {
                let hex = |b: u8| (b as char).to_digit(16);
                let hi = bytes.get(i + 1).copied().and_then(hex);
                let lo = bytes.get(i + 2).copied().and_then(hex);
                match (hi, lo) {
                    (Some(h), Some(l)) => {
                        // Two hex digits make one byte: h and l are both < 16.
                        out.push(((h << 4) | l) as u8);
                        i += 3;
                    }
                    _ => {
                        return Err(QueryError::MalformedEscape {
                            parameter: parameter.to_string(),
                        })
                    }
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| QueryError::InvalidUtf8 {
        parameter: parameter.to_string(),
    })
}

/// Digits only (leading zeros allowed), as `$top` and `$skip` take them; `None` otherwise or
/// on overflow.
fn digits(value: &str) -> Option<u64> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let trimmed = value.trim_start_matches('0');
    if trimmed.is_empty() {
        return Some(0);
    }
    if trimmed.len() > 20 {
        return None;
    }
    trimmed.parse().ok()
}

/// Parses the raw (still encoded) query string of `GET /image` into a validated request.
///
/// Names and values are form-decoded (`+` and `%20` are spaces; `%24top` is `$top`). Options
/// without `$` are ignored; an unsupported or repeated `$` option is an error. When several
/// options are wrong, the error names the first in this order: option names, `$top`, `$skip`,
/// `$count`, `$orderby`, `$filter`.
///
/// ```
/// use dam_core::query::parse_query_string;
/// let req = parse_query_string(Some("%24top=3&$skip=0&utm=x")).unwrap();
/// assert_eq!(req.query.top, 3);
/// assert!(parse_query_string(Some("$top=101")).is_err());
/// assert!(parse_query_string(Some("$select=id")).is_err());
/// ```
pub fn parse_query_string(raw: Option<&str>) -> Result<ListRequest, QueryError> {
    let raw = raw.unwrap_or("");
    if raw.len() > MAX_QUERY_STRING_BYTES {
        return Err(QueryError::QueryStringTooLong {
            limit: MAX_QUERY_STRING_BYTES,
        });
    }
    // Each option's decoded value, or the error decoding it: a malformed escape in an option's
    // value is that option's error, reported in the option's turn (§8 order).
    let mut found: [Option<Result<String, QueryError>>; 5] = Default::default();
    let mut ignored_error: Option<QueryError> = None;
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (raw_name, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = form_decode(raw_name, "query")?;
        if !name.starts_with('$') {
            // Ignored, but a malformed escape or bad UTF-8 anywhere is still a 400 (§8).
            if let Err(e) = form_decode(raw_value, "query") {
                ignored_error.get_or_insert(e);
            }
            continue;
        }
        let Some(slot) = SUPPORTED.iter().position(|s| *s == name) else {
            return Err(QueryError::UnsupportedOption {
                name: shorten(&name),
            });
        };
        if found[slot].is_some() {
            return Err(QueryError::RepeatedOption { name });
        }
        found[slot] = Some(form_decode(raw_value, SUPPORTED[slot]));
    }
    // Name errors come first; then the query string's own, then each option in order.
    if let Some(e) = ignored_error {
        return Err(e);
    }
    let [top, skip, count, orderby, filter] = found.map(Option::transpose);
    let mut query = ListQuery::default();
    if let Some(value) = &top? {
        query.top = match digits(value) {
            Some(n) if n <= u64::from(MAX_TOP) => n as u32,
            _ => {
                return Err(QueryError::InvalidTop {
                    value: shorten(value),
                })
            }
        };
    }
    if let Some(value) = &skip? {
        query.skip = match digits(value) {
            Some(n) if n <= i64::MAX as u64 => n,
            _ => {
                return Err(QueryError::InvalidSkip {
                    value: shorten(value),
                })
            }
        };
    }
    let count = count?;
    if let Some(value) = &count {
        query.count = match value.as_str() {
            "true" => true,
            "false" => false,
            _ => {
                return Err(QueryError::InvalidCount {
                    value: shorten(value),
                })
            }
        };
    }
    let orderby = orderby?;
    if let Some(value) = &orderby {
        query.order_by = parse_orderby(value)?;
    }
    let filter = filter?;
    if let Some(value) = &filter {
        query.filter = Some(parse_filter(value)?);
    }
    Ok(ListRequest {
        query,
        filter_text: filter,
        orderby_text: orderby,
        count_text: count,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(raw: &str) -> QueryError {
        parse_query_string(Some(raw)).unwrap_err()
    }

    #[test]
    fn defaults_without_options() {
        let req = parse_query_string(None).unwrap();
        assert_eq!(req.query, ListQuery::default());
        assert_eq!(req.query.top, 100);
        let req = parse_query_string(Some("")).unwrap();
        assert_eq!(req.query, ListQuery::default());
    }

    #[test]
    fn top_edges() {
        assert_eq!(parse_query_string(Some("$top=0")).unwrap().query.top, 0);
        assert_eq!(parse_query_string(Some("$top=100")).unwrap().query.top, 100);
        assert_eq!(parse_query_string(Some("$top=007")).unwrap().query.top, 7);
        for bad in [
            "101",
            "-1",
            "1.5",
            "abc",
            "",
            "+1",
            "%201",
            "99999999999999999999999",
        ] {
            assert!(
                matches!(err(&format!("$top={bad}")), QueryError::InvalidTop { .. }),
                "{bad}"
            );
        }
    }

    #[test]
    fn skip_edges() {
        let max = i64::MAX.to_string();
        assert_eq!(
            parse_query_string(Some(&format!("$skip={max}")))
                .unwrap()
                .query
                .skip,
            i64::MAX as u64
        );
        for bad in ["9223372036854775808", "-1", "x", "1.5", ""] {
            assert!(
                matches!(err(&format!("$skip={bad}")), QueryError::InvalidSkip { .. }),
                "{bad}"
            );
        }
    }

    #[test]
    fn count_values() {
        assert!(parse_query_string(Some("$count=true")).unwrap().query.count);
        assert!(
            !parse_query_string(Some("$count=false"))
                .unwrap()
                .query
                .count
        );
        for bad in ["yes", "True", "1", ""] {
            assert!(matches!(
                err(&format!("$count={bad}")),
                QueryError::InvalidCount { .. }
            ));
        }
    }

    #[test]
    fn names_are_decoded_case_sensitive_and_checked_first() {
        assert_eq!(parse_query_string(Some("%24top=3")).unwrap().query.top, 3);
        assert_eq!(
            err("$Top=5"),
            QueryError::UnsupportedOption {
                name: "$Top".into()
            }
        );
        assert_eq!(
            err("$top=abc&$select=id"),
            QueryError::UnsupportedOption {
                name: "$select".into()
            }
        );
        assert_eq!(
            err("$count=true&$count=true"),
            QueryError::RepeatedOption {
                name: "$count".into()
            }
        );
        assert!(matches!(
            err("$skip=x&$top=abc"),
            QueryError::InvalidTop { .. }
        ));
        assert!(matches!(
            err("$count=x&$skip=y"),
            QueryError::InvalidSkip { .. }
        ));
    }

    #[test]
    fn plain_parameters_are_ignored() {
        let req = parse_query_string(Some("foo=bar&top=1&filter=zzz&$top=40")).unwrap();
        assert_eq!(req.query.top, 40);
    }

    #[test]
    fn malformed_escapes_and_bad_utf8_are_errors() {
        assert!(matches!(
            err("$top=%zz"),
            QueryError::MalformedEscape { .. }
        ));
        assert!(matches!(err("$top=%4"), QueryError::MalformedEscape { .. }));
        assert!(matches!(err("foo=%"), QueryError::MalformedEscape { .. }));
        assert!(matches!(err("$count=%ff"), QueryError::InvalidUtf8 { .. }));
        assert!(matches!(err("%ff=1"), QueryError::InvalidUtf8 { .. }));
    }

    #[test]
    fn a_malformed_escape_in_a_value_is_reported_in_its_option_s_turn() {
        // §8: `$top` comes before `$filter`, whichever is wrong and however.
        assert!(matches!(
            err("$filter=%zz&$top=abc"),
            QueryError::InvalidTop { .. }
        ));
        assert!(matches!(
            err("$orderby=%ff&$skip=-1"),
            QueryError::InvalidSkip { .. }
        ));
        assert_eq!(
            err("$top=1&$filter=%zz&$orderby=%ff"),
            QueryError::InvalidUtf8 {
                parameter: "$orderby".into()
            }
        );
        assert_eq!(
            err("$top=%4&$filter=bad"),
            QueryError::MalformedEscape {
                parameter: "$top".into()
            }
        );
        // Names still come first.
        assert!(matches!(
            err("$top=%zz&$select=id"),
            QueryError::UnsupportedOption { .. }
        ));
    }

    #[test]
    fn no_next_link_past_the_largest_skip_or_with_top_zero() {
        // found by the query_string fuzz target: the link must itself be a valid request
        let req = parse_query_string(Some("$skip=09223372036854775807&")).unwrap();
        assert_eq!(req.next_link(), None);
        let req = parse_query_string(Some("$skip=9223372036854775707&$top=100")).unwrap();
        let link = req.next_link().unwrap();
        assert!(link.ends_with("$skip=9223372036854775807"), "{link}");
        assert!(parse_query_string(link.strip_prefix("/image?")).is_ok());
        let req = parse_query_string(Some("$skip=9223372036854775708&$top=100")).unwrap();
        assert_eq!(req.next_link(), None);
        assert_eq!(
            parse_query_string(Some("$top=0")).unwrap().next_link(),
            None
        );
    }

    #[test]
    fn next_link_reencodes_and_keeps_options_in_order() {
        let req = parse_query_string(Some("$count=false&$top=5&$skip=10&utm=1")).unwrap();
        assert_eq!(
            req.next_link().unwrap(),
            "/image?$count=false&$top=5&$skip=15"
        );
        assert_eq!(form_decode("a%2Bb+c", "x").unwrap(), "a+b c");
        let mut req = req;
        req.filter_text = Some("reference eq 'a+b&c'".into());
        assert_eq!(
            req.next_link().unwrap(),
            "/image?$filter=reference%20eq%20%27a%2Bb%26c%27&$count=false&$top=5&$skip=15"
        );
    }
}
