//! The lowered filter answers as the filter does: for generated fixtures and filters (with
//! fractional instants, NUL-bearing literals, empty needles and mixed `in` lists), evaluating
//! `filter.lower()` on every image equals evaluating `filter`.

use dam_store_tests::strategies::fixture_and_queries;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn lowering_keeps_the_reference_answer((fixture, queries) in fixture_and_queries(8)) {
        for query in &queries {
            let Some(filter) = &query.filter else { continue };
            let lowered = filter.lower();
            for image in fixture.tenants.iter().flat_map(|t| t.images.iter()) {
                prop_assert_eq!(
                    lowered.matches(image),
                    filter.matches(image),
                    "filter {:?}\nlowered {:?}\nimage {:?}", filter, lowered, image
                );
            }
        }
    }
}
