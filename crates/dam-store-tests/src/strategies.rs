//! Proptest generators: multi-tenant fixtures full of awkward values, and valid typed list
//! queries whose literals are biased towards the values a fixture holds.
//!
//! ```
//! use proptest::prelude::*;
//! use proptest::strategy::ValueTree;
//! use proptest::test_runner::TestRunner;
//! use dam_store_tests::strategies::fixture_and_queries;
//!
//! let mut runner = TestRunner::default();
//! let (fixture, queries) = fixture_and_queries(4).new_tree(&mut runner).unwrap().current();
//! assert!((1..=4).contains(&fixture.tenants.len()));
//! assert!((1..=4).contains(&queries.len()));
//! ```

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;

use dam_core::query::{FieldType, Filter, Instant, Value};

use dam_core::store::{CmpOp, Field, ListQuery, Quantifier, SortKey, StringFunction};
use dam_core::{
    FileType, Fixture, Image, ImageId, ImageStatus, KeyDigest, Reference, TenantData, TenantId,
    Timestamp,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{select, Index};

/// Pieces references are built from: `%`, `_`, `'`, `\`, spaces, mixed case, non-ASCII.
pub const REFERENCE_PIECES: [&str; 22] = [
    "a", "A", "b", "Logo", "logo", "%", "_", "'", "\\", " ", "é", "É", "ü", "Ü", "ß", "日本", "😀",
    ".jpg", ".PNG", "-", "x", "100%",
];
/// File types (lower-case, as the domain requires; one non-ASCII).
pub const FILE_TYPES: [&str; 8] = ["jpg", "jpeg", "png", "gif", "webp", "tif", "svg", "ü"];
/// The tag vocabulary (the empty tag included).
pub const TAGS: [&str; 12] = [
    "red",
    "Red",
    "sale",
    "",
    "%",
    "_",
    "'",
    "\\",
    "50%",
    "a_b",
    "ünï",
    "with space",
];
/// URL values (the empty string included; null is generated separately).
pub const URLS: [&str; 6] = [
    "https://cdn.example/a.jpg",
    "https://cdn.example/A.jpg",
    "",
    "https://cdn.example/100%_x'\\.png",
    "https://cdn.example/é",
    "https://cdn.example/a b",
];
/// Tenant names: two differ only in case, one holds `'`, `%`, `_` and `\`.
pub const TENANT_NAMES: [&str; 4] = ["acme", "Acme", "o'%_\\", "ünï tenant"];

/// Seconds since the epoch of 2024-01-01T00:00:00; generated timestamps lie near it, with
/// ties.
const BASE: i64 = 1_704_067_200;
const OFFSETS: [i64; 8] = [-86_400, -1, 0, 0, 1, 2, 3_600, 86_400];

/// Reads small numbers off a random seed, lowest bits first, so a seed that shrinks towards
/// zero picks the first entry of every list.
struct Bits(u64);

impl Bits {
    fn take(&mut self, bits: u32) -> usize {
        let value = self.0 & ((1 << bits) - 1);
        self.0 >>= bits;
        value as usize
    }

    fn pick<T: Copy>(&mut self, bits: u32, from: &[T]) -> T {
        from[self.take(bits) % from.len()]
    }
}

/// Everything of an image but its id (assigned when the fixture is put together), and the
/// gap (1–4) before its id. Drawn from two seeds: generating a few thousand images per second
/// in a debug build keeps 1 000 cases fast.
fn image_body() -> impl Strategy<Value = (Image, i64)> {
    (any::<u64>(), any::<u64>()).prop_map(|(a, b)| {
        let (mut a, mut b) = (Bits(a), Bits(b));
        let pieces = 1 + a.take(2);
        let reference: String = (0..pieces).map(|_| a.pick(5, &REFERENCE_PIECES)).collect();
        let file_type = a.pick(3, &FILE_TYPES);
        let status = a.pick(3, &ImageStatus::ALL);
        let tag_count = a.take(2);
        let tags: Vec<String> = (0..tag_count)
            .map(|_| a.pick(4, &TAGS).to_string())
            .collect();
        let mut url = || {
            let v = b.take(4);
            (v >= 6).then(|| URLS[(v - 6) % URLS.len()].to_string())
        };
        let urls = [url(), url(), url(), url()];
        let links = b.pick(3, &[0, 1, 2, 3, 4, i64::MAX, 1_000_000, 0]);
        let created = timestamp(BASE + b.pick(3, &OFFSETS));
        let later = b.pick(2, &[0i64, 0, 1, 3_600]);
        let width = b.pick(2, &[0i64, 1, 64, 800]);
        let height = b.pick(2, &[0i64, 1, 64, 800]);
        let bytes = b.pick(3, &[0, 1, 2, 3, 2048, i64::MAX, 0, 1]);
        let gap = 1 + b.take(2) as i64;
        let mut image = Image::new(
            ImageId::MAX,
            Reference::new(reference).unwrap_or_else(|e| unreachable_value(e)),
            FileType::new(file_type).unwrap_or_else(|e| unreachable_value(e)),
            status,
            created,
        );
        image.modified_on = timestamp(created.unix_seconds() + later);
        image.num_links = links;
        image.tags = tags;
        let [original, thumbnail, medium, preview] = urls;
        image.original_url = original;
        image.thumbnail_url = thumbnail;
        image.thumbnail_medium_url = medium;
        image.thumbnail_preview_url = preview;
        image.width = width;
        image.height = height;
        image.size_in_bytes = bytes;
        (image, gap)
    })
}

fn timestamp(seconds: i64) -> Timestamp {
    Timestamp::from_unix_seconds(seconds).unwrap_or_else(|e| unreachable_value(e))
}

/// The generators only combine values that are valid by construction.
fn unreachable_value(e: dam_core::ValueError) -> ! {
    panic!("a generator built an invalid value: {e}")
}

/// A valid fixture: 1 to `max_tenants` (≤ 4) tenants with 0 to 40 images each; ids unique
/// with gaps and interleaved across tenants; references unique per tenant (one tenant may
/// reuse another's); one key per tenant.
pub fn fixture(max_tenants: usize) -> impl Strategy<Value = Fixture> {
    let max_tenants = max_tenants.clamp(1, TENANT_NAMES.len());
    vec(vec(image_body(), 0..=40), 1..=max_tenants)
        .prop_flat_map(|tenants| {
            let count = tenants.len();
            let flat: Vec<(usize, Image, i64)> = tenants
                .into_iter()
                .enumerate()
                .flat_map(|(t, images)| images.into_iter().map(move |(im, gap)| (t, im, gap)))
                .collect();
            (Just(flat).prop_shuffle(), Just(count))
        })
        .prop_map(|(flat, count)| {
            let mut tenants: Vec<TenantData> = TENANT_NAMES[..count]
                .iter()
                .map(|name| TenantData {
                    tenant: TenantId::new(*name).unwrap_or_else(|e| unreachable_value(e)),
                    keys: vec![KeyDigest::of(&format!("key-{name}"))],
                    images: Vec::new(),
                })
                .collect();
            let mut seen: HashSet<(usize, String)> = HashSet::new();
            let mut next = 0i64;
            for (t, mut image, gap) in flat {
                if !seen.insert((t, image.reference.as_str().to_string())) {
                    continue;
                }
                next += gap;
                image.id = ImageId::new(next).unwrap_or_else(|e| unreachable_value(e));
                if let Some(data) = tenants.get_mut(t) {
                    data.images.push(image);
                }
            }
            Fixture { tenants }
        })
}

/// Literal pools drawn from a fixture, so generated filters hit existing values.
#[derive(Debug, Clone, Default)]
pub struct Pool {
    integers: Vec<i64>,
    strings: Vec<String>,
    needles: Vec<String>,
    instants: Vec<Instant>,
    tags: Vec<String>,
}

impl Pool {
    /// The pool of a fixture: its values, their neighbours, and fixed awkward extras.
    pub fn of(fixture: &Fixture) -> Self {
        let images = fixture.tenants.iter().flat_map(|t| t.images.iter());
        let mut integers = BTreeSet::from([i64::MIN, -1, 0, 1, 2, 64, i64::MAX]);
        let mut strings = BTreeSet::new();
        let mut instants = BTreeSet::new();
        let mut tags: BTreeSet<String> = TAGS.iter().map(|t| t.to_string()).collect();
        tags.extend(["RED", "re", "x", "\0", "red\0"].map(String::from));
        // NUL-bearing literals: stored strings never hold NUL, so stores decide them apart.
        for extra in [
            "", "a", "Z", "é", "jpg", "JPG", "Logo", "%", "_", "'", "\\", "\0", "a\0", "Logo\0z",
        ] {
            strings.insert(extra.to_string());
        }
        for image in images {
            for n in [
                image.id.get(),
                image.num_links,
                image.width,
                image.height,
                image.size_in_bytes,
            ] {
                integers.extend([n, n.saturating_add(1), n.saturating_sub(1)]);
            }
            strings.insert(image.reference.as_str().to_string());
            strings.insert(format!("{}\0", image.reference.as_str()));
            strings.insert(image.file_type.as_str().to_string());
            for url in [
                &image.original_url,
                &image.thumbnail_url,
                &image.thumbnail_medium_url,
                &image.thumbnail_preview_url,
            ]
            .into_iter()
            .flatten()
            {
                strings.insert(url.clone());
            }
            for stamp in [image.created_on, image.modified_on] {
                let s = stamp.unix_seconds();
                for nanos in [0, 1, 500_000_000] {
                    instants.insert(Instant { seconds: s, nanos });
                    instants.insert(Instant {
                        seconds: s - 1,
                        nanos,
                    });
                }
            }
            tags.extend(image.tags.iter().cloned());
        }
        instants.insert(Instant {
            seconds: BASE,
            nanos: 999_999_999,
        });
        let mut needles = BTreeSet::new();
        for s in &strings {
            needles.extend(pieces(s));
        }
        needles.extend(REFERENCE_PIECES.iter().map(|p| p.to_string()));
        needles.extend(["%_", "\\%", "''", "LOGO", "b%", "\0", "g\0"].map(String::from));
        Pool {
            integers: integers.into_iter().collect(),
            strings: strings.into_iter().collect(),
            needles: needles.into_iter().collect(),
            instants: instants.into_iter().collect(),
            tags: tags.into_iter().collect(),
        }
    }

    fn value(&self, field: Field, pick: &Index) -> Value {
        match field.field_type() {
            FieldType::Integer => Value::Integer(*pick.get(&self.integers)),
            FieldType::DateTime => Value::DateTime(*pick.get(&self.instants)),
            FieldType::Status => Value::Status(*pick.get(&ImageStatus::ALL)),
            FieldType::String | FieldType::NullableString | FieldType::Tags => {
                Value::String(pick.get(&self.strings).clone())
            }
        }
    }
}

/// Prefixes, suffixes and a middle part of a string, cut at character boundaries.
fn pieces(s: &str) -> Vec<String> {
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len();
    let take = |from: usize, to: usize| {
        let from = from.min(n);
        chars[from..to.clamp(from, n)].iter().collect::<String>()
    };
    vec![
        take(0, 1),
        take(0, 3),
        take(n.saturating_sub(1), n),
        take(n.saturating_sub(4), n),
        take(1, n.saturating_sub(1)),
        take(n / 2, n / 2 + 2),
    ]
}

const COMPARABLE: [&[Field]; 4] = [
    &[
        Field::Id,
        Field::NumLinks,
        Field::Width,
        Field::Height,
        Field::SizeInBytes,
    ],
    &[Field::CreatedOn, Field::ModifiedOn],
    &STRING_FIELDS,
    &[Field::Status],
];
const URL_FIELDS: [Field; 4] = [
    Field::OriginalUrl,
    Field::ThumbnailUrl,
    Field::ThumbnailMediumUrl,
    Field::ThumbnailPreviewUrl,
];
const STRING_FIELDS: [Field; 6] = [
    Field::Reference,
    Field::FileType,
    Field::OriginalUrl,
    Field::ThumbnailUrl,
    Field::ThumbnailMediumUrl,
    Field::ThumbnailPreviewUrl,
];
const FUNCTIONS: [StringFunction; 3] = [
    StringFunction::Contains,
    StringFunction::StartsWith,
    StringFunction::EndsWith,
];

/// Fields a comparison or `in` takes (every field but `tags`).
fn comparable_fields() -> Vec<Field> {
    Field::ALL
        .into_iter()
        .filter(|f| *f != Field::Tags)
        .collect()
}

/// An operator valid on `field` (`eq`/`ne` only on `status`).
fn op_for(field: Field, pick: &Index) -> CmpOp {
    if field == Field::Status {
        *pick.get(&[CmpOp::Eq, CmpOp::Ne])
    } else {
        *pick.get(&CmpOp::ALL)
    }
}

/// One leaf of a filter: a comparison, a field-to-field comparison, a null test, an `in`, a
/// string call or a tags quantifier, with literals from the pool.
pub fn leaf_filter(pool: Arc<Pool>) -> impl Strategy<Value = Filter> {
    (
        0usize..6,
        any::<Index>(),
        any::<Index>(),
        any::<Index>(),
        vec(any::<Index>(), 1..=5),
        any::<bool>(),
    )
        .prop_map(move |(kind, a, b, c, many, flag)| {
            let fields = comparable_fields();
            match kind {
                0 => {
                    let field = *a.get(&fields);
                    Filter::Compare {
                        field,
                        op: op_for(field, &b),
                        value: pool.value(field, &c),
                    }
                }
                1 => {
                    let group = a.get(&COMPARABLE);
                    let left = *b.get(group);
                    let right = *many[0].get(group);
                    Filter::CompareFields {
                        left,
                        op: op_for(left, &c),
                        right,
                    }
                }
                2 => Filter::IsNull {
                    field: *a.get(&URL_FIELDS),
                    negated: flag,
                },
                3 => {
                    let field = *a.get(&fields);
                    Filter::In {
                        field,
                        values: many.iter().map(|i| pool.value(field, i)).collect(),
                    }
                }
                4 => Filter::StringCall {
                    function: *a.get(&FUNCTIONS),
                    field: *b.get(&STRING_FIELDS),
                    needle: c.get(&pool.needles).clone(),
                },
                _ => Filter::Tags {
                    quantifier: if flag {
                        Quantifier::Any
                    } else {
                        Quantifier::All
                    },
                    value: a.get(&pool.tags).clone(),
                },
            }
        })
}

/// A filter tree of nesting depth at most 4 over the leaves of [`leaf_filter`], with `and`,
/// `or` and `not`.
pub fn filter(pool: Arc<Pool>) -> impl Strategy<Value = Filter> {
    leaf_filter(pool).prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|f| Filter::Not(Box::new(f))),
        ]
    })
}

/// `$orderby`: up to three distinct sortable fields, each ascending or descending.
pub fn order_by() -> impl Strategy<Value = Vec<SortKey>> {
    (
        proptest::sample::subsequence(Field::SORTABLE.to_vec(), 0..=3),
        vec(any::<bool>(), 3),
    )
        .prop_flat_map(|(fields, directions)| {
            let keys: Vec<SortKey> = fields
                .into_iter()
                .zip(directions)
                .map(|(field, descending)| SortKey { field, descending })
                .collect();
            Just(keys).prop_shuffle()
        })
}

/// A valid list query over the pool: an optional filter, `$orderby`, `$top` 0–100 (often
/// small), `$skip` 0–49, `$count`.
pub fn list_query(pool: Arc<Pool>) -> impl Strategy<Value = ListQuery> {
    (
        proptest::option::weighted(0.85, filter(pool)),
        order_by(),
        prop_oneof![0u32..=5, 0u32..=100],
        prop_oneof![Just(0u64), 0u64..50],
        any::<bool>(),
    )
        .prop_map(|(filter, order_by, top, skip, count)| ListQuery {
            filter,
            order_by,
            top,
            skip,
            count,
        })
}

/// A fixture of up to four tenants and 1 to `max_queries` queries biased to its values.
pub fn fixture_and_queries(max_queries: usize) -> impl Strategy<Value = (Fixture, Vec<ListQuery>)> {
    fixture(4).prop_flat_map(move |fixture| {
        let pool = Arc::new(Pool::of(&fixture));
        (Just(fixture), vec(list_query(pool), 1..=max_queries.max(1)))
    })
}

/// One step of a random workload against a store (see [`crate::model`]). Tenants are indices
/// into the fixture's tenants; an index past them is a tenant the store does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// `list` for a tenant.
    List {
        /// The tenant's index.
        tenant: usize,
        /// The query.
        query: ListQuery,
    },
    /// `get` of an id for a tenant.
    Get {
        /// The tenant's index.
        tenant: usize,
        /// The image id (often one another tenant owns).
        id: i64,
    },
    /// `delete` of an id for a tenant.
    Delete {
        /// The tenant's index.
        tenant: usize,
        /// The image id.
        id: i64,
    },
    /// `set_status` of an id for a tenant.
    SetStatus {
        /// The tenant's index.
        tenant: usize,
        /// The image id.
        id: i64,
        /// The new status.
        status: ImageStatus,
    },
    /// `insert` of a new image for a tenant, with the reference of some fixture image (so it
    /// often clashes in one tenant and not in another).
    Insert {
        /// The tenant's index.
        tenant: usize,
        /// The reference.
        reference: String,
    },
}

/// A fixture and 1 to `max_ops` operations on it, aimed at its ids and references, from every
/// tenant (and an unknown one).
pub fn fixture_and_operations(max_ops: usize) -> impl Strategy<Value = (Fixture, Vec<Operation>)> {
    fixture(4).prop_flat_map(move |fixture| {
        let pool = Arc::new(Pool::of(&fixture));
        let tenants = fixture.tenants.len() + 1;
        let mut ids: Vec<i64> = fixture
            .tenants
            .iter()
            .flat_map(|t| t.images.iter().map(|im| im.id.get()))
            .collect();
        let past = ids.iter().copied().max().unwrap_or(0);
        // ids the store will assign to inserts, and ids nobody holds
        ids.extend([past + 1, past + 2, past + 3, i64::MAX]);
        let references: Vec<String> = fixture
            .tenants
            .iter()
            .flat_map(|t| t.images.iter().map(|im| im.reference.as_str().to_string()))
            .chain(["fresh.jpg".to_string()])
            .collect();
        let operation = prop_oneof![
            3 => (0..tenants, list_query(pool))
                .prop_map(|(tenant, query)| Operation::List { tenant, query }),
            2 => (0..tenants, select(ids.clone()))
                .prop_map(|(tenant, id)| Operation::Get { tenant, id }),
            3 => (0..tenants, select(ids.clone()))
                .prop_map(|(tenant, id)| Operation::Delete { tenant, id }),
            3 => (0..tenants, select(ids), select(&ImageStatus::ALL[..]))
                .prop_map(|(tenant, id, status)| Operation::SetStatus { tenant, id, status }),
            1 => (0..tenants, select(references))
                .prop_map(|(tenant, reference)| Operation::Insert { tenant, reference }),
        ];
        (Just(fixture), vec(operation, 1..=max_ops.max(1)))
    })
}
