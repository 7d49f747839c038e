//! The SQLite store against the conformance kit: every behaviour of `dam-store-tests`, once in
//! memory (one connection) and once on a file (one writer and a pool of readers in WAL mode,
//! which is what a service runs).

use std::cell::Cell;
use std::path::PathBuf;

use dam_store_sqlite::SqliteStore;

mod memory {
    use dam_store_sqlite::SqliteStore;

    dam_store_tests::conformance_suite!(SqliteStore::open_in_memory().unwrap());
}

mod file {
    dam_store_tests::conformance_suite!(super::file_store());
}

thread_local! {
    static STORES_MADE: Cell<usize> = const { Cell::new(0) };
}

/// A store on a new file under the target's temp folder, in a folder named after the running
/// test (its thread's name), so reruns reuse and first clear one place instead of piling up.
fn file_store() -> SqliteStore {
    let test = std::thread::current()
        .name()
        .filter(|name| *name != "main")
        .map(|name| name.replace("::", "-"))
        .unwrap_or_else(|| format!("process-{}", std::process::id()));
    let folder = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("sqlite-conformance")
        .join(test);
    let n = STORES_MADE.with(|made| made.replace(made.get() + 1));
    if n == 0 {
        let _ = std::fs::remove_dir_all(&folder);
    }
    std::fs::create_dir_all(&folder).unwrap();
    SqliteStore::open(folder.join(format!("store-{n}.sqlite"))).unwrap()
}
