//! `$filter` parse + validate, on the inputs of `dam_benches::FILTERS`, next to the
//! `odatav4-parser` crate (parse only: it has no schema to validate against) on the same text;
//! then dam-core's again, measured in the CPU time of the benchmarking thread instead of wall
//! time (`dam_core_cpu/…`), which the other processes of a loaded machine do not inflate.
//!
//! `cargo bench -p dam-benches --bench query_parse -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dam_benches::FILTERS;

/// The CPU time of the calling thread (`CLOCK_THREAD_CPUTIME_ID`), in nanoseconds.
struct ThreadCpuTime;

fn thread_cpu_ns() -> u64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    u64::try_from(t.tv_sec).unwrap_or(0) * 1_000_000_000 + u64::try_from(t.tv_nsec).unwrap_or(0)
}

impl Measurement for ThreadCpuTime {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_ns()
    }

    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns().saturating_sub(start)
    }

    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }

    fn zero(&self) -> u64 {
        0
    }

    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &Nanoseconds
    }
}

/// Nanoseconds shown as ns or µs (no throughput: these benches declare none).
struct Nanoseconds;

impl ValueFormatter for Nanoseconds {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        if typical < 1_000.0 {
            "ns"
        } else {
            values.iter_mut().for_each(|v| *v /= 1_000.0);
            "µs"
        }
    }

    fn scale_throughputs(&self, _: f64, _: &Throughput, _: &mut [f64]) -> &'static str {
        "ns"
    }

    fn scale_for_machines(&self, _: &mut [f64]) -> &'static str {
        "ns"
    }
}

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

fn parse_filter_cpu(c: &mut Criterion<ThreadCpuTime>) {
    let mut group = c.benchmark_group("dam_core_cpu");
    for (name, text) in FILTERS {
        group.bench_function(name, |b| {
            b.iter(|| dam_core::query::parse_filter(black_box(text)))
        });
    }
    group.finish();
}

criterion_group!(benches, parse_filter);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = parse_filter_cpu
}
criterion_main!(benches, cpu);
