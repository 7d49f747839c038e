//! Differential property tests with the kit's runners: on generated multi-tenant fixtures and
//! generated valid queries, the SQLite store gives the reference's ids, order, totals and
//! `has_more` (`dam_core::testing`); and a random workload of reads and writes from several
//! tenants behaves as the kit's model says.
//!
//! The queries run on a fresh in-memory store per case, so 1 000 cases cover several thousand
//! queries in seconds. The workloads run on files, as a service runs the store: one writer and
//! readers that keep the pages they read, which the workload's lists asked again after each
//! write must never serve stale.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use dam_store_sqlite::{SqliteOptions, SqliteStore};
use dam_store_tests::model::{run_differential, run_workloads};

#[test]
fn sqlite_and_reference_agree() {
    run_differential(1000, || async {
        Arc::new(SqliteStore::open_in_memory().expect("an in-memory store opens"))
    });
}

#[test]
fn random_workloads_on_a_file_behave_as_the_model() {
    let dir = tempfile::tempdir().unwrap();
    let made = AtomicUsize::new(0);
    let (dir, made) = (&dir, &made);
    run_workloads(200, || async move {
        let n = made.fetch_add(1, Ordering::Relaxed);
        let path = dir.path().join(format!("store-{n}.sqlite"));
        // Two readers, so that a list goes to a connection whose cache is older than the last write.
        let options = SqliteOptions::default().readers(2);
        Arc::new(SqliteStore::open_with(path, options).expect("a file store opens"))
    });
}
