//! Benchmarks of DAM Core. The inputs live here so that benches and any quick checks share them.
//!
//! `§N` in this crate's documentation and code refers to section N of the API contract,
//! [`docs/API.md`](https://github.com/dam-core/dam-core/blob/main/docs/API.md).

pub mod store_data;

/// `$filter` inputs: (name, text). Each is valid under the contract.
pub const FILTERS: [(&str, &str); 5] = [
    ("one_eq", "numLinks eq 5"),
    (
        "five_clauses",
        "status eq 'Ok' and numLinks gt 3 or fileType in ('jpg', 'png') and contains(reference, 'logo') and createdOn ge 2024-01-01T00:00:00Z",
    ),
    (
        "in_20",
        "id in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20)",
    ),
    (
        "nested_not_parens",
        "not (numLinks eq 0 and (status eq 'Vd' or not (width gt 100 and height gt 100)))",
    ),
    ("tags_any", "tags/any(t: t eq 'red')"),
];

/// `$orderby` inputs: (name, text). Each is valid under the contract.
pub const ORDERBYS: [(&str, &str); 2] = [
    ("one_key", "createdOn desc"),
    ("three_keys", "status desc, numLinks, createdOn desc"),
];

#[cfg(test)]
mod tests {
    #[test]
    fn every_input_is_valid() {
        for (name, text) in super::FILTERS {
            assert!(dam_core::query::parse_filter(text).is_ok(), "{name}");
        }
        for (name, text) in super::ORDERBYS {
            assert!(dam_core::query::parse_orderby(text).is_ok(), "{name}");
        }
    }
}
