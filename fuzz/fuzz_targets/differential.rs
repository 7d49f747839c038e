//! Differential: a small store built from the fuzz input, a fuzzed query; the memory adapter,
//! the SQLite adapter and the core's reference evaluation must give the same ids, order and
//! count.
#![no_main]
use arbitrary::{Arbitrary, Unstructured};
use dam_core::query::{parse_filter, parse_orderby};
use dam_core::store::{ImageStore, ListQuery, SeedStore};
use dam_core::testing::select;
use dam_core::{FileType, Fixture, Image, ImageId, ImageStatus, Reference, TenantData, TenantId, Timestamp};
use dam_store_memory::MemoryStore;
use dam_store_sqlite::SqliteStore;
use libfuzzer_sys::fuzz_target;

const WORDS: &[&str] = &["a", "A", "%", "_", "'", "\\", "é", "日本", " ", "x_y", "100%", "Logo", ".png", ".PNG"];
const TYPES: &[&str] = &["jpg", "png", "gif"];
const TAGS: &[&str] = &["red", "Red", "o'neil", "100%", "a_b"];
const URLS: &[&str] = &["https://a/x.png", "https://b/%_", "http://c/'q'"];

fn pick<'a>(u: &mut Unstructured<'_>, items: &[&'a str]) -> arbitrary::Result<&'a str> {
    Ok(items[u.choose_index(items.len())?])
}

fn image(u: &mut Unstructured<'_>, id: i64) -> arbitrary::Result<Option<Image>> {
    let mut reference = String::new();
    for _ in 0..u.int_in_range(1..=3)? {
        reference.push_str(pick(u, WORDS)?);
    }
    reference.push_str(&format!("-{id}"));
    let Ok(reference) = Reference::new(reference) else { return Ok(None) };
    let status = ImageStatus::ALL[u.choose_index(5)?];
    let created = Timestamp::from_unix_seconds(1_700_000_000 + i64::from(u.int_in_range(0u8..=4)?) * 500)
        .map_err(|_| arbitrary::Error::IncorrectFormat)?;
    let Ok(file_type) = FileType::new(pick(u, TYPES)?) else { return Ok(None) };
    let mut image = Image::new(ImageId::new(id).map_err(|_| arbitrary::Error::IncorrectFormat)?, reference, file_type, status, created);
    image.num_links = i64::from(u.int_in_range(0u8..=5)?);
    image.width = i64::from(u.int_in_range(0u8..=3)?) * 100;
    image.modified_on = Timestamp::from_unix_seconds(created.unix_seconds() + i64::from(u.int_in_range(0u8..=2)?))
        .map_err(|_| arbitrary::Error::IncorrectFormat)?;
    for _ in 0..u.int_in_range(0..=2)? {
        image.tags.push(pick(u, TAGS)?.to_string());
    }
    if bool::arbitrary(u)? {
        image.original_url = Some(pick(u, URLS)?.to_string());
    }
    Ok(Some(image))
}

fn ids(items: &[Image]) -> Vec<i64> {
    items.iter().map(|i| i.id.get()).collect()
}

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(n) = u.int_in_range(0..=12u8) else { return };
    let mut images = Vec::new();
    for id in 1..=i64::from(n) {
        match image(&mut u, id) {
            Ok(Some(im)) => images.push(im),
            Ok(None) => {}
            Err(_) => return,
        }
    }
    let Ok(filter_text) = <&str>::arbitrary(&mut u) else { return };
    let Ok(order_text) = <&str>::arbitrary(&mut u) else { return };
    let Ok(filter) = parse_filter(filter_text) else { return };
    let order_by = parse_orderby(order_text).unwrap_or_default();
    let query = ListQuery {
        filter: Some(filter),
        order_by,
        top: u.int_in_range(0..=100).unwrap_or(100),
        skip: u.int_in_range(0..=5).unwrap_or(0),
        count: true,
    };
    let tenant = TenantId::new("t").expect("tenant");
    let fixture = Fixture {
        tenants: vec![TenantData { tenant: tenant.clone(), keys: vec![], images: images.clone() }],
    };
    let (want, total) = select(&images, &query);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
    rt.block_on(async {
        let memory = MemoryStore::new();
        memory.load_fixture(&fixture).await.expect("memory load");
        let sqlite = SqliteStore::open_in_memory().expect("sqlite");
        sqlite.load_fixture(&fixture).await.expect("sqlite load");
        for (name, store) in [("memory", &memory as &dyn ImageStore), ("sqlite", &sqlite)] {
            let page = store.list(&tenant, &query).await.expect("list");
            assert_eq!(ids(&page.items), ids(&want), "{name}: {filter_text:?} {order_text:?}");
            assert_eq!(page.total, Some(total), "{name}: count of {filter_text:?}");
        }
    });
});
