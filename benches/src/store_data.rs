//! The data and the query of the store benches (`store_list`, `store_list_postgres`): one
//! deterministic set of images, so every store and every run sees the same rows.

use dam_core::query::{Filter, Value};

use dam_core::store::{CmpOp, Field, ListQuery, SortKey};
use dam_core::{
    FileType, Fixture, Image, ImageId, ImageStatus, Reference, TenantData, TenantId, Timestamp,
};

/// Tenants the images are spread over.
pub const TENANTS: usize = 10;
const FILE_TYPES: [&str; 8] = ["jpg", "jpg", "jpg", "png", "png", "gif", "webp", "tif"];
const TAGS: [&str; 6] = ["red", "green", "blue", "summer", "sale", "hero"];

/// A small deterministic generator (SplitMix64), so every run sees the same data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Images in the list benches: 100 000, or `DAM_BENCH_IMAGES`.
pub fn image_count() -> usize {
    std::env::var("DAM_BENCH_IMAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

/// The `i`-th tenant (`tenant-{i}`).
pub fn tenant(i: usize) -> TenantId {
    TenantId::new(format!("tenant-{i}")).expect("valid tenant")
}

/// `count` images spread over the tenants; ids from `first_id`.
pub fn fixture(count: usize, first_id: i64, seed: u64) -> Fixture {
    let mut rng = Rng(seed);
    let start = 1_640_995_200; // 2022-01-01
    let mut tenants: Vec<TenantData> = (0..TENANTS)
        .map(|i| TenantData {
            tenant: tenant(i),
            keys: Vec::new(),
            images: Vec::new(),
        })
        .collect();
    for n in 0..count {
        let id = first_id + n as i64;
        let created = start + rng.below(2 * 365 * 86_400) as i64;
        let mut image = Image::new(
            ImageId::new(id).expect("positive id"),
            Reference::new(format!("product-{id}-front.jpg")).expect("valid reference"),
            FileType::new(FILE_TYPES[rng.below(8) as usize]).expect("valid type"),
            ImageStatus::ALL[rng.below(5) as usize],
            Timestamp::from_unix_seconds(created).expect("valid time"),
        );
        image.modified_on =
            Timestamp::from_unix_seconds(created + rng.below(86_400) as i64).expect("valid");
        image.num_links = rng.below(10) as i64;
        image.width = 200 + rng.below(4000) as i64;
        image.height = 200 + rng.below(4000) as i64;
        image.size_in_bytes = 10_000 + rng.below(5_000_000) as i64;
        image.tags = (0..rng.below(3))
            .map(|_| TAGS[rng.below(6) as usize].to_string())
            .collect();
        if rng.below(2) == 0 {
            image.original_url = Some(format!("https://cdn.example/{id}.jpg"));
        }
        tenants[n % TENANTS].images.push(image);
    }
    Fixture { tenants }
}

/// The benched list: `$filter=fileType eq 'jpg' and status in ('Ok','Re') and numLinks ge 3`,
/// `$orderby=createdOn desc`, `$top=100`, `$skip=skip`.
pub fn query(skip: u64) -> ListQuery {
    let cmp = |field, op, value| Filter::Compare { field, op, value };
    let filter = Filter::And(
        Box::new(Filter::And(
            Box::new(cmp(Field::FileType, CmpOp::Eq, Value::String("jpg".into()))),
            Box::new(Filter::In {
                field: Field::Status,
                values: vec![
                    Value::Status(ImageStatus::Ready),
                    Value::Status(ImageStatus::Reprocessing),
                ],
            }),
        )),
        Box::new(cmp(Field::NumLinks, CmpOp::Ge, Value::Integer(3))),
    );
    ListQuery {
        filter: Some(filter),
        order_by: vec![SortKey {
            field: Field::CreatedOn,
            descending: true,
        }],
        top: 100,
        skip,
        count: false,
    }
}

/// The medians of `runs` timings of `a` and of `b`, run alternately, so that a machine whose
/// load drifts (a shared one) weighs on both alike: a steadier ratio than two benches run one
/// after the other.
pub fn interleaved_medians(
    runs: usize,
    mut a: impl FnMut(),
    mut b: impl FnMut(),
) -> (std::time::Duration, std::time::Duration) {
    let mut times_a = Vec::with_capacity(runs);
    let mut times_b = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let started = std::time::Instant::now();
        a();
        times_a.push(started.elapsed());
        let started = std::time::Instant::now();
        b();
        times_b.push(started.elapsed());
    }
    times_a.sort();
    times_b.sort();
    (times_a[times_a.len() / 2], times_b[times_b.len() / 2])
}
