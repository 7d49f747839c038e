//! The adapter's failures, all of which reach callers as [`StoreError::Backend`].

use dam_core::store::StoreError;

/// The adapter's name in [`StoreError::Backend`].
pub(crate) const STORE: &str = "memory";

/// A thread panicked while it held the lock: the data may be half-changed.
pub(crate) fn poisoned() -> StoreError {
    StoreError::backend(STORE, "a thread panicked while holding the store's lock")
}
