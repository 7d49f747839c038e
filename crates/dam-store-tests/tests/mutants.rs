//! Tests of the kit itself: a wrapper around the memory store that breaks one rule at a time
//! (the mistakes a real adapter is likely to make) must make the matching check fail. A kit
//! that passes a broken store is worse than none.

use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use dam_core::query::Filter;
use dam_core::store::{
    compare_images, Field, ImagePage, ImageStore, KeyStore, ListQuery, SeedStore, StoreError,
    StringFunction,
};
use dam_core::{Fixture, Image, ImageId, ImageStatus, KeyDigest, TenantId, Timestamp};
use dam_store_memory::MemoryStore;
use dam_store_tests::conformance as c;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mutation {
    /// Deletes processing images too.
    DeleteIgnoresLock,
    /// `get` finds another tenant's image.
    GetIgnoresTenant,
    /// Ties on the sort keys come by id descending.
    NoIdTieBreak,
    /// SQL's three-valued logic: a test on a null URL is unknown, and `not unknown` too.
    ThreeValuedNulls,
    /// `contains`/`startswith`/`endswith` as an unescaped `LIKE`.
    UnescapedLike,
    /// Loads a fixture tenant by tenant, keeping what came before a clash.
    FixtureNotAtomic,
    /// Checks, then deletes in a second step.
    DeleteCheckThenAct,
    /// `has_more` when the page is full.
    HasMoreWhenFull,
    /// Sorts strings case-insensitively.
    CaseInsensitiveOrder,
}

struct Mutant {
    inner: MemoryStore,
    mutation: Mutation,
    tenants: Mutex<Vec<TenantId>>,
}

impl Mutant {
    fn new(mutation: Mutation) -> Self {
        Mutant {
            inner: MemoryStore::new(),
            mutation,
            tenants: Mutex::new(Vec::new()),
        }
    }

    async fn all_of(&self, tenant: &TenantId) -> Result<Vec<Image>, StoreError> {
        let page = self.inner.list(tenant, &ListQuery::default()).await?;
        assert!(!page.has_more, "mutants only handle small tenants");
        Ok(page.items)
    }
}

fn url(image: &Image, field: Field) -> Option<&Option<String>> {
    match field {
        Field::OriginalUrl => Some(&image.original_url),
        Field::ThumbnailUrl => Some(&image.thumbnail_url),
        Field::ThumbnailMediumUrl => Some(&image.thumbnail_medium_url),
        Field::ThumbnailPreviewUrl => Some(&image.thumbnail_preview_url),
        _ => None,
    }
}

fn touches_null(filter: &Filter, image: &Image) -> bool {
    let null = |f: &Field| url(image, *f).is_some_and(Option::is_none);
    match filter {
        Filter::Compare { field, .. }
        | Filter::In { field, .. }
        | Filter::StringCall { field, .. } => null(field),
        Filter::CompareFields { left, right, .. } => null(left) || null(right),
        _ => false,
    }
}

fn like(text: &[char], pattern: &[char]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('%', rest)) => (0..=text.len()).any(|i| like(&text[i..], rest)),
        Some((p, rest)) => text
            .split_first()
            .is_some_and(|(t, tail)| (*p == '_' || p == t) && like(tail, rest)),
    }
}

fn eval(filter: &Filter, image: &Image, mutation: Mutation) -> Option<bool> {
    match filter {
        Filter::And(a, b) => match (eval(a, image, mutation), eval(b, image, mutation)) {
            (Some(false), _) | (_, Some(false)) => Some(false),
            (Some(true), Some(true)) => Some(true),
            _ => None,
        },
        Filter::Or(a, b) => match (eval(a, image, mutation), eval(b, image, mutation)) {
            (Some(true), _) | (_, Some(true)) => Some(true),
            (Some(false), Some(false)) => Some(false),
            _ => None,
        },
        Filter::Not(inner) => eval(inner, image, mutation).map(|b| !b),
        Filter::StringCall {
            function,
            field: Field::Reference,
            needle,
        } if mutation == Mutation::UnescapedLike => {
            let pattern = match function {
                StringFunction::Contains => format!("%{needle}%"),
                StringFunction::StartsWith => format!("{needle}%"),
                StringFunction::EndsWith => format!("%{needle}"),
            };
            let text: Vec<char> = image.reference.as_str().chars().collect();
            let pattern: Vec<char> = pattern.chars().collect();
            Some(like(&text, &pattern))
        }
        leaf if mutation == Mutation::ThreeValuedNulls && touches_null(leaf, image) => None,
        leaf => Some(leaf.matches(image)),
    }
}

#[async_trait]
impl ImageStore for Mutant {
    async fn list(&self, tenant: &TenantId, query: &ListQuery) -> Result<ImagePage, StoreError> {
        let rewrites = [
            Mutation::NoIdTieBreak,
            Mutation::ThreeValuedNulls,
            Mutation::UnescapedLike,
            Mutation::CaseInsensitiveOrder,
        ];
        if !rewrites.contains(&self.mutation) {
            let mut page = self.inner.list(tenant, query).await?;
            if self.mutation == Mutation::HasMoreWhenFull {
                page.has_more = page.items.len() == query.top as usize;
            }
            return Ok(page);
        }
        let mut matches: Vec<Image> = self
            .all_of(tenant)
            .await?
            .into_iter()
            .filter(|im| {
                query
                    .filter
                    .as_ref()
                    .is_none_or(|f| eval(f, im, self.mutation) == Some(true))
            })
            .collect();
        let keys = &query.order_by;
        matches.sort_by(|a, b| {
            if self.mutation == Mutation::CaseInsensitiveOrder {
                let (mut a2, mut b2) = (a.clone(), b.clone());
                for im in [&mut a2, &mut b2] {
                    im.reference =
                        dam_core::Reference::new(im.reference.as_str().to_lowercase()).unwrap();
                }
                return compare_images(&a2, &b2, keys);
            }
            let mut b_as_a = b.clone();
            b_as_a.id = a.id;
            if self.mutation == Mutation::NoIdTieBreak && compare_images(a, &b_as_a, keys).is_eq() {
                return b.id.cmp(&a.id);
            }
            compare_images(a, b, keys)
        });
        let total = matches.len() as u64;
        let items: Vec<Image> = matches
            .into_iter()
            .skip(query.skip as usize)
            .take(query.top as usize)
            .collect();
        let has_more = total > query.skip + items.len() as u64;
        Ok(ImagePage {
            items,
            total: query.count.then_some(total),
            has_more,
        })
    }

    async fn get(&self, tenant: &TenantId, id: ImageId) -> Result<Option<Image>, StoreError> {
        if self.mutation == Mutation::GetIgnoresTenant {
            let tenants = self.tenants.lock().unwrap().clone();
            for other in tenants {
                if let Some(found) = self.inner.get(&other, id).await? {
                    return Ok(Some(found));
                }
            }
        }
        self.inner.get(tenant, id).await
    }

    async fn insert(&self, tenant: &TenantId, image: Image) -> Result<Image, StoreError> {
        self.inner.insert(tenant, image).await
    }

    async fn set_status(
        &self,
        tenant: &TenantId,
        id: ImageId,
        status: ImageStatus,
        at: Timestamp,
    ) -> Result<Image, StoreError> {
        self.inner.set_status(tenant, id, status, at).await
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.inner.ping().await
    }

    async fn delete(&self, tenant: &TenantId, id: ImageId) -> Result<(), StoreError> {
        match self.mutation {
            Mutation::DeleteIgnoresLock => {
                let at = Timestamp::parse("2030-01-01T00:00:00").unwrap();
                let _ = self
                    .inner
                    .set_status(tenant, id, ImageStatus::Ready, at)
                    .await;
                self.inner.delete(tenant, id).await
            }
            Mutation::DeleteCheckThenAct => {
                let Some(image) = self.inner.get(tenant, id).await? else {
                    return Err(StoreError::NotFound);
                };
                if image.status.is_processing() {
                    return Err(StoreError::BeingProcessed);
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                let at = Timestamp::parse("2030-01-01T00:00:00").unwrap();
                let _ = self
                    .inner
                    .set_status(tenant, id, ImageStatus::Ready, at)
                    .await;
                let _ = self.inner.delete(tenant, id).await;
                Ok(())
            }
            _ => self.inner.delete(tenant, id).await,
        }
    }
}

#[async_trait]
impl SeedStore for Mutant {
    async fn load_fixture(&self, fixture: &Fixture) -> Result<(), StoreError> {
        self.tenants
            .lock()
            .unwrap()
            .extend(fixture.tenants.iter().map(|t| t.tenant.clone()));
        if self.mutation == Mutation::FixtureNotAtomic {
            for data in &fixture.tenants {
                let one = Fixture {
                    tenants: vec![data.clone()],
                };
                self.inner.load_fixture(&one).await?;
            }
            return Ok(());
        }
        self.inner.load_fixture(fixture).await
    }

    async fn is_empty(&self) -> Result<bool, StoreError> {
        self.inner.is_empty().await
    }
}

#[async_trait]
impl KeyStore for Mutant {
    async fn tenant_for_key(&self, digest: &KeyDigest) -> Result<Option<TenantId>, StoreError> {
        self.inner.tenant_for_key(digest).await
    }
}

type Factory = Box<dyn Fn() -> std::pin::Pin<Box<dyn Future<Output = Arc<Mutant>>>>>;

fn factory(mutation: Mutation) -> Factory {
    Box::new(move || Box::pin(async move { Arc::new(Mutant::new(mutation)) }))
}

/// Whether the check fails (panics) on the store.
fn fails<Fut: Future<Output = ()>>(check: Fut) -> bool {
    catch_unwind(AssertUnwindSafe(|| dam_store_tests::block_on(check))).is_err()
}

#[test]
fn each_mutant_is_caught_by_its_check() {
    use Mutation::*;
    assert!(fails(c::delete_by_status(factory(DeleteIgnoresLock))));
    assert!(fails(c::tenant_isolation_reads(factory(GetIgnoresTenant))));
    assert!(fails(c::order_by_two_keys_and_id_tie_break(factory(
        NoIdTieBreak
    ))));
    assert!(fails(c::paging_visits_every_match_once(factory(
        NoIdTieBreak
    ))));
    assert!(fails(c::filter_null_url_fields(factory(ThreeValuedNulls))));
    assert!(fails(c::filter_boolean_logic(factory(ThreeValuedNulls))));
    assert!(fails(c::filter_string_functions_escape_wildcards(factory(
        UnescapedLike
    ))));
    assert!(fails(c::fixture_clash_is_refused_atomically(factory(
        FixtureNotAtomic
    ))));
    assert!(fails(c::delete_racing_set_status(factory(
        DeleteCheckThenAct
    ))));
    assert!(fails(c::concurrent_deletes_one_wins(factory(
        DeleteCheckThenAct
    ))));
    assert!(fails(c::list_top_skip_and_has_more(factory(
        HasMoreWhenFull
    ))));
    assert!(fails(c::paging_visits_every_match_once(factory(
        HasMoreWhenFull
    ))));
    assert!(fails(c::order_by_strings_by_code_point(factory(
        CaseInsensitiveOrder
    ))));
    assert!(fails(c::paging_by_skiptoken_follows_the_reference_order(
        factory(NoIdTieBreak)
    )));
    assert!(fails(c::paging_by_skiptoken_follows_the_reference_order(
        factory(HasMoreWhenFull)
    )));
    assert!(fails(c::paging_by_skiptoken_follows_the_reference_order(
        factory(ThreeValuedNulls)
    )));
}

#[test]
fn the_unbroken_wrapper_passes() {
    // The wrapper itself is faithful when its mutation does not apply to the check.
    assert!(!fails(c::delete_by_status(factory(
        Mutation::GetIgnoresTenant
    ))));
    assert!(!fails(c::filter_null_url_fields(factory(
        Mutation::UnescapedLike
    ))));
    assert!(!fails(c::order_by_each_sortable_field(factory(
        Mutation::ThreeValuedNulls
    ))));
}
