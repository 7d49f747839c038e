//! Server-driven paging (contract §3.1): following `@nextLink` and its `$skiptoken` through
//! [`ImageService`] walks the reference order, also while images are deleted between pages.

use std::collections::HashSet;
use std::sync::Arc;

use dam_core::query::MAX_FILTER_BYTES;

use dam_core::store::{compare_images, ListQuery, SortKey};

use dam_core::store::{ImageStore, StoreError};
use dam_core::testing::select;
use dam_core::{Fixture, Image, ImageService, TenantId};
use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use super::load;
use crate::check::ids;
use crate::strategies::{filter, fixture, order_by, Pool};
use crate::StoreFactory;

/// One walk: the options of its first request and the deletes to make after each page.
#[derive(Debug, Clone)]
struct Walk {
    /// Index of the tenant (modulo the fixture's tenants).
    tenant: usize,
    query: ListQuery,
    /// `$skip` of the first page (none when 0).
    first_skip: u64,
    /// After page `i`, delete `deletes[i % len]` images chosen by their seeds.
    deletes: Vec<Vec<u64>>,
}

fn walk(pool: Arc<Pool>) -> impl Strategy<Value = Walk> {
    (
        0usize..4,
        proptest::option::weighted(0.8, filter(pool)),
        order_by(),
        1u32..=7,
        any::<bool>(),
        prop_oneof![3 => Just(0u64), 1 => 1u64..4],
        vec(vec(any::<u64>(), 0..=3), 1..=6),
    )
        .prop_map(
            |(tenant, filter, order_by, top, count, first_skip, deletes)| Walk {
                tenant,
                query: ListQuery {
                    filter: filter.filter(|f| f.to_string().len() <= MAX_FILTER_BYTES),
                    order_by,
                    top,
                    skip: 0,
                    count,
                },
                first_skip,
                deletes,
            },
        )
}

/// The query string of a walk's first request, as a client writes it.
fn first_request(walk: &Walk) -> String {
    let encode = |text: &str| utf8_percent_encode(text, NON_ALPHANUMERIC).to_string();
    let query = &walk.query;
    let mut options = vec![format!("$top={}", query.top)];
    if let Some(filter) = &query.filter {
        options.push(format!("$filter={}", encode(&filter.to_string())));
    }
    if !query.order_by.is_empty() {
        let keys: Vec<String> = query
            .order_by
            .iter()
            .map(|k| format!("{} {}", k.field, if k.descending { "desc" } else { "asc" }))
            .collect();
        options.push(format!("$orderby={}", encode(&keys.join(","))));
    }
    if query.count {
        options.push("$count=true".into());
    }
    if walk.first_skip > 0 {
        options.push(format!("$skip={}", walk.first_skip));
    }
    options.join("&")
}

/// The matches of `query`'s filter among `alive`, in list order.
fn ordered_matches(alive: &[Image], query: &ListQuery) -> Vec<Image> {
    let all = ListQuery {
        filter: query.filter.clone(),
        order_by: query.order_by.clone(),
        top: u32::MAX,
        skip: 0,
        count: false,
    };
    select(alive, &all).0
}

fn is_after(image: &Image, last: &Image, keys: &[SortKey]) -> bool {
    compare_images(image, last, keys).is_gt()
}

/// Runs one walk against a fresh store; an `Err` names the page and what differed.
async fn run_walk<F: StoreFactory>(
    factory: &F,
    fixture: &Fixture,
    walk: &Walk,
) -> Result<(), TestCaseError> {
    let store = factory.create().await;
    load(&*store, fixture).await;
    let service = ImageService::new(store.clone(), store.clone());
    let data = &fixture.tenants[walk.tenant % fixture.tenants.len()];
    let tenant: &TenantId = &data.tenant;
    let key = format!("key-{tenant}");
    let mut alive: Vec<Image> = data.images.clone();
    let mut deleted: HashSet<i64> = HashSet::new();
    let mut seen: HashSet<i64> = HashSet::new();
    let mut skipped: HashSet<i64> = HashSet::new();
    let mut last: Option<Image> = None;
    let mut request = first_request(walk);
    let keys = &walk.query.order_by;
    for page_number in 0.. {
        let page = service
            .list_images(Some(key.as_bytes()), Some(&request), "/image")
            .await
            .map_err(|p| TestCaseError::fail(format!("page {page_number} ({request}): {p:?}")))?;
        // What the page must hold: the matches that survive, after the last image shown (or
        // past `$skip` on the first page).
        let matches = ordered_matches(&alive, &walk.query);
        let rest: Vec<&Image> = match &last {
            Some(last) => matches
                .iter()
                .filter(|im| is_after(im, last, keys))
                .collect(),
            None => {
                let (passed, rest) = matches.split_at(matches.len().min(walk.first_skip as usize));
                skipped.extend(passed.iter().map(|im| im.id.get()));
                rest.iter().collect()
            }
        };
        let expected: Vec<Image> = rest
            .iter()
            .take(walk.query.top as usize)
            .map(|im| (*im).clone())
            .collect();
        prop_assert_eq!(
            ids(&page.items),
            ids(&expected),
            "page {} of tenant '{}' ({}) differs from the reference order",
            page_number,
            tenant,
            request
        );
        prop_assert_eq!(
            &page.items,
            &expected,
            "image fields on page {}",
            page_number
        );
        let count = walk.query.count.then_some(matches.len() as u64);
        prop_assert_eq!(
            page.count,
            count,
            "@count on page {} ({})",
            page_number,
            request
        );
        for image in &page.items {
            prop_assert!(
                seen.insert(image.id.get()),
                "image {} shown twice ({})",
                image.id,
                request
            );
            prop_assert!(
                !deleted.contains(&image.id.get()),
                "deleted image {} shown",
                image.id
            );
        }
        let more = rest.len() > expected.len();
        let Some(link) = page.next_link else {
            prop_assert!(
                !more,
                "no @nextLink on page {} but matches follow",
                page_number
            );
            break;
        };
        prop_assert!(
            more,
            "@nextLink on page {} but no match follows",
            page_number
        );
        prop_assert!(
            link.contains("$skiptoken=") && !link.contains("$skip="),
            "{}",
            link
        );
        request = link
            .strip_prefix("/image?")
            .ok_or_else(|| TestCaseError::fail(format!("link {link} is not under /image")))?
            .to_string();
        last = page.items.last().cloned();
        // Deletes between pages: anywhere in the tenant (shown, next, later, unmatched).
        for seed in &walk.deletes[page_number % walk.deletes.len()] {
            if alive.is_empty() {
                break;
            }
            let victim = alive[(*seed % alive.len() as u64) as usize].clone();
            match store.delete(tenant, victim.id).await {
                Ok(()) => {
                    alive.retain(|im| im.id != victim.id);
                    deleted.insert(victim.id.get());
                }
                Err(StoreError::BeingProcessed) if victim.status.is_processing() => {}
                Err(e) => {
                    return Err(TestCaseError::fail(format!(
                        "delete of image {} failed: {e:?}",
                        victim.id
                    )))
                }
            }
        }
    }
    // Every match that survived, but those the first page's `$skip` passed over, was shown.
    for image in ordered_matches(&alive, &walk.query) {
        prop_assert!(
            skipped.contains(&image.id.get()) || seen.contains(&image.id.get()),
            "surviving match {} was left out",
            image.id
        );
    }
    Ok(())
}

/// Following `@nextLink` (`$skiptoken`, never `$skip`) through [`ImageService`] visits the
/// reference order page by page, for random filters, `$orderby`s, page sizes, a first page
/// with or without `$skip`, and random deletes between pages: each page is exactly the
/// surviving matches after the last image shown, `@count` counts every surviving match, no
/// image is shown twice, a deleted image never again, and no surviving match is left out.
///
/// A property test (proptest, 32 cases, each on a fresh store); it needs a multi-threaded
/// tokio runtime, as [`crate::conformance_suite!`] and [`crate::block_on`] give.
pub async fn paging_by_skiptoken_follows_the_reference_order<F: StoreFactory>(factory: F) {
    let handle = tokio::runtime::Handle::current();
    let cases = fixture(3).prop_flat_map(|fixture| {
        let pool = Arc::new(Pool::of(&fixture));
        (Just(fixture), vec(walk(pool), 1..=3))
    });
    let mut runner = TestRunner::new(Config {
        cases: 32,
        failure_persistence: None,
        ..Config::default()
    });
    let outcome = tokio::task::block_in_place(|| {
        runner.run(&cases, |(fixture, walks)| {
            for walk in &walks {
                handle.block_on(run_walk(&factory, &fixture, walk))?;
            }
            Ok(())
        })
    });
    if let Err(e) = outcome {
        panic!("paging by $skiptoken: {e}");
    }
}
