//! The `{id}` of `DELETE /image/{id}`: never panics; accepted exactly when it is the canonical
//! decimal form of an integer from 1 to i64::MAX.
#![no_main]
use dam_core::ImageId;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    let expected = raw.parse::<i64>().ok().filter(|n| *n >= 1 && n.to_string() == raw);
    assert_eq!(ImageId::parse_strict(raw).ok().map(ImageId::get), expected, "{raw:?}");
});
