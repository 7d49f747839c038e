//! Every operator on every field type, compared with the reference semantics; a few fixed
//! answers guard the reference too.

use dam_core::query::{Filter, Value};

use dam_core::store::{CmpOp, Field, ImageStore, StringFunction};
use dam_core::{Fixture, ImageStatus};

use super::{acme, standard};
use crate::check::{assert_list_matches, assert_selects};
use crate::data::{images_of, tenant_id, ACME, GLOBEX};
use crate::query::{
    all_tags, and, any_tag, call, cmp, cmp_fields, datetime, int, is_in, list, not, not_null, null,
    or, status, string, ListQueryExt,
};
use crate::strategies::TAGS;
use crate::StoreFactory;

const INTEGER_FIELDS: [Field; 5] = [
    Field::Id,
    Field::NumLinks,
    Field::Width,
    Field::Height,
    Field::SizeInBytes,
];
const STRING_FIELDS: [Field; 2] = [Field::Reference, Field::FileType];
const URL_FIELDS: [Field; 4] = [
    Field::OriginalUrl,
    Field::ThumbnailUrl,
    Field::ThumbnailMediumUrl,
    Field::ThumbnailPreviewUrl,
];
const DATETIME_FIELDS: [Field; 2] = [Field::CreatedOn, Field::ModifiedOn];
const FUNCTIONS: [StringFunction; 3] = [
    StringFunction::Contains,
    StringFunction::StartsWith,
    StringFunction::EndsWith,
];

/// Runs each filter for `acme` and `globex`, plain and under `not`, with `count`, against the
/// reference.
async fn check_filters<S: ImageStore + ?Sized>(
    store: &S,
    fixture: &Fixture,
    filters: impl IntoIterator<Item = Filter>,
) {
    for filter in filters {
        for name in [ACME, GLOBEX] {
            let tenant = tenant_id(name);
            let images = images_of(fixture, name);
            for f in [filter.clone(), not(filter.clone())] {
                let q = list().filter(f).count();
                assert_list_matches(store, &tenant, images, &q).await;
            }
        }
    }
}

/// Asserts that each filter of `cases` selects exactly the given ids (in any order) of acme's
/// images in `fixture`, and what the reference selects.
async fn assert_acme_selections<S: ImageStore + ?Sized>(
    store: &S,
    fixture: &Fixture,
    cases: Vec<(Filter, Vec<i64>)>,
) {
    let images = images_of(fixture, ACME);
    for (filter, mut expected) in cases {
        expected.sort_unstable();
        let q = list().filter(filter);
        assert_selects(store, &acme(), images, &q, &expected).await;
    }
}

/// `function` of `reference` with `needle`.
fn on_reference(function: StringFunction, needle: &str) -> Filter {
    call(function, Field::Reference, needle)
}

/// Every string function on every string and URL field with each of `needles`.
fn every_call(needles: &[&str]) -> Vec<Filter> {
    let mut filters = Vec::new();
    for field in string_fields() {
        for function in FUNCTIONS {
            for needle in needles {
                filters.push(call(function, field, needle));
            }
        }
    }
    filters
}

fn string_fields() -> impl Iterator<Item = Field> {
    STRING_FIELDS.into_iter().chain(URL_FIELDS)
}

/// `eq ne gt ge lt le` on every integer field, with literals at and around stored values and
/// at the ends of the 64-bit range.
pub async fn filter_integer_fields<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    let literals = [
        i64::MIN,
        -1,
        0,
        1,
        2,
        3,
        7,
        64,
        800,
        999,
        1000,
        2048,
        i64::from(u32::MAX),
        i64::MAX - 1,
        i64::MAX,
    ];
    let mut filters = Vec::new();
    for field in INTEGER_FIELDS {
        for op in CmpOp::ALL {
            for lit in literals {
                filters.push(cmp(field, op, int(lit)));
            }
        }
    }
    check_filters(&*store, &fixture, filters).await;
    let images = images_of(&fixture, ACME);
    let q = list().filter(cmp(Field::NumLinks, CmpOp::Eq, int(3)));
    assert_selects(&*store, &acme(), images, &q, &[1, 7, 8]).await;
    let q = list().filter(cmp(Field::SizeInBytes, CmpOp::Ge, int(i64::MAX)));
    assert_selects(&*store, &acme(), images, &q, &[22]).await;
}

/// Every comparison operator on `reference`, `fileType` and the URL fields, with literals
/// holding `%`, `_`, `'`, `\`, spaces, mixed case and non-ASCII letters.
pub async fn filter_string_fields<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    let literals = [
        "",
        " ",
        "%",
        "_",
        "'",
        "\\",
        "Logo.PNG",
        "logo.png",
        "LOGO.PNG",
        "O'Brien.jpg",
        "'quoted'.jpg",
        r"back\slash.gif",
        "100%_cotton.png",
        "100x-cotton.png",
        "a b c.tif",
        "Ünïcödé-ß.webp",
        "ünïcödé-ss.webp",
        "émile.jpg",
        "日本語.jpg",
        "emoji-😀.png",
        "Z",
        "a",
        "z",
        "jpg",
        "JPG",
        "jpeg",
        "png",
        "bmp",
        "https://cdn.example/o/1.jpg",
        "https://cdn.example/o/émile.jpg",
        "https://cdn.example/t/a b c.tif",
        "https://",
    ];
    let mut filters = Vec::new();
    for field in string_fields() {
        for op in CmpOp::ALL {
            for lit in literals {
                filters.push(cmp(field, op, string(lit)));
            }
        }
    }
    check_filters(&*store, &fixture, filters).await;
    let images = images_of(&fixture, ACME);
    let q = list().filter(cmp(Field::Reference, CmpOp::Eq, string("O'Brien.jpg")));
    assert_selects(&*store, &acme(), images, &q, &[5]).await;
    let q = list().filter(cmp(Field::Reference, CmpOp::Eq, string(r"back\slash.gif")));
    assert_selects(&*store, &acme(), images, &q, &[6]).await;
    let q = list().filter(cmp(Field::OriginalUrl, CmpOp::Eq, string("")));
    assert_selects(&*store, &acme(), images, &q, &[16]).await;
}

/// String comparison is case-sensitive and by code point: `fileType eq 'JPG'` matches no
/// `jpg`, `'Z' lt 'a' lt 'é'`, and `Ünïcödé` is not `ünïcödé`.
pub async fn filter_string_case_and_code_points<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    let cases = vec![
        (cmp(Field::FileType, CmpOp::Eq, string("JPG")), vec![]),
        (cmp(Field::FileType, CmpOp::Eq, string("PNG")), vec![]),
        (
            cmp(Field::Reference, CmpOp::Eq, string("logo.png")),
            vec![8],
        ),
        (cmp(Field::Reference, CmpOp::Eq, string("LOGO.PNG")), vec![]),
        (
            cmp(Field::Reference, CmpOp::Eq, string("ünïcödé-ß.webp")),
            vec![],
        ),
        // 'Z' (U+005A) < '_' (U+005F) < 'a' (U+0061) < 'é' (U+00E9) < 'Ü' ... by code point
        (
            cmp(Field::Reference, CmpOp::Lt, string("A")),
            vec![19, 23, 2, 3],
        ),
        (
            cmp(Field::Reference, CmpOp::Ge, string("é")),
            vec![10, 17, 21],
        ),
        (
            and(
                cmp(Field::Reference, CmpOp::Gt, string("Z")),
                cmp(Field::Reference, CmpOp::Lt, string("a")),
            ),
            vec![16, 18],
        ),
        (
            cmp(Field::Reference, CmpOp::Gt, string("ünïcödé")),
            vec![10, 21],
        ),
    ];
    assert_acme_selections(&*store, &fixture, cases).await;
}

/// `status eq`/`ne` for every code, and `status in (…)`.
pub async fn filter_status<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    let mut filters = Vec::new();
    for s in ImageStatus::ALL {
        filters.push(cmp(Field::Status, CmpOp::Eq, status(s)));
        filters.push(cmp(Field::Status, CmpOp::Ne, status(s)));
        filters.push(is_in(Field::Status, [status(s)]));
    }
    filters.push(is_in(
        Field::Status,
        [
            status(ImageStatus::Updating),
            status(ImageStatus::Reprocessing),
        ],
    ));
    filters.push(is_in(Field::Status, ImageStatus::ALL.map(status)));
    check_filters(&*store, &fixture, filters).await;
    let images = images_of(&fixture, ACME);
    let q = list().filter(cmp(Field::Status, CmpOp::Eq, status(ImageStatus::Updating)));
    assert_selects(&*store, &acme(), images, &q, &[9, 12]).await;
    let q = list().filter(cmp(Field::Status, CmpOp::Eq, status(ImageStatus::Error)));
    assert_selects(&*store, &acme(), images, &q, &[6, 15]).await;
}

/// Every operator on `createdOn`/`modifiedOn` with whole-second literals and literals with
/// fractions: fractions count exactly (`ge …00.5` excludes an image at `…00`).
pub async fn filter_datetimes_with_fractions<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    let stamps = [
        "0001-01-01T00:00:00",
        "1969-12-31T23:59:59",
        "2023-12-31T23:59:59",
        "2024-01-01T00:00:00",
        "2024-01-01T00:00:01",
        "2024-04-05T08:44:33",
        "2024-05-05T05:05:05",
        "2025-01-01T00:00:00",
        "9999-12-31T23:59:59",
    ];
    let mut filters = Vec::new();
    for field in DATETIME_FIELDS {
        for op in CmpOp::ALL {
            for stamp in stamps {
                for nanos in [0, 1, 500_000_000, 999_999_999] {
                    filters.push(cmp(field, op, datetime(stamp, nanos)));
                }
            }
        }
    }
    check_filters(&*store, &fixture, filters).await;
    let half = || datetime("2024-01-01T00:00:00", 500_000_000);
    let cases = vec![
        (cmp(Field::ModifiedOn, CmpOp::Eq, half()), vec![]),
        (
            cmp(
                Field::ModifiedOn,
                CmpOp::Eq,
                datetime("2024-01-01T00:00:00", 0),
            ),
            vec![2, 5, 18, 19],
        ),
        (
            and(
                cmp(Field::ModifiedOn, CmpOp::Ge, half()),
                cmp(
                    Field::ModifiedOn,
                    CmpOp::Lt,
                    datetime("2024-01-01T00:00:02", 0),
                ),
            ),
            vec![3],
        ),
        (
            and(
                cmp(Field::ModifiedOn, CmpOp::Le, half()),
                cmp(
                    Field::ModifiedOn,
                    CmpOp::Gt,
                    datetime("2023-12-31T23:59:59", 0),
                ),
            ),
            vec![2, 5, 18, 19],
        ),
        (
            cmp(
                Field::CreatedOn,
                CmpOp::Lt,
                datetime("2022-01-01T00:00:00", 1),
            ),
            vec![16, 17],
        ),
    ];
    assert_acme_selections(&*store, &fixture, cases).await;
}

/// URL fields: `eq null`, `ne null`, comparisons and calls on a null field are false — and
/// `not` of them true (two-valued logic, unlike SQL's `NULL`).
pub async fn filter_null_url_fields<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    let mut filters = Vec::new();
    for field in URL_FIELDS {
        filters.push(null(field));
        filters.push(not_null(field));
        for op in CmpOp::ALL {
            filters.push(cmp(field, op, string("https://cdn.example/o/1.jpg")));
            filters.push(cmp(field, op, string("")));
        }
        filters.push(is_in(
            field,
            [string("https://cdn.example/o/1.jpg"), string("")],
        ));
        filters.push(call(StringFunction::Contains, field, ""));
        filters.push(call(StringFunction::StartsWith, field, "https"));
        filters.push(and(
            not_null(field),
            not(call(StringFunction::Contains, field, "o")),
        ));
        filters.push(or(null(field), cmp(field, CmpOp::Ne, string(""))));
    }
    check_filters(&*store, &fixture, filters).await;
    let images = images_of(&fixture, ACME);
    let with_original = [1, 5, 6, 7, 8, 9, 16, 17];
    let without: Vec<i64> = images
        .iter()
        .map(|im| im.id.get())
        .filter(|id| !with_original.contains(id))
        .collect();
    let cases = vec![
        (not_null(Field::OriginalUrl), with_original.to_vec()),
        (null(Field::OriginalUrl), without.clone()),
        (not(not_null(Field::OriginalUrl)), without.clone()),
        (
            cmp(Field::OriginalUrl, CmpOp::Ne, string("")),
            vec![1, 5, 6, 7, 8, 9, 17],
        ),
        (
            not(cmp(Field::OriginalUrl, CmpOp::Ne, string(""))),
            [vec![16], without.clone()].concat(),
        ),
        (
            not(call(StringFunction::Contains, Field::OriginalUrl, "")),
            without.clone(),
        ),
        (
            not(is_in(Field::OriginalUrl, [string("")])),
            images
                .iter()
                .map(|im| im.id.get())
                .filter(|id| *id != 16)
                .collect(),
        ),
    ];
    assert_acme_selections(&*store, &fixture, cases).await;
}

/// `in` on every field type: one value, several, duplicates, values nobody holds.
pub async fn filter_in_lists<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    let mut filters = vec![
        is_in(Field::Id, [int(1)]),
        is_in(
            Field::Id,
            [int(1), int(5), int(100), int(1000), int(1), int(-1)],
        ),
        is_in(Field::NumLinks, [int(3), int(7), int(999)]),
        is_in(Field::Width, [int(64), int(i64::from(u32::MAX))]),
        is_in(Field::SizeInBytes, [int(i64::MAX), int(i64::MIN)]),
        is_in(Field::Reference, [string("logo.png"), string("LOGO.PNG")]),
        is_in(
            Field::Reference,
            [
                string("O'Brien.jpg"),
                string(r"back\slash.gif"),
                string("%"),
            ],
        ),
        is_in(
            Field::Reference,
            [string("Ünïcödé-ß.webp"), string("日本語.jpg")],
        ),
        is_in(
            Field::FileType,
            [string("png"), string("webp"), string("PNG")],
        ),
        is_in(
            Field::OriginalUrl,
            [string(""), string("https://cdn.example/o/1.jpg")],
        ),
        is_in(
            Field::CreatedOn,
            [
                datetime("2024-01-01T00:00:00", 0),
                datetime("2024-04-05T08:44:33", 500_000_000),
            ],
        ),
        is_in(
            Field::ModifiedOn,
            [
                datetime("2024-06-01T12:00:00", 0),
                datetime("2025-01-01T00:00:00", 0),
            ],
        ),
    ];
    let many: Vec<Value> = (1..=100).map(int).collect();
    filters.push(is_in(Field::Id, many));
    check_filters(&*store, &fixture, filters).await;
    let images = images_of(&fixture, ACME);
    let q = list().filter(is_in(
        Field::CreatedOn,
        [
            datetime("2024-01-01T00:00:00", 0),
            datetime("2024-04-05T08:44:33", 500_000_000),
        ],
    ));
    assert_selects(&*store, &acme(), images, &q, &[2, 3, 5, 18, 19]).await;
}

/// `contains`, `startswith` and `endswith` on every string and URL field: case-sensitive,
/// non-ASCII, empty needles (true for every non-null value).
pub async fn filter_string_functions<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    let needles = [
        "",
        " ",
        "a b",
        "logo",
        "Logo",
        "LOGO",
        "PNG",
        "png",
        ".png",
        ".jpg",
        "jpg",
        "ü",
        "Ü",
        "ß",
        "ss",
        "é",
        "e",
        "É",
        "日本",
        "😀",
        "cdn",
        "https://cdn.example/o/",
        "globex",
        "front.jpg",
        "product",
    ];
    check_filters(&*store, &fixture, every_call(&needles)).await;
    let cases = vec![
        (on_reference(StringFunction::Contains, "logo"), vec![8]),
        (on_reference(StringFunction::EndsWith, ".PNG"), vec![7]),
        (on_reference(StringFunction::StartsWith, "ü"), vec![10]),
        (on_reference(StringFunction::Contains, "ß"), vec![9]),
        (
            call(StringFunction::Contains, Field::FileType, "PNG"),
            vec![],
        ),
    ];
    assert_acme_selections(&*store, &fixture, cases).await;
}

/// `%`, `_`, `'` and `\` in a needle are plain characters (a store that builds `LIKE`
/// patterns must escape them).
pub async fn filter_string_functions_escape_wildcards<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    let needles = [
        "%",
        "_",
        "%_",
        "_%",
        "%%",
        "__",
        "'",
        "''",
        "\\",
        "\\\\",
        "\\s",
        "\\%",
        "\\_",
        "[",
        "]",
        "^",
        "*",
        "?",
        "100%",
        "100_",
        "100%_",
        "0%_c",
        "%.jpg",
        "_under",
        "'quoted'",
        "O'B",
        "k\\",
        r"back\slash",
    ];
    check_filters(&*store, &fixture, every_call(&needles)).await;
    let cases = vec![
        (on_reference(StringFunction::Contains, "%_"), vec![2]),
        (on_reference(StringFunction::Contains, "%"), vec![2, 19]),
        (on_reference(StringFunction::StartsWith, "_"), vec![18]),
        (on_reference(StringFunction::StartsWith, "%"), vec![19]),
        (on_reference(StringFunction::Contains, "_"), vec![2, 18]),
        (on_reference(StringFunction::Contains, "'"), vec![5, 23]),
        (on_reference(StringFunction::StartsWith, "'"), vec![23]),
        (on_reference(StringFunction::Contains, "\\"), vec![6]),
        (on_reference(StringFunction::EndsWith, "\\"), vec![]),
        (on_reference(StringFunction::Contains, "\\s"), vec![6]),
        (on_reference(StringFunction::Contains, "100_"), vec![]),
    ];
    assert_acme_selections(&*store, &fixture, cases).await;
}

/// A literal holding NUL is valid and simply matches nothing storage holds (contract §8).
pub async fn filter_nul_in_literals<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    let mut filters = Vec::new();
    for field in string_fields() {
        filters.push(cmp(field, CmpOp::Eq, string("logo.png\0")));
        filters.push(cmp(field, CmpOp::Ne, string("\0")));
        filters.push(is_in(field, [string("\0"), string("logo.png")]));
        for function in FUNCTIONS {
            filters.push(call(function, field, "\0"));
            filters.push(call(function, field, "logo\0"));
        }
    }
    filters.push(any_tag("red\0"));
    filters.push(all_tags("\0"));
    check_filters(&*store, &fixture, filters).await;
}

/// `tags/any` is false and `tags/all` true for an image without tags; both compare whole
/// tags, case-sensitively, with special characters.
pub async fn filter_tags_any_all<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    // The generators' vocabulary, and near misses of it.
    let near_misses = [
        "RED",
        "r",
        r"back\",
        "5%",
        "aXb",
        "o'k",
        "é",
        "日本",
        "globex-only",
        "red,sale",
        "[\"red\"]",
    ];
    let mut filters = Vec::new();
    for value in TAGS.into_iter().chain(near_misses) {
        filters.push(any_tag(value));
        filters.push(all_tags(value));
    }
    filters.push(and(any_tag("red"), any_tag("sale")));
    filters.push(or(all_tags("red"), any_tag("sale")));
    check_filters(&*store, &fixture, filters).await;
    let images = images_of(&fixture, ACME);
    let cases = vec![
        (any_tag("red"), vec![1, 3, 8, 11, 15]),
        (any_tag("Red"), vec![7]),
        (any_tag("r"), vec![]),
        (any_tag("5%"), vec![]),
        (any_tag("aXb"), vec![]),
        (any_tag("a_b"), vec![2]),
        (all_tags("red"), vec![3, 8, 10, 12, 16, 22]),
        (not(any_tag("nothing-has-this")), crate::check::ids(images)),
    ];
    assert_acme_selections(&*store, &fixture, cases).await;
}

/// Two fields of one type compared with each other, with every operator; a null URL on
/// either side makes the comparison false (two nulls are not equal).
pub async fn filter_field_to_field<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    let groups: [&[Field]; 3] = [
        &INTEGER_FIELDS,
        &DATETIME_FIELDS,
        &[
            Field::Reference,
            Field::FileType,
            Field::OriginalUrl,
            Field::ThumbnailUrl,
            Field::ThumbnailPreviewUrl,
        ],
    ];
    let mut filters = Vec::new();
    for group in groups {
        for &left in group {
            for &right in group {
                for op in CmpOp::ALL {
                    filters.push(cmp_fields(left, op, right));
                }
            }
        }
    }
    filters.push(cmp_fields(Field::Status, CmpOp::Eq, Field::Status));
    filters.push(cmp_fields(Field::Status, CmpOp::Ne, Field::Status));
    check_filters(&*store, &fixture, filters).await;
    let cases = vec![
        (
            cmp_fields(Field::ModifiedOn, CmpOp::Gt, Field::CreatedOn),
            vec![3, 7, 8, 15, 17],
        ),
        (
            cmp_fields(Field::OriginalUrl, CmpOp::Eq, Field::ThumbnailUrl),
            vec![17],
        ),
        (
            cmp_fields(
                Field::ThumbnailMediumUrl,
                CmpOp::Eq,
                Field::ThumbnailMediumUrl,
            ),
            vec![1],
        ),
        (
            cmp_fields(Field::Width, CmpOp::Eq, Field::Height),
            vec![2, 3, 5, 6, 7, 11, 12, 14, 15, 16, 17, 18, 19, 21, 23],
        ),
    ];
    assert_acme_selections(&*store, &fixture, cases).await;
}

/// `and`, `or` and `not` nested (also `not not`), combined across field types.
pub async fn filter_boolean_logic<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    let a = || cmp(Field::NumLinks, CmpOp::Ge, int(3));
    let b = || call(StringFunction::EndsWith, Field::Reference, ".png");
    let c = || null(Field::ThumbnailUrl);
    let d = || any_tag("red");
    let e = || cmp(Field::Status, CmpOp::Ne, status(ImageStatus::Ready));
    let filters = vec![
        and(a(), b()),
        or(a(), b()),
        not(not(a())),
        not(and(a(), b())),
        or(not(a()), not(b())),
        and(or(a(), b()), or(c(), d())),
        or(and(a(), b()), and(c(), not(d()))),
        not(or(and(a(), not(c())), and(not(b()), or(d(), e())))),
        and(not(c()), cmp(Field::ThumbnailUrl, CmpOp::Ne, string("x"))),
        // on a null URL the comparison is false, so `not (a and it)` is true (not SQL's NULL)
        not(and(a(), cmp(Field::ThumbnailUrl, CmpOp::Eq, string("x")))),
        or(
            b(),
            not(call(StringFunction::Contains, Field::ThumbnailUrl, "x")),
        ),
        or(
            not(cmp(Field::OriginalUrl, CmpOp::Eq, string("x"))),
            null(Field::OriginalUrl),
        ),
        and(
            and(a(), and(b(), and(c(), d()))),
            or(e(), or(not(e()), not(not(e())))),
        ),
    ];
    check_filters(&*store, &fixture, filters).await;
    let tenant = acme();
    let images = images_of(&fixture, ACME);
    let q = list().filter(and(a(), b()));
    assert_selects(&*store, &tenant, images, &q, &[8]).await;
    let q = list().filter(not(and(a(), b())));
    let page = assert_list_matches(&*store, &tenant, images, &q).await;
    assert_eq!(page.items.len(), images.len() - 1, "not (a and b)");
}
