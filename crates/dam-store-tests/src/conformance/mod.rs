//! The behaviour checks, one `pub async fn` each. Every check makes its own store with the
//! factory, loads its own data (usually [`crate::data::standard_fixture`]) and panics on the
//! first disagreement with the contract, naming the tenant, the query and what differed.
//!
//! [`crate::conformance_suite!`] runs them all; the list below is the suite.

use std::sync::Arc;

use dam_core::store::SeedStore;
use dam_core::{Fixture, TenantId};

use crate::data::{standard_fixture, tenant_id};
use crate::StoreFactory;

mod concurrency;
mod filters;
mod listing;
mod ordering;
mod paging;
mod security;
mod tenants;
mod writes;

pub use concurrency::{concurrent_deletes_one_wins, concurrent_inserts, delete_racing_set_status};
pub use filters::{
    filter_boolean_logic, filter_datetimes_with_fractions, filter_field_to_field, filter_in_lists,
    filter_integer_fields, filter_nul_in_literals, filter_null_url_fields, filter_status,
    filter_string_case_and_code_points, filter_string_fields, filter_string_functions,
    filter_string_functions_escape_wildcards, filter_tags_any_all,
};
pub use listing::{
    get_returns_images_field_for_field, list_count, list_default_order_is_by_id,
    list_top_skip_and_has_more, list_unknown_tenant_is_empty, paging_visits_every_match_once,
};
pub use ordering::{
    order_by_each_sortable_field, order_by_status_code, order_by_strings_by_code_point,
    order_by_two_keys_and_id_tie_break,
};
pub use paging::paging_by_skiptoken_follows_the_reference_order;
pub use security::filter_sql_lookalike_values;
pub use tenants::{
    fixture_clash_is_refused_atomically, fixture_load_round_trips, is_empty_tracks_images,
    key_lookup, tenant_isolation_reads, tenant_isolation_writes,
};
pub use writes::{
    delete_by_status, delete_missing_and_deleted, insert_assigns_fresh_ids,
    insert_refuses_duplicate_reference, set_status_is_tenant_scoped,
    set_status_sets_status_and_modified_on,
};

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
