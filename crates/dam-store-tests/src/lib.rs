//! # Conformance kit for DAM Core storage adapters
//!
//! Every adapter of [`ImageStore`] and [`KeyStore`] must behave alike: same selection, same
//! order, same paging, same tenant scoping, same atomic delete. This crate holds that contract
//! as executable checks.
//!
//! - [`conformance`]: one plain `pub async fn` per behaviour. Each takes a [`StoreFactory`]
//!   (any `Fn() -> impl Future<Output = Arc<S>>` that makes a fresh, empty store), loads its own
//!   data and panics with a precise message when the store disagrees with the contract or with
//!   the reference semantics of `dam_core::testing` (`select`, `Filter::matches`).
//! - [`conformance_suite!`]: expands to one `#[test]` per behaviour in the calling crate.
//! - [`data`], [`query`], [`check`]: builders and assertions to reuse in an adapter's own
//!   tests; [`logs`] and [`scrape`]: what was logged, and a metrics scrape, to assert on.
//! - [`wrap`]: wrapper stores — [`wrap::Forwarding`] (passes every call through, keeps a guard
//!   alive) and [`wrap::Faulty`] (fails chosen operations), used by the fault checks.
//! - [`reply`]: an HTTP answer and what a problem answer must look like on the wire, for the
//!   HTTP crates' tests.
//! - [`faults`]: what a storage failure must look like through the service (a clean 500,
//!   the cause logged once, no SQL, path or key), for adapters' own fault tests.
//! - [`strategies`] and [`model`]: proptest generators of fixtures and valid queries, and
//!   property runners (differential against the reference, [`model::run_differential`];
//!   tenant isolation under random
//!   operations).
//!
//! ## Using the kit in an adapter crate
//!
//! Add `dam-store-tests` as a dev-dependency, then in `tests/conformance.rs`:
//!
//! ```ignore
//! use my_adapter::MyStore;
//!
//! // The expression is evaluated once per test, inside an async block, so it may `.await`.
//! dam_store_tests::conformance_suite!(MyStore::open_in_memory().unwrap());
//! ```
//!
//! `cargo test` then runs every behaviour as its own test, named after the check
//! (`delete_refuses_processing_images`, `order_by_each_sortable_field`, …). A single check
//! can also be called by hand:
//!
//! ```
//! use std::sync::Arc;
//! use dam_store_memory::MemoryStore;
//!
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! dam_store_tests::conformance::delete_by_status(|| async { Arc::new(MemoryStore::new()) }).await;
//! # });
//! ```
//!
//! `§N` in this crate's documentation and code refers to section N of the API contract,
//! [`docs/API.md`](https://github.com/dam-core/dam-core/blob/main/docs/API.md).

// The README's examples run as doctests, so they cannot rot.
#![cfg_attr(doctest, doc = include_str!("../README.md"))]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::future::Future;
use std::sync::Arc;

use dam_core::store::{ImageStore, KeyStore, SeedStore};

pub mod check;
pub mod conformance;
pub mod data;
pub mod faults;
pub mod logs;
pub mod model;
pub mod query;
pub mod reply;
pub mod scrape;
pub mod strategies;
pub mod wrap;

/// Makes a fresh, empty store for one check. Implemented for every
/// `Fn() -> impl Future<Output = Arc<S>>`, e.g. `|| async { Arc::new(MemoryStore::new()) }`.
pub trait StoreFactory {
    /// The store type.
    type Store: ImageStore + KeyStore + SeedStore + 'static;

    /// A new store that holds nothing (no tenants, no keys, no images).
    fn create(&self) -> impl Future<Output = Arc<Self::Store>>;
}

impl<F, Fut, S> StoreFactory for F
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<S>>,
    S: ImageStore + KeyStore + SeedStore + 'static,
{
    type Store = S;

    fn create(&self) -> impl Future<Output = Arc<S>> {
        self()
    }
}

/// Expands to one `#[test]` per behaviour of [`conformance`], each running on its own
/// multi-threaded tokio runtime (the calling crate needs no tokio dependency).
///
/// The argument is an expression that makes a fresh, empty store (not an `Arc`); it is
/// evaluated inside an `async` block once per test, so it may `.await`.
///
/// ```ignore
/// // crates/dam-store-memory/tests/conformance.rs
/// use dam_store_memory::MemoryStore;
/// dam_store_tests::conformance_suite!(MemoryStore::new());
/// ```
#[macro_export]
macro_rules! conformance_suite {
    ($make_store:expr $(,)?) => {
        $crate::__check_list!([$crate::__conformance_tests][($make_store)]);
    };
}

/// Calls `callback! { prefix… check_a, check_b, … }` with the name of every check of
/// [`conformance`], for an adapter that needs its own test wrapper (e.g. one that skips when
/// its database server is not configured). The names are the functions of [`conformance`]
/// and [`conformance_suite!`]'s test names.
///
/// ```ignore
/// macro_rules! gated {
///     ($($check:ident),* $(,)?) => { $(
///         #[test]
///         fn $check() {
///             let Some(url) = database_url() else { return };
///             dam_store_tests::block_on(dam_store_tests::conformance::$check(
///                 move || { let url = url.clone(); async move { Arc::new(MyStore::connect(&url).await) } },
///             ));
///         }
///     )* };
/// }
/// dam_store_tests::for_each_check!(gated);
/// ```
#[macro_export]
macro_rules! for_each_check {
    ($callback:ident $(,)?) => {
        $crate::__check_list!([$callback] []);
    };
}

/// Implementation detail of [`conformance_suite!`].
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_tests {
    (($make_store:expr) $($check:ident),* $(,)?) => {
        $(
            #[test]
            fn $check() {
                $crate::block_on($crate::conformance::$check(|| async {
                    ::std::sync::Arc::new($make_store)
                }));
            }
        )*
    };
}

/// Runs a check (or any future) to completion on a fresh multi-threaded tokio runtime with
/// four workers, as [`conformance_suite!`] does for each test.
///
/// # Panics
/// When the runtime cannot start, or when the future panics.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("cannot start a tokio runtime: {e}"));
    runtime.block_on(future)
}
