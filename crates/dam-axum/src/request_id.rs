//! Request ids (§9.5): the client's `X-Request-Id` when it is 1–128 visible ASCII characters,
//! otherwise a fresh UUID, unique across processes and restarts.

use std::fmt;
use std::sync::Arc;

use axum::http::{HeaderMap, HeaderValue};

/// The header that carries the request id, in a request and in its response.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The longest request id kept from a request, in characters (= bytes: visible ASCII only).
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// The id of one request: named in every log line of the request (the `request_id` field of
/// its span) and echoed in the `X-Request-Id` response header.
///
/// The layers ([`HttpLayers`](crate::HttpLayers)) put it in the request's extensions, so a
/// host's handler can read it:
///
/// ```
/// use axum::{routing::get, Extension, Router};
/// use dam_axum::{HttpLayers, RequestId};
///
/// let app: Router = HttpLayers::new("https://example.org/errors").apply(Router::new().route(
///     "/whoami",
///     get(|Extension(id): Extension<RequestId>| async move { id.to_string() }),
/// ));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(Arc<str>);

impl RequestId {
    /// The request's own id when `headers` carry a valid one ([`RequestId::parse`]), else a
    /// fresh one ([`RequestId::generate`]).
    pub fn from_headers(headers: &HeaderMap) -> Self {
        headers
            .get(REQUEST_ID_HEADER)
            .and_then(|value| RequestId::parse(value.as_bytes()))
            .unwrap_or_else(RequestId::generate)
    }

    /// `bytes` as a request id, if they are 1 to [`MAX_REQUEST_ID_LEN`] visible ASCII
    /// characters (`!` to `~`: no space, no control character, nothing outside ASCII).
    ///
    /// ```
    /// use dam_axum::RequestId;
    ///
    /// assert_eq!(RequestId::parse(b"req-42").unwrap().as_str(), "req-42");
    /// assert!(RequestId::parse(b"").is_none());
    /// assert!(RequestId::parse(b"two words").is_none());
    /// assert!(RequestId::parse(&[b'a'; 129]).is_none());
    /// ```
    pub fn parse(bytes: &[u8]) -> Option<Self> {
        let visible = bytes.iter().all(|b| (b'!'..=b'~').contains(b));
        if bytes.is_empty() || bytes.len() > MAX_REQUEST_ID_LEN || !visible {
            return None;
        }
        std::str::from_utf8(bytes)
            .ok()
            .map(|text| RequestId(Arc::from(text)))
    }

    /// A fresh id: a random (version 4) UUID in its hyphenated form.
    pub fn generate() -> Self {
        let id = uuid::Uuid::new_v4();
        RequestId(Arc::from(id.hyphenated().to_string()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id as a header value.
    pub fn header_value(&self) -> Option<HeaderValue> {
        // Always valid: visible ASCII only, whether kept or generated.
        HeaderValue::from_str(&self.0).ok()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &[u8]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(REQUEST_ID_HEADER, HeaderValue::from_bytes(value).unwrap());
        headers
    }

    fn is_uuid(id: &RequestId) -> bool {
        uuid::Uuid::parse_str(id.as_str()).is_ok_and(|u| u.get_version_num() == 4)
    }

    #[test]
    fn a_valid_incoming_id_is_kept() {
        for value in [
            &b"a"[..],
            b"!~",
            &[b'x'; MAX_REQUEST_ID_LEN],
            b"5f0c-AB_cd:e/f",
        ] {
            let id = RequestId::from_headers(&headers(value));
            assert_eq!(id.as_str().as_bytes(), value);
        }
    }

    #[test]
    fn an_invalid_incoming_id_is_replaced_by_a_uuid() {
        let too_long = [b'x'; MAX_REQUEST_ID_LEN + 1];
        for value in [&b""[..], b"a b", b"tab\there", &too_long, "é".as_bytes()] {
            let id = RequestId::from_headers(&headers(value));
            assert!(is_uuid(&id), "{value:?} gave {id}");
        }
        // Not even valid header values, but refused by the rule itself too.
        for value in [&b"\x7f"[..], b"a\x00b", b"line\nbreak"] {
            assert!(RequestId::parse(value).is_none(), "{value:?}");
        }
        assert!(is_uuid(&RequestId::from_headers(&HeaderMap::new())));
    }

    #[test]
    fn generated_ids_differ() {
        assert_ne!(RequestId::generate(), RequestId::generate());
    }
}
