//! The whole query string of `GET /image`: never panics; an accepted request's next link is
//! itself an accepted query string with the same filter, order and count.
#![no_main]
use dam_core::query::parse_query_string;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    match parse_query_string(Some(raw)) {
        Ok(request) => {
            assert!(request.query.top <= 100);
            let Some(link) = request.next_link() else {
                assert!(request.query.top == 0 || request.query.skip + u64::from(request.query.top) > i64::MAX as u64);
                return;
            };
            let rest = link.strip_prefix("/image?").expect("relative link");
            let next = parse_query_string(Some(rest)).expect("next link must parse");
            assert_eq!(next.query.filter, request.query.filter);
            assert_eq!(next.query.order_by, request.query.order_by);
            assert_eq!(next.query.count, request.query.count);
            assert_eq!(next.query.top, request.query.top);
        }
        Err(e) => {
            let _ = (e.to_string(), e.parameter(), e.position());
        }
    }
});
