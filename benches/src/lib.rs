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

/// The lists of the HTTP load harness's mixed workload, as query strings: (name, text). The
/// harness asks for `contains(reference,'a')`; the references of [`store_data`] hold no `a`,
/// so `1` stands in for it.
pub const MIX_LISTS: [(&str, &str); 5] = [
    ("plain", ""),
    (
        "filter",
        "$filter=status%20eq%20'Ok'%20and%20numLinks%20ge%203",
    ),
    ("orderby", "$orderby=createdOn%20desc"),
    ("page", "$top=20&$skip=40"),
    (
        "contains_count",
        "$filter=contains(reference,'1')&$count=true",
    ),
];

/// The images of the mixed-workload cases: 200 in each of the [`store_data::TENANTS`] tenants,
/// about the size of the harness's tenants.
pub const MIX_IMAGES: usize = 2_000;

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
        for (name, text) in super::MIX_LISTS {
            let text = Some(text).filter(|t| !t.is_empty());
            assert!(dam_core::query::parse_query_string(text).is_ok(), "{name}");
        }
    }
}
