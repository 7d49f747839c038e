//! Assertions that compare what a store answers with the reference semantics of
//! `dam_core::query` ([`select`]). Each panics with a message naming the tenant and the query.

use dam_core::query::MAX_TOP;

use dam_core::store::{ImagePage, ImageStore, ListQuery};

use dam_core::testing::select;
use dam_core::{Image, ImageId, TenantId};

/// Lists with `query` and panics on a backend error.
pub async fn list<S: ImageStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    query: &ListQuery,
) -> ImagePage {
    match store.list(tenant, query).await {
        Ok(page) => page,
        Err(e) => panic!("list for tenant '{tenant}' failed: {e:?}\nquery: {query:#?}"),
    }
}

/// The ids of some images, in order.
pub fn ids(images: &[Image]) -> Vec<i64> {
    images.iter().map(|im| im.id.get()).collect()
}

/// The page [`select`] gives for `images`, with the `total` and `has_more` a store must
/// report.
pub fn reference_page(images: &[Image], query: &ListQuery) -> ImagePage {
    dam_core::testing::reference_page(images, query)
}

/// Asserts that `store` lists for `tenant` exactly what [`select`] gives over `images` (the
/// tenant's images as they should be): the same images, field for field, in the same order,
/// the same `total` (with `count`) and the same `has_more`. Returns the page.
///
/// On a difference the message names the query and, from one unpaged list, the images the
/// store selects wrongly or misses.
pub async fn assert_list_matches<S: ImageStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    images: &[Image],
    query: &ListQuery,
) -> ImagePage {
    let page = list(store, tenant, query).await;
    let expected = reference_page(images, query);
    if page != expected {
        let diagnosis = diagnose(store, tenant, images, query).await;
        let what = if ids(&page.items) != ids(&expected.items) {
            format!(
                "ids or order differ\n  store:     {:?}\n  reference: {:?}",
                ids(&page.items),
                ids(&expected.items)
            )
        } else if page.items != expected.items {
            format!(
                "image fields differ\n  store:     {:#?}\n  reference: {:#?}",
                page.items, expected.items
            )
        } else {
            format!(
                "total or has_more differ\n  store:     {:?} {}\n  reference: {:?} {}",
                page.total, page.has_more, expected.total, expected.has_more
            )
        };
        panic!("{what}\nfrom the reference for tenant '{tenant}'\n{diagnosis}query: {query:#?}");
    }
    page
}

/// The images a store selects wrongly or misses for a query's filter, from one unpaged list.
async fn diagnose<S: ImageStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    images: &[Image],
    query: &ListQuery,
) -> String {
    let all = ListQuery {
        top: MAX_TOP,
        skip: 0,
        count: true,
        ..query.clone()
    };
    let Ok(unpaged) = store.list(tenant, &all).await else {
        return String::new();
    };
    if unpaged.has_more {
        return String::new();
    }
    let (matching, _) = select(images, &all);
    let listed = ids(&unpaged.items);
    let wrongly: Vec<&Image> = images
        .iter()
        .filter(|im| listed.contains(&im.id.get()) && !matching.contains(im))
        .collect();
    let missing: Vec<&Image> = matching
        .iter()
        .filter(|im| !listed.contains(&im.id.get()))
        .collect();
    format!(
        "selected by the store, not by the reference: {wrongly:#?}\n\
         selected by the reference, not by the store: {missing:#?}\n"
    )
}

/// Asserts that a filtered list selects exactly `expected` ids (in id order), a fixed answer
/// that guards the reference itself as well as the store.
pub async fn assert_selects<S: ImageStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    images: &[Image],
    query: &ListQuery,
    expected: &[i64],
) {
    let page = assert_list_matches(store, tenant, images, query).await;
    assert_eq!(
        ids(&page.items),
        expected,
        "unexpected selection for tenant '{tenant}'\nquery: {query:#?}"
    );
}

/// Gets an image and panics on a backend error.
pub async fn get<S: ImageStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    id: ImageId,
) -> Option<Image> {
    match store.get(tenant, id).await {
        Ok(found) => found,
        Err(e) => panic!("get {id} for tenant '{tenant}' failed: {e:?}"),
    }
}
