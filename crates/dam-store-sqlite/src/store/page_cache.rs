//! Pages of lists kept by the reader connection that read them, and served again while the
//! database has not changed since.
//!
//! Whether it changed is SQLite's own answer: `PRAGMA data_version`, read inside the list's
//! read transaction, differs from its last value whenever another connection — this store's
//! writer, another store on the file, another process — has committed a change since. A reader
//! connection never writes (`query_only`), so no change escapes it. A page is therefore served
//! from the cache exactly when running its statements in that transaction's snapshot would
//! give the same rows: never stale, in this process or across processes.
//!
//! A change empties the connection's cache as a whole (the version is of the whole file). A
//! page is keyed by its statements' text and bound values, which hold the tenant, the filter,
//! the order, the keyset seek, `$top`, `$skip` and whether `$count` is asked. At most
//! [`crate::SqliteOptions::list_cache_pages`] pages, and [`MAX_BYTES`] of them, are kept per
//! reader connection; past either, the pages used least lately go, and a page larger than
//! the budget alone is not kept.

use std::collections::HashMap;

use dam_core::store::ImagePage;
use dam_core::Image;
use rusqlite::types::Value as SqlValue;

use crate::sql::ListStatements;

/// Counter of the lists the reader connections' caches were asked for, labelled `store`
/// (`sqlite`) and `result` (`hit`: served from a cache; `miss`: read from the database).
/// Recorded with the cargo feature `metrics`, through the recorder installed when the
/// connection opened.
pub const LIST_CACHE_LOOKUPS: &str = "dam_store_list_cache_lookups_total";

/// The most bytes of pages one reader connection keeps (as [`page_bytes`] counts them): the
/// store holds images of any size, so a count of pages alone would not bound the memory.
pub(crate) const MAX_BYTES: usize = 8 << 20;

/// Gives the recorder installed now the unit and description of [`LIST_CACHE_LOOKUPS`]
/// (exporters print them, e.g. as Prometheus `# HELP`). Optional; call it after installing a
/// recorder.
#[cfg(feature = "metrics")]
pub fn describe_metrics() {
    metrics::describe_counter!(
        LIST_CACHE_LOOKUPS,
        metrics::Unit::Count,
        "Lists asked of the SQLite readers' page caches, by result (hit, miss)."
    );
}

struct Entry {
    used: u64,
    bytes: usize,
    page: ImagePage,
}

/// The pages one reader connection has read, and the data version they were read at.
pub(crate) struct PageCache {
    capacity: usize,
    /// The data version every entry was read at.
    version: Option<i64>,
    /// Page key → the page, with its last use and its bytes (key included).
    entries: HashMap<Vec<u8>, Entry>,
    /// The bytes of the pages kept, keys included.
    bytes: usize,
    /// Counts uses, to find the page used least lately.
    clock: u64,
    /// Pages served from the cache, and pages read, since the connection opened.
    hits: u64,
    misses: u64,
    #[cfg(feature = "metrics")]
    counters: Option<[metrics::Counter; 2]>,
}

impl PageCache {
    /// A cache of at most `capacity` pages; zero keeps none.
    pub(crate) fn new(capacity: usize) -> Self {
        PageCache {
            capacity,
            version: None,
            entries: HashMap::new(),
            bytes: 0,
            clock: 0,
            hits: 0,
            misses: 0,
            #[cfg(feature = "metrics")]
            counters: (capacity > 0).then(|| {
                let of = |result: &'static str| {
                    metrics::counter!(LIST_CACHE_LOOKUPS, "store" => crate::error::STORE, "result" => result)
                };
                [of("hit"), of("miss")]
            }),
        }
    }

    /// Counts a lookup: served from the cache (`hit`) or not.
    fn count(&mut self, hit: bool) {
        if hit {
            self.hits += 1;
        } else {
            self.misses += 1;
        }
        #[cfg(feature = "metrics")]
        if let Some(counters) = &self.counters {
            counters[usize::from(!hit)].increment(1);
        }
    }

    /// Whether this cache keeps pages at all.
    pub(crate) fn is_enabled(&self) -> bool {
        self.capacity > 0
    }

    /// The page kept under `key`, if it was read at data version `version`. A different
    /// version empties the cache first: every page in it may be stale.
    pub(crate) fn get(&mut self, version: i64, key: &[u8]) -> Option<ImagePage> {
        if self.version != Some(version) {
            self.entries.clear();
            self.bytes = 0;
            self.version = Some(version);
        }
        self.clock += 1;
        let found = self.entries.get_mut(key).map(|entry| {
            entry.used = self.clock;
            entry.page.clone()
        });
        self.count(found.is_some());
        found
    }

    /// Keeps `page`, read at data version `version`, under `key`.
    pub(crate) fn put(&mut self, version: i64, key: Vec<u8>, page: &ImagePage) {
        let size = key.len() + page_bytes(page);
        if !self.is_enabled() || self.version != Some(version) || size > MAX_BYTES {
            return;
        }
        self.remove(&key);
        while self.entries.len() >= self.capacity || self.bytes + size > MAX_BYTES {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, entry)| entry.used)
                .map(|(key, _)| key.clone());
            match oldest {
                Some(oldest) => self.remove(&oldest),
                None => break,
            }
        }
        self.bytes += size;
        let entry = Entry {
            used: self.clock,
            bytes: size,
            page: page.clone(),
        };
        self.entries.insert(key, entry);
    }

    fn remove(&mut self, key: &[u8]) {
        if let Some(entry) = self.entries.remove(key) {
            self.bytes -= entry.bytes;
        }
    }

    /// The bytes of the pages kept now.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.bytes
    }

    /// Pages served from this cache and pages read past it so far.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (self.hits, self.misses)
    }
}

/// The bytes a page takes: its images and the text they hold.
pub(crate) fn page_bytes(page: &ImagePage) -> usize {
    let image = |im: &Image| {
        let urls = [
            &im.original_url,
            &im.thumbnail_url,
            &im.thumbnail_medium_url,
            &im.thumbnail_preview_url,
        ];
        std::mem::size_of::<Image>()
            + im.reference.as_str().len()
            + im.file_type.as_str().len()
            + urls
                .iter()
                .map(|u| u.as_deref().map_or(0, str::len))
                .sum::<usize>()
            + im.tags
                .iter()
                .map(|t| t.len() + std::mem::size_of::<String>())
                .sum::<usize>()
    };
    std::mem::size_of::<ImagePage>() + page.items.iter().map(image).sum::<usize>()
}

/// The key of a list's page: its statements' texts and bound values, each length-prefixed so
/// that no two different lists share one.
pub(crate) fn page_key(statements: &ListStatements) -> Vec<u8> {
    let page = &statements.page;
    let mut key = Vec::with_capacity(page.text.len() + 16 * page.params.len() + 16);
    push_bytes(&mut key, page.text.as_bytes());
    for value in &page.params {
        match value {
            SqlValue::Null => key.push(0),
            SqlValue::Integer(i) => {
                key.push(1);
                key.extend_from_slice(&i.to_le_bytes());
            }
            SqlValue::Real(f) => {
                key.push(2);
                key.extend_from_slice(&f.to_bits().to_le_bytes());
            }
            SqlValue::Text(s) => {
                key.push(3);
                push_bytes(&mut key, s.as_bytes());
            }
            SqlValue::Blob(b) => {
                key.push(4);
                push_bytes(&mut key, b);
            }
        }
    }
    // The count's statement has the page's condition and values: whether it runs is enough.
    key.push(u8::from(statements.count.is_some()));
    key
}

fn push_bytes(key: &mut Vec<u8>, bytes: &[u8]) {
    key.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
    key.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;
    use dam_core::query::parse_query_string;

    fn page(total: u64) -> ImagePage {
        ImagePage {
            items: Vec::new(),
            total: Some(total),
            has_more: false,
        }
    }

    fn key_of(text: &str) -> Vec<u8> {
        let query = parse_query_string(Some(text)).unwrap().page_query();
        page_key(&crate::sql::list_statements("t", &query))
    }

    #[test]
    fn a_page_is_served_only_at_the_version_it_was_read_at() {
        let mut cache = PageCache::new(4);
        assert_eq!(cache.get(7, b"a"), None);
        cache.put(7, b"a".to_vec(), &page(1));
        assert_eq!(cache.get(7, b"a"), Some(page(1)));
        assert_eq!(cache.get(8, b"a"), None, "a change empties the cache");
        assert_eq!(
            cache.get(7, b"a"),
            None,
            "and an old version finds nothing either"
        );
        assert_eq!(cache.counts(), (1, 3));
    }

    #[test]
    fn a_page_read_at_another_version_than_the_last_asked_is_not_kept() {
        let mut cache = PageCache::new(4);
        assert_eq!(cache.get(7, b"a"), None);
        cache.put(6, b"a".to_vec(), &page(1));
        assert_eq!(cache.get(7, b"a"), None);
    }

    #[test]
    fn past_its_capacity_the_page_used_least_lately_goes() {
        let mut cache = PageCache::new(2);
        for (key, n) in [(b"a", 1), (b"b", 2)] {
            assert_eq!(cache.get(1, key), None);
            cache.put(1, key.to_vec(), &page(n));
        }
        assert_eq!(cache.get(1, b"a"), Some(page(1)));
        assert_eq!(cache.get(1, b"c"), None);
        cache.put(1, b"c".to_vec(), &page(3));
        assert_eq!(cache.get(1, b"b"), None, "b was used least lately");
        assert_eq!(cache.get(1, b"a"), Some(page(1)));
        assert_eq!(cache.get(1, b"c"), Some(page(3)));
    }

    fn page_of_bytes(n: usize) -> ImagePage {
        let mut image = dam_store_tests::data::image(1, "a.jpg").build();
        image.original_url = Some("u".repeat(n));
        ImagePage {
            items: vec![image],
            total: None,
            has_more: false,
        }
    }

    #[test]
    fn the_pages_kept_stay_within_the_byte_budget() {
        let mut cache = PageCache::new(32);
        let third = page_of_bytes(MAX_BYTES / 3);
        for key in [b"a", b"b", b"c", b"d"] {
            assert_eq!(cache.get(1, key), None);
            cache.put(1, key.to_vec(), &third);
            assert!(cache.bytes() <= MAX_BYTES, "{}", cache.bytes());
        }
        assert_eq!(cache.get(1, b"a"), None, "the oldest went to make room");
        assert_eq!(cache.get(1, b"d"), Some(third.clone()));
        let whole = page_of_bytes(MAX_BYTES);
        cache.put(1, b"e".to_vec(), &whole);
        assert_eq!(
            cache.get(1, b"e"),
            None,
            "a page over the budget is not kept"
        );
        assert_eq!(cache.get(1, b"d"), Some(third), "and evicts nothing");
        // Kept again under the same key: counted once.
        let before = cache.bytes();
        cache.put(1, b"d".to_vec(), &page_of_bytes(MAX_BYTES / 3));
        assert_eq!(cache.bytes(), before);
        assert_eq!(cache.get(2, b"d"), None);
        assert_eq!(cache.bytes(), 0, "a change empties the cache");
    }

    #[test]
    fn a_cache_of_no_pages_keeps_none() {
        let mut cache = PageCache::new(0);
        assert!(!cache.is_enabled());
        assert_eq!(cache.get(1, b"a"), None);
        cache.put(1, b"a".to_vec(), &page(1));
        assert_eq!(cache.get(1, b"a"), None);
    }

    #[test]
    fn lists_that_differ_in_any_part_have_different_keys() {
        let texts = [
            "",
            "$top=10",
            "$top=10&$skip=1",
            "$top=10&$count=true",
            "$filter=reference%20eq%20'a'",
            "$filter=reference%20eq%20'b'",
            "$filter=fileType%20eq%20'a'",
            "$orderby=createdOn%20desc",
            "$orderby=createdOn",
        ];
        let keys: Vec<_> = texts.iter().map(|t| key_of(t)).collect();
        for (i, a) in keys.iter().enumerate() {
            for (j, b) in keys.iter().enumerate() {
                assert_eq!(a == b, i == j, "{:?} and {:?}", texts[i], texts[j]);
            }
        }
        let query = parse_query_string(Some("$top=3")).unwrap().page_query();
        assert_ne!(
            page_key(&crate::sql::list_statements("t", &query)),
            page_key(&crate::sql::list_statements("u", &query)),
            "the tenant is part of the key"
        );
    }
}
