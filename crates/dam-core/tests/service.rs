//! The service facade against the contract's §2 (authentication, order of checks), §3 (list),
//! §4 (delete) and §6 (problem details), over the in-memory store and over mocks that fail.

use std::sync::Arc;

use dam_core::store::{ImageStore, MockImageStore, MockKeyStore, SeedStore, StoreError};
use dam_core::{
    Fixture, ImageId, ImageService, ImageStatus, ProblemDetails, ServiceConfig, TenantId,
    DEFAULT_PROBLEM_TYPE_BASE,
};
use dam_store_memory::MemoryStore;
use dam_store_tests::wrap::{Faulty, Operation};

const ACME: &[u8] = b"acme-key-1";
const GLOBEX: &[u8] = b"globex-key-1";

/// acme: ids 1..=30 (statuses cycle Vd Up Ok Re Er; numLinks = id % 4);
/// globex: ids 101..=105.
fn fixture_json() -> String {
    let statuses = ["Vd", "Up", "Ok", "Re", "Er"];
    let acme: Vec<String> = (1..=30)
        .map(|id| {
            format!(
                r#"{{"id": {id}, "reference": "a{id}.jpg", "fileType": "jpg", "status": "{}",
                "numLinks": {}, "createdOn": "2024-01-01T00:00:{:02}"}}"#,
                statuses[(id as usize - 1) % 5],
                id % 4,
                id % 60
            )
        })
        .collect();
    let globex: Vec<String> = (101..=105)
        .map(|id| {
            format!(
                r#"{{"id": {id}, "reference": "g{id}.png", "fileType": "png", "status": "Ok",
                "createdOn": "2024-01-01T00:00:00"}}"#
            )
        })
        .collect();
    format!(
        r#"{{"tenants": [
            {{"name": "acme", "apiKeys": ["acme-key-1", "{long}"], "images": [{}]}},
            {{"name": "globex", "apiKeys": ["globex-key-1"], "images": [{}]}}
        ]}}"#,
        acme.join(","),
        globex.join(","),
        long = "k".repeat(256)
    )
}

async fn service() -> (ImageService, Arc<MemoryStore>) {
    let store = Arc::new(MemoryStore::new());
    let fixture = Fixture::from_json(&fixture_json()).expect("fixture");
    store.load_fixture(&fixture).await.expect("load");
    (ImageService::new(store.clone(), store.clone()), store)
}

fn assert_problem(p: &ProblemDetails, status: u16, slug: &str, title: &str, instance: &str) {
    assert_eq!(p.status, status, "{p:?}");
    assert_eq!(
        p.problem_type,
        format!("{DEFAULT_PROBLEM_TYPE_BASE}/{slug}"),
        "{p:?}"
    );
    assert_eq!(p.title, title);
    assert_eq!(p.instance, instance);
    assert!(!p.detail.trim().is_empty());
}

/// The problem `call` fails with, asserted to be the §6 problem of `status` at `instance`.
async fn refused<T: std::fmt::Debug>(
    call: impl std::future::Future<Output = Result<T, ProblemDetails>>,
    status: u16,
    instance: &str,
) -> ProblemDetails {
    let p = call.await.unwrap_err();
    let (slug, title) = match status {
        400 => ("validation", "Bad Request"),
        401 => ("unauthorized", "Unauthorized"),
        404 => ("not-found", "Not Found"),
        409 => ("conflict", "Conflict"),
        500 => ("internal", "Internal Server Error"),
        _ => panic!("no problem of status {status} in §6"),
    };
    assert_problem(&p, status, slug, title, instance);
    p
}

/// acme's page for `query` on `/image`.
async fn acme_page(svc: &ImageService, query: &str) -> dam_core::ListResponse {
    svc.list_images(Some(ACME), Some(query), "/image")
        .await
        .unwrap()
}

/// Whether `store` holds image `id` of `tenant`.
async fn holds(store: &MemoryStore, tenant: &TenantId, id: i64) -> bool {
    let id = ImageId::new(id).unwrap();
    store.get(tenant, id).await.unwrap().is_some()
}

fn ids(items: &[dam_core::Image]) -> Vec<i64> {
    items.iter().map(|i| i.id.get()).collect()
}

// ---- §2 authentication -------------------------------------------------------------------

#[tokio::test]
async fn missing_empty_blank_and_unknown_keys_are_401() {
    let (svc, _) = service().await;
    for key in [
        None,
        Some(&b""[..]),
        Some(b"   "),
        Some(b"\t"),
        Some(b"no-such-key"),
    ] {
        refused(svc.list_images(key, None, "/image"), 401, "/image").await;
        refused(svc.delete_image(key, "1", "/image/1"), 401, "/image/1").await;
    }
    // a prefix or a case change of a valid key is just an unknown key
    for key in [&b"acme-key-"[..], b"ACME-KEY-1", b"acme-key-1x"] {
        refused(svc.list_images(Some(key), None, "/image"), 401, "/image").await;
    }
}

#[tokio::test]
async fn malformed_keys_are_400_and_never_echoed() {
    let (svc, _) = service().await;
    let long = "k".repeat(257);
    for key in [long.as_bytes(), b"acme key", b"acme\tkey", "clé".as_bytes()] {
        let p = refused(svc.list_images(Some(key), None, "/image"), 400, "/image").await;
        assert!(p.detail.contains("X-API-KEY"), "{}", p.detail);
        assert_eq!(p.errors.as_ref().unwrap()[0].parameter, "X-API-KEY");
        let body = serde_json::to_string(&p).unwrap();
        assert!(!body.contains("acme key") && !body.contains(&long));
    }
}

#[tokio::test]
async fn a_key_of_256_characters_is_valid() {
    let (svc, _) = service().await;
    let key = "k".repeat(256);
    let page = svc
        .list_images(Some(key.as_bytes()), Some("$top=1"), "/image")
        .await
        .unwrap();
    assert_eq!(ids(&page.items), vec![1]);
}

#[tokio::test]
async fn authentication_is_checked_before_the_request_values() {
    let (svc, _) = service().await;
    let long = "k".repeat(300);
    for (key, query, status) in [
        (None, "$filter=(numLinks%20eq", 401),
        (Some(&b"unknown"[..]), "$top=abc&$select=id", 401),
        (Some(long.as_bytes()), "$select=id", 400),
    ] {
        let p = refused(
            svc.list_images(key, Some(query), "/image"),
            status,
            "/image",
        )
        .await;
        if status == 400 {
            assert_eq!(p.errors.unwrap()[0].parameter, "X-API-KEY");
        }
    }
    // then the id (400) before existence (404)
    for (key, raw, status) in [
        (None, "abc", 401),
        (Some(&b"unknown"[..]), "999999", 401),
        (Some(ACME), "0999999", 400),
    ] {
        let instance = format!("/image/{raw}");
        refused(svc.delete_image(key, raw, &instance), status, &instance).await;
    }
}

// ---- §3 list -----------------------------------------------------------------------------

#[tokio::test]
async fn default_list_is_the_tenants_images_by_id_without_count_or_link() {
    let (svc, _) = service().await;
    let page = svc.list_images(Some(GLOBEX), None, "/image").await.unwrap();
    assert_eq!(ids(&page.items), vec![101, 102, 103, 104, 105]);
    assert_eq!(page.count, None);
    assert_eq!(page.next_link, None);
    let json = serde_json::to_value(&page).unwrap();
    assert!(json.get("@count").is_none() && json.get("@nextLink").is_none());
    assert!(json["items"].is_array());
}

#[tokio::test]
async fn count_is_the_total_and_next_link_pages_visit_every_match_once() {
    let (svc, _) = service().await;
    let mut seen = Vec::new();
    let mut query = "$top=7&$count=true".to_string();
    let mut pages = 0;
    loop {
        pages += 1;
        let page = acme_page(&svc, &query).await;
        assert_eq!(page.count, Some(30));
        assert!(page.items.len() <= 7);
        seen.extend(ids(&page.items));
        match page.next_link {
            Some(link) => {
                let rest = link.strip_prefix("/image?").expect("relative link");
                assert!(rest.starts_with("$count=true&$top=7&$skiptoken="), "{rest}");
                assert!(!rest.contains("$skip="), "{rest}");
                query = rest.to_string();
            }
            None => break,
        }
    }
    assert_eq!(pages, 5);
    assert_eq!(seen, (1..=30).collect::<Vec<_>>());
}

#[tokio::test]
async fn after_a_skiptoken_count_is_still_every_match_and_deletes_neither_repeat_nor_drop() {
    let (svc, store) = service().await;
    let acme = TenantId::new("acme").unwrap();
    let first = acme_page(
        &svc,
        "$filter=numLinks%20ne%200&$orderby=numLinks%20desc&$top=4&$skip=1&$count=true",
    )
    .await;
    // numLinks 3: 3 7 11 15 19 23 27; 2: 2 6 …; 1: 1 5 …  (23 matches; $skip passes 3)
    assert_eq!(ids(&first.items), vec![7, 11, 15, 19]);
    assert_eq!(first.count, Some(23));
    let link = first.next_link.unwrap();
    assert!(
        link.starts_with("/image?$filter=numLinks%20ne%200&$orderby=numLinks%20desc&$count=true&$top=4&$skiptoken="),
        "{link}"
    );
    // The last image shown and the next one go; a new service (a restart, another process)
    // follows the link.
    for id in [19, 23] {
        let id = ImageId::new(id).unwrap();
        svc.set_status(&acme, id, ImageStatus::Ready).await.unwrap();
        store.delete(&acme, id).await.unwrap();
    }
    let restarted = ImageService::new(store.clone(), store.clone());
    let next = restarted
        .list_images(Some(ACME), link.strip_prefix("/image?"), "/image")
        .await
        .unwrap();
    assert_eq!(ids(&next.items), vec![27, 2, 6, 10]);
    assert_eq!(
        next.count,
        Some(21),
        "every match of $filter, not only those after the token"
    );
    // Another tenant's token positions within the caller's own matches.
    let token = link.split_once("$skiptoken=").unwrap().1;
    let globex = svc
        .list_images(
            Some(GLOBEX),
            Some(&format!(
                "$filter=numLinks%20ne%200&$orderby=numLinks%20desc&$top=4&$skiptoken={token}"
            )),
            "/image",
        )
        .await
        .unwrap();
    assert!(
        globex.items.is_empty(),
        "globex's images all have numLinks 0"
    );
    let globex = svc
        .list_images(
            Some(GLOBEX),
            Some(&format!("$top=2&$skiptoken={}", {
                let page = acme_page(&svc, "$top=2").await;
                page.next_link
                    .unwrap()
                    .split_once("$skiptoken=")
                    .unwrap()
                    .1
                    .to_string()
            })),
            "/image",
        )
        .await
        .unwrap();
    assert_eq!(ids(&globex.items), vec![101, 102]);
}

/// `$top=0`, and a `$skip` past the end: no items and no link, the count still every match.
#[tokio::test]
async fn top_zero_and_skip_past_the_end_give_an_empty_page() {
    let (svc, _) = service().await;
    for query in ["$top=0&$count=true", "$skip=100000&$count=true"] {
        let page = acme_page(&svc, query).await;
        assert!(page.items.is_empty(), "{query}");
        assert_eq!(page.count, Some(30), "{query}");
        assert_eq!(page.next_link, None, "{query}");
    }
}

#[tokio::test]
async fn orderby_ties_break_by_id_ascending() {
    let (svc, _) = service().await;
    let page = acme_page(&svc, "$orderby=numLinks%20desc&$top=8").await;
    // numLinks = id % 4: 3 for 3, 7, 11, …; then 2 for 2, 6, …
    assert_eq!(ids(&page.items), vec![3, 7, 11, 15, 19, 23, 27, 2]);
}

#[tokio::test]
async fn filter_selects_only_the_callers_tenant() {
    let (svc, _) = service().await;
    let page = acme_page(&svc, "$filter=id%20ge%20100&$count=true").await;
    assert!(page.items.is_empty());
    assert_eq!(page.count, Some(0));
}

#[tokio::test]
async fn bad_options_are_400_with_the_parameter_named_and_instance_without_query() {
    let (svc, _) = service().await;
    for (query, parameter) in [
        ("$top=101", "$top"),
        ("$top=-1", "$top"),
        ("$skip=x", "$skip"),
        ("$count=yes", "$count"),
        ("$select=id", "$select"),
        ("$top=1&$top=2", "$top"),
        ("$orderby=tags", "$orderby"),
        ("$filter=", "$filter"),
    ] {
        let p = refused(
            svc.list_images(Some(ACME), Some(query), "/image"),
            400,
            "/image",
        )
        .await;
        assert!(p.detail.contains(parameter), "{query}: {}", p.detail);
        assert_eq!(
            p.errors.as_ref().unwrap()[0].parameter,
            parameter,
            "{query}"
        );
    }
}

// ---- §4 delete ---------------------------------------------------------------------------

#[tokio::test]
async fn delete_is_204_then_404() {
    let (svc, store) = service().await;
    let acme = TenantId::new("acme").unwrap();
    let id = ImageId::new(3).unwrap(); // Ok
    svc.delete_image(Some(ACME), "3", "/image/3").await.unwrap();
    assert_eq!(store.get(&acme, id).await.unwrap(), None);
    refused(
        svc.delete_image(Some(ACME), "3", "/image/3"),
        404,
        "/image/3",
    )
    .await;
    // Vd and Er are deletable too
    svc.delete_image(Some(ACME), "1", "/image/1").await.unwrap();
    svc.delete_image(Some(ACME), "5", "/image/5").await.unwrap();
}

#[tokio::test]
async fn processing_images_are_409_and_kept() {
    let (svc, store) = service().await;
    let acme = TenantId::new("acme").unwrap();
    for id in [2, 4] {
        // 2 is Up, 4 is Re
        let path = format!("/image/{id}");
        let p = refused(
            svc.delete_image(Some(ACME), &id.to_string(), &path),
            409,
            &path,
        )
        .await;
        assert!(p.detail.contains("Retry later"));
        assert!(holds(&store, &acme, id).await);
    }
}

#[tokio::test]
async fn another_tenants_image_is_indistinguishable_from_a_missing_one() {
    let (svc, store) = service().await;
    // globex asks for acme's image 3 (Ok) and 2 (Up: still 404, never 409)
    let other = svc
        .delete_image(Some(GLOBEX), "3", "/image/3")
        .await
        .unwrap_err();
    refused(
        svc.delete_image(Some(GLOBEX), "2", "/image/2"),
        404,
        "/image/2",
    )
    .await;
    assert!(holds(&store, &TenantId::new("acme").unwrap(), 3).await);
    svc.delete_image(Some(ACME), "3", "/image/3").await.unwrap();
    let missing = svc
        .delete_image(Some(GLOBEX), "3", "/image/3")
        .await
        .unwrap_err();
    assert_eq!(other, missing);
    let never = refused(
        svc.delete_image(Some(GLOBEX), "999", "/image/999"),
        404,
        "/image/999",
    )
    .await;
    assert_eq!(never.detail, other.detail.replace('3', "999"));
}

#[tokio::test]
async fn invalid_ids_are_400_invalid_image_identifier() {
    let (svc, _) = service().await;
    for raw in [
        "0",
        "-1",
        "abc",
        "1.5",
        "01",
        "%201",
        "+1",
        "1e3",
        "9223372036854775808",
        "18446744073709551616",
        "%EF%BC%91",
        "2428x",
        "",
    ] {
        let path = format!("/image/{raw}");
        let p = refused(svc.delete_image(Some(ACME), raw, &path), 400, &path).await;
        assert!(p.detail.contains("invalid image identifier"), "{raw}");
        assert_eq!(p.errors.as_ref().unwrap()[0].parameter, "id");
    }
    refused(
        svc.delete_image(
            Some(ACME),
            "9223372036854775807",
            "/image/9223372036854775807",
        ),
        404,
        "/image/9223372036854775807",
    )
    .await;
}

#[tokio::test]
async fn set_status_locks_and_unlocks_and_is_tenant_scoped() {
    let (svc, _) = service().await;
    let acme = TenantId::new("acme").unwrap();
    let globex = TenantId::new("globex").unwrap();
    let id = ImageId::new(3).unwrap();
    let image = svc
        .set_status(&acme, id, ImageStatus::Updating)
        .await
        .unwrap();
    assert_eq!(image.status, ImageStatus::Updating);
    assert!(image.modified_on >= image.created_on);
    refused(
        svc.delete_image(Some(ACME), "3", "/image/3"),
        409,
        "/image/3",
    )
    .await;
    svc.set_status(&acme, id, ImageStatus::Ready).await.unwrap();
    assert!(matches!(
        svc.set_status(&globex, id, ImageStatus::Updating).await,
        Err(dam_core::DamError::ImageNotFound { .. })
    ));
    svc.delete_image(Some(ACME), "3", "/image/3").await.unwrap();
}

// ---- tenant-scoped operations (a host that resolves tenants itself) ----------------------

fn tenant(name: &str) -> TenantId {
    TenantId::new(name).unwrap()
}

#[tokio::test]
async fn a_resolved_tenant_lists_only_its_own_images() {
    let (svc, _) = service().await;
    let page = svc
        .list_images_for_tenant(&tenant("globex"), Some("$count=true"), "/image")
        .await
        .unwrap();
    assert_eq!(ids(&page.items), [101, 102, 103, 104, 105]);
    assert_eq!(page.count, Some(5));
    // a filter that names the other tenant's ids finds nothing
    let page = svc
        .list_images_for_tenant(&tenant("globex"), Some("$filter=id%20le%2030"), "/image")
        .await
        .unwrap();
    assert!(page.items.is_empty());
    // a tenant nobody loaded has no images (not an error: the host vouched for it)
    let page = svc
        .list_images_for_tenant(&tenant("nobody"), None, "/image")
        .await
        .unwrap();
    assert!(page.items.is_empty() && page.next_link.is_none());
}

#[tokio::test]
async fn a_resolved_tenant_deletes_only_its_own_images() {
    let (svc, store) = service().await;
    refused(
        svc.delete_image_for_tenant(&tenant("globex"), "1", "/api/image/1"),
        404,
        "/api/image/1",
    )
    .await;
    assert!(holds(&store, &tenant("acme"), 1).await);
    svc.delete_image_for_tenant(&tenant("globex"), "101", "/api/image/101")
        .await
        .unwrap();
    assert!(!holds(&store, &tenant("globex"), 101).await);
}

#[tokio::test]
async fn next_links_start_with_the_collection_path_and_walk_every_match() {
    let (svc, _) = service().await;
    let collection = "/api/dam/v2/image";
    let mut query = Some("$filter=numLinks%20eq%201&$top=2&$count=true".to_string());
    let mut seen = Vec::new();
    while let Some(q) = query.take() {
        let page = svc
            .list_images_for_tenant(&tenant("acme"), Some(&q), collection)
            .await
            .unwrap();
        assert_eq!(page.count, Some(8));
        seen.extend(ids(&page.items));
        if let Some(link) = page.next_link {
            assert!(
                link.contains("&$skiptoken=") && !link.contains("$skip="),
                "{link}"
            );
            let rest = link
                .strip_prefix("/api/dam/v2/image?")
                .unwrap_or_else(|| panic!("{link} leaves the collection path"));
            query = Some(rest.to_string());
        }
    }
    assert_eq!(seen, [1, 5, 9, 13, 17, 21, 25, 29]);
    // the key-based call builds its link from the path it is given, too
    let page = svc
        .list_images(Some(ACME), Some("$top=1"), "/prefix/image")
        .await
        .unwrap();
    let link = page.next_link.unwrap();
    assert!(
        link.starts_with("/prefix/image?$top=1&$skiptoken="),
        "{link}"
    );
}

#[tokio::test]
async fn tenant_scoped_checks_keep_the_order_of_section_2() {
    let (svc, _) = service().await;
    let acme = tenant("acme");
    // the request's values (400) before existence (404) before the lock (409)
    refused(
        svc.delete_image_for_tenant(&acme, "01", "/x/image/01"),
        400,
        "/x/image/01",
    )
    .await;
    refused(
        svc.delete_image_for_tenant(&acme, "999", "/x/image/999"),
        404,
        "/x/image/999",
    )
    .await;
    refused(
        svc.delete_image_for_tenant(&acme, "2", "/x/image/2"),
        409,
        "/x/image/2",
    )
    .await;
    // another tenant's processing image is 404, not 409
    refused(
        svc.delete_image_for_tenant(&tenant("globex"), "2", "/x/image/2"),
        404,
        "/x/image/2",
    )
    .await;
    // the first bad option in §8's order, with the collection path as instance
    let p = refused(
        svc.list_images_for_tenant(&acme, Some("$filter=bad&$top=101"), "/x/image"),
        400,
        "/x/image",
    )
    .await;
    assert!(p.detail.contains("$top"), "{p:?}");
}

#[tokio::test]
async fn tenant_scoped_storage_failures_are_generic_500s() {
    let mut images = MockImageStore::new();
    images.expect_list().returning(|_, _| Err(failure()));
    images.expect_delete().returning(|_, _| Err(failure()));
    // no key store is asked: the tenant is already resolved
    let svc = ImageService::new(Arc::new(images), Arc::new(MockKeyStore::new()));
    let p = svc
        .list_images_for_tenant(&tenant("acme"), None, "/api/image")
        .await
        .unwrap_err();
    assert_generic_500(&p, "/api/image");
    let p = svc
        .delete_image_for_tenant(&tenant("acme"), "7", "/api/image/7")
        .await
        .unwrap_err();
    assert_generic_500(&p, "/api/image/7");
}

// ---- concurrency -------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_deletes_of_one_image_give_one_success() {
    let (svc, _) = service().await;
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let svc = svc.clone();
            tokio::spawn(async move { svc.delete_image(Some(ACME), "6", "/image/6").await })
        })
        .collect();
    let mut ok = 0;
    let mut not_found = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => ok += 1,
            Err(p) if p.status == 404 => not_found += 1,
            Err(p) => panic!("unexpected {p:?}"),
        }
    }
    assert_eq!((ok, not_found), (1, 19));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_delete_racing_a_lock_never_deletes_a_processing_image() {
    let (svc, store) = service().await;
    let acme = TenantId::new("acme").unwrap();
    for round in 0..200 {
        let reference = dam_core::Reference::new(format!("race-{round}.jpg")).unwrap();
        let template = store
            .get(&acme, ImageId::new(3).unwrap())
            .await
            .unwrap()
            .unwrap();
        let mut image = template.clone();
        image.reference = reference;
        let image = store.insert(&acme, image).await.unwrap();
        let id = image.id;
        let deleter = {
            let svc = svc.clone();
            let raw = id.to_string();
            tokio::spawn(async move { svc.delete_image(Some(ACME), &raw, "/image/x").await })
        };
        let locker = {
            let svc = svc.clone();
            let acme = acme.clone();
            tokio::spawn(async move { svc.set_status(&acme, id, ImageStatus::Updating).await })
        };
        let deleted = deleter.await.unwrap();
        let locked = locker.await.unwrap();
        let remaining = store.get(&acme, id).await.unwrap();
        match (deleted, locked) {
            // delete first: the lock finds nothing
            (Ok(()), Err(_)) => assert!(remaining.is_none()),
            // lock first: the delete is refused and the image kept, still locked
            (Err(p), Ok(_)) => {
                assert_eq!(p.status, 409);
                assert_eq!(remaining.unwrap().status, ImageStatus::Updating);
            }
            (d, l) => panic!("round {round}: impossible outcome {d:?} / {l:?}"),
        }
    }
}

// ---- 500: every storage operation failing ------------------------------------------------

const SECRET_CAUSE: &str = "disk /var/lib/dam/secret.db: SELECT * FROM images failed";

fn failure() -> StoreError {
    StoreError::backend("mock", SECRET_CAUSE)
}

fn acme_keys() -> MockKeyStore {
    let mut keys = MockKeyStore::new();
    keys.expect_tenant_for_key()
        .returning(|_| Ok(Some(TenantId::new("acme").unwrap())));
    keys
}

fn assert_generic_500(p: &ProblemDetails, instance: &str) {
    assert_problem(p, 500, "internal", "Internal Server Error", instance);
    let body = serde_json::to_string(p).unwrap();
    for leak in ["secret", "SELECT", "/var/lib", "mock", "disk"] {
        assert!(!body.contains(leak), "500 body leaks {leak}: {body}");
    }
    assert!(p.errors.is_none());
}

/// A key store that fails, and a list or a delete that fails: each is a generic 500 on the
/// route that asked it.
#[tokio::test]
async fn a_failing_key_store_list_or_delete_is_a_generic_500() {
    let mut keys = MockKeyStore::new();
    keys.expect_tenant_for_key().returning(|_| Err(failure()));
    let failing_keys = ImageService::new(Arc::new(MockImageStore::new()), Arc::new(keys));
    let mut images = MockImageStore::new();
    images.expect_list().returning(|_, _| Err(failure()));
    images.expect_delete().returning(|_, _| Err(failure()));
    let failing_images = ImageService::new(Arc::new(images), Arc::new(acme_keys()));
    for svc in [failing_keys, failing_images] {
        let p = svc
            .list_images(Some(ACME), None, "/image")
            .await
            .unwrap_err();
        assert_generic_500(&p, "/image");
        let p = svc
            .delete_image(Some(ACME), "7", "/image/7")
            .await
            .unwrap_err();
        assert_generic_500(&p, "/image/7");
    }
}

#[tokio::test]
async fn a_failing_status_change_is_a_storage_error() {
    let mut images = MockImageStore::new();
    images
        .expect_set_status()
        .returning(|_, _, _, _| Err(failure()));
    let svc = ImageService::new(Arc::new(images), Arc::new(acme_keys()));
    let err = svc
        .set_status(
            &TenantId::new("acme").unwrap(),
            ImageId::new(1).unwrap(),
            ImageStatus::Updating,
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), 500);
    assert_generic_500(&svc.problem(&err, "/x"), "/x");
}

#[tokio::test]
async fn the_type_base_is_configurable() {
    let svc = ImageService::with_config(
        Arc::new(MockImageStore::new()),
        Arc::new(MockKeyStore::new()),
        ServiceConfig {
            problem_type_base: "https://errors.example.org/dam".into(),
        },
    );
    let p = svc.list_images(None, None, "/image").await.unwrap_err();
    assert_eq!(
        p.problem_type,
        "https://errors.example.org/dam/unauthorized"
    );
}

#[tokio::test]
async fn a_store_that_does_not_answer_within_the_bound_is_unavailable() {
    // A server that accepts connections and then hangs.
    let hanging = Faulty::new(Arc::new(MemoryStore::new()));
    hanging.hang(&[Operation::Ping]);
    let keys = Arc::new(MemoryStore::new());
    let service = ImageService::new(Arc::new(hanging), keys);
    let error = service.ready().await.unwrap_err();
    let problem = service.problem(&error, "/ready");
    assert_eq!(problem.status, 503);
    assert!(problem.problem_type.ends_with("/unavailable"));
    assert!(!problem.detail.contains("ping"), "{}", problem.detail);
}
