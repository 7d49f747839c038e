//! The whole query string of `GET /image`: never panics; an accepted request's next link is
//! itself an accepted query string with the same filter, order and count, and a `$skiptoken`
//! that names the page's last image.
#![no_main]
use dam_core::query::parse_query_string;
use dam_core::{FileType, Image, ImageId, ImageStatus, Reference, Timestamp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    match parse_query_string(Some(raw)) {
        Ok(request) => {
            assert!(request.query.top <= 100);
            let last = Image::new(
                ImageId::new(42).expect("id"),
                Reference::new("last.jpg").expect("reference"),
                FileType::new("jpg").expect("file type"),
                ImageStatus::Ready,
                Timestamp::parse("2024-01-01T00:00:00").expect("timestamp"),
            );
            let Some(link) = request.next_link("/image", &last) else {
                assert_eq!(request.query.top, 0);
                return;
            };
            let rest = link.strip_prefix("/image?").expect("relative link");
            let next = parse_query_string(Some(rest)).expect("next link must parse");
            assert_eq!(next.query.filter, request.query.filter);
            assert_eq!(next.query.order_by, request.query.order_by);
            assert_eq!(next.query.count, request.query.count);
            assert_eq!(next.query.top, request.query.top);
            assert_eq!(next.query.skip, 0);
            assert_eq!(next.after().map(|p| p.id()), Some(last.id));
        }
        Err(e) => {
            let _ = (e.to_string(), e.parameter(), e.position());
        }
    }
});
