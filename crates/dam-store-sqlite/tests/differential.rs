//! Differential property test with the kit's runner: on generated multi-tenant fixtures and
//! generated valid queries, the SQLite store gives the reference's ids, order, totals and
//! `has_more` (`dam_core::testing`).
//!
//! Each case loads one fixture into a fresh in-memory store and runs several queries for every
//! tenant, so 1 000 cases cover several thousand queries in seconds.

use std::sync::Arc;

use dam_store_sqlite::SqliteStore;
use dam_store_tests::model::run_differential;

#[test]
fn sqlite_and_reference_agree() {
    run_differential(1000, || async {
        Arc::new(SqliteStore::open_in_memory().expect("an in-memory store opens"))
    });
}
