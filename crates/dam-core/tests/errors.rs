//! Error paths of dam-core that the other suites leave untested: what the service logs for a
//! storage failure (and for nothing else), the error chain of a log line, the refusals of the
//! domain types when deserialized from JSON, and `Image::validate` on tags and URLs.

use std::sync::Arc;

use dam_core::query::parse_filter;
use dam_core::store::{MockImageStore, MockKeyStore, StoreError};
use dam_core::{
    error_chain, FileType, Image, ImageId, ImageService, ImageStatus, Reference, TenantId,
    Timestamp, ValueError,
};
use dam_store_tests::logs::Logs;

/// An error with a source, as drivers nest them.
#[derive(Debug, thiserror::Error)]
#[error("connection reset while reading the response")]
struct Outer(#[source] Inner);

#[derive(Debug, thiserror::Error)]
#[error("os error 104")]
struct Inner;

/// A service whose key store knows `acme-key` and whose image store fails every list with a
/// nested cause.
fn failing_service() -> ImageService {
    let mut keys = MockKeyStore::new();
    keys.expect_tenant_for_key()
        .returning(|_| Ok(Some(TenantId::new("acme").unwrap())));
    let mut images = MockImageStore::new();
    images
        .expect_list()
        .returning(|_, _| Err(StoreError::backend("mock", Outer(Inner))));
    images
        .expect_delete()
        .returning(|_, _| Err(StoreError::backend("mock", Outer(Inner))));
    ImageService::new(Arc::new(images), Arc::new(keys))
}

/// Contract §8 "Logs": a storage failure's cause is logged at error level, whole chain; the
/// response says nothing of it. A client's mistake (a 400 or 401) is not logged at all, so a
/// malformed key or a filter never reaches a log line through the service.
#[tokio::test]
async fn storage_failures_are_logged_with_their_chain_and_nothing_else_is() {
    let (logs, _guard) = Logs::capture("trace");
    let service = failing_service();

    let problem = service
        .list_images(Some(b"acme-key"), None, "/image")
        .await
        .unwrap_err();
    assert_eq!(problem.status, 500);
    let logged = logs.text();
    assert_eq!(logged.lines().count(), 1, "{logged}");
    assert!(logged.contains("ERROR"), "{logged}");
    assert!(
        logged.contains(
            "storage failure in mock: connection reset while reading the response: os error 104"
        ),
        "{logged}"
    );
    let body = serde_json::to_string(&problem).unwrap();
    assert!(!body.contains("connection reset") && !body.contains("os error"));
    let problem = service
        .delete_image(Some(b"acme-key"), "7", "/image/7")
        .await
        .unwrap_err();
    assert_eq!(problem.status, 500);
    assert_eq!(logs.text().lines().count(), 2);

    // Client errors: nothing logged, whatever they hold.
    let before = logs.text();
    let secret = "malformed secret key";
    let p = service
        .list_images(Some(secret.as_bytes()), None, "/image")
        .await
        .unwrap_err();
    assert_eq!(p.status, 400);
    let p = service
        .list_images(Some(b"acme-key"), Some("$filter=reference eq 'x"), "/image")
        .await
        .unwrap_err();
    assert_eq!(p.status, 400);
    let p = service
        .delete_image(Some(b"acme-key"), "0", "/image/0")
        .await
        .unwrap_err();
    assert_eq!(p.status, 400);
    assert_eq!(logs.text(), before);
}

#[test]
fn error_chain_joins_every_source_in_order() {
    let error = StoreError::backend("sqlite", Outer(Inner));
    assert_eq!(
        error_chain(&error),
        "storage failure in sqlite: connection reset while reading the response: os error 104"
    );
    // Without a source, just the message.
    assert_eq!(error_chain(&Inner), "os error 104");
    assert_eq!(error_chain(&StoreError::NotFound), "image not found");
}

/// The domain types refuse invalid JSON values with the rule they break (an embedder reading
/// images from its own JSON gets the reason, not a panic).
#[test]
fn domain_types_refuse_invalid_json_values_with_their_rule() {
    fn refused<T: serde::de::DeserializeOwned + std::fmt::Debug>(json: &str, rule: ValueError) {
        match serde_json::from_str::<T>(json) {
            Ok(value) => panic!("{json} was accepted as {value:?}"),
            Err(e) => assert!(
                e.to_string().contains(&rule.to_string()),
                "{json}: {e} does not state '{rule}'"
            ),
        }
    }
    refused::<ImageId>("0", ValueError::ImageId);
    refused::<ImageId>("-5", ValueError::ImageId);
    refused::<Reference>(r#""""#, ValueError::Reference);
    refused::<Reference>(r#""a\u0000b.jpg""#, ValueError::Reference);
    refused::<Reference>(&format!(r#""{}""#, "r".repeat(256)), ValueError::Reference);
    refused::<FileType>(r#""JPG""#, ValueError::FileType);
    refused::<FileType>(r#""j pg""#, ValueError::FileType);
    refused::<ImageStatus>(r#""Xx""#, ValueError::Status);
    refused::<ImageStatus>(r#""ok""#, ValueError::Status);
    refused::<Timestamp>(r#""2024-01-01T00:00:00Z""#, ValueError::Timestamp);
    refused::<Timestamp>(r#""2024-02-30T00:00:00""#, ValueError::Timestamp);
    refused::<Timestamp>(r#""2024-01-01T00:00:00.5""#, ValueError::Timestamp);
    // A wrong JSON type is refused by serde itself.
    assert!(serde_json::from_str::<ImageId>(r#""1""#).is_err());

    // And valid values round-trip through their JSON form.
    let id: ImageId = serde_json::from_str("9223372036854775807").unwrap();
    assert_eq!(id.get(), i64::MAX);
    let reference: Reference = serde_json::from_str(r#""O'Brien ü.jpg""#).unwrap();
    assert_eq!(
        serde_json::to_string(&reference).unwrap(),
        r#""O'Brien ü.jpg""#
    );
    let file_type: FileType = serde_json::from_str(r#""webp""#).unwrap();
    assert_eq!(file_type.as_str(), "webp");
    for code in ["Vd", "Up", "Ok", "Re", "Er"] {
        let status: ImageStatus = serde_json::from_str(&format!(r#""{code}""#)).unwrap();
        assert_eq!(status.to_string(), code);
    }
    let ts: Timestamp = serde_json::from_str(r#""2024-02-29T23:59:59""#).unwrap();
    assert_eq!(
        serde_json::to_string(&ts).unwrap(),
        r#""2024-02-29T23:59:59""#
    );
}

#[test]
fn validate_refuses_long_or_control_tags_and_urls() {
    let base = Image::new(
        ImageId::new(1).unwrap(),
        Reference::new("a.jpg").unwrap(),
        FileType::new("jpg").unwrap(),
        ImageStatus::Ready,
        Timestamp::parse("2024-01-01T00:00:00").unwrap(),
    );
    assert_eq!(base.validate(), Ok(()));

    let with_tag = |tag: String| Image {
        tags: vec!["ok".into(), tag],
        ..base.clone()
    };
    assert_eq!(with_tag("t".repeat(1024)).validate(), Ok(()));
    // Bytes, not characters: 512 two-byte characters are 1024 bytes, one more is too many.
    assert_eq!(with_tag("é".repeat(512)).validate(), Ok(()));
    assert_eq!(
        with_tag(format!("{}x", "é".repeat(512))).validate(),
        Err(ValueError::Tag)
    );
    assert_eq!(with_tag("t".repeat(1025)).validate(), Err(ValueError::Tag));
    assert_eq!(with_tag("a\nb".into()).validate(), Err(ValueError::Tag));

    let long_url = format!("https://cdn.example/{}", "u".repeat(2048 - 20));
    assert_eq!(long_url.len(), 2048);
    let cases: [fn(&mut Image, Option<String>); 4] = [
        |im, u| im.original_url = u,
        |im, u| im.thumbnail_url = u,
        |im, u| im.thumbnail_medium_url = u,
        |im, u| im.thumbnail_preview_url = u,
    ];
    for set in cases {
        let mut image = base.clone();
        set(&mut image, Some(long_url.clone()));
        assert_eq!(image.validate(), Ok(()));
        set(&mut image, Some(format!("{long_url}u")));
        assert_eq!(image.validate(), Err(ValueError::Url));
        set(&mut image, Some("https://cdn.example/a\tb".into()));
        assert_eq!(image.validate(), Err(ValueError::Url));
        set(&mut image, Some(String::new()));
        assert_eq!(image.validate(), Ok(()), "an empty URL is a value");
    }
}

/// How the error names a literal token.
fn describe(literal: &str) -> String {
    if literal.starts_with('\'') {
        format!("the string {literal}")
    } else {
        format!("'{literal}'")
    }
}

/// A literal where a string function wants its field: a 400 that says so, at the literal.
#[test]
fn a_string_function_needs_a_field_first() {
    for (text, position) in [
        ("contains('x', reference)", 9),
        ("startswith(1, reference)", 11),
        ("endswith(null, fileType)", 9),
    ] {
        let e = parse_filter(text).unwrap_err();
        let message = e.to_string();
        assert!(
            message.contains("to take a field as its first argument"),
            "{text}: {message}"
        );
        assert_eq!(e.position(), Some(position), "{text}: {message}");
        let literal = &text[position..text.find(',').unwrap_or(text.len())];
        assert!(
            message.contains(&format!("found {}", describe(literal))),
            "{message}"
        );
    }
}
