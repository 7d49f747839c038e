//! Tenant scoping, key look-up, fixture loading and `is_empty`.

use dam_core::store::{CmpOp, Field, ImageStore, KeyStore, SeedStore, StoreError, StringFunction};
use dam_core::{ImageStatus, KeyDigest, TenantData};

use super::{acme, globex, load, standard};
use crate::check::{assert_list_matches, get, ids, list};
use crate::data::{
    fixture, image, images_of, standard_fixture, tenant, tenant_id, ts, ACME, GLOBEX, INITECH,
    KEYS, NOBODY,
};
use crate::query::{call, cmp, int, list as query, ListQueryExt};
use crate::StoreFactory;

/// Another tenant's images are never listed, counted or read: a filter that matches only
/// `globex` values selects nothing for `acme`, `get` of a `globex` id for `acme` is `None`.
pub async fn tenant_isolation_reads<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    let acme_images = images_of(&fixture, ACME);
    let globex_only = [
        cmp(Field::NumLinks, CmpOp::Eq, int(999)),
        cmp(Field::FileType, CmpOp::Eq, crate::query::string("bmp")),
        crate::query::any_tag("globex-only"),
        call(StringFunction::Contains, Field::Reference, "globex"),
        cmp(Field::Id, CmpOp::Ge, int(100)),
    ];
    for filter in globex_only {
        let q = query().filter(filter).count();
        let page = assert_list_matches(&*store, &acme(), acme_images, &q).await;
        assert_eq!(page.total, Some(0), "acme counts a globex image");
        for name in [INITECH, NOBODY] {
            let page = list(&*store, &tenant_id(name), &q).await;
            assert!(page.items.is_empty(), "'{name}' sees images");
            assert_eq!(page.total, Some(0), "'{name}' counts images");
        }
    }
    for image in images_of(&fixture, GLOBEX) {
        assert_eq!(
            get(&*store, &acme(), image.id).await,
            None,
            "acme reads {}",
            image.id
        );
        assert_eq!(get(&*store, &tenant_id(NOBODY), image.id).await, None);
    }
    for image in acme_images {
        assert_eq!(
            get(&*store, &globex(), image.id).await,
            None,
            "globex reads {}",
            image.id
        );
    }
    // Same reference in two tenants: each sees its own.
    let q = query().filter(cmp(
        Field::Reference,
        CmpOp::Eq,
        crate::query::string("product-main-front.jpg"),
    ));
    assert_eq!(ids(&list(&*store, &acme(), &q).await.items), vec![1]);
    assert_eq!(ids(&list(&*store, &globex(), &q).await.items), vec![100]);
}

/// `delete` and `set_status` on another tenant's image answer `NotFound` and change nothing.
pub async fn tenant_isolation_writes<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    let at = ts("2030-01-01T00:00:00");
    for (owner, other) in [(globex(), acme()), (acme(), globex())] {
        for image in images_of(&fixture, owner.as_str()) {
            for intruder in [other.clone(), tenant_id(INITECH), tenant_id(NOBODY)] {
                let deleted = store.delete(&intruder, image.id).await;
                assert!(
                    matches!(deleted, Err(StoreError::NotFound)),
                    "'{intruder}' deleting {}: {deleted:?}",
                    image.id
                );
                let changed = store
                    .set_status(&intruder, image.id, ImageStatus::Updating, at)
                    .await;
                assert!(
                    matches!(changed, Err(StoreError::NotFound)),
                    "'{intruder}' setting status of {}: {changed:?}",
                    image.id
                );
            }
            assert_eq!(get(&*store, &owner, image.id).await.as_ref(), Some(image));
        }
    }
    for name in [ACME, GLOBEX] {
        let images = images_of(&fixture, name);
        assert_list_matches(&*store, &tenant_id(name), images, &query().count()).await;
    }
}

/// Each key digest finds its tenant (also a tenant without images); an unknown digest finds
/// none.
pub async fn key_lookup<F: StoreFactory>(factory: F) {
    let (store, _) = standard(&factory).await;
    for (owner, key) in KEYS {
        let found = store.tenant_for_key(&KeyDigest::of(key)).await;
        match found {
            Ok(found) => assert_eq!(found, Some(tenant_id(owner)), "key of '{owner}'"),
            Err(e) => panic!("tenant_for_key failed: {e:?}"),
        }
    }
    for unknown in ["nobody-key", "ACME-KEY-1", "acme-key-1 ", "acme", ""] {
        let found = store.tenant_for_key(&KeyDigest::of(unknown)).await;
        assert!(matches!(found, Ok(None)), "{unknown:?}: {found:?}");
    }
}

/// A loaded fixture reads back exactly: every image by `get` and by `list`.
pub async fn fixture_load_round_trips<F: StoreFactory>(factory: F) {
    let (store, fixture) = standard(&factory).await;
    for data in &fixture.tenants {
        let page = list(&*store, &data.tenant, &query()).await;
        let mut expected = data.images.clone();
        expected.sort_by_key(|im| im.id);
        assert_eq!(page.items, expected, "images of '{}'", data.tenant);
    }
    // A second, disjoint fixture adds to what is there.
    let more = fixture_more();
    load(&*store, &more).await;
    let page = list(&*store, &tenant_id("newco"), &query()).await;
    assert_eq!(page.items, more.tenants[0].images, "images of 'newco'");
    let found = store.tenant_for_key(&KeyDigest::of("newco-key")).await;
    assert!(matches!(found, Ok(Some(t)) if t.as_str() == "newco"));
}

fn fixture_more() -> dam_core::Fixture {
    fixture([tenant(
        "newco",
        &["newco-key"],
        [
            image(5000, "new.jpg").build(),
            // a reference another tenant holds is no clash
            image(5001, "logo.png").build(),
        ],
    )])
}

/// A fixture that clashes with what the store holds — an id held (by any tenant), a reference
/// held in the same tenant, a key held — is refused with `Conflict`, and nothing of it is
/// loaded, however late in the fixture the clash comes.
pub async fn fixture_clash_is_refused_atomically<F: StoreFactory>(factory: F) {
    let (store, standard) = standard(&factory).await;
    let newco = |images: Vec<dam_core::Image>, keys: &[&str]| -> TenantData {
        let mut images_with_fresh = vec![
            image(5000, "new.jpg").build(),
            image(5001, "logo.png").build(),
        ];
        images_with_fresh.extend(images);
        tenant("newco", keys, images_with_fresh)
    };
    let clashes = [
        (
            "an id held by another tenant",
            fixture([newco(vec![image(1, "other.jpg").build()], &["newco-key"])]),
        ),
        (
            "an id held by a tenant without that reference",
            fixture([
                newco(vec![], &["newco-key"]),
                tenant(GLOBEX, &[], [image(23, "fresh.jpg").build()]),
            ]),
        ),
        (
            "a reference held in the tenant",
            fixture([
                newco(vec![], &["newco-key"]),
                tenant(ACME, &[], [image(5002, "O'Brien.jpg").build()]),
            ]),
        ),
        (
            "a key held by another tenant",
            fixture([newco(vec![], &["newco-key", "acme-key-2"])]),
        ),
        (
            "a key held by the same tenant",
            fixture([
                newco(vec![], &["newco-key"]),
                tenant(INITECH, &["initech-key"], []),
            ]),
        ),
    ];
    for (what, clash) in clashes {
        let loaded = store.load_fixture(&clash).await;
        match loaded {
            Err(StoreError::Conflict(message)) => {
                assert!(!message.is_empty(), "{what}: empty conflict message");
                assert!(!message.contains("acme-key"), "{what}: message holds a key");
            }
            other => panic!("{what}: expected Conflict, got {other:?}"),
        }
        for id in [5000, 5001, 5002] {
            let id = crate::data::id(id);
            assert_eq!(get(&*store, &tenant_id("newco"), id).await, None, "{what}");
            assert_eq!(get(&*store, &acme(), id).await, None, "{what}");
        }
        let page = list(&*store, &tenant_id("newco"), &query().count()).await;
        assert_eq!(page.total, Some(0), "{what}: newco got images");
        let found = store.tenant_for_key(&KeyDigest::of("newco-key")).await;
        assert!(matches!(found, Ok(None)), "{what}: newco's key was loaded");
        for name in [ACME, GLOBEX] {
            let images = images_of(&standard, name);
            assert_list_matches(&*store, &tenant_id(name), images, &query().count()).await;
        }
        let found = store.tenant_for_key(&KeyDigest::of("acme-key-2")).await;
        assert!(matches!(found, Ok(Some(t)) if t.as_str() == ACME), "{what}");
    }
    // The refusals left nothing behind that blocks a clean load.
    load(&*store, &fixture_more()).await;
}

/// `is_empty` is true exactly while the store holds no image: before loading, after loading
/// only keys, false with images, true again once every image is deleted.
pub async fn is_empty_tracks_images<F: StoreFactory>(factory: F) {
    let store = factory.create().await;
    assert!(empty(&*store).await, "a new store is empty");
    load(&*store, &fixture([tenant(INITECH, &["initech-key"], [])])).await;
    assert!(empty(&*store).await, "a store with keys only is empty");
    let mut fixture = standard_fixture();
    fixture.tenants.retain(|t| t.tenant.as_str() != INITECH);
    load(&*store, &fixture).await;
    assert!(!empty(&*store).await, "a store with images is not empty");
    let at = ts("2030-01-01T00:00:00");
    for data in &fixture.tenants {
        for image in &data.images {
            if image.status.is_processing() {
                let unlocked = store
                    .set_status(&data.tenant, image.id, ImageStatus::Ready, at)
                    .await;
                assert!(unlocked.is_ok(), "set_status: {unlocked:?}");
            }
            let deleted = store.delete(&data.tenant, image.id).await;
            assert!(deleted.is_ok(), "delete {}: {deleted:?}", image.id);
        }
        let last = data.tenant == fixture.tenants[fixture.tenants.len() - 1].tenant;
        assert_eq!(
            empty(&*store).await,
            last,
            "after deleting the images of '{}'",
            data.tenant
        );
    }
    assert!(
        empty(&*store).await,
        "a store whose images were all deleted is empty"
    );
}

async fn empty<S: SeedStore + ?Sized>(store: &S) -> bool {
    match store.is_empty().await {
        Ok(empty) => empty,
        Err(e) => panic!("is_empty failed: {e:?}"),
    }
}
