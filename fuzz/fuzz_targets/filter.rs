//! `$filter` parser + validator: never panics, and every accepted filter prints back to text
//! that parses to the same filter (the canonical printer's round trip).
#![no_main]
use dam_core::query::parse_filter;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(filter) = parse_filter(text) {
        let printed = filter.to_string();
        let again = parse_filter(&printed).expect("printed filter must parse");
        assert_eq!(again, filter, "round trip of {printed:?}");
        assert_eq!(again.to_string(), printed, "printing is idempotent");
    } else if let Err(e) = parse_filter(text) {
        assert_eq!(e.parameter(), "$filter");
        let _ = e.to_string();
    }
});
