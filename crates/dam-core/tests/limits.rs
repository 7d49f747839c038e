//! Every limit of the contract, at its edge and one past it, through the service facade as an
//! HTTP layer calls it (raw key bytes, raw query string): the value at the limit is a 200, one
//! past it a 400 `validation` problem naming the parameter, never a crash or a 500.
//! The parser's own edge cases (positions, counting rules) are in `query_table.rs`.

use std::sync::Arc;

use dam_core::query::{
    parse_orderby, Position, MAX_DEPTH, MAX_FILTER_BYTES, MAX_IN_ITEMS, MAX_NODES,
    MAX_QUERY_STRING_BYTES, MAX_SKIPTOKEN_CHARS, MAX_STRING_BYTES, MAX_TOP,
};
use dam_core::store::SeedStore;
use dam_core::{
    FileType, Fixture, Image, ImageId, ImageService, ImageStatus, ListResponse, ProblemDetails,
    Reference, Timestamp, MAX_KEY_LEN,
};
use dam_store_memory::MemoryStore;

/// A key of exactly [`MAX_KEY_LEN`] characters, owned by `acme`.
fn long_key() -> String {
    "k".repeat(MAX_KEY_LEN)
}

/// `acme` with 3 images (ids 1..=3) and two keys: `acme-key` and [`long_key`].
async fn service() -> ImageService {
    let images: Vec<String> = (1..=3)
        .map(|id| {
            format!(
                r#"{{"id": {id}, "reference": "a{id}.jpg", "fileType": "jpg", "status": "Ok",
                   "createdOn": "2024-01-01T00:00:00", "tags": ["red"]}}"#
            )
        })
        .collect();
    let json = format!(
        r#"{{"tenants": [{{"name": "acme", "apiKeys": ["acme-key", "{}"], "images": [{}]}}]}}"#,
        long_key(),
        images.join(",")
    );
    let store = Arc::new(MemoryStore::new());
    store
        .load_fixture(&Fixture::from_json(&json).unwrap())
        .await
        .unwrap();
    ImageService::new(store.clone(), store)
}

async fn list(svc: &ImageService, query: &str) -> Result<ListResponse, ProblemDetails> {
    svc.list_images(Some(b"acme-key"), Some(query), "/image")
        .await
}

/// A 200 with all three images (every filter below selects them all).
fn assert_ok(result: Result<ListResponse, ProblemDetails>, what: &str) -> ListResponse {
    match result {
        Ok(page) => page,
        Err(p) => panic!("{what}: expected 200, got {} {}", p.status, p.detail),
    }
}

/// A 400 `validation` problem whose first `errors` entry names `parameter` and whose
/// `detail` names it and says `reason`.
fn assert_400(
    result: Result<ListResponse, ProblemDetails>,
    parameter: &str,
    reason: &str,
    what: &str,
) {
    let p = match result {
        Ok(page) => panic!(
            "{what}: expected 400, got 200 with {} items",
            page.items.len()
        ),
        Err(p) => p,
    };
    assert_eq!(p.status, 400, "{what}: {p:?}");
    assert!(p.problem_type.ends_with("/validation"), "{what}: {p:?}");
    assert_eq!(p.instance, "/image", "{what}");
    let errors = p.errors.as_deref().unwrap_or_default();
    assert_eq!(
        errors.first().map(|e| e.parameter.as_str()),
        Some(parameter),
        "{what}: {p:?}"
    );
    assert!(p.detail.contains(parameter), "{what}: {}", p.detail);
    assert!(p.detail.contains(reason), "{what}: {}", p.detail);
    assert!(p.detail.len() < 1024, "{what}: the detail stays short");
}

/// A `$filter` value, percent-encoded the way a client sends it.
fn filter(text: &str) -> String {
    let encoded: String = text
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'\'' | b'(' | b')' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    format!("$filter={encoded}")
}

#[tokio::test]
async fn api_key_length() {
    let svc = service().await;
    let at = long_key();
    let page = svc
        .list_images(Some(at.as_bytes()), None, "/image")
        .await
        .unwrap();
    assert_eq!(page.items.len(), 3);
    let past = "k".repeat(MAX_KEY_LEN + 1);
    let result = svc.list_images(Some(past.as_bytes()), None, "/image").await;
    assert_400(result, "X-API-KEY", "malformed", "key of 257");
    let result = svc
        .delete_image(Some(past.as_bytes()), "1", "/image/1")
        .await;
    assert_eq!(result.unwrap_err().status, 400);
}

#[tokio::test]
async fn top_and_skip() {
    let svc = service().await;
    let page = assert_ok(list(&svc, &format!("$top={MAX_TOP}")).await, "$top=100");
    assert_eq!(page.items.len(), 3);
    let top = MAX_TOP + 1;
    assert_400(
        list(&svc, &format!("$top={top}")).await,
        "$top",
        "0 to 100",
        "$top=101",
    );
    // Leading zeros are digits too: still 100.
    assert_ok(list(&svc, "$top=000100").await, "$top=000100");
    assert_400(
        list(&svc, "$top=0000101").await,
        "$top",
        "0 to 100",
        "0000101",
    );

    let max = i64::MAX;
    let page = assert_ok(list(&svc, &format!("$skip={max}&$count=true")).await, "max");
    assert!(page.items.is_empty());
    assert_eq!(page.count, Some(3));
    assert_eq!(page.next_link, None);
    let past = i64::MAX as u64 + 1;
    assert_400(
        list(&svc, &format!("$skip={past}")).await,
        "$skip",
        "9223372036854775807",
        "2^63",
    );
    assert_400(
        list(&svc, &format!("$skip={}", u64::MAX)).await,
        "$skip",
        "9223372036854775807",
        "u64::MAX",
    );
    assert_400(
        list(&svc, &format!("$skip={}0", u64::MAX)).await,
        "$skip",
        "9223372036854775807",
        "> u64",
    );
    // A skip just under the edge with a full page: the next link does not overflow.
    let page = assert_ok(
        list(&svc, &format!("$top=100&$skip={}", max - 1)).await,
        "max - 1",
    );
    assert_eq!(page.next_link, None);
}

#[tokio::test]
async fn filter_length_in_bytes_after_decoding() {
    let svc = service().await;
    // `id gt 0` padded with spaces to the limit; encoded, the query is three times longer.
    let padded = |n: usize| format!("id gt 0{}", " ".repeat(n - 7));
    let page = assert_ok(list(&svc, &filter(&padded(MAX_FILTER_BYTES))).await, "4096");
    assert_eq!(page.items.len(), 3);
    let result = list(&svc, &filter(&padded(MAX_FILTER_BYTES + 1))).await;
    assert_400(result, "$filter", "4097 bytes long", "4097");
    // Multi-byte characters count as their UTF-8 bytes: 4096 characters, 4097 bytes.
    let text = format!("id gt 0 {}é", " ".repeat(MAX_FILTER_BYTES - 9));
    assert_eq!(text.chars().count(), MAX_FILTER_BYTES);
    assert_eq!(text.len(), MAX_FILTER_BYTES + 1);
    let result = list(&svc, &filter(&text)).await;
    assert_400(result, "$filter", "4097 bytes long", "é past 4096");
}

#[tokio::test]
async fn filter_nesting_depth() {
    let svc = service().await;
    // `not` counts as a level; two `not`s keep the meaning.
    type Nest = fn(usize) -> String;
    let nestings: [(Nest, &str); 2] = [
        (
            |n| format!("{}id gt 0{}", "(".repeat(n), ")".repeat(n)),
            "parentheses",
        ),
        (|n| format!("{}id gt 0", "not ".repeat(n)), "nots"),
    ];
    for (nest, what) in nestings {
        let within = list(&svc, &filter(&nest(MAX_DEPTH))).await;
        assert_ok(within, &format!("32 {what}"));
        assert_400(
            list(&svc, &filter(&nest(MAX_DEPTH + 1))).await,
            "$filter",
            "deeper than 32",
            &format!("33 {what}"),
        );
    }
}

#[tokio::test]
async fn filter_node_count() {
    let svc = service().await;
    // n comparisons joined by `or`: 2n - 1 nodes.
    let chain = |n: usize| vec!["id gt 0"; n].join(" or ");
    let at = format!("not ({})", chain(MAX_NODES / 2));
    assert_ok(list(&svc, &filter(&at)).await, "256 nodes");
    // 255 + `and` + 1 = 257.
    let past = format!("{} and id gt 0", chain(MAX_NODES / 2));
    let result = list(&svc, &filter(&past)).await;
    assert_400(result, "$filter", "more than 256 nodes", "257 nodes");
}

#[tokio::test]
async fn in_list_items() {
    let svc = service().await;
    let items = |n: usize| {
        let ids: Vec<String> = (1..=n).map(|i| i.to_string()).collect();
        format!("id in ({})", ids.join(","))
    };
    let page = assert_ok(list(&svc, &filter(&items(MAX_IN_ITEMS))).await, "100 items");
    assert_eq!(page.items.len(), 3);
    let result = list(&svc, &filter(&items(MAX_IN_ITEMS + 1))).await;
    assert_400(result, "$filter", "has 101 items", "101 items");
}

#[tokio::test]
async fn string_literal_bytes_after_unescaping() {
    let svc = service().await;
    let literal = |value: &str| format!("reference ne '{value}'");
    let at = "x".repeat(MAX_STRING_BYTES);
    let page = assert_ok(list(&svc, &filter(&literal(&at))).await, "1024");
    assert_eq!(page.items.len(), 3);
    let past = "x".repeat(MAX_STRING_BYTES + 1);
    assert_400(
        list(&svc, &filter(&literal(&past))).await,
        "$filter",
        "holds 1025 bytes",
        "1025",
    );
    // `''` is one byte of value: 1024 quotes pass, 1025 do not.
    let quotes = |n: usize| literal(&"''".repeat(n));
    assert_ok(
        list(&svc, &filter(&quotes(MAX_STRING_BYTES))).await,
        "1024 '",
    );
    let result = list(&svc, &filter(&quotes(MAX_STRING_BYTES + 1))).await;
    assert_400(result, "$filter", "holds 1025 bytes", "1025 '");
    // Bytes, not characters: 512 two-byte characters pass, one more byte does not.
    let two_byte = "é".repeat(MAX_STRING_BYTES / 2);
    assert_ok(list(&svc, &filter(&literal(&two_byte))).await, "512 é");
    let result = list(&svc, &filter(&literal(&format!("{two_byte}x")))).await;
    assert_400(result, "$filter", "holds 1025 bytes", "512 é + x");
}

#[tokio::test]
async fn query_string_length_before_decoding() {
    let svc = service().await;
    // Parameters without `$` are ignored, but the whole raw query string counts.
    let at = format!("x={}", "a".repeat(MAX_QUERY_STRING_BYTES - 2));
    assert_eq!(at.len(), MAX_QUERY_STRING_BYTES);
    let page = assert_ok(list(&svc, &at).await, "64 KiB");
    assert_eq!(page.items.len(), 3);
    let past = format!("{at}a");
    assert_400(
        list(&svc, &past).await,
        "query",
        "longer than 65536 bytes",
        "64 KiB + 1",
    );
}

#[tokio::test]
async fn skiptoken_length() {
    let svc = service().await;
    // The longest genuine token: every sortable field ordered, the longest reference and file
    // type in the widest characters.
    let orderby =
        "reference,fileType,status,numLinks,createdOn,modifiedOn,width,height,sizeInBytes";
    let mut image = Image::new(
        ImageId::MAX,
        Reference::new("\u{10348}".repeat(255)).unwrap(),
        FileType::new("\u{10348}".repeat(32)).unwrap(),
        ImageStatus::Void,
        Timestamp::parse("9999-12-31T23:59:59").unwrap(),
    );
    image.num_links = i64::MAX;
    let order = parse_orderby(orderby).unwrap();
    let token = Position::of(&image, &order).token(None, Some(orderby));
    assert_eq!(token.len(), 1624);
    assert!(token.len() < MAX_SKIPTOKEN_CHARS);
    let query = format!("$orderby={orderby}&$skiptoken={token}");
    let page = assert_ok(list(&svc, &query).await, "the longest genuine token");
    assert!(page.items.is_empty(), "nothing sorts after it");
    // At the limit a token is read (and judged by what it holds); one past it is refused.
    let at = "A".repeat(MAX_SKIPTOKEN_CHARS);
    assert_400(
        list(&svc, &format!("$skiptoken={at}")).await,
        "$skiptoken",
        "invalid or expired: it was written by another version",
        "2048 characters",
    );
    let past = "A".repeat(MAX_SKIPTOKEN_CHARS + 1);
    assert_400(
        list(&svc, &format!("$skiptoken={past}")).await,
        "$skiptoken",
        "invalid or expired: it is longer than 2048 characters",
        "2049 characters",
    );
}
