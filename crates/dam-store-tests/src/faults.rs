//! What a storage failure must look like once it has gone through the service: a generic 500
//! whose document names no cause, and the cause logged once at error level where the error
//! became a response — never SQL text, a path, a key or its digest. Adapters' own fault tests
//! (a dropped table, a corrupt row, a lock held too long) assert with [`assert_safe_500`].

use dam_core::{ImageService, KeyDigest, ProblemDetails};

use crate::logs::Logs;

/// Words of SQL statements, which neither a problem document nor a log line may hold.
pub const SQL_WORDS: [&str; 5] = ["SELECT", "INSERT", "DELETE FROM", "UPDATE ", " WHERE "];

/// Asserts that `problem` is the generic 500 of a storage failure: status 500, no `errors`,
/// and a document that holds none of [`SQL_WORDS`], `key`, its digest (hex, either case),
/// the adapter's name `store`, or any of `extra` (paths, URLs).
///
/// # Panics
/// With the document and the word it holds.
pub fn assert_generic_500(problem: &ProblemDetails, store: &str, key: &str, extra: &[&str]) {
    assert_generic(problem, 500, store, &forbidden(key, extra));
}

/// A problem of `status` without `errors` whose document names neither `store` nor any of
/// `words`.
fn assert_generic<W: AsRef<str>>(problem: &ProblemDetails, status: u16, store: &str, words: &[W]) {
    assert_eq!(problem.status, status, "{problem:?}");
    assert!(problem.errors.is_none(), "{problem:?}");
    let body = serde_json::to_string(problem).unwrap_or_default();
    assert!(
        !body.contains(store),
        "the problem document names {store:?}:\n{body}"
    );
    for word in words.iter().map(AsRef::as_ref) {
        assert!(
            !body.contains(word),
            "the problem document holds {word:?}:\n{body}"
        );
    }
}

/// [`assert_generic_500`], and the log lines since `mark` (a length of [`Logs::text`]) hold the
/// storage failure at error level with `store` named, and none of the forbidden words.
///
/// # Panics
/// With the text and the word it holds, or the log without the failure.
pub fn assert_safe_500(
    problem: &ProblemDetails,
    logs: &Logs,
    mark: usize,
    store: &str,
    key: &str,
    extra: &[&str],
) {
    assert_generic_500(problem, store, key, extra);
    let all = logs.text();
    let new = all.get(mark..).unwrap_or_default();
    assert!(
        new.contains("ERROR") && new.contains("storage failure") && new.contains(store),
        "the failure and its cause are logged:\n{new}"
    );
    for word in forbidden(key, extra) {
        assert!(!new.contains(&word), "the log holds {word:?}:\n{new}");
    }
}

/// What a fault test asks the service (with the key), on `/image`.
#[derive(Debug, Clone, Copy)]
pub enum Ask<'a> {
    /// A list with this query.
    List(Option<&'a str>),
    /// A delete of this raw id.
    Delete(&'a str),
}

/// Asks `service` with `key` and asserts [`assert_safe_500`] of the problem it answers (with
/// `store`, `key` and `extra`); returns the length of [`Logs::text`] before the request, for
/// more checks of what was logged.
///
/// # Panics
/// When the request succeeds, or as [`assert_safe_500`] does.
pub async fn assert_ask_fails_safely(
    service: &ImageService,
    ask: Ask<'_>,
    logs: &Logs,
    store: &str,
    key: &str,
    extra: &[&str],
) -> usize {
    let mark = logs.text().len();
    let key_bytes = Some(key.as_bytes());
    let answer = match ask {
        Ask::List(query) => service
            .list_images(key_bytes, query, "/image")
            .await
            .map(drop),
        Ask::Delete(raw) => {
            let instance = format!("/image/{raw}");
            service.delete_image(key_bytes, raw, &instance).await
        }
    };
    match answer {
        Ok(()) => panic!("{ask:?} succeeded through a storage fault"),
        Err(problem) => assert_safe_500(&problem, logs, mark, store, key, extra),
    }
    mark
}

fn forbidden(key: &str, extra: &[&str]) -> Vec<String> {
    let digest = KeyDigest::of(key).to_hex();
    let mut words: Vec<String> = SQL_WORDS.iter().map(|w| w.to_string()).collect();
    words.extend([
        key.to_string(),
        digest.to_lowercase(),
        digest.to_uppercase(),
    ]);
    words.extend(
        extra
            .iter()
            .filter(|w| !w.is_empty())
            .map(|w| w.to_string()),
    );
    words
}

/// Asserts that `problem` is the 503 of an unreachable store: no `errors`, and a document that
/// names neither the adapter `store` nor any of `extra` nor SQL.
///
/// # Panics
/// With the document and the word it holds.
pub fn assert_generic_503(problem: &ProblemDetails, store: &str, extra: &[&str]) {
    let words: Vec<&str> = SQL_WORDS.iter().chain(extra).copied().collect();
    assert_generic(problem, 503, store, &words);
}
