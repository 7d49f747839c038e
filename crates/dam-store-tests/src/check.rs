//! Assertions that compare what a store answers with the reference semantics of
//! `dam_core::query` ([`select`]). Each panics with a message naming the tenant and the query.

use dam_core::query::{select, ListQuery};
use dam_core::{Image, ImageId, ImagePage, ImageStore, TenantId};

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
    let (items, total) = select(images, query);
    let has_more = total > query.skip.saturating_add(items.len() as u64);
    ImagePage {
        items,
        total: query.count.then_some(total),
        has_more,
    }
}

/// Asserts that `store` lists for `tenant` exactly what [`select`] gives over `images` (the
/// tenant's images as they should be): the same images, field for field, in the same order,
/// the same `total` (with `count`) and the same `has_more`. Returns the page.
pub async fn assert_list_matches<S: ImageStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    images: &[Image],
    query: &ListQuery,
) -> ImagePage {
    let page = list(store, tenant, query).await;
    let expected = reference_page(images, query);
    assert_eq!(
        ids(&page.items),
        ids(&expected.items),
        "ids or order differ from the reference for tenant '{tenant}'\nquery: {query:#?}"
    );
    assert_eq!(
        page.items, expected.items,
        "image fields differ from the reference for tenant '{tenant}'\nquery: {query:#?}"
    );
    assert_eq!(
        page.total, expected.total,
        "total differs from the reference for tenant '{tenant}'\nquery: {query:#?}"
    );
    assert_eq!(
        page.has_more, expected.has_more,
        "has_more differs from the reference for tenant '{tenant}'\nquery: {query:#?}"
    );
    page
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
