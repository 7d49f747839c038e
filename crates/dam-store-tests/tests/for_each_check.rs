//! `for_each_check!` hands every check's name to a caller's macro.

macro_rules! names {
    ($($check:ident),* $(,)?) => {
        const NAMES: &[&str] = &[$(stringify!($check)),*];
        // Every name is a function of the kit (this fails to compile otherwise).
        #[allow(dead_code)]
        fn all_exist() {
            $( let _ = dam_store_tests::conformance::$check::<fn() -> std::future::Ready<std::sync::Arc<dam_store_memory::MemoryStore>>>; )*
        }
    };
}

dam_store_tests::for_each_check!(names);

#[test]
fn every_check_is_listed_once() {
    assert!(!NAMES.is_empty());
    let mut sorted = NAMES.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), NAMES.len());
}
