//! The error-branch catalogue: one table listing every distinct error the service can return
//! (contract §2–§6), each row driven by a proptest strategy that generates many requests
//! reaching that branch, and asserting the whole problem document.
//!
//! The table is tied to the code by exhaustive matches ([`dam_row`], [`query_row`],
//! [`kind_row`]): adding an error variant without a row does not compile, and a row without a
//! strategy fails [`every_row_has_a_strategy`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use proptest::prelude::*;

use crate::problem::{ProblemDetails, ProblemKind, DEFAULT_TYPE_BASE};
use crate::query::QueryError;
use crate::store::{Field, ImagePage, ImageStore, KeyStore, ListQuery, StoreError};
use crate::testing::reference_page;
use crate::{
    DamError, FileType, Image, ImageId, ImageService, ImageStatus, KeyDigest, Reference, TenantId,
    Timestamp,
};

/// One distinct error of the API.
#[derive(Debug)]
struct Row {
    name: &'static str,
    status: u16,
    slug: &'static str,
    title: &'static str,
    /// What `detail` must say (the reason), as a fragment.
    detail_has: &'static str,
}

const fn row(name: &'static str, kind: ProblemKind, detail_has: &'static str) -> Row {
    Row {
        name,
        status: kind.status(),
        slug: kind.slug(),
        title: kind.title(),
        detail_has,
    }
}

use ProblemKind::{
    Conflict, Internal, MethodNotAllowed, NotFound, Unauthorized, Unavailable, Validation,
};

/// THE TABLE: every distinct error, with its status, slug, title and reason.
const ROWS: &[Row] = &[
    // §2 authentication
    row(
        "missing-key",
        Unauthorized,
        "X-API-KEY header is missing or empty",
    ),
    row("malformed-key", Validation, "X-API-KEY header is malformed"),
    row("unknown-key", Unauthorized, "API key is not valid"),
    // §3 query string and options
    row("malformed-escape", Validation, "malformed percent escape"),
    row("invalid-utf8", Validation, "not valid UTF-8"),
    row(
        "query-string-too-long",
        Validation,
        "query string is longer than",
    ),
    row("unsupported-option", Validation, "is not supported"),
    row("repeated-option", Validation, "more than once"),
    row(
        "invalid-top",
        Validation,
        "$top must be an integer from 0 to 100",
    ),
    row("invalid-skip", Validation, "$skip must be an integer"),
    row("invalid-count", Validation, "$count must be true or false"),
    // §3.1 $skiptoken
    row(
        "invalid-skiptoken",
        Validation,
        "$skiptoken is invalid or expired: ",
    ),
    row(
        "skiptoken-with-skip",
        Validation,
        "$skiptoken cannot be combined with $skip",
    ),
    // §3 $orderby
    row(
        "orderby-empty-item",
        Validation,
        "$orderby: expected a field name",
    ),
    row(
        "orderby-too-many-words",
        Validation,
        "$orderby: expected ','",
    ),
    row("orderby-unknown-field", Validation, "sortable fields are"),
    row("orderby-not-sortable", Validation, "cannot sort by"),
    row("orderby-direction", Validation, "expected 'asc' or 'desc'"),
    row("orderby-duplicate", Validation, "is named twice"),
    row("orderby-too-long", Validation, "$orderby: the value is"),
    // §5 $filter
    row("empty-filter", Validation, "$filter: the value is empty"),
    row("filter-too-long", Validation, "at most 4096 bytes"),
    row("unexpected-character", Validation, "unexpected character"),
    row(
        "missing-separator",
        Validation,
        "expected a space or one of",
    ),
    row("unterminated-string", Validation, "has no closing quote"),
    row("string-too-long", Validation, "at most 1024 are allowed"),
    row("integer-out-of-range", Validation, "is out of range"),
    row("invalid-datetime", Validation, "invalid datetime"),
    row("syntax", Validation, "$filter: expected"),
    row("empty-in-list", Validation, "needs at least one literal"),
    row("too-deep", Validation, "nesting deeper than 32 levels"),
    row("too-many-nodes", Validation, "more than 256 nodes"),
    row("in-list-too-long", Validation, "at most 100 are allowed"),
    row(
        "lambda-variable",
        Validation,
        "expected the lambda variable",
    ),
    row(
        "lambda-operator",
        Validation,
        "only 'eq' is allowed inside tags/any",
    ),
    row("lambda-value", Validation, "compared with a string literal"),
    row("unknown-field", Validation, "valid fields are"),
    row("type-mismatch", Validation, " takes "),
    row(
        "comparison-without-field",
        Validation,
        "needs a field on one side",
    ),
    row("null-not-allowed", Validation, "only the URL fields"),
    row(
        "null-in-list",
        Validation,
        "null is not allowed in the 'in' list",
    ),
    row(
        "ordering-on-status",
        Validation,
        "status takes only eq, ne and in",
    ),
    row(
        "tags-outside-lambda",
        Validation,
        "tags can only be tested with",
    ),
    row("string-function-field", Validation, "takes a string field"),
    row(
        "string-function-argument",
        Validation,
        "takes a string literal",
    ),
    // §4 delete
    row("invalid-image-id", Validation, "invalid image identifier"),
    row("image-not-found", NotFound, "No image with id"),
    row("image-being-processed", Conflict, "being processed"),
    // storage, any operation
    row("storage-failure", Internal, "internal error"),
    row("store-unavailable", Unavailable, "cannot reach its storage"),
    // §8 outside the two operations
    row("unknown-path", NotFound, "No resource exists at this path"),
    row(
        "method-not-allowed",
        MethodNotAllowed,
        "is not allowed here",
    ),
];

fn find(name: &str) -> &'static Row {
    ROWS.iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no catalogue row named {name}"))
}

/// The row of a service error (exhaustive: a new variant needs a row).
fn dam_row(error: &DamError) -> &'static Row {
    find(match error {
        DamError::MissingApiKey => "missing-key",
        DamError::MalformedApiKey { .. } => "malformed-key",
        DamError::UnknownApiKey => "unknown-key",
        DamError::InvalidQuery(e) => return query_row(e),
        DamError::InvalidImageId => "invalid-image-id",
        DamError::ImageNotFound { .. } => "image-not-found",
        DamError::ImageBeingProcessed { .. } => "image-being-processed",
        DamError::Storage(_) => "storage-failure",
        DamError::Unavailable(_) => "store-unavailable",
    })
}

/// The row of a query error (exhaustive: a new variant needs a row).
fn query_row(error: &QueryError) -> &'static Row {
    find(match error {
        QueryError::MalformedEscape { .. } => "malformed-escape",
        QueryError::InvalidUtf8 { .. } => "invalid-utf8",
        QueryError::QueryStringTooLong { .. } => "query-string-too-long",
        QueryError::UnsupportedOption { .. } => "unsupported-option",
        QueryError::RepeatedOption { .. } => "repeated-option",
        QueryError::InvalidTop { .. } => "invalid-top",
        QueryError::InvalidSkip { .. } => "invalid-skip",
        QueryError::InvalidCount { .. } => "invalid-count",
        QueryError::InvalidSkipToken { .. } => "invalid-skiptoken",
        QueryError::SkipTokenWithSkip => "skiptoken-with-skip",
        QueryError::OrderByEmptyItem { .. } => "orderby-empty-item",
        QueryError::OrderByTooManyWords { .. } => "orderby-too-many-words",
        QueryError::OrderByUnknownField { .. } => "orderby-unknown-field",
        QueryError::OrderByNotSortable { .. } => "orderby-not-sortable",
        QueryError::OrderByDirection { .. } => "orderby-direction",
        QueryError::OrderByDuplicate { .. } => "orderby-duplicate",
        QueryError::OrderByTooLong { .. } => "orderby-too-long",
        QueryError::EmptyFilter { .. } => "empty-filter",
        QueryError::FilterTooLong { .. } => "filter-too-long",
        QueryError::UnexpectedCharacter { .. } => "unexpected-character",
        QueryError::MissingSeparator { .. } => "missing-separator",
        QueryError::UnterminatedString { .. } => "unterminated-string",
        QueryError::StringTooLong { .. } => "string-too-long",
        QueryError::IntegerOutOfRange { .. } => "integer-out-of-range",
        QueryError::InvalidDateTime { .. } => "invalid-datetime",
        QueryError::Syntax { .. } => "syntax",
        QueryError::EmptyInList { .. } => "empty-in-list",
        QueryError::TooDeep { .. } => "too-deep",
        QueryError::TooManyNodes { .. } => "too-many-nodes",
        QueryError::InListTooLong { .. } => "in-list-too-long",
        QueryError::LambdaVariable { .. } => "lambda-variable",
        QueryError::LambdaOperator { .. } => "lambda-operator",
        QueryError::LambdaValue { .. } => "lambda-value",
        QueryError::UnknownField { .. } => "unknown-field",
        QueryError::TypeMismatch { .. } => "type-mismatch",
        QueryError::ComparisonWithoutField { .. } => "comparison-without-field",
        QueryError::NullNotAllowed { .. } => "null-not-allowed",
        QueryError::NullInList { .. } => "null-in-list",
        QueryError::OrderingOnStatus { .. } => "ordering-on-status",
        QueryError::TagsOutsideLambda { .. } => "tags-outside-lambda",
        QueryError::StringFunctionField { .. } => "string-function-field",
        QueryError::StringFunctionArgument { .. } => "string-function-argument",
    })
}

/// The rows of the problems made outside the service (exhaustive over problem kinds: each
/// kind is reachable from at least one row).
fn kind_row(kind: ProblemKind) -> &'static Row {
    find(match kind {
        ProblemKind::Validation => "invalid-top",
        ProblemKind::Unauthorized => "missing-key",
        ProblemKind::NotFound => "unknown-path",
        ProblemKind::MethodNotAllowed => "method-not-allowed",
        ProblemKind::Conflict => "image-being-processed",
        ProblemKind::Internal => "storage-failure",
        ProblemKind::Unavailable => "store-unavailable",
    })
}

// ---- a small store for the catalogue -----------------------------------------------------

const KEY: &str = "catalogue-key";
const OTHER_KEY: &str = "other-tenant-key";

/// A minimal store: one lock over a list of images; fails every call when `failing`.
#[derive(Default)]
struct TableStore {
    images: Mutex<Vec<(TenantId, Image)>>,
    keys: HashMap<KeyDigest, TenantId>,
    failing: bool,
}

impl TableStore {
    fn fail(&self) -> Result<(), StoreError> {
        if self.failing {
            Err(StoreError::backend(
                "table",
                "disk /srv/dam/db.sqlite3: SELECT * FROM images: I/O error",
            ))
        } else {
            Ok(())
        }
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Vec<(TenantId, Image)>>, StoreError> {
        self.images
            .lock()
            .map_err(|_| StoreError::backend("table", "poisoned"))
    }
}

#[async_trait]
impl ImageStore for TableStore {
    async fn list(&self, tenant: &TenantId, query: &ListQuery) -> Result<ImagePage, StoreError> {
        self.fail()?;
        let images = self.lock()?;
        let mine = images.iter().filter(|(t, _)| t == tenant).map(|(_, i)| i);
        Ok(reference_page(mine, query))
    }

    async fn get(&self, tenant: &TenantId, id: ImageId) -> Result<Option<Image>, StoreError> {
        self.fail()?;
        let images = self.lock()?;
        Ok(images
            .iter()
            .find(|(t, i)| t == tenant && i.id == id)
            .map(|(_, i)| i.clone()))
    }

    async fn insert(&self, _: &TenantId, _: Image) -> Result<Image, StoreError> {
        Err(StoreError::backend("table", "insert is not used here"))
    }

    async fn set_status(
        &self,
        tenant: &TenantId,
        id: ImageId,
        status: ImageStatus,
        at: Timestamp,
    ) -> Result<Image, StoreError> {
        self.fail()?;
        let mut images = self.lock()?;
        let (_, image) = images
            .iter_mut()
            .find(|(t, i)| t == tenant && i.id == id)
            .ok_or(StoreError::NotFound)?;
        image.status = status;
        image.modified_on = at;
        Ok(image.clone())
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.fail()
    }

    async fn delete(&self, tenant: &TenantId, id: ImageId) -> Result<(), StoreError> {
        self.fail()?;
        let mut images = self.lock()?;
        let at = images
            .iter()
            .position(|(t, i)| t == tenant && i.id == id)
            .ok_or(StoreError::NotFound)?;
        if images[at].1.status.is_processing() {
            return Err(StoreError::BeingProcessed);
        }
        images.remove(at);
        Ok(())
    }
}

#[async_trait]
impl KeyStore for TableStore {
    async fn tenant_for_key(&self, digest: &KeyDigest) -> Result<Option<TenantId>, StoreError> {
        self.fail()?;
        Ok(self.keys.get(digest).cloned())
    }
}

/// Images 1..=50 of tenant `t` with statuses cycling Vd Up Ok Re Er; 51..=60 of tenant `u`.
fn store(failing: bool) -> Arc<TableStore> {
    let mut images = Vec::new();
    for id in 1..=60 {
        let tenant = if id <= 50 { "t" } else { "u" };
        let image = Image::new(
            ImageId::new(id).expect("id"),
            Reference::new(format!("r{id}.jpg")).expect("reference"),
            FileType::new("jpg").expect("file type"),
            ImageStatus::ALL[(id as usize) % 5],
            Timestamp::from_unix_seconds(1_700_000_000).expect("timestamp"),
        );
        images.push((TenantId::new(tenant).expect("tenant"), image));
    }
    let keys = HashMap::from([
        (KeyDigest::of(KEY), TenantId::new("t").expect("tenant")),
        (
            KeyDigest::of(OTHER_KEY),
            TenantId::new("u").expect("tenant"),
        ),
    ]);
    Arc::new(TableStore {
        images: Mutex::new(images),
        keys,
        failing,
    })
}

// ---- requests and strategies -------------------------------------------------------------

/// What a case sends to the service.
#[derive(Debug, Clone)]
enum Request {
    List {
        key: Option<Vec<u8>>,
        query: String,
    },
    Delete {
        key: Option<Vec<u8>>,
        id: String,
    },
    /// A request to a failing store.
    FailingList,
    FailingDelete {
        id: i64,
    },
    /// A readiness check of a failing store.
    NotReady,
    /// Problems made outside the service (by the HTTP layer).
    UnknownPath {
        path: String,
    },
    WrongMethod {
        path: String,
        method: String,
    },
}

fn list(query: impl Into<String>) -> Request {
    Request::List {
        key: Some(KEY.as_bytes().to_vec()),
        query: query.into(),
    }
}

fn filter(text: &str) -> Request {
    list(format!("$filter={}", encode(text)))
}

/// Image `id` (1..=50) of tenant `t` of [`store`].
fn image_of_t(id: i64) -> Image {
    let store = store(false);
    let images = store.images.lock().expect("lock");
    images[(id - 1) as usize].1.clone()
}

fn base64_url(bytes: Vec<u8>) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

const INTEGER_FIELDS: [&str; 5] = ["id", "numLinks", "width", "height", "sizeInBytes"];
const URL_FIELDS: [&str; 4] = [
    "originalUrl",
    "thumbnailUrl",
    "thumbnailMediumUrl",
    "thumbnailPreviewUrl",
];

fn sortable() -> impl Strategy<Value = &'static str> + Clone {
    proptest::sample::select(Field::SORTABLE.to_vec()).prop_map(|f| f.name())
}

fn one_of(items: &'static [&'static str]) -> impl Strategy<Value = &'static str> + Clone {
    proptest::sample::select(items)
}

fn not_a_field() -> impl Strategy<Value = String> {
    "[a-z][a-zA-Z]{0,8}"
        .prop_filter("not a field", |s| Field::from_name(s).is_none())
        .prop_filter("not a keyword", |s| {
            ![
                "and", "or", "not", "in", "eq", "ne", "gt", "ge", "lt", "le", "null",
            ]
            .contains(&s.as_str())
        })
}

/// The strategy of each row: many requests that reach exactly that branch.
fn strategy(name: &str) -> Option<BoxedStrategy<Request>> {
    let s = match name {
        "missing-key" => prop_oneof![Just(None), "[ \t]{0,5}".prop_map(|s| Some(s.into_bytes())),]
            .prop_map(|key| Request::List {
                key,
                query: String::new(),
            })
            .boxed(),
        "malformed-key" => prop_oneof![
            "[!-~]{257,300}".prop_map(String::into_bytes),
            "[a-z]{1,10}[ é\u{7f}][a-z]{1,10}".prop_map(String::into_bytes),
        ]
        .prop_map(|key| Request::Delete {
            key: Some(key),
            id: "1".into(),
        })
        .boxed(),
        "unknown-key" => "zz[!-~]{1,200}"
            .prop_map(|key| Request::List {
                key: Some(key.into_bytes()),
                query: "$top=abc".into(),
            })
            .boxed(),
        "malformed-escape" => ("[a-z]{0,6}", prop_oneof!["%", "%z", "%g1", "%1"])
            .prop_map(|(a, bad)| list(format!("$filter={a}{bad}")))
            .boxed(),
        "invalid-utf8" => (0x80u8..=0xff)
            .prop_map(|b| list(format!("$count=%{b:02X}")))
            .boxed(),
        "query-string-too-long" => (65_537usize..70_000)
            .prop_map(|n| list(format!("x={}", "a".repeat(n))))
            .boxed(),
        "unsupported-option" => "\\$[a-zA-Z]{1,10}"
            .prop_filter("supported", |n| {
                ![
                    "$filter",
                    "$orderby",
                    "$top",
                    "$skip",
                    "$count",
                    "$skiptoken",
                ]
                .contains(&n.as_str())
            })
            .prop_map(|n| list(format!("{n}=1&$top=-5")))
            .boxed(),
        "repeated-option" => (
            one_of(&[
                "$top=1",
                "$skip=2",
                "$count=true",
                "$orderby=id",
                "$filter=id%20eq%201",
                "$skiptoken=x",
            ]),
            "[a-z]{0,4}",
        )
            .prop_map(|(o, junk)| list(format!("{o}&x={junk}&{o}")))
            .boxed(),
        "invalid-top" => prop_oneof![
            (101u64..100_000).prop_map(|n| n.to_string()),
            (1i64..1000).prop_map(|n| format!("-{n}")),
            "[a-z.+]{1,5}",
            Just(String::new()),
        ]
        .prop_map(|v| list(format!("$top={}&$skip=bad", encode(&v))))
        .boxed(),
        "invalid-skip" => prop_oneof![
            (1i64..1000).prop_map(|n| format!("-{n}")),
            "[a-z.]{1,5}",
            Just("9223372036854775808".to_string()),
        ]
        .prop_map(|v| list(format!("$skip={}&$count=bad", encode(&v))))
        .boxed(),
        "invalid-count" => "[a-zA-Z0-9]{0,6}"
            .prop_filter("boolean", |v| v != "true" && v != "false")
            .prop_map(|v| list(format!("$count={v}&$orderby=tags")))
            .boxed(),
        "invalid-skiptoken" => prop_oneof![
            // not base64url, or padded
            "[A-Za-z0-9_-]{0,6}[.~!*=+/][A-Za-z0-9_-]{0,6}",
            // another version of the format
            (2u8..=255, prop::collection::vec(any::<u8>(), 16..40))
                .prop_map(|(v, rest)| base64_url([vec![v], rest].concat())),
            // cut short
            prop::collection::vec(any::<u8>(), 0..17)
                .prop_map(|rest| base64_url([vec![1], rest].concat())),
            // too long
            (2049usize..2200).prop_map(|n| "A".repeat(n)),
            Just(String::new()),
            // written for another $filter or $orderby than this request's (none)
            (1i64..=50, "[a-z]{1,10}").prop_map(|(id, text)| {
                crate::query::Position::of(&image_of_t(id), &[])
                    .token(Some(&format!("reference eq '{text}'")), None)
            }),
        ]
        .prop_map(|token| list(format!("$top=5&$skiptoken={}", encode(&token))))
        .boxed(),
        "skiptoken-with-skip" => (1i64..=50, 0u64..100)
            .prop_map(|(id, skip)| {
                let token = crate::query::Position::of(&image_of_t(id), &[]).token(None, None);
                list(format!("$skiptoken={token}&$skip={skip}"))
            })
            .boxed(),
        "orderby-empty-item" => sortable()
            .prop_flat_map(|f| {
                prop_oneof![
                    Just(format!("{f},")),
                    Just(format!(",{f}")),
                    Just(format!("{f},,id")),
                ]
            })
            .prop_map(|o| list(format!("$orderby={}", encode(&o))))
            .boxed(),
        "orderby-too-many-words" => (sortable(), one_of(&["asc", "desc"]), "[a-z]{1,5}")
            .prop_map(|(f, d, w)| list(format!("$orderby={}", encode(&format!("{f} {d} {w}")))))
            .boxed(),
        "orderby-unknown-field" => not_a_field()
            .prop_map(|f| list(format!("$orderby={f}")))
            .boxed(),
        "orderby-not-sortable" => one_of(&[
            "tags",
            "originalUrl",
            "thumbnailUrl",
            "thumbnailMediumUrl",
            "thumbnailPreviewUrl",
        ])
        .prop_map(|f| list(format!("$orderby=id,{f}")))
        .boxed(),
        "orderby-direction" => (sortable(), "[a-zA-Z]{1,8}")
            .prop_filter("direction", |(_, d)| d != "asc" && d != "desc")
            .prop_map(|(f, d)| list(format!("$orderby={f}%20{d}")))
            .boxed(),
        "orderby-duplicate" => (sortable(), one_of(&["", " asc", " desc"]))
            .prop_map(|(f, d)| list(format!("$orderby={}", encode(&format!("{f},{f}{d}")))))
            .boxed(),
        "orderby-too-long" => (sortable(), 1025usize..2000)
            .prop_map(|(f, n)| list(format!("$orderby={f}{}", "%20".repeat(n))))
            .boxed(),
        "empty-filter" => " {0,6}".prop_map(|s| filter(&s)).boxed(),
        "filter-too-long" => (4097usize..5000)
            .prop_map(|n| {
                filter(&format!(
                    "{}numLinks eq 1",
                    "numLinks eq 1 or ".repeat(n / 17 + 1)
                ))
            })
            .boxed(),
        "unexpected-character" => (
            one_of(&INTEGER_FIELDS),
            one_of(&["!", "=", "*", ";", "\t", "<", "\"", "é"]),
        )
            .prop_map(|(f, c)| filter(&format!("{f} eq 1 and {c}")))
            .boxed(),
        "missing-separator" => (one_of(&INTEGER_FIELDS), 0i64..100, one_of(&["and", "or"]))
            .prop_map(|(f, n, k)| filter(&format!("{f} eq {n}{k} {f} eq 1")))
            .boxed(),
        "unterminated-string" => "[a-z ]{0,10}"
            .prop_map(|s| filter(&format!("reference eq '{s}")))
            .boxed(),
        "string-too-long" => (1025usize..1500)
            .prop_map(|n| filter(&format!("reference eq '{}'", "s".repeat(n))))
            .boxed(),
        "integer-out-of-range" => (one_of(&INTEGER_FIELDS), 0u64..1_000_000)
            .prop_map(|(f, n)| filter(&format!("{f} eq 9223372036854775808{n}")))
            .boxed(),
        "invalid-datetime" => prop_oneof![
            (13u32..100).prop_map(|m| format!("2024-{m:02}-01")),
            (32u32..100).prop_map(|d| format!("2024-01-{d:02}")),
            (24u32..100).prop_map(|h| format!("2024-01-01T{h:02}:00")),
            Just("2023-02-29".to_string()),
        ]
        .prop_map(|d| filter(&format!("createdOn gt {d}")))
        .boxed(),
        "syntax" => (one_of(&INTEGER_FIELDS), 0i64..100)
            .prop_flat_map(|(f, n)| {
                prop_oneof![
                    Just(format!("{f} eq")),
                    Just(format!("{f} {n}")),
                    Just(format!("({f} eq {n}")),
                    Just(format!("{f} eq {n})")),
                    Just(format!("{f} eq {n} and")),
                    Just(format!("eq {n}")),
                ]
            })
            .prop_map(|t| filter(&t))
            .boxed(),
        "empty-in-list" => one_of(&INTEGER_FIELDS)
            .prop_map(|f| filter(&format!("{f} in ()")))
            .boxed(),
        "too-deep" => (33usize..400)
            .prop_map(|n| filter(&format!("{}id eq 1{}", "(".repeat(n), ")".repeat(n))))
            .boxed(),
        "too-many-nodes" => (129usize..300)
            .prop_map(|n| filter(&vec!["id eq 1"; n].join(" or ")))
            .boxed(),
        "in-list-too-long" => (101usize..300)
            .prop_map(|n| {
                let items: Vec<String> = (0..n).map(|i| i.to_string()).collect();
                filter(&format!("id in ({})", items.join(",")))
            })
            .boxed(),
        "lambda-variable" => ("[a-z]", "[a-z]")
            .prop_filter("same", |(a, b)| a != b)
            .prop_map(|(a, b)| filter(&format!("tags/any({a}: {b} eq 'x')")))
            .boxed(),
        "lambda-operator" => one_of(&["ne", "gt", "ge", "lt", "le"])
            .prop_map(|op| filter(&format!("tags/all(t: t {op} 'x')")))
            .boxed(),
        "lambda-value" => prop_oneof![
            Just("5".to_string()),
            Just("null".into()),
            Just("2024-01-01".into())
        ]
        .prop_map(|v| filter(&format!("tags/any(t: t eq {v})")))
        .boxed(),
        "unknown-field" => not_a_field()
            .prop_map(|f| filter(&format!("{f} eq 1")))
            .boxed(),
        "type-mismatch" => prop_oneof![
            one_of(&INTEGER_FIELDS).prop_map(|f| format!("{f} eq 'x'")),
            one_of(&["createdOn", "modifiedOn"]).prop_map(|f| format!("{f} gt 5")),
            one_of(&["reference", "fileType"]).prop_map(|f| format!("{f} eq 5")),
            Just("status eq 'Xx'".to_string()),
            Just("numLinks eq createdOn".to_string()),
        ]
        .prop_map(|t| filter(&t))
        .boxed(),
        "comparison-without-field" => (0i64..100, 0i64..100)
            .prop_map(|(a, b)| filter(&format!("{a} eq {b}")))
            .boxed(),
        "null-not-allowed" => prop_oneof![
            one_of(&INTEGER_FIELDS).prop_map(|f| format!("{f} eq null")),
            one_of(&URL_FIELDS).prop_map(|f| format!("{f} gt null")),
        ]
        .prop_map(|t| filter(&t))
        .boxed(),
        "null-in-list" => one_of(&URL_FIELDS)
            .prop_map(|f| filter(&format!("{f} in ('a', null)")))
            .boxed(),
        "ordering-on-status" => (
            one_of(&["gt", "ge", "lt", "le"]),
            one_of(&["Vd", "Up", "Ok", "Re", "Er"]),
        )
            .prop_map(|(op, s)| filter(&format!("status {op} '{s}'")))
            .boxed(),
        "tags-outside-lambda" => one_of(&["eq", "ne"])
            .prop_map(|op| filter(&format!("tags {op} 'red'")))
            .boxed(),
        "string-function-field" => (
            one_of(&["contains", "startswith", "endswith"]),
            one_of(&INTEGER_FIELDS),
        )
            .prop_map(|(fun, f)| filter(&format!("{fun}({f},'a')")))
            .boxed(),
        "string-function-argument" => (one_of(&["contains", "startswith", "endswith"]), 0i64..100)
            .prop_map(|(fun, n)| filter(&format!("{fun}(reference,{n})")))
            .boxed(),
        "invalid-image-id" => prop_oneof![
            "0[0-9]{0,5}",
            "[+ -][1-9][0-9]{0,5}",
            "[1-9][0-9]{0,5}[.a-z%]",
            "922337203685477580[89]|92233720368547758[1-9][0-9]|92233720368547759[0-9]{2}",
            "[1-9][0-9]{19,25}",
            Just(String::new()),
        ]
        .prop_map(|id| Request::Delete {
            key: Some(KEY.as_bytes().to_vec()),
            id,
        })
        .boxed(),
        "image-not-found" => prop_oneof![61i64..=i64::MAX, 51i64..=60]
            .prop_map(|id| Request::Delete {
                key: Some(KEY.as_bytes().to_vec()),
                id: id.to_string(),
            })
            .boxed(),
        // statuses cycle so that id % 5 == 3 is Up and id % 5 == 2 is Re
        "image-being-processed" => (0i64..10, prop::bool::ANY)
            .prop_map(|(k, up)| Request::Delete {
                key: Some(KEY.as_bytes().to_vec()),
                id: (k * 5 + if up { 3 } else { 2 }).to_string(),
            })
            .boxed(),
        "store-unavailable" => Just(Request::NotReady).boxed(),
        "storage-failure" => prop_oneof![
            Just(Request::FailingList),
            (1i64..100).prop_map(|id| Request::FailingDelete { id }),
        ]
        .boxed(),
        "unknown-path" => "/[a-z]{1,10}(/[a-z0-9]{0,5})?"
            .prop_filter("api path", |p| !p.starts_with("/image"))
            .prop_map(|path| Request::UnknownPath { path })
            .boxed(),
        "method-not-allowed" => (
            one_of(&["POST", "PUT", "PATCH"]),
            prop_oneof![
                Just("/image".to_string()),
                (1i64..100).prop_map(|i| format!("/image/{i}"))
            ],
        )
            .prop_map(|(m, path)| Request::WrongMethod {
                path,
                method: m.into(),
            })
            .boxed(),
        _ => return None,
    };
    Some(s)
}

/// Runs a request; the error (where the service made one) and the problem document.
async fn run(request: &Request) -> (Option<DamError>, ProblemDetails, String) {
    let healthy = store(false);
    let service = ImageService::new(healthy.clone(), healthy);
    let failing = store(true);
    let broken = ImageService::new(failing.clone(), failing);
    match request {
        Request::List { key, query } => {
            let path = "/image".to_string();
            let err = service
                .list_inner(key.as_deref(), Some(query), &path)
                .await
                .err();
            let problem = service
                .list_images(key.as_deref(), Some(query), &path)
                .await
                .err();
            (err, problem.expect("a problem"), path)
        }
        Request::Delete { key, id } => {
            let path = format!("/image/{id}");
            let err = service.delete_inner(key.as_deref(), id).await.err();
            // a fresh store: the first call may have deleted the image
            let fresh = store(false);
            let service = ImageService::new(fresh.clone(), fresh);
            let problem = service.delete_image(key.as_deref(), id, &path).await.err();
            (err, problem.expect("a problem"), path)
        }
        Request::FailingList => {
            let err = broken
                .list_inner(Some(KEY.as_bytes()), None, "/image")
                .await
                .err();
            let problem = broken
                .list_images(Some(KEY.as_bytes()), None, "/image")
                .await
                .err();
            (err, problem.expect("a problem"), "/image".into())
        }
        Request::FailingDelete { id } => {
            let path = format!("/image/{id}");
            let raw = id.to_string();
            let err = broken.delete_inner(Some(KEY.as_bytes()), &raw).await.err();
            let problem = broken
                .delete_image(Some(KEY.as_bytes()), &raw, &path)
                .await
                .err();
            (err, problem.expect("a problem"), path)
        }
        Request::NotReady => {
            let path = "/ready".to_string();
            let err = broken.ready().await.err();
            let problem = err.as_ref().map(|e| broken.problem(e, &path));
            (err, problem.expect("a problem"), path)
        }
        Request::UnknownPath { path } => (
            None,
            ProblemDetails::unknown_path(DEFAULT_TYPE_BASE, path),
            path.clone(),
        ),
        Request::WrongMethod { path, method } => {
            let allow = if path == "/image" { "GET" } else { "DELETE" };
            (
                None,
                ProblemDetails::method_not_allowed(DEFAULT_TYPE_BASE, path, method, allow),
                path.clone(),
            )
        }
    }
}

fn check(row: &Row, request: &Request) -> Result<(), TestCaseError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let (err, problem, instance) = runtime.block_on(run(request));
    if let Some(err) = &err {
        prop_assert_eq!(dam_row(err).name, row.name, "branch reached: {:?}", err);
    }
    prop_assert_eq!(problem.status, row.status);
    prop_assert_eq!(
        &problem.problem_type,
        &format!("{DEFAULT_TYPE_BASE}/{}", row.slug)
    );
    prop_assert_eq!(&problem.title, row.title);
    prop_assert_eq!(&problem.instance, &instance);
    prop_assert!(
        problem.detail.contains(row.detail_has),
        "detail {:?} does not say {:?}",
        problem.detail,
        row.detail_has
    );
    if row.status == 400 {
        let errors = problem
            .errors
            .as_ref()
            .ok_or_else(|| TestCaseError::fail("no errors array"))?;
        prop_assert_eq!(errors.len(), 1);
    }
    if row.status == 500 {
        for leak in ["SELECT", "/srv", "sqlite3", "I/O", "table"] {
            prop_assert!(!problem.detail.contains(leak), "500 detail leaks {}", leak);
        }
    }
    let body = serde_json::to_string(&problem).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert!(!body.contains(KEY));
    Ok(())
}

#[test]
fn every_row_has_a_strategy_and_names_are_unique() {
    let mut names = std::collections::HashSet::new();
    for row in ROWS {
        assert!(names.insert(row.name), "row {} twice", row.name);
        assert!(
            strategy(row.name).is_some(),
            "row {} has no strategy",
            row.name
        );
    }
    for kind in [
        Validation,
        Unauthorized,
        NotFound,
        MethodNotAllowed,
        Conflict,
        Internal,
        Unavailable,
    ] {
        assert_eq!(kind_row(kind).status, kind.status());
        assert_eq!(kind_row(kind).slug, kind.slug());
        assert_eq!(kind_row(kind).title, kind.title());
    }
}

#[test]
fn every_row_is_reached_by_its_strategy_with_the_full_problem() {
    use proptest::test_runner::{Config, TestRunner};
    for row in ROWS {
        let strategy = strategy(row.name).expect("strategy");
        let mut runner = TestRunner::new(Config {
            cases: 24,
            failure_persistence: None,
            ..Config::default()
        });
        let outcome = runner.run(&strategy, |request| check(row, &request));
        if let Err(e) = outcome {
            panic!("catalogue row {}: {e}", row.name);
        }
    }
}
