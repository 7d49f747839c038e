//! The query string of `GET /image`: form decoding, the option rules of §3, `$skiptoken`
//! (§3.1), and `@nextLink`.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use super::error::{shorten, QueryError};
use super::filter::parse_filter;
use super::model::{Filter, ListQuery, MAX_TOP};
use super::orderby::parse_orderby;
use super::skiptoken::Position;
use crate::image::Image;

/// Everything but the unreserved characters of RFC 3986 is escaped in a `@nextLink`.
const NEXT_LINK_ESCAPES: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The options this API supports, in the order in which their errors are reported.
const SUPPORTED: [&str; 6] = [
    "$top",
    "$skip",
    "$count",
    "$orderby",
    "$filter",
    "$skiptoken",
];

/// The longest query string accepted, in bytes, before any decoding. It bounds the work done
/// on a hostile request; `$filter` itself has its own, smaller limit.
pub const MAX_QUERY_STRING_BYTES: usize = 64 * 1024;

/// A decoded, validated list request: the options as given, where a `$skiptoken` positions
/// the page, and the texts needed to build the next page's link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    /// The validated options as given (`$filter`, `$orderby`, `$top`, `$skip`, `$count`).
    pub query: ListQuery,
    after: Option<Position>,
    filter_text: Option<String>,
    orderby_text: Option<String>,
    count_text: Option<String>,
}

impl ListRequest {
    /// Where the page starts, when the request carries a `$skiptoken`: right after this
    /// position.
    pub fn after(&self) -> Option<&Position> {
        self.after.as_ref()
    }

    /// The query for the store's page: [`ListRequest::query`] with, after a `$skiptoken`,
    /// the seek condition ([`Position::after`]) added to the filter and no count (the count
    /// covers every match of `$filter`, not only those after the token: see
    /// [`ListRequest::count_query`]).
    ///
    /// ```
    /// use dam_core::query::parse_query_string;
    /// let req = parse_query_string(Some("$top=2&$count=true")).unwrap();
    /// assert_eq!(req.page_query(), req.query);
    /// assert_eq!(req.count_query(), None);
    /// ```
    pub fn page_query(&self) -> ListQuery {
        let mut query = self.query.clone();
        if let Some(after) = &self.after {
            let seek = after.after(&query.order_by);
            query.filter = Some(match query.filter.take() {
                Some(filter) => Filter::And(Box::new(filter), Box::new(seek)),
                None => seek,
            });
            query.count = false;
        }
        query
    }

    /// The query that counts every match of `$filter` when `$count=true` comes with a
    /// `$skiptoken` (the page's own query then cannot count them); `None` otherwise, when the
    /// page's query counts.
    pub fn count_query(&self) -> Option<ListQuery> {
        (self.after.is_some() && self.query.count).then(|| ListQuery {
            filter: self.query.filter.clone(),
            order_by: Vec::new(),
            top: 0,
            skip: 0,
            count: true,
        })
    }

    /// The `@nextLink` of the page after this one, whose last image is `last`:
    /// `collection_path`, `?`, then `$filter`, `$orderby` and `$count` as received
    /// (percent-encoded again), `$top`, and the `$skiptoken` naming `last` (§3.1). Never
    /// `$skip`: the token says where the next page starts.
    ///
    /// `None` with `$top=0`, whose pages never advance.
    ///
    /// ```
    /// use dam_core::query::parse_query_string;
    /// use dam_core::{FileType, Image, ImageId, ImageStatus, Reference, Timestamp};
    /// let last = Image::new(ImageId::new(6).unwrap(), Reference::new("f.jpg").unwrap(),
    ///     FileType::new("jpg").unwrap(), ImageStatus::Ready,
    ///     Timestamp::parse("2024-01-01T00:00:00").unwrap());
    /// let req = parse_query_string(Some("$top=2&$skip=4&$count=true&x=1")).unwrap();
    /// let link = req.next_link("/image", &last).unwrap();
    /// assert!(link.starts_with("/image?$count=true&$top=2&$skiptoken="), "{link}");
    /// let next = parse_query_string(link.strip_prefix("/image?")).unwrap();
    /// assert_eq!(next.after().unwrap().id(), last.id);
    /// assert_eq!(parse_query_string(Some("$top=0")).unwrap().next_link("/image", &last), None);
    /// ```
    pub fn next_link(&self, collection_path: &str, last: &Image) -> Option<String> {
        if self.query.top == 0 {
            return None;
        }
        let token = Position::of(last, &self.query.order_by)
            .token(self.filter_text.as_deref(), self.orderby_text.as_deref());
        let mut link = String::with_capacity(collection_path.len() + token.len() + 64);
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
        // The token is base64url: nothing in it needs escaping.
        link.push_str(&format!("$top={}&$skiptoken={token}", self.query.top));
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
/// `$count`, `$orderby`, `$filter`, `$skiptoken` (§8). A `$skiptoken` must be one that
/// [`ListRequest::next_link`] wrote for the same `$filter` and `$orderby`, and comes without
/// `$skip`.
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
    let mut found: [Option<Result<String, QueryError>>; 6] = Default::default();
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
    let [top, skip, count, orderby, filter, skiptoken] = found.map(Option::transpose);
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
    let skip = skip?;
    if let Some(value) = &skip {
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
    let after = match skiptoken? {
        Some(_) if skip.is_some() => return Err(QueryError::SkipTokenWithSkip),
        Some(token) => Some(Position::from_token(
            &token,
            &query.order_by,
            filter.as_deref(),
            orderby.as_deref(),
        )?),
        None => None,
    };
    Ok(ListRequest {
        query,
        after,
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

    fn image(id: i64) -> Image {
        use crate::image::{FileType, ImageId, ImageStatus, Reference, Timestamp};
        Image::new(
            ImageId::new(id).unwrap(),
            Reference::new(format!("r{id}.jpg")).unwrap(),
            FileType::new("jpg").unwrap(),
            ImageStatus::Ready,
            Timestamp::parse("2024-01-01T00:00:00").unwrap(),
        )
    }

    #[test]
    fn next_link_carries_a_token_and_never_skip_and_is_itself_a_valid_request() {
        // found by the query_string fuzz target: the link must itself be a valid request
        for raw in [
            "$skip=09223372036854775807&",
            "$skip=9223372036854775707&$top=100",
            "$orderby=reference desc,status&$filter=id ge 1&$count=true&$top=3",
        ] {
            let req = parse_query_string(Some(raw)).unwrap();
            let link = req.next_link("/image", &image(9)).unwrap();
            assert!(!link.contains("$skip="), "{link}");
            let next = parse_query_string(link.strip_prefix("/image?")).unwrap();
            assert_eq!(next.after().map(Position::id), Some(image(9).id), "{link}");
            assert_eq!(next.query.skip, 0);
            assert_eq!(next.query.top, req.query.top);
            assert_eq!(next.query.filter, req.query.filter);
            assert_eq!(next.query.order_by, req.query.order_by);
            assert_eq!(next.query.count, req.query.count);
        }
        assert_eq!(
            parse_query_string(Some("$top=0"))
                .unwrap()
                .next_link("/image", &image(1)),
            None
        );
    }

    #[test]
    fn next_link_reencodes_and_keeps_options_in_order() {
        let req = parse_query_string(Some("$count=false&$top=5&$skip=10&utm=1")).unwrap();
        let token = Position::of(&image(15), &[]).token(None, None);
        assert_eq!(
            req.next_link("/image", &image(15)).unwrap(),
            format!("/image?$count=false&$top=5&$skiptoken={token}")
        );
        assert_eq!(form_decode("a%2Bb+c", "x").unwrap(), "a+b c");
        let req = parse_query_string(Some(
            "$filter=reference%20ne%20%27a%2Bb%26c%27&$count=false&$top=5&$orderby=id+desc",
        ))
        .unwrap();
        let token = Position::of(&image(15), &req.query.order_by)
            .token(Some("reference ne 'a+b&c'"), Some("id desc"));
        assert_eq!(
            req.next_link("/base/image", &image(15)).unwrap(),
            format!("/base/image?$filter=reference%20ne%20%27a%2Bb%26c%27&$orderby=id%20desc&$count=false&$top=5&$skiptoken={token}")
        );
    }
}
