//! `$skiptoken` (contract §3.1, §8): the token's round trip, every bad token as the exact 400,
//! its binding to `$filter` and `$orderby`, its version, and where its errors come in the
//! order of option errors.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use dam_core::query::{
    parse_orderby, parse_query_string, Position, QueryError, MAX_SKIPTOKEN_CHARS,
};
use dam_core::store::{compare_images, SortKey};
use dam_core::{DamError, FileType, Image, ImageId, ImageStatus, Reference, Timestamp};
use dam_store_tests::data;
use proptest::prelude::*;

/// Image `id` with the kit's defaults (`jpg`, `Ok`, created 2024-01-01T00:00:00).
fn image(id: i64) -> Image {
    data::image(id, &format!("r{id}.jpg")).build()
}

/// The token a link for `raw` (a first request) carries after `last`.
fn token_after(raw: &str, last: &Image) -> String {
    let link = parse_query_string(Some(raw))
        .unwrap()
        .next_link("/image", last)
        .unwrap();
    let (_, token) = link.split_once("$skiptoken=").unwrap();
    token.to_string()
}

fn err(raw: &str) -> QueryError {
    parse_query_string(Some(raw)).unwrap_err()
}

fn invalid(reason: &'static str) -> QueryError {
    QueryError::InvalidSkipToken { reason }
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A genuine token for no `$filter`/`$orderby`, as bytes.
fn genuine_bytes(id: i64) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(token_after("$top=5", &image(id)))
        .unwrap()
}

#[test]
fn the_problem_of_a_bad_token_is_the_exact_400() {
    let e = DamError::from(err("$skiptoken=%21%21"));
    let problem = e.to_problem("https://example.org/errors", "/image");
    assert_eq!(problem.status, 400);
    assert_eq!(
        problem.problem_type,
        "https://example.org/errors/validation"
    );
    assert_eq!(problem.title, "Bad Request");
    assert_eq!(
        problem.detail,
        "$skiptoken is invalid or expired: it is not unpadded base64url text; follow @nextLink as the server wrote it"
    );
    let errors = problem.errors.unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].parameter, "$skiptoken");
    assert_eq!(errors[0].message, problem.detail);
    assert_eq!(errors[0].position, None);
}

#[test]
fn every_bad_token_shape_is_its_own_exact_error() {
    let genuine = genuine_bytes(9);
    let mut other_version = genuine.clone();
    other_version[0] = 2;
    let mut version_zero = genuine.clone();
    version_zero[0] = 0;
    let mut id_zero = genuine.clone();
    let n = id_zero.len();
    id_zero[n - 8..].copy_from_slice(&0i64.to_be_bytes());
    let mut negative_id = genuine.clone();
    negative_id[n - 8..].copy_from_slice(&(-9i64).to_be_bytes());
    let cases: Vec<(String, QueryError)> = vec![
        (String::new(), invalid("it is empty")),
        (
            "A".repeat(MAX_SKIPTOKEN_CHARS + 1),
            invalid("it is longer than 2048 characters"),
        ),
        (
            "é".repeat(MAX_SKIPTOKEN_CHARS + 1),
            invalid("it is longer than 2048 characters"),
        ),
        (
            "abc.def".into(),
            invalid("it is not unpadded base64url text"),
        ),
        ("abc=".into(), invalid("it is not unpadded base64url text")),
        ("ab+/".into(), invalid("it is not unpadded base64url text")),
        // one character cannot be base64 (6 bits), and trailing bits must be zero
        ("A".into(), invalid("it is not unpadded base64url text")),
        ("AB".into(), invalid("it is not unpadded base64url text")),
        (
            b64(&other_version),
            invalid("it was written by another version of the format"),
        ),
        (
            b64(&version_zero),
            invalid("it was written by another version of the format"),
        ),
        (b64(&[1]), invalid("its content is cut short")),
        (b64(&genuine[..9]), invalid("its content is cut short")),
        (b64(&genuine[..n - 1]), invalid("its content is cut short")),
        (
            b64(&[&genuine[..], &[0]].concat()),
            invalid("it holds more than a position"),
        ),
        (b64(&id_zero), invalid("its image id is not valid")),
        (b64(&negative_id), invalid("its image id is not valid")),
        (
            token_after("$filter=id%20ge%201", &image(9)),
            invalid("it was written for another $filter or $orderby"),
        ),
    ];
    for (token, expected) in cases {
        let raw = format!("$top=5&$skiptoken={}", token.replace('+', "%2B"));
        assert_eq!(err(&raw), expected, "{token:?}");
        assert_eq!(expected.parameter(), "$skiptoken");
        assert!(
            expected.to_string().contains("invalid or expired"),
            "{expected}"
        );
    }
    // The longest token accepted is read (and then refused for what it holds, not its length).
    let longest = "A".repeat(MAX_SKIPTOKEN_CHARS);
    assert_ne!(
        err(&format!("$skiptoken={longest}")),
        invalid("it is longer than 2048 characters")
    );
}

#[test]
fn values_that_no_image_can_have_are_refused() {
    let order = "$orderby=reference,createdOn desc,status,fileType";
    let last = image(3);
    let genuine = URL_SAFE_NO_PAD.decode(token_after(order, &last)).unwrap();
    // version, binding, then reference (2 + 6 bytes "r3.jpg"), createdOn (8), status (1),
    // fileType (2 + 3), id (8)
    let reference_at = 9;
    let created_at = reference_at + 2 + 6;
    let status_at = created_at + 8;
    let file_type_at = status_at + 1;
    let rewrite = |at: usize, bytes: &[u8]| {
        let mut t = genuine.clone();
        t[at..at + bytes.len()].copy_from_slice(bytes);
        format!("{order}&$skiptoken={}", b64(&t))
    };
    let bad = invalid("it holds a value that no image can have");
    assert!(parse_query_string(Some(&format!("{order}&$skiptoken={}", b64(&genuine)))).is_ok());
    assert_eq!(err(&rewrite(status_at, &[5])), bad, "status code 5");
    assert_eq!(err(&rewrite(status_at, &[255])), bad, "status code 255");
    assert_eq!(
        err(&rewrite(created_at, &i64::MAX.to_be_bytes())),
        bad,
        "a timestamp past 9999"
    );
    assert_eq!(
        err(&rewrite(reference_at + 2, b"r\n")),
        bad,
        "a control character"
    );
    assert_eq!(
        err(&rewrite(reference_at + 2, &[0xff])),
        invalid("it holds text that is not UTF-8")
    );
    assert_eq!(
        err(&rewrite(file_type_at + 2, b"JPG")),
        bad,
        "an upper-case type"
    );
    assert_eq!(
        err(&rewrite(reference_at, &[0, 0])),
        bad,
        "an empty reference (the rest then reads wrongly too)"
    );
}

#[test]
fn a_token_is_bound_to_the_filter_and_orderby_texts_as_received() {
    let last = image(4);
    let raw = "$filter=id%20ge%201&$orderby=reference%20desc";
    let token = token_after(raw, &last);
    let ok = |q: &str| parse_query_string(Some(&format!("{q}&$skiptoken={token}")));
    assert!(ok(raw).is_ok());
    // $top, $count and plain parameters may change; the encoding may too (same decoded text)
    assert!(ok(&format!("{raw}&$top=3&$count=true&utm=x")).is_ok());
    assert!(ok("$filter=id+ge+1&$orderby=reference+desc").is_ok());
    let other = invalid("it was written for another $filter or $orderby");
    for changed in [
        "$filter=id%20ge%202&$orderby=reference%20desc",
        "$filter=id%20ge%201&$orderby=reference",
        "$filter=id%20ge%201&$orderby=reference%20desc,id",
        "$filter=id%20ge%201",
        "$orderby=reference%20desc",
        // the same filter written differently is another text
        "$filter=id%20ge%20001&$orderby=reference%20desc",
        "$filter=id%20ge%201&$orderby=reference%20desc%20",
    ] {
        assert_eq!(ok(changed).unwrap_err(), other, "{changed}");
    }
    // Texts are told apart from absence and from each other.
    let swapped = token_after("$orderby=id", &last);
    assert_eq!(
        parse_query_string(Some(&format!("$skiptoken={swapped}"))).unwrap_err(),
        other
    );
}

#[test]
fn skiptoken_errors_come_last_and_skip_with_a_token_names_the_token() {
    let token = token_after("$top=5", &image(2));
    // every other option's error comes first
    for (query, variant) in [
        ("$skiptoken=!&$select=id", "UnsupportedOption"),
        ("$skiptoken=!&$skiptoken=!", "RepeatedOption"),
        ("$skiptoken=!&$top=x", "InvalidTop"),
        ("$skiptoken=!&$skip=x", "InvalidSkip"),
        ("$skiptoken=!&$count=x", "InvalidCount"),
        ("$skiptoken=!&$orderby=tags", "OrderByNotSortable"),
        ("$skiptoken=!&$filter=x", "Syntax"),
        ("$skiptoken=%zz&$filter=x", "Syntax"),
    ] {
        let e = err(query);
        let debug = format!("{e:?}");
        assert_eq!(
            debug.split([' ', '{']).next(),
            Some(variant),
            "{query}: {debug}"
        );
    }
    assert_eq!(
        err("$skiptoken=%zz"),
        QueryError::MalformedEscape {
            parameter: "$skiptoken".into()
        }
    );
    // $skip with a token, whatever its value and whichever comes first
    for raw in [
        format!("$skip=0&$skiptoken={token}"),
        format!("$skiptoken={token}&$skip=10"),
        "$skip=3&$skiptoken=!!".to_string(),
    ] {
        let e = err(&raw);
        assert_eq!(e, QueryError::SkipTokenWithSkip, "{raw}");
        assert_eq!(e.parameter(), "$skiptoken");
        assert_eq!(
            e.to_string(),
            "$skiptoken cannot be combined with $skip; follow @nextLink as the server wrote it"
        );
    }
    // a token for another $filter is reported after a bad $skip, as a token error
    assert!(matches!(
        err(&format!("$skip=-1&$skiptoken={token}")),
        QueryError::InvalidSkip { .. }
    ));
}

/// Up to three distinct sortable fields, each either way (the conformance kit's generator).
fn sort_keys() -> impl Strategy<Value = Vec<SortKey>> {
    dam_store_tests::strategies::order_by()
}

fn any_image() -> impl Strategy<Value = Image> {
    (
        1i64..=i64::MAX,
        "[a-zA-Z0-9 é%'_.\u{10348}]{1,255}",
        "[a-z0-9é]{1,32}",
        0usize..5,
        (any::<i64>(), any::<i64>(), any::<i64>(), any::<i64>()),
        (-62_135_596_800i64..=253_402_300_799, 0i64..1_000_000),
    )
        .prop_map(
            |(id, reference, file_type, status, numbers, (created, later))| {
                let mut image = Image::new(
                    ImageId::new(id).unwrap(),
                    Reference::new(reference).unwrap(),
                    FileType::new(file_type).unwrap(),
                    ImageStatus::ALL[status],
                    Timestamp::from_unix_seconds(created).unwrap(),
                );
                image.num_links = numbers.0;
                image.width = numbers.1;
                image.height = numbers.2;
                image.size_in_bytes = numbers.3;
                image.modified_on =
                    Timestamp::from_unix_seconds((created + later).min(253_402_300_799)).unwrap();
                image
            },
        )
}

fn orderby_text(keys: &[SortKey]) -> Option<String> {
    (!keys.is_empty()).then(|| {
        keys.iter()
            .map(|k| format!("{} {}", k.field, if k.descending { "desc" } else { "asc" }))
            .collect::<Vec<_>>()
            .join(",")
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any image under any `$orderby`: the token is URL-safe, within the length limit, and
    /// reads back to the same position under the same options.
    #[test]
    fn a_token_round_trips(image in any_image(), keys in sort_keys(), filter in proptest::option::of("[a-z ]{1,20}")) {
        let orderby = orderby_text(&keys);
        let position = Position::of(&image, &keys);
        let token = position.token(filter.as_deref(), orderby.as_deref());
        prop_assert!(token.len() <= MAX_SKIPTOKEN_CHARS);
        prop_assert!(token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{}", token);
        let back = Position::from_token(&token, &keys, filter.as_deref(), orderby.as_deref());
        prop_assert_eq!(back, Ok(position));
        if let Some(text) = &orderby {
            prop_assert_eq!(parse_orderby(text).unwrap(), keys);
        }
    }

    /// The seek condition holds exactly for the images after the position in the list order.
    #[test]
    fn the_seek_condition_is_after_in_list_order(
        last in any_image(),
        others in proptest::collection::vec(any_image(), 1..20),
        keys in sort_keys(),
        ties in proptest::collection::vec(any::<u8>(), 20),
    ) {
        let seek = Position::of(&last, &keys).after(&keys);
        for (mut other, tie) in others.into_iter().zip(ties) {
            // Make sort-key ties common: copy some of the last image's values.
            if tie & 1 == 0 { other.status = last.status; }
            if tie & 2 == 0 { other.reference = last.reference.clone(); }
            if tie & 4 == 0 { other.created_on = last.created_on; other.modified_on = last.modified_on; }
            if tie & 8 == 0 { other.num_links = last.num_links; other.width = last.width; }
            if tie & 16 == 0 { other.file_type = last.file_type.clone(); other.height = last.height; other.size_in_bytes = last.size_in_bytes; }
            if tie & 32 == 0 { other.id = ImageId::new(last.id.get().saturating_add(i64::from(tie >> 6) - 2).max(1)).unwrap(); }
            if other.id == last.id {
                // Ids are unique: an image with the last one's id is that image.
                other = last.clone();
            }
            let after = compare_images(&other, &last, &keys).is_gt();
            prop_assert_eq!(seek.matches(&other), after, "{:?} vs {:?}", other, last);
        }
        prop_assert!(!seek.matches(&last));
    }
}
