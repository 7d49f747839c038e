//! `delete`, `insert` and `set_status`.

use dam_core::store::{CmpOp, Field, ImageStore, StoreError};
use dam_core::{Image, ImageId, ImageStatus, TenantId, Timestamp};

use super::{acme, globex, standard};
use crate::check::{assert_list_matches, get, ids};
use crate::data::{id, image, images_of, tenant_id, ts, ACME, MAX_FIXTURE_ID, NOBODY};
use crate::query::{cmp, datetime, list, status, ListQueryExt};
use crate::StoreFactory;

async fn insert<S: ImageStore + ?Sized>(store: &S, tenant: &TenantId, image: Image) -> Image {
    match store.insert(tenant, image.clone()).await {
        Ok(stored) => stored,
        Err(e) => panic!(
            "insert of '{}' for '{tenant}' failed: {e:?}",
            image.reference.as_str()
        ),
    }
}

async fn set_status<S: ImageStore + ?Sized>(
    store: &S,
    tenant: &TenantId,
    image: ImageId,
    to: ImageStatus,
    at: Timestamp,
) -> Image {
    match store.set_status(tenant, image, to, at).await {
        Ok(changed) => changed,
        Err(e) => panic!("set_status of {image} for '{tenant}' to {to} failed: {e:?}"),
    }
}

/// `Ok`, `Vd` and `Er` images are deleted (gone from `get` and `list`, a second delete is
/// `NotFound`); `Up` and `Re` images answer `BeingProcessed` and are kept unchanged.
pub async fn delete_by_status<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    let tenant = acme();
    let mut remaining: Vec<Image> = images_of(&fixture, ACME).to_vec();
    for image in images_of(&fixture, ACME) {
        let outcome = store.delete(&tenant, image.id).await;
        if image.status.is_processing() {
            assert!(
                matches!(outcome, Err(StoreError::BeingProcessed)),
                "delete of {} ({}): {outcome:?}",
                image.id,
                image.status
            );
            assert_eq!(get(&*store, &tenant, image.id).await.as_ref(), Some(image));
        } else {
            assert!(
                outcome.is_ok(),
                "delete of {} ({}): {outcome:?}",
                image.id,
                image.status
            );
            assert_eq!(
                get(&*store, &tenant, image.id).await,
                None,
                "{} kept",
                image.id
            );
            let again = store.delete(&tenant, image.id).await;
            assert!(
                matches!(again, Err(StoreError::NotFound)),
                "second delete of {}: {again:?}",
                image.id
            );
            remaining.retain(|im| im.id != image.id);
        }
        assert_list_matches(&*store, &tenant, &remaining, &list().count()).await;
    }
    let left: Vec<i64> = ids(&remaining);
    assert_eq!(
        left,
        vec![9, 10, 12, 14],
        "only the processing images remain"
    );
    let globex_images = images_of(&fixture, crate::data::GLOBEX);
    assert_list_matches(&*store, &globex(), globex_images, &list().count()).await;
}

/// Deleting an id that never existed, or was deleted, is `NotFound`.
pub async fn delete_missing_and_deleted<F: StoreFactory>(factory: F) {
    let (store, _) = standard(&factory).await;
    let tenant = acme();
    for missing in [4, 13, 20, 999, 1001, i64::MAX] {
        let outcome = store.delete(&tenant, id(missing)).await;
        assert!(
            matches!(outcome, Err(StoreError::NotFound)),
            "{missing}: {outcome:?}"
        );
    }
    let outcome = store.delete(&tenant_id(NOBODY), id(1)).await;
    assert!(
        matches!(outcome, Err(StoreError::NotFound)),
        "unknown tenant: {outcome:?}"
    );
    assert!(store.delete(&tenant, id(1)).await.is_ok());
    let outcome = store.delete(&tenant, id(1)).await;
    assert!(
        matches!(outcome, Err(StoreError::NotFound)),
        "deleted: {outcome:?}"
    );
}

/// `insert` assigns an id greater than every id the store ever held — fixture ids, deleted
/// ids, earlier inserts — ignores the id it is given, and stores the rest as given.
pub async fn insert_assigns_fresh_ids<F: StoreFactory>(factory: F) {
    // An empty store hands out valid ids too.
    let empty = factory.create().await;
    let first = insert(&*empty, &acme(), image(77, "first.jpg").build()).await;
    let second = insert(&*empty, &acme(), image(1, "second.jpg").build()).await;
    assert!(
        second.id > first.id,
        "ids grow: {} then {}",
        first.id,
        second.id
    );

    let (store, _) = standard(&factory).await;
    let tenant = acme();
    // Delete the largest fixture id first: it must not be handed out again.
    let outcome = store.delete(&globex(), id(MAX_FIXTURE_ID)).await;
    assert!(outcome.is_ok(), "delete of {MAX_FIXTURE_ID}: {outcome:?}");
    let new = image(1, "new image ü'%_\\.png")
        .file_type("png")
        .status(ImageStatus::Void)
        .num_links(2)
        .created("2024-08-01T10:00:00")
        .modified("2024-08-02T10:00:00")
        .tags(&["b", "a", "b", ""])
        .original_url(Some("https://cdn.example/new"))
        .size(3, 4)
        .bytes(5)
        .build();
    let mut last = MAX_FIXTURE_ID;
    for round in 0..3 {
        let mut given = new.clone();
        given.reference = dam_core::Reference::new(format!("{round}-{}", new.reference.as_str()))
            .unwrap_or_else(|e| panic!("{e}"));
        let stored = insert(&*store, &tenant, given.clone()).await;
        assert!(stored.id.get() > last, "id {} not above {last}", stored.id);
        last = stored.id.get();
        let mut expected = given;
        expected.id = stored.id;
        assert_eq!(stored, expected, "insert returns the stored image");
        assert_eq!(get(&*store, &tenant, stored.id).await, Some(expected));
        // Deleting the newest image must not free its id either.
        if round == 1 {
            assert!(store.delete(&tenant, stored.id).await.is_ok());
        }
    }
    let other = insert(&*store, &globex(), image(5, "globex-new.jpg").build()).await;
    assert!(other.id.get() > last, "ids are unique across tenants");
}

/// A reference already held in the tenant is a `Conflict` (nothing stored); the same
/// reference in another tenant, in another case, or after the holder was deleted is fine.
pub async fn insert_refuses_duplicate_reference<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    let tenant = acme();
    for taken in [
        "logo.png",
        "Logo.PNG",
        "O'Brien.jpg",
        "Ünïcödé-ß.webp",
        "zebra.svg",
    ] {
        let outcome = store.insert(&tenant, image(1, taken).build()).await;
        assert!(
            matches!(outcome, Err(StoreError::Conflict(_))),
            "duplicate '{taken}': {outcome:?}"
        );
    }
    assert_list_matches(&*store, &tenant, images_of(&fixture, ACME), &list().count()).await;
    insert(&*store, &globex(), image(1, "logo.png").build()).await;
    insert(&*store, &tenant, image(1, "LOGO.png").build()).await;
    insert(&*store, &tenant, image(1, "ünïcödé-ß.webp").build()).await;
    assert!(store.delete(&tenant, id(5)).await.is_ok());
    insert(&*store, &tenant, image(1, "O'Brien.jpg").build()).await;
    let outcome = store.insert(&tenant, image(1, "LOGO.png").build()).await;
    assert!(
        matches!(outcome, Err(StoreError::Conflict(_))),
        "an inserted reference is held too: {outcome:?}"
    );
}

/// `set_status` sets the status and `modifiedOn` (to the time given), changes nothing else,
/// returns the changed image, and `list` filters and sorts by the new values. Locking
/// (`Up`/`Re`) and unlocking decide what `delete` does.
pub async fn set_status_sets_status_and_modified_on<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    let tenant = acme();
    let mut images: Vec<Image> = images_of(&fixture, ACME).to_vec();
    let mut second = 0;
    for target in [1, 2, 6, 9, 10] {
        for to in ImageStatus::ALL {
            second += 1;
            let at = ts(&format!("2030-01-01T00:00:{second:02}"));
            let changed = set_status(&*store, &tenant, id(target), to, at).await;
            let Some(slot) = images.iter_mut().find(|im| im.id.get() == target) else {
                panic!("image {target} missing from the fixture");
            };
            slot.status = to;
            slot.modified_on = at;
            assert_eq!(&changed, slot, "set_status returns the changed image");
            assert_eq!(
                get(&*store, &tenant, id(target)).await.as_ref(),
                Some(&*slot)
            );
        }
    }
    let filters = [
        cmp(Field::Status, CmpOp::Eq, status(ImageStatus::Void)),
        cmp(
            Field::ModifiedOn,
            CmpOp::Ge,
            datetime("2030-01-01T00:00:10", 0),
        ),
    ];
    for filter in filters {
        let q = list().filter(filter).desc(Field::ModifiedOn).count();
        assert_list_matches(&*store, &tenant, &images, &q).await;
    }
    let q = list().asc(Field::Status).asc(Field::ModifiedOn);
    assert_list_matches(&*store, &tenant, &images, &q).await;

    let at = ts("2031-01-01T00:00:00");
    for (to, deletable) in [
        (ImageStatus::Updating, false),
        (ImageStatus::Reprocessing, false),
        (ImageStatus::Ready, true),
    ] {
        set_status(&*store, &tenant, id(7), to, at).await;
        let outcome = store.delete(&tenant, id(7)).await;
        if deletable {
            assert!(outcome.is_ok(), "delete after unlocking: {outcome:?}");
        } else {
            assert!(
                matches!(outcome, Err(StoreError::BeingProcessed)),
                "delete while {to}: {outcome:?}"
            );
        }
    }
}

/// `set_status` of another tenant's image, of a missing or a deleted image is `NotFound`.
pub async fn set_status_is_tenant_scoped<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    let at = ts("2030-01-01T00:00:00");
    for (tenant, target) in [
        (acme(), 100),
        (globex(), 1),
        (tenant_id(NOBODY), 1),
        (acme(), 4),
    ] {
        let outcome = store
            .set_status(&tenant, id(target), ImageStatus::Updating, at)
            .await;
        assert!(
            matches!(outcome, Err(StoreError::NotFound)),
            "'{tenant}' on {target}: {outcome:?}"
        );
    }
    assert!(store.delete(&acme(), id(1)).await.is_ok());
    let outcome = store
        .set_status(&acme(), id(1), ImageStatus::Ready, at)
        .await;
    assert!(
        matches!(outcome, Err(StoreError::NotFound)),
        "deleted: {outcome:?}"
    );
    let globex_images = images_of(&fixture, crate::data::GLOBEX);
    assert_list_matches(&*store, &globex(), globex_images, &list().count()).await;
}
