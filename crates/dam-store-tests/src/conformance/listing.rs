//! Listing, paging, counting and reading one image.

use std::collections::HashSet;

use dam_core::store::{CmpOp, Field, ListQuery, StringFunction};

use super::{acme, globex, standard};
use crate::check::{assert_list_matches, get, ids, list};
use crate::data::{images_of, tenant_id, ACME, GLOBEX, INITECH, NOBODY};
use crate::query::{any_tag, call, cmp, int, list as query, ListQueryExt};
use crate::StoreFactory;

/// Without options a tenant's images come by id ascending, all of them (fewer than 100),
/// without `total`, and `has_more` is false.
pub async fn list_default_order_is_by_id<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    for name in [ACME, GLOBEX] {
        let tenant = tenant_id(name);
        let images = images_of(&fixture, name);
        let page = assert_list_matches(&*store, &tenant, images, &query()).await;
        let mut sorted = ids(images);
        sorted.sort_unstable();
        assert_eq!(ids(&page.items), sorted, "default order of '{name}'");
        assert_eq!(page.total, None, "total without count");
        assert!(!page.has_more, "has_more on a complete page");
    }
}

/// `top` and `skip` cut the ordered matches; `has_more` is true exactly when matches follow
/// the page (also with `top` 0).
pub async fn list_top_skip_and_has_more<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    let tenant = acme();
    let images = images_of(&fixture, ACME);
    let n = images.len() as u64;
    let filtered = cmp(Field::NumLinks, CmpOp::Ge, int(1));
    for top in [0, 1, 2, 3, 7, 19, 20, 21, 100] {
        for skip in [
            0,
            1,
            2,
            5,
            n - 1,
            n,
            n + 1,
            1000,
            u64::from(u32::MAX),
            i64::MAX as u64,
        ] {
            let q = query().top(top).skip(skip);
            let page = assert_list_matches(&*store, &tenant, images, &q).await;
            let expected_more = n > skip.saturating_add(u64::from(top));
            assert_eq!(page.has_more, expected_more, "top {top} skip {skip}");
            let q = q.filter(filtered.clone()).desc(Field::CreatedOn).count();
            assert_list_matches(&*store, &tenant, images, &q).await;
        }
    }
}

/// With `count` the total counts every match whatever `top` and `skip`; without it there is
/// no total.
pub async fn list_count<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    let tenant = acme();
    let images = images_of(&fixture, ACME);
    let n = images.len() as u64;
    let filters = [
        None,
        Some(any_tag("red")),
        Some(call(StringFunction::EndsWith, Field::Reference, ".jpg")),
        Some(cmp(Field::Id, CmpOp::Eq, int(-5))),
    ];
    for filter in filters {
        for (top, skip) in [(0, 0), (1, 0), (100, 0), (3, 2), (5, 1000)] {
            let mut q = query().top(top).skip(skip).count();
            q.filter = filter.clone();
            let page = assert_list_matches(&*store, &tenant, images, &q).await;
            if filter.is_none() {
                assert_eq!(page.total, Some(n), "count of all images");
            }
            q.count = false;
            let page = assert_list_matches(&*store, &tenant, images, &q).await;
            assert_eq!(page.total, None, "total without count");
        }
    }
    let page = list(&*store, &tenant_id(INITECH), &query().count()).await;
    assert_eq!(page.total, Some(0), "count of a tenant without images");
}

/// A tenant that has no images, or that no fixture names, lists nothing (and counts 0).
pub async fn list_unknown_tenant_is_empty<F: StoreFactory>(factory: F) {
    let (store, _) = standard(&factory).await;
    for name in [INITECH, NOBODY] {
        for q in [query(), query().count(), query().top(0).count()] {
            let page = assert_list_matches(&*store, &tenant_id(name), &[], &q).await;
            assert!(
                page.items.is_empty() && !page.has_more,
                "'{name}' lists nothing"
            );
        }
    }
}

/// `get` returns each image exactly as loaded, every field included (tags in order, URLs,
/// non-ASCII text, extreme numbers); an unknown id is `None`.
pub async fn get_returns_images_field_for_field<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    for data in &fixture.tenants {
        for image in &data.images {
            let found = get(&*store, &data.tenant, image.id).await;
            assert_eq!(
                found.as_ref(),
                Some(image),
                "get {} of '{}'",
                image.id,
                data.tenant
            );
        }
    }
    for missing in [4, 13, 999, 1001, i64::MAX] {
        let id = crate::data::id(missing);
        assert_eq!(get(&*store, &acme(), id).await, None, "id {missing}");
        assert_eq!(get(&*store, &globex(), id).await, None, "id {missing}");
    }
}

/// Walking the pages with `skip` (for several orders, filters and page sizes) visits every
/// match exactly once, in the order of one unpaged list; `total` stays the same and
/// `has_more` is false only on the last page.
pub async fn paging_visits_every_match_once<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    let tenant = acme();
    let images = images_of(&fixture, ACME);
    let orders: Vec<ListQuery> = vec![
        query(),
        query().desc(Field::Id),
        query().asc(Field::Reference),
        query().desc(Field::Status).asc(Field::CreatedOn),
        query().desc(Field::NumLinks),
        query().asc(Field::ModifiedOn),
        query().asc(Field::FileType).desc(Field::Width),
        query().asc(Field::SizeInBytes),
    ];
    let filters = [None, Some(cmp(Field::NumLinks, CmpOp::Lt, int(4)))];
    for order in &orders {
        for filter in &filters {
            let mut whole = order.clone().count();
            whole.filter = filter.clone();
            let all = assert_list_matches(&*store, &tenant, images, &whole).await;
            let total = all.total.unwrap_or_default();
            for page_size in [1, 2, 3, 7, 100] {
                let mut seen = Vec::new();
                let mut skip = 0;
                loop {
                    let q = whole.clone().top(page_size).skip(skip);
                    let page = assert_list_matches(&*store, &tenant, images, &q).await;
                    assert_eq!(page.total, Some(total), "total changed while paging");
                    seen.extend(ids(&page.items));
                    skip += u64::from(page_size);
                    if !page.has_more {
                        break;
                    }
                    assert!(skip <= total, "has_more past the last match");
                }
                let unique: HashSet<_> = seen.iter().collect();
                assert_eq!(unique.len(), seen.len(), "a page repeated an image");
                assert_eq!(seen, ids(&all.items), "pages differ from the unpaged list");
            }
        }
    }
}
