//! An HTTP answer as the tests of the HTTP crates read it, and what a problem answer must look
//! like on the wire (RFC 9457, §6): the status, `application/problem+json`, and a document
//! whose `type`, `title`, `status` and `instance` are the expected ones and whose `detail`
//! says something.

use serde_json::Value;

/// The base of every problem `type` URI (§6), as the contract writes it.
pub const TYPE_BASE: &str = "https://api2.saleslayer.com/errors";

/// One HTTP answer, body read in full.
#[derive(Debug, Clone)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// The header fields, names as sent.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl Reply {
    /// The first value of the header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    ///
    /// # Panics
    /// When the body is not JSON, with the status and the body.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{} body is not JSON ({e}): {}", self.status, self.text()))
    }

    /// Asserts that this answer is the problem `slug` (`type` [`TYPE_BASE`]`/slug`) with
    /// `status`, `title` and `instance`, and a `detail` that is not blank; returns the document.
    ///
    /// # Panics
    /// With the field that differs and the document.
    pub fn problem(&self, status: u16, slug: &str, title: &str, instance: &str) -> Value {
        assert_eq!(self.status, status, "status; body {}", self.text());
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "content type of a {status}"
        );
        let p = self.json();
        assert_eq!(p["type"], format!("{TYPE_BASE}/{slug}"), "{p}");
        assert_eq!(p["title"], title, "{p}");
        assert_eq!(p["status"], status, "{p}");
        assert_eq!(p["instance"], instance, "{p}");
        let detail = p["detail"].as_str().unwrap_or_default();
        assert!(!detail.trim().is_empty(), "a detail: {p}");
        p
    }
}

/// The ids of a list page's items.
///
/// # Panics
/// When `page` has no `items` array or an item no integer `id`.
pub fn ids(page: &Value) -> Vec<i64> {
    let items = page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items array: {page}"));
    items
        .iter()
        .map(|im| {
            im["id"]
                .as_i64()
                .unwrap_or_else(|| panic!("no integer id: {im}"))
        })
        .collect()
}
