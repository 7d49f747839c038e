//! The memory store against the conformance kit: every behaviour of `dam-store-tests`.

use dam_store_memory::MemoryStore;

dam_store_tests::conformance_suite!(MemoryStore::new());
