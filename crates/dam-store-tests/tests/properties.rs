//! The kit's property runners against the memory store: generated fixtures and queries agree
//! with the reference, and random multi-tenant workloads never cross tenants.

use std::sync::Arc;

use dam_store_memory::MemoryStore;
use dam_store_tests::model::{run_differential, run_workloads};

#[test]
fn generated_queries_agree_with_the_reference() {
    run_differential(300, || async { Arc::new(MemoryStore::new()) });
}

#[test]
fn random_workloads_never_cross_tenants() {
    run_workloads(300, || async { Arc::new(MemoryStore::new()) });
}
