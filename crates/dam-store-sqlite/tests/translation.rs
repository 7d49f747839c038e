//! The SQL translation against the core's reference semantics: every filter and order gives
//! exactly the page, total and `has_more` that `dam_core::testing::select` gives over the same
//! images.

mod common;

use std::sync::OnceLock;

use common::{fixture, tenant, tricky_images, T0};
use dam_core::query::{Filter, Instant, Value};
use dam_core::store::{
    CmpOp, Field, ImageStore, ListQuery, Quantifier, SeedStore, SortKey, StringFunction,
};
use dam_core::testing::select;
use dam_core::{Image, ImageStatus};
use dam_store_sqlite::SqliteStore;
use proptest::prelude::*;

struct Setup {
    runtime: tokio::runtime::Runtime,
    store: SqliteStore,
    images: Vec<Image>,
}

/// One store with the tricky images under `t`, and other images under `other` that must never
/// show up.
fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let store = SqliteStore::open_in_memory().unwrap();
        let images = tricky_images();
        let mut others = tricky_images();
        for im in &mut others {
            im.id = dam_core::ImageId::new(im.id.get() + 1).unwrap();
        }
        runtime
            .block_on(store.load_fixture(&fixture(vec![
                ("t", vec!["k1"], images.clone()),
                ("other", vec!["k2"], others),
            ])))
            .unwrap();
        Setup {
            runtime,
            store,
            images,
        }
    })
}

fn check(query: &ListQuery) {
    let s = setup();
    let page = s
        .runtime
        .block_on(s.store.list(&tenant("t"), query))
        .unwrap();
    let (expected, total) = select(&s.images, query);
    let got: Vec<i64> = page.items.iter().map(|im| im.id.get()).collect();
    let want: Vec<i64> = expected.iter().map(|im| im.id.get()).collect();
    assert_eq!(got, want, "{query:?}");
    assert_eq!(page.items, expected, "{query:?}");
    assert_eq!(page.total, query.count.then_some(total), "{query:?}");
    let shown = query.skip.saturating_add(expected.len() as u64);
    assert_eq!(page.has_more, total > shown, "{query:?}");
}

fn filtered(filter: Filter) {
    check(&ListQuery {
        filter: Some(filter),
        count: true,
        ..ListQuery::default()
    });
}

fn cmp(field: Field, op: CmpOp, value: Value) -> Filter {
    Filter::Compare { field, op, value }
}

fn text(s: &str) -> Value {
    Value::String(s.to_string())
}

fn call(function: StringFunction, field: Field, needle: &str) -> Filter {
    Filter::StringCall {
        function,
        field,
        needle: needle.to_string(),
    }
}

fn not(f: Filter) -> Filter {
    Filter::Not(Box::new(f))
}

const FUNCTIONS: [StringFunction; 3] = [
    StringFunction::Contains,
    StringFunction::StartsWith,
    StringFunction::EndsWith,
];

#[test]
fn string_functions_are_case_sensitive_and_know_no_wildcards() {
    let needles = [
        "%",
        "_",
        "%_",
        "100%",
        "100_",
        "0%_",
        "'",
        "it's",
        "\\",
        "back\\",
        "\\slash",
        "logo",
        "Logo",
        "LOGO",
        "PNG",
        "png",
        "é",
        "É",
        "café",
        "cafe",
        "語",
        "日本",
        "😀",
        ".svg",
        "",
        "a",
        "a b",
        "x\0",
        "\0",
        "ab\0",
        "zeta.tif\0",
        "https://",
        "/1",
        "jpg",
    ];
    for needle in needles {
        for function in FUNCTIONS {
            for field in [
                Field::Reference,
                Field::FileType,
                Field::OriginalUrl,
                Field::ThumbnailMediumUrl,
                Field::ThumbnailPreviewUrl,
                Field::Status,
            ] {
                filtered(call(function, field, needle));
                filtered(not(call(function, field, needle)));
            }
        }
    }
}

#[test]
fn string_comparisons_order_by_code_point_and_handle_nul() {
    let literals = [
        "",
        "a",
        "a\0",
        "a\0b",
        "ab",
        "Logo.PNG",
        "logo.png",
        "café.jpg",
        "cafe.jpg",
        "z",
        "Z",
        "é",
        "日",
        "\u{10FFFF}",
        "%",
        "_",
        "'",
        "\\",
        "it's.png",
        "jpg",
        "JPG",
        "Ok",
        "ok",
    ];
    for literal in literals {
        for op in CmpOp::ALL {
            for field in [
                Field::Reference,
                Field::FileType,
                Field::ThumbnailMediumUrl,
                Field::ThumbnailUrl,
            ] {
                filtered(cmp(field, op, text(literal)));
                filtered(not(cmp(field, op, text(literal))));
            }
        }
        filtered(Filter::In {
            field: Field::Reference,
            values: vec![text(literal), text("a"), text("logo.png")],
        });
        filtered(Filter::Tags {
            quantifier: Quantifier::Any,
            value: literal.to_string(),
        });
        filtered(Filter::Tags {
            quantifier: Quantifier::All,
            value: literal.to_string(),
        });
    }
}

#[test]
fn datetime_fractions_compare_exactly() {
    for seconds in [T0 - 1, T0, T0 + 1, T0 + 2, T0 + 5] {
        for nanos in [0, 1, 500_000_000, 999_999_999] {
            let at = Value::DateTime(Instant { seconds, nanos });
            for op in CmpOp::ALL {
                for field in [Field::CreatedOn, Field::ModifiedOn] {
                    filtered(cmp(field, op, at.clone()));
                    filtered(not(cmp(field, op, at.clone())));
                }
            }
            filtered(Filter::In {
                field: Field::CreatedOn,
                values: vec![at.clone(), Value::DateTime(Instant::from_seconds(T0 + 3))],
            });
            filtered(Filter::In {
                field: Field::CreatedOn,
                values: vec![at],
            });
        }
    }
}

#[test]
fn null_url_fields_are_false_and_their_negation_true() {
    let urls = [
        Field::OriginalUrl,
        Field::ThumbnailUrl,
        Field::ThumbnailMediumUrl,
        Field::ThumbnailPreviewUrl,
    ];
    for field in urls {
        for negated in [false, true] {
            filtered(Filter::IsNull { field, negated });
            filtered(not(Filter::IsNull { field, negated }));
        }
        for op in CmpOp::ALL {
            filtered(not(cmp(field, op, text("https://cdn.example/2/a"))));
            for right in urls {
                filtered(Filter::CompareFields {
                    left: field,
                    op,
                    right,
                });
                filtered(not(Filter::CompareFields {
                    left: field,
                    op,
                    right,
                }));
            }
            filtered(not(Filter::CompareFields {
                left: field,
                op,
                right: Field::Reference,
            }));
        }
        filtered(not(Filter::In {
            field,
            values: vec![text("a"), text("https://cdn.example/2/ab")],
        }));
        for function in FUNCTIONS {
            filtered(not(call(function, field, "")));
        }
    }
}

#[test]
fn integers_status_and_field_to_field() {
    for value in [i64::MIN, -1, 0, 1, 2, 3, 4, 10, 31, i64::MAX] {
        for op in CmpOp::ALL {
            for field in [
                Field::Id,
                Field::NumLinks,
                Field::Width,
                Field::Height,
                Field::SizeInBytes,
            ] {
                filtered(cmp(field, op, Value::Integer(value)));
            }
        }
    }
    for status in ImageStatus::ALL {
        for op in CmpOp::ALL {
            filtered(cmp(Field::Status, op, Value::Status(status)));
        }
    }
    filtered(Filter::In {
        field: Field::Status,
        values: vec![
            Value::Status(ImageStatus::Ready),
            Value::Status(ImageStatus::Reprocessing),
        ],
    });
    for op in CmpOp::ALL {
        filtered(Filter::CompareFields {
            left: Field::ModifiedOn,
            op,
            right: Field::CreatedOn,
        });
        filtered(Filter::CompareFields {
            left: Field::Width,
            op,
            right: Field::Height,
        });
        filtered(Filter::CompareFields {
            left: Field::Reference,
            op,
            right: Field::FileType,
        });
    }
}

#[test]
fn every_sortable_field_orders_with_the_id_tie_break() {
    for field in Field::SORTABLE {
        for descending in [false, true] {
            for skip in [0, 1, 7, 19, 20, 21, u64::MAX] {
                for top in [0, 1, 5, 100] {
                    check(&ListQuery {
                        order_by: vec![SortKey { field, descending }],
                        top,
                        skip,
                        count: skip == 7,
                        ..ListQuery::default()
                    });
                }
            }
        }
    }
}

#[test]
fn deep_filters_translate() {
    let mut filter = cmp(Field::NumLinks, CmpOp::Ge, Value::Integer(0));
    for i in 0..200 {
        filter = if i % 3 == 0 {
            not(filter)
        } else if i % 3 == 1 {
            Filter::And(
                Box::new(filter),
                Box::new(cmp(Field::Width, CmpOp::Ne, Value::Integer(i))),
            )
        } else {
            Filter::Or(
                Box::new(filter),
                Box::new(cmp(Field::Id, CmpOp::Eq, Value::Integer(i))),
            )
        };
    }
    filtered(filter);
}

// Random trees, including ones the validator would refuse (wrong literal types, `tags`
// compared as a whole): the translation must agree with the reference on all of them.

fn field() -> impl Strategy<Value = Field> {
    proptest::sample::select(Field::ALL.to_vec())
}

fn op() -> impl Strategy<Value = CmpOp> {
    proptest::sample::select(CmpOp::ALL.to_vec())
}

fn string() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec![
            "",
            "%",
            "_",
            "'",
            "\\",
            "\0",
            "a",
            "Logo",
            "logo",
            "é",
            "café",
            "jpg",
            "png",
            "red",
            "Red",
            "100%",
            "https://cdn.example/2/",
            ".jpg",
            "Ok",
            "Re",
        ])
        .prop_map(str::to_string),
        "[a-zA-Z%_'\\\\é\\x00]{0,4}",
    ]
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-2_i64..40).prop_map(Value::Integer),
        string().prop_map(Value::String),
        (
            T0 - 2..T0 + 7,
            proptest::sample::select(vec![0_u32, 1, 500_000_000])
        )
            .prop_map(|(seconds, nanos)| Value::DateTime(Instant { seconds, nanos })),
        proptest::sample::select(ImageStatus::ALL.to_vec()).prop_map(Value::Status),
    ]
}

fn leaf() -> impl Strategy<Value = Filter> {
    prop_oneof![
        (field(), op(), value()).prop_map(|(field, op, value)| Filter::Compare {
            field,
            op,
            value
        }),
        (field(), op(), field()).prop_map(|(left, op, right)| Filter::CompareFields {
            left,
            op,
            right
        }),
        (field(), any::<bool>()).prop_map(|(field, negated)| Filter::IsNull { field, negated }),
        (field(), proptest::collection::vec(value(), 1..4))
            .prop_map(|(field, values)| Filter::In { field, values }),
        (
            proptest::sample::select(FUNCTIONS.to_vec()),
            field(),
            string()
        )
            .prop_map(|(function, field, needle)| Filter::StringCall {
                function,
                field,
                needle
            }),
        (any::<bool>(), string()).prop_map(|(all, value)| Filter::Tags {
            quantifier: if all {
                Quantifier::All
            } else {
                Quantifier::Any
            },
            value
        }),
    ]
}

fn filter() -> impl Strategy<Value = Filter> {
    leaf().prop_recursive(5, 32, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|f| Filter::Not(Box::new(f))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
        ]
    })
}

fn query() -> impl Strategy<Value = ListQuery> {
    let keys = proptest::collection::vec(
        (
            proptest::sample::select(Field::SORTABLE.to_vec()),
            any::<bool>(),
        ),
        0..3,
    );
    (
        proptest::option::of(filter()),
        keys,
        0_u32..=100,
        prop_oneof![0_u64..25, Just(u64::MAX)],
        any::<bool>(),
    )
        .prop_map(|(filter, keys, top, skip, count)| {
            let mut order_by: Vec<SortKey> = Vec::new();
            for (field, descending) in keys {
                if order_by.iter().all(|k| k.field != field) {
                    order_by.push(SortKey { field, descending });
                }
            }
            ListQuery {
                filter,
                order_by,
                top,
                skip,
                count,
            }
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn random_queries_agree_with_the_reference(query in query()) {
        check(&query);
    }
}
