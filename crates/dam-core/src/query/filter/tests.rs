//! Tests that need the entry without the length limit: deep and huge inputs, and filters
//! whose canonical text is longer than `$filter` may be.

use super::*;
use crate::query::model::{CmpOp, Field, Instant, Quantifier, Value};

/// Runs `f` on a thread with a stack of 256 KiB, an eighth of Rust's default: the parser at
/// its deepest needs under 64 KiB optimised and under 256 KiB in a debug build.
fn run_on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .expect("spawn a test thread")
        .join()
        .expect("no stack overflow")
}

#[test]
fn hundred_thousand_open_parens_give_the_depth_error_on_a_small_stack() {
    let result = run_on_small_stack(|| parse_filter_unbounded(&"(".repeat(100_000)));
    assert_eq!(
        result,
        Err(QueryError::TooDeep {
            position: 33,
            limit: MAX_DEPTH
        })
    );
}

#[test]
fn deep_nots_and_lambdas_are_refused_by_counting() {
    let nots = format!("{}id eq 1", "not ".repeat(100_000));
    let result = run_on_small_stack(move || parse_filter_unbounded(&nots));
    assert_eq!(
        result,
        Err(QueryError::TooDeep {
            position: 33 * 4,
            limit: MAX_DEPTH
        })
    );
    // 32 levels of parentheses around a lambda body make 33.
    let text = format!("{}tags/any(t: t eq 'a'){}", "(".repeat(32), ")".repeat(32));
    assert_eq!(
        parse_filter(&text),
        Err(QueryError::TooDeep {
            position: 32 + 9,
            limit: MAX_DEPTH
        })
    );
    let text = format!("{}tags/any(t: t eq 'a'){}", "(".repeat(31), ")".repeat(31));
    assert!(parse_filter(&text).is_ok());
}

#[test]
fn the_deepest_and_largest_filters_parse_on_a_small_stack() {
    let deepest = format!("{}id eq 1{}", "(not ".repeat(16), ")".repeat(16));
    let widest = vec!["id eq 1"; 128].join(" or ");
    let result = run_on_small_stack(move || {
        (
            parse_filter_unbounded(&deepest).map(|f| f.to_string()),
            parse_filter_unbounded(&widest).is_ok(),
        )
    });
    assert!(result.0.is_ok(), "{result:?}");
    assert!(result.1);
}

#[test]
fn a_huge_filter_round_trips_without_the_length_limit() {
    // 128 comparisons with 1024-byte strings, 127 `and`, one `not`: 256 nodes, ~140 KB.
    let long = "x'é".repeat(256);
    assert_eq!(long.len(), 1024);
    let leaf = |i: usize| Filter::Compare {
        field: Field::Reference,
        op: CmpOp::ALL[i % 6],
        value: Value::String(long.clone()),
    };
    let mut f = leaf(0);
    for i in 1..128 {
        f = Filter::And(Box::new(f), Box::new(leaf(i)));
    }
    let f = Filter::Not(Box::new(f));
    let printed = f.to_string();
    assert!(printed.len() > MAX_FILTER_BYTES);
    assert_eq!(parse_filter_unbounded(&printed), Ok(f));
    assert!(matches!(
        parse_filter(&printed),
        Err(QueryError::FilterTooLong { .. })
    ));
}

#[test]
fn a_full_in_list_and_extreme_instants_round_trip() {
    let values: Vec<Value> = (0..MAX_IN_ITEMS as i64)
        .map(|i| {
            Value::DateTime(Instant {
                seconds: i * 1_000_003 - 62_135_596_800 - 86_340,
                nanos: (i as u32) * 7,
            })
        })
        .collect();
    let f = Filter::In {
        field: Field::CreatedOn,
        values,
    };
    assert_eq!(parse_filter_unbounded(&f.to_string()), Ok(f));
    let lambda = Filter::Tags {
        quantifier: Quantifier::All,
        value: "'".repeat(MAX_STRING_BYTES),
    };
    assert_eq!(parse_filter_unbounded(&lambda.to_string()), Ok(lambda));
}
