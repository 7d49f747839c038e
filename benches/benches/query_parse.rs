//! `$filter` parse + validate, on the inputs of `dam_benches::FILTERS`, next to the
//! `odatav4-parser` crate (parse only: it has no schema to validate against) on the same text.
//!
//! `cargo bench -p dam-benches --bench query_parse -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use dam_benches::FILTERS;

fn parse_filter(c: &mut Criterion) {
    let mut group = c.benchmark_group("dam_core");
    for (name, text) in FILTERS {
        group.bench_function(name, |b| {
            b.iter(|| dam_core::query::parse_filter(black_box(text)))
        });
    }
    group.finish();

    // The other crate reads a whole query string, so it gets `$filter=` + the same text.
    let mut group = c.benchmark_group("odatav4_parser");
    for (name, text) in FILTERS {
        let mut query = format!("$filter={text}");
        if odatav4_parser::parse(&query).is_err() {
            // It reads no bare datetime literal: give it the same text with the datetime
            // quoted, which it takes as a string (slightly less work than a datetime).
            query = query.replace("2024-01-01T00:00:00Z", "'2024-01-01T00:00:00Z'");
            if let Err(e) = odatav4_parser::parse(&query) {
                eprintln!("odatav4-parser cannot parse {name}: {e}; skipped");
                continue;
            }
            eprintln!("odatav4-parser: {name} with its datetime quoted");
        }
        group.bench_function(name, |b| {
            b.iter(|| odatav4_parser::parse(black_box(&query)))
        });
    }
    group.finish();
}

criterion_group!(benches, parse_filter);
criterion_main!(benches);
