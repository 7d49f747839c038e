//! The behaviour checks, one `pub async fn` each. Every check makes its own store with the
//! factory, loads its own data (usually [`crate::data::standard_fixture`]) and panics on the
//! first disagreement with the contract, naming the tenant, the query and what differed.
//!
//! [`crate::conformance_suite!`] runs them all; the one list below is the suite.

use std::sync::Arc;

use dam_core::store::SeedStore;
use dam_core::{Fixture, TenantId};

use crate::data::{standard_fixture, tenant_id};
use crate::StoreFactory;

mod concurrency;
mod faults;
mod filters;
mod listing;
mod ordering;
mod paging;
mod security;
mod tenants;
mod writes;

/// THE list of checks, each `module::check` once, in the order the suite runs them. The
/// re-exports below, [`crate::conformance_suite!`] and [`crate::for_each_check!`] are all
/// generated from it: a check added here is run by every adapter, with nothing else to update.
#[doc(hidden)]
#[macro_export]
macro_rules! __check_list {
    ($($args:tt)*) => {
        $crate::__dispatch_checks! { [$($args)*]
            listing::list_default_order_is_by_id,
            listing::list_top_skip_and_has_more,
            listing::list_count,
            listing::list_unknown_tenant_is_empty,
            listing::get_returns_images_field_for_field,
            filters::filter_integer_fields,
            filters::filter_string_fields,
            filters::filter_string_case_and_code_points,
            filters::filter_status,
            filters::filter_datetimes_with_fractions,
            filters::filter_null_url_fields,
            filters::filter_in_lists,
            filters::filter_string_functions,
            filters::filter_string_functions_escape_wildcards,
            filters::filter_nul_in_literals,
            filters::filter_tags_any_all,
            filters::filter_field_to_field,
            filters::filter_boolean_logic,
            security::filter_sql_lookalike_values,
            ordering::order_by_each_sortable_field,
            ordering::order_by_status_code,
            ordering::order_by_strings_by_code_point,
            ordering::order_by_two_keys_and_id_tie_break,
            listing::paging_visits_every_match_once,
            paging::paging_by_skiptoken_follows_the_reference_order,
            tenants::tenant_isolation_reads,
            tenants::tenant_isolation_writes,
            tenants::key_lookup,
            writes::delete_by_status,
            writes::delete_missing_and_deleted,
            writes::insert_assigns_fresh_ids,
            writes::insert_refuses_duplicate_reference,
            writes::set_status_sets_status_and_modified_on,
            writes::set_status_is_tenant_scoped,
            concurrency::concurrent_deletes_one_wins,
            concurrency::delete_racing_set_status,
            concurrency::concurrent_inserts,
            tenants::fixture_load_round_trips,
            tenants::fixture_clash_is_refused_atomically,
            tenants::is_empty_tracks_images,
            faults::storage_failures_are_clean_500s,
            faults::ready_follows_ping,
        }
    };
}

/// Implementation detail of [`__check_list!`]: hands the list to its user.
#[doc(hidden)]
#[macro_export]
macro_rules! __dispatch_checks {
    ([reexport] $($module:ident :: $check:ident),* $(,)?) => {
        $(pub use $module::$check;)*
    };
    ([[$($callback:tt)*] [$($prefix:tt)*]] $($module:ident :: $check:ident),* $(,)?) => {
        $($callback)*! { $($prefix)* $($check),* }
    };
}

crate::__check_list!(reexport);

/// Loads a fixture and panics if the store refuses it.
pub(crate) async fn load<S: SeedStore + ?Sized>(store: &S, fixture: &Fixture) {
    if let Err(e) = store.load_fixture(fixture).await {
        panic!("the store refused a valid fixture: {e:?}");
    }
}

/// A fresh store holding the standard fixture, and that fixture.
pub(crate) async fn standard<F: StoreFactory>(factory: &F) -> (Arc<F::Store>, Fixture) {
    let store = factory.create().await;
    let fixture = standard_fixture();
    load(&*store, &fixture).await;
    (store, fixture)
}

pub(crate) fn acme() -> TenantId {
    tenant_id(crate::data::ACME)
}

pub(crate) fn globex() -> TenantId {
    tenant_id(crate::data::GLOBEX)
}
