//! Values that look like SQL, in the data and in valid filters parsed from text: a store must
//! treat them as plain values (bound parameters, escaped patterns), never as SQL.

use dam_core::query::{parse_filter, Filter};
use dam_core::Fixture;

use crate::check::{assert_list_matches, assert_selects};
use crate::data::{fixture, image, images_of, tenant, tenant_id};
use crate::query::{list, not, ListQueryExt};
use crate::StoreFactory;

use super::load;

const SQL_A: &str = "sql-a";
const SQL_B: &str = "sql-b";

/// What a careless adapter would paste into SQL text: quotes, comments, statement ends, LIKE
/// wildcards and escapes, placeholders, and a NUL (only in filters: storage holds no control
/// characters).
const NEEDLES: &[&str] = &[
    "' or 1=1 --",
    "' OR '1'='1",
    "'; DROP TABLE dam_images; --",
    "%",
    "_",
    "\\",
    "\\%",
    "%_\\",
    ";",
    "\"",
    "\"\"",
    "/*",
    "*/",
    "--",
    "''",
    "$1",
    "?",
    ":a",
    "[a-z]",
    "E'\\x00'",
    "\0",
    "a\0' or 1=1 --",
    "' or 1=1 --.jpg",
    "; DROP TABLE dam_images; --",
];

/// Two tenants whose references, file types, URLs and tags are SQL look-alikes; `sql-b` holds
/// copies of `sql-a`'s values so that a leak between tenants shows.
fn sql_fixture() -> Fixture {
    let a = vec![
        image(1, "' or 1=1 --.jpg")
            .file_type("sql'")
            .tags(&["' or 1=1 --", "%"])
            .original_url(Some("https://cdn.example/?q=' or 1=1 --"))
            .build(),
        image(2, "%_\\.png")
            .file_type("%")
            .tags(&["_", "\\"])
            .original_url(Some("https://cdn.example/100%_\\"))
            .build(),
        image(3, "; DROP TABLE dam_images; --")
            .file_type(";")
            .tags(&[";", "\""])
            .build(),
        image(4, "\"quoted\" /* c */.gif")
            .file_type("\"")
            .tags(&["/*", "*/"])
            .original_url(Some("/*"))
            .build(),
        image(5, "plain.jpg").build(),
        image(6, "$1 ?1 :a @a [a-z].jpg")
            .tags(&["$1", "?"])
            .original_url(Some("$1"))
            .build(),
        image(7, "E'\\x00'")
            .file_type("e'\\x00'")
            .tags(&["E'\\x00'"])
            .build(),
    ];
    let b = vec![
        image(11, "' or 1=1 --.jpg")
            .file_type("sql'")
            .tags(&["' or 1=1 --", "%"])
            .original_url(Some("https://cdn.example/?q=' or 1=1 --"))
            .build(),
        image(12, "%").file_type("%").tags(&["%", "_"]).build(),
    ];
    fixture([
        tenant(SQL_A, &["sql-a-key"], a),
        tenant(SQL_B, &["sql-b-key"], b),
    ])
}

/// A filter parsed from text, as a request's `$filter` is.
fn parsed(text: &str) -> Filter {
    parse_filter(text).unwrap_or_else(|e| panic!("the kit's filter {text:?} is invalid: {e}"))
}

/// A string literal of the filter language (`'` doubled).
fn lit(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Every operator that takes a string, on a string field, a URL field and the tags, with
/// `value` as its literal.
fn filters_with(value: &str) -> Vec<String> {
    let v = lit(value);
    let mut texts = Vec::new();
    for field in ["reference", "fileType", "originalUrl"] {
        for op in ["eq", "ne", "gt", "lt"] {
            texts.push(format!("{field} {op} {v}"));
        }
        texts.push(format!("{field} in ({v}, 'plain.jpg', {v})"));
        for function in ["contains", "startswith", "endswith"] {
            texts.push(format!("{function}({field}, {v})"));
        }
    }
    texts.push(format!("tags/any(t: t eq {v})"));
    texts.push(format!("tags/all(t: t eq {v})"));
    texts
}

/// Values that look like SQL — quotes, comments, `;`, `%`, `_`, `\`, `"`, placeholders, NUL —
/// inside valid filters parsed from text (`eq ne gt lt in contains startswith endswith`,
/// `tags/any`, `tags/all`, each plain and under `not`, with `count`), over data that holds
/// such strings too, select exactly what the reference selects, for each tenant; a few fixed
/// answers guard the reference; and afterwards every image is still there.
pub async fn filter_sql_lookalike_values<F: StoreFactory>(factory: F) {
    let store = factory.create().await;
    let fixture = sql_fixture();
    load(&*store, &fixture).await;
    let mut texts: Vec<String> = NEEDLES.iter().flat_map(|n| filters_with(n)).collect();
    // Quotes and keywords around the literals, still valid filters.
    texts.push(format!(
        "reference eq {} or (fileType eq {} and not (id eq 1))",
        lit("' or 1=1 --.jpg"),
        lit("%")
    ));
    texts.push(format!(
        "tags/any(t: t eq {}) and not tags/all(t: t eq {})",
        lit("%"),
        lit(";")
    ));
    for text in &texts {
        let filter = parsed(text);
        for name in [SQL_A, SQL_B] {
            let tenant = tenant_id(name);
            let images = images_of(&fixture, name);
            for f in [filter.clone(), not(filter.clone())] {
                let q = list().filter(f).count();
                assert_list_matches(&*store, &tenant, images, &q).await;
            }
        }
    }

    let a = tenant_id(SQL_A);
    let images = images_of(&fixture, SQL_A);
    let fixed: &[(String, &[i64])] = &[
        (format!("reference eq {}", lit("' or 1=1 --.jpg")), &[1]),
        (format!("reference eq {}", lit("' or 1=1 --")), &[]),
        (format!("contains(reference, {})", lit("' or 1=1 --")), &[1]),
        (format!("startswith(reference, {})", lit("%")), &[2]),
        (format!("contains(reference, {})", lit("_")), &[2, 3]),
        (format!("endswith(reference, {})", lit("\\.png")), &[2]),
        (format!("contains(reference, {})", lit("\\")), &[2, 7]),
        (format!("fileType eq {}", lit("%")), &[2]),
        (
            format!("fileType in ({}, {})", lit(";"), lit("\"")),
            &[3, 4],
        ),
        (
            format!("reference eq {}", lit("; DROP TABLE dam_images; --")),
            &[3],
        ),
        (format!("contains(reference, {})", lit("/*")), &[4]),
        (format!("originalUrl eq {}", lit("$1")), &[6]),
        (format!("contains(reference, {})", lit("[a-z]")), &[6]),
        (format!("tags/any(t: t eq {})", lit("\\")), &[2]),
        (format!("tags/any(t: t eq {})", lit("' or 1=1 --")), &[1]),
        (format!("tags/all(t: t eq {})", lit("%")), &[5]),
        (format!("reference eq {}", lit("E'\\x00'")), &[7]),
        (format!("contains(reference, {})", lit("\0")), &[]),
        (
            format!("reference ne {}", lit("\0")),
            &[1, 2, 3, 4, 5, 6, 7],
        ),
    ];
    for (text, expected) in fixed {
        let q = list().filter(parsed(text));
        assert_selects(&*store, &a, images, &q, expected).await;
    }
    // Nothing was dropped or changed by any of it.
    for name in [SQL_A, SQL_B] {
        let all: Vec<i64> = images_of(&fixture, name)
            .iter()
            .map(|im| im.id.get())
            .collect();
        assert_selects(
            &*store,
            &tenant_id(name),
            images_of(&fixture, name),
            &list(),
            &all,
        )
        .await;
    }
}
