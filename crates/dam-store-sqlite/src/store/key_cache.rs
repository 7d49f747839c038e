//! Which tenant owns a key digest, remembered for a short time, so that a request whose key
//! was seen within that time makes one trip to a blocking thread (its operation), not two.
//!
//! Only owners found are kept (an unknown key is asked each time, and cannot fill the cache);
//! at most [`CAPACITY`] digests, each for the time to live. A key's owner never changes while
//! the key exists (a fixture that would give it to another tenant is refused), so what a
//! cached entry can miss is the key's removal by another process or by hand: it is seen at
//! most one time to live later. This store's own fixture loads empty the cache.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use dam_core::{KeyDigest, TenantId};

/// The most digests kept; past it, expired entries go, and if none has, all do.
pub(crate) const CAPACITY: usize = 1024;

pub(crate) struct KeyCache {
    ttl: Duration,
    entries: Mutex<HashMap<KeyDigest, (TenantId, Instant)>>,
}

impl KeyCache {
    /// A cache keeping each owner for `ttl`; zero keeps nothing.
    pub(crate) fn new(ttl: Duration) -> Self {
        KeyCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The owner of `digest`, when found less than the time to live ago.
    pub(crate) fn get(&self, digest: &KeyDigest) -> Option<TenantId> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        entries
            .get(digest)
            .filter(|(_, found)| found.elapsed() < self.ttl)
            .map(|(tenant, _)| tenant.clone())
    }

    /// Remembers that `tenant` owns `digest`, as of now.
    pub(crate) fn put(&self, digest: KeyDigest, tenant: TenantId) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY && !entries.contains_key(&digest) {
            entries.retain(|_, (_, found)| found.elapsed() < self.ttl);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(digest, (tenant, Instant::now()));
    }

    /// Forgets every owner (after this store changed keys).
    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dam_core::ApiKey;

    fn digest(n: usize) -> KeyDigest {
        ApiKey::from_header(Some(format!("key-{n}").as_bytes()))
            .unwrap()
            .digest()
    }

    fn acme() -> TenantId {
        TenantId::new("acme").unwrap()
    }

    #[test]
    fn an_owner_is_kept_for_the_time_to_live_then_asked_again() {
        let cache = KeyCache::new(Duration::from_millis(30));
        assert_eq!(cache.get(&digest(1)), None);
        cache.put(digest(1), acme());
        assert_eq!(cache.get(&digest(1)), Some(acme()));
        assert_eq!(cache.get(&digest(2)), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(cache.get(&digest(1)), None, "expired");
        cache.put(digest(1), acme());
        cache.clear();
        assert_eq!(cache.get(&digest(1)), None, "cleared");
    }

    #[test]
    fn a_zero_time_to_live_keeps_nothing() {
        let cache = KeyCache::new(Duration::ZERO);
        cache.put(digest(1), acme());
        assert_eq!(cache.get(&digest(1)), None);
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn the_cache_never_holds_more_than_its_capacity() {
        let cache = KeyCache::new(Duration::from_secs(60));
        for n in 0..CAPACITY * 3 + 7 {
            cache.put(digest(n), acme());
            assert!(cache.len() <= CAPACITY, "{} after {n}", cache.len());
        }
        let last = digest(CAPACITY * 3 + 6);
        assert_eq!(cache.get(&last), Some(acme()), "the newest is kept");
    }
}
