//! `$orderby`: every sortable field both ways, the status and string orders, the id tie-break.

use dam_core::store::{CmpOp, Field, ListQuery, SortKey};

use super::{acme, standard};
use crate::check::{assert_list_matches, ids};
use crate::data::{images_of, tenant_id, ACME, GLOBEX};
use crate::query::{cmp, int, list, ListQueryExt};
use crate::StoreFactory;

fn key(field: Field, descending: bool) -> SortKey {
    SortKey { field, descending }
}

/// Asserts that the page is sorted by `keys` then id ascending (a check independent of the
/// reference).
fn assert_sorted(page: &[dam_core::Image], keys: &[SortKey], query: &ListQuery) {
    for pair in page.windows(2) {
        let ordering = dam_core::store::compare_images(&pair[0], &pair[1], keys);
        assert_eq!(
            ordering,
            std::cmp::Ordering::Less,
            "images {} and {} out of order\nquery: {query:#?}",
            pair[0].id,
            pair[1].id
        );
    }
}

/// Each sortable field, ascending and descending, alone, with a filter and with paging.
pub async fn order_by_each_sortable_field<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    for name in [ACME, GLOBEX] {
        let tenant = tenant_id(name);
        let images = images_of(&fixture, name);
        for field in Field::SORTABLE {
            for descending in [false, true] {
                let mut q = list();
                q.order_by.push(key(field, descending));
                let page = assert_list_matches(&*store, &tenant, images, &q).await;
                assert_sorted(&page.items, &q.order_by, &q);
                let q = q
                    .filter(cmp(Field::NumLinks, CmpOp::Ne, int(7)))
                    .top(5)
                    .skip(3);
                assert_list_matches(&*store, &tenant, images, &q).await;
            }
        }
    }
}

/// `status` sorts by its code as a string: `Er < Ok < Re < Up < Vd`; ties by id ascending,
/// also when descending.
pub async fn order_by_status_code<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    let tenant = acme();
    let images = images_of(&fixture, ACME);
    let ok = [1, 5, 7, 8, 11, 16, 17, 18, 19, 22, 23];
    let asc = [&[6, 15][..], &ok, &[10, 14], &[9, 12], &[2, 3, 21]].concat();
    let desc = [&[2, 3, 21][..], &[9, 12], &[10, 14], &ok, &[6, 15]].concat();
    let page = assert_list_matches(&*store, &tenant, images, &list().asc(Field::Status)).await;
    assert_eq!(ids(&page.items), asc, "status asc");
    let page = assert_list_matches(&*store, &tenant, images, &list().desc(Field::Status)).await;
    assert_eq!(ids(&page.items), desc, "status desc");
}

/// Strings sort by code point (byte-wise UTF-8), not by a locale's collation or case-folded.
pub async fn order_by_strings_by_code_point<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    let tenant = acme();
    let images = images_of(&fixture, ACME);
    let asc = vec![
        19, 23, 2, 3, 7, 5, 16, 18, 11, 6, 22, 15, 8, 1, 14, 12, 9, 17, 10, 21,
    ];
    let page = assert_list_matches(&*store, &tenant, images, &list().asc(Field::Reference)).await;
    assert_eq!(ids(&page.items), asc, "reference asc");
    let page = assert_list_matches(&*store, &tenant, images, &list().desc(Field::Reference)).await;
    let desc: Vec<i64> = asc.into_iter().rev().collect();
    assert_eq!(ids(&page.items), desc, "reference desc");
    // fileType ties resolve by id: gif, jpeg, jpg…, png…, svg, tif, webp…
    let page = assert_list_matches(&*store, &tenant, images, &list().asc(Field::FileType)).await;
    assert_eq!(
        ids(&page.items),
        vec![6, 23, 1, 5, 14, 15, 16, 17, 18, 19, 21, 2, 3, 7, 8, 22, 12, 11, 9, 10],
        "fileType asc"
    );
}

/// Two keys in every direction for every pair of sortable fields, then the id tie-break
/// (ascending even when the keys descend).
pub async fn order_by_two_keys_and_id_tie_break<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    let tenant = acme();
    let images = images_of(&fixture, ACME);
    for first in Field::SORTABLE {
        for second in Field::SORTABLE {
            if first == second {
                continue;
            }
            for (d1, d2) in [(false, false), (false, true), (true, false), (true, true)] {
                let mut q = list();
                q.order_by = vec![key(first, d1), key(second, d2)];
                let page = assert_list_matches(&*store, &tenant, images, &q).await;
                assert_sorted(&page.items, &q.order_by, &q);
            }
        }
    }
    // numLinks desc: 7,7 | 4 | 3,3,3 | 2 | 1,1,1 | 0… with ids ascending inside each tie
    let page = assert_list_matches(&*store, &tenant, images, &list().desc(Field::NumLinks)).await;
    assert_eq!(
        ids(&page.items)[..11],
        [12, 14, 17, 1, 7, 8, 11, 5, 18, 19, 2],
        "numLinks desc"
    );
    let q = list().desc(Field::ModifiedOn).desc(Field::CreatedOn);
    let page = assert_list_matches(&*store, &tenant, images, &q).await;
    assert_eq!(ids(&page.items)[..4], [17, 21, 22, 23], "modifiedOn desc");
}
